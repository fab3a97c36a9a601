/**
 * The only code that reads or writes native memory or turns numbers into pointers: strings,
 * byte vecs, pointer lists, out-parameter cells, and pointers kept as two u32 words.
 *
 * @module
 */
import { ffi } from "./symbols.ts";
import { POINTER_SIZE, VEC_DATA_OFFSET, VEC_SIZE, VEC_SIZE_OFFSET } from "./layout.ts";

const encoder = new TextEncoder();
// ignoreBOM: a leading U+FEFF is part of the text (an export named "\u{feff}" is not "").
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

// ---- strings and byte vecs --------------------------------------------------------------------

/** UTF-8 bytes of `text` (no terminator), for `const char *, size_t` pairs. */
export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text);
}

/** NUL-terminated UTF-8 bytes of `text`, for bare `const char *` parameters. */
export function cString(text: string): Uint8Array<ArrayBuffer> {
  if (text.includes("\0")) throw new TypeError(`string contains a NUL character: ${text}`);
  return encoder.encode(`${text}\0`);
}

// A typed array's `length` and `byteLength` can be an own property or a subclass getter, while
// Deno hands native code the real start of its bytes: a view claiming 256 MiB over 8 bytes made
// Wasmtime read past the buffer (SIGSEGV). The intrinsic getters read what the view really is.
const typedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype);
const intrinsic = (name: string) =>
  Object.getOwnPropertyDescriptor(typedArrayPrototype, name)!.get! as (this: unknown) => unknown;
const bufferOf = intrinsic("buffer");
const byteOffsetOf = intrinsic("byteOffset");
const byteLengthOf = intrinsic("byteLength");

/**
 * The bytes of `view` as a plain `Uint8Array` whose `length` is the real one, for handing a
 * caller's bytes and their length to native code; bytes in shared memory are copied (another
 * thread could change them while native code reads them). Undefined when `view` is not really
 * a typed array (an object that only inherits from `Uint8Array.prototype`).
 */
export function plainBytes(view: Uint8Array): Uint8Array<ArrayBuffer> | undefined {
  let buffer: ArrayBufferLike, offset: number, length: number;
  try {
    buffer = bufferOf.call(view) as ArrayBufferLike;
    offset = byteOffsetOf.call(view) as number;
    length = byteLengthOf.call(view) as number;
  } catch {
    return undefined;
  }
  // A detached buffer has length 0 and cannot be viewed again.
  if (length === 0) return new Uint8Array(0);
  if (buffer instanceof SharedArrayBuffer) {
    return new Uint8Array(buffer, offset, length).slice() as Uint8Array<ArrayBuffer>;
  }
  return new Uint8Array(buffer as ArrayBuffer, offset, length);
}

/** Decodes UTF-8 bytes. */
export function decodeUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** Reads a NUL-terminated native string (borrowed). */
export function readCString(pointer: Deno.PointerObject): string {
  return Deno.UnsafePointerView.getCString(pointer);
}

/** A zeroed buffer holding one `wasm_*_vec_t`. */
export function newVec(): Uint8Array<ArrayBuffer> {
  return new Uint8Array(VEC_SIZE);
}

/** The `{size, data}` of a `wasm_*_vec_t`. */
export interface VecParts {
  size: number;
  data: Deno.PointerValue;
}

/** Reads `{size, data}` from a vec struct held in JS memory. */
export function vecParts(vec: Uint8Array): VecParts {
  const view = new DataView(vec.buffer, vec.byteOffset, VEC_SIZE);
  const size = Number(view.getBigUint64(VEC_SIZE_OFFSET, true));
  const data = Deno.UnsafePointer.create(view.getBigUint64(VEC_DATA_OFFSET, true));
  return { size, data };
}

/** Reads `{size, data}` from a vec struct in native memory. */
export function nativeVecParts(vec: Deno.PointerObject): VecParts {
  const view = new Deno.UnsafePointerView(vec);
  const size = Number(view.getBigUint64(VEC_SIZE_OFFSET));
  const data = Deno.UnsafePointer.create(view.getBigUint64(VEC_DATA_OFFSET));
  return { size, data };
}

/** Copies `size` native bytes at `data` into JS memory. */
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

/**
 * Reads a `const wasm_name_t *` (borrowed) as a symbol name, demangled if it is a mangled Rust
 * or C++ name (as Wasmtime's backtrace text prints it); `mangled` is then the name as stored.
 */
export function readSymbolName(
  name: Deno.PointerValue,
): { name?: string; mangled?: string } {
  if (name === null) return {};
  const { size, data } = nativeVecParts(name);
  const stored = decodeUtf8(copyBytes(size, data));
  const out = newVec();
  if (data === null || !ffi().wasmtime_deno_demangle(data, BigInt(size), out)) {
    return { name: stored };
  }
  return { name: decodeUtf8(takeByteVec(out)), mangled: stored };
}

/**
 * A zero-copy ArrayBuffer over `length` native bytes at `data`. The caller must detach it
 * before the bytes are freed or moved (see src/core/memory.ts).
 */
export function nativeBuffer(data: Deno.PointerObject, length: number): ArrayBuffer {
  return Deno.UnsafePointerView.getArrayBuffer(data, length);
}

// ---- pointers as numbers ----------------------------------------------------------------------

/** The pointer whose address is `bits` (null for 0), e.g. an address Wasmtime wrote to a slot. */
export function pointerFromBits(bits: bigint): Deno.PointerValue {
  return Deno.UnsafePointer.create(bits);
}

/** The address of `pointer` (0n for null), to store in a slot or struct. */
export function pointerBits(pointer: Deno.PointerValue): bigint {
  return BigInt(Deno.UnsafePointer.value(pointer));
}

/** The address of a JS buffer's bytes (ArrayBuffer backing stores do not move). */
export function addressOf(buffer: Uint8Array): Deno.PointerObject {
  return Deno.UnsafePointer.of(buffer)!;
}

/**
 * The pointer stored little-endian in `words[index]` (low half) and `words[index + 1]` (high
 * half). Slots read this way can be tested for null without making a bigint, which keeps the
 * success path of a call allocation-free.
 */
export function pointerFromWords(words: Uint32Array, index: number): Deno.PointerValue {
  return Deno.UnsafePointer.create(BigInt(words[index]) | (BigInt(words[index + 1]) << 32n));
}

/** The `size` pointers of a `T **` list (a vec's data); null entries are skipped. */
export function readPointers({ size, data }: VecParts): Deno.PointerObject[] {
  const pointers: Deno.PointerObject[] = [];
  if (data === null || size === 0) return pointers;
  const list = new Deno.UnsafePointerView(data);
  for (let i = 0; i < size; i++) {
    const pointer = Deno.UnsafePointer.create(list.getBigUint64(i * POINTER_SIZE));
    if (pointer !== null) pointers.push(pointer);
  }
  return pointers;
}

/**
 * A `T *const *` array of `pointers`, as bytes to pass for a `buffer` parameter. JS buffers
 * among them must be kept alive by the caller until the native call returns.
 */
export function pointerArray(
  pointers: readonly (Deno.PointerValue | Uint8Array)[],
): Uint8Array<ArrayBuffer> {
  const cells = new BigUint64Array(Math.max(1, pointers.length));
  pointers.forEach((p, i) => {
    cells[i] = pointerBits(p instanceof Uint8Array ? addressOf(p) : p);
  });
  return new Uint8Array(cells.buffer);
}

// ---- out-parameters ---------------------------------------------------------------------------

/**
 * One 8-byte out-parameter (`T **`, `uint64_t *`, `size_t *`, `int32_t *`, `uint8_t *`):
 * pass {@linkcode OutCell.bytes} to the native call, then take what it wrote. Each `take`
 * zeroes the cell, so a cell can be allocated once and reused by every call of a path.
 */
export class OutCell {
  /** The slot to pass for a `buffer` out-parameter. */
  readonly bytes: Uint8Array<ArrayBuffer> = new Uint8Array(8);
  readonly #words = new Uint32Array(this.bytes.buffer);
  readonly #u64 = new BigUint64Array(this.bytes.buffer);
  readonly #i32 = new Int32Array(this.bytes.buffer, 0, 1);

  /** Zeroes the slot (for outputs written only on some paths) and returns it. */
  cleared(): Uint8Array<ArrayBuffer> {
    this.#words[0] = 0;
    this.#words[1] = 0;
    return this.bytes;
  }

  /** True while the slot holds zero (a null pointer), tested without making a bigint. */
  get isZero(): boolean {
    return this.#words[0] === 0 && this.#words[1] === 0;
  }

  /** The pointer written to the slot (null if none). */
  takePointer(): Deno.PointerValue {
    const pointer = pointerFromWords(this.#words, 0);
    this.cleared();
    return pointer;
  }

  /** The u64 / size_t written to the slot. */
  takeU64(): bigint {
    const value = this.#u64[0];
    this.cleared();
    return value;
  }

  /** The int32_t written to the slot. */
  takeI32(): number {
    const value = this.#i32[0];
    this.cleared();
    return value;
  }

  /** The uint8_t written to the slot. */
  takeU8(): number {
    const value = this.bytes[0];
    this.cleared();
    return value;
  }
}
