/**
 * Running WASI programs in one call, like the wasmtime CLI.
 *
 * @module
 */
import { driveFutureBlocking } from "../core/async.ts";
import { Engine } from "../core/engine.ts";
import { Trap, WasiExit, WasiTrap, WasmtimeError } from "../errors.ts";
import { ffi } from "../ffi/symbols.ts";
import { type Func, funcStruct } from "../core/func.ts";
import type { Instance } from "../core/instance.ts";
import { hostFuncsOf, Linker } from "../core/linker.ts";
import { defineImports, type Imports } from "../core/imports.ts";
import { Module } from "../core/module.ts";
import { Store, type StoreLimits } from "../core/store.ts";
import {
  type NetworkOptions,
  type OutputTarget,
  type PreopenOptions,
  type StdinSource,
  WasiConfig,
} from "./config.ts";
import { Component } from "../component/component.ts";
import type { ComponentInstance } from "../component/instance.ts";
import { instantiateComponent, isComponentBinary, runComponent } from "./component_run.ts";
import { runThreaded } from "./threads.ts";

/**
 * A preopened directory: the arguments of `WasiConfig.preopen`, host directory first, then the
 * path the guest sees it at, then options.
 *
 * @example
 * ```ts
 * import { runWasi } from "@wasmtime-deno/wasmtime/wasi";
 * await runWasi("app.wasm", { preopens: [["./in", "/in"], ["./out", "/out", { mutable: true }]] });
 * ```
 */
export type PreopenSpec = readonly [hostDir: string, guestPath: string, options?: PreopenOptions];

/**
 * Defines a guest's extra imports on the linker of {@linkcode runWasi} or
 * {@linkcode instantiateWasi}: called once WASI is defined, before the module is instantiated
 * in `store` (the guest's store: instances it needs can be made there). `proc_exit` and traps
 * are handled as for any command.
 *
 * How the guest runs decides which host functions can run: synchronous ones
 * (`linker.defineFunc`) need `syncWasi: true`, since JS cannot run inside the call future that
 * async WASI makes of the guest (a deadline then waits for a blocking WASI call, such as a
 * sleep, to return); async ones (`linker.defineAsyncFunc`) need `nonBlocking: true`. A
 * mismatch is refused before the guest starts, with what to change.
 *
 * @example
 * ```ts
 * import { FuncType } from "@wasmtime-deno/wasmtime";
 * import { runWasi, type WasiLink } from "@wasmtime-deno/wasmtime/wasi";
 * let started = 0;
 * const link: WasiLink = (linker) => {
 *   linker.defineFunc("bench", "start", new FuncType([], []), () => void (started = performance.now()));
 * };
 * const { exitCode } = await runWasi("bench.wasm", { link, syncWasi: true, timeoutMs: 10_000 });
 * ```
 */
export type WasiLink = (linker: Linker, store: Store) => void | Promise<void>;

/**
 * Options of {@linkcode runWasi} and {@linkcode instantiateWasi}.
 *
 * @example
 * ```ts
 * import { runWasi, type RunWasiOptions } from "@wasmtime-deno/wasmtime/wasi";
 * const options: RunWasiOptions = { args: ["app"], fuel: 10_000_000, timeoutMs: 1_000 };
 * const { exitCode } = await runWasi("app.wasm", options);
 * ```
 */
export interface RunWasiOptions {
  /** argv, including argv[0] (default: `["main.wasm"]`). */
  args?: readonly string[];
  /** Environment variables given to the guest. */
  env?: Record<string, string>;
  /** Pass the whole host environment (needs `--allow-env`). */
  inheritEnv?: boolean;
  /** Preopened directories, each `[hostDir, guestPath, options?]` as in `WasiConfig.preopen`. */
  preopens?: readonly PreopenSpec[];
  /** Standard input: bytes, a string, `{ file }` or "inherit" (default: empty). */
  stdin?: StdinSource;
  /** Standard output: "capture" (the default, as for `WasiConfig`), "inherit" or `{ file }`. */
  stdout?: OutputTarget;
  /** Standard error: "capture" (the default, as for `WasiConfig`), "inherit" or `{ file }`. */
  stderr?: OutputTarget;
  /** Extra imports, defined on the guest's linker before instantiation (see {@linkcode WasiLink}). */
  link?: WasiLink;
  /**
   * Extra imports as an object, like `new Instance`'s: JS functions get the types the module
   * declares (`{ bench: { start() {} } }`), numbers and bigints stand for immutable globals.
   * Defined after `link`, over anything it defined for the same names. JS functions run
   * synchronously, so they need `syncWasi: true` (without `nonBlocking`), as synchronous host
   * functions from `link` do.
   *
   * For a component (WASI 0.2) the same shape gives its own imports, `{ path: { name: fn } }`
   * as `ComponentLinker.defineFunc(path, name, fn)`: `{ "local:app/host": { log(message) {} } }`,
   * `""` for root-level functions, keys by WIT name or lowerCamelCase (as jco's); values mapped
   * as for component host functions. They run between polls of the guest's call future, so
   * they work with async WASI, blocking or `nonBlocking`, and must return their result (not a
   * Promise). `link` is for modules only.
   */
  imports?: Imports;
  /**
   * Fuel budget; the guest traps with OutOfFuel when it runs out. Without it, a store of an
   * engine that consumes fuel gets an unlimited budget, so one compiled module serves runs
   * with and without fuel.
   */
  fuel?: number;
  /** Wall-clock limit; the guest traps with Interrupt when it is reached. */
  timeoutMs?: number;
  /** Maximum size of any linear memory; `memory.grow` beyond it fails in the guest. */
  maxMemoryBytes?: number;
  /**
   * Maximum elements of any one table (default 1,000,000, a few MiB); `table.grow` beyond it
   * fails in the guest, and a module declaring a larger table does not instantiate.
   */
  maxTableElements?: number;
  /** Maximum number of instances in the guest's store (default 10). */
  maxInstances?: number;
  /** Maximum number of tables in the guest's store (default 10). */
  maxTables?: number;
  /** Maximum number of linear memories in the guest's store (default 10). */
  maxMemories?: number;
  /** Cap on captured bytes per stream (default 1 GiB). */
  maxCaptureBytes?: number;
  /**
   * Run the guest as an async call, so timers and I/O keep running while it computes (the
   * guest yields every epoch tick). An engine made here then has epoch interruption, which
   * costs some speed in tight loops (see bench/).
   */
  nonBlocking?: boolean;
  /**
   * Let a WASI 0.2 guest use the network (default: off): `true`, or the protocols to enable
   * (see {@linkcode WasiConfig.network}). Each address is checked against Deno's
   * `--allow-net` when the guest uses it; needs WASI linked asynchronously (not `syncWasi`).
   */
  network?: boolean | NetworkOptions;
  /**
   * Link WASI synchronously. Needed for synchronous host functions from `link` (JS cannot run
   * inside the call future that async WASI makes of every call), and calls into an
   * `instantiateWasi` guest's exports then take the fast path (about 60 ns for a small export,
   * measured, instead of about 2.4 µs as a call future); but a guest blocked in a WASI call
   * (a sleep, a read from an idle pipe) is not interrupted by a deadline until that call
   * returns. Default: false (deadlines hold everywhere).
   */
  syncWasi?: boolean;
  /**
   * Cache compiled code in this directory (see `Module.cached`): later runs of the same module
   * skip compilation. Needs read and write permission for it.
   */
  cacheDir?: string;
  /**
   * Run a wasi-threads program: `wasi.thread-spawn(start_arg)` starts a thread, a new instance
   * of the module calling its `wasi_thread_start(tid, start_arg)`, on a Worker, all sharing the
   * memory the module imports (created here, capped by `maxMemoryBytes`), as Wasmtime's CLI
   * does. `_start` runs on a Worker too, so the calling thread's event loop keeps running. The
   * run ends when `_start` returns or any thread calls `proc_exit` (`exitCode`) or traps
   * (thrown as a {@linkcode WasiTrap}); the other threads are then stopped. Each thread has its
   * own WASI context made from these options: the same arguments, environment and preopens,
   * but its own descriptor table (a file one thread opens is not seen by another), standard
   * input for the main thread only, and one shared stdout and stderr (`"capture"` or
   * `"inherit"`). `fuel` and the store limits apply to each thread. `timeoutMs` ends the run in
   * time; threads still computing, parked in `memory.atomic.wait` or waiting in WASI (a sleep,
   * a read) are then stopped, and their Workers close. `link` and
   * `imports` (JS functions) cannot be used. The engine (given, or the module's) needs
   * `epochInterruption`; without one, the run makes an engine with threads, shared memory and
   * epoch interruption.
   */
  threads?: boolean;
  /**
   * With `threads`: most threads running at once besides the main one (default 16; each is a
   * Worker); `thread-spawn` beyond it returns an error (-EAGAIN) to the guest.
   */
  maxThreads?: number;
  /**
   * Engine to compile with (its options must allow `fuel` / `timeoutMs` if given). Default: the
   * module's own engine when a `Module` is given, else a new engine: a plain one for a run
   * without `fuel`, `timeoutMs` or `nonBlocking`, else one with both fuel and epoch
   * interruption ({@linkcode limitedEngineOptions}), so that every limited run of a program
   * shares one compiled artifact (and one `cacheDir` entry).
   */
  engine?: Engine;
}

/**
 * Default resource caps of {@linkcode runWasi} and {@linkcode instantiateWasi}: every resource
 * a guest can grow is bounded, so a hostile guest cannot exhaust the host's memory through
 * tables or extra instances. Linear memory is bounded by `maxMemoryBytes` (4 GiB per 32-bit
 * memory by the format itself when not given).
 *
 * @example
 * ```ts
 * import { runWasi, WASI_DEFAULT_LIMITS } from "@wasmtime-deno/wasmtime/wasi";
 * await runWasi("app.wasm", { maxTableElements: WASI_DEFAULT_LIMITS.maxTableElements * 4 });
 * ```
 */
export const WASI_DEFAULT_LIMITS: Readonly<{
  maxTableElements: number;
  maxInstances: number;
  maxTables: number;
  maxMemories: number;
}> = Object.freeze({
  maxTableElements: 1_000_000,
  maxInstances: 10,
  maxTables: 10,
  maxMemories: 10,
});

/**
 * Output captured from a WASI guest.
 *
 * @example
 * ```ts
 * import { runWasi, type WasiOutput } from "@wasmtime-deno/wasmtime/wasi";
 * const output: WasiOutput = await runWasi("app.wasm");
 * console.log(output.stdoutText);
 * ```
 */
export interface WasiOutput {
  /** Captured standard output (empty unless captured). */
  stdout: Uint8Array;
  /** Captured standard error (empty unless captured). */
  stderr: Uint8Array;
  /** `stdout` decoded as UTF-8. */
  readonly stdoutText: string;
  /** `stderr` decoded as UTF-8. */
  readonly stderrText: string;
}

/**
 * What a WASI command did.
 *
 * @example
 * ```ts
 * import { runWasi } from "@wasmtime-deno/wasmtime/wasi";
 * const result = await runWasi("app.wasm", { args: ["app"] });
 * if (result.exitCode !== 0) console.error(result.stderrText);
 * ```
 */
export interface WasiResult extends WasiOutput {
  /** The exit code: the argument of `proc_exit`, or 0 when `_start` returned. */
  exitCode: number;
}

function storeLimits(options: RunWasiOptions): StoreLimits {
  const limit = (key: keyof RunWasiOptions, fallback: number | undefined) => {
    const value = options[key] ?? fallback;
    if (value !== undefined && (!Number.isSafeInteger(value) || (value as number) < 0)) {
      throw new WasmtimeError(`${key} must be a non-negative integer, got ${String(value)}`);
    }
    return value as number | undefined;
  };
  return {
    memorySize: limit("maxMemoryBytes", undefined),
    tableElements: limit("maxTableElements", WASI_DEFAULT_LIMITS.maxTableElements),
    instances: limit("maxInstances", WASI_DEFAULT_LIMITS.maxInstances),
    tables: limit("maxTables", WASI_DEFAULT_LIMITS.maxTables),
    memories: limit("maxMemories", WASI_DEFAULT_LIMITS.maxMemories),
  };
}

/**
 * Options of the engine `runWasi` and `instantiateWasi` make for a run with `fuel`, `timeoutMs`
 * or `nonBlocking`: both instrumentations, whichever the run asked for. Wasmtime compiles fuel
 * counting and epoch checks into the code and refuses to load code compiled with other
 * settings, so one artifact for all limited runs means compiling both in; a run that does not
 * use one gets an unlimited fuel budget or a far deadline. Measured on the compute kernels of
 * bench/ (sync calls, time relative to plain code): epoch alone 1.06-2.1x, fuel alone
 * 1.06-1.9x, both 1.09-2.0x (matmul's tight loop is the 2x); both cost up to ~18% more than
 * the costlier one alone on an interpreter loop and at most 7% more elsewhere, which one
 * artifact (one compile, one cache entry) is worth. Runs with no limit use plain code: the
 * instrumentation would cost them up to 2x for nothing.
 *
 * @example
 * ```ts
 * import { Engine, Module } from "@wasmtime-deno/wasmtime";
 * import { limitedEngineOptions, runWasi } from "@wasmtime-deno/wasmtime/wasi";
 * using engine = new Engine(limitedEngineOptions);
 * using module = Module.cached(engine, await Deno.readFile("app.wasm"), { dir: ".cache" });
 * await runWasi(module, { fuel: 1e9 });
 * await runWasi(module, { timeoutMs: 500 }); // same compiled code
 * ```
 */
export const limitedEngineOptions: Readonly<{ consumeFuel: true; epochInterruption: true }> = Object
  .freeze({ consumeFuel: true, epochInterruption: true });

/** The fuel of a run without `fuel` on an engine that consumes fuel: more than ever runs out. */
const UNLIMITED_FUEL = 2n ** 63n - 1n;

/**
 * Runs `_start` or `_initialize` with the run's deadline: as an async call with `nonBlocking`;
 * else synchronously, which with async WASI means a call future polled on this thread.
 */
async function runExport(
  store: Store,
  func: Func,
  options: RunWasiOptions,
  asyncWasi: boolean,
): Promise<void> {
  const timeoutMs = options.timeoutMs;
  if (options.nonBlocking) {
    await func.callAsyncWith({ timeoutMs });
  } else if (!asyncWasi) {
    func.callWith({ timeoutMs });
  } else {
    driveFutureBlocking(
      store,
      "runWasi",
      { timeoutMs },
      (context, trap, error) =>
        ffi().wasmtime_func_call_async(
          context,
          funcStruct(func),
          NO_VALUES,
          0n,
          NO_VALUES,
          0n,
          trap,
          error,
        ),
    );
  }
}

/** Arguments and results of `_start`: none (one slot so that the buffer has an address). */
const NO_VALUES = new Uint8Array(16);

/**
 * Builds the WasiConfig described by `options`.
 *
 * @example
 * ```ts
 * import { wasiConfigFrom } from "@wasmtime-deno/wasmtime/wasi";
 * using wasi = wasiConfigFrom({ args: ["app"], env: { K: "V" }, stdout: "inherit" });
 * ```
 */
export function wasiConfigFrom(options: RunWasiOptions): WasiConfig {
  const config = new WasiConfig().args(options.args ?? ["main.wasm"]);
  if (options.env) config.env(options.env);
  if (options.inheritEnv) config.inheritEnv();
  if (options.stdin !== undefined) config.stdin(options.stdin);
  if (options.maxCaptureBytes !== undefined) config.captureLimit(options.maxCaptureBytes);
  if (options.network !== undefined) config.network(options.network);
  if (options.stdout !== undefined) config.stdoutTo(options.stdout);
  if (options.stderr !== undefined) config.stderrTo(options.stderr);
  const preopens = options.preopens ?? [];
  if (!Array.isArray(preopens)) {
    throw new WasmtimeError(
      "runWasi: preopens must be an array of [hostDir, guestPath, options?], e.g. " +
        '[["./data", "/data"]]',
    );
  }
  for (const spec of preopens) {
    if (!Array.isArray(spec)) {
      throw new WasmtimeError(
        `runWasi: each preopen is [hostDir, guestPath, options?], got ${JSON.stringify(spec)}`,
      );
    }
    config.preopen(spec[0], spec[1], spec[2]);
  }
  return config;
}

/**
 * A WASI guest ready to run: its store, instance and configuration (all disposable).
 *
 * @example
 * ```ts
 * import { instantiateWasi } from "@wasmtime-deno/wasmtime/wasi";
 * using guest = await instantiateWasi("reactor.wasm");
 * console.log(guest.instance.getFunc("next")!.call());
 * ```
 */
export interface WasiInstance {
  /** The engine the module was compiled with. */
  engine: Engine;
  /** The store holding the guest and its WASI context. */
  store: Store;
  /**
   * The instantiated (and, for reactors, initialized) module. Reading it for a component guest
   * throws: use {@linkcode component}.
   */
  instance: Instance;
  /** The instantiated component, for a WASI 0.2 guest (a component); undefined for a module. */
  component?: ComponentInstance;
  /** The configuration, with `stdout` / `stderr` captures when requested. */
  wasi: WasiConfig;
  /** Frees the store, the configuration, and the engine and module if they were made here. */
  [Symbol.dispose](): void;
}

/** What runWasi and instantiateWasi run: a path or bytes (either kind), or a compiled one. */
type WasiSource = string | URL | Uint8Array | Module | Component;

/** The compiled guest: a core module (WASI preview 1) or a component (WASI 0.2). */
async function loadGuest(
  engine: Engine,
  source: WasiSource,
  cacheDir: string | undefined,
): Promise<{ guest: Module | Component; owned: boolean }> {
  if (source instanceof Module || source instanceof Component) {
    return { guest: source, owned: false };
  }
  const bytes = source instanceof Uint8Array ? source : await Deno.readFile(source);
  if (isComponentBinary(bytes)) {
    const component = cacheDir === undefined
      ? await Component.compile(engine, bytes)
      : await Component.cachedAsync(engine, bytes, { dir: cacheDir });
    return { guest: component, owned: true };
  }
  const module = cacheDir === undefined
    ? await Module.compile(engine, bytes)
    : await Module.cachedAsync(engine, bytes, { dir: cacheDir });
  return { guest: module, owned: true };
}

/**
 * Instantiates a WASI module with the capabilities in `options`. Reactors (modules exporting
 * `_initialize`) are initialized, so their exports are ready to call. A component (detected by
 * its header, or a `Component`) is instantiated with WASI 0.2 and returned as `component`.
 *
 * @example
 * ```ts
 * import { instantiateWasi } from "@wasmtime-deno/wasmtime/wasi";
 * using guest = await instantiateWasi("reactor.wasm", { env: { MODE: "fast" } });
 * guest.instance.getFunc("greet")!.call();
 * console.log(guest.wasi.stdout.text());
 * ```
 */
export function instantiateWasi(
  source: string | URL | Uint8Array | Module | Component,
  options: RunWasiOptions = {},
): Promise<WasiInstance> {
  return instantiateGuest(source, options, options.syncWasi !== true);
}

/** Says what to change when `engine` cannot carry out the run's fuel or deadline options. */
function requireEngineFor(engine: Engine, options: RunWasiOptions): void {
  const { consumeFuel, epochInterruption } = engine.options;
  if (options.fuel !== undefined && !consumeFuel) {
    throw new WasmtimeError(
      "runWasi: `fuel` needs an engine with consumeFuel: true (the module's or options.engine); " +
        "compile the module with new Engine({ consumeFuel: true }) or pass a path or bytes",
    );
  }
  if ((options.timeoutMs !== undefined || options.nonBlocking) && !epochInterruption) {
    throw new WasmtimeError(
      "runWasi: `timeoutMs` and `nonBlocking` need an engine with epochInterruption: true (the " +
        "module's or options.engine); compile the module with new Engine({ epochInterruption: " +
        "true }) or pass a path or bytes",
    );
  }
}

/** The first `module.field` for which `imports` supplies a function, if any. */
function importedFunction(module: Module, imports: Imports | undefined): string | undefined {
  if (imports === undefined) return undefined;
  for (const item of module.imports) {
    const fields = Object.hasOwn(imports, item.module) ? imports[item.module] : undefined;
    if (item.type.kind !== "func" || typeof fields !== "object" || fields === null) continue;
    if (Object.hasOwn(fields, item.name) && typeof fields[item.name] === "function") {
      return `${item.module}.${item.name}`;
    }
  }
  return undefined;
}

/**
 * Says what to change when host functions from `link` cannot run the way the guest runs: a
 * synchronous JS host function cannot run inside a call future (async WASI), an async one
 * only inside an async call (`nonBlocking`).
 */
function requireRunnable(
  defined: { sync: string | undefined; async: boolean },
  options: RunWasiOptions,
  asyncWasi: boolean,
): void {
  if (defined.sync !== undefined && (asyncWasi || options.nonBlocking)) {
    const how = options.nonBlocking
      ? "in a nonBlocking run (an async call, where JS cannot run on the guest's stack)"
      : "while WASI is linked asynchronously (the guest then runs as a call future, where JS " +
        "cannot run)";
    throw new WasmtimeError(
      `runWasi: the synchronous host function ${defined.sync} (from link or imports) cannot run ` +
        `${how}. Pass syncWasi: true without nonBlocking (a deadline then waits for a ` +
        "blocking WASI call to return), or define it with linker.defineAsyncFunc and pass " +
        "nonBlocking: true",
    );
  }
  if (defined.async && !options.nonBlocking && asyncWasi) {
    throw new WasmtimeError(
      "runWasi: link defined async host functions, which run only in async calls; pass " +
        "nonBlocking: true",
    );
  }
}

/**
 * Instantiates a WASI guest with WASI linked asynchronously (`asyncWasi`), so that a deadline
 * stops it even inside a blocking WASI call; calls into the store, synchronous ones included,
 * then run as call futures.
 */
async function instantiateGuest(
  source: WasiSource,
  options: RunWasiOptions,
  asyncWasi: boolean,
): Promise<WasiInstance> {
  // A compiled guest brings its engine (a store of another engine could not instantiate it).
  const given = options.engine ??
    (source instanceof Module || source instanceof Component ? source.engine : undefined);
  if (given !== undefined) requireEngineFor(given, options);
  const limited = options.fuel !== undefined || options.timeoutMs !== undefined ||
    options.nonBlocking === true;
  const engine = given ?? new Engine(limited ? limitedEngineOptions : {});
  const ownsEngine = given === undefined;
  let limits: StoreLimits;
  try {
    limits = storeLimits(options);
  } catch (error) {
    if (ownsEngine) engine[Symbol.dispose]();
    throw error;
  }
  let loaded;
  try {
    loaded = await loadGuest(engine, source, options.cacheDir);
  } catch (error) {
    if (ownsEngine) engine[Symbol.dispose]();
    throw error;
  }
  const { guest, owned } = loaded;
  const wasi = wasiConfigFrom(options);
  let store: Store | undefined;
  try {
    store = new Store(engine, {
      wasi,
      fuel: options.fuel ?? (engine.options.consumeFuel ? UNLIMITED_FUEL : undefined),
      limits,
    });
    if (guest instanceof Component) {
      const component = await instantiateComponent(store, guest, options, asyncWasi);
      const ownedStore = store;
      return {
        engine,
        store: ownedStore,
        get instance(): Instance {
          throw new WasmtimeError(
            "instantiateWasi: the guest is a component (WASI 0.2); use guest.component",
          );
        },
        component,
        wasi,
        [Symbol.dispose]() {
          ownedStore[Symbol.dispose]();
          wasi[Symbol.dispose]();
          if (owned) guest[Symbol.dispose]();
          if (ownsEngine) engine[Symbol.dispose]();
        },
      };
    }
    const module = guest;
    using linker = new Linker(engine);
    linker.defineWasi({ async: asyncWasi });
    if (options.link !== undefined) await options.link(linker, store);
    if (options.imports !== undefined) {
      linker.allowShadowing(true);
      defineImports(linker, store, module, options.imports, "runWasi");
    }
    if (options.link !== undefined || options.imports !== undefined) {
      const defined = hostFuncsOf(linker);
      requireRunnable(
        { sync: defined.sync ?? importedFunction(module, options.imports), async: defined.async },
        options,
        asyncWasi,
      );
    }
    const instance = asyncWasi
      ? await linker.instantiateAsync(store, module)
      : linker.instantiate(store, module);
    const initialize = instance.getFunc("_initialize");
    if (initialize) await runExport(store, initialize, options, asyncWasi);
    const ownedStore = store;
    return {
      engine,
      store: ownedStore,
      instance,
      wasi,
      [Symbol.dispose]() {
        ownedStore[Symbol.dispose]();
        wasi[Symbol.dispose]();
        if (owned) module[Symbol.dispose]();
        if (ownsEngine) engine[Symbol.dispose]();
      },
    };
  } catch (error) {
    store?.[Symbol.dispose]();
    wasi[Symbol.dispose]();
    if (owned) guest[Symbol.dispose]();
    if (ownsEngine) engine[Symbol.dispose]();
    throw error;
  }
}

/** What a stream captured, or nothing when it was not captured. */
function capturedBytes(guest: WasiInstance, options: RunWasiOptions, stream: "stdout" | "stderr") {
  return (options[stream] ?? "capture") === "capture"
    ? guest.wasi[stream].bytes()
    : new Uint8Array(0);
}

/**
 * Runs a WASI command (its `_start`) to completion, like `wasmtime run`. `proc_exit(n)` is
 * reported as `exitCode: n`; a trap (including fuel exhaustion and timeouts) is thrown as a
 * {@linkcode WasiTrap}: a `Trap` that also carries the output captured until then. Standard
 * output and error are captured unless told otherwise. Every growable resource is capped (see
 * {@linkcode WASI_DEFAULT_LIMITS}).
 *
 * The guest runs on the calling thread and blocks it, unless `nonBlocking` is set: then it runs
 * as an async call and the event loop keeps running.
 *
 * @example
 * ```ts
 * import { runWasi } from "@wasmtime-deno/wasmtime/wasi";
 * const result = await runWasi("app.wasm", {
 *   args: ["app", "--flag"],
 *   env: { GREETING: "hi" },
 *   preopens: [["./data", "/data"]],
 *   stdin: new TextEncoder().encode("input"),
 *   fuel: 50_000_000,
 *   timeoutMs: 5_000,
 *   maxMemoryBytes: 64 << 20,
 * });
 * console.log(result.exitCode, result.stdoutText);
 * ```
 */
export async function runWasi(
  source: string | URL | Uint8Array | Module | Component,
  options: RunWasiOptions = {},
): Promise<WasiResult> {
  if (options.threads === true) {
    if (source instanceof Component) {
      throw new WasmtimeError(
        "runWasi: threads: true runs core modules with wasi-threads; components do not use it",
      );
    }
    return await runThreaded(source, options);
  }
  const asyncWasi = options.syncWasi !== true;
  using guest = await instantiateGuest(source, options, asyncWasi);
  const component = guest.component;
  const start = component === undefined ? guest.instance.getFunc("_start") : undefined;
  if (component === undefined && start === undefined) {
    throw new WasmtimeError(
      "runWasi: the module has no _start export (a reactor?); use instantiateWasi instead",
    );
  }
  let exitCode = 0;
  try {
    if (component !== undefined) {
      exitCode = await runComponent(guest.store, component, options, asyncWasi);
    } else await runExport(guest.store, start!, options, asyncWasi);
  } catch (error) {
    if (error instanceof Trap) {
      throw new WasiTrap(
        error,
        capturedBytes(guest, options, "stdout"),
        capturedBytes(guest, options, "stderr"),
      );
    }
    if (!(error instanceof WasiExit)) throw error;
    exitCode = error.status;
  }
  const stdout = capturedBytes(guest, options, "stdout");
  const stderr = capturedBytes(guest, options, "stderr");
  return {
    exitCode,
    stdout,
    stderr,
    get stdoutText() {
      return new TextDecoder("utf-8", { ignoreBOM: true }).decode(stdout);
    },
    get stderrText() {
      return new TextDecoder("utf-8", { ignoreBOM: true }).decode(stderr);
    },
  };
}
