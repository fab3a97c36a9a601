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
import { pointerBits } from "../ffi/raw.ts";
import { ffi } from "../ffi/symbols.ts";
import {
  FIELD_TYPE_MUTABLE_OFFSET,
  FIELD_TYPE_SIZE,
  FIELD_TYPE_STORAGE_KIND_OFFSET,
  FIELD_TYPE_VALTYPE_OFFSET,
  WASMTIME_HEAPTYPE_KIND_CONCRETE_ARRAY,
  WASMTIME_HEAPTYPE_KIND_CONCRETE_STRUCT,
  WASMTIME_STORAGE_TYPE_KIND_I16,
  WASMTIME_STORAGE_TYPE_KIND_I8,
  WASMTIME_STORAGE_TYPE_KIND_VALTYPE,
} from "../ffi/layout.ts";
import { type Engine, enginePointer } from "./engine.ts";
import {
  assertValType,
  type ConcreteType,
  describeArray,
  describeStruct,
  newValType,
  registerConcreteType,
  unregisterConcreteType,
  type ValType,
} from "./types.ts";

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
 * A struct type made from JS for one engine: allocate structs of it with
 * {@linkcode StructRef.new}, and name it in host function signatures, globals and tables with
 * {@linkcode StructType.ref}. It is the same type as a module's `(type (struct ...))` with the
 * same fields (final, no supertype), so wasm functions taking that type accept these structs.
 * Dispose it when done, or let the garbage collector do it; keep it alive while value types
 * naming it are still to be used.
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
  /** The field types, in order. */
  readonly fields: readonly Readonly<FieldType>[];
  readonly #handle: Handle;
  readonly #name: string;
  readonly #entry: ConcreteType;

  /** Registers a struct type with `fields` in `engine`. */
  constructor(engine: Engine, fields: readonly FieldType[]) {
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
    this.fields = Object.freeze(fields.map(frozenField));
    this.#handle = new Handle(
      this,
      "StructType",
      native,
      (p) => ffi().wasmtime_struct_type_delete(p),
    );
    // The registry holds the entry weakly; this object holds it strongly, so the name
    // resolves exactly as long as the type is alive.
    this.#entry = {
      engine,
      heapKind: WASMTIME_HEAPTYPE_KIND_CONCRETE_STRUCT,
      nativePointer: (action) => this.#handle.pointer(action),
    };
    this.#name = registerConcreteType("struct", this.#entry);
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
   * `(ref null $struct:N)` with `nullable: true`. Usable with this type's engine only.
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

  /** Frees the native type. Idempotent; value types naming it stop resolving. */
  [Symbol.dispose](): void {
    unregisterConcreteType(this.#name);
    this.#handle.dispose();
  }
}

let arrayTypePointer: (type: ArrayType, action: string) => Deno.PointerObject;

/**
 * An array type made from JS for one engine: allocate arrays of it with
 * {@linkcode ArrayRef.new}, and name it in value types with {@linkcode ArrayType.ref}. It is the
 * same type as a module's `(type (array ...))` with the same element type.
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
  /** The element type. */
  readonly element: Readonly<FieldType>;
  readonly #handle: Handle;
  readonly #name: string;
  readonly #entry: ConcreteType;

  /** Registers an array type with elements of `element` in `engine`. */
  constructor(engine: Engine, element: FieldType) {
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
    this.element = frozenField(element);
    this.#handle = new Handle(
      this,
      "ArrayType",
      native,
      (p) => ffi().wasmtime_array_type_delete(p),
    );
    // The registry holds the entry weakly; this object holds it strongly, so the name
    // resolves exactly as long as the type is alive.
    this.#entry = {
      engine,
      heapKind: WASMTIME_HEAPTYPE_KIND_CONCRETE_ARRAY,
      nativePointer: (action) => this.#handle.pointer(action),
    };
    this.#name = registerConcreteType("array", this.#entry);
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

  /** Frees the native type. Idempotent; value types naming it stop resolving. */
  [Symbol.dispose](): void {
    unregisterConcreteType(this.#name);
    this.#handle.dispose();
  }
}
