/**
 * Struct and array types made from JS (`StructType`, `ArrayType`), for allocating GC objects
 * from the host and for naming concrete reference types in host signatures, globals and tables.
 *
 * Each object owns one native type registered with one engine. Wasmtime aborts the process when
 * a type meets another engine (a store, a linker, a field type), so every such use is checked
 * here first and fails with a WasmtimeError.
 *
 * @module
 */
import { WasmtimeError } from "../errors.ts";
import { Handle } from "../ffi/handle.ts";
import { pointerBits, pointerFromBits } from "../ffi/raw.ts";
import { ffi } from "../ffi/symbols.ts";
import {
  FIELD_TYPE_MUTABLE_OFFSET,
  FIELD_TYPE_SIZE,
  FIELD_TYPE_STORAGE_KIND_OFFSET,
  FIELD_TYPE_VALTYPE_OFFSET,
  VALTYPE_HEAP_KIND_OFFSET,
  VALTYPE_HEAP_OF_OFFSET,
  VALTYPE_SIZE,
  WASMTIME_HEAPTYPE_KIND_CONCRETE_ARRAY,
  WASMTIME_HEAPTYPE_KIND_CONCRETE_STRUCT,
  WASMTIME_STORAGE_TYPE_KIND_I16,
  WASMTIME_STORAGE_TYPE_KIND_I8,
  WASMTIME_STORAGE_TYPE_KIND_VALTYPE,
  WASMTIME_VALTYPE_KIND_REF,
} from "../ffi/layout.ts";
import { type Engine, enginePointer } from "./engine.ts";
import {
  assertValType,
  canonicalName,
  canonicalType,
  describeArray,
  describeStruct,
  newValType,
  readValType,
  type ValType,
} from "./types.ts";
import { fromRaw, takeRaw } from "../internal.ts";

/**
 * What a struct field or array element stores: a value type, or a packed `i8` / `i16` (read
 * back zero-extended as an i32 number, written truncated).
 *
 * @example
 * ```ts
 * import type { StorageType } from "@wasmtime-deno/wasmtime";
 * const byte: StorageType = "i8";
 * ```
 */
export type StorageType = ValType | "i8" | "i16";

/**
 * The type of one struct field or of an array's elements.
 *
 * @example
 * ```ts
 * import type { FieldType } from "@wasmtime-deno/wasmtime";
 * const counter: FieldType = { type: "i32", mutable: true };
 * ```
 */
export interface FieldType {
  /** What the field stores. */
  type: StorageType;
  /** Whether wasm (`struct.set`, `array.set`) and the host (`set`) may change it. */
  mutable?: boolean;
}

/** Wasm's limit on the fields of one struct type (wasmparser refuses more). */
const MAX_FIELDS = 10_000;

/**
 * Fills a `wasmtime_field_type_t` from `field`; returns the `wasm_valtype_t *` it borrows (to
 * free once Wasmtime has copied it), or null for packed types.
 */
function fillField(
  out: Uint8Array<ArrayBuffer>,
  field: FieldType,
  engine: Engine,
  where: string,
): Deno.PointerObject | null {
  if (typeof field !== "object" || field === null) {
    throw new WasmtimeError(`${where}: a field type is an object { type, mutable? }`);
  }
  if (field.mutable !== undefined && typeof field.mutable !== "boolean") {
    throw new WasmtimeError(`${where}: \`mutable\` must be a boolean`);
  }
  out[FIELD_TYPE_MUTABLE_OFFSET] = field.mutable ? 1 : 0;
  if (field.type === "i8" || field.type === "i16") {
    out[FIELD_TYPE_STORAGE_KIND_OFFSET] = field.type === "i8"
      ? WASMTIME_STORAGE_TYPE_KIND_I8
      : WASMTIME_STORAGE_TYPE_KIND_I16;
    return null;
  }
  assertValType(field.type, where);
  // newValType refuses a concrete type of another engine (Wasmtime would abort).
  const valtype = newValType(field.type, engine);
  out[FIELD_TYPE_STORAGE_KIND_OFFSET] = WASMTIME_STORAGE_TYPE_KIND_VALTYPE;
  new DataView(out.buffer, out.byteOffset).setBigUint64(
    FIELD_TYPE_VALTYPE_OFFSET,
    pointerBits(valtype),
    true,
  );
  return valtype;
}

function frozenField(field: FieldType): Readonly<FieldType> {
  return Object.freeze({ type: field.type, mutable: field.mutable === true });
}

/** Reads a filled `wasmtime_field_type_t` (then frees it); concrete types by their names. */
function readField(field: Uint8Array<ArrayBuffer>, engine: Engine): Readonly<FieldType> {
  try {
    const storage = field[FIELD_TYPE_STORAGE_KIND_OFFSET];
    const type: StorageType = storage === WASMTIME_STORAGE_TYPE_KIND_I8
      ? "i8"
      : storage === WASMTIME_STORAGE_TYPE_KIND_I16
      ? "i16"
      : readValType(
        pointerFromBits(
          new DataView(field.buffer).getBigUint64(FIELD_TYPE_VALTYPE_OFFSET, true),
        )!,
        engine,
      );
    return Object.freeze({ type, mutable: field[FIELD_TYPE_MUTABLE_OFFSET] !== 0 });
  } finally {
    ffi().wasmtime_field_type_delete(field);
  }
}

/** What {@linkcode StructType.of} and {@linkcode ArrayType.of} wrap: a copy of a native type. */
interface ViewFields {
  engine: Engine;
  /** An owned `wasmtime_valtype_t` `(ref $t)` whose heap type is the native type. */
  owned: Uint8Array<ArrayBuffer>;
}

/** An owned copy (`wasmtime_valtype_t`) of the native type a struct or array name stands for. */
function copyOfNamed(type: unknown, kind: number, what: string): ViewFields {
  const match = typeof type === "string"
    ? /^\(ref (?:null )?(\$(?:struct|array):[0-9]+)\)$/.exec(type)
    : null;
  const entry = match === null ? undefined : canonicalType(match[1]);
  if (entry === undefined || entry.heapKind !== kind) {
    throw new WasmtimeError(
      `${what}: expected a ${
        kind === WASMTIME_HEAPTYPE_KIND_CONCRETE_STRUCT
          ? "StructRef or a value type naming a struct"
          : "ArrayRef or a value type naming an array"
      } type such as "(ref $${
        kind === WASMTIME_HEAPTYPE_KIND_CONCRETE_STRUCT ? "struct" : "array"
      }:1)" (as module.exports, Func.type and the types of globals, tables and tags read them), got ${
        typeof type === "string" ? JSON.stringify(type) : typeof type
      }`,
    );
  }
  return { engine: entry.engine as Engine, owned: copyOf(kind, entry.pointer) };
}

/** An owned `wasmtime_valtype_t` `(ref $t)` holding a copy of the native type `pointer`. */
function copyOf(kind: number, pointer: Deno.PointerObject): Uint8Array<ArrayBuffer> {
  const borrowed = new Uint8Array(VALTYPE_SIZE);
  borrowed[0] = WASMTIME_VALTYPE_KIND_REF;
  borrowed[VALTYPE_HEAP_KIND_OFFSET] = kind;
  new DataView(borrowed.buffer).setBigUint64(VALTYPE_HEAP_OF_OFFSET, pointerBits(pointer), true);
  const owned = new Uint8Array(VALTYPE_SIZE);
  ffi().wasmtime_valtype_clone(borrowed, owned);
  return owned;
}

/**
 * Package-private: a StructType or ArrayType object for a copy of the native type `pointer`
 * (borrowed) of `engine`.
 */
export function typeFromNative(
  engine: Engine,
  kind: number,
  pointer: Deno.PointerObject,
): StructType | ArrayType {
  const fields: ViewFields = { engine, owned: copyOf(kind, pointer) };
  return kind === WASMTIME_HEAPTYPE_KIND_CONCRETE_STRUCT
    ? fromRaw(StructType, fields)
    : fromRaw(ArrayType, fields);
}

/** The native type inside an owned copy made by {@linkcode copyOf}. */
function heapOf(owned: Uint8Array<ArrayBuffer>): Deno.PointerObject {
  return pointerFromBits(new DataView(owned.buffer).getBigUint64(VALTYPE_HEAP_OF_OFFSET, true))!;
}

/** Package-private: the native type of a StructType or ArrayType, checked against `engine`. */
export let concreteTypePointer: (
  type: StructType | ArrayType,
  engine: Engine,
  action: string,
) => Deno.PointerObject;

function checkEngine(type: StructType | ArrayType, engine: Engine, action: string): void {
  if (type.engine !== engine) {
    throw new WasmtimeError(
      `${action}: the ${type.constructor.name} was made for another Engine; types cannot ` +
        "cross engines, so make it for this store's engine",
    );
  }
}

/**
 * A struct type of one engine: made from JS with `new StructType(engine, fields)`, or a
 * module's own type got with {@linkcode StructType.of}. Allocate structs of it with
 * {@linkcode StructRef.new}, and name it in host function signatures, globals and tables with
 * {@linkcode StructType.ref}. A type made from JS is final with no supertype, so it is the same
 * type as a module's `(type (struct ...))` with the same fields, and its `ref()` is the very
 * name module.exports and Func.type read for that module type. Dispose it when done, or let the
 * garbage collector do it.
 *
 * @example
 * ```ts
 * import { Engine, StructType } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine({ gc: true });
 * using point = new StructType(engine, [{ type: "i32" }, { type: "f64", mutable: true }]);
 * console.log(String(point)); // (struct (field i32) (field (mut f64)))
 * ```
 */
export class StructType {
  /** The engine the type is registered with. */
  readonly engine: Engine;
  readonly #handle: Handle;
  readonly #name: string;
  #fields: readonly Readonly<FieldType>[] | undefined;

  /** Registers a struct type with `fields` in `engine`. */
  constructor(engine: Engine, fields: readonly FieldType[]) {
    const view = takeRaw<ViewFields>();
    if (view !== undefined) {
      this.engine = view.engine;
      const owned = view.owned;
      this.#handle = new Handle(this, "StructType", heapOf(owned), () => {
        ffi().wasmtime_valtype_delete(owned);
      });
      this.#name = canonicalName(
        this.engine,
        WASMTIME_HEAPTYPE_KIND_CONCRETE_STRUCT,
        heapOf(owned),
      );
      return;
    }
    if (!Array.isArray(fields)) {
      throw new WasmtimeError("new StructType(engine, fields): `fields` must be an array");
    }
    if (fields.length > MAX_FIELDS) {
      throw new WasmtimeError(`new StructType: at most ${MAX_FIELDS} fields, got ${fields.length}`);
    }
    const enginePtr = enginePointer(engine, "new StructType");
    const buffer = new Uint8Array(Math.max(1, fields.length) * FIELD_TYPE_SIZE);
    const borrowed: Deno.PointerObject[] = [];
    let native: Deno.PointerValue;
    try {
      fields.forEach((field, i) => {
        const valtype = fillField(
          buffer.subarray(i * FIELD_TYPE_SIZE, (i + 1) * FIELD_TYPE_SIZE),
          field,
          engine,
          `new StructType field ${i}`,
        );
        if (valtype !== null) borrowed.push(valtype);
      });
      native = ffi().wasmtime_struct_type_new(enginePtr, buffer, BigInt(fields.length));
    } finally {
      for (const valtype of borrowed) ffi().wasm_valtype_delete(valtype);
    }
    this.engine = engine;
    this.#fields = Object.freeze(fields.map(frozenField));
    this.#handle = new Handle(
      this,
      "StructType",
      native,
      (p) => ffi().wasmtime_struct_type_delete(p),
    );
    this.#name = canonicalName(engine, WASMTIME_HEAPTYPE_KIND_CONCRETE_STRUCT, native!);
  }

  /**
   * The struct type a value type names, as read from a module (`module.imports`,
   * `module.exports`, `Func.type`, and the types of globals, tables and tags spell concrete
   * struct types `"(ref $struct:N)"`): a new StructType object for that same type (its
   * supertypes and finality included), to allocate structs of it and name it in host
   * signatures without re-declaring it. (A struct's own type is {@linkcode StructRef.type}.)
   *
   * @example
   * ```ts
   * import { Engine, Instance, Module, Store, StructRef, StructType } from "@wasmtime-deno/wasmtime";
   * using engine = new Engine({ gc: true });
   * using store = new Store(engine);
   * using module = new Module(engine, `(module
   *   (type $shape (sub (struct (field i32))))
   *   (func (export "area") (param (ref $shape)) (result i32) (struct.get $shape 0 (local.get 0))))`);
   * const instance = new Instance(store, module, []);
   * const area = instance.getFunc("area")!;
   * using shape = StructType.of(area.type.params[0]); // the module's open $shape
   * using s = StructRef.new(store, shape, [12]);
   * console.log(area.call(s), shape.ref() === area.type.params[0]); // 12 true
   * ```
   */
  static of(type: ValType): StructType {
    return fromRaw(
      StructType,
      copyOfNamed(type, WASMTIME_HEAPTYPE_KIND_CONCRETE_STRUCT, "StructType.of"),
    );
  }

  /** The field types, in order (concrete types by their names). */
  get fields(): readonly Readonly<FieldType>[] {
    if (this.#fields === undefined) {
      const native = this.#handle.pointer("fields");
      const count = Number(ffi().wasmtime_struct_type_num_fields(native));
      const fields: Readonly<FieldType>[] = [];
      for (let i = 0; i < count; i++) {
        const field = new Uint8Array(FIELD_TYPE_SIZE);
        if (!ffi().wasmtime_struct_type_field(native, BigInt(i), field)) break;
        fields.push(readField(field, this.engine));
      }
      this.#fields = Object.freeze(fields);
    }
    return this.#fields;
  }

  static {
    concreteTypePointer = (type, engine, action) => {
      checkEngine(type, engine, action);
      return type instanceof StructType
        ? type.#handle.pointer(action)
        : arrayTypePointer(type, action);
    };
  }

  /**
   * The value type of references to this struct type: `(ref $struct:N)`, or
   * `(ref null $struct:N)` with `nullable: true`. Usable with this type's engine only; equal
   * types of one engine have one name.
   */
  ref(options: { nullable?: boolean } = {}): ValType {
    return `(ref ${options.nullable ? "null " : ""}${this.#name})`;
  }

  /** The type in text-format notation, e.g. `(struct (field i32) (field (mut i8)))`. */
  toString(): string {
    return describeStruct(this.#handle.pointer("toString"));
  }

  /** True once disposed. */
  get disposed(): boolean {
    return this.#handle.raw === null;
  }

  /**
   * Frees this object's native type. Idempotent. Its name keeps resolving while the engine
   * lives (the engine keeps one copy of each type it has named).
   */
  [Symbol.dispose](): void {
    this.#handle.dispose();
  }
}

let arrayTypePointer: (type: ArrayType, action: string) => Deno.PointerObject;

/**
 * An array type of one engine: made from JS with `new ArrayType(engine, element)`, or a
 * module's own type got with {@linkcode ArrayType.of}. Allocate arrays of it with
 * {@linkcode ArrayRef.new}, and name it in value types with {@linkcode ArrayType.ref}. A type
 * made from JS is the same type as a module's `(type (array ...))` with the same element type,
 * and has the same name.
 *
 * @example
 * ```ts
 * import { ArrayType, Engine } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine({ gc: true });
 * using bytes = new ArrayType(engine, { type: "i8", mutable: true });
 * console.log(String(bytes)); // (array (mut i8))
 * ```
 */
export class ArrayType {
  /** The engine the type is registered with. */
  readonly engine: Engine;
  readonly #handle: Handle;
  readonly #name: string;
  #element: Readonly<FieldType> | undefined;

  /** Registers an array type with elements of `element` in `engine`. */
  constructor(engine: Engine, element: FieldType) {
    const view = takeRaw<ViewFields>();
    if (view !== undefined) {
      this.engine = view.engine;
      const owned = view.owned;
      this.#handle = new Handle(this, "ArrayType", heapOf(owned), () => {
        ffi().wasmtime_valtype_delete(owned);
      });
      this.#name = canonicalName(this.engine, WASMTIME_HEAPTYPE_KIND_CONCRETE_ARRAY, heapOf(owned));
      return;
    }
    const enginePtr = enginePointer(engine, "new ArrayType");
    const buffer = new Uint8Array(FIELD_TYPE_SIZE);
    const valtype = fillField(buffer, element, engine, "new ArrayType element");
    let native: Deno.PointerValue;
    try {
      native = ffi().wasmtime_array_type_new(enginePtr, buffer);
    } finally {
      if (valtype !== null) ffi().wasm_valtype_delete(valtype);
    }
    this.engine = engine;
    this.#element = frozenField(element);
    this.#handle = new Handle(
      this,
      "ArrayType",
      native,
      (p) => ffi().wasmtime_array_type_delete(p),
    );
    this.#name = canonicalName(engine, WASMTIME_HEAPTYPE_KIND_CONCRETE_ARRAY, native!);
  }

  /**
   * The array type a value type names (`"(ref $array:N)"`, as module.exports and Func.type read
   * it; see {@linkcode StructType.of}).
   *
   * @example
   * ```ts
   * import { ArrayRef, ArrayType, Engine, Instance, Module, Store } from "@wasmtime-deno/wasmtime";
   * using engine = new Engine({ gc: true });
   * using store = new Store(engine);
   * using module = new Module(engine, `(module
   *   (type $bytes (array (mut i8)))
   *   (func (export "len") (param (ref $bytes)) (result i32) (array.len (local.get 0))))`);
   * const len = new Instance(store, module, []).getFunc("len")!;
   * using bytes = ArrayType.of(len.type.params[0]);
   * using a = ArrayRef.new(store, bytes, 0, 5);
   * console.log(len.call(a)); // 5
   * ```
   */
  static of(type: ValType): ArrayType {
    return fromRaw(
      ArrayType,
      copyOfNamed(type, WASMTIME_HEAPTYPE_KIND_CONCRETE_ARRAY, "ArrayType.of"),
    );
  }

  /** The element type (a concrete type by its name). */
  get element(): Readonly<FieldType> {
    if (this.#element === undefined) {
      const field = new Uint8Array(FIELD_TYPE_SIZE);
      ffi().wasmtime_array_type_element(this.#handle.pointer("element"), field);
      this.#element = readField(field, this.engine);
    }
    return this.#element;
  }

  static {
    arrayTypePointer = (type, action) => type.#handle.pointer(action);
  }

  /** The value type of references to this array type (see {@linkcode StructType.ref}). */
  ref(options: { nullable?: boolean } = {}): ValType {
    return `(ref ${options.nullable ? "null " : ""}${this.#name})`;
  }

  /** The type in text-format notation, e.g. `(array (mut i8))`. */
  toString(): string {
    return describeArray(this.#handle.pointer("toString"));
  }

  /** True once disposed. */
  get disposed(): boolean {
    return this.#handle.raw === null;
  }

  /** Frees this object's native type. Idempotent; its name keeps resolving (see StructType). */
  [Symbol.dispose](): void {
    this.#handle.dispose();
  }
}
