/**
 * Externs: the things instances import and export (functions, memories, tables, globals, tags),
 * and their `wasmtime_extern_t` form.
 *
 * @module
 */
import { WasmtimeError } from "../errors.ts";
import { ffi } from "../ffi/symbols.ts";
import { Func, funcFromStruct, funcStruct } from "./func.ts";
import { Global, globalFromStruct, globalStruct } from "./global.ts";
import {
  EXTERN_KIND_OFFSET,
  EXTERN_OF_OFFSET,
  EXTERN_SIZE,
  FUNC_SIZE,
  GLOBAL_SIZE,
  MEMORY_SIZE,
  TABLE_SIZE,
  TAG_SIZE,
  WASMTIME_EXTERN_FUNC,
  WASMTIME_EXTERN_GLOBAL,
  WASMTIME_EXTERN_MEMORY,
  WASMTIME_EXTERN_SHAREDMEMORY,
  WASMTIME_EXTERN_TABLE,
  WASMTIME_EXTERN_TAG,
} from "../ffi/layout.ts";
import { pointerBits, pointerFromWords } from "../ffi/raw.ts";
import { SharedMemory, sharedMemoryFromPointer, sharedMemoryPointer } from "./shared_memory.ts";
import { Memory, memoryFromStruct, memoryStruct } from "./memory.ts";
import type { Store } from "./store.ts";
import { Table, tableFromStruct, tableStruct } from "./table.ts";
import { Tag, tagFromStruct, tagStruct } from "./tag.ts";

/**
 * Anything an instance can import or export.
 *
 * @example
 * ```ts
 * import { type Extern, Memory } from "@wasmtime-deno/wasmtime";
 * function isMemory(item: Extern | undefined): item is Memory {
 *   return item instanceof Memory;
 * }
 * ```
 */
export type Extern = Func | Memory | SharedMemory | Table | Global | Tag;

function slice(item: Uint8Array, size: number): Uint8Array<ArrayBuffer> {
  return item.slice(EXTERN_OF_OFFSET, EXTERN_OF_OFFSET + size);
}

/**
 * Wraps a `wasmtime_extern_t` filled by Wasmtime. Kinds the binding does not expose yet
 * (none today) are released and reported as undefined.
 */
export function externFromStruct(store: Store, item: Uint8Array<ArrayBuffer>): Extern | undefined {
  switch (item[EXTERN_KIND_OFFSET]) {
    case WASMTIME_EXTERN_FUNC:
      return funcFromStruct(store, slice(item, FUNC_SIZE));
    case WASMTIME_EXTERN_GLOBAL:
      return globalFromStruct(store, slice(item, GLOBAL_SIZE));
    case WASMTIME_EXTERN_TABLE:
      return tableFromStruct(store, slice(item, TABLE_SIZE));
    case WASMTIME_EXTERN_MEMORY:
      return memoryFromStruct(store, slice(item, MEMORY_SIZE));
    case WASMTIME_EXTERN_TAG:
      return tagFromStruct(store, slice(item, TAG_SIZE));
    case WASMTIME_EXTERN_SHAREDMEMORY: {
      // The struct owns a wasmtime_sharedmemory_t *; the SharedMemory takes it over.
      const words = new Uint32Array(item.buffer, item.byteOffset + EXTERN_OF_OFFSET, 2);
      return sharedMemoryFromPointer(pointerFromWords(words, 0)!);
    }
    default:
      ffi().wasmtime_extern_delete(item);
      return undefined;
  }
}

/** The `wasmtime_extern_t` for `value`, checking that it belongs to `store`. */
export function externToStruct(
  value: unknown,
  store: Store,
  what: string,
): Uint8Array<ArrayBuffer> {
  const item = new Uint8Array(EXTERN_SIZE);
  let bytes: Uint8Array;
  if (value instanceof Func) {
    item[EXTERN_KIND_OFFSET] = WASMTIME_EXTERN_FUNC;
    bytes = funcStruct(value);
  } else if (value instanceof Global) {
    item[EXTERN_KIND_OFFSET] = WASMTIME_EXTERN_GLOBAL;
    bytes = globalStruct(value);
  } else if (value instanceof Table) {
    item[EXTERN_KIND_OFFSET] = WASMTIME_EXTERN_TABLE;
    bytes = tableStruct(value);
  } else if (value instanceof Memory) {
    item[EXTERN_KIND_OFFSET] = WASMTIME_EXTERN_MEMORY;
    bytes = memoryStruct(value);
  } else if (value instanceof SharedMemory) {
    // Not tied to a store (Wasmtime checks the engine); the struct borrows the pointer, and
    // Wasmtime clones what it keeps.
    item[EXTERN_KIND_OFFSET] = WASMTIME_EXTERN_SHAREDMEMORY;
    new BigUint64Array(item.buffer, EXTERN_OF_OFFSET, 1)[0] = pointerBits(
      sharedMemoryPointer(value, what),
    );
    return item;
  } else if (value instanceof Tag) {
    item[EXTERN_KIND_OFFSET] = WASMTIME_EXTERN_TAG;
    bytes = tagStruct(value);
  } else {
    throw new WasmtimeError(
      `${what}: expected a Func, Memory, SharedMemory, Table, Global or Tag, got ${value}`,
    );
  }
  if ((value as Exclude<Extern, SharedMemory>).store !== store) {
    throw new WasmtimeError(
      `${what}: the ${value.constructor.name} belongs to another Store; ` +
        "imports must come from the store being instantiated",
    );
  }
  item.set(bytes, EXTERN_OF_OFFSET);
  return item;
}
