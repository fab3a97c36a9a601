/**
 * Pre-instantiated modules: imports resolved once, then cheap instantiation in many stores.
 *
 * @module
 */
import { ffi } from "../ffi/symbols.ts";
import { runGuest } from "./call.ts";
import { Handle } from "../ffi/handle.ts";
import { type Exports, type ExportValue, type Instance, instanceFromStruct } from "./instance.ts";
import { INSTANCE_SIZE } from "../ffi/layout.ts";
import type { Module } from "./module.ts";
import { fromRaw, takeRaw } from "../internal.ts";
import { contextOf, type Store } from "./store.ts";
import { type CallOptions, driveFuture } from "./async.ts";

/** Internal: wraps a `wasmtime_instance_pre_t *` made by a linker. */
export let instancePreFromPointer: (
  pointer: Deno.PointerObject,
  module: Module,
  prepare: (store: Store, action: string) => void,
) => InstancePre;

/**
 * A module whose imports a {@linkcode Linker} has already resolved and type-checked, ready to be
 * instantiated quickly in any number of stores (made by `Linker.instantiatePre`).
 *
 * @example
 * ```ts
 * import { Engine, Linker, Module, Store } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine({ pooling: true });
 * using linker = new Linker(engine);
 * using module = new Module(engine, `(module (func (export "f") (result i32) i32.const 1))`);
 * using pre = linker.instantiatePre(module);
 * for (let i = 0; i < 3; i++) {
 *   using store = new Store(engine);
 *   console.log(pre.instantiate(store).getFunc("f")!.call());
 * }
 * ```
 */
export class InstancePre {
  readonly #handle: Handle;
  readonly #module: Module;
  /**
   * Fits a store to the linker's definitions and checks it has the WASI context the module
   * needs (see `Linker.#prepareStore`); throws otherwise.
   */
  readonly #prepare: (store: Store, action: string) => void;

  static {
    instancePreFromPointer = (pointer, module, prepare) =>
      fromRaw(InstancePre, { pointer, module, prepare });
  }

  /** Internal: use `Linker.instantiatePre`. */
  private constructor() {
    const raw = takeRaw<{
      pointer: Deno.PointerObject;
      module: Module;
      prepare: (store: Store, action: string) => void;
    }>();
    if (raw === undefined) {
      throw new TypeError("InstancePre is made by Linker.instantiatePre(module)");
    }
    this.#handle = new Handle(
      this,
      "InstancePre",
      raw.pointer,
      (p) => ffi().wasmtime_instance_pre_delete(p),
    );
    this.#module = raw.module;
    this.#prepare = raw.prepare;
  }

  /** The module this was made from. */
  get module(): Module {
    return this.#module;
  }

  /** Instantiates in `store` (runs the start function); `E` names the exports' types. */
  instantiate<E extends { readonly [K in keyof E]: ExportValue } = Exports>(
    store: Store,
  ): Instance<E> {
    const context = contextOf(store, "InstancePre.instantiate");
    this.#prepare(store, "InstancePre.instantiate");
    const struct = new Uint8Array(INSTANCE_SIZE);
    const pointer = this.#handle.pointer("instantiate");
    runGuest(
      store,
      "InstancePre.instantiate",
      (trap) => ffi().wasmtime_instance_pre_instantiate(pointer, context, struct, trap),
    );
    return instanceFromStruct(store, struct, this.#module) as Instance<E>;
  }

  /** Instantiates in `store` as an async call (see `Linker.instantiateAsync`). */
  async instantiateAsync<E extends { readonly [K in keyof E]: ExportValue } = Exports>(
    store: Store,
    options: CallOptions = {},
  ): Promise<Instance<E>> {
    contextOf(store, "InstancePre.instantiateAsync");
    this.#prepare(store, "InstancePre.instantiateAsync");
    this.#handle.pointer("instantiateAsync");
    const struct = new Uint8Array(INSTANCE_SIZE);
    await driveFuture(
      store,
      "InstancePre.instantiateAsync",
      options,
      // The pointer is read once the store is ours: this InstancePre may have been disposed
      // while the call waited behind another one.
      (context, trap, error) =>
        ffi().wasmtime_instance_pre_instantiate_async(
          this.#handle.pointer("instantiateAsync"),
          context,
          struct,
          trap,
          error,
        ),
    );
    return instanceFromStruct(store, struct, this.#module) as Instance<E>;
  }

  /** Frees the pre-instantiated module; instances made from it keep working. Idempotent. */
  [Symbol.dispose](): void {
    this.#handle.dispose();
  }
}
