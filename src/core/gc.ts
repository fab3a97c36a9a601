/**
 * GC references held by JS: `AnyRef` (and its `StructRef` / `ArrayRef` kinds), `ExnRef`, and
 * `ExternalizedRef` (an externref wasm made from an internal reference).
 *
 * Each object owns one rooted Wasmtime reference (two for structs and arrays: the `anyref` and
 * its typed view), so the GC object stays alive while JS can reach it. The roots are released
 * by `[Symbol.dispose]()` or, for objects never disposed, by a FinalizationRegistry. Releasing a
 * root only drops a liveness flag and never touches the store (Wasmtime's `OwnedRooted`), so it
 * is safe after the store is gone; every other use goes through the store's context and throws
 * once the store is disposed.
 *
 * @module
 */
import { WasmtimeError } from "../errors.ts";
import { disposedError } from "../ffi/handle.ts";
import { ffi } from "../ffi/symbols.ts";
import { OutCell } from "../ffi/raw.ts";
import {
  ANYREF_SIZE,
  VAL_SIZE,
  WASMTIME_HEAPTYPE_KIND_CONCRETE_ARRAY,
  WASMTIME_HEAPTYPE_KIND_CONCRETE_STRUCT,
} from "../ffi/layout.ts";
import { fromRaw, takeRaw } from "../internal.ts";
import { check } from "./failure.ts";
import { contextOf, type Store } from "./store.ts";
import { readVal, unrootVal, valKindType, withVal, writeVal } from "./values.ts";
import {
  ArrayType,
  concreteTypePointer,
  type StorageType,
  StructType,
  typeFromNative,
} from "./gc_types.ts";
import { describeArray, describeStruct, type ValType } from "./types.ts";

type Unroot = (ref: Uint8Array<ArrayBuffer>) => void;

interface Roots {
  refs: Uint8Array<ArrayBuffer>[];
  unroot: Unroot[];
}

function release(roots: Roots): void {
  for (let i = 0; i < roots.refs.length; i++) roots.unroot[i](roots.refs[i]);
  roots.refs.length = 0;
}

/** Releases the roots of GC references that JS dropped without disposing them. */
const finalizer = new FinalizationRegistry<Roots>(release);

/** The roots one JS object owns, registered for release when the object is collected. */
class Owned {
  readonly store: Store;
  readonly #roots: Roots;
  readonly #what: string;

  constructor(owner: object, store: Store, what: string, roots: Roots) {
    this.store = store;
    this.#what = what;
    this.#roots = roots;
    finalizer.register(owner, roots, this);
  }

  /** Root `i`, checked: throws once disposed. */
  ref(i: number, action: string): Uint8Array<ArrayBuffer> {
    const ref = this.#roots.refs[i];
    if (ref === undefined) throw disposedError(this.#what, action);
    return ref;
  }

  /** The store's context and root `i`, for a native call. */
  use(i: number, action: string): [Deno.PointerObject, Uint8Array<ArrayBuffer>] {
    const ref = this.ref(i, action);
    return [contextOf(this.store, `${this.#what}.${action}`), ref];
  }

  get disposed(): boolean {
    return this.#roots.refs.length === 0;
  }

  dispose(): void {
    if (this.disposed) return;
    finalizer.unregister(this);
    release(this.#roots);
  }
}

interface AnyFields {
  store: Store;
  /** An owned `wasmtime_anyref_t`, plus the owned typed view of a struct or array. */
  roots: Roots;
}

const unrootAny: Unroot = (ref) => ffi().wasmtime_anyref_unroot(ref);
const unrootStruct: Unroot = (ref) => ffi().wasmtime_structref_unroot(ref);
const unrootArray: Unroot = (ref) => ffi().wasmtime_arrayref_unroot(ref);
const i31Out = new OutCell();

/**
 * Internal: the JS value of an owned `wasmtime_anyref_t` (taken over: the caller must not
 * unroot it): a number for an i31, a {@linkcode StructRef}, an {@linkcode ArrayRef}, or an
 * {@linkcode AnyRef} for anything else (such as a host reference made by `any.convert_extern`).
 */
export let anyrefValue: (
  store: Store,
  context: Deno.PointerObject,
  ref: Uint8Array<ArrayBuffer>,
) => number | AnyRef;
/** Internal: the owned `wasmtime_anyref_t` of an AnyRef, for a native call. */
export let anyrefBytes: (ref: AnyRef, action: string) => Uint8Array<ArrayBuffer>;
/** Internal: whether an AnyRef is in the `eq` hierarchy (a struct or an array, or an i31). */
export let anyrefIsEq: (ref: AnyRef, context: Deno.PointerObject) => boolean;
/** Internal: the type of a struct or array in text-format notation, for error messages. */
export let gcTypeText: (ref: AnyRef) => string | undefined;
let arrayText: (ref: ArrayRef) => string | undefined;

/**
 * A reference to a GC object of a store (the `any` hierarchy: `anyref`, `eqref`, ...), as
 * values of those types arrive in JS. Structs and arrays arrive as the subclasses
 * {@linkcode StructRef} and {@linkcode ArrayRef}, i31 references as numbers, null references
 * as null. The object keeps the GC object alive until it is disposed or garbage collected;
 * pass it back to functions of the same store taking a matching reference type.
 *
 * @example
 * ```ts
 * import { AnyRef, Engine, Instance, Module, Store } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine({ gc: true });
 * using store = new Store(engine);
 * using module = new Module(engine, `(module
 *   (type $box (struct (field i32)))
 *   (func (export "make") (result anyref) (struct.new $box (i32.const 7))))`);
 * const instance = new Instance(store, module, []);
 * using box = instance.getFunc("make")!.call() as AnyRef;
 * console.log(box instanceof AnyRef); // true
 * ```
 */
export class AnyRef {
  readonly #owned: Owned;

  static {
    anyrefValue = (store, context, ref) => {
      if (ffi().wasmtime_anyref_i31_get_s(context, ref, i31Out.cleared())) {
        ffi().wasmtime_anyref_unroot(ref);
        return i31Out.takeI32();
      }
      const typed = new Uint8Array(ANYREF_SIZE);
      if (ffi().wasmtime_anyref_as_struct(context, ref, typed)) {
        return fromRaw(StructRef, {
          store,
          roots: { refs: [ref, typed], unroot: [unrootAny, unrootStruct] },
        });
      }
      if (ffi().wasmtime_anyref_as_array(context, ref, typed)) {
        return fromRaw(ArrayRef, {
          store,
          roots: { refs: [ref, typed], unroot: [unrootAny, unrootArray] },
        });
      }
      return fromRaw(AnyRef, { store, roots: { refs: [ref], unroot: [unrootAny] } });
    };
    anyrefBytes = (ref, action) => ref.#owned.ref(0, action);
    anyrefIsEq = (ref, context) => ffi().wasmtime_anyref_is_eqref(context, ref.#owned.ref(0, "eq"));
  }

  /** GC references come from wasm (function results, globals, tables, fields). */
  constructor() {
    const raw = takeRaw<AnyFields>();
    if (raw === undefined) {
      throw new WasmtimeError(
        "AnyRef objects come from wasm (results, globals, tables, fields); they cannot be made " +
          "with new",
      );
    }
    this.#owned = new Owned(this, raw.store, new.target.name, raw.roots);
  }

  /** The store the referenced GC object lives in. */
  get store(): Store {
    return this.#owned.store;
  }

  /** True once disposed. */
  get disposed(): boolean {
    return this.#owned.disposed;
  }

  /** Internal to the subclasses: the context and the typed view of a struct or array. */
  protected typedRef(action: string): [Deno.PointerObject, Uint8Array<ArrayBuffer>] {
    return this.#owned.use(1, action);
  }

  /**
   * Releases the reference: the GC object may be collected unless wasm still reaches it.
   * Idempotent; later uses throw.
   */
  [Symbol.dispose](): void {
    this.#owned.dispose();
  }
}

const val = new Uint8Array(VAL_SIZE);
const lengthOut = new OutCell();

/**
 * A reference to a GC struct, with typed access to its fields: `get(i)` returns a field's value
 * as a call would (packed i8/i16 fields zero-extended), `set(i, value)` writes a mutable field
 * (Wasmtime checks the value against the field's type).
 *
 * @example
 * ```ts
 * import { Engine, Instance, Module, Store, StructRef } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine({ gc: true });
 * using store = new Store(engine);
 * using module = new Module(engine, `(module
 *   (type $point (struct (field $x (mut i32)) (field $y i64)))
 *   (func (export "make") (result (ref $point))
 *     (struct.new $point (i32.const 3) (i64.const 4))))`);
 * const instance = new Instance(store, module, []);
 * using point = instance.getFunc("make")!.call() as StructRef;
 * point.set(0, 10);
 * console.log(point.get(0), point.get(1)); // 10 4n
 * ```
 */
export class StructRef extends AnyRef {
  /**
   * Allocates a struct of `type` (made for the store's engine) in `store`'s GC heap, with one
   * value per field. Wasmtime checks each value against its field's type; a mismatch, a
   * GC heap without room, or an engine without GC throws a WasmtimeError.
   *
   * @example
   * ```ts
   * import { Engine, Store, StructRef, StructType } from "@wasmtime-deno/wasmtime";
   * using engine = new Engine({ gc: true });
   * using store = new Store(engine);
   * using point = new StructType(engine, [{ type: "i32" }, { type: "i64", mutable: true }]);
   * using p = StructRef.new(store, point, [3, 4n]);
   * console.log(p.get(0), p.get(1)); // 3 4n
   * ```
   */
  // Named as Wasmtime names it (StructRef::new / ArrayRef::new): a factory, since `new StructRef`
  // cannot take a store and a type and stay the one way GC references are wrapped.
  // deno-lint-ignore no-misused-new
  static new(store: Store, type: StructType, fields: readonly unknown[]): StructRef {
    const what = "StructRef.new";
    if (!(type instanceof StructType)) {
      throw new WasmtimeError(`${what}(store, type, fields): \`type\` must be a StructType`);
    }
    if (!Array.isArray(fields) || fields.length !== type.fields.length) {
      throw new WasmtimeError(
        `${what}: ${type} takes ${type.fields.length} field value(s), got ${
          Array.isArray(fields) ? fields.length : "no array"
        }`,
      );
    }
    const native = concreteTypePointer(type, store.engine, what);
    const context = contextOf(store, what);
    const vals = new Uint8Array(Math.max(1, fields.length) * VAL_SIZE);
    const slot = (i: number) => vals.subarray(i * VAL_SIZE, (i + 1) * VAL_SIZE);
    let written = 0;
    const typed = new Uint8Array(ANYREF_SIZE);
    try {
      for (; written < fields.length; written++) {
        const field = type.fields[written];
        writeVal(
          slot(written),
          fieldValType(field.type),
          fields[written],
          store,
          context,
          `${what} field ${written}`,
        );
      }
      const pre = ffi().wasmtime_struct_ref_pre_new(context, native);
      try {
        check(
          ffi().wasmtime_structref_new(context, pre, vals, BigInt(fields.length), typed),
          what,
        );
      } finally {
        ffi().wasmtime_struct_ref_pre_delete(pre);
      }
    } finally {
      for (let i = 0; i < written; i++) unrootVal(slot(i));
    }
    const any = new Uint8Array(ANYREF_SIZE);
    ffi().wasmtime_structref_to_anyref(typed, any);
    return fromRaw(StructRef, {
      store,
      roots: { refs: [any, typed], unroot: [unrootAny, unrootStruct] },
    });
  }

  static {
    const structText = (ref: StructRef) => {
      const [context, typed] = ref.typedRef("type");
      const type = ffi().wasmtime_structref_type(context, typed);
      if (type === null) return undefined;
      try {
        return describeStruct(type);
      } finally {
        ffi().wasmtime_struct_type_delete(type);
      }
    };
    gcTypeText = (ref) => {
      if (ref.disposed) return undefined;
      if (ref instanceof StructRef) return structText(ref);
      if (ref instanceof ArrayRef) return arrayText(ref);
      return undefined;
    };
  }

  /**
   * The struct's own type (the exact type it was allocated with, which a module may declare
   * with supertypes): allocate more structs of it, or name it with `type.ref()`.
   *
   * @example
   * ```ts
   * import { Engine, Instance, Module, Store, StructRef } from "@wasmtime-deno/wasmtime";
   * using engine = new Engine({ gc: true });
   * using store = new Store(engine);
   * using module = new Module(engine, `(module (type $p (struct (field i32)))
   *   (func (export "make") (result (ref $p)) (struct.new $p (i32.const 1))))`);
   * const make = new Instance(store, module, []).getFunc("make")!;
   * using p = make.call() as StructRef;
   * using type = p.type;
   * console.log(String(type), type.ref() === make.type.results[0]); // (struct (field i32)) true
   * ```
   */
  get type(): StructType {
    const [context, ref] = this.typedRef("type");
    const native = ffi().wasmtime_structref_type(context, ref);
    if (native === null) throw new WasmtimeError("StructRef.type: the struct has no type");
    try {
      return typeFromNative(
        this.store.engine,
        WASMTIME_HEAPTYPE_KIND_CONCRETE_STRUCT,
        native,
      ) as StructType;
    } finally {
      ffi().wasmtime_struct_type_delete(native);
    }
  }

  /** The number of fields. */
  get fieldCount(): number {
    const [context, ref] = this.typedRef("fieldCount");
    const type = ffi().wasmtime_structref_type(context, ref);
    if (type === null) throw new WasmtimeError("StructRef.fieldCount: the struct has no type");
    try {
      return Number(ffi().wasmtime_struct_type_num_fields(type));
    } finally {
      ffi().wasmtime_struct_type_delete(type);
    }
  }

  /** The value of field `index`. */
  get(index: number): unknown {
    const [context, ref] = this.typedRef("get");
    check(
      ffi().wasmtime_structref_field(context, ref, BigInt(fieldIndex(index)), val),
      `StructRef.get(${index})`,
    );
    return readVal(val, this.store, context);
  }

  /** Writes `value` into the mutable field `index`. */
  set(index: number, value: unknown): void {
    const [context, ref] = this.typedRef("set");
    const i = BigInt(fieldIndex(index));
    // The field's value kind decides the marshalling; Wasmtime checks the exact type.
    check(ffi().wasmtime_structref_field(context, ref, i, val), `StructRef.set(${index})`);
    const type = valKindType(val);
    ffi().wasmtime_val_unroot(val);
    withVal(
      type,
      value,
      this.store,
      context,
      `StructRef.set(${index})`,
      (v) =>
        check(ffi().wasmtime_structref_set_field(context, ref, i, v), `StructRef.set(${index})`),
    );
  }
}

/**
 * A reference to a GC array, with typed access to its elements.
 *
 * @example
 * ```ts
 * import { ArrayRef, Engine, Instance, Module, Store } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine({ gc: true });
 * using store = new Store(engine);
 * using module = new Module(engine, `(module
 *   (type $bytes (array (mut i8)))
 *   (func (export "make") (result (ref $bytes)) (array.new $bytes (i32.const 255) (i32.const 3))))`);
 * const instance = new Instance(store, module, []);
 * using bytes = instance.getFunc("make")!.call() as ArrayRef;
 * bytes.set(1, 7);
 * console.log(bytes.length, bytes.get(0), bytes.get(1)); // 3 255 7
 * ```
 */
export class ArrayRef extends AnyRef {
  /**
   * Allocates an array of `type` (made for the store's engine) in `store`'s GC heap: `length`
   * elements, each `init`. Errors as for {@linkcode StructRef.new}.
   *
   * @example
   * ```ts
   * import { ArrayRef, ArrayType, Engine, Store } from "@wasmtime-deno/wasmtime";
   * using engine = new Engine({ gc: true });
   * using store = new Store(engine);
   * using numbers = new ArrayType(engine, { type: "i32", mutable: true });
   * using a = ArrayRef.new(store, numbers, 0, 3);
   * a.set(2, 9);
   * console.log(a.length, a.get(2)); // 3 9
   * ```
   */
  // Named as Wasmtime names it (StructRef::new / ArrayRef::new): a factory, since `new StructRef`
  // cannot take a store and a type and stay the one way GC references are wrapped.
  // deno-lint-ignore no-misused-new
  static new(store: Store, type: ArrayType, init: unknown, length: number): ArrayRef {
    const what = "ArrayRef.new";
    if (!(type instanceof ArrayType)) {
      throw new WasmtimeError(`${what}(store, type, init, length): \`type\` must be an ArrayType`);
    }
    if (!Number.isInteger(length) || length < 0 || length > 0xffff_ffff) {
      throw new WasmtimeError(`${what}: length must be an integer in [0, 2^32), got ${length}`);
    }
    const native = concreteTypePointer(type, store.engine, what);
    const context = contextOf(store, what);
    const typed = new Uint8Array(ANYREF_SIZE);
    withVal(fieldValType(type.element.type), init, store, context, `${what} init`, (v) => {
      const pre = ffi().wasmtime_array_ref_pre_new(context, native);
      try {
        check(ffi().wasmtime_arrayref_new(context, pre, v, length, typed), what);
      } finally {
        ffi().wasmtime_array_ref_pre_delete(pre);
      }
    });
    const any = new Uint8Array(ANYREF_SIZE);
    ffi().wasmtime_arrayref_to_anyref(typed, any);
    return fromRaw(ArrayRef, {
      store,
      roots: { refs: [any, typed], unroot: [unrootAny, unrootArray] },
    });
  }

  static {
    arrayText = (ref) => {
      const [context, typed] = ref.typedRef("type");
      const type = ffi().wasmtime_arrayref_type(context, typed);
      if (type === null) return undefined;
      try {
        return describeArray(type);
      } finally {
        ffi().wasmtime_array_type_delete(type);
      }
    };
  }

  /** The array's own type (see {@linkcode StructRef.type}). */
  get type(): ArrayType {
    const [context, ref] = this.typedRef("type");
    const native = ffi().wasmtime_arrayref_type(context, ref);
    if (native === null) throw new WasmtimeError("ArrayRef.type: the array has no type");
    try {
      return typeFromNative(
        this.store.engine,
        WASMTIME_HEAPTYPE_KIND_CONCRETE_ARRAY,
        native,
      ) as ArrayType;
    } finally {
      ffi().wasmtime_array_type_delete(native);
    }
  }

  /** The number of elements. */
  get length(): number {
    const [context, ref] = this.typedRef("length");
    check(ffi().wasmtime_arrayref_len(context, ref, lengthOut.cleared()), "ArrayRef.length");
    return Number(lengthOut.takeU64());
  }

  /** The element at `index`; throws a WasmtimeError when out of bounds. */
  get(index: number): unknown {
    const [context, ref] = this.typedRef("get");
    check(
      ffi().wasmtime_arrayref_get(context, ref, elementIndex(index), val),
      `ArrayRef.get(${index})`,
    );
    return readVal(val, this.store, context);
  }

  /** Writes `value` at `index` of a mutable array. */
  set(index: number, value: unknown): void {
    const [context, ref] = this.typedRef("set");
    const i = elementIndex(index);
    check(ffi().wasmtime_arrayref_get(context, ref, i, val), `ArrayRef.set(${index})`);
    const type = valKindType(val);
    ffi().wasmtime_val_unroot(val);
    withVal(
      type,
      value,
      this.store,
      context,
      `ArrayRef.set(${index})`,
      (v) => check(ffi().wasmtime_arrayref_set(context, ref, i, v), `ArrayRef.set(${index})`),
    );
  }
}

/** The value type a field's values are written as: packed fields take i32 numbers. */
function fieldValType(type: StorageType): ValType {
  return type === "i8" || type === "i16" ? "i32" : type;
}

function fieldIndex(index: number): number {
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new WasmtimeError(`field index must be a non-negative integer, got ${index}`);
  }
  return index;
}

function elementIndex(index: number): number {
  if (!Number.isInteger(index) || index < 0 || index > 0xffff_ffff) {
    throw new WasmtimeError(`array index must be an integer in [0, 2^32), got ${index}`);
  }
  return index;
}

// ---- exnref ---------------------------------------------------------------------------------

const unrootExn: Unroot = (ref) => ffi().wasmtime_exnref_unroot(ref);

/** Internal: wraps an owned `wasmtime_exnref_t` (taken over). */
export let exnrefValue: (store: Store, ref: Uint8Array<ArrayBuffer>) => ExnRef;
/** Internal: the owned `wasmtime_exnref_t` of an ExnRef, for a native call. */
export let exnrefBytes: (ref: ExnRef, action: string) => Uint8Array<ArrayBuffer>;

/**
 * A reference to a wasm exception (`exnref`), as a value: caught by `try_table ... catch_ref`
 * and returned, for example. Its fields are the exception's payload, in its tag's order. (An
 * exception thrown out of a call arrives as a {@linkcode WasmException}.)
 *
 * @example
 * ```ts
 * import { Engine, ExnRef, Instance, Module, Store } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine({ exceptions: true });
 * using store = new Store(engine);
 * using module = new Module(engine, `(module
 *   (tag $oops (param i32))
 *   (func (export "catch") (result exnref)
 *     (block $caught (result exnref)
 *       (try_table (catch_all_ref $caught) (throw $oops (i32.const 42)))
 *       (unreachable))))`);
 * const instance = new Instance(store, module, []);
 * using exn = instance.getFunc("catch")!.call() as ExnRef;
 * console.log(exn.fieldCount, exn.field(0)); // 1 42
 * ```
 */
export class ExnRef {
  readonly #owned: Owned;

  static {
    exnrefValue = (store, ref) =>
      fromRaw(ExnRef, { store, roots: { refs: [ref], unroot: [unrootExn] } });
    exnrefBytes = (ref, action) => ref.#owned.ref(0, action);
  }

  /** Exception references come from wasm. */
  constructor() {
    const raw = takeRaw<AnyFields>();
    if (raw === undefined) {
      throw new WasmtimeError("ExnRef objects come from wasm; they cannot be made with new");
    }
    this.#owned = new Owned(this, raw.store, "ExnRef", raw.roots);
  }

  /** The store the exception lives in. */
  get store(): Store {
    return this.#owned.store;
  }

  /** True once disposed. */
  get disposed(): boolean {
    return this.#owned.disposed;
  }

  /** The number of payload fields. */
  get fieldCount(): number {
    const [context, ref] = this.#owned.use(0, "fieldCount");
    return Number(ffi().wasmtime_exnref_field_count(context, ref));
  }

  /** Payload field `index`. */
  field(index: number): unknown {
    const [context, ref] = this.#owned.use(0, "field");
    check(
      ffi().wasmtime_exnref_field(context, ref, BigInt(fieldIndex(index)), val),
      `ExnRef.field(${index})`,
    );
    return readVal(val, this.store, context);
  }

  /** Releases the reference. Idempotent; later uses throw. */
  [Symbol.dispose](): void {
    this.#owned.dispose();
  }
}

// ---- externalized internal references -------------------------------------------------------

const unrootExtern: Unroot = (ref) => ffi().wasmtime_externref_unroot(ref);

/** Internal: wraps an owned `wasmtime_externref_t` that carries no JS value (taken over). */
export let externalizedValue: (store: Store, ref: Uint8Array<ArrayBuffer>) => ExternalizedRef;
/** Internal: the owned `wasmtime_externref_t` of an ExternalizedRef, for a native call. */
export let externalizedBytes: (ref: ExternalizedRef, action: string) => Uint8Array<ArrayBuffer>;

/**
 * An `externref` that wasm made from an internal reference (`extern.convert_any`), rather than
 * one that carries a JS value. It is opaque to JS; passed back to wasm as an `externref` of the
 * same store it is the same reference (so `any.convert_extern` recovers the original).
 *
 * @example
 * ```ts
 * import { Engine, ExternalizedRef, Instance, Module, Store } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine({ gc: true });
 * using store = new Store(engine);
 * using module = new Module(engine, `(module
 *   (func (export "out") (result externref) (extern.convert_any (ref.i31 (i32.const 5))))
 *   (func (export "back") (param externref) (result i32)
 *     (i31.get_s (ref.cast (ref i31) (any.convert_extern (local.get 0))))))`);
 * const instance = new Instance(store, module, []);
 * using ref = instance.getFunc("out")!.call() as ExternalizedRef;
 * console.log(ref instanceof ExternalizedRef, instance.getFunc("back")!.call(ref)); // true 5
 * ```
 */
export class ExternalizedRef {
  readonly #owned: Owned;

  static {
    externalizedValue = (store, ref) =>
      fromRaw(ExternalizedRef, { store, roots: { refs: [ref], unroot: [unrootExtern] } });
    externalizedBytes = (ref, action) => ref.#owned.ref(0, action);
  }

  /** Externalized references come from wasm. */
  constructor() {
    const raw = takeRaw<AnyFields>();
    if (raw === undefined) {
      throw new WasmtimeError(
        "ExternalizedRef objects come from wasm (extern.convert_any); they cannot be made with new",
      );
    }
    this.#owned = new Owned(this, raw.store, "ExternalizedRef", raw.roots);
  }

  /** The store the reference belongs to. */
  get store(): Store {
    return this.#owned.store;
  }

  /** True once disposed. */
  get disposed(): boolean {
    return this.#owned.disposed;
  }

  /** Releases the reference. Idempotent; later uses throw. */
  [Symbol.dispose](): void {
    this.#owned.dispose();
  }
}
