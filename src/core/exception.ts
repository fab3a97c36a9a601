/**
 * Wasm exceptions in JS: {@linkcode WasmException}, what a call throws when a wasm exception
 * escapes it, and what a host function throws to raise one in the guest.
 *
 * @module
 */
import { WasmtimeError } from "../errors.ts";
import { ffi } from "../ffi/symbols.ts";
import { EXNREF_SIZE, TAG_SIZE, VAL_SIZE } from "../ffi/layout.ts";
import { fromRaw, takeRaw } from "../internal.ts";
import { check } from "./failure.ts";
import { type ExnRef, exnrefBytes, exnrefValue } from "./gc.ts";
import { type Store, storeFromContext } from "./store.ts";
import { Tag, tagFromStruct, tagStruct } from "./tag.ts";
import { unrootVal, writeVal } from "./values.ts";

interface ExceptionFields {
  tag: Tag;
  payload: readonly unknown[];
  exnref: ExnRef;
}

/**
 * Internal: the trap a host function returns to throw `exception` into the guest of
 * `context` (Wasmtime keeps the exception in the store until a handler or the caller takes it).
 * Throws a WasmtimeError if the exception cannot be made in that store.
 */
export let exceptionTrap: (
  exception: WasmException,
  context: Deno.PointerObject,
) => Deno.PointerObject;
/** Internal: the WasmException for an owned `wasmtime_exnref_t` a failed call left behind. */
export let exceptionFromRef: (
  store: Store,
  context: Deno.PointerObject,
  ref: Uint8Array<ArrayBuffer>,
) => WasmException;

/**
 * The exception a host function threw into the guest most recently: when it comes back out
 * of the call uncaught, the caller gets the same object.
 */
let lastThrown: WeakRef<WasmException> | undefined;

function preview(payload: readonly unknown[]): string {
  const text = payload.map((v) =>
    typeof v === "bigint"
      ? `${v}n`
      : typeof v === "number" || typeof v === "boolean" || v === null
      ? String(v)
      : typeof v === "string"
      ? JSON.stringify(v).slice(0, 40)
      : (typeof v === "object" ? v.constructor?.name : typeof v) ?? "object"
  ).join(", ");
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/**
 * A WebAssembly exception (exception-handling proposal) in JS: its {@linkcode Tag} and payload
 * values. A call whose guest throws an exception that nothing catches fails with one (a
 * {@linkcode WasmtimeError}, not a {@linkcode Trap}: the guest did not fault). A host function
 * throws one into its guest with `throw new WasmException(tag, payload)`; wasm catches it with
 * `try_table`, and if wasm does not, the caller gets the same object back. Any other JS error a
 * host function throws still traps the guest.
 *
 * @example
 * ```ts
 * import {
 *   Engine,
 *   Func,
 *   FuncType,
 *   Instance,
 *   Module,
 *   Store,
 *   Tag,
 *   WasmException,
 * } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine({ exceptions: true });
 * using store = new Store(engine);
 * const oops = new Tag(store, { params: ["i32"] });
 * const fail = new Func(store, new FuncType([], []), () => {
 *   throw new WasmException(oops, [42]);
 * });
 * using module = new Module(engine, `(module
 *   (import "host" "oops" (tag $oops (param i32)))
 *   (import "host" "fail" (func $fail))
 *   (func (export "run") (result i32)
 *     (block $caught (result i32)
 *       (try_table (catch $oops $caught) (call $fail))
 *       (i32.const -1))))`);
 * const instance = new Instance(store, module, [oops, fail]);
 * console.log(instance.getFunc("run")!.call()); // 42
 * ```
 */
export class WasmException extends WasmtimeError {
  /** The exception's tag. */
  readonly tag: Tag;
  /** The payload values, typed by `tag.type.params`. */
  readonly payload: readonly unknown[];
  /** The exception object in the tag's store, once made (kept so a rethrow is the same one). */
  #exnref: ExnRef | undefined;

  static {
    exceptionTrap = (exception, context) => {
      const store = storeFromContext(context);
      if (store === undefined || exception.tag.store !== store) {
        throw new WasmtimeError(
          "WasmException: the tag belongs to another Store than the guest it is thrown into; " +
            "throw exceptions of the calling instance's store",
        );
      }
      let exnref = exception.#exnref;
      if (exnref === undefined || exnref.disposed) {
        exnref = newExnref(store, context, exception.tag, exception.payload);
        exception.#exnref = exnref;
      }
      lastThrown = new WeakRef(exception);
      return ffi().wasmtime_context_set_exception(context, exnrefBytes(exnref, "throw"))!;
    };
    exceptionFromRef = (store, context, ref) => {
      const thrown = lastThrown?.deref();
      lastThrown = undefined;
      const own = thrown === undefined ? undefined : thrown.#exnref;
      if (
        own !== undefined && !own.disposed && own.store === store &&
        ffi().wasmtime_exnref_to_raw(context, exnrefBytes(own, "compare")) ===
          ffi().wasmtime_exnref_to_raw(context, ref)
      ) {
        ffi().wasmtime_exnref_unroot(ref);
        return thrown!;
      }
      const exnref = exnrefValue(store, ref);
      const tag = new Uint8Array(TAG_SIZE);
      check(ffi().wasmtime_exnref_tag(context, ref, tag), "uncaught wasm exception");
      const payload: unknown[] = [];
      for (let i = 0; i < exnref.fieldCount; i++) payload.push(exnref.field(i));
      return fromRaw(WasmException, { tag: tagFromStruct(store, tag), payload, exnref });
    };
  }

  /**
   * An exception of `tag` carrying `payload` (one value per `tag.type.params`, as a call
   * takes them), for a host function to throw into its guest.
   */
  constructor(tag: Tag, payload: readonly unknown[]) {
    const raw = takeRaw<ExceptionFields>();
    const theTag = raw?.tag ?? tag;
    const values = raw?.payload ?? payload;
    if (raw === undefined) {
      if (!(tag instanceof Tag)) {
        throw new WasmtimeError("new WasmException(tag, payload): `tag` must be a Tag");
      }
      if (!Array.isArray(payload) || payload.length !== tag.type.params.length) {
        throw new WasmtimeError(
          `new WasmException(tag, payload): the tag carries ${tag.type.params.length} ` +
            `value(s) (${tag.type.params.join(", ")}); pass them as an array`,
        );
      }
    }
    super(
      `wasm exception (${theTag.type.params.join(", ")}) with payload [${preview(values)}]` +
        (raw === undefined ? "" : " was not caught by the guest"),
    );
    this.name = "WasmException";
    this.tag = theTag;
    this.payload = Object.freeze([...values]);
    this.#exnref = raw?.exnref;
  }

  /** Whether this exception's tag is `tag` (the same definition). */
  is(tag: Tag): boolean {
    return this.tag.equals(tag);
  }
}

/** A new exception object of `tag` in `store`, its payload checked against the tag's type. */
function newExnref(
  store: Store,
  context: Deno.PointerObject,
  tag: Tag,
  payload: readonly unknown[],
): ExnRef {
  const params = tag.type.params;
  const fields = new Uint8Array(Math.max(1, params.length) * VAL_SIZE);
  const written: Uint8Array<ArrayBuffer>[] = [];
  try {
    for (let i = 0; i < params.length; i++) {
      const val = fields.subarray(i * VAL_SIZE, (i + 1) * VAL_SIZE);
      writeVal(val, params[i], payload[i], store, context, `WasmException payload ${i}`);
      written.push(val);
    }
    const out = new Uint8Array(EXNREF_SIZE);
    check(
      ffi().wasmtime_exnref_new(context, tagStruct(tag), fields, BigInt(params.length), out),
      "WasmException",
    );
    return exnrefValue(store, out);
  } finally {
    for (const val of written) unrootVal(val);
  }
}
