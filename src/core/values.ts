/**
 * The only code that reads or writes `wasmtime_val_raw_t` slots and `wasmtime_val_t` structs.
 *
 * JS representation of wasm values:
 * - `i32`, `f32`, `f64`: number; `i64`: bigint (a number is rejected: precision would be lost);
 * - `v128`: bigint, the 128-bit value read as an unsigned little-endian integer (lane 0 in the
 *   low bits); negative bigints down to -2^127 are accepted as two's complement;
 * - `funcref`: a `Func` of the same store (or a function of its `instance.exports`), or null;
 * - `externref`: any JS value (null is the null reference). The value is kept alive while wasm
 *   holds the reference and released once Wasmtime has collected it. An externref that wasm
 *   made from an internal reference (`extern.convert_any`) arrives as an `ExternalizedRef`;
 * - the `any` hierarchy (`anyref`, `eqref`, `i31ref`, `structref`, `arrayref`, concrete struct
 *   and array types): an i31 as a number, a struct as a `StructRef`, an array as an `ArrayRef`,
 *   anything else as an `AnyRef`; `exnref`: an `ExnRef`. Each object roots its GC object (see
 *   gc.ts). Arguments of the unchecked call paths (and host function results) are checked
 *   here: against an abstract type in JS, against a concrete type (`(ref $t)`, a struct,
 *   array, function or exception type) by Wasmtime's subtyping (native/src/ref_type.rs), since
 *   Wasmtime trusts those paths to hand it references of the declared type.
 * - the null reference of any type is null.
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
  ANYREF_SIZE,
  EXNREF_SIZE,
  EXTERNREF_SIZE,
  FUNC_SIZE,
  REF_MATCH_FOREIGN,
  REF_MATCH_YES,
  VAL_KIND_OFFSET,
  VAL_OF_OFFSET,
  VAL_SIZE,
  WASMTIME_ANYREF,
  WASMTIME_EXNREF,
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
import {
  AnyRef,
  anyrefBytes,
  anyrefIsEq,
  anyrefValue,
  ArrayRef,
  ExnRef,
  exnrefBytes,
  exnrefValue,
  externalizedBytes,
  ExternalizedRef,
  externalizedValue,
  gcTypeText,
  StructRef,
} from "./gc.ts";

const MASK_64 = 0xffff_ffff_ffff_ffffn;
const TWO_128 = 1n << 128n;

// ---- externrefs ----------------------------------------------------------------------------

/** Rooted externrefs made for an in-flight call, unrooted by {@linkcode releaseRoots}. */
const rooted: Uint8Array<ArrayBuffer>[] = [];
/** Rooted i31 anyrefs made for an in-flight call, unrooted by {@linkcode releaseRoots}. */
const rootedAny: Uint8Array<ArrayBuffer>[] = [];

/** Unroots the references created while marshalling a call's arguments. */
export function releaseRoots(): void {
  while (rooted.length > 0) ffi().wasmtime_externref_unroot(rooted.pop()!);
  while (rootedAny.length > 0) ffi().wasmtime_anyref_unroot(rootedAny.pop()!);
}

/** Writes a new rooted externref for `value` into `out` (EXTERNREF_SIZE bytes at offset 0). */
function newExternref(context: Deno.PointerObject, value: unknown, out: Uint8Array): void {
  const id = registerExternref(value);
  if (!ffi().wasmtime_deno_externref_new(context, EXTERN_OWNER, id, out)) {
    unregisterExternref(id);
    throw new WasmtimeError("cannot allocate an externref: the store's GC heap is exhausted");
  }
}

/**
 * The JS value of a non-null externref `ref` (borrowed: the caller still unroots it). An id of
 * 0 is an externref this binding did not make (`extern.convert_any`): it gets its own root.
 */
function externrefValue(store: Store, context: Deno.PointerObject, ref: Uint8Array): unknown {
  const id = ffi().wasmtime_deno_externref_id(context, ref);
  if (id !== 0n) return externrefById(id);
  const owned = new Uint8Array(EXTERNREF_SIZE);
  ffi().wasmtime_externref_clone(ref, owned);
  return externalizedValue(store, owned);
}

// ---- reference types --------------------------------------------------------------------------

/** The hierarchy a reference type belongs to, with what the unchecked paths may accept. */
interface RefInfo {
  family: "func" | "extern" | "any" | "exn";
  nullable: boolean;
  /** The abstract heap type (`any`, `eq`, `i31`, `struct`, `array`, `none`, ...) or "concrete". */
  heap: string;
}

const HEAP_FAMILY: Record<string, RefInfo["family"]> = {
  func: "func",
  nofunc: "func",
  extern: "extern",
  noextern: "extern",
  any: "any",
  eq: "any",
  i31: "any",
  struct: "any",
  array: "any",
  none: "any",
  exn: "exn",
  noexn: "exn",
  "(concrete func)": "func",
  "(concrete struct)": "any",
  "(concrete array)": "any",
  "(concrete exn)": "exn",
};
const SHORTHAND_HEAP: Record<string, string> = {
  funcref: "func",
  nullfuncref: "nofunc",
  externref: "extern",
  nullexternref: "noextern",
  anyref: "any",
  eqref: "eq",
  i31ref: "i31",
  structref: "struct",
  arrayref: "array",
  nullref: "none",
  exnref: "exn",
  nullexnref: "noexn",
};
const refInfos = new Map<string, RefInfo | null>();

/**
 * The hierarchy of a concrete heap type as Wasmtime spells it (`(struct ...)`, `(array ...)`,
 * `(func ...)`) or as a JS-made type names it (`$struct:1`, `$array:2`).
 */
function concreteFamily(heap: string): RefInfo["family"] | undefined {
  if (/^(\((struct|array)[ )]|\$(struct|array):)/.test(heap)) return "any";
  if (heap.startsWith("(func") || heap.startsWith("$func:")) return "func";
  return undefined;
}

/** What kind of reference `type` is, or null for numbers and v128. */
export function refInfo(type: ValType): RefInfo | null {
  let info = refInfos.get(type);
  if (info !== undefined) return info;
  let heap: string | undefined = SHORTHAND_HEAP[type];
  let nullable = true;
  if (heap === undefined) {
    const match = /^\(ref (null )?(.+)\)$/.exec(type);
    if (match) {
      nullable = match[1] !== undefined;
      heap = match[2];
    }
  }
  const family = heap === undefined ? undefined : HEAP_FAMILY[heap] ?? concreteFamily(heap);
  info = family === undefined ? null : {
    family,
    nullable,
    heap: HEAP_FAMILY[heap!] === undefined || heap!.startsWith("(") ? "concrete" : heap!,
  };
  refInfos.set(type, info);
  return info;
}

/**
 * Whether `type` is a concrete reference type (`(ref $t)` of a struct, array, function or
 * exception type): its values are checked natively on the unchecked paths.
 */
export function isConcreteRef(type: ValType): boolean {
  return refInfo(type)?.heap === "concrete";
}

/** Throws unless `value` is null and the reference type takes null. */
function nullRef(value: unknown, type: ValType, info: RefInfo, what: string): boolean {
  // undefined is a JS value an externref can carry; for the other hierarchies it means null.
  if (value !== null && (value !== undefined || info.family === "extern")) return false;
  if (!info.nullable) throw typeError(what, type, value, " (the type is not nullable)");
  return true;
}

function sameStore(value: { store: Store }, store: Store, what: string): void {
  if (value.store !== store) {
    throw new WasmtimeError(
      `${what}: the reference belongs to another Store; wasm values cannot cross stores`,
    );
  }
}

/**
 * Checks a non-null reference of the unchecked paths against the concrete type `native` (the
 * `wasm_valtype_t` Wasmtime declared): `bytes` is its `wasmtime_func_t`, `wasmtime_anyref_t` or
 * `wasmtime_exnref_t` (by `kind`), of `store` (checked before: Wasmtime asserts it).
 */
function checkConcrete(
  kind: number,
  bytes: Uint8Array<ArrayBuffer>,
  native: Deno.PointerObject | null,
  value: unknown,
  type: ValType,
  context: Deno.PointerObject,
  what: string,
): void {
  if (native === null) {
    // Every caller of the unchecked paths passes the native types of its concrete slots.
    throw typeError(what, type, value, " (internal: no native type to check against)");
  }
  const answer = ffi().wasmtime_deno_ref_matches(context, kind, bytes, native);
  if (answer === REF_MATCH_YES) return;
  if (answer === REF_MATCH_FOREIGN) {
    throw typeError(what, type, value, " (the reference belongs to another store or engine)");
  }
  const actual = value instanceof AnyRef
    ? gcTypeText(value)
    : value instanceof Func
    ? `(func ${value.type})`
    : undefined;
  throw new WasmtimeError(
    `${what}: type mismatch: expected ${type}, got ${describe(value)}${
      actual === undefined ? "" : ` of type ${actual}`
    } (a value of the declared type or a subtype is needed)`,
  );
}

/**
 * Checks an `any`-hierarchy argument against its type and returns its root (owned by the
 * AnyRef, or a new i31 root pushed to `rootedAny` when `out` is null). On the unchecked paths
 * (`out` null) a concrete struct or array type is checked against `native`; Wasmtime's checked
 * paths (`out` given) check it themselves.
 */
function anyArgument(
  value: unknown,
  type: ValType,
  info: RefInfo,
  store: Store,
  context: Deno.PointerObject,
  what: string,
  out: Uint8Array<ArrayBuffer> | null,
  native: Deno.PointerObject | null = null,
): Uint8Array<ArrayBuffer> | null {
  if (nullRef(value, type, info, what)) return null;
  const heap = info.heap;
  if (typeof value === "number") {
    // No concrete struct or array type holds an i31 (Wasmtime's checked paths say so themselves).
    if (heap !== "any" && heap !== "eq" && heap !== "i31" && !(heap === "concrete" && out)) {
      throw typeError(what, type, value, " (a number is an i31 reference)");
    }
    if (!Number.isInteger(value) || value < -0x4000_0000 || value > 0x7fff_ffff) {
      throw new WasmtimeError(
        `${what}: ${value} is not an i31 value (an integer in [-2^30, 2^31))`,
      );
    }
    const ref = out ?? new Uint8Array(ANYREF_SIZE);
    ffi().wasmtime_anyref_from_i31(context, value & 0x7fff_ffff, ref);
    if (out === null) rootedAny.push(ref);
    return ref;
  }
  if (!(value instanceof AnyRef)) {
    throw typeError(what, type, value, " (an AnyRef, an i31 number or null)");
  }
  sameStore(value, store, what);
  const ok = heap === "any" || heap === "concrete" ||
    (heap === "eq" && anyrefIsEq(value, context)) ||
    (heap === "struct" && value instanceof StructRef) ||
    (heap === "array" && value instanceof ArrayRef);
  if (!ok) throw typeError(what, type, value, " (the reference is not of this type)");
  const ref = anyrefBytes(value, what);
  if (out === null) {
    if (heap === "concrete") {
      checkConcrete(WASMTIME_ANYREF, ref, native, value, type, context, what);
    }
    return ref;
  }
  ffi().wasmtime_anyref_clone(ref, out);
  return out;
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
 * until {@linkcode releaseRoots}. A concrete reference type needs `native`, the slot's
 * `wasm_valtype_t` as Wasmtime declared it (see {@linkcode concreteSlots}).
 */
export function writeRaw(
  view: DataView,
  offset: number,
  type: ValType,
  value: unknown,
  store: Store,
  context: Deno.PointerObject,
  what: string,
  native: Deno.PointerObject | null = null,
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
      view.setBigUint64(offset, BigInt(externArgument(value, store, context, what)), true);
      return;
    }
    default:
      writeRef(view, offset, type, value, store, context, what, native);
  }
}

/** The raw externref of a non-null externref argument (rooted until releaseRoots). */
function externArgument(
  value: unknown,
  store: Store,
  context: Deno.PointerObject,
  what: string,
): number {
  if (value instanceof ExternalizedRef) {
    sameStore(value, store, what);
    return ffi().wasmtime_externref_to_raw(context, externalizedBytes(value, what));
  }
  const ref = new Uint8Array(EXTERNREF_SIZE);
  newExternref(context, value, ref);
  rooted.push(ref);
  return ffi().wasmtime_externref_to_raw(context, ref);
}

/** writeRaw for the reference types other than funcref and externref. */
function writeRef(
  view: DataView,
  offset: number,
  type: ValType,
  value: unknown,
  store: Store,
  context: Deno.PointerObject,
  what: string,
  native: Deno.PointerObject | null,
): void {
  const info = refInfo(type);
  if (info === null) {
    throw new WasmtimeError(`${what}: values of type ${type} cannot be passed from JS yet`);
  }
  view.setBigUint64(offset + 8, 0n, true);
  if (nullRef(value, type, info, what)) {
    view.setBigUint64(offset, 0n, true);
    return;
  }
  const onlyNull = info.heap === "none" || info.heap === "nofunc" || info.heap === "noextern" ||
    info.heap === "noexn";
  if (onlyNull) throw typeError(what, type, value, " (only null has this type)");
  switch (info.family) {
    case "func": {
      const func = toFunc(value, what, store)!;
      const struct = funcStruct(func);
      if (info.heap === "concrete") {
        checkConcrete(WASMTIME_FUNCREF, struct, native, func, type, context, what);
      }
      view.setBigUint64(offset, pointerBits(ffi().wasmtime_func_to_raw(context, struct)), true);
      return;
    }
    case "extern":
      view.setBigUint64(offset, BigInt(externArgument(value, store, context, what)), true);
      return;
    case "any": {
      const ref = anyArgument(value, type, info, store, context, what, null, native)!;
      view.setBigUint64(offset, BigInt(ffi().wasmtime_anyref_to_raw(context, ref)), true);
      return;
    }
    case "exn": {
      if (!(value instanceof ExnRef)) throw typeError(what, type, value, " (an ExnRef or null)");
      sameStore(value, store, what);
      const bytes = exnrefBytes(value, what);
      if (info.heap === "concrete") {
        checkConcrete(WASMTIME_EXNREF, bytes, native, value, type, context, what);
      }
      const raw = ffi().wasmtime_exnref_to_raw(context, bytes);
      view.setBigUint64(offset, BigInt(raw), true);
      return;
    }
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
      const value = externrefValue(store, context, refScratch);
      ffi().wasmtime_externref_unroot(refScratch);
      return value;
    }
    default: {
      const info = refInfo(type);
      if (info === null) {
        throw new WasmtimeError(`values of type ${type} cannot be read into JS yet`);
      }
      if (info.family === "func") return readRaw(view, offset, "funcref", store, context);
      if (info.family === "extern") return readRaw(view, offset, "externref", store, context);
      const raw = view.getUint32(offset, true);
      if (raw === 0) return null;
      if (info.family === "any") {
        const ref = new Uint8Array(ANYREF_SIZE);
        ffi().wasmtime_anyref_from_raw(context, raw, ref);
        return anyrefValue(store, context, ref);
      }
      const ref = new Uint8Array(EXNREF_SIZE);
      ffi().wasmtime_exnref_from_raw(context, raw, ref);
      return exnrefValue(store, ref);
    }
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
  const info = VAL_KIND[type] === undefined ? refInfo(type) : null;
  const kind = VAL_KIND[type] ?? (info === null ? undefined : FAMILY_KIND[info.family]);
  if (kind === undefined) {
    throw new WasmtimeError(`${what}: values of type ${type} cannot be passed from JS yet`);
  }
  val.fill(0);
  val[VAL_KIND_OFFSET] = kind;
  const view = new DataView(val.buffer, val.byteOffset, VAL_SIZE);
  const of = val.subarray(VAL_OF_OFFSET);
  if (bits && isNumeric(type)) {
    writeRawBits(view, VAL_OF_OFFSET, type, value, what);
  } else if (info === null && type !== "funcref" && type !== "externref") {
    writeRaw(view, VAL_OF_OFFSET, type, value, store, context, what);
  } else if (nullRef(value, type, info ?? refInfo(type)!, what)) {
    // store_id 0: the null reference. A nullable type is checked by Wasmtime's checked paths.
  } else if (kind === WASMTIME_FUNCREF) {
    const func = toFunc(value, what, store);
    if (func !== null) val.set(funcStruct(func), VAL_OF_OFFSET);
  } else if (kind === WASMTIME_EXTERNREF) {
    if (value instanceof ExternalizedRef) {
      sameStore(value, store, what);
      ffi().wasmtime_externref_clone(externalizedBytes(value, what), of);
    } else newExternref(context, value, of);
  } else if (kind === WASMTIME_ANYREF) {
    // Every consumer of a wasmtime_val_t (globals, tables, fields, checked calls) checks the
    // exact type, so concrete types are accepted here.
    anyArgument(value, type, info!, store, context, what, of);
  } else {
    if (!(value instanceof ExnRef)) throw typeError(what, type, value, " (an ExnRef or null)");
    sameStore(value, store, what);
    ffi().wasmtime_exnref_clone(exnrefBytes(value, what), of);
  }
}

const FAMILY_KIND: Record<RefInfo["family"], number> = {
  func: WASMTIME_FUNCREF,
  extern: WASMTIME_EXTERNREF,
  any: WASMTIME_ANYREF,
  exn: WASMTIME_EXNREF,
};

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
VAL_TYPES[WASMTIME_ANYREF] = "anyref";
VAL_TYPES[WASMTIME_EXNREF] = "exnref";

/** The top value type of a `wasmtime_val_t`'s kind (for writing a value of the same kind). */
export function valKindType(val: Uint8Array<ArrayBuffer>): ValType {
  const type = VAL_TYPES[val[VAL_KIND_OFFSET]];
  if (type === undefined) throw new WasmtimeError(`unknown value kind ${val[VAL_KIND_OFFSET]}`);
  return type;
}

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
    const value = isNull ? null : externrefValue(store, context, ref);
    if (!borrowed) unrootVal(val);
    return value;
  }
  if (type === "anyref" || type === "exnref") {
    if (view.getBigUint64(VAL_OF_OFFSET, true) === 0n) return null;
    // The root moves into the JS object (a clone when Wasmtime keeps the value).
    const ref = new Uint8Array(ANYREF_SIZE);
    const of = val.subarray(VAL_OF_OFFSET, VAL_OF_OFFSET + ANYREF_SIZE);
    const clone = type === "anyref" ? ffi().wasmtime_anyref_clone : ffi().wasmtime_exnref_clone;
    if (borrowed) clone(of, ref);
    else {
      ref.set(of);
      val.fill(0);
    }
    return type === "anyref" ? anyrefValue(store, context, ref) : exnrefValue(store, ref);
  }
  return readRaw(view, VAL_OF_OFFSET, type, store, context);
}
