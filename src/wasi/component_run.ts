/**
 * WASI 0.2 guests: components instantiated with WASI 0.2 from the store's WASI context (the
 * same `WasiConfig` as preview 1: preopens opened once and checked, capture streams, env, args,
 * clocks, random; without `network` sockets refuse every address and `wasi:http` is not
 * linked, with it each address is checked by Deno's --allow-net, see src/core/net.ts), and their
 * `wasi:cli/run` export run as a command.
 *
 * WASI is linked asynchronously unless `syncWasi`: instantiation and `run` are call futures
 * (native/src/wasip2.rs), so a deadline also stops a guest blocked in a WASI call.
 *
 * @module
 */
import { ComponentError, WasmtimeError } from "../errors.ts";
import { driveFuture, driveFutureBlocking, type StartFuture } from "../core/async.ts";
import type { Store } from "../core/store.ts";
import { ffi } from "../ffi/symbols.ts";
import type { Component } from "../component/component.ts";
import {
  type ComponentHostFunction,
  ComponentLinker,
  defineWasip2,
  instantiateFuture,
} from "../component/linker.ts";
import type { ComponentInstance } from "../component/instance.ts";
import type { ComponentItem } from "../component/types.ts";
import { funcParts } from "../component/func.ts";
import { camelCase } from "../component/values.ts";
import { storeHasNetwork } from "../core/store.ts";
import { type NetworkOptions, networkOptions } from "./config.ts";

/** The options of a run that concern a component guest. */
export interface ComponentRunOptions {
  timeoutMs?: number;
  nonBlocking?: boolean;
  link?: unknown;
  imports?: unknown;
  cacheDir?: string;
  network?: boolean | NetworkOptions;
}

/** True if `bytes` start with the header of a binary component (not a core module). */
export function isComponentBinary(bytes: Uint8Array): boolean {
  // "\0asm", then a version and a layer: core modules have layer 0, components layer 1.
  return bytes.length >= 8 && bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 &&
    bytes[3] === 0x6d && bytes[6] === 1 && bytes[7] === 0;
}

/** Runs `start`'s call future the way the run asked: on this thread, or as an async call. */
async function drive(
  store: Store,
  options: ComponentRunOptions,
  timeoutMs: number | undefined,
  start: StartFuture,
): Promise<void> {
  if (options.nonBlocking) await driveFuture(store, "runWasi", { timeoutMs }, start);
  else driveFutureBlocking(store, "runWasi", { timeoutMs }, start);
}

/**
 * Defines the component's own imports from `imports` (`{ path: { name: fn } }`, as
 * `ComponentLinker.defineFunc(path, name, fn)`: `""` for root-level functions, an interface
 * name such as `"local:app/host"` otherwise; a function's key is its WIT name or, as jco's, its
 * lowerCamelCase one). Only what the component imports is taken; an entry that is not a
 * function, or names nothing the component imports, is an error (a typo would otherwise
 * surface as a missing import).
 */
function defineComponentImports(
  linker: ComponentLinker,
  component: Component,
  imports: unknown,
): void {
  if (typeof imports !== "object" || imports === null) {
    throw new WasmtimeError(
      'runWasi: imports must be an object { "interface": { name: fn } } ("" for root-level ' +
        "functions)",
    );
  }
  const given = imports as Record<string, unknown>;
  const used = new Set<string>();
  const take = (path: string, items: readonly ComponentItem[]) => {
    const fields = Object.hasOwn(given, path) ? given[path] : undefined;
    if (fields === undefined) return;
    if (typeof fields !== "object" || fields === null) {
      throw new WasmtimeError(
        `runWasi: imports[${JSON.stringify(path)}] must be an object of functions`,
      );
    }
    used.add(path);
    const members = fields as Record<string, unknown>;
    for (const item of items) {
      if (item.kind !== "func") continue;
      const key = Object.hasOwn(members, item.name)
        ? item.name
        : Object.hasOwn(members, camelCase(item.name))
        ? camelCase(item.name)
        : undefined;
      if (key === undefined) continue;
      const fn = members[key];
      if (typeof fn !== "function") {
        throw new WasmtimeError(
          `runWasi: imports[${JSON.stringify(path)}].${key} must be a function`,
        );
      }
      linker.defineFunc(path, item.name, fn as ComponentHostFunction);
    }
  };
  take("", component.imports);
  for (const item of component.imports) {
    if (item.kind === "instance") take(item.name, item.exports);
  }
  const unknown = Object.keys(given).find((key) => !used.has(key));
  if (unknown !== undefined) {
    throw new WasmtimeError(
      `runWasi: imports[${JSON.stringify(unknown)}] names no function interface the component ` +
        `imports (it imports: ${
          component.imports.map((item) => JSON.stringify(item.name)).join(", ") || "nothing"
        })`,
    );
  }
}

/**
 * Instantiates `component` into `store` (which must carry the run's WASI context) with WASI 0.2
 * linked, asynchronously unless `asyncWasi` is false, and the component's own imports from
 * `options.imports`.
 */
export async function instantiateComponent(
  store: Store,
  component: Component,
  options: ComponentRunOptions,
  asyncWasi: boolean,
): Promise<ComponentInstance> {
  if (options.link !== undefined) {
    throw new WasmtimeError(
      "runWasi: `link` defines core-module imports (a Linker); a component's own imports are " +
        'given as imports: { "local:app/host": { log(message) {} } } ("" for root-level ' +
        "functions)",
    );
  }
  if (options.nonBlocking && !asyncWasi) {
    throw new WasmtimeError(
      "runWasi: nonBlocking runs need WASI linked asynchronously; drop syncWasi: true",
    );
  }
  const network = storeHasNetwork(store);
  const http = network && options.network !== undefined &&
    networkOptions(options.network, "runWasi: network")?.http === true;
  if (!http && component.imports.some((item) => item.name.startsWith("wasi:http/"))) {
    throw new WasmtimeError(
      "runWasi: the component imports wasi:http (outgoing HTTP requests), which is linked only " +
        "with network access: pass network: true (or { http: true }; the CLI's " +
        "--inherit-network), and grant its hosts with --allow-net",
    );
  }
  if (network && !asyncWasi) {
    // Each address is asked of Deno between two polls of a call future; a synchronous WASI
    // call never hands control back to JS.
    throw new WasmtimeError(
      "runWasi: network access needs WASI linked asynchronously, so that each address can be " +
        "checked against Deno's --allow-net when it is used; drop syncWasi: true",
    );
  }
  using linker = new ComponentLinker(store.engine);
  defineWasip2(linker, asyncWasi, network ? { http } : undefined);
  if (options.imports !== undefined) {
    // As for modules, the run's own imports replace WASI's of the same name.
    linker.allowShadowing(true);
    defineComponentImports(linker, component, options.imports);
  }
  if (!asyncWasi) return linker.instantiate(store, component);
  const call = instantiateFuture(linker, store, component, "runWasi");
  await drive(store, options, undefined, call.start);
  return call.instance();
}

/**
 * Runs the command export `wasi:cli/run@0.2.*#run` of `instance` with the run's deadline;
 * returns the exit code (`run` returning `err` is 1). `wasi:cli/exit` throws a `WasiExit`, a
 * trap a `Trap`, as for preview 1.
 */
export async function runComponent(
  store: Store,
  instance: ComponentInstance,
  options: ComponentRunOptions,
  asyncWasi: boolean,
): Promise<number> {
  const iface = Object.keys(instance.exports).find((name) => /^wasi:cli\/run@0\.2\./.test(name));
  const func = iface === undefined ? undefined : instance.getFunc("run", iface);
  if (func === undefined) {
    throw new WasmtimeError(
      "runWasi: the component exports no wasi:cli/run@0.2 interface (not a command?); use " +
        "instantiateWasi and call its exports instead",
    );
  }
  const timeoutMs = options.timeoutMs;
  if (!asyncWasi) {
    try {
      func.callWith({ timeoutMs });
      return 0;
    } catch (error) {
      if (error instanceof ComponentError) return 1;
      throw error;
    }
  }
  const status = new Uint32Array(1);
  const { struct } = funcParts(func);
  await drive(
    store,
    options,
    timeoutMs,
    (context, _trap, error) => ffi().wasmtime_deno_wasip2_run_async(struct, context, status, error),
  );
  return status[0];
}
