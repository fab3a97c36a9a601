/**
 * The Linker: resolves imports by name (host functions, other instances, WASI) and
 * instantiates modules.
 *
 * @module
 */
import { OutCell, utf8 } from "../ffi/raw.ts";
import { WasmtimeError } from "../errors.ts";
import { check } from "./failure.ts";
import { type Extern, externFromStruct, externToStruct } from "./extern.ts";
import { ffi } from "../ffi/symbols.ts";
import { runGuest } from "./call.ts";
import { type Func, funcFromStruct } from "./func.ts";
import { createHostCallback, type HostFunction } from "./host.ts";
import { type CallOptions, driveFuture, driveFutureBlocking } from "./async.ts";
import { type InstancePre, instancePreFromPointer } from "./instance_pre.ts";
import { HOST_OWNER, registerHost } from "./registry.ts";
import { Handle } from "../ffi/handle.ts";
import { type Engine, enginePointer } from "./engine.ts";
import {
  exportNames,
  type Exports,
  type ExportValue,
  Instance,
  instanceFromStruct,
  instanceStruct,
} from "./instance.ts";
import { EXTERN_SIZE, FUNC_SIZE, INSTANCE_SIZE } from "../ffi/layout.ts";
import { type Module, modulePointer } from "./module.ts";
import {
  contextOf,
  futureDriven,
  requireAsync,
  requireFutures,
  type Store,
  storeHasWasi,
} from "./store.ts";
import { FuncType, funcTypePointer } from "./types.ts";

/** Module names under which WASI preview 1 functions are imported. */
const WASI_MODULES: readonly string[] = ["wasi_snapshot_preview1", "wasi_unstable"];

/** Throws if `module` imports WASI but `store` has no WASI context. */
function assertWasiReady(store: Store, module: Module, action: string): void {
  if (storeHasWasi(store)) return;
  const wasi = module.imports.find((i) => WASI_MODULES.includes(i.module));
  if (wasi) {
    throw new WasmtimeError(
      `${action}: the module imports ${wasi.module}.${wasi.name} but the store has no WASI ` +
        "context; create it with new Store(engine, { wasi: new WasiConfig() })",
    );
  }
}

function name(value: string, what: string): Uint8Array<ArrayBuffer> {
  if (typeof value !== "string") throw new WasmtimeError(`${what} must be a string`);
  return utf8(value);
}

/**
 * Internal: the host functions defined on `linker` by name: the first synchronous JS one
 * (`module.field`), and whether any is async (runWasi checks them against how it links WASI).
 */
export let hostFuncsOf: (linker: Linker) => { sync: string | undefined; async: boolean };

/**
 * Internal (wasi-threads): defines a host function that a synchronous call into a store with
 * async WASI can still make (a plain JS host function cannot run on the call future's fiber):
 * the guest's call is recorded and `fn` runs between two polls, on this stack. `fn` must return
 * its results, not a Promise.
 */
export let defineBlockingFunc: (
  linker: Linker,
  module: string,
  field: string,
  type: FuncType,
  fn: HostFunction,
) => void;

/**
 * Resolves imports by module and field name, then instantiates modules.
 *
 * @example
 * ```ts
 * import { Engine, FuncType, Linker, Module, Store } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine();
 * using store = new Store(engine);
 * using linker = new Linker(engine);
 * linker.defineFunc("env", "twice", new FuncType(["i32"], ["i32"]), (_caller, x) => 2 * x);
 * using module = new Module(engine, `(module
 *   (import "env" "twice" (func $twice (param i32) (result i32)))
 *   (func (export "run") (result i32) i32.const 21 call $twice))`);
 * const instance = linker.instantiate(store, module);
 * console.log(instance.getFunc("run")!.call()); // 42
 * ```
 */
export class Linker {
  readonly #handle: Handle;
  readonly #engine: Engine;
  #wasi = false;
  #async = false;
  #sync: string | undefined;
  #asyncWasi = false;
  /**
   * Definitions that belong to one store (`define`, `defineInstance`, `defineModule` of a
   * reactor), by module name then field name; `whole` marks a module name whose fields are not
   * known. Wasmtime aborts the process when such an extern is used with another store, so `get`
   * and `getDefault` refuse other stores.
   */
  readonly #storeBound = new Map<
    string,
    { fields: Map<string, WeakRef<Store>>; whole?: WeakRef<Store> }
  >();

  static {
    hostFuncsOf = (linker) => ({ sync: linker.#sync, async: linker.#async });
    defineBlockingFunc = (linker, module, field, type, fn) =>
      linker.#defineFutureFunc(module, field, type, fn, true, "defineBlockingFunc");
  }

  /** Creates an empty linker for `engine`. */
  constructor(engine: Engine) {
    this.#engine = engine;
    this.#handle = new Handle(
      this,
      "Linker",
      ffi().wasmtime_linker_new(enginePointer(engine, "new Linker")),
      (p) => ffi().wasmtime_linker_delete(p),
    );
  }

  /** The engine this linker belongs to. */
  get engine(): Engine {
    return this.#engine;
  }

  #pointer(action: string): Deno.PointerObject {
    return this.#handle.pointer(action);
  }

  /** Records that `module.field` (every field if `field` is null) now belongs to `store`. */
  #bind(store: Store, module: string, field: string | null): void {
    let entry = this.#storeBound.get(module);
    if (entry === undefined) this.#storeBound.set(module, entry = { fields: new Map() });
    if (field === null) entry.whole = new WeakRef(store);
    else entry.fields.set(field, new WeakRef(store));
  }

  /** Records that `module.field` now has a definition usable by every store. */
  #unbind(module: string, field: string): void {
    this.#storeBound.get(module)?.fields.delete(field);
  }

  /**
   * Throws unless `owner` (a store or a module) belongs to this linker's engine: Wasmtime
   * aborts the process for a store of another engine in `defineModule` and a module of another
   * engine in `defineUnknownImportsAsTraps`.
   */
  #checkEngine(owner: Store | Module, what: "store" | "module", action: string): void {
    if (owner.engine !== this.#engine) {
      throw new WasmtimeError(
        `Linker.${action}: the ${what} belongs to another Engine than this linker; use a ${what} ` +
          "made with linker.engine",
      );
    }
  }

  /** Throws unless `store` may take the definitions `module.<fields>` of this linker. */
  #checkStore(store: Store, action: string, module: string, fields: readonly string[]): void {
    if (store.engine !== this.#engine) {
      throw new WasmtimeError(
        `Linker.${action}: the store belongs to another Engine than this linker; use a store ` +
          "made with linker.engine",
      );
    }
    const entry = this.#storeBound.get(module);
    if (entry === undefined) return;
    for (const owner of [entry.whole, ...fields.map((field) => entry.fields.get(field))]) {
      if (owner !== undefined && owner.deref() !== store) {
        throw new WasmtimeError(
          `Linker.${action}(${JSON.stringify(module)}): defined with another store ` +
            "(Linker.define / defineInstance / defineModule take a store, and what they define " +
            "can only be used in that store); pass that store, or define it again for this one",
        );
      }
    }
  }

  /**
   * Fits `store` to this linker's definitions before they are used in it: marks it async-only
   * if the linker defines async host functions (a synchronous call would make Wasmtime abort),
   * and refuses it without a WASI context if the linker defines WASI.
   */
  #prepareStore(store: Store, action: string): void {
    if (this.#async) requireAsync(store);
    if (this.#asyncWasi) requireFutures(store);
    if (this.#wasi && !storeHasWasi(store)) {
      throw new WasmtimeError(
        `Linker.${action}: this linker defines WASI, so the store needs a WASI context: ` +
          "new Store(engine, { wasi: new WasiConfig() })",
      );
    }
  }

  /** Allows later definitions to replace earlier ones with the same name. */
  allowShadowing(allow = true): this {
    ffi().wasmtime_linker_allow_shadowing(this.#pointer("allowShadowing"), allow);
    return this;
  }

  /**
   * Defines a host function `module.field` with signature `type`, usable by every store that
   * instantiates through this linker.
   */
  defineFunc(module: string, field: string, type: FuncType, fn: HostFunction): this {
    if (!(type instanceof FuncType)) {
      throw new WasmtimeError("Linker.defineFunc: type must be a FuncType");
    }
    if (typeof fn !== "function") {
      throw new WasmtimeError("Linker.defineFunc: fn must be a function");
    }
    const moduleBytes = name(module, "module name");
    const fieldBytes = name(field, "field name");
    const host = createHostCallback(type, fn, fn.name || `${module}.${field}`, this.#engine);
    const error = ffi().wasmtime_linker_define_func_unchecked(
      this.#pointer("defineFunc"),
      moduleBytes,
      BigInt(moduleBytes.length),
      fieldBytes,
      BigInt(fieldBytes.length),
      funcTypePointer(type, this.#engine, "Linker.defineFunc"),
      host.callback,
      host.data,
      host.finalizer,
    );
    check(error, `Linker.defineFunc(${module}.${field})`);
    this.#sync ??= `${module}.${field}`;
    this.#unbind(module, field);
    return this;
  }

  /**
   * Defines an async host function: `fn` may return a Promise, and the guest is suspended
   * until it settles. Only usable from async calls (`Func.callAsync`,
   * `Linker.instantiateAsync`); a rejected Promise fails the call with the original error.
   */
  defineAsyncFunc(module: string, field: string, type: FuncType, fn: HostFunction): this {
    return this.#defineFutureFunc(module, field, type, fn, false, "defineAsyncFunc");
  }

  /**
   * A host function performed between two polls of the call future that called it: by
   * callAsync, and if `blocking` (`fn` returns its results) by a blocking future driver too.
   */
  #defineFutureFunc(
    module: string,
    field: string,
    type: FuncType,
    fn: HostFunction,
    blocking: boolean,
    action: string,
  ): this {
    if (!(type instanceof FuncType)) {
      throw new WasmtimeError(`Linker.${action}: type must be a FuncType`);
    }
    if (typeof fn !== "function") {
      throw new WasmtimeError(`Linker.${action}: fn must be a function`);
    }
    const moduleBytes = name(module, "module name");
    const fieldBytes = name(field, "field name");
    // A blocking one leaves the store's synchronous (future-driven) calls allowed.
    if (!blocking) this.#async = true;
    const id = registerHost({
      close() {},
      async: { fn, type, name: fn.name || `${module}.${field}`, blocking },
    });
    check(
      ffi().wasmtime_deno_linker_define_async_func(
        this.#pointer(action),
        moduleBytes,
        BigInt(moduleBytes.length),
        fieldBytes,
        BigInt(fieldBytes.length),
        funcTypePointer(type, this.#engine, `Linker.${action}`),
        HOST_OWNER,
        id,
      ),
      `Linker.${action}(${module}.${field})`,
    );
    this.#unbind(module, field);
    return this;
  }

  /** Defines `module.name` as an existing extern of `store`. */
  define(store: Store, module: string, field: string, item: Extern): this {
    const context = contextOf(store, "Linker.define");
    this.#checkEngine(store, "store", "define");
    const moduleBytes = name(module, "module name");
    const fieldBytes = name(field, "field name");
    const struct = externToStruct(item, store, `Linker.define(${module}.${field})`);
    check(
      ffi().wasmtime_linker_define(
        this.#pointer("define"),
        context,
        moduleBytes,
        BigInt(moduleBytes.length),
        fieldBytes,
        BigInt(fieldBytes.length),
        struct,
      ),
      `Linker.define(${module}.${field})`,
    );
    this.#bind(store, module, field);
    return this;
  }

  /** Defines every export of `instance` under the module name `module`. */
  defineInstance(store: Store, module: string, instance: Instance): this {
    const context = contextOf(store, "Linker.defineInstance");
    this.#checkEngine(store, "store", "defineInstance");
    if (!(instance instanceof Instance) || instance.store !== store) {
      throw new WasmtimeError(
        "Linker.defineInstance: expected an Instance of the given store",
      );
    }
    const moduleBytes = name(module, "module name");
    check(
      ffi().wasmtime_linker_define_instance(
        this.#pointer("defineInstance"),
        context,
        moduleBytes,
        BigInt(moduleBytes.length),
        instanceStruct(instance),
      ),
      `Linker.defineInstance(${module})`,
    );
    for (const field of exportNames(instance)) this.#bind(store, module, field);
    return this;
  }

  /**
   * Defines `module`'s exports under the module name `moduleName`, instantiating it as needed (commands are
   * instantiated afresh for every call of an export; reactors once).
   */
  defineModule(store: Store, moduleName: string, module: Module): this {
    const context = contextOf(store, "Linker.defineModule");
    this.#checkEngine(store, "store", "defineModule");
    this.#checkEngine(module, "module", "defineModule");
    this.#prepareStore(store, "defineModule");
    assertWasiReady(store, module, "Linker.defineModule");
    const nameBytes = name(moduleName, "module name");
    const native = modulePointer(module, "Linker.defineModule");
    const linker = this.#pointer("defineModule");
    let exports: string[] | null;
    try {
      exports = module.exports.map((item) => item.name);
    } catch {
      exports = null; // types this binding cannot describe: bind the whole module name below
    }
    runGuest(store, `Linker.defineModule(${moduleName})`, () =>
      ffi().wasmtime_linker_module(
        linker,
        context,
        nameBytes,
        BigInt(nameBytes.length),
        native,
      ));
    // A command (exports _start) is defined as functions that instantiate it afresh in the
    // calling store; a reactor is instantiated once, in `store`.
    if (exports === null) this.#bind(store, moduleName, null);
    else if (exports.includes("_start")) exports.forEach((f) => this.#unbind(moduleName, f));
    else exports.forEach((field) => this.#bind(store, moduleName, field));
    return this;
  }

  /** Defines every still-unresolved import of `module` as a function that traps when called. */
  defineUnknownImportsAsTraps(module: Module): this {
    this.#checkEngine(module, "module", "defineUnknownImportsAsTraps");
    check(
      ffi().wasmtime_linker_define_unknown_imports_as_traps(
        this.#pointer("defineUnknownImportsAsTraps"),
        modulePointer(module, "Linker.defineUnknownImportsAsTraps"),
      ),
      "Linker.defineUnknownImportsAsTraps",
    );
    return this;
  }

  /**
   * Defines WASI preview 1 (`wasi_snapshot_preview1`). Stores used with this linker then need
   * a WASI context (`new Store(engine, { wasi })`).
   *
   * With `{ async: true }` every WASI call is a future: a deadline (`timeoutMs`, an
   * `AbortSignal`) then stops a guest even while it sleeps or waits for input, and `callAsync`
   * keeps the event loop running meanwhile. Wasmtime then accepts only async entry points on
   * stores using this linker: instantiate with `instantiateAsync` and call with `callAsync`
   * (`runWasi` does this for you, and also drives such calls synchronously).
   *
   * @example
   * ```ts
   * import { Engine, Linker } from "@wasmtime-deno/wasmtime";
   * using engine = new Engine({ epochInterruption: true });
   * using linker = new Linker(engine).defineWasi({ async: true });
   * ```
   */
  defineWasi(options: { async?: boolean } = {}): this {
    const linker = this.#pointer("defineWasi");
    check(
      options.async === true
        ? ffi().wasmtime_deno_linker_define_wasi_async(linker)
        : ffi().wasmtime_linker_define_wasi(linker),
      "Linker.defineWasi",
    );
    this.#wasi = true;
    if (options.async === true) this.#asyncWasi = true;
    return this;
  }

  /**
   * Instantiates `module` in `store`, resolving its imports from this linker. Throws a
   * {@linkcode WasmtimeError} naming the first unresolved import, or a {@linkcode Trap} if the
   * start function traps. Name the exports' types with `instantiate<E>` (see
   * {@linkcode Instance}).
   */
  instantiate<E extends { readonly [K in keyof E]: ExportValue } = Exports>(
    store: Store,
    module: Module,
  ): Instance<E> {
    const context = contextOf(store, "Linker.instantiate");
    this.#prepareStore(store, "instantiate");
    assertWasiReady(store, module, "Linker.instantiate");
    const struct = new Uint8Array(INSTANCE_SIZE);
    const linker = this.#pointer("instantiate");
    const native = modulePointer(module, "Linker.instantiate");
    if (futureDriven(store)) {
      // Async WASI: the start function runs as a call future polled on this thread.
      driveFutureBlocking(
        store,
        "Linker.instantiate",
        {},
        (context, trap, error) =>
          ffi().wasmtime_linker_instantiate_async(
            linker,
            context,
            native,
            struct,
            trap,
            error,
          ),
      );
      return instanceFromStruct(store, struct, module) as Instance<E>;
    }
    runGuest(
      store,
      "Linker.instantiate",
      (trap) => ffi().wasmtime_linker_instantiate(linker, context, native, struct, trap),
    );
    return instanceFromStruct(store, struct, module) as Instance<E>;
  }

  /**
   * Like {@linkcode instantiate}, but the start function runs as an async call (it may use
   * async host functions and does not block the event loop).
   */
  async instantiateAsync<E extends { readonly [K in keyof E]: ExportValue } = Exports>(
    store: Store,
    module: Module,
    options: CallOptions = {},
  ): Promise<Instance<E>> {
    contextOf(store, "Linker.instantiateAsync");
    this.#prepareStore(store, "instantiateAsync");
    assertWasiReady(store, module, "Linker.instantiateAsync");
    this.#pointer("instantiateAsync");
    modulePointer(module, "Linker.instantiateAsync");
    const struct = new Uint8Array(INSTANCE_SIZE);
    await driveFuture(
      store,
      "Linker.instantiateAsync",
      options,
      // Read the pointers only once the store is ours: the linker or module may have been
      // disposed while this call waited behind another one.
      (context, trap, error) =>
        ffi().wasmtime_linker_instantiate_async(
          this.#pointer("instantiateAsync"),
          context,
          modulePointer(module, "Linker.instantiateAsync"),
          struct,
          trap,
          error,
        ),
    );
    return instanceFromStruct(store, struct, module) as Instance<E>;
  }

  /**
   * Resolves and type-checks `module`'s imports once, for fast repeated instantiation
   * (`InstancePre.instantiate(store)`). Combine with `new Engine({ pooling: true })` for the
   * cheapest instantiation.
   */
  instantiatePre(module: Module): InstancePre {
    const out = new OutCell();
    check(
      ffi().wasmtime_linker_instantiate_pre(
        this.#pointer("instantiatePre"),
        modulePointer(module, "Linker.instantiatePre"),
        out.bytes,
      ),
      "Linker.instantiatePre",
    );
    return instancePreFromPointer(
      out.takePointer()!,
      module,
      (store, action) => {
        this.#prepareStore(store, action);
        assertWasiReady(store, module, action);
      },
    );
  }

  /** The definition of `module.name` in `store`, or undefined. */
  get(store: Store, module: string, field: string): Extern | undefined {
    const context = contextOf(store, "Linker.get");
    this.#prepareStore(store, "get");
    const moduleBytes = name(module, "module name");
    const fieldBytes = name(field, "field name");
    this.#checkStore(store, "get", module, [field]);
    const item = new Uint8Array(EXTERN_SIZE);
    const found = ffi().wasmtime_linker_get(
      this.#pointer("get"),
      context,
      moduleBytes,
      BigInt(moduleBytes.length),
      fieldBytes,
      BigInt(fieldBytes.length),
      item,
    );
    return found ? externFromStruct(store, item) : undefined;
  }

  /** The default export (`""` or `_start`) of the module defined as `name`. */
  getDefault(store: Store, module: string): Func {
    const context = contextOf(store, "Linker.getDefault");
    this.#prepareStore(store, "getDefault");
    const moduleBytes = name(module, "module name");
    this.#checkStore(store, "getDefault", module, ["", "_start"]);
    const struct = new Uint8Array(FUNC_SIZE);
    check(
      ffi().wasmtime_linker_get_default(
        this.#pointer("getDefault"),
        context,
        moduleBytes,
        BigInt(moduleBytes.length),
        struct,
      ),
      `Linker.getDefault(${module})`,
    );
    return funcFromStruct(store, struct);
  }

  /** True once disposed. */
  get disposed(): boolean {
    return this.#handle.disposed;
  }

  /**
   * Frees the linker. Instances made through it keep working, host functions included.
   * Idempotent.
   */
  [Symbol.dispose](): void {
    this.#handle.dispose();
  }
}
