/**
 * Strings and byte vectors crossing the FFI boundary.
 *
 * @module
 */
import { ffi } from "./symbols.ts";
import { VEC_DATA_OFFSET, VEC_SIZE, VEC_SIZE_OFFSET } from "./layout.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 bytes of `text` (no terminator), for `const char *, size_t` pairs. */
export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text);
}

/** NUL-terminated UTF-8 bytes of `text`, for bare `const char *` parameters. */
export function cString(text: string): Uint8Array<ArrayBuffer> {
  if (text.includes("\0")) throw new TypeError(`string contains a NUL character: ${text}`);
  return encoder.encode(`${text}\0`);
}

/** Decodes UTF-8 bytes. */
export function decodeUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** A zeroed buffer holding one `wasm_*_vec_t`. */
export function newVec(): Uint8Array<ArrayBuffer> {
  return new Uint8Array(VEC_SIZE);
}

/** Reads `{size, data}` from a vec struct held in JS memory. */
export function vecParts(vec: Uint8Array): { size: number; data: Deno.PointerValue } {
  const view = new DataView(vec.buffer, vec.byteOffset, VEC_SIZE);
  const size = Number(view.getBigUint64(VEC_SIZE_OFFSET, true));
  const data = Deno.UnsafePointer.create(view.getBigUint64(VEC_DATA_OFFSET, true));
  return { size, data };
}

/** Reads `{size, data}` from a vec struct in native memory. */
export function nativeVecParts(
  vec: Deno.PointerObject,
): { size: number; data: Deno.PointerValue } {
  const view = new Deno.UnsafePointerView(vec);
  const size = Number(view.getBigUint64(VEC_SIZE_OFFSET));
  const data = Deno.UnsafePointer.create(view.getBigUint64(VEC_DATA_OFFSET));
  return { size, data };
}

/** Copies the bytes of a `wasm_byte_vec_t` (native or JS-held) into JS memory. */
export function copyBytes(size: number, data: Deno.PointerValue): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  if (size > 0 && data !== null) Deno.UnsafePointerView.copyInto(data, out);
  return out;
}

/** Copies a byte vec filled by Wasmtime into JS memory and frees it. */
export function takeByteVec(vec: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const { size, data } = vecParts(vec);
  const bytes = copyBytes(size, data);
  ffi().wasm_byte_vec_delete(vec);
  return bytes;
}

/** Reads a `const wasm_name_t *` (borrowed) as a string; null gives undefined. */
export function readName(name: Deno.PointerValue): string | undefined {
  if (name === null) return undefined;
  const { size, data } = nativeVecParts(name);
  return decodeUtf8(copyBytes(size, data));
}
