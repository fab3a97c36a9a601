/**
 * The Engine: global compilation settings shared by stores and modules.
 *
 * @module
 */
import { cString, newVec, OutCell, takeByteVec } from "../ffi/raw.ts";
import { WasmtimeError } from "../errors.ts";
import { requireOutputFile, requirePermission } from "../permissions.ts";
import { join } from "node:path";
import { check, takeError } from "./failure.ts";
import { ffi } from "../ffi/symbols.ts";
import { Handle } from "../ffi/handle.ts";
import {
  WASMTIME_OPT_LEVEL_NONE,
  WASMTIME_OPT_LEVEL_SPEED,
  WASMTIME_OPT_LEVEL_SPEED_AND_SIZE,
  WASMTIME_PROFILING_STRATEGY_JITDUMP,
  WASMTIME_PROFILING_STRATEGY_NONE,
  WASMTIME_PROFILING_STRATEGY_PERFMAP,
  WASMTIME_PROFILING_STRATEGY_VTUNE,
  WASMTIME_STRATEGY_CRANELIFT,
  WASMTIME_STRATEGY_WINCH,
} from "../ffi/layout.ts";
import { moduleBytes } from "./wat.ts";
import { fromRaw, takeRaw } from "../internal.ts";
import { type HandoffToken, issueToken, tokenBytes, unclaimable } from "./handoff.ts";

/**
 * Cranelift optimization levels.
 *
 * @example
 * ```ts
 * import { Engine, type OptLevel } from "@wasmtime-deno/wasmtime";
 * const optLevel: OptLevel = "speed_and_size";
 * using engine = new Engine({ optLevel });
 * ```
 */
export type OptLevel = "none" | "speed" | "speed_and_size";
/**
 * Profilers Wasmtime can emit data for (see `EngineOptions.profiler` for the files each one
 * writes and the permissions that takes).
 *
 * @example
 * ```ts
 * import { Engine } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine({ profiler: "perfmap" });
 * ```
 */
export type Profiler = "none" | "jitdump" | "vtune" | "perfmap";

/**
 * Wasmtime's compilers. `"cranelift"` (the default) optimizes: slower to compile, faster code.
 * `"winch"` is Wasmtime's baseline compiler: one pass per function, so it compiles several times
 * faster and runs the code slower (see `EngineOptions.strategy` for the figures and for what it
 * does not support).
 *
 * @example
 * ```ts
 * import { Engine, type Strategy } from "@wasmtime-deno/wasmtime";
 * const strategy: Strategy = "winch";
 * using engine = new Engine({ strategy });
 * ```
 */
export type Strategy = "cranelift" | "winch";

/**
 * Pooling allocator settings: preallocated slots that make instantiation cheap.
 *
 * @example
 * ```ts
 * import { Engine } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine({ pooling: { totalCoreInstances: 100, totalMemories: 100 } });
 * ```
 */
export interface PoolingOptions {
  /** Maximum concurrently live core instances. */
  totalCoreInstances?: number;
  /** Maximum concurrently live memories. */
  totalMemories?: number;
  /** Maximum concurrently live tables. */
  totalTables?: number;
  /** Maximum byte size of one memory. */
  maxMemorySize?: number;
}

/**
 * Engine configuration. Every field is optional; Wasmtime's defaults apply otherwise.
 *
 * @example
 * ```ts
 * import { Engine } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine({ consumeFuel: true, optLevel: "speed", simd: true });
 * ```
 */
export interface EngineOptions {
  /** Count fuel for every instruction; stores then need fuel to run (`Store.fuel`). */
  consumeFuel?: boolean;
  /** Allow interrupting guests by epoch (`Engine.incrementEpoch`, `Store.setEpochDeadline`). */
  epochInterruption?: boolean;
  /**
   * Maximum native stack a guest may use, in bytes (Wasmtime's default: 512 KiB). At most
   * {@linkcode MAX_WASM_STACK} (1 MiB): synchronous calls run the guest on the calling thread's
   * stack, and JS host functions it calls must run inside V8's stack region of about 1 MB.
   */
  maxWasmStack?: number;
  /** Emit DWARF debug info for native debuggers. */
  debugInfo?: boolean;
  /** The threads proposal (shared memories, atomics). */
  threads?: boolean;
  /** Shared memory support (needed by `threads`). */
  sharedMemory?: boolean;
  /** Fixed-width SIMD. */
  simd?: boolean;
  /** Relaxed SIMD. */
  relaxedSimd?: boolean;
  /** Make relaxed SIMD deterministic across platforms. */
  relaxedSimdDeterministic?: boolean;
  /** Tail calls. */
  tailCall?: boolean;
  /** Reference types. */
  referenceTypes?: boolean;
  /** Typed function references. */
  functionReferences?: boolean;
  /** Garbage collection (struct/array types). */
  gc?: boolean;
  /** Multi-value returns. */
  multiValue?: boolean;
  /** Multiple memories. */
  multiMemory?: boolean;
  /** 64-bit memories. */
  memory64?: boolean;
  /** Bulk memory operations. */
  bulkMemory?: boolean;
  /** Exception handling. */
  exceptions?: boolean;
  /** Wide arithmetic. */
  wideArithmetic?: boolean;
  /** Custom page sizes. */
  customPageSizes?: boolean;
  /**
   * The compiler (default `"cranelift"`). `"winch"`, Wasmtime's baseline compiler, trades run
   * time for compile time: for short runs or a fast first result (measured on the benchmark
   * module: see README). Winch in Wasmtime 48 has no GC, typed function references, tail calls,
   * exceptions or relaxed SIMD (a module using them fails to compile; enabling them here fails
   * at `new Engine`), no `debugInfo`, needs `signalsBasedTraps`, and does not optimize
   * (`optLevel` does not apply). Fuel, epoch deadlines, threads, SIMD and memory64 work.
   */
  strategy?: Strategy;
  /**
   * Cranelift settings by name, as `wasmtime --codegen` / wasmtime-py's `cranelift_flag_set`
   * take them: `true` enables a boolean setting, a string sets a value (`{ has_avx2: false,
   * regalloc_algorithm: "single_pass" }`; `false` sets `"false"`). Unknown names or values make
   * `new Engine` throw; an ISA feature this host lacks (`has_*: true`) makes compiling or loading
   * code for this host throw (Wasmtime checks before it compiles). These change the machine
   * code Wasmtime emits; set only settings whose effect you know. Some weaken the sandbox
   * against untrusted guests: `enable_heap_access_spectre_mitigation: false` and
   * `enable_table_access_spectre_mitigation: false` remove the Spectre guards on memory and
   * table bounds checks (accepted, since the host chooses them, but never for untrusted code).
   */
  craneliftFlags?: Record<string, string | boolean>;
  /**
   * Compile for another platform, as a target triple (`"x86_64-pc-windows-msvc"`). The library
   * has Cranelift's backend for its own architecture only, so the triple must name that
   * architecture (any operating system); others throw at `new Engine`. An engine for another
   * platform cannot load code on this host: it only precompiles (`engine.precompile(wasm)`), and
   * the result is loaded by `Module.deserialize` on a machine of that target with an engine of
   * the same options. `new Module`, `Module.compile` and `Module.deserialize` throw for it.
   */
  target?: string;
  /** Stack switching (typed continuations; x86_64 Unix only). */
  stackSwitching?: boolean;
  /** Branch hints (the `metadata.code.branch_hint` custom section). */
  branchHinting?: boolean;
  /**
   * A WebAssembly version's feature set, as a base the flags above override: `"2.0"` turns
   * off every proposal standardized after 2.0 (GC, typed function references, tail calls,
   * exceptions, multiple memories, memory64, relaxed SIMD) and the ones outside the standard
   * (threads, wide arithmetic, custom page sizes, stack switching); `"3.0"` turns 3.0's on and
   * the others off. Extended constant expressions (3.0) stay on in both: the C API has no
   * switch for them.
   */
  features?: FeatureSet;
  /** Cranelift optimization level. */
  optLevel?: OptLevel;
  /** Canonicalize NaNs produced by float operations (deterministic results). */
  nanCanonicalization?: boolean;
  /** Compile functions on several threads. */
  parallelCompilation?: boolean;
  /**
   * Wasmtime's own compilation cache, configured by a TOML file (`configPath`). Wasmtime opens
   * that file and the directories it names natively, by path, so it needs unrestricted
   * `--allow-read` and `--allow-write` with no `--deny-read` / `--deny-write` rule at all, and
   * it trusts whoever can write that cache (its entries are native code). `Module.cached` is
   * the permission-scoped alternative.
   */
  cache?: { configPath: string };
  /**
   * Profiler to emit data for. Wasmtime writes the output natively, so the binding checks
   * Deno's permissions first: `"perfmap"` appends to `/tmp/perf-<pid>.map` and needs read and
   * write access to it (e.g. `--allow-read=/tmp --allow-write=/tmp`); `"jitdump"` writes
   * `./jit-<pid>.dump` and needs read and write access to it; `"vtune"` needs
   * `--allow-env=INTEL_LIBITTNOTIFY64,INTEL_JIT_PROFILER64`. An existing symlink or non-regular
   * file at the output path is refused (native code would follow it).
   */
  profiler?: Profiler;
  /** Virtual memory reserved per linear memory, in bytes. */
  memoryReservation?: number;
  /** Guard region after each linear memory, in bytes. */
  memoryGuardSize?: number;
  /** Extra reservation for growth when a memory has to move, in bytes. */
  memoryReservationForGrowth?: number;
  /** Whether linear memories may move when they grow. */
  memoryMayMove?: boolean;
  /** Copy-on-write initialization of memories from module images. */
  memoryInitCow?: boolean;
  /** Use signal handlers to catch out-of-bounds accesses (faster); false uses explicit checks. */
  signalsBasedTraps?: boolean;
  /** Use the pooling instance allocator (`true` for its defaults). */
  pooling?: boolean | PoolingOptions;
  /** Stack size for async calls, in bytes. */
  asyncStackSize?: number;
  /**
   * The garbage collector of GC heaps (structs, arrays, anyref): `"drc"` (Wasmtime's default
   * here, deferred reference counting: frees as it goes, but not cycles) or `"null"` (never
   * collects: fastest allocation, and allocation traps once the GC heap is full; for
   * short-lived stores). Wasmtime's copying collector is not offered: Wasmtime 48 calls it not
   * yet functional.
   */
  collector?: Collector;
}

/**
 * Garbage collectors for `EngineOptions.collector`.
 *
 * @example
 * ```ts
 * import { type Collector, Engine } from "@wasmtime-deno/wasmtime";
 * const collector: Collector = "null";
 * using engine = new Engine({ gc: true, collector });
 * ```
 */
export type Collector = "drc" | "null";

const COLLECTORS: Record<Collector, number> = { drc: 1, null: 2 };

/**
 * A WebAssembly version's feature set, for `EngineOptions.features`.
 *
 * @example
 * ```ts
 * import { Engine } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine({ features: "3.0", threads: true });
 * ```
 */
export type FeatureSet = "2.0" | "3.0";

const WASM_2_0: EngineOptions = {
  referenceTypes: true,
  simd: true,
  bulkMemory: true,
  multiValue: true,
  multiMemory: false,
  memory64: false,
  gc: false,
  functionReferences: false,
  tailCall: false,
  exceptions: false,
  relaxedSimd: false,
  threads: false,
  wideArithmetic: false,
  customPageSizes: false,
  stackSwitching: false,
};
const FEATURE_SETS: Record<FeatureSet, EngineOptions> = {
  "2.0": WASM_2_0,
  "3.0": {
    ...WASM_2_0,
    multiMemory: true,
    memory64: true,
    gc: true,
    functionReferences: true,
    tailCall: true,
    exceptions: true,
    relaxedSimd: true,
  },
};

/** Interval of the native epoch ticker that drives timeouts and async yielding. */
export const EPOCH_TICK_US = 1000;

/**
 * The largest accepted `maxWasmStack`, in bytes. A synchronous call runs the guest on the
 * calling thread's own stack, and every JS host function the guest calls runs on top of it.
 * V8 aborts the whole process ("Check failed: IsOnCentralStack()") when JS is entered below its
 * stack region (about 1 MB, `--stack-size`). Measured with a guest that recurses through a host
 * function, on the main thread and in a Worker: 896 KiB traps cleanly (StackOverflow), 1 MiB
 * ends in a RangeError, 1152 KiB aborts the process. Without host calls, recursion deeper than
 * the thread itself allows (8 MiB main thread, 4 MiB Worker) also aborts.
 *
 * @example
 * ```ts
 * import { Engine, MAX_WASM_STACK } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine({ maxWasmStack: MAX_WASM_STACK });
 * ```
 */
export const MAX_WASM_STACK: number = 1 << 20;

/** Native engine references kept for the epoch ticker of disposed engines (see dispose). */
const tickerEngines = new FinalizationRegistry<Deno.PointerObject>((pointer) =>
  ffi().wasm_engine_delete(pointer)
);

/**
 * Internal: starts the engine's native epoch ticker (shared, reference counted). The ticker is
 * a native thread, so it keeps ticking while a synchronous guest blocks the JS thread.
 */
/** Package-private: the native `wasm_engine_t *` (borrowed); throws if the engine was disposed. */
export let enginePointer: (engine: Engine, action: string) => Deno.PointerObject;

export let acquireTicker: (engine: Engine) => void;
/** Internal: releases a reference taken by {@linkcode acquireTicker}. */
export let releaseTicker: (engine: Engine) => void;

const OPT_LEVELS: Record<OptLevel, number> = {
  none: WASMTIME_OPT_LEVEL_NONE,
  speed: WASMTIME_OPT_LEVEL_SPEED,
  speed_and_size: WASMTIME_OPT_LEVEL_SPEED_AND_SIZE,
};
const STRATEGIES: Record<Strategy, number> = {
  cranelift: WASMTIME_STRATEGY_CRANELIFT,
  winch: WASMTIME_STRATEGY_WINCH,
};
const PROFILERS: Record<Profiler, number> = {
  none: WASMTIME_PROFILING_STRATEGY_NONE,
  jitdump: WASMTIME_PROFILING_STRATEGY_JITDUMP,
  vtune: WASMTIME_PROFILING_STRATEGY_VTUNE,
  perfmap: WASMTIME_PROFILING_STRATEGY_PERFMAP,
};

type BoolSetter = (config: Deno.PointerObject, value: boolean) => void;

const BOOLEAN_OPTIONS: [keyof EngineOptions, () => BoolSetter][] = [
  ["consumeFuel", () => ffi().wasmtime_config_consume_fuel_set],
  ["epochInterruption", () => ffi().wasmtime_config_epoch_interruption_set],
  ["debugInfo", () => ffi().wasmtime_config_debug_info_set],
  ["threads", () => ffi().wasmtime_config_wasm_threads_set],
  ["sharedMemory", () => ffi().wasmtime_config_shared_memory_set],
  ["simd", () => ffi().wasmtime_config_wasm_simd_set],
  ["relaxedSimd", () => ffi().wasmtime_config_wasm_relaxed_simd_set],
  ["relaxedSimdDeterministic", () => ffi().wasmtime_config_wasm_relaxed_simd_deterministic_set],
  ["tailCall", () => ffi().wasmtime_config_wasm_tail_call_set],
  ["referenceTypes", () => ffi().wasmtime_config_wasm_reference_types_set],
  ["functionReferences", () => ffi().wasmtime_config_wasm_function_references_set],
  ["gc", () => ffi().wasmtime_config_wasm_gc_set],
  ["multiValue", () => ffi().wasmtime_config_wasm_multi_value_set],
  ["multiMemory", () => ffi().wasmtime_config_wasm_multi_memory_set],
  ["memory64", () => ffi().wasmtime_config_wasm_memory64_set],
  ["bulkMemory", () => ffi().wasmtime_config_wasm_bulk_memory_set],
  ["exceptions", () => ffi().wasmtime_config_wasm_exceptions_set],
  ["wideArithmetic", () => ffi().wasmtime_config_wasm_wide_arithmetic_set],
  ["customPageSizes", () => ffi().wasmtime_config_wasm_custom_page_sizes_set],
  ["stackSwitching", () => ffi().wasmtime_config_wasm_stack_switching_set],
  ["branchHinting", () => ffi().wasmtime_config_wasm_branch_hinting_set],
  ["nanCanonicalization", () => ffi().wasmtime_config_cranelift_nan_canonicalization_set],
  ["parallelCompilation", () => ffi().wasmtime_config_parallel_compilation_set],
  ["memoryMayMove", () => ffi().wasmtime_config_memory_may_move_set],
  ["memoryInitCow", () => ffi().wasmtime_config_memory_init_cow_set],
  ["signalsBasedTraps", () => ffi().wasmtime_config_signals_based_traps_set],
];

function nonNegativeInteger(options: EngineOptions, key: keyof EngineOptions): bigint | undefined {
  const value = options[key];
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    const got = typeof value === "number" ? String(value) : `a ${typeof value}`;
    throw new WasmtimeError(`Engine option ${key} must be a non-negative integer, got ${got}`);
  }
  return BigInt(value);
}

/**
 * Wasmtime's profilers open their output by path, natively, when the engine is created:
 * perfmap appends to `/tmp/perf-<pid>.map` (hard-coded, not `$TMPDIR`), jitdump opens
 * `./jit-<pid>.dump` for reading and writing and maps it; both follow symlinks and create the
 * file. vtune writes nothing itself; it loads Intel's collector if `INTEL_LIBITTNOTIFY64` or
 * `INTEL_JIT_PROFILER64` names one (read natively, so Deno's env check is made here).
 */
function requireProfilerOutput(profiler: Profiler): void {
  const why = `Engine option profiler: "${profiler}"`;
  if (profiler === "perfmap") {
    requireOutputFile(`/tmp/perf-${Deno.pid}.map`, `${why} writes /tmp/perf-${Deno.pid}.map`);
  } else if (profiler === "jitdump") {
    const path = join(Deno.cwd(), `jit-${Deno.pid}.dump`);
    requireOutputFile(path, `${why} writes ${path}`, true);
  } else if (profiler === "vtune") {
    // These name a collector library that native code loads; no file is written otherwise.
    for (const variable of ["INTEL_LIBITTNOTIFY64", "INTEL_JIT_PROFILER64"]) {
      requirePermission({ name: "env", variable }, `${why} reads ${variable} natively`);
    }
  }
}

/** `text` as a C string; a NUL inside would silently cut it short natively. */
function nulFree(text: string, what: string): Uint8Array<ArrayBuffer> {
  if (text.includes("\0")) {
    throw new WasmtimeError(
      `Engine option ${what} contains a NUL character: ${JSON.stringify(text)}`,
    );
  }
  return cString(text);
}

function applyCraneliftFlags(config: Deno.PointerObject, flags: Record<string, unknown>): void {
  if (typeof flags !== "object" || flags === null || Array.isArray(flags)) {
    throw new WasmtimeError(
      "Engine option craneliftFlags must be an object of setting names to true or a string",
    );
  }
  // Wasmtime checks names and values only when the engine is built, and then names the setting.
  for (const [name, value] of Object.entries(flags)) {
    if (name.length === 0) throw new WasmtimeError("Engine option craneliftFlags: empty name");
    const key = nulFree(name, "craneliftFlags name");
    if (value === true) ffi().wasmtime_config_cranelift_flag_enable(config, key);
    else if (value === false) {
      ffi().wasmtime_config_cranelift_flag_set(config, key, cString("false"));
    } else if (typeof value === "string") {
      ffi().wasmtime_config_cranelift_flag_set(
        config,
        key,
        nulFree(value, `craneliftFlags.${name}`),
      );
    } else {
      throw new WasmtimeError(
        `Engine option craneliftFlags.${name} must be true, false or a string, got ${typeof value}`,
      );
    }
  }
}

/** The error for options Wasmtime rejected, saying what to change for the known causes. */
function rejected(error: Deno.PointerObject, options: EngineOptions): WasmtimeError {
  const converted = takeError(error, "Wasmtime rejected the engine options");
  const { message, details } = converted;
  const arch = Deno.build.arch;
  let hint: string | undefined;
  if (options.target !== undefined && message.includes("Support for this target is disabled")) {
    hint = `this libwasmtime compiles for its own architecture (${arch}) only, for any ` +
      `operating system (e.g. "${arch}-pc-windows-msvc", "${arch}-apple-darwin"); ` +
      "precompile for another architecture on a machine of that architecture";
  } else if (options.strategy === "winch" && /Winch|compiler configuration/.test(message)) {
    hint = "Winch has no gc, functionReferences, tailCall, exceptions, relaxedSimd or " +
      'debugInfo, and needs signalsBasedTraps; turn those off or use strategy "cranelift"';
  }
  return hint === undefined ? converted : new WasmtimeError(`${message}; ${hint}`, { details });
}

function applyOptions(config: Deno.PointerObject, options: EngineOptions): void {
  const known = new Set<string>([
    ...BOOLEAN_OPTIONS.map(([key]) => key as string),
    "maxWasmStack",
    "optLevel",
    "cache",
    "profiler",
    "memoryReservation",
    "memoryGuardSize",
    "memoryReservationForGrowth",
    "pooling",
    "asyncStackSize",
    "strategy",
    "craneliftFlags",
    "target",
    "features",
    "collector",
  ]);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) {
      throw new WasmtimeError(
        `unknown Engine option ${JSON.stringify(key)}; see EngineOptions for the list`,
      );
    }
  }
  let preset: EngineOptions = {};
  if (options.features !== undefined) {
    if (!Object.hasOwn(FEATURE_SETS, options.features)) {
      throw new WasmtimeError(
        `Engine option features must be one of ${
          Object.keys(FEATURE_SETS).map((k) => JSON.stringify(k)).join(", ")
        }, got ${JSON.stringify(options.features)}`,
      );
    }
    preset = FEATURE_SETS[options.features];
  }
  for (const [key, setter] of BOOLEAN_OPTIONS) {
    const value = options[key] ?? preset[key];
    if (value === undefined) continue;
    if (typeof value !== "boolean") {
      throw new WasmtimeError(`Engine option ${key} must be a boolean, got ${typeof value}`);
    }
    setter()(config, value);
  }
  const stack = nonNegativeInteger(options, "maxWasmStack");
  if (stack !== undefined && stack > BigInt(MAX_WASM_STACK)) {
    throw new WasmtimeError(
      `Engine option maxWasmStack must be at most ${MAX_WASM_STACK} bytes (1 MiB), got ${stack}: ` +
        "synchronous calls run the guest on the thread's stack, and V8 aborts the process when " +
        "a JS host function is entered below its ~1 MB stack region. Keep the default (512 KiB) " +
        "or a value up to MAX_WASM_STACK.",
    );
  }
  if (stack !== undefined) ffi().wasmtime_config_max_wasm_stack_set(config, stack);
  const asyncStack = nonNegativeInteger(options, "asyncStackSize");
  if (asyncStack !== undefined) ffi().wasmtime_config_async_stack_size_set(config, asyncStack);
  const reservation = nonNegativeInteger(options, "memoryReservation");
  if (reservation !== undefined) ffi().wasmtime_config_memory_reservation_set(config, reservation);
  const guard = nonNegativeInteger(options, "memoryGuardSize");
  if (guard !== undefined) ffi().wasmtime_config_memory_guard_size_set(config, guard);
  const growth = nonNegativeInteger(options, "memoryReservationForGrowth");
  if (growth !== undefined) {
    ffi().wasmtime_config_memory_reservation_for_growth_set(config, growth);
  }
  if (options.optLevel !== undefined) {
    const level = OPT_LEVELS[options.optLevel];
    if (level === undefined) {
      throw new WasmtimeError(`optLevel must be one of ${Object.keys(OPT_LEVELS).join(", ")}`);
    }
    ffi().wasmtime_config_cranelift_opt_level_set(config, level);
  }
  if (options.strategy !== undefined) {
    const strategy = Object.hasOwn(STRATEGIES, options.strategy)
      ? STRATEGIES[options.strategy]
      : undefined;
    if (strategy === undefined) {
      throw new WasmtimeError(
        `Engine option strategy must be one of ${Object.keys(STRATEGIES).join(", ")}, got ${
          JSON.stringify(options.strategy)
        }`,
      );
    }
    ffi().wasmtime_config_strategy_set(config, strategy);
  }
  if (options.craneliftFlags !== undefined) applyCraneliftFlags(config, options.craneliftFlags);
  if (options.collector !== undefined) {
    if (!Object.hasOwn(COLLECTORS, options.collector)) {
      throw new WasmtimeError(
        `Engine option collector must be "drc" or "null", got ${JSON.stringify(options.collector)}`,
      );
    }
    ffi().wasmtime_deno_config_collector_set(config, COLLECTORS[options.collector]);
  }
  if (options.target !== undefined) {
    if (typeof options.target !== "string" || options.target.length === 0) {
      throw new WasmtimeError(
        "Engine option target must be a target triple such as " +
          '"x86_64-unknown-linux-gnu"',
      );
    }
    check(
      ffi().wasmtime_config_target_set(config, nulFree(options.target, "target")),
      `Engine option target: ${JSON.stringify(options.target)} is not a target Wasmtime knows`,
    );
  }
  if (options.profiler !== undefined) {
    const profiler = Object.hasOwn(PROFILERS, options.profiler)
      ? PROFILERS[options.profiler]
      : undefined;
    if (profiler === undefined) {
      throw new WasmtimeError(`profiler must be one of ${Object.keys(PROFILERS).join(", ")}`);
    }
    requireProfilerOutput(options.profiler);
    ffi().wasmtime_config_profiler_set(config, profiler);
  }
  if (options.cache !== undefined) {
    const configPath = options.cache?.configPath;
    if (typeof configPath !== "string" || configPath.length === 0) {
      throw new WasmtimeError("Engine option cache.configPath must name a TOML file");
    }
    // Wasmtime opens the config file and then the directories it names by path, natively: only
    // a whole, unscoped grant (no --deny-* rule anywhere) covers what it may touch.
    for (const name of ["read", "write"] as const) {
      requirePermission(
        { name },
        "Engine option `cache` lets Wasmtime read and write wherever its config file says",
        { narrower: "Use Module.cached({ dir }), which needs access to its directory only" },
      );
    }
    check(
      ffi().wasmtime_config_cache_config_load(config, cString(options.cache.configPath)),
      `cannot load the compilation cache config ${options.cache.configPath}`,
    );
  }
  if (options.pooling) {
    const pooling = options.pooling === true ? {} : options.pooling;
    const pool = ffi().wasmtime_pooling_allocation_config_new()!;
    try {
      if (pooling.totalCoreInstances !== undefined) {
        ffi().wasmtime_pooling_allocation_config_total_core_instances_set(
          pool,
          pooling.totalCoreInstances,
        );
      }
      if (pooling.totalMemories !== undefined) {
        ffi().wasmtime_pooling_allocation_config_total_memories_set(pool, pooling.totalMemories);
      }
      if (pooling.totalTables !== undefined) {
        ffi().wasmtime_pooling_allocation_config_total_tables_set(pool, pooling.totalTables);
      }
      if (pooling.maxMemorySize !== undefined) {
        ffi().wasmtime_pooling_allocation_config_max_memory_size_set(
          pool,
          BigInt(pooling.maxMemorySize),
        );
      }
      ffi().wasmtime_pooling_allocation_strategy_set(config, pool);
    } finally {
      ffi().wasmtime_pooling_allocation_config_delete(pool);
    }
  }
}

/**
 * Compilation settings and the home of compiled code. Create one per set of options and share
 * it between stores and modules; it is thread-safe on the native side.
 *
 * @example
 * ```ts
 * import { Engine } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine({ consumeFuel: true, epochInterruption: true, simd: true });
 * engine.incrementEpoch();
 * ```
 */
export class Engine {
  readonly #handle: Handle;
  readonly #options: Readonly<EngineOptions>;
  #ticker: Deno.PointerObject | null = null;
  #tickerUsers = 0;
  /** A native engine reference kept after dispose, for the ticker of this engine's stores. */
  #tickerEngine: Deno.PointerObject | null = null;

  static {
    enginePointer = (engine, action) => engine.#handle.pointer(action);
    acquireTicker = (engine) => {
      if (engine.#tickerUsers === 0) {
        const native = engine.#handle.raw ?? engine.#tickerEngine;
        if (native === null) {
          throw new WasmtimeError(
            "timed and async calls need the engine's epoch ticker, but the Engine was disposed " +
              "and has no epoch interruption; create a new Engine",
          );
        }
        const ticker = ffi().wasmtime_deno_epoch_ticker_start(native, BigInt(EPOCH_TICK_US));
        if (ticker === null) throw new WasmtimeError("cannot start the epoch ticker thread");
        engine.#ticker = ticker;
      }
      // Counted only once the ticker runs, so a failed start leaks no reference.
      engine.#tickerUsers++;
    };
    releaseTicker = (engine) => {
      if (--engine.#tickerUsers === 0 && engine.#ticker !== null) {
        ffi().wasmtime_deno_epoch_ticker_stop(engine.#ticker);
        engine.#ticker = null;
      }
    };
  }

  /** Creates an engine; throws a {@linkcode WasmtimeError} if Wasmtime rejects the options. */
  constructor(options: EngineOptions = {}) {
    const raw = takeRaw<{ pointer: Deno.PointerObject; options: EngineOptions }>();
    if (raw !== undefined) {
      this.#handle = new Handle(this, "Engine", raw.pointer, (p) => ffi().wasm_engine_delete(p));
      this.#options = Object.freeze(raw.options);
      return;
    }
    if (typeof options !== "object" || options === null) {
      throw new WasmtimeError("new Engine(options): options must be an object");
    }
    const config = ffi().wasm_config_new()!;
    try {
      applyOptions(config, options);
    } catch (error) {
      ffi().wasm_config_delete(config);
      throw error;
    }
    const out = new OutCell();
    // The shim takes the config whether or not it succeeds.
    const error = ffi().wasmtime_deno_engine_new(config, out.bytes);
    if (error !== null) throw rejected(error, options);
    this.#handle = new Handle(
      this,
      "Engine",
      out.takePointer(),
      (p) => ffi().wasm_engine_delete(p),
    );
    this.#options = Object.freeze({
      ...options,
      // A copy with sorted names: later changes to the caller's object must not change what
      // `options` (and the Module.cached key built from it) says about this engine.
      ...(options.craneliftFlags === undefined ? {} : {
        craneliftFlags: Object.freeze(Object.fromEntries(
          Object.entries(options.craneliftFlags).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0),
        )),
      }),
    });
  }

  /**
   * Takes the engine a token from {@linkcode Engine.share} stands for, typically in the Worker
   * the token was posted to: the same native engine (modules it compiled, and shared memories
   * made with it, work here), with the same `options`. Throws a {@linkcode WasmtimeError} for a
   * token that was already claimed, revoked, forged, or issued in another process.
   *
   * @example
   * ```ts
   * import { Engine, type HandoffToken } from "@wasmtime-deno/wasmtime";
   * // In a Worker: the token arrives by postMessage.
   * addEventListener("message", (event) => {
   *   const { engine: token } = (event as MessageEvent<{ engine: HandoffToken<"Engine"> }>).data;
   *   using engine = Engine.claim(token);
   *   console.log(engine.options);
   * });
   * ```
   */
  static claim(token: HandoffToken<"Engine">): Engine {
    const bytes = tokenBytes(token, "Engine", "Engine.claim");
    const meta = newVec();
    const pointer = ffi().wasmtime_deno_handoff_take_engine(bytes, meta);
    if (pointer === null) throw unclaimable("Engine", "Engine.claim");
    const options = JSON.parse(new TextDecoder().decode(takeByteVec(meta))) as EngineOptions;
    return fromRaw(Engine, { pointer, options });
  }

  /**
   * A one-use token for this engine, to post to a Worker that claims it with
   * {@linkcode Engine.claim}: the way to use one engine (and so one shared memory) from
   * several Workers. The token holds a reference until claimed or revoked
   * ({@linkcode revokeToken}).
   *
   * @example
   * ```ts
   * import { Engine } from "@wasmtime-deno/wasmtime";
   * using engine = new Engine({ threads: true });
   * const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
   * worker.postMessage({ engine: engine.share() });
   * ```
   */
  share(): HandoffToken<"Engine"> {
    const pointer = this.#handle.pointer("share");
    const meta = new TextEncoder().encode(JSON.stringify(this.#options));
    return issueToken(
      "Engine",
      (token) => ffi().wasmtime_deno_handoff_put_engine(pointer, token, meta, BigInt(meta.length)),
    );
  }

  /** The options this engine was created with. */
  get options(): Readonly<EngineOptions> {
    return this.#options;
  }

  /**
   * Advances the epoch by one tick. Guests in stores whose deadline is reached trap with
   * `TrapCode.Interrupt`. Safe to call from any thread holding the engine.
   */
  incrementEpoch(): void {
    ffi().wasmtime_engine_increment_epoch(this.#handle.pointer("incrementEpoch"));
  }

  /**
   * Compiles `source` (WAT text or wasm bytes) ahead of time and returns the compiled code, to
   * be loaded later with `Module.deserialize` by an engine with the same options. The only way
   * to use an engine whose `target` is another platform: its code is made here and loaded there.
   *
   * @example
   * ```ts
   * import { Engine } from "@wasmtime-deno/wasmtime";
   * using windows = new Engine({ target: "x86_64-pc-windows-msvc" });
   * Deno.writeFileSync("app.win64.cwasm", windows.precompile(await Deno.readFile("app.wasm")));
   * ```
   */
  precompile(source: string | Uint8Array | ArrayBuffer): Uint8Array<ArrayBuffer> {
    const bytes = moduleBytes(source, "Engine.precompile");
    const out = newVec();
    check(
      ffi().wasmtime_deno_engine_precompile(
        this.#handle.pointer("precompile"),
        bytes as Uint8Array<ArrayBuffer>,
        BigInt(bytes.length),
        out,
      ),
      "cannot precompile the module",
    );
    return takeByteVec(out);
  }

  /** True once disposed. */
  get disposed(): boolean {
    return this.#handle.disposed;
  }

  /**
   * Frees the engine. Stores and modules made from it keep working: they hold their own
   * reference to the native engine. Idempotent.
   */
  [Symbol.dispose](): void {
    const native = this.#handle.raw;
    if (native === null) return;
    if (this.#options.epochInterruption === true) {
      // Timed and async calls of this engine's stores still need a ticker, which is started
      // from a native engine. Keep one reference until the Engine object is collected: every
      // Store references its Engine, so that happens only after all of them are gone.
      this.#tickerEngine = ffi().wasmtime_engine_clone(native);
      if (this.#tickerEngine !== null) tickerEngines.register(this, this.#tickerEngine);
    }
    this.#handle.dispose();
  }
}
