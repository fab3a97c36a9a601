/**
 * The only code that reads or writes `wasmtime_val_raw_t` slots and `wasmtime_val_t` structs.
 *
 * JS representation of wasm values:
 * - `i32`, `f32`, `f64`: number; `i64`: bigint (a number is rejected: precision would be lost);
 * - `v128`: bigint, the 128-bit value read as an unsigned little-endian integer (lane 0 in the
 *   low bits); negative bigints down to -2^127 are accepted as two's complement;
 * - `funcref`: a `Func` of the same store (or a function of its `instance.exports`), or null;
 * - `externref`: any JS value (null is the null reference). The value is kept alive while wasm
 *   holds the reference and released once Wasmtime has collected it.
 *
 * In "bits" mode (`Func.callBits`, `Global.getBits`) numbers travel as raw bit patterns in
 * bigints, so NaN payloads survive exactly.
 *
 * @module
 */
import { WasmtimeError } from "../errors.ts";
import { ffi } from "../ffi/symbols.ts";
import { pointerBits, pointerFromBits } from "../ffi/raw.ts";
import {
  EXTERNREF_SIZE,
  FUNC_SIZE,
  VAL_KIND_OFFSET,
  VAL_OF_OFFSET,
  VAL_SIZE,
  WASMTIME_EXTERNREF,
  WASMTIME_F32,
  WASMTIME_F64,
  WASMTIME_FUNCREF,
  WASMTIME_I32,
  WASMTIME_I64,
  WASMTIME_V128,
} from "../ffi/layout.ts";
import type { ValType } from "./types.ts";
import type { Store } from "./store.ts";
import { Func, funcFromStruct, funcOfExport, funcStruct } from "./func.ts";
import { EXTERN_OWNER, externrefById, registerExternref, unregisterExternref } from "./registry.ts";

const MASK_64 = 0xffff_ffff_ffff_ffffn;
const TWO_128 = 1n << 128n;

// ---- externrefs ----------------------------------------------------------------------------

/** Rooted externrefs made for an in-flight call, unrooted by {@linkcode releaseRoots}. */
const rooted: Uint8Array<ArrayBuffer>[] = [];

/** Unroots the externrefs created while marshalling a call's arguments. */
export function releaseRoots(): void {
  while (rooted.length > 0) ffi().wasmtime_externref_unroot(rooted.pop()!);
}

/** Writes a new rooted externref for `value` into `out` (EXTERNREF_SIZE bytes at offset 0). */
function newExternref(context: Deno.PointerObject, value: unknown, out: Uint8Array): void {
  const id = registerExternref(value);
  if (!ffi().wasmtime_deno_externref_new(context, EXTERN_OWNER, id, out)) {
    unregisterExternref(id);
    throw new WasmtimeError("cannot allocate an externref: the store's GC heap is exhausted");
  }
}

function externrefValue(context: Deno.PointerObject, ref: Uint8Array): unknown {
  const id = ffi().wasmtime_deno_externref_id(context, ref);
  // An id of 0 is an externref this binding did not make (e.g. `extern.convert_any`).
  return id === 0n ? undefined : externrefById(id);
}

// ---- argument checking ------------------------------------------------------------------

function describe(value: unknown): string {
  if (typeof value === "bigint") return `bigint ${value}n`;
  if (typeof value === "string") return `string ${JSON.stringify(value)}`;
  if (value === null) return "null";
  if (typeof value === "object") return value.constructor?.name ?? "object";
  return `${typeof value} ${String(value)}`;
}

function typeError(what: string, type: ValType, value: unknown, hint = ""): WasmtimeError {
  return new WasmtimeError(`${what}: expected ${type}, got ${describe(value)}${hint}`);
}

/** Checks and normalizes an i32 argument to a signed 32-bit integer. */
export function toI32(value: unknown, what: string): number {
  if (typeof value === "number" && Number.isInteger(value)) {
    if (value >= -0x8000_0000 && value <= 0xffff_ffff) return value | 0;
    throw new WasmtimeError(`${what}: ${value} does not fit in an i32`);
  }
  if (typeof value === "boolean") return value ? 1 : 0;
  throw typeError(what, "i32", value);
}

/** Checks and normalizes an i64 argument to a signed 64-bit bigint. */
export function toI64(value: unknown, what: string): bigint {
  if (typeof value === "bigint") {
    if (value >= -(1n << 63n) && value <= MASK_64) return BigInt.asIntN(64, value);
    throw new WasmtimeError(`${what}: ${value}n does not fit in an i64`);
  }
  if (typeof value === "number" && Number.isInteger(value)) {
    throw typeError(what, "i64", value, ` (i64 values are bigints: write ${value}n)`);
  }
  throw typeError(what, "i64", value);
}

/** Checks a float argument. */
export function toFloat(value: unknown, what: string, type: ValType): number {
  if (typeof value === "number") return value;
  throw typeError(what, type, value);
}

/** Checks and normalizes a v128 argument to an unsigned 128-bit bigint. */
export function toV128(value: unknown, what: string): bigint {
  if (typeof value === "bigint" && value >= -(1n << 127n) && value < TWO_128) {
    return BigInt.asUintN(128, value);
  }
  throw typeError(what, "v128", value, " (a bigint in [-2^127, 2^128))");
}

function toFunc(value: unknown, what: string, store: Store): Func | null {
  if (value === null || value === undefined) return null;
  // A function of `instance.exports` stands for its Func, as in V8.
  const func = value instanceof Func ? value : funcOfExport(value);
  if (func === undefined) {
    throw typeError(what, "funcref", value, " (a Func, a function of instance.exports or null)");
  }
  if (func.store !== store) {
    throw new WasmtimeError(
      `${what}: the Func belongs to another Store; wasm values cannot cross stores`,
    );
  }
  return func;
}

// ---- raw slots (wasmtime_val_raw_t) ----------------------------------------------------------

/**
 * Writes `value` of `type` into the raw slot at `offset`. Externrefs created here stay rooted
 * until {@linkcode releaseRoots}.
 */
export function writeRaw(
  view: DataView,
  offset: number,
  type: ValType,
  value: unknown,
  store: Store,
  context: Deno.PointerObject,
  what: string,
): void {
  switch (type) {
    case "i32":
      view.setInt32(offset, toI32(value, what), true);
      view.setInt32(offset + 4, 0, true);
      return;
    case "i64":
      view.setBigInt64(offset, toI64(value, what), true);
      return;
    case "f32":
      view.setFloat32(offset, toFloat(value, what, type), true);
      view.setInt32(offset + 4, 0, true);
      return;
    case "f64":
      view.setFloat64(offset, toFloat(value, what, type), true);
      return;
    case "v128": {
      const v = toV128(value, what);
      view.setBigUint64(offset, v & MASK_64, true);
      view.setBigUint64(offset + 8, v >> 64n, true);
      return;
    }
    case "funcref": {
      const func = toFunc(value, what, store);
      const raw = func === null ? null : ffi().wasmtime_func_to_raw(context, funcStruct(func));
      view.setBigUint64(offset, pointerBits(raw), true);
      return;
    }
    case "externref": {
      if (value === null) {
        view.setBigUint64(offset, 0n, true);
        return;
      }
      const ref = new Uint8Array(EXTERNREF_SIZE);
      newExternref(context, value, ref);
      rooted.push(ref);
      view.setBigUint64(offset, BigInt(ffi().wasmtime_externref_to_raw(context, ref)), true);
      return;
    }
    default:
      throw new WasmtimeError(`${what}: values of type ${type} cannot be passed from JS yet`);
  }
}

const refScratch = new Uint8Array(Math.max(EXTERNREF_SIZE, FUNC_SIZE));

/** Reads the raw slot at `offset` as a JS value of `type`. */
export function readRaw(
  view: DataView,
  offset: number,
  type: ValType,
  store: Store,
  context: Deno.PointerObject,
): unknown {
  switch (type) {
    case "i32":
      return view.getInt32(offset, true);
    case "i64":
      return view.getBigInt64(offset, true);
    case "f32":
      return view.getFloat32(offset, true);
    case "f64":
      return view.getFloat64(offset, true);
    case "v128":
      return view.getBigUint64(offset, true) | (view.getBigUint64(offset + 8, true) << 64n);
    case "funcref": {
      const raw = pointerFromBits(view.getBigUint64(offset, true));
      if (raw === null) return null;
      const struct = new Uint8Array(FUNC_SIZE);
      ffi().wasmtime_func_from_raw(context, raw, struct);
      return funcFromStruct(store, struct);
    }
    case "externref": {
      const raw = view.getUint32(offset, true);
      if (raw === 0) return null;
      ffi().wasmtime_externref_from_raw(context, raw, refScratch);
      const value = externrefValue(context, refScratch);
      ffi().wasmtime_externref_unroot(refScratch);
      return value;
    }
    default:
      throw new WasmtimeError(`values of type ${type} cannot be read into JS yet`);
  }
}

/** Writes a numeric value given as raw bits (bigint) into a raw slot. */
export function writeRawBits(
  view: DataView,
  offset: number,
  type: ValType,
  bits: unknown,
  what: string,
): void {
  if (typeof bits !== "bigint" || bits < 0n) {
    throw new WasmtimeError(
      `${what}: raw bits must be a non-negative bigint, got ${describe(bits)}`,
    );
  }
  const width = type === "v128" ? 128 : type === "i64" || type === "f64" ? 64 : 32;
  if (bits >= 1n << BigInt(width)) {
    throw new WasmtimeError(`${what}: ${bits}n does not fit in ${width} bits`);
  }
  view.setBigUint64(offset, bits & MASK_64, true);
  view.setBigUint64(offset + 8, bits >> 64n, true);
}

/** Reads a numeric raw slot as raw bits. */
export function readRawBits(view: DataView, offset: number, type: ValType): bigint {
  switch (type) {
    case "i32":
    case "f32":
      return BigInt(view.getUint32(offset, true));
    case "i64":
    case "f64":
      return view.getBigUint64(offset, true);
    default:
      return view.getBigUint64(offset, true) | (view.getBigUint64(offset + 8, true) << 64n);
  }
}

/** True for the types whose values have a raw-bits form. */
export function isNumeric(type: ValType): boolean {
  return type === "i32" || type === "i64" || type === "f32" || type === "f64" || type === "v128";
}

// ---- numbers through typed arrays (fast paths) -----------------------------------------------

/** Writes one JS value into a raw value slot. */
export type Writer = (value: unknown) => void;

/** A writer of one numeric value straight into a raw value slot at `offset` of `frame`. */
export function numericWriter(
  type: ValType,
  frame: ArrayBuffer,
  offset: number,
  what: string,
): Writer {
  switch (type) {
    case "i32": {
      const cell = new Int32Array(frame, offset, 2);
      return (v) => {
        cell[0] = typeof v === "number" && (v | 0) === v ? v : toI32(v, what);
      };
    }
    case "i64": {
      const cell = new BigInt64Array(frame, offset, 1);
      return (v) => {
        cell[0] = toI64(v, what);
      };
    }
    case "f32": {
      const cell = new Float32Array(frame, offset, 1);
      return (v) => {
        cell[0] = toFloat(v, what, type);
      };
    }
    case "f64": {
      const cell = new Float64Array(frame, offset, 1);
      return (v) => {
        cell[0] = toFloat(v, what, type);
      };
    }
    default:
      throw new Error("not numeric");
  }
}

/** A reader of one numeric raw value slot at `offset` of `frame`. */
export function numericReader(
  type: ValType | undefined,
  frame: ArrayBuffer,
  offset: number,
): () => unknown {
  switch (type) {
    case undefined:
      return () => undefined;
    case "i32": {
      const cell = new Int32Array(frame, offset, 1);
      return () => cell[0];
    }
    case "i64": {
      const cell = new BigInt64Array(frame, offset, 1);
      return () => cell[0];
    }
    case "f32": {
      const cell = new Float32Array(frame, offset, 1);
      return () => cell[0];
    }
    default: {
      const cell = new Float64Array(frame, offset, 1);
      return () => cell[0];
    }
  }
}

/** True for signatures the allocation-free numeric paths handle. */
export function isSimpleNumeric(params: readonly ValType[], results: readonly ValType[]): boolean {
  return [...params, ...results].every((t) =>
    t === "i32" || t === "i64" || t === "f32" || t === "f64"
  ) && results.length <= 1;
}

// ---- wasmtime_val_t -------------------------------------------------------------------------

const VAL_KIND: Partial<Record<ValType, number>> = {
  i32: WASMTIME_I32,
  i64: WASMTIME_I64,
  f32: WASMTIME_F32,
  f64: WASMTIME_F64,
  v128: WASMTIME_V128,
  funcref: WASMTIME_FUNCREF,
  externref: WASMTIME_EXTERNREF,
};

/**
 * Fills a `wasmtime_val_t` (VAL_SIZE bytes) with `value`. The caller must pass it to
 * {@linkcode unrootVal} after the native call that consumed it.
 */
export function writeVal(
  val: Uint8Array<ArrayBuffer>,
  type: ValType,
  value: unknown,
  store: Store,
  context: Deno.PointerObject,
  what: string,
  bits = false,
): void {
  const kind = VAL_KIND[type];
  if (kind === undefined) {
    throw new WasmtimeError(`${what}: values of type ${type} cannot be passed from JS yet`);
  }
  val.fill(0);
  val[VAL_KIND_OFFSET] = kind;
  const view = new DataView(val.buffer, val.byteOffset, VAL_SIZE);
  if (bits && isNumeric(type)) {
    writeRawBits(view, VAL_OF_OFFSET, type, value, what);
  } else if (type === "funcref") {
    const func = toFunc(value, what, store);
    if (func !== null) val.set(funcStruct(func), VAL_OF_OFFSET);
  } else if (type === "externref") {
    if (value !== null) newExternref(context, value, val.subarray(VAL_OF_OFFSET));
  } else {
    writeRaw(view, VAL_OF_OFFSET, type, value, store, context, what);
  }
}

/** Releases the root a `wasmtime_val_t` may hold. */
export function unrootVal(val: Uint8Array<ArrayBuffer>): void {
  ffi().wasmtime_val_unroot(val);
}

/**
 * Writes `value` as a `wasmtime_val_t` of `type` (see {@linkcode writeVal}), runs `use` with it
 * (the native call that consumes it), and releases its root whatever happens.
 */
export function withVal<T>(
  type: ValType,
  value: unknown,
  store: Store,
  context: Deno.PointerObject,
  what: string,
  use: (val: Uint8Array<ArrayBuffer>) => T,
  bits = false,
): T {
  const val = new Uint8Array(VAL_SIZE);
  try {
    writeVal(val, type, value, store, context, what, bits);
    return use(val);
  } finally {
    unrootVal(val);
  }
}

/** The value type of each `wasmtime_valkind_t` the binding reads, indexed by kind. */
const VAL_TYPES: (ValType | undefined)[] = [];
for (const [type, kind] of Object.entries(VAL_KIND)) VAL_TYPES[kind!] = type as ValType;

/**
 * Reads a `wasmtime_val_t` filled by Wasmtime, then unroots it unless `borrowed` (a value still
 * owned by Wasmtime, such as an async host call's argument).
 */
export function readVal(
  val: Uint8Array<ArrayBuffer>,
  store: Store,
  context: Deno.PointerObject,
  bits = false,
  borrowed = false,
): unknown {
  const type = VAL_TYPES[val[VAL_KIND_OFFSET]];
  if (type === undefined) {
    unrootVal(val);
    throw new WasmtimeError(`values of kind ${val[VAL_KIND_OFFSET]} cannot be read into JS yet`);
  }
  const view = new DataView(val.buffer, val.byteOffset, VAL_SIZE);
  if (bits && isNumeric(type)) return readRawBits(view, VAL_OF_OFFSET, type);
  if (type === "funcref") {
    const storeId = view.getBigUint64(VAL_OF_OFFSET, true);
    return storeId === 0n
      ? null
      : funcFromStruct(store, val.slice(VAL_OF_OFFSET, VAL_OF_OFFSET + FUNC_SIZE));
  }
  if (type === "externref") {
    const ref = val.subarray(VAL_OF_OFFSET, VAL_OF_OFFSET + EXTERNREF_SIZE);
    const isNull = view.getBigUint64(VAL_OF_OFFSET, true) === 0n;
    const value = isNull ? null : externrefValue(context, ref);
    if (!borrowed) unrootVal(val);
    return value;
  }
  return readRaw(view, VAL_OF_OFFSET, type, store, context);
}
