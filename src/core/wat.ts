/**
 * WebAssembly text format.
 *
 * @module
 */
import { newVec, plainBytes, takeByteVec, utf8 } from "../ffi/raw.ts";
import { WasmtimeError } from "../errors.ts";
import { check } from "./failure.ts";
import { ffi } from "../ffi/symbols.ts";

/**
 * Converts WebAssembly text (WAT) to the binary format. Throws a {@linkcode WasmtimeError} with
 * the line and column of the first syntax error.
 *
 * @example
 * ```ts
 * import { wat2wasm } from "@wasmtime-deno/wasmtime";
 * const bytes = wat2wasm(`(module (func (export "f")))`);
 * console.log(bytes.slice(0, 4)); // Uint8Array [0, 97, 115, 109]
 * ```
 */
export function wat2wasm(wat: string): Uint8Array<ArrayBuffer> {
  if (typeof wat !== "string") throw new WasmtimeError("wat2wasm(wat): wat must be a string");
  const text = utf8(wat);
  const out = newVec();
  check(ffi().wasmtime_wat2wasm(text, BigInt(text.length), out), "invalid WebAssembly text");
  return takeByteVec(out);
}

/** Bytes of a module given as WAT text or binary (a plain view: its `length` is the real one). */
export function moduleBytes(source: string | Uint8Array | ArrayBuffer, what: string): Uint8Array {
  if (typeof source === "string") return wat2wasm(source);
  const bytes = source instanceof Uint8Array
    ? plainBytes(source)
    : source instanceof ArrayBuffer
    ? plainBytes(new Uint8Array(source))
    : undefined;
  if (bytes !== undefined) return bytes;
  throw new WasmtimeError(`${what}: expected WAT text (string) or wasm bytes (Uint8Array)`);
}
