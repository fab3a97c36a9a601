/**
 * Linear memories, with copying accessors and a zero-copy view that can never outlive the
 * memory it shows.
 *
 * Two kinds of ArrayBuffer are made over a memory's native bytes (`nativeBuffer`, zero-copy):
 * - a private one behind the copying accessors (`read`, `getUint8`, ...). It never leaves this
 *   module, so nothing but this module can detach, transfer or keep it.
 * - the public `buffer`. Deno's external ArrayBuffers are detachable, so `buffer.transfer()`,
 *   `structuredClone(..., { transfer })` or `postMessage(..., [buffer])` move its bytes into a
 *   new ArrayBuffer we cannot see. Such an alias is noticed when we find our buffer detached
 *   (after calls, at host-call entry, on grow, on dispose and before the store is collected):
 *   the store is then quarantined, its native memory is never freed or reused. And `buffer`
 *   is only handed out for memories that cannot move when they grow, so an alias is never
 *   left pointing at memory that moved away.
 *
 * Both are detached (byteLength 0) once the memory changed size or its store is disposed;
 * after every call, at host-call entry and after every poll of an async call.
 *
 * @module
 */
import { decodeUtf8, nativeBuffer, OutCell, utf8 } from "../ffi/raw.ts";
import { WasmtimeError } from "../errors.ts";
import { check } from "./failure.ts";
import { ffi } from "../ffi/symbols.ts";
import { MEMORY_SIZE } from "../ffi/layout.ts";
import { fromRaw, takeRaw } from "../internal.ts";
import {
  contextOf,
  exposeBuffer,
  liveContext,
  retireBuffer,
  type Store,
  type StructFields,
  trackView,
  type ViewOwner,
} from "./store.ts";
import { DEFAULT_PAGE_SIZE_LOG2, type MemoryType, newMemoryType, readMemoryType } from "./types.ts";

/** The previous-size out-parameter of `wasmtime_memory_grow` (no guest code runs). */
const previousOut = new OutCell();

/**
 * Wasmtime's default `memoryReservation` on 64-bit hosts: a memory whose maximum fits in it
 * is reserved whole up front and never moves (measured: a 32-bit memory grown to 4 GiB kept
 * its base address; a 64-bit one moved once it passed 4 GiB).
 */
const DEFAULT_MEMORY_RESERVATION = 2 ** 32;

/** Internal: wraps a `wasmtime_memory_t` of `store`. */
export let memoryFromStruct: (store: Store, struct: Uint8Array<ArrayBuffer>) => Memory;
/** Internal: the `wasmtime_memory_t` bytes of a Memory. */
export let memoryStruct: (memory: Memory) => Uint8Array<ArrayBuffer>;

/**
 * Why a memory may move when it grows (a zero-copy buffer over it could then outlive its
 * bytes), or null if it never moves.
 */
function whyItMayMove(store: Store, type: MemoryType): string | null {
  const options = store.engine.options;
  // Pooled and shared memories live in fixed slots; memoryMayMove: false fails the grow.
  if (type.shared || options.pooling || options.memoryMayMove === false) return null;
  const pageBytes = 2 ** (type.pageSizeLog2 ?? DEFAULT_PAGE_SIZE_LOG2);
  if (type.maximum !== undefined && type.maximum <= type.minimum) return null;
  const maximum = type.maximum !== undefined
    ? type.maximum * pageBytes
    : type.memory64
    ? 2 ** 64
    : 2 ** 32;
  const reservation = options.memoryReservation ?? DEFAULT_MEMORY_RESERVATION;
  if (maximum <= reservation) return null;
  return `it can grow to ${maximum} bytes, beyond the engine's memoryReservation of ` +
    `${reservation} bytes, and then moves`;
}

/**
 * The zero-copy buffers over one native memory, shared by every Memory object that wraps it
 * (`getMemory` / `Caller.getExport` make a new wrapper each time), so a store tracks at most
 * one view per memory however often its memories are looked up.
 */
class MemoryView implements ViewOwner {
  readonly #store: Store;
  readonly #struct: Uint8Array<ArrayBuffer>;
  /** Behind the copying accessors; never leaves this class. */
  #private: ArrayBuffer | null = null;
  #dataView: DataView | null = null;
  /** The public `Memory.buffer` (only for memories that never move). */
  #public: ArrayBuffer | null = null;
  /** Whether #public is over native memory (a 0-byte memory gets a plain ArrayBuffer). */
  #publicExternal = false;
  /** Byte length when the buffers were made. */
  #length = 0;
  #whyMoves: string | null | undefined;

  constructor(store: Store, struct: Uint8Array<ArrayBuffer>) {
    this.#store = store;
    this.#struct = struct;
  }

  /** The private view for accessors, attached to the memory's current bytes. */
  data(action: string): DataView {
    if (this.#dataView !== null) {
      contextOf(this.#store, `Memory.${action}`); // use after dispose throws even mid-call
      return this.#dataView;
    }
    const buffer = this.#make(contextOf(this.#store, `Memory.${action}`));
    this.#private = buffer;
    this.#dataView = new DataView(buffer);
    trackView(this.#store, this, true);
    return this.#dataView;
  }

  /** The public zero-copy buffer (see `Memory.buffer`). */
  publicBuffer(): ArrayBuffer {
    const context = contextOf(this.#store, "Memory.buffer");
    this.#whyMoves ??= whyItMayMove(this.#store, this.#type(context));
    if (this.#whyMoves !== null) {
      throw new WasmtimeError(
        `Memory.buffer: no zero-copy buffer for this memory: ${this.#whyMoves}, so a buffer ` +
          "over it could outlive its bytes. Use the copying accessors (read, write, getUint8, " +
          "...), or keep the default memoryReservation (4 GiB), give the memory a maximum " +
          "that fits the reservation, or create the engine with memoryMayMove: false",
      );
    }
    this.revalidateView();
    if (this.#public !== null) return this.#public;
    const buffer = this.#make(context);
    this.#public = buffer;
    this.#publicExternal = buffer.byteLength > 0;
    if (this.#publicExternal) exposeBuffer(this.#store, buffer);
    trackView(this.#store, this, true);
    return buffer;
  }

  #type(context: Deno.PointerObject): MemoryType {
    const native = ffi().wasmtime_memory_type(context, this.#struct)!;
    try {
      return readMemoryType(native);
    } finally {
      ffi().wasm_memorytype_delete(native);
    }
  }

  /** A new ArrayBuffer over the current bytes; detaches the other buffers if the size changed. */
  #make(context: Deno.PointerObject): ArrayBuffer {
    const length = Number(ffi().wasmtime_memory_data_size(context, this.#struct));
    if (length !== this.#length) {
      this.detachView();
      this.#length = length;
    }
    const data = ffi().wasmtime_memory_data(context, this.#struct);
    return length === 0 || data === null ? new ArrayBuffer(0) : nativeBuffer(data, length);
  }

  /** Detaches the buffers if the memory changed size (or the store is gone). */
  revalidateView(): void {
    if (this.#private === null && this.#public === null) return;
    const context = liveContext(this.#store);
    if (context === null) {
      this.detachView();
      return;
    }
    if (this.#public !== null && this.#publicExternal && this.#public.detached) {
      // Someone else detached it: an alias exists. Retiring it quarantines the store.
      retireBuffer(this.#store, this.#public);
      this.#public = null;
    }
    // Linear memories never shrink and only move when they grow, so the size alone tells
    // whether the views are stale: one FFI call per view.
    if (Number(ffi().wasmtime_memory_data_size(context, this.#struct)) !== this.#length) {
      this.detachView();
    }
  }

  /** Detaches both buffers. */
  detachView(): void {
    const privateBuffer = this.#private;
    const publicBuffer = this.#public;
    if (privateBuffer === null && publicBuffer === null) return;
    this.#private = null;
    this.#dataView = null;
    this.#public = null;
    trackView(this.#store, this, false);
    // transfer(0) detaches an external buffer without touching the memory behind it.
    if (privateBuffer !== null && !privateBuffer.detached) privateBuffer.transfer(0);
    if (publicBuffer !== null) {
      if (this.#publicExternal) retireBuffer(this.#store, publicBuffer);
      else if (!publicBuffer.detached) publicBuffer.transfer(0);
    }
  }
}

/** The shared view of each native memory, per store; weak, so it never pins a store. */
const viewsByStore = new WeakMap<Store, Map<string, MemoryView>>();

function viewOf(store: Store, struct: Uint8Array<ArrayBuffer>): MemoryView {
  let views = viewsByStore.get(store);
  if (views === undefined) {
    views = new Map();
    viewsByStore.set(store, views);
  }
  // store_id (bytes 0-7) is the same for the whole store; the two private words name the memory.
  const words = new Uint32Array(struct.buffer, struct.byteOffset, 4);
  const key = `${words[2]}:${words[3]}`;
  let view = views.get(key);
  if (view === undefined) {
    view = new MemoryView(store, struct);
    views.set(key, view);
  }
  return view;
}

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
  #views: MemoryView | null = null;

  static {
    memoryFromStruct = (store, struct) => fromRaw(Memory, { store, struct });
    memoryStruct = (memory) => memory.#struct;
  }

  /** Creates a memory of `type` in `store` (for importing into instances). */
  constructor(store: Store, type: MemoryType) {
    const raw = takeRaw<StructFields>();
    if (raw !== undefined) {
      this.#store = raw.store;
      this.#struct = raw.struct;
      return;
    }
    this.#store = store;
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
    const native = ffi().wasmtime_memory_type(contextOf(this.#store, "Memory.type"), this.#struct)!;
    try {
      return readMemoryType(native);
    } finally {
      ffi().wasm_memorytype_delete(native);
    }
  }

  /** Current size in pages. */
  get pages(): number {
    return Number(ffi().wasmtime_memory_size(contextOf(this.#store, "Memory.pages"), this.#struct));
  }

  /** Current size in bytes. */
  get byteLength(): number {
    return Number(
      ffi().wasmtime_memory_data_size(contextOf(this.#store, "Memory.byteLength"), this.#struct),
    );
  }

  get #view(): MemoryView {
    return this.#views ??= viewOf(this.#store, this.#struct);
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
    const context = contextOf(this.#store, "Memory.grow");
    try {
      check(
        ffi().wasmtime_memory_grow(
          context,
          this.#struct,
          BigInt(deltaPages),
          previousOut.bytes,
        ),
        "Memory.grow",
      );
    } finally {
      this.#view.revalidateView();
    }
    return Number(previousOut.takeU64());
  }

  /**
   * The memory's bytes without copying. Valid until the memory changes size (a `grow`, or a
   * call into the store in which the guest grew it) or the store is disposed or collected: it
   * is then detached (byteLength 0), so stale views never reach freed memory. Read it again
   * after calls, and keep the Memory or Store referenced while you use it.
   *
   * Only memories that never move have one: with Wasmtime's default `memoryReservation`
   * (4 GiB) that is every 32-bit memory. For a memory that can move (a smaller reservation,
   * or a 64-bit memory that may grow past it) this throws a {@linkcode WasmtimeError}; the
   * copying accessors work for every memory.
   *
   * Do not transfer it (`buffer.transfer()`, `structuredClone` or `postMessage` with a
   * transfer list): the copy would be invisible to the binding, so the store's native memory
   * is then kept for the rest of the process (with a one-time warning) instead of being freed.
   */
  get buffer(): ArrayBuffer {
    return this.#view.publicBuffer();
  }

  #range(offset: number, length: number, action: string): DataView {
    const view = this.#view;
    let data = view.data(action);
    if (offset + length > data.byteLength) {
      // The guest may have grown the memory since the view was taken.
      view.revalidateView();
      data = view.data(action);
    }
    if (
      !Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 ||
      length < 0 || offset + length > data.byteLength
    ) {
      throw new WasmtimeError(
        `Memory.${action}: range [${offset}, ${offset} + ${length}) is outside the memory ` +
          `(${data.byteLength} bytes)`,
      );
    }
    return data;
  }

  /** Copies `length` bytes starting at `offset` out of the memory. */
  read(offset: number, length: number): Uint8Array<ArrayBuffer> {
    const data = this.#range(offset, length, "read");
    return new Uint8Array(data.buffer as ArrayBuffer, offset, length).slice();
  }

  /** Copies `bytes` into the memory at `offset`. */
  write(offset: number, bytes: Uint8Array): void {
    const data = this.#range(offset, bytes?.length, "write");
    new Uint8Array(data.buffer, offset, bytes.length).set(bytes);
  }

  /** Decodes `length` bytes of UTF-8 at `offset`. */
  readString(offset: number, length: number): string {
    const data = this.#range(offset, length, "readString");
    return decodeUtf8(new Uint8Array(data.buffer, offset, length));
  }

  /** Writes `text` as UTF-8 at `offset` and returns the number of bytes written. */
  writeString(offset: number, text: string): number {
    const bytes = utf8(text);
    this.write(offset, bytes);
    return bytes.length;
  }

  /** Reads a byte. */
  getUint8(offset: number): number {
    return this.#range(offset, 1, "getUint8").getUint8(offset);
  }
  /** Writes a byte. */
  setUint8(offset: number, value: number): void {
    this.#range(offset, 1, "setUint8").setUint8(offset, value);
  }
  /** Reads a little-endian u16. */
  getUint16(offset: number): number {
    return this.#range(offset, 2, "getUint16").getUint16(offset, true);
  }
  /** Writes a little-endian u16. */
  setUint16(offset: number, value: number): void {
    this.#range(offset, 2, "setUint16").setUint16(offset, value, true);
  }
  /** Reads a little-endian i32. */
  getInt32(offset: number): number {
    return this.#range(offset, 4, "getInt32").getInt32(offset, true);
  }
  /** Writes a little-endian i32. */
  setInt32(offset: number, value: number): void {
    this.#range(offset, 4, "setInt32").setInt32(offset, value, true);
  }
  /** Reads a little-endian u32. */
  getUint32(offset: number): number {
    return this.#range(offset, 4, "getUint32").getUint32(offset, true);
  }
  /** Writes a little-endian u32. */
  setUint32(offset: number, value: number): void {
    this.#range(offset, 4, "setUint32").setUint32(offset, value, true);
  }
  /** Reads a little-endian i64. */
  getBigInt64(offset: number): bigint {
    return this.#range(offset, 8, "getBigInt64").getBigInt64(offset, true);
  }
  /** Writes a little-endian i64. */
  setBigInt64(offset: number, value: bigint): void {
    this.#range(offset, 8, "setBigInt64").setBigInt64(offset, value, true);
  }
  /** Reads a little-endian f32. */
  getFloat32(offset: number): number {
    return this.#range(offset, 4, "getFloat32").getFloat32(offset, true);
  }
  /** Writes a little-endian f32. */
  setFloat32(offset: number, value: number): void {
    this.#range(offset, 4, "setFloat32").setFloat32(offset, value, true);
  }
  /** Reads a little-endian f64. */
  getFloat64(offset: number): number {
    return this.#range(offset, 8, "getFloat64").getFloat64(offset, true);
  }
  /** Writes a little-endian f64. */
  setFloat64(offset: number, value: number): void {
    this.#range(offset, 8, "setFloat64").setFloat64(offset, value, true);
  }
}
