/**
 * Component instances: the exports of an instantiated component, as JS functions (root
 * exports) and objects of functions (interface exports), looked up once at instantiation.
 *
 * @module
 */
import { WasmtimeError } from "../errors.ts";
import { contextOf, type Store } from "../core/store.ts";
import { ffi } from "../ffi/symbols.ts";
import { utf8 } from "../ffi/raw.ts";
import { COMPONENT_FUNC_SIZE } from "../ffi/layout.ts";
import { fromRaw, takeRaw } from "../internal.ts";
import type { Component } from "./component.ts";
import type { ComponentItem } from "./types.ts";
import { type ComponentFunc, componentFunc, plainFunction } from "./func.ts";
import { camelCase } from "./values.ts";
import { GuestResource, type HostResource, withResourceScope } from "./resource.ts";

function asFunction(func: ComponentFunc | (() => never)): (...args: unknown[]) => unknown {
  return typeof func === "function" ? func : plainFunction(func);
}

/**
 * The exports of a component instance: each root function under its lowerCamelCase name, each
 * exported interface under its full name (`"local:hello/api"`) as an object of lowerCamelCase
 * functions, as jco names them.
 *
 * @example
 * ```ts
 * import type { ComponentExports } from "@wasmtime-deno/wasmtime";
 * function area(exports: ComponentExports, radius: number): number {
 *   const api = exports["local:shapes/api"] as Record<string, (s: unknown) => number>;
 *   return api.area({ tag: "circle", val: radius });
 * }
 * ```
 */
// deno-lint-ignore no-explicit-any
export type ComponentExports = Record<string, any>;

/** Internal: wraps an instantiated `wasmtime_component_instance_t`. */
export let instanceFromStruct: (
  store: Store,
  struct: Uint8Array<ArrayBuffer>,
  component: Component,
  hostResources?: ReadonlyMap<string, HostResource>,
) => ComponentInstance;

/**
 * An instantiated component in a store. Made by `ComponentLinker.instantiate`; it lives as
 * long as its store (calls throw once the store is disposed).
 *
 * @example
 * ```ts
 * import { Component, ComponentLinker, Engine, Store } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine();
 * using component = new Component(engine, `(component
 *   (core module $m (func (export "f") (result i32) i32.const 7))
 *   (core instance $i (instantiate $m))
 *   (func (export "lucky-number") (result u8) (canon lift (core func $i "f"))))`);
 * using linker = new ComponentLinker(engine);
 * using store = new Store(engine);
 * const instance = linker.instantiate(store, component);
 * console.log(instance.exports.luckyNumber()); // 7
 * console.log(instance.getFunc("lucky-number")!.toString()); // lucky-number: func() -> u8
 * ```
 */
export class ComponentInstance {
  readonly #store: Store;
  readonly #funcs = new Map<string, ComponentFunc>();
  /** The instance's exports (see {@linkcode ComponentExports}). */
  readonly exports: ComponentExports;

  static {
    instanceFromStruct = (store, struct, component, hostResources) =>
      fromRaw(ComponentInstance, { store, struct, component, hostResources });
  }

  /** Not public: instances are made by `ComponentLinker.instantiate`. */
  constructor() {
    const raw = takeRaw<{
      store: Store;
      struct: Uint8Array<ArrayBuffer>;
      component: Component;
      hostResources?: ReadonlyMap<string, HostResource>;
    }>();
    if (raw === undefined) {
      throw new WasmtimeError(
        "ComponentInstance has no public constructor: use ComponentLinker.instantiate",
      );
    }
    this.#store = raw.store;
    // Exported resources become classes first: the functions' marshalling refers to them.
    const guest = new Map<string, GuestResource>();
    const classes = (items: readonly ComponentItem[], iface: string | undefined) => {
      const made = new Map<string, GuestResource>();
      for (const item of items) {
        if (item.kind !== "resource") continue;
        const resource = new GuestResource(this.#store, item.name, iface);
        guest.set(resource.key, resource);
        made.set(item.name, resource);
      }
      return made;
    };
    const scopes = new Map<string | undefined, Map<string, GuestResource>>();
    scopes.set(undefined, classes(raw.component.exports, undefined));
    for (const item of raw.component.exports) {
      if (item.kind === "instance") scopes.set(item.name, classes(item.exports, item.name));
    }
    this.exports = withResourceScope(
      { guest, host: raw.hostResources },
      () => this.#collect(raw.struct, raw.component.exports, scopes),
    );
  }

  #collect(
    struct: Uint8Array<ArrayBuffer>,
    items: readonly ComponentItem[],
    scopes: ReadonlyMap<string | undefined, ReadonlyMap<string, GuestResource>>,
  ): ComponentExports {
    const context = contextOf(this.#store, "exports");
    const lookup = (parent: Deno.PointerValue, name: string): Deno.PointerValue => {
      const bytes = utf8(name);
      return ffi().wasmtime_component_instance_get_export_index(
        struct,
        context,
        parent,
        bytes,
        BigInt(bytes.length),
      );
    };
    const makeFunc = (
      index: Deno.PointerObject,
      key: string,
      name: string,
      item: ComponentItem,
    ) => {
      if (item.kind !== "func") return undefined;
      const func = new Uint8Array(COMPONENT_FUNC_SIZE);
      if (!ffi().wasmtime_component_instance_get_func(struct, context, index, func)) {
        return undefined;
      }
      try {
        const made = componentFunc(this.#store, func, name, item.type);
        this.#funcs.set(key, made);
        return made;
      } catch (error) {
        // A type the binding cannot marshal yet (resources): the other exports stay usable,
        // this one throws when called.
        return () => {
          throw error;
        };
      }
    };
    /** Places `[constructor]R`, `[method]R.m` and `[static]R.s` on R's class (true if done). */
    const attach = (
      into: ComponentExports,
      iface: string | undefined,
      name: string,
      func: (...args: unknown[]) => unknown,
    ): boolean => {
      const match = /^\[(constructor|method|static)\]([^.]+)(?:\.(.+))?$/.exec(name);
      const resource = match === null ? undefined : scopes.get(iface)?.get(match[2]);
      if (match === null || resource === undefined) return false;
      resource.attach(match[1] as "constructor" | "method" | "static", match[3] ?? "", func);
      into[resource.className] = resource.cls;
      return true;
    };
    const out: ComponentExports = {};
    for (const resource of scopes.get(undefined)?.values() ?? []) {
      out[resource.className] = resource.cls;
    }
    for (const item of items) {
      if (item.kind !== "func" && item.kind !== "instance") continue;
      const index = lookup(null, item.name);
      if (index === null) continue;
      try {
        if (item.kind === "func") {
          const func = makeFunc(index, item.name, item.name, item);
          if (func && !attach(out, undefined, item.name, asFunction(func))) {
            out[camelCase(item.name)] = asFunction(func);
          }
          continue;
        }
        const members: ComponentExports = {};
        for (const resource of scopes.get(item.name)?.values() ?? []) {
          members[resource.className] = resource.cls;
        }
        for (const member of item.exports) {
          if (member.kind !== "func") continue;
          const inner = lookup(index, member.name);
          if (inner === null) continue;
          try {
            const func = makeFunc(
              inner,
              `${item.name}#${member.name}`,
              `${item.name}#${member.name}`,
              member,
            );
            if (func && !attach(members, item.name, member.name, asFunction(func))) {
              members[camelCase(member.name)] = asFunction(func);
            }
          } finally {
            ffi().wasmtime_component_export_index_delete(inner);
          }
        }
        out[item.name] = Object.freeze(members);
      } finally {
        ffi().wasmtime_component_export_index_delete(index);
      }
    }
    return Object.freeze(out);
  }

  /** The store this instance lives in. */
  get store(): Store {
    return this.#store;
  }

  /**
   * The exported function `name` (its WIT name), inside the exported interface `iface` if
   * given; undefined if there is none.
   */
  getFunc(name: string, iface?: string): ComponentFunc | undefined {
    return this.#funcs.get(iface === undefined ? name : `${iface}#${name}`);
  }
}
