/**
 * WebAssembly types as plain JS descriptors, and their conversion to and from Wasmtime's type
 * objects. Value types are read through `wasmtime_valtype_t`, never `wasm_valtype_kind`,
 * which aborts the process on v128 and typed references.
 *
 * @module
 */
import {
  nativeVecParts,
  newVec,
  OutCell,
  pointerArray,
  pointerBits,
  pointerFromBits,
  readName,
  readPointers,
  vecParts,
} from "../ffi/raw.ts";
import { WasmtimeError } from "../errors.ts";
import { check } from "./failure.ts";
import { ffi } from "../ffi/symbols.ts";
import { disposedError, Handle } from "../ffi/handle.ts";
import { type Engine, enginePointer } from "./engine.ts";
import {
  FIELD_TYPE_MUTABLE_OFFSET,
  FIELD_TYPE_SIZE,
  FIELD_TYPE_STORAGE_KIND_OFFSET,
  FIELD_TYPE_VALTYPE_OFFSET,
  LIMITS_MAX_OFFSET,
  LIMITS_MIN_OFFSET,
  LIMITS_SIZE,
  REF_MATCH_YES,
  TABLE_LIMITS_HAS_MAXIMUM,
  TABLE_LIMITS_IS_64,
  TABLE_LIMITS_MAXIMUM,
  TABLE_LIMITS_MINIMUM,
  TABLE_LIMITS_SIZE,
  VALTYPE_HEAP_KIND_OFFSET,
  VALTYPE_HEAP_OF_OFFSET,
  VALTYPE_NULLABLE_OFFSET,
  VALTYPE_SIZE,
  WASM_CONST,
  WASM_EXTERN_FUNC,
  WASM_EXTERN_GLOBAL,
  WASM_EXTERN_MEMORY,
  WASM_EXTERN_TABLE,
  WASM_EXTERN_TAG,
  WASM_EXTERNREF,
  WASM_F32,
  WASM_F64,
  WASM_FUNCREF,
  WASM_I32,
  WASM_I64,
  WASM_LIMITS_MAX_DEFAULT,
  WASM_VAR,
  WASMTIME_HEAPTYPE_KIND_ANY,
  WASMTIME_HEAPTYPE_KIND_ARRAY,
  WASMTIME_HEAPTYPE_KIND_CONCRETE_ARRAY,
  WASMTIME_HEAPTYPE_KIND_CONCRETE_EXN,
  WASMTIME_HEAPTYPE_KIND_CONCRETE_FUNC,
  WASMTIME_HEAPTYPE_KIND_CONCRETE_STRUCT,
  WASMTIME_HEAPTYPE_KIND_EQ,
  WASMTIME_HEAPTYPE_KIND_EXN,
  WASMTIME_HEAPTYPE_KIND_EXTERN,
  WASMTIME_HEAPTYPE_KIND_FUNC,
  WASMTIME_HEAPTYPE_KIND_I31,
  WASMTIME_HEAPTYPE_KIND_NOEXN,
  WASMTIME_HEAPTYPE_KIND_NOEXTERN,
  WASMTIME_HEAPTYPE_KIND_NOFUNC,
  WASMTIME_HEAPTYPE_KIND_NONE,
  WASMTIME_HEAPTYPE_KIND_STRUCT,
  WASMTIME_STORAGE_TYPE_KIND_I16,
  WASMTIME_STORAGE_TYPE_KIND_I8,
  WASMTIME_VALTYPE_KIND_F32,
  WASMTIME_VALTYPE_KIND_F64,
  WASMTIME_VALTYPE_KIND_I32,
  WASMTIME_VALTYPE_KIND_I64,
  WASMTIME_VALTYPE_KIND_REF,
  WASMTIME_VALTYPE_KIND_V128,
} from "../ffi/layout.ts";

/**
 * A WebAssembly value type. Numbers and `v128`, the abstract nullable references by their
 * usual names (`funcref`, `externref`, `anyref`, ...), and anything else (non-nullable or
 * concrete references) in text-format notation such as `"(ref func)"`. Concrete types read
 * from Wasmtime spell out their structure (`"(ref null (struct (field i32) (field (mut i8))))"`);
 * a concrete type made from JS is named by its {@linkcode StructType.ref} /
 * {@linkcode ArrayType.ref} (`"(ref $struct:1)"`).
 *
 * @example
 * ```ts
 * import { FuncType, type ValType } from "@wasmtime-deno/wasmtime";
 * const params: ValType[] = ["i32", "i64", "externref"];
 * using type = new FuncType(params, ["f64"]);
 * ```
 */
export type ValType =
  | "i32"
  | "i64"
  | "f32"
  | "f64"
  | "v128"
  | "funcref"
  | "externref"
  | "anyref"
  | "eqref"
  | "i31ref"
  | "structref"
  | "arrayref"
  | "exnref"
  | "nullref"
  | "nullfuncref"
  | "nullexternref"
  | "nullexnref"
  | `(ref ${string})`;

/**
 * The value types the binding can create (host function signatures, globals, tables, tags):
 * numbers, v128, and every abstract reference type, by its shorthand or as `(ref [null] heap)`.
 * Concrete struct and array references are named by the `ref()` of a `StructType` or
 * `ArrayType` made for the same engine.
 */
export const SUPPORTED_VALTYPES: readonly ValType[] = [
  "i32",
  "i64",
  "f32",
  "f64",
  "v128",
  "funcref",
  "externref",
  "anyref",
  "eqref",
  "i31ref",
  "structref",
  "arrayref",
  "exnref",
  "nullref",
  "nullfuncref",
  "nullexternref",
  "nullexnref",
];

/** Text-format names of the heap types, by `wasmtime_heaptype_kind_t`. */
const HEAP_TYPE_NAMES: Record<number, string> = {
  [WASMTIME_HEAPTYPE_KIND_EXTERN]: "extern",
  [WASMTIME_HEAPTYPE_KIND_NOEXTERN]: "noextern",
  [WASMTIME_HEAPTYPE_KIND_FUNC]: "func",
  [WASMTIME_HEAPTYPE_KIND_CONCRETE_FUNC]: "(concrete func)",
  [WASMTIME_HEAPTYPE_KIND_NOFUNC]: "nofunc",
  [WASMTIME_HEAPTYPE_KIND_ANY]: "any",
  [WASMTIME_HEAPTYPE_KIND_NONE]: "none",
  [WASMTIME_HEAPTYPE_KIND_EQ]: "eq",
  [WASMTIME_HEAPTYPE_KIND_I31]: "i31",
  [WASMTIME_HEAPTYPE_KIND_ARRAY]: "array",
  [WASMTIME_HEAPTYPE_KIND_CONCRETE_ARRAY]: "(concrete array)",
  [WASMTIME_HEAPTYPE_KIND_STRUCT]: "struct",
  [WASMTIME_HEAPTYPE_KIND_CONCRETE_STRUCT]: "(concrete struct)",
  [WASMTIME_HEAPTYPE_KIND_EXN]: "exn",
  [WASMTIME_HEAPTYPE_KIND_CONCRETE_EXN]: "(concrete exn)",
  [WASMTIME_HEAPTYPE_KIND_NOEXN]: "noexn",
};
const NULLABLE_SHORTHANDS: Record<string, ValType> = {
  extern: "externref",
  noextern: "nullexternref",
  func: "funcref",
  nofunc: "nullfuncref",
  any: "anyref",
  none: "nullref",
  eq: "eqref",
  i31: "i31ref",
  array: "arrayref",
  struct: "structref",
  exn: "exnref",
  noexn: "nullexnref",
};
/** The numeric value types, by `wasmtime_valtype_kind_t`. */
const NUMERIC: Record<number, ValType> = {
  [WASMTIME_VALTYPE_KIND_I32]: "i32",
  [WASMTIME_VALTYPE_KIND_I64]: "i64",
  [WASMTIME_VALTYPE_KIND_F32]: "f32",
  [WASMTIME_VALTYPE_KIND_F64]: "f64",
  [WASMTIME_VALTYPE_KIND_V128]: "v128",
};

/**
 * How many nested field and element types one reading spells out. A concrete type can refer to
 * itself (a linked list) or to types with thousands of fields, so nesting stops at a depth and a
 * budget, and what is left reads as `(concrete struct)` / `(concrete array)`.
 */
const NESTED_DEPTH = 3;
const NESTED_BUDGET = 256;

/**
 * Reads a borrowed `wasm_valtype_t *`. With the `engine` it belongs to, a concrete struct or
 * array type reads as its name in that engine (`(ref $struct:3)`, see
 * {@linkcode canonicalName}); without, it is spelled out (to a bounded depth).
 */
export function readValType(valtype: Deno.PointerObject, engine?: object): ValType {
  if (engine !== undefined) {
    const named = namedValType(valtype, engine);
    if (named !== undefined) return named;
  }
  return describeValType(valtype, 0, { left: NESTED_BUDGET });
}

/** `(ref [null] $struct:N)` for a concrete struct or array type of `engine`, else undefined. */
function namedValType(valtype: Deno.PointerObject, engine: object): ValType | undefined {
  const scratch = new Uint8Array(VALTYPE_SIZE);
  ffi().wasmtime_valtype_new(valtype, scratch);
  try {
    if (scratch[0] !== WASMTIME_VALTYPE_KIND_REF) return undefined;
    const heapKind = scratch[VALTYPE_HEAP_KIND_OFFSET];
    if (
      heapKind !== WASMTIME_HEAPTYPE_KIND_CONCRETE_STRUCT &&
      heapKind !== WASMTIME_HEAPTYPE_KIND_CONCRETE_ARRAY
    ) {
      return undefined;
    }
    const of = pointerFromBits(
      new DataView(scratch.buffer).getBigUint64(VALTYPE_HEAP_OF_OFFSET, true),
    )!;
    const nullable = scratch[VALTYPE_NULLABLE_OFFSET] !== 0;
    return `(ref ${nullable ? "null " : ""}${canonicalName(engine, heapKind, of)})`;
  } finally {
    ffi().wasmtime_valtype_delete(scratch);
  }
}

function describeValType(
  valtype: Deno.PointerObject,
  depth: number,
  budget: { left: number },
): ValType {
  const scratch = new Uint8Array(VALTYPE_SIZE);
  ffi().wasmtime_valtype_new(valtype, scratch);
  try {
    const kind = scratch[0];
    // The numeric kinds all come before WASMTIME_VALTYPE_KIND_REF.
    if (kind < WASMTIME_VALTYPE_KIND_REF) return NUMERIC[kind];
    const nullable = scratch[VALTYPE_NULLABLE_OFFSET] !== 0;
    const heapKind = scratch[VALTYPE_HEAP_KIND_OFFSET];
    let heap = HEAP_TYPE_NAMES[heapKind] ?? "?";
    const of = pointerFromBits(
      new DataView(scratch.buffer).getBigUint64(VALTYPE_HEAP_OF_OFFSET, true),
    );
    if (of !== null && depth < NESTED_DEPTH && budget.left > 0) {
      if (heapKind === WASMTIME_HEAPTYPE_KIND_CONCRETE_STRUCT) {
        heap = describeStruct(of, depth + 1, budget);
      } else if (heapKind === WASMTIME_HEAPTYPE_KIND_CONCRETE_ARRAY) {
        heap = describeArray(of, depth + 1, budget);
      }
    }
    return nullable && NULLABLE_SHORTHANDS[heap]
      ? NULLABLE_SHORTHANDS[heap]
      : `(ref ${nullable ? "null " : ""}${heap})`;
  } finally {
    ffi().wasmtime_valtype_delete(scratch);
  }
}

/** Text-format notation of a filled `wasmtime_field_type_t` (then freed). */
function describeField(field: Uint8Array<ArrayBuffer>, depth: number, budget: { left: number }) {
  try {
    budget.left--;
    const storage = field[FIELD_TYPE_STORAGE_KIND_OFFSET];
    const type = storage === WASMTIME_STORAGE_TYPE_KIND_I8
      ? "i8"
      : storage === WASMTIME_STORAGE_TYPE_KIND_I16
      ? "i16"
      : describeValType(
        pointerFromBits(
          new DataView(field.buffer).getBigUint64(FIELD_TYPE_VALTYPE_OFFSET, true),
        )!,
        depth,
        budget,
      );
    return field[FIELD_TYPE_MUTABLE_OFFSET] !== 0 ? `(mut ${type})` : type;
  } finally {
    ffi().wasmtime_field_type_delete(field);
  }
}

/** `(struct (field t)...)` for a borrowed `wasmtime_struct_type_t *`. */
export function describeStruct(
  type: Deno.PointerObject,
  depth = 1,
  budget = { left: NESTED_BUDGET },
): string {
  const count = Number(ffi().wasmtime_struct_type_num_fields(type));
  const fields: string[] = [];
  const field = new Uint8Array(FIELD_TYPE_SIZE);
  for (let i = 0; i < count; i++) {
    if (!ffi().wasmtime_struct_type_field(type, BigInt(i), field)) break;
    fields.push(` (field ${describeField(field, depth, budget)})`);
  }
  return `(struct${fields.join("")})`;
}

/** `(array t)` for a borrowed `wasmtime_array_type_t *`. */
export function describeArray(
  type: Deno.PointerObject,
  depth = 1,
  budget = { left: NESTED_BUDGET },
): string {
  const field = new Uint8Array(FIELD_TYPE_SIZE);
  ffi().wasmtime_array_type_element(type, field);
  return `(array ${describeField(field, depth, budget)})`;
}

/**
 * Package-private: a struct, array or function type made from JS, found by the name its
 * `ref()` value types carry. `engine` is the Engine it was made for (null for a FuncType, which
 * makes one native type per engine); `nativePointer` its native type for `engine`.
 */
export interface ConcreteType {
  readonly engine: object | null;
  readonly heapKind: number;
  nativePointer(action: string, engine: object): Deno.PointerObject;
}

/** The concrete types made from JS, by name; weak, so a dropped type can be collected. */
const concreteTypes = new Map<string, WeakRef<ConcreteType>>();
const forgetConcrete = new FinalizationRegistry<string>((name) => {
  if (concreteTypes.get(name)?.deref() === undefined) concreteTypes.delete(name);
});
let concreteCount = 0;

// ---- canonical names of struct and array types ------------------------------------------------

/**
 * One struct or array type of one engine, under its name: an owned `wasmtime_valtype_t`
 * `(ref $t)` holding the native type. Held strongly by its engine's table (so a name read from
 * a module keeps resolving while the Engine object lives), weakly by the name registry.
 */
interface Canonical extends ConcreteType {
  readonly engine: object;
  readonly name: string;
  /** The native `wasmtime_struct_type_t *` / `wasmtime_array_type_t *`. */
  readonly pointer: Deno.PointerObject;
}

/** Each engine's canonical types, by their spelled-out text (equal types spell the same). */
const canonicalTypes = new WeakMap<object, Map<string, Canonical[]>>();
const freeCanonical = new FinalizationRegistry<Uint8Array<ArrayBuffer>>((owned) =>
  ffi().wasmtime_valtype_delete(owned)
);

/** A `wasmtime_valtype_t` `(ref $t)` in JS memory borrowing the native type `pointer`. */
function borrowedRef(heapKind: number, pointer: Deno.PointerObject): Uint8Array<ArrayBuffer> {
  const valtype = new Uint8Array(VALTYPE_SIZE);
  valtype[0] = WASMTIME_VALTYPE_KIND_REF;
  valtype[VALTYPE_HEAP_KIND_OFFSET] = heapKind;
  new DataView(valtype.buffer).setBigUint64(VALTYPE_HEAP_OF_OFFSET, pointerBits(pointer), true);
  return valtype;
}

/** Fields of a struct type that {@linkcode shallowKey} reads. */
const KEY_FIELDS = 8;

/**
 * A cheap key equal types share: the kind, the field count and the first fields' types, nested
 * types as their kind only (so a key is a few FFI calls, whatever the type's size or recursion).
 */
function shallowKey(heapKind: number, pointer: Deno.PointerObject): string {
  const budget = { left: KEY_FIELDS };
  if (heapKind !== WASMTIME_HEAPTYPE_KIND_CONCRETE_STRUCT) {
    return describeArray(pointer, NESTED_DEPTH, budget);
  }
  const count = Number(ffi().wasmtime_struct_type_num_fields(pointer));
  const fields: string[] = [String(count)];
  const field = new Uint8Array(FIELD_TYPE_SIZE);
  for (let i = 0; i < Math.min(count, KEY_FIELDS); i++) {
    if (!ffi().wasmtime_struct_type_field(pointer, BigInt(i), field)) break;
    fields.push(describeField(field, NESTED_DEPTH, budget));
  }
  return fields.join(" ");
}

/** Whether two native struct (or array) types of one engine are the same type. */
function sameType(heapKind: number, a: Deno.PointerObject, b: Deno.PointerObject): boolean {
  const left = ffi().wasmtime_valtype_to_wasm(null, borrowedRef(heapKind, a))!;
  const right = ffi().wasmtime_valtype_to_wasm(null, borrowedRef(heapKind, b))!;
  try {
    return ffi().wasmtime_deno_valtype_matches(left, right, true) === REF_MATCH_YES;
  } finally {
    ffi().wasm_valtype_delete(left);
    ffi().wasm_valtype_delete(right);
  }
}

/**
 * Package-private: the name (`$struct:N` / `$array:N`) of the struct or array type `pointer`
 * (borrowed) of `engine`. Equal types get one name per engine, whether made from JS or read
 * from a module, so value types naming them compare equal as strings; the first time a type
 * is seen, a copy of it is kept under the new name for as long as the Engine object lives.
 */
export function canonicalName(
  engine: object,
  heapKind: number,
  pointer: Deno.PointerObject,
): string {
  const key = shallowKey(heapKind, pointer);
  let table = canonicalTypes.get(engine);
  if (table === undefined) canonicalTypes.set(engine, table = new Map());
  const bucket = table.get(key) ?? [];
  for (const known of bucket) {
    if (known.heapKind === heapKind && sameType(heapKind, known.pointer, pointer)) {
      return known.name;
    }
  }
  const owned = new Uint8Array(VALTYPE_SIZE);
  ffi().wasmtime_valtype_clone(borrowedRef(heapKind, pointer), owned);
  const of = pointerFromBits(
    new DataView(owned.buffer).getBigUint64(VALTYPE_HEAP_OF_OFFSET, true),
  )!;
  const prefix = heapKind === WASMTIME_HEAPTYPE_KIND_CONCRETE_STRUCT ? "struct" : "array";
  const name = `$${prefix}:${++concreteCount}`;
  const canonical: Canonical = { engine, heapKind, name, pointer: of, nativePointer: () => of };
  freeCanonical.register(canonical, owned);
  bucket.push(canonical);
  table.set(key, bucket);
  concreteTypes.set(name, new WeakRef(canonical));
  forgetConcrete.register(canonical, name);
  return name;
}

/**
 * Package-private: the engine, kind and native type a struct or array name stands for, or
 * undefined (not a struct or array name, or its engine is gone).
 */
export function canonicalType(
  name: string,
): { engine: object; heapKind: number; pointer: Deno.PointerObject } | undefined {
  const entry = concreteTypes.get(name)?.deref();
  return entry !== undefined && "pointer" in entry ? entry as Canonical : undefined;
}

/** Package-private: names a new function type (`$func:1`, ...) and registers it. */
export function registerConcreteType(prefix: string, type: ConcreteType): string {
  const name = `$${prefix}:${++concreteCount}`;
  concreteTypes.set(name, new WeakRef(type));
  forgetConcrete.register(type, name);
  return name;
}

/** Package-private: forgets a disposed function type. */
export function unregisterConcreteType(name: string): void {
  concreteTypes.delete(name);
}

const CONCRETE_NAME = /^\(ref (null )?(\$(?:struct|array|func):[0-9]+)\)$/;

/** The concrete type a value type made from JS names, or null if it names none. */
function concreteRef(type: string): { nullable: boolean; name: string } | null {
  const match = CONCRETE_NAME.exec(type);
  return match === null ? null : { nullable: match[1] !== undefined, name: match[2] };
}

const WASM_VALKIND: Partial<Record<ValType, number>> = {
  i32: WASM_I32,
  i64: WASM_I64,
  f32: WASM_F32,
  f64: WASM_F64,
  externref: WASM_EXTERNREF,
  funcref: WASM_FUNCREF,
};

/** `wasmtime_heaptype_kind_t` of each abstract heap type, by its text-format name. */
const ABSTRACT_HEAP_KINDS: Record<string, number> = Object.fromEntries(
  Object.entries(HEAP_TYPE_NAMES).filter(([, name]) => !name.startsWith("(")).map((
    [kind, name],
  ) => [name, Number(kind)]),
);
/** Heap type name of each nullable shorthand (`anyref` -> `any`). */
const SHORTHAND_HEAPS: Record<string, string> = Object.fromEntries(
  Object.entries(NULLABLE_SHORTHANDS).map(([heap, shorthand]) => [shorthand, heap]),
);

/** Nullability and abstract heap kind of a reference type the binding can create, or null. */
function abstractRef(type: string): { nullable: boolean; kind: number } | null {
  const shorthand = SHORTHAND_HEAPS[type];
  if (shorthand !== undefined) return { nullable: true, kind: ABSTRACT_HEAP_KINDS[shorthand] };
  const match = /^\(ref (null )?([a-z0-9]+)\)$/.exec(type);
  const kind = match === null ? undefined : ABSTRACT_HEAP_KINDS[match[2]];
  return kind === undefined ? null : { nullable: match![1] !== undefined, kind };
}

/**
 * A new owned `wasm_valtype_t *` for `type`. A concrete type must have been made for `engine`
 * (the one the native type will be used with): Wasmtime aborts the process on a mix.
 */
export function newValType(type: ValType, engine?: object): Deno.PointerObject {
  if (type === "v128") return ffi().wasmtime_wasm_valtype_v128()!;
  const kind = WASM_VALKIND[type];
  if (kind !== undefined) return ffi().wasm_valtype_new(kind)!;
  const concrete = concreteRef(type);
  if (concrete !== null) {
    const entry = concreteTypes.get(concrete.name)?.deref();
    if (entry === undefined) {
      throw new WasmtimeError(
        `value type ${type}: no live StructType or ArrayType is named ${concrete.name} (it was ` +
          "disposed or collected); keep the type object while value types naming it are used",
      );
    }
    if (engine === undefined || (entry.engine !== null && entry.engine !== engine)) {
      throw new WasmtimeError(
        `value type ${type} names a type made for another Engine; types cannot cross engines, ` +
          "so make the StructType or ArrayType for the engine of this store or linker",
      );
    }
    const valtype = new Uint8Array(VALTYPE_SIZE);
    valtype[0] = WASMTIME_VALTYPE_KIND_REF;
    valtype[VALTYPE_NULLABLE_OFFSET] = concrete.nullable ? 1 : 0;
    valtype[VALTYPE_HEAP_KIND_OFFSET] = entry.heapKind;
    const action = `value type ${type}`;
    new DataView(valtype.buffer).setBigUint64(
      VALTYPE_HEAP_OF_OFFSET,
      pointerBits(entry.nativePointer(action, engine)),
      true,
    );
    // Wasmtime clones the concrete type; the JS object keeps owning its own. A function type
    // is registered with the engine as it is cloned, so that one needs the engine.
    const func = entry.heapKind === WASMTIME_HEAPTYPE_KIND_CONCRETE_FUNC;
    return ffi().wasmtime_valtype_to_wasm(
      func ? enginePointer(engine as Engine, action) : null,
      valtype,
    )!;
  }
  const ref = abstractRef(type);
  if (ref === null) {
    throw new WasmtimeError(
      `value type ${JSON.stringify(type)} is not supported here; use one of ${
        SUPPORTED_VALTYPES.join(", ")
      } or (ref [null] <abstract heap type>)`,
    );
  }
  // Abstract reference types need no engine (only concrete function types would).
  const valtype = new Uint8Array(VALTYPE_SIZE);
  valtype[0] = WASMTIME_VALTYPE_KIND_REF;
  valtype[VALTYPE_NULLABLE_OFFSET] = ref.nullable ? 1 : 0;
  valtype[VALTYPE_HEAP_KIND_OFFSET] = ref.kind;
  return ffi().wasmtime_valtype_to_wasm(null, valtype)!;
}

/** Throws unless `type` is a value type the binding can create. */
export function assertValType(type: unknown, where: string): asserts type is ValType {
  if (
    typeof type !== "string" ||
    (!SUPPORTED_VALTYPES.includes(type as ValType) && abstractRef(type) === null &&
      concreteRef(type) === null)
  ) {
    throw new WasmtimeError(
      `${where}: ${JSON.stringify(type)} is not a value type; use one of ${
        SUPPORTED_VALTYPES.join(", ")
      }, (ref [null] <abstract heap type>) such as "(ref any)", or the ref() of a StructType or ArrayType${
        typeof type === "string" && (type.includes("concrete") || type.includes("(struct") ||
            type.includes("(array") || type.includes("(func"))
          ? " (spelled-out concrete types cannot be used; name them as module.exports and " +
            "Func.type do, e.g. StructType.of(...).ref())"
          : ""
      }`,
    );
  }
}

function readValTypeVec(vec: Deno.PointerValue, engine?: object): ValType[] {
  if (vec === null) return [];
  return readPointers(nativeVecParts(vec)).map((valtype) => readValType(valtype, engine));
}

function newValTypeVec(types: readonly ValType[], engine: object): Uint8Array<ArrayBuffer> {
  const made: Deno.PointerObject[] = [];
  try {
    for (const type of types) made.push(newValType(type, engine));
  } catch (error) {
    for (const valtype of made) ffi().wasm_valtype_delete(valtype);
    throw error;
  }
  const vec = newVec();
  ffi().wasm_valtype_vec_new(vec, BigInt(types.length), pointerArray(made));
  return vec;
}

/** True while {@linkcode readFuncType} constructs a signature Wasmtime described. */
let fromWasmtime = false;

/**
 * Package-private: the native `wasm_functype_t *` of a FuncType for use with `engine`, created
 * on first use (borrowed by the caller; freed with the FuncType). One per engine: Wasmtime binds
 * a native function type to the first engine it is used with and aborts the process if it
 * later meets another.
 */
export let funcTypePointer: (
  type: FuncType,
  engine: object,
  action: string,
) => Deno.PointerObject;

/**
 * A function signature. Owns a native `wasm_functype_t`; dispose it when done, or let the
 * garbage collector do it.
 *
 * @example
 * ```ts
 * import { FuncType } from "@wasmtime-deno/wasmtime";
 * using type = new FuncType(["i32", "i32"], ["i32"]);
 * console.log(type.params, type.results); // ["i32", "i32"] ["i32"]
 * ```
 */
export class FuncType {
  /** Parameter types. */
  readonly params: readonly ValType[];
  /** Result types. */
  readonly results: readonly ValType[];
  /** The native types made so far, one per engine (see funcTypePointer). */
  readonly #handles = new WeakMap<object, Handle>();
  readonly #allHandles: Handle[] = [];
  #disposed = false;
  /** The registry entry behind ref(), made on first use (see registerConcreteType). */
  #entry: ConcreteType | undefined;
  #name: string | undefined;

  /** Creates a signature from parameter and result types. */
  constructor(params: readonly ValType[], results: readonly ValType[]) {
    if (!Array.isArray(params) || !Array.isArray(results)) {
      throw new WasmtimeError("new FuncType(params, results): both must be arrays of value types");
    }
    // Types read from Wasmtime may be any reference type (typed and GC references); only the
    // types the binding can create natively are accepted from callers.
    if (!fromWasmtime) {
      params.forEach((p, i) => assertValType(p, `FuncType parameter ${i}`));
      results.forEach((r, i) => assertValType(r, `FuncType result ${i}`));
    }
    this.params = Object.freeze([...params]);
    this.results = Object.freeze([...results]);
  }

  /** A readable signature, e.g. `(i32, i32) -> (i32)`. */
  toString(): string {
    return `(${this.params.join(", ")}) -> (${this.results.join(", ")})`;
  }

  /**
   * The value type of references to functions of this signature: `(ref $func:N)`, or
   * `(ref null $func:N)` with `nullable: true` (typed function references). Usable with any
   * engine; wasm functions of the same signature (`(type $f (func ...))`, final, no supertype)
   * are of this type.
   *
   * @example
   * ```ts
   * import { Engine, Func, FuncType, Store } from "@wasmtime-deno/wasmtime";
   * using engine = new Engine({ gc: true });
   * using store = new Store(engine);
   * using unary = new FuncType(["i32"], ["i32"]);
   * using apply = new FuncType([unary.ref(), "i32"], ["i32"]);
   * const double = new Func(store, unary, (_caller, x: number) => x * 2);
   * const call = new Func(store, apply, (_caller, f: Func, x: number) => f.call(x));
   * console.log(call.call(double, 21)); // 42
   * ```
   */
  ref(options: { nullable?: boolean } = {}): ValType {
    if (this.#disposed) throw disposedError("FuncType", "ref");
    if (this.#name === undefined) {
      this.#entry = {
        engine: null,
        heapKind: WASMTIME_HEAPTYPE_KIND_CONCRETE_FUNC,
        nativePointer: (action, engine) => funcTypePointer(this, engine, action),
      };
      this.#name = registerConcreteType("func", this.#entry);
    }
    return `(ref ${options.nullable ? "null " : ""}${this.#name})`;
  }

  /** Frees the native signature. Idempotent; value types naming it stop resolving. */
  [Symbol.dispose](): void {
    if (this.#name !== undefined) unregisterConcreteType(this.#name);
    this.#disposed = true;
    for (const handle of this.#allHandles) handle.dispose();
    this.#allHandles.length = 0;
  }

  static {
    funcTypePointer = (type, engine, action) => {
      if (type.#disposed) throw disposedError("FuncType", action);
      let handle = type.#handles.get(engine);
      if (handle === undefined) {
        const params = newValTypeVec(type.params, engine);
        let results;
        try {
          results = newValTypeVec(type.results, engine);
        } catch (error) {
          ffi().wasm_valtype_vec_delete(params);
          throw error;
        }
        handle = new Handle(
          type,
          "FuncType",
          ffi().wasm_functype_new(params, results),
          (p) => ffi().wasm_functype_delete(p),
        );
        type.#handles.set(engine, handle);
        type.#allHandles.push(handle);
      }
      return handle.pointer(action);
    };
  }
}

/**
 * Limits and options of a linear memory.
 *
 * @example
 * ```ts
 * import { Engine, Memory, type MemoryType, Store } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine();
 * using store = new Store(engine);
 * const type: MemoryType = { minimum: 1, maximum: 16 };
 * const memory = new Memory(store, type);
 * ```
 */
export interface MemoryType {
  /**
   * Initial size in pages (V8's `initial`; `minimum` is the name Wasmtime and the JS API's
   * type-reflection proposal use, and the one `module.imports` reports).
   */
  minimum: number;
  /** Maximum size in pages, if bounded. */
  maximum?: number;
  /** A 64-bit memory (memory64 proposal). */
  memory64?: boolean;
  /** A shared memory (threads proposal). */
  shared?: boolean;
  /** log2 of the page size (16 = 64 KiB pages, the default; 0 with custom page sizes). */
  pageSizeLog2?: number;
}

/**
 * Element type and limits of a table.
 *
 * @example
 * ```ts
 * import { Engine, Store, Table, type TableType } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine();
 * using store = new Store(engine);
 * const type: TableType = { element: "funcref", minimum: 4 };
 * const table = new Table(store, type);
 * ```
 */
export interface TableType {
  /** The element type (any reference type). */
  element: ValType;
  /** Initial size in elements (V8's `initial`). */
  minimum: number;
  /** Maximum size in elements, if bounded. */
  maximum?: number;
  /**
   * A 64-bit table (memory64 proposal: indexed by i64). Limits above 2^53 read as the nearest
   * number. Tables made from JS are 32-bit (the C API has no 64-bit table constructor); 64-bit
   * ones come from modules.
   */
  table64?: boolean;
}

/**
 * Content type and mutability of a global.
 *
 * @example
 * ```ts
 * import { Engine, Global, type GlobalType, Store } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine();
 * using store = new Store(engine);
 * const type: GlobalType = { content: "i32", mutable: true };
 * const counter = new Global(store, type, 0);
 * ```
 */
export interface GlobalType {
  /** The value type. */
  content: ValType;
  /** Whether wasm (and the host) may change it. */
  mutable: boolean;
}

/**
 * The type of an import or export.
 *
 * @example
 * ```ts
 * import { Engine, Module } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine();
 * using module = new Module(engine, `(module (memory (export "m") 1))`);
 * const type = module.exports[0].type; // { kind: "memory", minimum: 1, ... }
 * ```
 */
export type ExternType =
  | ({ kind: "func" } & { params: readonly ValType[]; results: readonly ValType[] })
  | ({ kind: "global" } & GlobalType)
  | ({ kind: "table" } & TableType)
  | ({ kind: "memory" } & MemoryType)
  | ({ kind: "tag" } & TagType);

/**
 * The payload types of an exception tag.
 *
 * @example
 * ```ts
 * import { Engine, Store, Tag, type TagType } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine({ exceptions: true });
 * using store = new Store(engine);
 * const type: TagType = { params: ["i32", "externref"] };
 * const tag = new Tag(store, type);
 * ```
 */
export interface TagType {
  /** The types of the values an exception of this tag carries, in order. */
  params: readonly ValType[];
}

/**
 * One import of a module.
 *
 * @example
 * ```ts
 * import { Engine, Module } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine();
 * using module = new Module(engine, `(module (import "env" "f" (func)))`);
 * for (const { module: from, name, type } of module.imports) console.log(from, name, type.kind);
 * ```
 */
export interface ImportType {
  /** The module name of the import. */
  module: string;
  /** The field name of the import. */
  name: string;
  /** What must be supplied. */
  type: ExternType;
}

/**
 * One export of a module.
 *
 * @example
 * ```ts
 * import { Engine, Module } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine();
 * using module = new Module(engine, `(module (func (export "run")))`);
 * console.log(module.exports.map((e) => e.name)); // ["run"]
 * ```
 */
export interface ExportType {
  /** The export name. */
  name: string;
  /** What is exported. */
  type: ExternType;
}

/** log2 of WebAssembly's default page size (64 KiB), also the largest page size allowed. */
/**
 * Reads a borrowed `wasm_functype_t *`; with its `engine`, concrete struct and array types
 * read as their names (see {@linkcode readValType}).
 */
export function readFuncType(functype: Deno.PointerObject, engine?: object): FuncType {
  const params = readValTypeVec(ffi().wasm_functype_params(functype), engine);
  const results = readValTypeVec(ffi().wasm_functype_results(functype), engine);
  fromWasmtime = true;
  try {
    return new FuncType(params, results);
  } finally {
    fromWasmtime = false;
  }
}

export const DEFAULT_PAGE_SIZE_LOG2 = 16;

const maximumOut = new OutCell();

/** Reads a borrowed `wasm_memorytype_t *`. */
export function readMemoryType(type: Deno.PointerObject): MemoryType {
  const result: MemoryType = {
    minimum: Number(ffi().wasmtime_memorytype_minimum(type)),
    memory64: ffi().wasmtime_memorytype_is64(type),
    shared: ffi().wasmtime_memorytype_isshared(type),
    pageSizeLog2: ffi().wasmtime_memorytype_page_size_log2(type),
  };
  if (ffi().wasmtime_memorytype_maximum(type, maximumOut.bytes)) {
    result.maximum = Number(maximumOut.takeU64());
  }
  return result;
}

/**
 * The `TableLimits` a table-limit shim writes (native/src/table_type.rs): the C API's own
 * `wasm_tabletype_limits` aborts the process on a table64 limit above u32::MAX.
 */
const tableLimits = new Uint8Array(TABLE_LIMITS_SIZE);
const tableLimitsView = new DataView(tableLimits.buffer);

/** Fills the limits buffer for one table type; false if there is no such table. */
export type TableLimitsReader = (out: Uint8Array<ArrayBuffer>) => boolean | void;

/**
 * Reads a borrowed `wasm_tabletype_t *`: its element type, and its limits through `limits`
 * (one of the shims, for the table this type describes).
 */
export function readTableType(
  type: Deno.PointerObject,
  limits: TableLimitsReader,
  engine?: object,
): TableType {
  const element = readValType(ffi().wasm_tabletype_element(type)!, engine);
  tableLimits.fill(0);
  if (limits(tableLimits) === false) {
    throw new WasmtimeError("internal: the table type's limits could not be read");
  }
  const result: TableType = {
    element,
    minimum: Number(tableLimitsView.getBigUint64(TABLE_LIMITS_MINIMUM, true)),
  };
  if (tableLimits[TABLE_LIMITS_HAS_MAXIMUM] !== 0) {
    result.maximum = Number(tableLimitsView.getBigUint64(TABLE_LIMITS_MAXIMUM, true));
  }
  if (tableLimits[TABLE_LIMITS_IS_64] !== 0) result.table64 = true;
  return result;
}

/** Reads a borrowed `wasm_globaltype_t *` (of `engine`: see {@linkcode readFuncType}). */
export function readGlobalType(type: Deno.PointerObject, engine?: object): GlobalType {
  return {
    content: readValType(ffi().wasm_globaltype_content(type)!, engine),
    mutable: ffi().wasm_globaltype_mutability(type) === WASM_VAR,
  };
}

/**
 * Reads a borrowed `wasm_externtype_t *`; a table's limits come from `tableLimits` (see
 * {@linkcode readTableType}).
 */
export function readExternType(
  type: Deno.PointerObject,
  tableLimits: TableLimitsReader,
  engine?: object,
): ExternType {
  switch (ffi().wasm_externtype_kind(type)) {
    case WASM_EXTERN_FUNC: {
      const func = readFuncType(ffi().wasm_externtype_as_functype_const(type)!, engine);
      return { kind: "func", params: func.params, results: func.results };
    }
    case WASM_EXTERN_GLOBAL:
      return {
        kind: "global",
        ...readGlobalType(ffi().wasm_externtype_as_globaltype_const(type)!, engine),
      };
    case WASM_EXTERN_TABLE:
      return {
        kind: "table",
        ...readTableType(ffi().wasm_externtype_as_tabletype_const(type)!, tableLimits, engine),
      };
    case WASM_EXTERN_MEMORY:
      return {
        kind: "memory",
        ...readMemoryType(ffi().wasm_externtype_as_memorytype_const(type)!),
      };
    case WASM_EXTERN_TAG:
      return {
        kind: "tag",
        ...readTagType(ffi().wasm_externtype_as_tagtype_const(type)!, engine),
      };
    default:
      throw new WasmtimeError(`unknown extern kind ${ffi().wasm_externtype_kind(type)}`);
  }
}

/** Reads a borrowed `wasm_tagtype_t *`. */
export function readTagType(type: Deno.PointerObject, engine?: object): TagType {
  const func = ffi().wasm_tagtype_functype(type)!;
  return { params: Object.freeze(readValTypeVec(ffi().wasm_functype_params(func), engine)) };
}

/** A new owned `wasm_tagtype_t *` (a fresh one per use: see {@linkcode funcTypePointer}). */
export function newTagType(type: TagType, engine: object): Deno.PointerObject {
  if (typeof type !== "object" || type === null || !Array.isArray(type.params)) {
    throw new WasmtimeError("a tag type is an object with `params`, an array of value types");
  }
  type.params.forEach((p, i) => assertValType(p, `tag parameter ${i}`));
  const functype = ffi().wasm_functype_new(
    newValTypeVec(type.params, engine),
    newValTypeVec([], engine),
  )!;
  return ffi().wasm_tagtype_new(functype)!;
}

/**
 * Checks a limit field: a non-negative safe integer up to `limit`. Native limits are u32 or
 * u64, so anything else would be silently rewritten (-1 → 2^32-1, 2^32+3 → 3, 1.5 → 1).
 */
function checkLimit(value: unknown, what: string, field: string, limit: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0 || value > limit) {
    const got = typeof value === "number" ? String(value) : `a ${typeof value}`;
    throw new WasmtimeError(
      `${what}: \`${field}\` must be an integer from 0 to ${limit}, got ${got}`,
    );
  }
  return value;
}

/** Checks `minimum` and the optional `maximum` of a table or memory type. */
function checkLimits(
  type: { minimum: unknown; maximum?: unknown },
  what: string,
  unit: string,
  limit: number,
): { minimum: number; maximum: number | undefined } {
  if ("initial" in type) {
    // One name, the one module.imports / exports report (and the type-reflection proposal
    // uses), so a type read from a module can be passed back as it is.
    throw new WasmtimeError(
      `${what}: \`initial\` is V8's name for the initial size; here it is \`minimum\` ` +
        `(${unit}), as in the types module.imports and module.exports report`,
    );
  }
  const minimum = checkLimit(type.minimum, what, `minimum (${unit})`, limit);
  if (type.maximum === undefined) return { minimum, maximum: undefined };
  const maximum = checkLimit(type.maximum, what, `maximum (${unit})`, limit);
  if (maximum < minimum) {
    throw new WasmtimeError(
      `${what}: \`maximum\` (${maximum}) must not be less than \`minimum\` (${minimum})`,
    );
  }
  return { minimum, maximum };
}

function checkFlag(value: unknown, what: string, field: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean") {
    throw new WasmtimeError(`${what}: \`${field}\` must be a boolean, got a ${typeof value}`);
  }
  return value;
}

/** A new owned `wasm_memorytype_t *`. */
export function newMemoryType(type: MemoryType): Deno.PointerObject {
  const what = "memory type";
  if (typeof type !== "object" || type === null) {
    throw new WasmtimeError("a memory type is an object with an integer `minimum` (pages)");
  }
  const memory64 = checkFlag(type.memory64, what, "memory64");
  const shared = checkFlag(type.shared, what, "shared");
  const pageSizeLog2 = type.pageSizeLog2 === undefined
    ? DEFAULT_PAGE_SIZE_LOG2
    : checkLimit(type.pageSizeLog2, what, "pageSizeLog2", DEFAULT_PAGE_SIZE_LOG2);
  // The whole address space in pages: 2^32 bytes for 32-bit memories, 2^64 for memory64 (whose
  // page counts are capped at the largest exact number).
  const pages = Math.min(2 ** ((memory64 ? 64 : 32) - pageSizeLog2), Number.MAX_SAFE_INTEGER);
  const { minimum, maximum } = checkLimits(type, what, "pages", pages);
  const out = new OutCell();
  check(
    ffi().wasmtime_memorytype_new(
      BigInt(minimum),
      maximum !== undefined,
      BigInt(maximum ?? 0),
      memory64,
      shared,
      pageSizeLog2,
      out.bytes,
    ),
    "invalid memory type",
  );
  return out.takePointer()!;
}

/** A new owned `wasm_tabletype_t *`. */
export function newTableType(type: TableType, engine: object): Deno.PointerObject {
  if ((type?.element as string) === "anyfunc") {
    throw new WasmtimeError('table type: `element` "anyfunc" is V8\'s old name; use "funcref"');
  }
  assertValType(type?.element, "table element type");
  if (abstractRef(type.element) === null && concreteRef(type.element) === null) {
    throw new WasmtimeError(`tables hold references, not ${type.element}`);
  }
  if (type.table64 === true) {
    // Silently making a 32-bit table would only fail later, at an import that wants a 64-bit one.
    throw new WasmtimeError(
      "table type: `table64: true` tables cannot be made from JS (the C API has no 64-bit " +
        "table constructor); export one from a module instead, e.g. " +
        '(module (table (export "t") i64 1 funcref))',
    );
  }
  // wasm_limits_t holds u32 limits; its maximum 2^32-1 also means "no maximum".
  const { minimum, maximum } = checkLimits(type, "table type", "elements", WASM_LIMITS_MAX_DEFAULT);
  const limits = new Uint8Array(LIMITS_SIZE);
  const view = new DataView(limits.buffer);
  view.setUint32(LIMITS_MIN_OFFSET, minimum, true);
  view.setUint32(LIMITS_MAX_OFFSET, maximum ?? WASM_LIMITS_MAX_DEFAULT, true);
  return ffi().wasm_tabletype_new(newValType(type.element, engine), limits)!;
}

/** A new owned `wasm_globaltype_t *`. */
export function newGlobalType(type: GlobalType, engine: object): Deno.PointerObject {
  assertValType(type?.content, "global content type");
  return ffi().wasm_globaltype_new(
    newValType(type.content, engine),
    type.mutable ? WASM_VAR : WASM_CONST,
  )!;
}

/** Reads the import type vector of `module` (a `wasmtime_module_t *`) and frees it. */
export function takeImportTypes(
  vec: Uint8Array<ArrayBuffer>,
  module: Deno.PointerObject,
  engine: object,
): ImportType[] {
  const out = readPointers(vecParts(vec)).map((item, i) => ({
    module: readName(ffi().wasm_importtype_module(item)) ?? "",
    name: readName(ffi().wasm_importtype_name(item)) ?? "",
    type: readExternType(
      ffi().wasm_importtype_type(item)!,
      (limits) => ffi().wasmtime_deno_module_table_limits(module, true, BigInt(i), limits),
      engine,
    ),
  }));
  ffi().wasm_importtype_vec_delete(vec);
  return out;
}

/** Reads the export type vector of `module` (a `wasmtime_module_t *`) and frees it. */
export function takeExportTypes(
  vec: Uint8Array<ArrayBuffer>,
  module: Deno.PointerObject,
  engine: object,
): ExportType[] {
  const out = readPointers(vecParts(vec)).map((item, i) => ({
    name: readName(ffi().wasm_exporttype_name(item)) ?? "",
    type: readExternType(
      ffi().wasm_exporttype_type(item)!,
      (limits) => ffi().wasmtime_deno_module_table_limits(module, false, BigInt(i), limits),
      engine,
    ),
  }));
  ffi().wasm_exporttype_vec_delete(vec);
  return out;
}
