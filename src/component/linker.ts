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
import { HOST_OWNER, registerHost } from "../core/registry.ts";
import { revalidateAllViews } from "../core/store.ts";
import { contextOf, type Store } from "../core/store.ts";
import { type Engine, enginePointer } from "../core/engine.ts";
import { enterGuest } from "../core/call.ts";
import { COMPONENT_HOST_CALLBACK, type ComponentHostCallbackHandle, ffi } from "../ffi/symbols.ts";
import { Handle } from "../ffi/handle.ts";
import { OutCell, utf8 } from "../ffi/raw.ts";
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
 * Links a component's imports to JS host functions and instantiates it. A linker belongs to
 * one engine and can instantiate any number of components into stores of that engine.
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

  static {
    componentLinkerPointer = (linker, action) => linker.#handle.pointer(action);
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
    ffi().wasmtime_component_linker_allow_shadowing(
      this.#handle.pointer("allowShadowing"),
      allow === true,
    );
  }

  /**
   * Defines the import `name` inside the interface `path` (`"local:hello/host"`; `""` for a
   * root-level import; an array for instances nested in instances) as the JS function `fn`.
   * Its type comes from the component that imports it. Throws a {@linkcode WasmtimeError} if
   * the name is already defined (see {@linkcode allowShadowing}).
   */
  defineFunc(path: string | readonly string[], name: string, fn: ComponentHostFunction): void {
    const segments = typeof path === "string" ? (path === "" ? [] : [path]) : [...path];
    if (segments.some((s) => typeof s !== "string" || s === "") || typeof name !== "string") {
      throw new WasmtimeError(
        'ComponentLinker.defineFunc(path, name, fn): path must be an interface name, "" or an ' +
          "array of names, and name a string",
      );
    }
    if (typeof fn !== "function") {
      throw new WasmtimeError("ComponentLinker.defineFunc(path, name, fn): fn must be a function");
    }
    measureJsStackFloor();
    const display = segments.length === 0 ? name : `${segments.join("/")}#${name}`;
    const def: HostDef = { name: display, fn, marshals: new Map(), only: undefined };
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
          return hostErrorPointer(error, display);
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
    const chain: Deno.PointerObject[] = [
      ffi().wasmtime_component_linker_root(this.#handle.pointer("defineFunc"))!,
    ];
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
          `ComponentLinker.defineFunc: cannot define the instance ${segment}`,
        );
        chain.push(instanceOut.takePointer()!);
      }
      const bytes = utf8(name);
      const error = ffi().wasmtime_component_linker_instance_add_func(
        chain[chain.length - 1],
        bytes,
        BigInt(bytes.length),
        trampoline,
        env,
        finalizer,
      );
      if (error !== null) throw takeError(error, `ComponentLinker.defineFunc(${display})`);
    } finally {
      // Each linker instance borrows its parent: free the innermost first.
      for (let i = chain.length - 1; i >= 0; i--) {
        ffi().wasmtime_component_linker_instance_delete(chain[i]);
      }
    }
    this.#hosts.set(keyOf(segments, name), def);
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
    const chain: Deno.PointerObject[] = [
      ffi().wasmtime_component_linker_root(this.#handle.pointer("defineResource"))!,
    ];
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
          `ComponentLinker.defineResource: cannot define the instance ${segment}`,
        );
        chain.push(instanceOut.takePointer()!);
      }
      const bytes = utf8(name);
      const error = ffi().wasmtime_component_linker_instance_add_resource(
        chain[chain.length - 1],
        bytes,
        BigInt(bytes.length),
        type,
        ffi().wasmtime_deno_component_resource_destructor(),
        resource.destructorData(),
        ffi().wasmtime_deno_component_resource_finalizer(),
      );
      if (error !== null) throw takeError(error, `ComponentLinker.defineResource(${display})`);
    } finally {
      for (let i = chain.length - 1; i >= 0; i--) {
        ffi().wasmtime_component_linker_instance_delete(chain[i]);
      }
      ffi().wasmtime_component_resource_type_delete(type);
    }
    this.#resources.set(resource.key, resource);
    this.#resourcesByPath.set(keyOf(segments, name), resource);
  }

  /** Defines every import of `component` that is not defined yet as a function that traps. */
  defineUnknownImportsAsTraps(component: Component): void {
    check(
      ffi().wasmtime_component_linker_define_unknown_imports_as_traps(
        this.#handle.pointer("defineUnknownImportsAsTraps"),
        componentPointer(component, "defineUnknownImportsAsTraps"),
      ),
      "ComponentLinker.defineUnknownImportsAsTraps",
    );
  }

  /**
   * Instantiates `component` into `store`. Throws a {@linkcode WasmtimeError} naming a
   * missing import, or a `Trap` if the component's start traps.
   */
  instantiate(store: Store, component: Component): ComponentInstance {
    if (store.engine !== this.#engine || component.engine !== this.#engine) {
      throw new WasmtimeError(
        "ComponentLinker.instantiate: the store, the component and the linker must belong to " +
          "the same Engine",
      );
    }
    this.#prepareHosts(component.imports, []);
    const context = contextOf(store, "instantiate");
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
  if (!marshal.resources) return runHost(def, marshal, args, nargs, results);
  const outer = beginHostResources();
  try {
    runHost(def, marshal, args, nargs, results);
  } finally {
    endResources(outer, true);
  }
}

/** The host call proper: arguments lifted, `fn` called, the result lowered and handed over. */
function runHost(
  def: HostDef,
  marshal: Marshal,
  args: Deno.PointerValue,
  nargs: number,
  results: Deno.PointerValue,
): void {
  const values: unknown[] = new Array(nargs);
  if (nargs > 0) {
    const view = new DataView(copyNative(pointerAddress(args), nargs * VAL).buffer);
    for (let i = 0; i < nargs; i++) values[i] = marshal.paramLifts[i](view, i * VAL);
  }
  revalidateAllViews();
  let result: unknown;
  try {
    result = def.fn(...values);
    if (result instanceof Promise) {
      result.catch(() => {});
      throw new WasmtimeError(
        `host function ${def.name} returned a Promise; component host functions must be ` +
          "synchronous",
      );
    }
    if (marshal.unwrapResult) result = { tag: "ok", val: result };
  } catch (error) {
    if (!(marshal.unwrapResult && error instanceof ComponentError)) throw error;
    result = { tag: "err", val: error.payload };
  }
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
