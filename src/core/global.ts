/**
 * Globals.
 *
 * @module
 */
import { check } from "./failure.ts";
import { ffi } from "../ffi/symbols.ts";
import { GLOBAL_SIZE, VAL_SIZE } from "../ffi/layout.ts";
import { fromRaw, takeRaw } from "../internal.ts";
import { contextOf, type Store, type StructFields } from "./store.ts";
import { type GlobalType, newGlobalType, readGlobalType } from "./types.ts";
import { readVal, withVal } from "./values.ts";

/** Internal: wraps a `wasmtime_global_t` of `store`. */
export let globalFromStruct: (store: Store, struct: Uint8Array<ArrayBuffer>) => Global;
/** Internal: the `wasmtime_global_t` bytes of a Global. */
export let globalStruct: (global: Global) => Uint8Array<ArrayBuffer>;

/**
 * A WebAssembly global variable.
 *
 * @example
 * ```ts
 * import { Engine, Global, Store } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine();
 * using store = new Store(engine);
 * const counter = new Global(store, { content: "i64", mutable: true }, 1n);
 * counter.value = 2n;
 * console.log(counter.value); // 2n
 * ```
 */
export class Global {
  readonly #store: Store;
  readonly #struct: Uint8Array<ArrayBuffer>;
  #type: GlobalType | undefined;

  static {
    globalFromStruct = (store, struct) => fromRaw(Global, { store, struct });
    globalStruct = (global) => global.#struct;
  }

  /** Creates a global of `type` in `store` holding `value`. */
  constructor(store: Store, type: GlobalType, value: unknown) {
    const raw = takeRaw<StructFields>();
    if (raw !== undefined) {
      this.#store = raw.store;
      this.#struct = raw.struct;
      return;
    }
    this.#store = store;
    const context = contextOf(store, "new Global");
    const nativeType = newGlobalType(type, store.engine);
    this.#struct = new Uint8Array(GLOBAL_SIZE);
    try {
      withVal(
        type.content,
        value,
        store,
        context,
        "new Global value",
        (val) =>
          check(ffi().wasmtime_global_new(context, nativeType, val, this.#struct), "new Global"),
      );
    } finally {
      ffi().wasm_globaltype_delete(nativeType);
    }
    this.#type = { content: type.content, mutable: type.mutable };
  }

  /** The store this global belongs to. */
  get store(): Store {
    return this.#store;
  }

  /** The global's type. */
  get type(): GlobalType {
    if (this.#type === undefined) {
      const native = ffi().wasmtime_global_type(
        contextOf(this.#store, "Global.type"),
        this.#struct,
      )!;
      try {
        this.#type = readGlobalType(native, this.#store.engine);
      } finally {
        ffi().wasm_globaltype_delete(native);
      }
    }
    return { ...this.#type };
  }

  /** The current value. */
  get value(): unknown {
    return this.#get(false, "value");
  }

  /** Sets the value (mutable globals only). */
  set value(value: unknown) {
    this.#set(value, false, "value");
  }

  /** The current value as raw bits (bigint) for numeric types, exact for NaN payloads. */
  getBits(): unknown {
    return this.#get(true, "getBits");
  }

  /** Sets the value from raw bits (bigint) for numeric types. */
  setBits(bits: unknown): void {
    this.#set(bits, true, "setBits");
  }

  #get(bits: boolean, action: string): unknown {
    const context = contextOf(this.#store, `Global.${action}`);
    const val = new Uint8Array(VAL_SIZE);
    ffi().wasmtime_global_get(context, this.#struct, val);
    return readVal(val, this.#store, context, bits);
  }

  #set(value: unknown, bits: boolean, action: string): void {
    const context = contextOf(this.#store, `Global.${action}`);
    withVal(
      this.type.content,
      value,
      this.#store,
      context,
      `Global.${action}`,
      (val) => check(ffi().wasmtime_global_set(context, this.#struct, val), `Global.${action}`),
      bits,
    );
  }
}
