/**
 * The component linker: JS host functions for a component's imports (at the root or inside
 * any interface), and instantiation into a store.
 *
 * Host functions are defined without a static type (Wasmtime's `func_new`): the type comes
 * with each call. Its marshalling is compiled once per type, found without reading the type
 * again when the function serves one component type (the usual case), and read per call
 * otherwise.
 *
 * @module
 */
import { ComponentError, WasmtimeError } from "../errors.ts";
import { check, failure, hostErrorPointer, takeError } from "../core/failure.ts";
import { measureJsStackFloor } from "../core/host.ts";
import { HOST_OWNER, type PreparedHostCall, registerHost } from "../core/registry.ts";
import { futureDriven, requireAsync, requireFutures, revalidateAllViews } from "../core/store.ts";
import { contextOf, type Store } from "../core/store.ts";
import { type Engine, enginePointer } from "../core/engine.ts";
import { enterGuest } from "../core/call.ts";
import {
  type CallOptions,
  driveFuture,
  driveFutureBlocking,
  type StartFuture,
} from "../core/async.ts";
import { FuncType } from "../core/types.ts";
import { COMPONENT_HOST_CALLBACK, type ComponentHostCallbackHandle, ffi } from "../ffi/symbols.ts";
import { Handle } from "../ffi/handle.ts";
import { OutCell, pointerFromBits, utf8 } from "../ffi/raw.ts";
import { copyNative, pointerAddress, releaseArena, takeArena } from "../ffi/component_raw.ts";
import { COMPONENT_INSTANCE_SIZE, COMPONENT_VAL_SIZE as VAL } from "../ffi/layout.ts";
import { type Component, componentPointer } from "./component.ts";
import { type ComponentFuncType, type ComponentItem, readFuncType, witFunc } from "./types.ts";
import { type Marshal, marshalOf, valueError } from "./func.ts";
import { type ComponentInstance, instanceFromStruct } from "./instance.ts";
import {
  beginHostResources,
  endResources,
  HostResource,
  watchDrops,
  withResourceScope,
} from "./resource.ts";

/**
 * A JS host function for a component import: one JS value per parameter (see the README's
 * value table), returning the result. For a `result<T, E>` import, return T, or throw a
 * {@linkcode ComponentError} to return `err(payload)`; any other exception traps the guest
 * and is rethrown to the caller of the component function.
 *
 * @example
 * ```ts
 * import type { ComponentHostFunction } from "@wasmtime-deno/wasmtime";
 * const log: ComponentHostFunction = (message: string) => console.log(message);
 * ```
 */
// deno-lint-ignore no-explicit-any
export type ComponentHostFunction = (...args: any[]) => unknown;

/**
 * An async JS host function for a component import ({@linkcode ComponentLinker.defineAsyncFunc}):
 * like a {@linkcode ComponentHostFunction}, but it may return a Promise, which the guest waits
 * for; a `result<T, E>` import resolves to T or rejects with a {@linkcode ComponentError}.
 *
 * @example
 * ```ts
 * import type { ComponentAsyncHostFunction } from "@wasmtime-deno/wasmtime";
 * const fetchLength: ComponentAsyncHostFunction = async (url: string) =>
 *   (await (await fetch(url)).arrayBuffer()).byteLength;
 * ```
 */
// deno-lint-ignore no-explicit-any
export type ComponentAsyncHostFunction = (...args: any[]) => unknown;

/** The core signature slot of a component host function's registry entry (unused). */
const NO_CORE_TYPE = new FuncType([], []);

/** Adds a definition to the linker instance given (null on success, else the error). */
type AddAt = (instance: Deno.PointerObject, name: Uint8Array<ArrayBuffer>) => Deno.PointerValue;

/**
 * One definition of a linker, applied to its native linker and replayed into its future linker
 * (see {@linkcode ComponentLinker}): `future` tells which one `linker` is.
 */
type Definition = (linker: Deno.PointerObject, future: boolean) => void;

interface HostDef {
  name: string;
  fn: ComponentHostFunction;
  /** Marshalling by WIT-like type text. */
  marshals: Map<string, Marshal>;
  /** The only marshalling, while the function serves a single type. */
  only: Marshal | undefined;
}

/** The `wasmtime_component_linker_instance_t **` out-parameter of add_instance. */
const instanceOut = new OutCell();

let trampolines: { trampoline: Deno.PointerObject; finalizer: Deno.PointerObject } | undefined;

/** The native trampoline of component host functions and its env finalizer. */
function componentTrampoline() {
  return trampolines ??= {
    trampoline: ffi().wasmtime_deno_component_host_trampoline()!,
    finalizer: ffi().wasmtime_deno_component_host_env_finalizer()!,
  };
}

function keyOf(path: readonly string[], name: string): string {
  return [...path, name].join("\u0000");
}

/** A function type's marshalling key: resource names are absent from the types Wasmtime passes. */
function marshalKey(type: ComponentFuncType): string {
  return witFunc(type).replace(/\b(own|borrow)<[^<>]*>/g, "$1");
}

/** Internal: a linker's native pointer (throws once it is disposed). */
export let componentLinkerPointer: (linker: ComponentLinker, action: string) => Deno.PointerObject;

/**
 * Internal (WASI 0.2): defines WASI 0.2 in `linker`; linked asynchronously, it is defined only
 * where the guest runs as a call future (see {@linkcode ComponentLinker}), and instantiation
 * then goes through {@linkcode instantiateFuture}.
 */
export let defineWasip2: (
  linker: ComponentLinker,
  asyncWasi: boolean,
  network?: { http: boolean },
) => void;

/**
 * Internal: instantiation of `component` into `store` as a call future (drive `start` with
 * driveFuture or driveFutureBlocking, then take the `instance`), through the linker whose host
 * functions run between polls; marks the store as accepting only call futures (or only async
 * calls, with async host functions) as Wasmtime then requires.
 */
export let instantiateFuture: (
  linker: ComponentLinker,
  store: Store,
  component: Component,
  action: string,
) => { start: StartFuture; instance(): ComponentInstance };

/**
 * Links a component's imports to JS host functions and instantiates it. A linker belongs to
 * one engine and can instantiate any number of components into stores of that engine.
 *
 * `instantiate` links host functions that run inline, on the guest's stack (the fastest
 * round trip). `instantiateAsync` links the same definitions so that they run between polls of
 * a call future, which async calls (`ComponentFunc.callAsync`) and async host functions
 * ({@linkcode defineAsyncFunc}) need; Wasmtime then accepts only call futures in that store, so
 * synchronous calls into it are driven as call futures on the calling thread (slower) and
 * async host functions need `callAsync`.
 *
 * @example
 * ```ts
 * import { Component, ComponentLinker, Engine, Store } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine();
 * using component = new Component(engine, `(component
 *   (import "double" (func $double (param "x" u32) (result u32)))
 *   (core func $d (canon lower (func $double)))
 *   (core module $m (import "" "d" (func $d (param i32) (result i32)))
 *     (func (export "f") (param i32) (result i32) local.get 0 call $d call $d))
 *   (core instance $i (instantiate $m (with "" (instance (export "d" (func $d))))))
 *   (func (export "quadruple") (param "x" u32) (result u32) (canon lift (core func $i "f"))))`);
 * using linker = new ComponentLinker(engine);
 * linker.defineFunc("", "double", (x: number) => x * 2);
 * using store = new Store(engine);
 * const instance = linker.instantiate(store, component);
 * console.log(instance.exports.quadruple(5)); // 20
 * ```
 */
export class ComponentLinker {
  readonly #handle: Handle;
  readonly #engine: Engine;
  readonly #hosts = new Map<string, HostDef>();
  /** Resource types defined from JS classes, by resource key (see resource.ts). */
  readonly #resources = new Map<string, HostResource>();
  /** The same, by path and name. */
  readonly #resourcesByPath = new Map<string, HostResource>();
  /**
   * The twin native linker used when the guest runs as a call future (instantiateAsync, async
   * WASI): every definition again, host functions recorded for JS to perform between polls.
   * Made on first use by replaying {@linkcode #definitions}.
   */
  #future: Handle | undefined;
  readonly #definitions: Definition[] = [];
  #shadowing = false;
  /** Some host function is async (defineAsyncFunc): instantiate only with instantiateAsync. */
  #async: string | undefined;
  /** Some definition needs the future linker to run as a call future (a host function). */
  #performed = false;
  /** WASI is linked asynchronously: every instantiation is a call future. */
  #asyncWasi = false;

  static {
    componentLinkerPointer = (linker, action) => linker.#handle.pointer(action);
    defineWasip2 = (linker, asyncWasi, network) => {
      // Sync WASI runs inline in both flavors; async WASI only where guests run as futures.
      linker.#apply((native, future) => {
        if (asyncWasi && !future) return;
        check(
          ffi().wasmtime_deno_component_linker_add_wasip2(native, asyncWasi),
          "cannot link WASI 0.2",
        );
        // The network's checks are answered between polls: only ever linked asynchronously
        // (the caller refuses network with sync WASI).
        if (network !== undefined && asyncWasi) {
          check(
            ffi().wasmtime_deno_component_linker_add_network(native, network.http),
            "cannot link the WASI 0.2 network",
          );
        }
      }, "runWasi");
      if (asyncWasi) linker.#asyncWasi = true;
    };
    instantiateFuture = (linker, store, component, action) =>
      linker.#instantiateFuture(store, component, action);
  }

  /** Creates an empty linker for `engine`. */
  constructor(engine: Engine) {
    this.#engine = engine;
    this.#handle = new Handle(
      this,
      "ComponentLinker",
      ffi().wasmtime_component_linker_new(enginePointer(engine, "new ComponentLinker")),
      (p) => ffi().wasmtime_component_linker_delete(p),
    );
  }

  /** The engine this linker belongs to. */
  get engine(): Engine {
    return this.#engine;
  }

  /** Whether later definitions may replace earlier ones of the same name (default false). */
  allowShadowing(allow: boolean): void {
    this.#shadowing = allow === true;
    ffi().wasmtime_component_linker_allow_shadowing(
      this.#handle.pointer("allowShadowing"),
      this.#shadowing,
    );
    if (this.#future !== undefined) {
      ffi().wasmtime_component_linker_allow_shadowing(
        this.#future.pointer("allowShadowing"),
        this.#shadowing,
      );
    }
  }

  /**
   * Defines the import `name` inside the interface `path` (`"local:hello/host"`; `""` for a
   * root-level import; an array for instances nested in instances) as the JS function `fn`.
   * Its type comes from the component that imports it. Throws a {@linkcode WasmtimeError} if
   * the name is already defined (see {@linkcode allowShadowing}). `fn` must return its result
   * (use {@linkcode defineAsyncFunc} for one that returns a Promise).
   */
  defineFunc(path: string | readonly string[], name: string, fn: ComponentHostFunction): void {
    this.#defineHost(path, name, fn, false, "defineFunc");
  }

  /**
   * Defines the import `name` inside the interface `path` (as {@linkcode defineFunc}) as an
   * async JS function: it may return a Promise, and the guest waits until it settles while the
   * event loop runs. Values are mapped as for `defineFunc`; a rejection (other than a
   * {@linkcode ComponentError} for a `result<T, E>` import) traps the guest and is rethrown to
   * the caller of the component function. Components importing it are instantiated with
   * {@linkcode instantiateAsync} and called with `ComponentFunc.callAsync`.
   *
   * @example
   * ```ts
   * import { Component, ComponentLinker, Engine, Store } from "@wasmtime-deno/wasmtime";
   * using engine = new Engine({ epochInterruption: true });
   * using component = new Component(engine, `(component
   *   (import "wait" (func $wait (param "ms" u32) (result u32)))
   *   (core func $w (canon lower (func $wait)))
   *   (core module $m (import "" "w" (func $w (param i32) (result i32)))
   *     (func (export "f") (result i32) i32.const 10 call $w))
   *   (core instance $i (instantiate $m (with "" (instance (export "w" (func $w))))))
   *   (func (export "run") (result u32) (canon lift (core func $i "f"))))`);
   * using linker = new ComponentLinker(engine);
   * linker.defineAsyncFunc("", "wait", async (ms: number) => {
   *   await new Promise((resolve) => setTimeout(resolve, ms));
   *   return ms * 2;
   * });
   * using store = new Store(engine);
   * const instance = await linker.instantiateAsync(store, component);
   * console.log(await instance.getFunc("run")!.callAsync()); // 20
   * ```
   */
  defineAsyncFunc(
    path: string | readonly string[],
    name: string,
    fn: ComponentAsyncHostFunction,
  ): void {
    this.#defineHost(path, name, fn, true, "defineAsyncFunc");
  }

  #defineHost(
    path: string | readonly string[],
    name: string,
    fn: ComponentHostFunction,
    isAsync: boolean,
    action: string,
  ): void {
    const segments = typeof path === "string" ? (path === "" ? [] : [path]) : [...path];
    if (segments.some((s) => typeof s !== "string" || s === "") || typeof name !== "string") {
      throw new WasmtimeError(
        `ComponentLinker.${action}(path, name, fn): path must be an interface name, "" or an ` +
          "array of names, and name a string",
      );
    }
    if (typeof fn !== "function") {
      throw new WasmtimeError(`ComponentLinker.${action}(path, name, fn): fn must be a function`);
    }
    measureJsStackFloor();
    const display = segments.length === 0 ? name : `${segments.join("/")}#${name}`;
    const def: HostDef = { name: display, fn, marshals: new Map(), only: undefined };
    this.#apply((native, future) => {
      if (future) {
        // Performed by JS between two polls of the call future (see native/src/component_async.rs).
        const id = registerHost({
          close() {},
          async: {
            fn,
            type: NO_CORE_TYPE,
            name: display,
            blocking: !isAsync,
            prepare: (info) => prepareHostCall(def, info, isAsync),
          },
        });
        this.#addAt(
          native,
          segments,
          name,
          display,
          action,
          (instance, bytes) =>
            ffi().wasmtime_deno_component_linker_instance_add_async_func(
              instance,
              bytes,
              BigInt(bytes.length),
              HOST_OWNER,
              id,
            ),
        );
      } else if (!isAsync) {
        this.#addAt(native, segments, name, display, action, syncHost(def));
      }
    }, action);
    if (isAsync) this.#async ??= display;
    this.#performed = true;
    this.#hosts.set(keyOf(segments, name), def);
  }

  /** Runs `definition` on the native linker (and the future linker if made), and records it. */
  #apply(definition: Definition, action: string): void {
    definition(this.#handle.pointer(action), false);
    if (this.#future !== undefined) definition(this.#future.pointer(action), true);
    this.#definitions.push(definition);
  }

  /** Adds a definition at `path` / `name` of the native linker `linker` through `add`. */
  #addAt(
    linker: Deno.PointerObject,
    segments: readonly string[],
    name: string,
    display: string,
    action: string,
    add: AddAt,
  ): void {
    const chain: Deno.PointerObject[] = [ffi().wasmtime_component_linker_root(linker)!];
    try {
      for (const segment of segments) {
        const bytes = utf8(segment);
        check(
          ffi().wasmtime_component_linker_instance_add_instance(
            chain[chain.length - 1],
            bytes,
            BigInt(bytes.length),
            instanceOut.cleared(),
          ),
          `ComponentLinker.${action}: cannot define the instance ${segment}`,
        );
        chain.push(instanceOut.takePointer()!);
      }
      const error = add(chain[chain.length - 1], utf8(name));
      if (error !== null) throw takeError(error, `ComponentLinker.${action}(${display})`);
    } finally {
      // Each linker instance borrows its parent: free the innermost first.
      for (let i = chain.length - 1; i >= 0; i--) {
        ffi().wasmtime_component_linker_instance_delete(chain[i]);
      }
    }
  }

  /** The future linker's pointer, made (every definition replayed) on first use. */
  #futurePointer(action: string): Deno.PointerObject {
    this.#handle.pointer(action); // throws once disposed
    if (this.#future === undefined) {
      const future = new Handle(
        this,
        "ComponentLinker",
        ffi().wasmtime_component_linker_new(enginePointer(this.#engine, action)),
        (p) => ffi().wasmtime_component_linker_delete(p),
      );
      const pointer = future.pointer(action);
      ffi().wasmtime_component_linker_allow_shadowing(pointer, this.#shadowing);
      try {
        for (const definition of this.#definitions) definition(pointer, true);
      } catch (error) {
        future.dispose();
        throw error;
      }
      this.#future = future;
    }
    return this.#future.pointer(action);
  }

  /**
   * Defines the imported resource `name` inside the interface `path` (as in
   * {@linkcode defineFunc}) from the JS class `cls`, as jco's import objects do: the guest's
   * `[constructor]name` runs `new cls(...)`, `[method]name.do-it` calls the object's `doIt`,
   * `[static]name.make` calls `cls.make` (lowerCamelCase names). Those imports are defined at
   * instantiation unless {@linkcode defineFunc} defined them first.
   *
   * The guest's handles are the JS objects themselves: an object returned as `own<name>` is
   * registered in the store (one entry per object, however many handles), every handle the
   * guest passes back is that same object, and once the guest dropped its last own handle the
   * object's `[Symbol.dispose]()` is called (if it has one) after the call in which the drop
   * happened. An error it throws is reported with `reportError` (there is no caller to throw
   * to). Objects the guest still holds when its store is disposed are not disposed.
   *
   * @example
   * ```ts
   * import { Component, ComponentLinker, Engine, Store } from "@wasmtime-deno/wasmtime";
   * class Logger {
   *   lines: string[] = [];
   *   log(line: string) {
   *     this.lines.push(line);
   *   }
   * }
   * using engine = new Engine();
   * using linker = new ComponentLinker(engine);
   * linker.defineResource("local:demo/host", "logger", Logger);
   * // a component importing `local:demo/host` with `resource logger { constructor(); log: func(line: string); }`
   * // now gets Logger objects for its logger handles.
   * ```
   */
  defineResource(
    path: string | readonly string[],
    name: string,
    cls: new (...args: never[]) => object,
  ): void {
    const segments = typeof path === "string" ? (path === "" ? [] : [path]) : [...path];
    if (segments.some((s) => typeof s !== "string" || s === "") || typeof name !== "string") {
      throw new WasmtimeError(
        'ComponentLinker.defineResource(path, name, cls): path must be an interface name, "" or ' +
          "an array of names, and name a string",
      );
    }
    if (typeof cls !== "function") {
      throw new WasmtimeError(
        "ComponentLinker.defineResource(path, name, cls): cls must be a class",
      );
    }
    const display = segments.length === 0 ? name : `${segments.join("/")}#${name}`;
    const resource = new HostResource(
      segments.length === 0 ? undefined : segments.join("/"),
      name,
      cls,
    );
    watchDrops();
    const type = resource.nativeType();
    try {
      this.#addAt(
        this.#handle.pointer("defineResource"),
        segments,
        name,
        display,
        "defineResource",
        (instance, bytes) =>
          ffi().wasmtime_component_linker_instance_add_resource(
            instance,
            bytes,
            BigInt(bytes.length),
            type,
            ffi().wasmtime_deno_component_resource_destructor(),
            resource.destructorData(),
            ffi().wasmtime_deno_component_resource_finalizer(),
          ),
      );
    } finally {
      ffi().wasmtime_component_resource_type_delete(type);
    }
    this.#resources.set(resource.key, resource);
    this.#resourcesByPath.set(keyOf(segments, name), resource);
  }

  /** Defines every import of `component` that is not defined yet as a function that traps. */
  defineUnknownImportsAsTraps(component: Component): void {
    this.#apply((native, future) => {
      // Replayed later into the future linker, maybe after the component was disposed.
      if (future && component.disposed) return;
      check(
        ffi().wasmtime_component_linker_define_unknown_imports_as_traps(
          native,
          componentPointer(component, "defineUnknownImportsAsTraps"),
        ),
        "ComponentLinker.defineUnknownImportsAsTraps",
      );
    }, "defineUnknownImportsAsTraps");
  }

  #checkEngines(store: Store, component: Component, action: string): void {
    if (store.engine !== this.#engine || component.engine !== this.#engine) {
      throw new WasmtimeError(
        `ComponentLinker.${action}: the store, the component and the linker must belong to ` +
          "the same Engine",
      );
    }
  }

  /**
   * Instantiates `component` into `store`. Throws a {@linkcode WasmtimeError} naming a
   * missing import, or a `Trap` if the component's start traps.
   */
  instantiate(store: Store, component: Component): ComponentInstance {
    this.#checkEngines(store, component, "instantiate");
    if (this.#async !== undefined) {
      throw new WasmtimeError(
        `ComponentLinker.instantiate: ${this.#async} is an async host function ` +
          "(defineAsyncFunc), which runs only in async calls: use instantiateAsync",
      );
    }
    this.#prepareHosts(component.imports, []);
    const context = contextOf(store, "instantiate");
    if (this.#asyncWasi || futureDriven(store)) {
      // Only call futures may enter the store: instantiate as one, on this thread.
      const call = this.#instantiateFuture(store, component, "ComponentLinker.instantiate");
      driveFutureBlocking(store, "ComponentLinker.instantiate", {}, call.start);
      return call.instance();
    }
    const struct = new Uint8Array(COMPONENT_INSTANCE_SIZE);
    const linker = this.#handle.pointer("instantiate");
    const native = componentPointer(component, "instantiate");
    const error = enterGuest(
      store,
      () => ffi().wasmtime_component_linker_instantiate(linker, context, native, struct),
    );
    if (error !== null) {
      const thrown = failure(error, null, "cannot instantiate the component");
      const missing = this.#undefinedResources(component.imports, []);
      if (
        thrown instanceof WasmtimeError &&
        /resource implementation is missing/.test(thrown.message) &&
        missing.length > 0
      ) {
        thrown.message += `; resources without ComponentLinker.defineResource: ${
          missing.join(", ")
        }`;
      }
      throw thrown;
    }
    return instanceFromStruct(store, struct, component, this.#resources);
  }

  /**
   * Instantiates `component` into `store` as an async call (the event loop keeps running; the
   * `options` deadline and signal apply as for `ComponentFunc.callAsyncWith`). Host functions
   * then run between polls of the guest's call future, so its calls may be async
   * (`ComponentFunc.callAsync`) and use async host functions. If the linker defines any host
   * function, the store then accepts only call futures: synchronous calls into it still work
   * (driven on this thread) unless the linker has async host functions, which need callAsync.
   *
   * @example
   * ```ts
   * import { Component, ComponentLinker, Engine, Store } from "@wasmtime-deno/wasmtime";
   * using engine = new Engine({ epochInterruption: true });
   * using component = new Component(engine, `(component
   *   (import "log" (func $log (param "n" u32)))
   *   (core func $l (canon lower (func $log)))
   *   (core module $m (import "" "l" (func $l (param i32)))
   *     (func (export "f") i32.const 7 call $l))
   *   (core instance $i (instantiate $m (with "" (instance (export "l" (func $l))))))
   *   (func (export "run") (canon lift (core func $i "f"))))`);
   * using linker = new ComponentLinker(engine);
   * linker.defineFunc("", "log", (n: number) => console.log(n));
   * using store = new Store(engine);
   * const instance = await linker.instantiateAsync(store, component, { timeoutMs: 1_000 });
   * await instance.getFunc("run")!.callAsync(); // logs 7
   * ```
   */
  async instantiateAsync(
    store: Store,
    component: Component,
    options: CallOptions = {},
  ): Promise<ComponentInstance> {
    this.#checkEngines(store, component, "instantiateAsync");
    contextOf(store, "ComponentLinker.instantiateAsync");
    this.#prepareHosts(component.imports, []);
    const action = "ComponentLinker.instantiateAsync";
    const call = this.#instantiateFuture(store, component, action);
    await driveFuture(store, action, options, call.start);
    return call.instance();
  }

  #instantiateFuture(
    store: Store,
    component: Component,
    action: string,
  ): { start: StartFuture; instance(): ComponentInstance } {
    if (this.#resources.size > 0) {
      // Host resources are tracked per synchronous call (see resource.ts).
      throw new WasmtimeError(
        `${action}: a linker with host resources (defineResource) instantiates only with ` +
          "instantiate, without async WASI, for now",
      );
    }
    const future = this.#performed || this.#asyncWasi;
    // Wasmtime refuses synchronous calls into a store whose instances use async host functions.
    if (this.#async !== undefined) requireAsync(store);
    else if (future) requireFutures(store);
    const struct = new Uint8Array(COMPONENT_INSTANCE_SIZE);
    return {
      // Pointers are read once the store is ours: the linker or the component may have been
      // disposed while the call waited behind another one.
      start: (context, _trap, error) =>
        ffi().wasmtime_deno_component_instantiate_async(
          future ? this.#futurePointer(action) : this.#handle.pointer(action),
          context,
          componentPointer(component, action),
          struct,
          error,
        ),
      instance: () => instanceFromStruct(store, struct, component),
    };
  }

  /** Registers the types `imports` expect of this linker's host functions. */
  #prepareHosts(imports: readonly ComponentItem[], path: string[]): void {
    for (const item of imports) {
      if (item.kind === "instance") {
        this.#prepareHosts(item.exports, [...path, item.name]);
      } else if (item.kind === "func") {
        let def = this.#hosts.get(keyOf(path, item.name));
        if (def === undefined) {
          const fn = this.#resourceFunction(path, item.name);
          if (fn === undefined) continue;
          this.defineFunc(path, item.name, fn);
          def = this.#hosts.get(keyOf(path, item.name))!;
        }
        const key = marshalKey(item.type);
        if (!def.marshals.has(key)) {
          def.marshals.set(
            key,
            withResourceScope({ host: this.#resources }, () => marshalOf(item.type)),
          );
        }
        def.only = def.marshals.size === 1 ? def.marshals.get(key) : undefined;
      }
    }
  }

  /** The imported resources (`path#name`) this linker has no class for. */
  #undefinedResources(imports: readonly ComponentItem[], path: string[]): string[] {
    return imports.flatMap((item) =>
      item.kind === "instance"
        ? this.#undefinedResources(item.exports, [...path, item.name])
        : item.kind === "resource" && !this.#resourcesByPath.has(keyOf(path, item.name))
        ? [[...path, item.name].join("#")]
        : []
    );
  }

  /** The function of a defined resource for the import `name` at `path`, if it is one. */
  #resourceFunction(path: readonly string[], name: string) {
    const match = /^\[(?:constructor|method|static)\]([^.]+)/.exec(name);
    if (match === null) return undefined;
    return this.#resourcesByPath.get(keyOf(path, match[1]))?.functionFor(name);
  }

  /** True once disposed. */
  get disposed(): boolean {
    return this.#handle.disposed;
  }

  /** Frees the linker; instances made with it keep working. Idempotent. */
  [Symbol.dispose](): void {
    this.#handle.dispose();
    this.#future?.dispose();
  }
}

/**
 * The definition of `def` as a host function that runs inline (the native trampoline of
 * native/src/component_host.rs around a Deno callback).
 */
function syncHost(def: HostDef): AddAt {
  return (instance, name) => {
    // Set last by a body that ran to the end (returned or caught): the native trampoline traps
    // the guest when it is not set (see native/src/component_host.rs).
    const done = new Uint32Array(1);
    const callback: ComponentHostCallbackHandle = new Deno.UnsafeCallback(
      COMPONENT_HOST_CALLBACK,
      (type, args, nargs, results, nresults) => {
        try {
          hostCall(def, type!, args, nargs, results, nresults);
          return null;
        } catch (error) {
          return hostErrorPointer(error, def.name);
        } finally {
          done[0] = 1;
        }
      },
    );
    // Wasmtime frees the env (queueing its id) once no linker or store can call the function;
    // only then is the callback closed. The callback's body holds the done word, so it lives
    // as long as the env that points to it.
    const id = registerHost({ close: () => callback.close() });
    const env = ffi().wasmtime_deno_component_host_env_new(
      callback.pointer,
      done,
      HOST_OWNER,
      id,
    )!;
    const { trampoline, finalizer } = componentTrampoline();
    return ffi().wasmtime_component_linker_instance_add_func(
      instance,
      name,
      BigInt(name.length),
      trampoline,
      env,
      finalizer,
    );
  };
}

/** The marshalling of one host call, checked against what Wasmtime passed. */
function hostMarshal(
  def: HostDef,
  type: Deno.PointerObject,
  nargs: number,
  nresults: number,
): Marshal {
  let marshal = def.only;
  if (marshal === undefined || marshal.paramLifts.length !== nargs) {
    const read = readFuncType(type);
    const key = marshalKey(read);
    marshal = def.marshals.get(key);
    if (marshal === undefined) def.marshals.set(key, marshal = marshalOf(read));
  }
  if (marshal.paramLifts.length !== nargs || (marshal.resultLower ? 1 : 0) !== nresults) {
    throw new WasmtimeError(`host function ${def.name}: Wasmtime passed an unexpected arity`);
  }
  return marshal;
}

/** A host call's arguments, lifted. */
function liftHostArgs(marshal: Marshal, args: Deno.PointerValue, nargs: number): unknown[] {
  const values: unknown[] = new Array(nargs);
  if (nargs > 0) {
    const view = new DataView(copyNative(pointerAddress(args), nargs * VAL).buffer);
    for (let i = 0; i < nargs; i++) values[i] = marshal.paramLifts[i](view, i * VAL);
  }
  return values;
}

function refusePromise(def: HostDef, result: unknown): void {
  if (result instanceof Promise) {
    result.catch(() => {});
    throw new WasmtimeError(
      `host function ${def.name} returned a Promise; define it with ` +
        "ComponentLinker.defineAsyncFunc (or make it synchronous)",
    );
  }
}

/** A `result<T, E>` import's value: T returned is `ok`, a ComponentError thrown is `err`. */
function asResult(error: unknown): { tag: "err"; val: unknown } {
  if (error instanceof ComponentError) return { tag: "err", val: error.payload };
  throw error;
}

/** Lowers `result` and hands Wasmtime a deep copy in `results`. */
function lowerHostResult(
  def: HostDef,
  marshal: Marshal,
  result: unknown,
  results: Deno.PointerValue,
): void {
  const lower = marshal.resultLower;
  if (lower === undefined) return;
  const arena = takeArena();
  try {
    const at = arena.alloc(VAL);
    try {
      lower(result, arena, arena.firstView, at);
    } catch (error) {
      throw valueError(def.name, "result", error);
    }
    // Wasmtime frees the results with its own allocator: hand it a deep copy it allocated.
    ffi().wasmtime_component_val_clone(arena.firstPointer(at), results);
  } finally {
    releaseArena(arena);
  }
}

/** Runs one host call: arguments lifted, `fn` called, the result lowered and handed over. */
function hostCall(
  def: HostDef,
  type: Deno.PointerObject,
  args: Deno.PointerValue,
  nargs: number,
  results: Deno.PointerValue,
  nresults: number,
): void {
  const marshal = hostMarshal(def, type, nargs, nresults);
  // Resource handles lifted from the arguments and lowered into the result are tracked for
  // the whole host call (see resource.ts); other signatures skip the bookkeeping.
  const outer = marshal.resources ? beginHostResources() : undefined;
  try {
    const values = liftHostArgs(marshal, args, nargs);
    revalidateAllViews();
    let result: unknown;
    try {
      result = def.fn(...values);
      refusePromise(def, result);
      if (marshal.unwrapResult) result = { tag: "ok", val: result };
    } catch (error) {
      if (!marshal.unwrapResult) throw error;
      result = asResult(error);
    }
    lowerHostResult(def, marshal, result, results);
  } finally {
    if (outer !== undefined) endResources(outer, true);
  }
}

/**
 * A host call recorded by a call future (`[id, type, args, nargs, results, nresults]`, see
 * native/src/component_async.rs), made ready for the driver to run between polls: `run` calls
 * the function (its Promise awaited by the driver if `isAsync`), `finish` writes the result.
 */
function prepareHostCall(def: HostDef, info: BigUint64Array, isAsync: boolean): PreparedHostCall {
  const nresults = Number(info[5]);
  const nargs = Number(info[3]);
  const marshal = hostMarshal(def, pointerFromBits(info[1])!, nargs, nresults);
  if (marshal.resources) {
    // Resource handles are tracked per synchronous host call (see resource.ts).
    throw new WasmtimeError(
      `host function ${def.name}: resources cross only in synchronous host calls for now ` +
        "(instantiate, not instantiateAsync or async WASI)",
    );
  }
  const values = liftHostArgs(marshal, pointerFromBits(info[2]), nargs);
  const unwrap = marshal.unwrapResult;
  return {
    run() {
      let result: unknown;
      try {
        result = def.fn(...values);
        if (!isAsync) refusePromise(def, result);
      } catch (error) {
        if (!unwrap) throw error;
        return asResult(error);
      }
      if (!unwrap) return result;
      return result instanceof Promise
        ? result.then((val) => ({ tag: "ok", val }), asResult)
        : { tag: "ok", val: result };
    },
    finish: (result) => lowerHostResult(def, marshal, result, pointerFromBits(info[4])),
  };
}
