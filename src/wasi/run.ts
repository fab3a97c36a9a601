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
import { Linker } from "../core/linker.ts";
import { Module } from "../core/module.ts";
import { Store, type StoreLimits } from "../core/store.ts";
import { type OutputTarget, type StdinSource, WasiConfig } from "./config.ts";

/**
 * A preopened directory: a host path, or a path with options.
 *
 * @example
 * ```ts
 * import { runWasi } from "@wasmtime-deno/wasmtime/wasi";
 * await runWasi("app.wasm", { preopens: { "/in": "./in", "/out": { path: "./out", mutable: true } } });
 * ```
 */
export type PreopenSpec = string | { path: string; mutable?: boolean };

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
  /** Guest path → host directory. */
  preopens?: Record<string, PreopenSpec>;
  /** Standard input: bytes, a string, `{ file }` or "inherit" (default: empty). */
  stdin?: StdinSource;
  /** Standard output: "capture" (default), "inherit", or a file path. */
  stdout?: "capture" | "inherit" | string;
  /** Standard error: "capture" (default), "inherit", or a file path. */
  stderr?: "capture" | "inherit" | string;
  /** Fuel budget; the guest traps with OutOfFuel when it runs out. */
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
   * Link WASI synchronously (`instantiateWasi` only; `runWasi` always links it asynchronously).
   * Calls into the guest's exports then take the fast path (about 60 ns for a small export,
   * measured, instead of about 2.4 µs as a call future), but a guest blocked in a WASI call
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
   * Engine to compile with (its options must allow `fuel` / `timeoutMs` if given). Default: the
   * module's own engine when a `Module` is given, else a new engine made for these options.
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

function outputTarget(value: string | undefined): OutputTarget {
  if (value === undefined || value === "capture") return "capture";
  if (value === "inherit") return "inherit";
  return { file: value };
}

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
 * using wasi = wasiConfigFrom({ args: ["app"], env: { K: "V" }, stdout: "capture" });
 * ```
 */
export function wasiConfigFrom(options: RunWasiOptions): WasiConfig {
  const config = new WasiConfig().args(options.args ?? ["main.wasm"]);
  if (options.env) config.env(options.env);
  if (options.inheritEnv) config.inheritEnv();
  if (options.stdin !== undefined) config.stdin(options.stdin);
  if (options.maxCaptureBytes !== undefined) config.captureLimit(options.maxCaptureBytes);
  config.stdoutTo(outputTarget(options.stdout));
  config.stderrTo(outputTarget(options.stderr));
  for (const [guest, spec] of Object.entries(options.preopens ?? {})) {
    const { path, mutable } = typeof spec === "string" ? { path: spec, mutable: false } : spec;
    config.preopen(path, guest, { mutable });
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
  /** The instantiated (and, for reactors, initialized) module. */
  instance: Instance;
  /** The configuration, with `stdout` / `stderr` captures when requested. */
  wasi: WasiConfig;
  /** Frees the store, the configuration, and the engine and module if they were made here. */
  [Symbol.dispose](): void;
}

async function loadModule(
  engine: Engine,
  source: string | URL | Uint8Array | Module,
  cacheDir: string | undefined,
) {
  if (source instanceof Module) return { module: source, owned: false };
  const bytes = source instanceof Uint8Array ? source : await Deno.readFile(source);
  const module = cacheDir === undefined
    ? await Module.compile(engine, bytes)
    : await Module.cachedAsync(engine, bytes, { dir: cacheDir });
  return { module, owned: true };
}

/**
 * Instantiates a WASI module with the capabilities in `options`. Reactors (modules exporting
 * `_initialize`) are initialized, so their exports are ready to call.
 *
 * @example
 * ```ts
 * import { instantiateWasi } from "@wasmtime-deno/wasmtime/wasi";
 * using guest = await instantiateWasi("reactor.wasm", { env: { MODE: "fast" } });
 * guest.instance.getFunc("greet")!.call();
 * console.log(guest.wasi.stdout?.text());
 * ```
 */
export function instantiateWasi(
  source: string | URL | Uint8Array | Module,
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

/**
 * Instantiates a WASI guest with WASI linked asynchronously (`asyncWasi`), so that a deadline
 * stops it even inside a blocking WASI call; calls into the store, synchronous ones included,
 * then run as call futures.
 */
async function instantiateGuest(
  source: string | URL | Uint8Array | Module,
  options: RunWasiOptions,
  asyncWasi: boolean,
): Promise<WasiInstance> {
  // A compiled Module brings its engine (a store of another engine could not instantiate it).
  const given = options.engine ?? (source instanceof Module ? source.engine : undefined);
  if (given !== undefined) requireEngineFor(given, options);
  const engine = given ?? new Engine({
    consumeFuel: options.fuel !== undefined,
    epochInterruption: options.timeoutMs !== undefined || options.nonBlocking === true,
  });
  const ownsEngine = given === undefined;
  let limits: StoreLimits;
  try {
    limits = storeLimits(options);
  } catch (error) {
    if (ownsEngine) engine[Symbol.dispose]();
    throw error;
  }
  const { module, owned } = await loadModule(engine, source, options.cacheDir);
  const wasi = wasiConfigFrom(options);
  let store: Store | undefined;
  try {
    store = new Store(engine, {
      wasi,
      fuel: options.fuel,
      limits,
    });
    using linker = new Linker(engine);
    linker.defineWasi({ async: asyncWasi });
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
    if (owned) module[Symbol.dispose]();
    if (ownsEngine) engine[Symbol.dispose]();
    throw error;
  }
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
 *   preopens: { "/data": { path: "./data", mutable: false } },
 *   stdin: new TextEncoder().encode("input"),
 *   fuel: 50_000_000,
 *   timeoutMs: 5_000,
 *   maxMemoryBytes: 64 << 20,
 * });
 * console.log(result.exitCode, result.stdoutText);
 * ```
 */
export async function runWasi(
  source: string | URL | Uint8Array | Module,
  options: RunWasiOptions = {},
): Promise<WasiResult> {
  using guest = await instantiateGuest(source, options, true);
  const start = guest.instance.getFunc("_start");
  if (start === undefined) {
    throw new WasmtimeError(
      "runWasi: the module has no _start export (a reactor?); use instantiateWasi instead",
    );
  }
  let exitCode = 0;
  try {
    await runExport(guest.store, start, options, true);
  } catch (error) {
    if (error instanceof Trap) {
      throw new WasiTrap(
        error,
        guest.wasi.stdout?.bytes() ?? new Uint8Array(0),
        guest.wasi.stderr?.bytes() ?? new Uint8Array(0),
      );
    }
    if (!(error instanceof WasiExit)) throw error;
    exitCode = error.status;
  }
  const stdout = guest.wasi.stdout?.bytes() ?? new Uint8Array(0);
  const stderr = guest.wasi.stderr?.bytes() ?? new Uint8Array(0);
  return {
    exitCode,
    stdout,
    stderr,
    get stdoutText() {
      return new TextDecoder().decode(stdout);
    },
    get stderrText() {
      return new TextDecoder().decode(stderr);
    },
  };
}
