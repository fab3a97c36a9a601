/**
 * The caller of a host function: access to the calling instance's exports while it runs.
 *
 * @module
 */
import { utf8 } from "./bytes.ts";
import { WasmtimeError } from "./error_types.ts";
import { type Extern, externFromStruct } from "./extern.ts";
import { ffi } from "./ffi.ts";
import { EXTERN_SIZE } from "./layout.ts";
import { type Store, storeFromContext } from "./store.ts";

/**
 * A host function implemented in JS. Receives the caller, then one JS value per parameter, and
 * returns undefined (no results), one value, or an array (several results).
 *
 * @example
 * ```ts
 * import type { HostFunction } from "@wasmtime-deno/wasmtime";
 * const add: HostFunction = (_caller, a: number, b: number) => a + b;
 * ```
 */
// deno-lint-ignore no-explicit-any
export type HostFunction = (caller: Caller, ...args: any[]) => unknown;

/**
 * What a host function sees of the wasm code that called it. Valid only during that call.
 *
 * @example
 * ```ts
 * import { type Caller, Memory } from "@wasmtime-deno/wasmtime";
 * function log(caller: Caller, ptr: number, len: number): void {
 *   const memory = caller.getExport("memory") as Memory;
 *   console.log(memory.readString(ptr, len));
 * }
 * ```
 */
export class Caller {
  #pointer: Deno.PointerValue = null;

  /** Internal: points the caller at a new native caller; returns the previous one. */
  swap(pointer: Deno.PointerValue): Deno.PointerValue {
    const previous = this.#pointer;
    this.#pointer = pointer;
    return previous;
  }

  #live(action: string): Deno.PointerObject {
    if (this.#pointer === null) {
      throw new WasmtimeError(
        `Caller.${action}: a Caller is only valid while its host function runs`,
      );
    }
    return this.#pointer;
  }

  /** The store the calling instance belongs to. */
  get store(): Store {
    const store = storeFromContext(ffi().wasmtime_caller_context(this.#live("store"))!);
    if (store === undefined) throw new WasmtimeError("Caller.store: the store is gone");
    return store;
  }

  /** An export of the calling instance (typically its memory), or undefined. */
  getExport(name: string): Extern | undefined {
    const pointer = this.#live("getExport");
    const bytes = utf8(name);
    const item = new Uint8Array(EXTERN_SIZE);
    if (!ffi().wasmtime_caller_export_get(pointer, bytes, BigInt(bytes.length), item)) {
      return undefined;
    }
    return externFromStruct(this.store, item);
  }
}
