/**
 * Linear memories, with copying accessors and a zero-copy view that can never outlive the
 * memory it shows: a view is detached (byteLength 0) as soon as the memory moves or shrinks
 * out from under it, grows, or its store is disposed.
 *
 * @module
 */
import { decodeUtf8, utf8 } from "./bytes.ts";
import { WasmtimeError } from "./error_types.ts";
import { check } from "./errors.ts";
import { ffi } from "./ffi.ts";
import { MEMORY_SIZE } from "./layout.ts";
import { contextOf, liveContext, type Store, trackView } from "./store.ts";
import { type MemoryType, newMemoryType, readMemoryType } from "./types.ts";

const FROM_STRUCT = Symbol("wasmtime-deno.memoryFromStruct");
/** Property on every zero-copy buffer that keeps its store (and so the memory) alive. */
const OWNING_STORE = Symbol("wasmtime-deno.owningStore");

/** Internal: wraps a `wasmtime_memory_t` of `store`. */
export let memoryFromStruct: (store: Store, struct: Uint8Array<ArrayBuffer>) => Memory;
/** Internal: the `wasmtime_memory_t` bytes of a Memory. */
export let memoryStruct: (memory: Memory) => Uint8Array<ArrayBuffer>;

/**
 * A WebAssembly linear memory.
 *
 * @example
 * ```ts
 * import { Engine, Memory, Store } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine();
 * using store = new Store(engine);
 * const memory = new Memory(store, { minimum: 1, maximum: 4 });
 * memory.writeString(0, "hello");
 * console.log(memory.readString(0, 5)); // "hello"
 * const bytes = new Uint8Array(memory.buffer); // zero-copy
 * bytes[5] = 33;
 * memory.grow(1); // detaches `bytes`: it now has length 0 instead of pointing at stale memory
 * ```
 */
export class Memory {
  readonly #store: Store;
  readonly #struct: Uint8Array<ArrayBuffer>;
  #buffer: ArrayBuffer | null = null;
  #dataView: DataView | null = null;
  #address = 0n;
  #length = 0;

  static {
    memoryFromStruct = (store, struct) =>
      new Memory(store, FROM_STRUCT as unknown as MemoryType, struct);
    memoryStruct = (memory) => memory.#struct;
  }

  /** Creates a memory of `type` in `store` (for importing into instances). */
  constructor(store: Store, type: MemoryType, struct?: Uint8Array<ArrayBuffer>) {
    this.#store = store;
    if ((type as unknown) === FROM_STRUCT) {
      this.#struct = struct!;
      return;
    }
    const context = contextOf(store, "new Memory");
    const nativeType = newMemoryType(type);
    this.#struct = new Uint8Array(MEMORY_SIZE);
    try {
      check(ffi().wasmtime_memory_new(context, nativeType, this.#struct), "new Memory");
    } finally {
      ffi().wasm_memorytype_delete(nativeType);
    }
  }

  /** The store this memory belongs to. */
  get store(): Store {
    return this.#store;
  }

  /** The memory's type (limits, 64-bit, shared, page size). */
  get type(): MemoryType {
    const native = ffi().wasmtime_memory_type(contextOf(this.#store, "type"), this.#struct)!;
    try {
      return readMemoryType(native);
    } finally {
      ffi().wasm_memorytype_delete(native);
    }
  }

  /** Current size in pages. */
  get pages(): number {
    return Number(ffi().wasmtime_memory_size(contextOf(this.#store, "pages"), this.#struct));
  }

  /** Current size in bytes. */
  get byteLength(): number {
    return Number(
      ffi().wasmtime_memory_data_size(contextOf(this.#store, "byteLength"), this.#struct),
    );
  }

  /**
   * Grows the memory by `deltaPages` and returns the previous size in pages. Throws a
   * {@linkcode WasmtimeError} if the maximum or a store limit forbids it. Detaches the current
   * zero-copy buffer.
   */
  grow(deltaPages: number): number {
    if (!Number.isSafeInteger(deltaPages) || deltaPages < 0) {
      throw new WasmtimeError(`Memory.grow: delta must be a non-negative integer`);
    }
    const context = contextOf(this.#store, "grow");
    const previous = new BigUint64Array(1);
    try {
      check(
        ffi().wasmtime_memory_grow(
          context,
          this.#struct,
          BigInt(deltaPages),
          new Uint8Array(previous.buffer),
        ),
        "Memory.grow",
      );
    } finally {
      this.detachView();
    }
    return Number(previous[0]);
  }

  /**
   * The memory's bytes without copying. Valid until the memory grows, a call into the store
   * returns after the guest moved or grew it, or the store is disposed: it is then detached
   * (byteLength 0), so stale views can never read freed memory. Read it again after calls.
   */
  get buffer(): ArrayBuffer {
    const context = contextOf(this.#store, "buffer");
    const data = ffi().wasmtime_memory_data(context, this.#struct);
    const length = Number(ffi().wasmtime_memory_data_size(context, this.#struct));
    const address = BigInt(Deno.UnsafePointer.value(data));
    if (this.#buffer !== null && address === this.#address && length === this.#length) {
      return this.#buffer;
    }
    this.detachView();
    const buffer = length === 0 || data === null
      ? new ArrayBuffer(0)
      : Deno.UnsafePointerView.getArrayBuffer(data, length);
    Object.defineProperty(buffer, OWNING_STORE, { value: this.#store });
    this.#buffer = buffer;
    this.#dataView = new DataView(buffer);
    this.#address = address;
    this.#length = length;
    trackView(this.#store, this, true);
    return buffer;
  }

  /** Internal: detaches the zero-copy buffer if the memory moved or changed size. */
  revalidateView(): void {
    if (this.#buffer === null) return;
    const context = liveContext(this.#store);
    if (context === null) {
      this.detachView();
      return;
    }
    // Linear memories never shrink and only move when they grow, so the size alone tells
    // whether the view is stale: one FFI call per view after each call into the store.
    if (Number(ffi().wasmtime_memory_data_size(context, this.#struct)) !== this.#length) {
      this.detachView();
    }
  }

  /** Internal: detaches the zero-copy buffer (see {@linkcode buffer}). */
  detachView(): void {
    const buffer = this.#buffer;
    if (buffer === null) return;
    this.#buffer = null;
    this.#dataView = null;
    trackView(this.#store, this, false);
    // transfer(0) detaches the external buffer without touching the memory behind it.
    if (!buffer.detached) buffer.transfer(0);
  }

  #view(): DataView {
    if (this.#dataView === null || this.#buffer === null || this.#buffer.detached) this.buffer;
    else contextOf(this.#store, "access");
    return this.#dataView!;
  }

  #range(offset: number, length: number, action: string): void {
    let size = this.#view().byteLength;
    if (offset + length > size) {
      // The guest may have grown the memory since the view was taken.
      this.revalidateView();
      size = this.#view().byteLength;
    }
    if (
      !Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 ||
      length < 0 || offset + length > size
    ) {
      throw new WasmtimeError(
        `Memory.${action}: range [${offset}, ${offset} + ${length}) is outside the memory ` +
          `(${size} bytes)`,
      );
    }
  }

  /** Copies `length` bytes starting at `offset` out of the memory. */
  read(offset: number, length: number): Uint8Array<ArrayBuffer> {
    this.#range(offset, length, "read");
    return new Uint8Array(this.#buffer!, offset, length).slice();
  }

  /** Copies `bytes` into the memory at `offset`. */
  write(offset: number, bytes: Uint8Array): void {
    this.#range(offset, bytes?.length, "write");
    new Uint8Array(this.#buffer!, offset, bytes.length).set(bytes);
  }

  /** Decodes `length` bytes of UTF-8 at `offset`. */
  readString(offset: number, length: number): string {
    this.#range(offset, length, "readString");
    return decodeUtf8(new Uint8Array(this.#buffer!, offset, length));
  }

  /** Writes `text` as UTF-8 at `offset` and returns the number of bytes written. */
  writeString(offset: number, text: string): number {
    const bytes = utf8(text);
    this.write(offset, bytes);
    return bytes.length;
  }

  #checked(offset: number, size: number, action: string): DataView {
    this.#range(offset, size, action);
    return this.#dataView!;
  }

  /** Reads a byte. */
  getUint8(offset: number): number {
    return this.#checked(offset, 1, "getUint8").getUint8(offset);
  }
  /** Writes a byte. */
  setUint8(offset: number, value: number): void {
    this.#checked(offset, 1, "setUint8").setUint8(offset, value);
  }
  /** Reads a little-endian u16. */
  getUint16(offset: number): number {
    return this.#checked(offset, 2, "getUint16").getUint16(offset, true);
  }
  /** Writes a little-endian u16. */
  setUint16(offset: number, value: number): void {
    this.#checked(offset, 2, "setUint16").setUint16(offset, value, true);
  }
  /** Reads a little-endian i32. */
  getInt32(offset: number): number {
    return this.#checked(offset, 4, "getInt32").getInt32(offset, true);
  }
  /** Writes a little-endian i32. */
  setInt32(offset: number, value: number): void {
    this.#checked(offset, 4, "setInt32").setInt32(offset, value, true);
  }
  /** Reads a little-endian u32. */
  getUint32(offset: number): number {
    return this.#checked(offset, 4, "getUint32").getUint32(offset, true);
  }
  /** Writes a little-endian u32. */
  setUint32(offset: number, value: number): void {
    this.#checked(offset, 4, "setUint32").setUint32(offset, value, true);
  }
  /** Reads a little-endian i64. */
  getBigInt64(offset: number): bigint {
    return this.#checked(offset, 8, "getBigInt64").getBigInt64(offset, true);
  }
  /** Writes a little-endian i64. */
  setBigInt64(offset: number, value: bigint): void {
    this.#checked(offset, 8, "setBigInt64").setBigInt64(offset, value, true);
  }
  /** Reads a little-endian f32. */
  getFloat32(offset: number): number {
    return this.#checked(offset, 4, "getFloat32").getFloat32(offset, true);
  }
  /** Writes a little-endian f32. */
  setFloat32(offset: number, value: number): void {
    this.#checked(offset, 4, "setFloat32").setFloat32(offset, value, true);
  }
  /** Reads a little-endian f64. */
  getFloat64(offset: number): number {
    return this.#checked(offset, 8, "getFloat64").getFloat64(offset, true);
  }
  /** Writes a little-endian f64. */
  setFloat64(offset: number, value: number): void {
    this.#checked(offset, 8, "setFloat64").setFloat64(offset, value, true);
  }
}
