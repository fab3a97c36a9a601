/**
 * Native memory of the component model: the arena in which component values are written for a
 * call (`wasmtime_component_val_t` trees whose pointers point into the arena itself), and the
 * readers of the value trees Wasmtime allocates (strings, lists, payloads of results).
 *
 * @module
 */
import { decodeUtf8 } from "./raw.ts";

/** Bytes of one arena chunk; bigger allocations get a chunk of their own. */
const CHUNK = 64 << 10;

interface Chunk {
  bytes: Uint8Array<ArrayBuffer>;
  view: DataView;
  /** The chunk's address (ArrayBuffer backing stores do not move). */
  base: number;
  pointer: Deno.PointerObject;
}

function newChunk(size: number): Chunk {
  const bytes = new Uint8Array(size);
  const pointer = Deno.UnsafePointer.of(bytes)!;
  return {
    bytes,
    view: new DataView(bytes.buffer),
    base: Number(Deno.UnsafePointer.value(pointer)),
    pointer,
  };
}

/**
 * A bump allocator over JS memory whose chunks never move, so the addresses written into
 * earlier values stay valid while later ones are allocated. One arena serves one activation (a
 * call's arguments and results, or a host call's results) and is reset when it is released:
 * a nested call made by a getter or a host function takes another arena from the pool, so it
 * can never overwrite bytes an outer activation still points to.
 */
export class Arena {
  readonly #first: Chunk;
  #chunks: Chunk[] = [];
  #current: Chunk;
  #used = 0;
  /** Pointers to offsets of the first chunk, made once (a call's values start there). */
  readonly #firstPointers: (Deno.PointerObject | undefined)[] = [];
  /** The chunk of the last allocation (bytes, view, base address). */
  bytes: Uint8Array<ArrayBuffer>;
  /** A DataView of the chunk of the last allocation. */
  view: DataView;
  /** The address of the chunk of the last allocation. */
  base: number;

  /** An arena whose first chunk has `size` bytes (small for a function's scalar frame). */
  constructor(size: number = CHUNK) {
    this.#first = this.#current = newChunk(size);
    this.bytes = this.#first.bytes;
    this.view = this.#first.view;
    this.base = this.#first.base;
  }

  /** Allocates `size` bytes (8-aligned); returns the offset in {@linkcode view}. */
  alloc(size: number): number {
    let offset = (this.#used + 7) & ~7;
    if (offset + size > this.#current.bytes.length) {
      const chunk = size > CHUNK ? newChunk(size) : newChunk(CHUNK);
      this.#chunks.push(chunk);
      this.#current = chunk;
      this.bytes = chunk.bytes;
      this.view = chunk.view;
      this.base = chunk.base;
      offset = 0;
    }
    this.#used = offset + size;
    return offset;
  }

  /** A pointer to `offset` of the first chunk (where the first allocations of a reset arena go). */
  firstPointer(offset: number): Deno.PointerObject {
    const slot = offset >>> 3;
    return this.#firstPointers[slot] ??= Deno.UnsafePointer.offset(this.#first.pointer, offset)!;
  }

  /** The first chunk's view (the call's top-level values are allocated first, there). */
  get firstView(): DataView {
    return this.#first.view;
  }

  /** Forgets every allocation; extra chunks are dropped, the first is kept for the next use. */
  reset(): void {
    if (this.#chunks.length > 0) this.#chunks = [];
    this.#current = this.#first;
    this.#used = 0;
    this.bytes = this.#first.bytes;
    this.view = this.#first.view;
    this.base = this.#first.base;
  }
}

const pool: Arena[] = [];

/** Takes an arena for one activation; give it back with {@linkcode releaseArena}. */
export function takeArena(): Arena {
  return pool.pop() ?? new Arena();
}

/** Resets `arena` and returns it to the pool. */
export function releaseArena(arena: Arena): void {
  arena.reset();
  if (pool.length < 16) pool.push(arena);
}

/** Writes the address `address` (a number below 2^53) little-endian at `offset` of `view`. */
export function setAddress(view: DataView, offset: number, address: number): void {
  view.setUint32(offset, address >>> 0, true);
  view.setUint32(offset + 4, Math.floor(address / 0x1_0000_0000), true);
}

/** Reads an address written little-endian at `offset` of `view` as a number. */
export function getAddress(view: DataView, offset: number): number {
  return view.getUint32(offset, true) + view.getUint32(offset + 4, true) * 0x1_0000_0000;
}

/** The pointer for an address read with {@linkcode getAddress}. */
export function pointerAt(address: number): Deno.PointerValue {
  return Deno.UnsafePointer.create(BigInt(address));
}

/** The address of a pointer Wasmtime passed (0 for null), as a number. */
export function pointerAddress(pointer: Deno.PointerValue): number {
  return Number(Deno.UnsafePointer.value(pointer));
}

/** Copies `size` native bytes at `address` into a new JS buffer. */
export function copyNative(address: number, size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  if (size > 0) Deno.UnsafePointerView.copyInto(pointerAt(address)!, out);
  return out;
}

/** Copies `size` native bytes at `address` into `out` (of at least that length). */
export function copyNativeInto(address: number, out: Uint8Array): void {
  if (out.length > 0) Deno.UnsafePointerView.copyInto(pointerAt(address)!, out);
}

let scratch = new Uint8Array(4096);

/** Decodes the `size` UTF-8 bytes at native `address` (Wasmtime validated them). */
export function nativeString(address: number, size: number): string {
  if (size === 0) return "";
  if (size > scratch.length) {
    if (size > 1 << 20) return decodeUtf8(copyNative(address, size));
    scratch = new Uint8Array(Math.max(size, scratch.length * 2));
  }
  const bytes = scratch.subarray(0, size);
  Deno.UnsafePointerView.copyInto(pointerAt(address)!, bytes);
  return decodeUtf8(bytes);
}

/** A `const char *` + `size_t` pair written by Wasmtime into two out-cells, as a string. */
export function nativeName(pointerCell: Uint8Array, lengthCell: Uint8Array): string {
  const p = new DataView(pointerCell.buffer, pointerCell.byteOffset, 8);
  const l = new DataView(lengthCell.buffer, lengthCell.byteOffset, 8);
  return nativeString(getAddress(p, 0), getAddress(l, 0));
}

/** The pointer stored at `offset` of a JS buffer (a type or item struct Wasmtime filled). */
export function pointerIn(bytes: Uint8Array, offset: number): Deno.PointerValue {
  return pointerAt(getAddress(new DataView(bytes.buffer, bytes.byteOffset), offset));
}

/** A view of the `u32` at `pointer`: native memory that lives as long as the process. */
export function staticWord(pointer: Deno.PointerObject): Uint32Array {
  return new Uint32Array(Deno.UnsafePointerView.getArrayBuffer(pointer, 4));
}
