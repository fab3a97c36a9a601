/**
 * The one place that converts component values between JS and `wasmtime_component_val_t`,
 * with jco's conventions (see the README's value table). A type is compiled once into a
 * lowering (JS → value written into an arena) and a lifting (value → JS) closure.
 *
 * Lowering checks every value against its type and throws a {@linkcode ValuePathError}
 * naming where it went wrong: Wasmtime's C API aborts the process on a lone surrogate in a
 * string or an invalid char, and would report other mismatches without saying where.
 *
 * @module
 */
import {
  type Arena,
  copyNative,
  getAddress,
  nativeString,
  setAddress,
} from "../ffi/component_raw.ts";
import {
  COMPONENT_RECORD_ENTRY_SIZE,
  COMPONENT_RECORD_ENTRY_VAL_OFFSET,
  COMPONENT_RESULT_VAL_OFFSET,
  COMPONENT_VAL_OF_OFFSET as OF,
  COMPONENT_VAL_SIZE as VAL,
  COMPONENT_VARIANT_VAL_OFFSET,
  WASMTIME_COMPONENT_BOOL,
  WASMTIME_COMPONENT_CHAR,
  WASMTIME_COMPONENT_ENUM,
  WASMTIME_COMPONENT_F32,
  WASMTIME_COMPONENT_F64,
  WASMTIME_COMPONENT_FLAGS,
  WASMTIME_COMPONENT_LIST,
  WASMTIME_COMPONENT_OPTION,
  WASMTIME_COMPONENT_RECORD,
  WASMTIME_COMPONENT_RESULT,
  WASMTIME_COMPONENT_S16,
  WASMTIME_COMPONENT_S32,
  WASMTIME_COMPONENT_S64,
  WASMTIME_COMPONENT_S8,
  WASMTIME_COMPONENT_STRING,
  WASMTIME_COMPONENT_TUPLE,
  WASMTIME_COMPONENT_U16,
  WASMTIME_COMPONENT_U32,
  WASMTIME_COMPONENT_U64,
  WASMTIME_COMPONENT_U8,
  WASMTIME_COMPONENT_VARIANT,
} from "../ffi/layout.ts";
import { utf8 } from "../ffi/raw.ts";
import type { ComponentResourceType, ComponentValType } from "./types.ts";
import { WasmtimeError } from "../errors.ts";

/** Writes the JS value as a `wasmtime_component_val_t` at `offset` of `view` (arena memory). */
export type Lower = (value: unknown, arena: Arena, view: DataView, offset: number) => void;
/** Reads the `wasmtime_component_val_t` at `offset` of `view` (JS memory) as a JS value. */
export type Lift = (view: DataView, offset: number) => unknown;

/**
 * A value did not match its type. `segments` is the path inside the value (`.val`, `[3]`,
 * `.x`), prepended to as the error travels out of nested values.
 */
export class ValuePathError extends TypeError {
  readonly segments: string[] = [];
  readonly detail: string;
  constructor(detail: string) {
    super(detail);
    this.detail = detail;
  }
}

/** Runs `lower` and prefixes `segment` to the path of a mismatch found inside. */
function inside(segment: string, error: unknown): never {
  if (error instanceof ValuePathError) error.segments.unshift(segment);
  throw error;
}

/** Text for a value in an error message: `2**40`, `"abc"`, `an object`. */
export function show(value: unknown): string {
  switch (typeof value) {
    case "number": {
      if (Number.isInteger(value) && Math.abs(value) >= 2 ** 31) {
        const exp = Math.log2(Math.abs(value));
        if (Number.isInteger(exp)) return `${value < 0 ? "-" : ""}2**${exp}`;
      }
      return String(value);
    }
    case "bigint":
      return `${value}n`;
    case "string":
      return value.length > 40 ? `${JSON.stringify(value.slice(0, 40))}...` : JSON.stringify(value);
    case "undefined":
      return "undefined";
    case "object":
      if (value === null) return "null";
      if (Array.isArray(value)) return `an array of ${value.length}`;
      if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
      return "an object";
    default:
      return `a ${typeof value}`;
  }
}

function mismatch(expected: string, value: unknown): never {
  throw new ValuePathError(`expected ${expected}, got ${show(value)}`);
}

/** jco's (heck's) lowerCamelCase of a WIT name: `my-field` → `myField`, `get-URL` → `getUrl`. */
export function camelCase(name: string): string {
  return name.split("-").map((word, i) => {
    const lower = word.toLowerCase();
    return i === 0 ? lower : lower.charAt(0).toUpperCase() + lower.slice(1);
  }).join("");
}

// ---- names written into values: static bytes, kept for the life of the process ---------------

interface StaticName {
  address: number;
  length: number;
}

const names = new Map<string, StaticName>();
const keepAlive: Uint8Array[] = [];

function staticName(name: string): StaticName {
  let entry = names.get(name);
  if (entry === undefined) {
    const bytes = utf8(name);
    const holder = new Uint8Array(Math.max(1, bytes.length));
    holder.set(bytes);
    keepAlive.push(holder);
    entry = {
      address: Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(holder))),
      length: bytes.length,
    };
    names.set(name, entry);
  }
  return entry;
}

function writeName(view: DataView, offset: number, name: StaticName): void {
  setAddress(view, offset, name.length);
  setAddress(view, offset + 8, name.address);
}

// ---- lowering ---------------------------------------------------------------------------------

const INT_RANGES = {
  s8: [-128, 127, WASMTIME_COMPONENT_S8],
  u8: [0, 255, WASMTIME_COMPONENT_U8],
  s16: [-32768, 32767, WASMTIME_COMPONENT_S16],
  u16: [0, 65535, WASMTIME_COMPONENT_U16],
  s32: [-(2 ** 31), 2 ** 31 - 1, WASMTIME_COMPONENT_S32],
  u32: [0, 2 ** 32 - 1, WASMTIME_COMPONENT_U32],
} as const;

const TYPED_ARRAYS = {
  u8: Uint8Array,
  s8: Int8Array,
  u16: Uint16Array,
  s16: Int16Array,
  u32: Uint32Array,
  s32: Int32Array,
  u64: BigUint64Array,
  s64: BigInt64Array,
  f32: Float32Array,
  f64: Float64Array,
} as const;

type TypedArrayKind = keyof typeof TYPED_ARRAYS;

function isTypedArrayKind(kind: string): kind is TypedArrayKind {
  return Object.hasOwn(TYPED_ARRAYS, kind);
}

/** Whether a value of `type` owns native memory once Wasmtime has written it (results). */
export function ownsMemory(type: ComponentValType): boolean {
  switch (type.kind) {
    case "bool":
    case "s8":
    case "u8":
    case "s16":
    case "u16":
    case "s32":
    case "u32":
    case "s64":
    case "u64":
    case "f32":
    case "f64":
    case "char":
      return false;
    default:
      return true;
  }
}

/**
 * The marshalling of `own<R>` / `borrow<R>`, filled by resource.ts when it loads: a handle's JS
 * value depends on the instance or linker the function is compiled for, which resource.ts knows
 * (values.ts stays free of store and instance state).
 */
export const resourceMarshal: {
  lower?: (type: ComponentResourceType) => Lower;
  lift?: (type: ComponentResourceType) => Lift;
} = {};

function unsupported(type: ComponentValType): never {
  const what = type.kind === "own" || type.kind === "borrow"
    ? "resources (own/borrow) are not supported yet"
    : `${type.kind} values are not supported by this binding`;
  throw new WasmtimeError(`component values: ${what}`);
}

/** Compiles the lowering of `type`. Throws for types the binding cannot marshal. */
export function lowerer(type: ComponentValType): Lower {
  switch (type.kind) {
    case "bool":
      return (v, _a, view, o) => {
        if (typeof v !== "boolean") mismatch("bool", v);
        view.setUint8(o, WASMTIME_COMPONENT_BOOL);
        view.setUint8(o + OF, v ? 1 : 0);
      };
    case "s8":
    case "u8":
    case "s16":
    case "u16":
    case "s32":
    case "u32": {
      const [min, max, kind] = INT_RANGES[type.kind];
      const name = type.kind;
      const size = kind === WASMTIME_COMPONENT_S8 || kind === WASMTIME_COMPONENT_U8
        ? 1
        : kind === WASMTIME_COMPONENT_S16 || kind === WASMTIME_COMPONENT_U16
        ? 2
        : 4;
      return (v, _a, view, o) => {
        if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
          mismatch(name, v);
        }
        view.setUint8(o, kind);
        if (size === 4) view.setUint32(o + OF, v >>> 0, true);
        else if (size === 2) view.setUint16(o + OF, v & 0xffff, true);
        else view.setUint8(o + OF, v & 0xff);
      };
    }
    case "s64":
      return (v, _a, view, o) => {
        if (typeof v !== "bigint" || BigInt.asIntN(64, v) !== v) mismatch("s64 (a bigint)", v);
        view.setUint8(o, WASMTIME_COMPONENT_S64);
        view.setBigInt64(o + OF, v, true);
      };
    case "u64":
      return (v, _a, view, o) => {
        if (typeof v !== "bigint" || BigInt.asUintN(64, v) !== v) mismatch("u64 (a bigint)", v);
        view.setUint8(o, WASMTIME_COMPONENT_U64);
        view.setBigUint64(o + OF, v, true);
      };
    case "f32":
      return (v, _a, view, o) => {
        if (typeof v !== "number") mismatch("f32 (a number)", v);
        view.setUint8(o, WASMTIME_COMPONENT_F32);
        view.setFloat32(o + OF, v, true);
      };
    case "f64":
      return (v, _a, view, o) => {
        if (typeof v !== "number") mismatch("f64 (a number)", v);
        view.setUint8(o, WASMTIME_COMPONENT_F64);
        view.setFloat64(o + OF, v, true);
      };
    case "char":
      return (v, _a, view, o) => {
        const code = typeof v === "string" ? v.codePointAt(0) : undefined;
        if (
          code === undefined || v !== String.fromCodePoint(code) ||
          (code >= 0xd800 && code <= 0xdfff)
        ) {
          mismatch("char (a string of one Unicode scalar value)", v);
        }
        view.setUint8(o, WASMTIME_COMPONENT_CHAR);
        view.setUint32(o + OF, code, true);
      };
    case "string":
      return (v, arena, view, o) => {
        if (typeof v !== "string") mismatch("string", v);
        if (!v.isWellFormed()) {
          throw new ValuePathError(`expected string, got a string with a lone surrogate`);
        }
        view.setUint8(o, WASMTIME_COMPONENT_STRING);
        writeString(v, arena, view, o + OF);
      };
    case "list":
      return listLowerer(type.element);
    case "record": {
      const fields = type.fields.map((f) => ({
        key: camelCase(f.name),
        name: staticName(f.name),
        lower: lowerer(f.type),
      }));
      const count = fields.length;
      return (v, arena, view, o) => {
        if (typeof v !== "object" || v === null || Array.isArray(v)) {
          mismatch("a record (object)", v);
        }
        const at = arena.alloc(count * COMPONENT_RECORD_ENTRY_SIZE);
        const entries = arena.view;
        const base = arena.base;
        for (let i = 0; i < count; i++) {
          const field = fields[i];
          const entry = at + i * COMPONENT_RECORD_ENTRY_SIZE;
          writeName(entries, entry, field.name);
          const value = (v as Record<string, unknown>)[field.key];
          try {
            if (value === undefined && !(field.key in v)) {
              throw new ValuePathError(`missing field ${field.key}`);
            }
            field.lower(value, arena, entries, entry + COMPONENT_RECORD_ENTRY_VAL_OFFSET);
          } catch (error) {
            inside(`.${field.key}`, error);
          }
        }
        view.setUint8(o, WASMTIME_COMPONENT_RECORD);
        setAddress(view, o + OF, count);
        setAddress(view, o + OF + 8, base + at);
      };
    }
    case "tuple": {
      const items = type.types.map(lowerer);
      const count = items.length;
      return (v, arena, view, o) => {
        if (!Array.isArray(v) || v.length !== count) mismatch(`a tuple (array of ${count})`, v);
        const at = arena.alloc(count * VAL);
        const elements = arena.view;
        const base = arena.base;
        for (let i = 0; i < count; i++) {
          try {
            items[i](v[i], arena, elements, at + i * VAL);
          } catch (error) {
            inside(`[${i}]`, error);
          }
        }
        view.setUint8(o, WASMTIME_COMPONENT_TUPLE);
        setAddress(view, o + OF, count);
        setAddress(view, o + OF + 8, base + at);
      };
    }
    case "variant": {
      const cases = new Map(type.cases.map((c) => [c.name, {
        name: staticName(c.name),
        lower: c.type ? lowerer(c.type) : undefined,
      }]));
      const tags = type.cases.map((c) => JSON.stringify(c.name)).join(" | ");
      return (v, arena, view, o) => {
        const tag = typeof v === "object" && v !== null ? (v as { tag?: unknown }).tag : undefined;
        const c = typeof tag === "string" ? cases.get(tag) : undefined;
        if (c === undefined) {
          if (typeof v !== "object" || v === null) mismatch(`a variant ({ tag, val })`, v);
          throw new ValuePathError(`expected tag ${tags}, got ${show(tag)}`);
        }
        view.setUint8(o, WASMTIME_COMPONENT_VARIANT);
        writeName(view, o + OF, c.name);
        writePayload(
          c.lower,
          (v as { val?: unknown }).val,
          arena,
          view,
          o + COMPONENT_VARIANT_VAL_OFFSET,
          ".val",
        );
      };
    }
    case "enum": {
      const cases = new Map(type.names.map((n) => [n, staticName(n)]));
      const all = type.names.map((n) => JSON.stringify(n)).join(" | ");
      return (v, _a, view, o) => {
        const name = typeof v === "string" ? cases.get(v) : undefined;
        if (name === undefined) mismatch(`enum ${all}`, v);
        view.setUint8(o, WASMTIME_COMPONENT_ENUM);
        writeName(view, o + OF, name);
      };
    }
    case "flags": {
      const flags = type.names.map((n) => ({ key: camelCase(n), name: staticName(n) }));
      return (v, arena, view, o) => {
        if (typeof v !== "object" || v === null || Array.isArray(v)) {
          mismatch("flags (an object of booleans)", v);
        }
        const set: StaticName[] = [];
        for (const flag of flags) {
          const on = (v as Record<string, unknown>)[flag.key];
          if (on !== undefined && typeof on !== "boolean") {
            inside(`.${flag.key}`, new ValuePathError(`expected boolean, got ${show(on)}`));
          }
          if (on) set.push(flag.name);
        }
        const at = arena.alloc(set.length * 16);
        const list = arena.view;
        for (let i = 0; i < set.length; i++) writeName(list, at + i * 16, set[i]);
        view.setUint8(o, WASMTIME_COMPONENT_FLAGS);
        setAddress(view, o + OF, set.length);
        setAddress(view, o + OF + 8, arena.base + at);
      };
    }
    case "option": {
      const inner = lowerer(type.type);
      // jco: option<T> is T or undefined, except that an option whose payload is itself an
      // option is written { tag: "some", val } / { tag: "none" } (undefined would be ambiguous).
      const nested = maybeNone(type.type);
      return (v, arena, view, o) => {
        view.setUint8(o, WASMTIME_COMPONENT_OPTION);
        if (v === undefined || v === null) {
          setAddress(view, o + OF, 0);
          return;
        }
        if (!nested) {
          writePayload(inner, v, arena, view, o + OF, "");
          return;
        }
        const tag = typeof v === "object" ? (v as { tag?: unknown }).tag : undefined;
        if (tag === "none") setAddress(view, o + OF, 0);
        else if (tag === "some") {
          writePayload(inner, (v as { val?: unknown }).val, arena, view, o + OF, ".val");
        } else mismatch(`{ tag: "some", val } or { tag: "none" } (a nested option)`, v);
      };
    }
    case "result": {
      const ok = type.ok ? lowerer(type.ok) : undefined;
      const err = type.err ? lowerer(type.err) : undefined;
      return (v, arena, view, o) => {
        const tag = typeof v === "object" && v !== null ? (v as { tag?: unknown }).tag : undefined;
        if (tag !== "ok" && tag !== "err") mismatch(`{ tag: "ok" | "err", val } (a result)`, v);
        view.setUint8(o, WASMTIME_COMPONENT_RESULT);
        view.setUint8(o + OF, tag === "ok" ? 1 : 0);
        const val = (v as { val?: unknown }).val;
        writePayload(
          tag === "ok" ? ok : err,
          val,
          arena,
          view,
          o + COMPONENT_RESULT_VAL_OFFSET,
          ".val",
        );
      };
    }
    case "own":
    case "borrow":
      return resourceMarshal.lower?.(type) ?? unsupported(type);
    default:
      return unsupported(type);
  }
}

/** Whether jco writes `option<type>`'s some as `{ tag: "some", val }` (none would be ambiguous). */
function maybeNone(type: ComponentValType): boolean {
  return type.kind === "option";
}

/** Writes an optional payload: a pointer to a new value in the arena, or null. */
function writePayload(
  lower: Lower | undefined,
  value: unknown,
  arena: Arena,
  view: DataView,
  pointerOffset: number,
  segment: string,
): void {
  if (lower === undefined) {
    setAddress(view, pointerOffset, 0);
    return;
  }
  const at = arena.alloc(VAL);
  const payload = arena.view;
  const base = arena.base;
  try {
    lower(value, arena, payload, at);
  } catch (error) {
    inside(segment, error);
  }
  setAddress(view, pointerOffset, base + at);
}

const encoder = new TextEncoder();

/** Writes `text` (well-formed) into the arena and its `{size, data}` vec at `offset`. */
function writeString(text: string, arena: Arena, view: DataView, offset: number): void {
  const max = text.length * 3;
  const at = arena.alloc(max);
  const { written } = encoder.encodeInto(text, arena.bytes.subarray(at, at + max));
  setAddress(view, offset, written);
  setAddress(view, offset + 8, arena.base + at);
}

function listLowerer(element: ComponentValType): Lower {
  const lowerElement = lowerer(element);
  const kind = element.kind;
  const Typed = isTypedArrayKind(kind) ? TYPED_ARRAYS[kind] : undefined;
  const write = (v: ArrayLike<unknown>, arena: Arena, view: DataView, o: number) => {
    const count = v.length;
    const at = arena.alloc(count * VAL);
    const elements = arena.view;
    const base = arena.base;
    for (let i = 0; i < count; i++) {
      try {
        lowerElement(v[i], arena, elements, at + i * VAL);
      } catch (error) {
        inside(`[${i}]`, error);
      }
    }
    view.setUint8(o, WASMTIME_COMPONENT_LIST);
    setAddress(view, o + OF, count);
    setAddress(view, o + OF + 8, base + at);
  };
  return (v, arena, view, o) => {
    if (Array.isArray(v) || (Typed !== undefined && v instanceof Typed)) {
      write(v as ArrayLike<unknown>, arena, view, o);
      return;
    }
    mismatch(Typed ? `${Typed.name} or an array` : "an array", v);
  };
}

// ---- lifting ----------------------------------------------------------------------------------

/** Copies the `count` values at native `address` into JS memory. */
function nativeValues(address: number, count: number, size = VAL): DataView {
  const bytes = copyNative(address, count * size);
  return new DataView(bytes.buffer);
}

/** Compiles the lifting of `type`. */
export function lifter(type: ComponentValType): Lift {
  switch (type.kind) {
    case "bool":
      return (view, o) => view.getUint8(o + OF) !== 0;
    case "s8":
      return (view, o) => view.getInt8(o + OF);
    case "u8":
      return (view, o) => view.getUint8(o + OF);
    case "s16":
      return (view, o) => view.getInt16(o + OF, true);
    case "u16":
      return (view, o) => view.getUint16(o + OF, true);
    case "s32":
      return (view, o) => view.getInt32(o + OF, true);
    case "u32":
      return (view, o) => view.getUint32(o + OF, true);
    case "s64":
      return (view, o) => view.getBigInt64(o + OF, true);
    case "u64":
      return (view, o) => view.getBigUint64(o + OF, true);
    case "f32":
      return (view, o) => view.getFloat32(o + OF, true);
    case "f64":
      return (view, o) => view.getFloat64(o + OF, true);
    case "char":
      return (view, o) => String.fromCodePoint(view.getUint32(o + OF, true));
    case "string":
      return (view, o) => nativeString(getAddress(view, o + OF + 8), getAddress(view, o + OF));
    case "list": {
      const element = type.element;
      const liftElement = lifter(element);
      const kind = element.kind;
      if (isTypedArrayKind(kind)) {
        const Typed = TYPED_ARRAYS[kind];
        return (view, o) => {
          const count = getAddress(view, o + OF);
          const out = new Typed(count);
          if (count === 0) return out;
          const values = nativeValues(getAddress(view, o + OF + 8), count);
          const target = out as unknown as unknown[];
          for (let i = 0; i < count; i++) target[i] = liftElement(values, i * VAL);
          return out;
        };
      }
      return (view, o) => {
        const count = getAddress(view, o + OF);
        const out = new Array(count);
        if (count === 0) return out;
        const values = nativeValues(getAddress(view, o + OF + 8), count);
        for (let i = 0; i < count; i++) out[i] = liftElement(values, i * VAL);
        return out;
      };
    }
    case "record": {
      const fields = type.fields.map((f) => ({ key: camelCase(f.name), lift: lifter(f.type) }));
      return (view, o) => {
        const count = getAddress(view, o + OF);
        const entries = nativeValues(
          getAddress(view, o + OF + 8),
          count,
          COMPONENT_RECORD_ENTRY_SIZE,
        );
        const out: Record<string, unknown> = {};
        // Wasmtime writes the fields in the type's order.
        for (let i = 0; i < fields.length; i++) {
          out[fields[i].key] = fields[i].lift(
            entries,
            i * COMPONENT_RECORD_ENTRY_SIZE + COMPONENT_RECORD_ENTRY_VAL_OFFSET,
          );
        }
        return out;
      };
    }
    case "tuple": {
      const items = type.types.map(lifter);
      return (view, o) => {
        const values = nativeValues(getAddress(view, o + OF + 8), items.length);
        return items.map((lift, i) => lift(values, i * VAL));
      };
    }
    case "variant": {
      const cases = new Map(type.cases.map((c) => [c.name, c.type ? lifter(c.type) : undefined]));
      return (view, o) => {
        const tag = nativeString(getAddress(view, o + OF + 8), getAddress(view, o + OF));
        const lift = cases.get(tag);
        const payload = getAddress(view, o + COMPONENT_VARIANT_VAL_OFFSET);
        if (lift === undefined || payload === 0) return { tag };
        return { tag, val: lift(nativeValues(payload, 1), 0) };
      };
    }
    case "enum":
      return (view, o) => nativeString(getAddress(view, o + OF + 8), getAddress(view, o + OF));
    case "flags": {
      const keys = new Map(type.names.map((n) => [n, camelCase(n)]));
      return (view, o) => {
        const out: Record<string, boolean> = {};
        for (const key of keys.values()) out[key] = false;
        const count = getAddress(view, o + OF);
        if (count === 0) return out;
        const list = nativeValues(getAddress(view, o + OF + 8), count, 16);
        for (let i = 0; i < count; i++) {
          const name = nativeString(getAddress(list, i * 16 + 8), getAddress(list, i * 16));
          const key = keys.get(name);
          if (key !== undefined) out[key] = true;
        }
        return out;
      };
    }
    case "option": {
      const inner = lifter(type.type);
      const nested = maybeNone(type.type);
      return (view, o) => {
        const payload = getAddress(view, o + OF);
        if (payload === 0) return nested ? { tag: "none" } : undefined;
        const value = inner(nativeValues(payload, 1), 0);
        return nested ? { tag: "some", val: value } : value;
      };
    }
    case "result": {
      const ok = type.ok ? lifter(type.ok) : undefined;
      const err = type.err ? lifter(type.err) : undefined;
      return (view, o) => {
        const isOk = view.getUint8(o + OF) !== 0;
        const lift = isOk ? ok : err;
        const payload = getAddress(view, o + COMPONENT_RESULT_VAL_OFFSET);
        const val = lift === undefined || payload === 0
          ? undefined
          : lift(nativeValues(payload, 1), 0);
        return { tag: isOk ? "ok" : "err", val };
      };
    }
    case "own":
    case "borrow":
      return resourceMarshal.lift?.(type) ?? unsupported(type);
    default:
      return unsupported(type);
  }
}
