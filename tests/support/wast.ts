/**
 * The WebAssembly core spec testsuite runner, through the binding's public API only (it is a
 * user of the package, like the tests): used by `deno task spec` (tasks/spec.ts, the whole suite)
 * and tests/spec_test.ts (a few representative files).
 *
 * Two suites: WebAssembly 2.0 (flat, converted with `wast2json` from Debian's wabt) and 3.0
 * (with `legacy/` and `proposals/` subdirectories, converted with `wasm-tools json-from-wast`,
 * since wabt cannot parse 3.0 text). Each `.wast` is converted into a temporary directory, then
 * every command is executed: module (also `module definition` / `module instance`), register,
 * action, assert_return (bit-exact, with `nan:canonical` / `nan:arithmetic` per lane, reference
 * kinds, `either`), assert_trap, assert_exhaustion, assert_exception, assert_invalid,
 * assert_malformed, assert_unlinkable and assert_uninstantiable, against the `spectest` host
 * module. A 3.0 file runs with the features Wasmtime 48's own runner gives it
 * (`crates/test-util/src/wast.rs`); the files that runner expects to fail are skipped, with
 * the reason in the report.
 *
 * @module
 */
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { relative } from "node:path";
import {
  AnyRef,
  ArrayRef,
  Engine,
  type EngineOptions,
  ExnRef,
  type Extern,
  ExternalizedRef,
  Func,
  FuncType,
  Global,
  Instance,
  Linker,
  Memory,
  Module,
  SharedMemory,
  Store,
  StructRef,
  Table,
  Trap,
  TrapCode,
  type ValType,
  WasmException,
  WasmtimeError,
} from "../../mod.ts";

/** A value as wast2json / json-from-wast write it. */
interface JsonValue {
  type: string;
  value?: string | string[] | { index: number };
  lane_type?: string;
  /** The alternatives of an `either` result. */
  values?: JsonValue[];
}

interface JsonAction {
  type: "invoke" | "get";
  module?: string;
  field: string;
  args?: JsonValue[];
}

interface JsonCommand {
  type: string;
  line: number;
  name?: string;
  /** `module_instance`: the instance's name and the definition it instantiates. */
  instance?: string;
  module?: string;
  as?: string;
  filename?: string;
  module_type?: "binary" | "text";
  text?: string;
  action?: JsonAction;
  expected?: JsonValue[];
}

/** Outcome of one .wast file. */
export interface FileReport {
  file: string;
  passed: number;
  failed: number;
  skipped: number;
  firstFailure?: string;
  skipReasons: Record<string, number>;
}

/** Host references used for `ref.extern N`: one stable object per N. */
const hostRefs = new Map<string, object>();
function hostRef(n: string): object {
  let ref = hostRefs.get(n);
  if (!ref) hostRefs.set(n, ref = { hostRef: Number(n) });
  return ref;
}

const WIDTH: Record<string, bigint> = { i32: 32n, f32: 32n, i64: 64n, f64: 64n };

/** The null reference types of json-from-wast (`ref.null none`, ...), as arguments or results. */
const NULL_TYPES = new Set(["nullref", "nullfuncref", "nullexternref", "nullexnref", "refnull"]);

function argValue(value: JsonValue, hostAny: (n: string) => AnyRef): unknown {
  switch (value.type) {
    case "i32":
    case "i64":
    case "f32":
    case "f64":
      // wast2json writes unsigned decimals, json-from-wast signed ones: raw bits either way.
      return BigInt.asUintN(Number(WIDTH[value.type]), BigInt(value.value as string));
    case "v128":
      return lanesToBits(value.lane_type!, value.value as string[]);
    case "externref":
      return value.value === "null" ? null : hostRef(value.value as string);
    case "anyref":
      // `ref.host N`: the host reference N made internal (`any.convert_extern`).
      return value.value === "null" ? null : hostAny(value.value as string);
    case "funcref":
    case "exnref":
      if (value.value === "null") return null;
      throw new Error(`unsupported ${value.type} argument ${JSON.stringify(value.value)}`);
    default:
      if (NULL_TYPES.has(value.type)) return null;
      throw new Error(`unsupported argument type ${value.type}`);
  }
}

const LANE_BITS: Record<string, number> = { i8: 8, i16: 16, i32: 32, i64: 64, f32: 32, f64: 64 };

function lanesToBits(laneType: string, lanes: string[]): bigint {
  const width = BigInt(LANE_BITS[laneType]);
  let bits = 0n;
  lanes.forEach((lane, i) => {
    // Argument lanes are never NaN patterns; json-from-wast writes float lanes as bits.
    bits |= (BigInt(lane) & ((1n << width) - 1n)) << (BigInt(i) * width);
  });
  return bits;
}

function isCanonicalNan(bits: bigint, width: number): boolean {
  return width === 32
    ? (bits & 0x7fff_ffffn) === 0x7fc0_0000n
    : (bits & 0x7fff_ffff_ffff_ffffn) === 0x7ff8_0000_0000_0000n;
}

function isArithmeticNan(bits: bigint, width: number): boolean {
  return width === 32
    ? (bits & 0x7fc0_0000n) === 0x7fc0_0000n
    : (bits & 0x7ff8_0000_0000_0000n) === 0x7ff8_0000_0000_0000n;
}

function matchesScalar(expected: string, bits: bigint, width: number): boolean {
  if (expected === "nan:canonical") return isCanonicalNan(bits, width);
  if (expected === "nan:arithmetic") return isArithmeticNan(bits, width);
  return (BigInt(expected) & ((1n << BigInt(width)) - 1n)) === bits;
}

/** Describes why `actual` does not match `expected`, or returns undefined when it does. */
function mismatch(
  expected: JsonValue,
  actual: unknown,
  hostOf: (ref: AnyRef) => unknown,
): string | undefined {
  const show = (v: unknown) =>
    typeof v === "bigint" ? `${v}n` : typeof v === "object" && v ? v.constructor.name : String(v);
  const nullOr = (ok: boolean, what: string) =>
    expected.value === "null"
      ? (actual === null ? undefined : `expected null, got ${show(actual)}`)
      : ok
      ? undefined
      : `expected ${what}, got ${show(actual)}`;
  switch (expected.type) {
    case "i32":
    case "f32":
      return typeof actual === "bigint" && matchesScalar(expected.value as string, actual, 32)
        ? undefined
        : `expected ${expected.type} ${expected.value}, got ${show(actual)}`;
    case "i64":
    case "f64":
      return typeof actual === "bigint" && matchesScalar(expected.value as string, actual, 64)
        ? undefined
        : `expected ${expected.type} ${expected.value}, got ${show(actual)}`;
    case "v128": {
      if (typeof actual !== "bigint") return `expected v128, got ${show(actual)}`;
      const width = LANE_BITS[expected.lane_type!];
      const lanes = expected.value as string[];
      for (let i = 0; i < lanes.length; i++) {
        const lane = (actual >> BigInt(i * width)) & ((1n << BigInt(width)) - 1n);
        if (!matchesScalar(lanes[i], lane, width)) {
          return `v128 lane ${i} (${expected.lane_type}): expected ${lanes[i]}, got ${lane}`;
        }
      }
      return undefined;
    }
    case "externref":
      // No value: any non-null externref (`ref.extern`).
      if (expected.value === undefined) {
        return actual !== null ? undefined : "expected a non-null externref, got null";
      }
      return nullOr(actual === hostRef(expected.value as string), `ref.extern ${expected.value}`);
    case "funcref":
      return nullOr(actual instanceof Func, "a funcref");
    case "anyref":
      if (expected.value === undefined) {
        return actual instanceof AnyRef || typeof actual === "number"
          ? undefined
          : `expected a non-null anyref, got ${show(actual)}`;
      }
      return nullOr(
        actual instanceof AnyRef && hostOf(actual) === hostRef(expected.value as string),
        `ref.host ${expected.value}`,
      );
    case "eqref":
      return actual instanceof StructRef || actual instanceof ArrayRef ||
          typeof actual === "number"
        ? undefined
        : `expected an eqref, got ${show(actual)}`;
    case "structref":
      return actual instanceof StructRef ? undefined : `expected a structref, got ${show(actual)}`;
    case "arrayref":
      return actual instanceof ArrayRef ? undefined : `expected an arrayref, got ${show(actual)}`;
    case "i31ref":
      return typeof actual === "number" ? undefined : `expected an i31ref, got ${show(actual)}`;
    case "exnref":
      return nullOr(actual instanceof ExnRef, "an exnref");
    case "either": {
      const problems = expected.values!.map((v) => mismatch(v, actual, hostOf));
      return problems.some((p) => p === undefined) ? undefined : problems.join("; or ");
    }
    default:
      if (NULL_TYPES.has(expected.type)) {
        return actual === null ? undefined : `expected null, got ${show(actual)}`;
      }
      return `unsupported expected type ${expected.type}`;
  }
}

/**
 * Converts between host references and their internal (`anyref`) form in a store, the way
 * Wasmtime's runner makes `ref.host N` (`any.convert_extern` of the externref N).
 */
const HOST_REF_WAT = `(module
  (func (export "internalize") (param externref) (result anyref)
    (any.convert_extern (local.get 0)))
  (func (export "externalize") (param anyref) (result externref)
    (extern.convert_any (local.get 0))))`;

const SPECTEST_TABLE64_WAT = `(module (table (export "table64") i64 10 20 funcref))`;

/** The `spectest` host module, defined in `linker` for `store`. */
function defineSpectest(linker: Linker, store: Store): void {
  const nothing = () => {};
  const prints: [string, ValType[]][] = [
    ["print", []],
    ["print_i32", ["i32"]],
    ["print_i64", ["i64"]],
    ["print_f32", ["f32"]],
    ["print_f64", ["f64"]],
    ["print_i32_f32", ["i32", "f32"]],
    ["print_f64_f64", ["f64", "f64"]],
  ];
  const globals: [string, "i32" | "i64" | "f32" | "f64", number | bigint][] = [
    ["global_i32", "i32", 666],
    ["global_i64", "i64", 666n],
    ["global_f32", "f32", 666.6],
    ["global_f64", "f64", 666.6],
  ];
  const externs: [string, Extern][] = [
    ...prints.map(([name, params]): [string, Extern] => [
      name,
      new Func(store, new FuncType(params, []), nothing),
    ]),
    ...globals.map(([name, content, value]): [string, Extern] => [
      name,
      new Global(store, { content, mutable: false }, value),
    ]),
    ["table", new Table(store, { element: "funcref", minimum: 10, maximum: 20 })],
    ["memory", new Memory(store, { minimum: 1, maximum: 2 })],
  ];
  // The C API cannot make a 64-bit table type, so `spectest.table64` (Wasmtime's: i64 10 20
  // funcref) comes from a module.
  if (store.engine.options.memory64 !== false) {
    using table64 = new Module(store.engine, SPECTEST_TABLE64_WAT);
    externs.push(["table64", new Instance(store, table64, []).getTable("table64")!]);
  }
  for (const [name, item] of externs) linker.define(store, "spectest", name, item);
  if (store.engine.options.threads) {
    // The linker keeps its own reference; this object's is freed at once.
    using shared = new SharedMemory(store.engine, { minimum: 1, maximum: 2, shared: true });
    linker.define(store, "spectest", "shared_memory", shared);
  }
}

class FileRunner {
  readonly report: FileReport;
  readonly #engine: Engine;
  readonly #dir: string;
  readonly #store: Store;
  readonly #linker: Linker;
  readonly #named = new Map<string, Instance>();
  readonly #definitions = new Map<string, Module>();
  #current: Instance | undefined;
  #hostRefs: Instance | undefined;

  constructor(engine: Engine, dir: string, file: string) {
    this.#engine = engine;
    this.#dir = dir;
    this.#store = new Store(engine);
    this.#linker = new Linker(engine);
    this.#linker.allowShadowing(true);
    defineSpectest(this.#linker, this.#store);
    this.report = { file, passed: 0, failed: 0, skipped: 0, skipReasons: {} };
  }

  dispose(): void {
    for (const module of this.#definitions.values()) module[Symbol.dispose]();
    this.#store[Symbol.dispose]();
    this.#linker[Symbol.dispose]();
  }

  #hostRefFunc(name: "internalize" | "externalize"): Func {
    if (!this.#hostRefs) {
      using module = new Module(this.#engine, HOST_REF_WAT);
      this.#hostRefs = this.#linker.instantiate(this.#store, module);
    }
    return this.#hostRefs.getFunc(name)!;
  }

  readonly #hostAny = (n: string): AnyRef =>
    this.#hostRefFunc("internalize").call(hostRef(n)) as AnyRef;
  readonly #hostOf = (ref: AnyRef): unknown => {
    const back = this.#hostRefFunc("externalize").call(ref);
    return back instanceof ExternalizedRef ? undefined : back;
  };

  #pass(): void {
    this.report.passed++;
  }

  #fail(line: number, message: string): void {
    this.report.failed++;
    this.report.firstFailure ??= `line ${line}: ${message}`;
  }

  #skip(reason: string): void {
    this.report.skipped++;
    this.report.skipReasons[reason] = (this.report.skipReasons[reason] ?? 0) + 1;
  }

  #compile(filename: string, moduleType?: string): Module {
    const path = join(this.#dir, filename);
    // json-from-wast writes `module quote` modules as text.
    const source = moduleType === "text" ? Deno.readTextFileSync(path) : Deno.readFileSync(path);
    return new Module(this.#engine, source);
  }

  #instance(name: string | undefined): Instance {
    const instance = name === undefined ? this.#current : this.#named.get(name);
    if (!instance) throw new Error(`no module ${name ?? "(current)"}`);
    return instance;
  }

  #perform(action: JsonAction): unknown[] {
    const instance = this.#instance(action.module);
    if (action.type === "get") {
      const global = instance.getExport(action.field);
      if (!(global instanceof Global)) throw new Error(`${action.field} is not a global`);
      return [global.getBits()];
    }
    const func = instance.getExport(action.field) as Extern | undefined;
    if (!(func instanceof Func)) throw new Error(`${action.field} is not a function`);
    return func.callBits(...(action.args ?? []).map((a) => argValue(a, this.#hostAny)));
  }

  run(command: JsonCommand): void {
    const { line } = command;
    switch (command.type) {
      case "module": {
        try {
          using module = this.#compile(command.filename!, command.module_type);
          this.#current = this.#linker.instantiate(this.#store, module);
          if (command.name) this.#named.set(command.name, this.#current);
        } catch (error) {
          this.#current = undefined;
          this.#fail(line, `module failed: ${(error as Error).message}`);
        }
        return;
      }
      case "module_definition": {
        try {
          const module = this.#compile(command.filename!, command.module_type);
          if (command.name) {
            this.#definitions.get(command.name)?.[Symbol.dispose]();
            this.#definitions.set(command.name, module);
          } else module[Symbol.dispose]();
        } catch (error) {
          this.#fail(line, `module definition failed: ${(error as Error).message}`);
        }
        return;
      }
      case "module_instance": {
        try {
          const module = this.#definitions.get(command.module!);
          if (!module) throw new Error(`no module definition ${command.module}`);
          this.#current = this.#linker.instantiate(this.#store, module);
          if (command.instance) this.#named.set(command.instance, this.#current);
        } catch (error) {
          this.#current = undefined;
          this.#fail(line, `module instance failed: ${(error as Error).message}`);
        }
        return;
      }
      case "register": {
        try {
          this.#linker.defineInstance(this.#store, command.as!, this.#instance(command.name));
        } catch (error) {
          this.#fail(line, `register failed: ${(error as Error).message}`);
        }
        return;
      }
      case "action": {
        try {
          this.#perform(command.action!);
          this.#pass();
        } catch (error) {
          this.#fail(line, `action failed: ${(error as Error).message}`);
        }
        return;
      }
      case "assert_return": {
        try {
          const results = this.#perform(command.action!);
          const expected = command.expected ?? [];
          if (results.length !== expected.length) {
            return this.#fail(line, `expected ${expected.length} results, got ${results.length}`);
          }
          for (let i = 0; i < expected.length; i++) {
            const problem = mismatch(expected[i], results[i], this.#hostOf);
            if (problem) return this.#fail(line, `${command.action!.field}: ${problem}`);
          }
          this.#pass();
        } catch (error) {
          this.#fail(line, `${command.action!.field} threw ${(error as Error).message}`);
        }
        return;
      }
      case "assert_trap":
      case "assert_exhaustion": {
        try {
          this.#perform(command.action!);
          this.#fail(line, `expected a trap (${command.text})`);
        } catch (error) {
          const exhausted = error instanceof Trap && error.code === TrapCode.StackOverflow;
          if (command.type === "assert_exhaustion" ? exhausted : error instanceof Trap) {
            this.#pass();
          } else this.#fail(line, `expected ${command.text}, got ${(error as Error).message}`);
        }
        return;
      }
      case "assert_exception": {
        try {
          this.#perform(command.action!);
          this.#fail(line, "expected an uncaught wasm exception");
        } catch (error) {
          if (error instanceof WasmException) this.#pass();
          else this.#fail(line, `expected an exception, got ${(error as Error).message}`);
        }
        return;
      }
      case "assert_invalid":
      case "assert_malformed": {
        try {
          if (command.module_type === "text") {
            // `module quote` scripts: the text itself must be rejected by Wasmtime's WAT parser.
            const text = Deno.readTextFileSync(join(this.#dir, command.filename!));
            new Module(this.#engine, text)[Symbol.dispose]();
          } else {
            this.#compile(command.filename!)[Symbol.dispose]();
          }
          this.#fail(line, `module compiled although it is ${command.text}`);
        } catch (error) {
          if (error instanceof WasmtimeError) this.#pass();
          else this.#fail(line, `unexpected ${(error as Error).message}`);
        }
        return;
      }
      case "assert_unlinkable":
      case "assert_uninstantiable": {
        try {
          using module = this.#compile(command.filename!, command.module_type);
          this.#linker.instantiate(this.#store, module);
          this.#fail(line, `instantiation succeeded although ${command.text}`);
        } catch (error) {
          const trapped = error instanceof Trap;
          const ok = command.type === "assert_uninstantiable"
            ? error instanceof WasmtimeError
            : error instanceof WasmtimeError && !trapped;
          if (ok) this.#pass();
          else this.#fail(line, `expected ${command.text}, got ${(error as Error).message}`);
        }
        return;
      }
      default:
        this.#skip(`command ${command.type} is not supported by this runner`);
    }
  }
}

/** Which testsuite a run is for: its converter, its file layout and its engine features. */
export type SuiteVersion = "2.0" | "3.0";

/** The converter of each suite: `wast2json` cannot parse 3.0 text, json-from-wast can. */
function converter(version: SuiteVersion, wast: string, out: string, json: string): Deno.Command {
  return version === "2.0"
    ? new Deno.Command("wast2json", { args: [wast, "-o", json], stderr: "piped" })
    : new Deno.Command("wasm-tools", {
      args: ["json-from-wast", wast, "-o", json, "--wasm-dir", out],
      stderr: "piped",
    });
}

/**
 * Converts one .wast file and runs it. `name` is how the report names the file (its path in
 * the suite); `version` picks the converter (default 2.0).
 */
export async function runWast(
  engine: Engine,
  wast: string,
  version: SuiteVersion = "2.0",
  name: string = basename(wast, ".wast"),
): Promise<FileReport> {
  const out = await Deno.makeTempDir({ prefix: "wasmtime-deno-spec-" });
  try {
    const json = join(out, `${basename(wast, ".wast")}.json`);
    const converted = await converter(version, wast, out, json).output();
    if (!converted.success) {
      return {
        file: name,
        passed: 0,
        failed: 1,
        skipped: 0,
        firstFailure: `${version === "2.0" ? "wast2json" : "wasm-tools json-from-wast"} failed: ${
          new TextDecoder().decode(converted.stderr)
        }`,
        skipReasons: {},
      };
    }
    const script = JSON.parse(await Deno.readTextFile(json));
    const runner = new FileRunner(engine, out, name);
    try {
      for (const command of script.commands as JsonCommand[]) runner.run(command);
    } finally {
      runner.dispose();
    }
    return runner.report;
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}

/** Engine options matching the WebAssembly 2.0 feature set of the testsuite. */
export const SPEC_2_0_ENGINE: EngineOptions = {
  multiMemory: false,
  memory64: false,
  gc: false,
  functionReferences: false,
  tailCall: false,
  exceptions: false,
  threads: false,
  relaxedSimd: false,
  wideArithmetic: false,
  customPageSizes: false,
};

/** Every proposal flag off; a 3.0 file's config turns on what Wasmtime's runner gives it. */
const NOTHING: EngineOptions = {
  ...SPEC_2_0_ENGINE,
  referenceTypes: false,
  simd: false,
  stackSwitching: false,
  branchHinting: false,
};

/**
 * What Wasmtime 48's runner does with a file of the 3.0 suite (`spec_test_config` and
 * `should_fail` in its `crates/test-util/src/wast.rs`): the engine options it runs the file
 * with, or why it does not expect the file to pass (then the file is skipped here).
 */
export function spec3Config(path: string): { options: EngineOptions } | { skip: string } {
  const parts = path.split("/");
  if (parts[0] === "custom" && parts.length > 1) {
    return { skip: "custom/ annotations: Wasmtime's runner does not run these files" };
  }
  const base: EngineOptions = { ...NOTHING, bulkMemory: true };
  if (parts[0] === "proposals") {
    switch (parts[1]) {
      case "wide-arithmetic":
        return { options: { ...base, wideArithmetic: true } };
      case "threads":
        return { options: { ...base, threads: true, sharedMemory: true, referenceTypes: false } };
      case "custom-page-sizes":
        return {
          options: {
            ...base,
            customPageSizes: true,
            multiMemory: true,
            memory64: true,
            referenceTypes: true,
          },
        };
      case "custom-descriptors":
        return {
          skip: "custom-descriptors proposal: not implemented in Wasmtime 48 (its runner " +
            "expects these files to fail)",
        };
      default:
        return { skip: `proposal ${parts[1]}: not configured by Wasmtime's runner` };
    }
  }
  if (parts[0] === "legacy") {
    return {
      skip: "legacy exception handling: Wasmtime 48 does not implement it in Cranelift (its " +
        "runner expects these files to fail) and the C API has no switch for it",
    };
  }
  return {
    options: {
      ...base,
      referenceTypes: true,
      simd: true,
      relaxedSimd: true,
      multiMemory: true,
      gc: true,
      functionReferences: true,
      memory64: true,
      tailCall: true,
      exceptions: true,
    },
  };
}

/** Options of {@linkcode runSpec}. */
export interface SpecOptions {
  filter?: string;
  log?: (line: string) => void;
  /** Which suite `dir` holds (default 2.0). */
  version?: SuiteVersion;
}

/** The .wast files under `dir` (recursively), as paths relative to it, sorted. */
function wastFiles(dir: string, recursive: boolean): string[] {
  const files: string[] = [];
  const walk = (at: string) => {
    for (const entry of Deno.readDirSync(at)) {
      const path = join(at, entry.name);
      if (entry.isDirectory && recursive) walk(path);
      else if (entry.isFile && entry.name.endsWith(".wast")) files.push(relative(dir, path));
    }
  };
  walk(dir);
  return files.sort();
}

/** Counts the commands of a file that would be assertions, for a skipped file's report. */
function countCommands(wast: string): number {
  const text = Deno.readTextFileSync(wast);
  return (text.match(/^\s*\((module|assert_\w+|invoke|register|get)\b/gm) ?? []).length;
}

/** Runs every .wast in `dir` (optionally filtered by name) and returns the reports. */
export async function runSpec(dir: string, options: SpecOptions = {}): Promise<FileReport[]> {
  const version = options.version ?? "2.0";
  const files = wastFiles(dir, version === "3.0")
    .filter((name) => !options.filter || name.includes(options.filter));
  // The 2.0 suite: turn off later proposals that Wasmtime enables by default and that make
  // some 2.0-invalid modules valid (multiple memories, 64-bit limits, GC constant
  // expressions, ...). The 3.0 suite: one engine per feature set, as Wasmtime's runner has.
  const engines = new Map<string, Engine>();
  const engineFor = (engineOptions: EngineOptions) => {
    const key = JSON.stringify(engineOptions);
    let engine = engines.get(key);
    if (!engine) engines.set(key, engine = new Engine(engineOptions));
    return engine;
  };
  const reports: FileReport[] = [];
  try {
    for (const file of files) {
      const name = file.replace(/\.wast$/, "");
      const config = version === "2.0" ? { options: SPEC_2_0_ENGINE } : spec3Config(name);
      let report: FileReport;
      if ("skip" in config) {
        const skipped = countCommands(join(dir, file));
        report = {
          file: name,
          passed: 0,
          failed: 0,
          skipped,
          skipReasons: { [config.skip]: skipped },
        };
      } else {
        report = await runWast(engineFor(config.options), join(dir, file), version, name);
      }
      reports.push(report);
      options.log?.(
        `${report.file}: ${report.passed} passed, ${report.failed} failed, ${report.skipped} skipped${
          report.firstFailure ? ` (first failure ${report.firstFailure})` : ""
        }`,
      );
    }
  } finally {
    for (const engine of engines.values()) engine[Symbol.dispose]();
  }
  return reports;
}

/** Environment variable naming the testsuite directory (default {@linkcode DEFAULT_SUITE_DIR}). */
export const SUITE_ENV = "WASMTIME_DENO_SPEC_DIR";

/** Where the testsuite is expected by default: `../shared/spec-testsuite` beside the clone. */
export const DEFAULT_SUITE_DIR: string = resolve(
  fileURLToPath(new URL("../../", import.meta.url)),
  "..",
  "shared",
  "spec-testsuite",
);

/** Environment variable naming the 3.0 testsuite directory (default `../shared/spec-testsuite-3.0`). */
export const SUITE_3_ENV = "WASMTIME_DENO_SPEC3_DIR";

/** The 3.0 testsuite directory: `$WASMTIME_DENO_SPEC3_DIR` if set, else beside the 2.0 default. */
export function suite3Dir(): string {
  const fromEnv = Deno.permissions.querySync({ name: "env", variable: SUITE_3_ENV }).state ===
      "granted"
    ? Deno.env.get(SUITE_3_ENV)
    : undefined;
  return fromEnv ? resolve(fromEnv) : resolve(DEFAULT_SUITE_DIR, "..", "spec-testsuite-3.0");
}

/** The testsuite directory: `$WASMTIME_DENO_SPEC_DIR` if set, else {@linkcode DEFAULT_SUITE_DIR}. */
export function suiteDir(): string {
  const fromEnv = Deno.permissions.querySync({ name: "env", variable: SUITE_ENV }).state ===
      "granted"
    ? Deno.env.get(SUITE_ENV)
    : undefined;
  return fromEnv ? resolve(fromEnv) : DEFAULT_SUITE_DIR;
}

/**
 * Why the testsuite cannot be run from `dir` (a sentence that says what to do), or undefined
 * when `dir` holds `.wast` files.
 */
export function missingSuite(dir: string): string | undefined {
  const fix = "clone https://github.com/WebAssembly/testsuite at commit 3a04b2c (the one " +
    `Debian's wabt 1.0.32 converts) there, or point ${SUITE_ENV} (or \`deno task spec DIR\`) at ` +
    "a directory of .wast files";
  let names: string[];
  try {
    names = [...Deno.readDirSync(dir)].map((e) => e.name);
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound ? "no directory" : (error as Error).message;
    return `no WebAssembly spec testsuite at ${dir} (${why}): ${fix}`;
  }
  if (!names.some((name) => name.endsWith(".wast"))) {
    return `no WebAssembly spec testsuite at ${dir} (no .wast files in it): ${fix}`;
  }
  return undefined;
}

/**
 * Why the .wast files cannot be converted (a sentence that says what to do), or undefined when
 * `wast2json` runs.
 */
export function missingConverter(version: SuiteVersion = "2.0"): string | undefined {
  const [command, args, fix] = version === "2.0"
    ? [
      "wast2json",
      ["--version"],
      "wast2json is not on PATH: install wabt (Debian/Ubuntu: sudo apt-get install wabt; " +
      "macOS: brew install wabt), which converts the .wast files",
    ]
    : [
      "wasm-tools",
      ["json-from-wast", "--help"],
      "wasm-tools with json-from-wast is not on PATH: cargo install --locked wasm-tools " +
      "--version 1.263.0 (its default features include json-from-wast), which converts the " +
      "3.0 .wast files",
    ];
  try {
    const { success } = new Deno.Command(command, { args, stdout: "null", stderr: "null" })
      .outputSync();
    return success ? undefined : fix;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    return fix;
  }
}

/** Totals over the files of a run. */
export interface SpecSummary {
  passed: number;
  failed: number;
  skipped: number;
  /** Skipped assertions by reason, over all files. */
  skipReasons: Record<string, number>;
}

/** Adds up the reports of {@linkcode runSpec}. */
export function summarize(reports: readonly FileReport[]): SpecSummary {
  const summary: SpecSummary = { passed: 0, failed: 0, skipped: 0, skipReasons: {} };
  for (const report of reports) {
    summary.passed += report.passed;
    summary.failed += report.failed;
    summary.skipped += report.skipped;
    for (const [reason, n] of Object.entries(report.skipReasons)) {
      summary.skipReasons[reason] = (summary.skipReasons[reason] ?? 0) + n;
    }
  }
  return summary;
}
