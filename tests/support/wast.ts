/**
 * The WebAssembly core spec testsuite runner, through the binding's public API only (it is a
 * user of the package, like the tests): used by `deno task spec` (tasks/spec.ts, the whole suite)
 * and tests/spec_test.ts (a few representative files).
 *
 * Each `.wast` is converted with `wast2json` (Debian's wabt) into a temporary directory, then
 * every command is executed: module, register, action, assert_return (bit-exact, with
 * `nan:canonical` / `nan:arithmetic` per lane), assert_trap, assert_exhaustion, assert_invalid,
 * assert_malformed (binary form), assert_unlinkable and assert_uninstantiable, against the
 * `spectest` host module.
 *
 * @module
 */
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  Engine,
  type EngineOptions,
  type Extern,
  Func,
  FuncType,
  Global,
  type Instance,
  Linker,
  Memory,
  Module,
  Store,
  Table,
  Trap,
  TrapCode,
  type ValType,
  WasmtimeError,
} from "../../mod.ts";

/** A value as wast2json writes it. */
interface JsonValue {
  type: string;
  value?: string | string[];
  lane_type?: string;
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

function argValue(value: JsonValue): unknown {
  switch (value.type) {
    case "i32":
    case "i64":
    case "f32":
    case "f64":
      return BigInt(value.value as string);
    case "v128":
      return lanesToBits(value.lane_type!, value.value as string[]);
    case "externref":
      return value.value === "null" ? null : hostRef(value.value as string);
    case "funcref":
      if (value.value === "null") return null;
      throw new Error(`unsupported funcref argument ${value.value}`);
    default:
      throw new Error(`unsupported argument type ${value.type}`);
  }
}

const LANE_BITS: Record<string, number> = { i8: 8, i16: 16, i32: 32, i64: 64, f32: 32, f64: 64 };

function lanesToBits(laneType: string, lanes: string[]): bigint {
  const width = BigInt(LANE_BITS[laneType]);
  let bits = 0n;
  lanes.forEach((lane, i) => {
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
function mismatch(expected: JsonValue, actual: unknown): string | undefined {
  const show = (v: unknown) => typeof v === "bigint" ? `${v}n` : String(v);
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
      if (expected.value === "null") return actual === null ? undefined : "expected null";
      return actual === hostRef(expected.value as string)
        ? undefined
        : `expected ref.extern ${expected.value}, got ${show(actual)}`;
    case "funcref":
      if (expected.value === "null") return actual === null ? undefined : "expected null";
      return actual instanceof Func ? undefined : `expected a funcref, got ${show(actual)}`;
    default:
      return `unsupported expected type ${expected.type}`;
  }
}

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
  for (const [name, item] of externs) linker.define(store, "spectest", name, item);
}

class FileRunner {
  readonly report: FileReport;
  readonly #engine: Engine;
  readonly #dir: string;
  readonly #store: Store;
  readonly #linker: Linker;
  readonly #named = new Map<string, Instance>();
  #current: Instance | undefined;

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
    this.#store[Symbol.dispose]();
    this.#linker[Symbol.dispose]();
  }

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

  #compile(filename: string): Module {
    return new Module(this.#engine, Deno.readFileSync(join(this.#dir, filename)));
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
    return func.callBits(...(action.args ?? []).map(argValue));
  }

  run(command: JsonCommand): void {
    const { line } = command;
    switch (command.type) {
      case "module": {
        try {
          using module = this.#compile(command.filename!);
          this.#current = this.#linker.instantiate(this.#store, module);
          if (command.name) this.#named.set(command.name, this.#current);
        } catch (error) {
          this.#current = undefined;
          this.#fail(line, `module failed: ${(error as Error).message}`);
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
            const problem = mismatch(expected[i], results[i]);
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
          using module = this.#compile(command.filename!);
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
        this.#skip(`command ${command.type} is not part of the 2.0 testsuite format`);
    }
  }
}

/** Converts one .wast file and runs it. */
export async function runWast(engine: Engine, wast: string): Promise<FileReport> {
  const out = await Deno.makeTempDir({ prefix: "wasmtime-deno-spec-" });
  try {
    const name = basename(wast, ".wast");
    const converted = await new Deno.Command("wast2json", {
      args: [wast, "-o", join(out, `${name}.json`)],
      stderr: "piped",
    }).output();
    if (!converted.success) {
      return {
        file: name,
        passed: 0,
        failed: 1,
        skipped: 0,
        firstFailure: `wast2json failed: ${new TextDecoder().decode(converted.stderr)}`,
        skipReasons: {},
      };
    }
    const script = JSON.parse(await Deno.readTextFile(join(out, `${name}.json`)));
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

/** Options of {@linkcode runSpec}. */
export interface SpecOptions {
  filter?: string;
  log?: (line: string) => void;
}

/** Runs every .wast in `dir` (optionally filtered by name) and returns the reports. */
export async function runSpec(dir: string, options: SpecOptions = {}): Promise<FileReport[]> {
  const files = [...Deno.readDirSync(dir)]
    .filter((e) => e.isFile && e.name.endsWith(".wast"))
    .map((e) => e.name)
    .filter((name) => !options.filter || name.includes(options.filter))
    .sort();
  // The suite is WebAssembly 2.0: turn off later proposals that Wasmtime enables by default and
  // that make some 2.0-invalid modules valid (multiple memories, 64-bit limits, GC constant
  // expressions, ...).
  using engine = new Engine(SPEC_2_0_ENGINE);
  const reports: FileReport[] = [];
  for (const file of files) {
    const report = await runWast(engine, join(dir, file));
    reports.push(report);
    options.log?.(
      `${report.file}: ${report.passed} passed, ${report.failed} failed, ${report.skipped} skipped${
        report.firstFailure ? ` (first failure ${report.firstFailure})` : ""
      }`,
    );
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
export function missingConverter(): string | undefined {
  try {
    new Deno.Command("wast2json", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync();
    return undefined;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    return "wast2json is not on PATH: install wabt (Debian/Ubuntu: sudo apt-get install wabt; " +
      "macOS: brew install wabt), which converts the .wast files";
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
