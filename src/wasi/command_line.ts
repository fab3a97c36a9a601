/**
 * The command line of the `./cli` entry point (src/wasi/cli.ts), kept apart so that the
 * published module exports nothing and the tests can still reach the parser. It follows
 * `wasmtime run`: options come before the module, everything after the module belongs to the
 * guest, and the exit statuses are Wasmtime's.
 *
 * @module
 */
import { PermissionError, Trap, WasiExit, WasmtimeError } from "../errors.ts";
import type { ValType } from "../core/types.ts";
import { wat2wasm } from "../core/wat.ts";
import { version } from "../version.ts";
import { instantiateWasi, type PreopenSpec, runWasi, type RunWasiOptions } from "./run.ts";

/** The one-line usage, shown with every usage error. */
const USAGE_LINE = "Usage: wasmtime-deno [run] [OPTIONS] [--] <MODULE> [ARGS]...";

/** `--help`. Kept in step with the option table in cli.ts and the README. */
export const HELP: string = `Runs a WebAssembly module (WASI preview 1) like \`wasmtime run\`.

${USAGE_LINE}

Options come before the module; every argument after the module goes to the guest unchanged
(\`--\` and flags such as \`--env\` included). \`--\` before the module ends the options.

Options:
  --dir HOST[::GUEST]     preopen a host directory, read-write, as GUEST (default: HOST)
  --dir-ro HOST[::GUEST]  preopen a host directory read-only (wasmtime run has no such flag)
  --tmp                   preopen a fresh, empty, private directory as /tmp (removed after)
  --env NAME=VALUE        set an environment variable for the guest (repeatable)
  --env NAME              pass the host's NAME through, if set (needs --allow-env=NAME)
  --inherit-env           pass the whole host environment (needs --allow-env)
  --inherit-network       let a WASI 0.2 guest use the network (sockets, name lookup, HTTP),
                          each address checked against Deno's --allow-net when it is used
  --argv0 NAME            the guest's argv[0] (default: the module's file name)
  --invoke NAME           call export NAME instead of _start; the arguments after the module
                          are its parameters (i32/i64 decimal or 0x hex, f32/f64 decimal);
                          each result is printed on its own line
  --fuel N                fuel budget (instructions, roughly); running out traps
  --timeout DURATION      wall-clock limit, e.g. 500ms, 5s, 2m (a bare number is seconds)
  --max-memory SIZE       cap on each linear memory, e.g. 64MiB, 1G (K/M/G are 1024-based)
  --max-table-elements N  cap on the elements of any one table (default 1000000)
  --max-instances N       cap on instances (default 10)
  --max-tables N          cap on tables (default 10)
  --max-memories N        cap on linear memories (default 10)
  --cache DIR             keep compiled code in DIR (needs --allow-read=DIR --allow-write=DIR)
  -S threads[=y|n]        wasi-threads: wasi.thread-spawn starts a thread (a Worker each);
                          also --wasi threads; -W threads (on here) is accepted too
  -h, --help              print this help
  -V, --version           print the Wasmtime version

Exit status: the guest's proc_exit status (0 when _start returns); 134 (128 + SIGABRT; 3 on
Windows) when the guest traps, runs out of fuel or times out; 1 for any other failure
(unreadable module, missing permission, invalid exit status); 2 for a usage error.

Deno permissions: a preopen needs --allow-read for its directory (and --allow-write for
--dir); a permission that is neither granted nor denied is asked for at a terminal.
`;

/** Parses "500ms", "5s", "2m", "1h" or a plain number of seconds into milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|min|h)?$/.exec(text.trim());
  if (!match) throw new UsageError(`invalid duration '${text}' (try 5s or 500ms)`);
  const unit = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 }[match[2] ?? "s"]!;
  return Number(match[1]) * unit;
}

/** Parses "64M", "64MiB", "1G", "512K" or a plain number of bytes (K/M/G are 1024-based). */
export function parseSize(text: string): number {
  const match = /^(\d+)(?:([KMG])i?B?|B)?$/i.exec(text.trim());
  if (!match) throw new UsageError(`invalid size '${text}' (try 64MiB)`);
  const unit = { K: 1 << 10, M: 1 << 20, G: 1 << 30 }[match[2]?.toUpperCase() as "K"] ?? 1;
  return Number(match[1]) * unit;
}

/** A wrong command line: printed with the usage line, exit status 2 (as clap does). */
export class UsageError extends WasmtimeError {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A directory given with `--dir` or `--dir-ro`. */
export interface CliPreopen {
  /** The host directory. */
  host: string;
  /** Where the guest sees it. */
  guest: string;
  /** `--dir-ro`. */
  readOnly: boolean;
}

/** A parsed `run` command line. */
export interface CliCommand {
  /** Path of the module to run (`.wasm`, or `.wat` text). */
  module: string;
  /** The guest's argv, argv[0] included (the module's file name unless `--argv0`). */
  args: string[];
  /** `--invoke NAME`: the export to call instead of `_start`. */
  invoke?: string;
  /** `--dir` / `--dir-ro`, in command-line order. */
  preopens: CliPreopen[];
  /** `--tmp`. */
  tmp: boolean;
  /** `--env NAME=VALUE`. */
  env: Record<string, string>;
  /** `--env NAME`: host variables passed through. */
  passEnv: string[];
  /** `--inherit-env`. */
  inheritEnv: boolean;
  /** `--inherit-network`. */
  network?: boolean;
  /** `--fuel`. */
  fuel?: number;
  /** `--timeout`, in milliseconds. */
  timeoutMs?: number;
  /** `--max-memory`, in bytes. */
  maxMemoryBytes?: number;
  /** `--max-table-elements`. */
  maxTableElements?: number;
  /** `--max-instances`. */
  maxInstances?: number;
  /** `--max-tables`. */
  maxTables?: number;
  /** `--max-memories`. */
  maxMemories?: number;
  /** `--cache DIR`. */
  cacheDir?: string;
  /** `-S threads` / `--wasi threads`: run with wasi-threads. */
  threads: boolean;
}

/** What a command line asks for. */
export type CliRequest =
  | { kind: "run"; command: CliCommand }
  | { kind: "help" }
  | { kind: "version" };

const COUNT_FLAGS = {
  "--fuel": "fuel",
  "--max-table-elements": "maxTableElements",
  "--max-instances": "maxInstances",
  "--max-tables": "maxTables",
  "--max-memories": "maxMemories",
} as const;

const VALUE_FLAGS = new Set([
  "--dir",
  "--dir-ro",
  "--env",
  "--argv0",
  "--invoke",
  "--timeout",
  "--max-memory",
  "--cache",
  "-S",
  "--wasi",
  "-W",
  "--wasm",
  ...Object.keys(COUNT_FLAGS),
]);

/** `wasmtime run`'s spelling of a boolean option's value (clap's, as Wasmtime parses it). */
function yesNo(option: string, text: string | undefined): boolean {
  if (text === undefined || text === "" || text === "y" || text === "yes" || text === "true") {
    return true;
  }
  if (text === "n" || text === "no" || text === "false") return false;
  throw new UsageError(`${option} expects y or n, got '${text}'`);
}

/**
 * One `-S` / `--wasi` (WASI) or `-W` / `--wasm` (wasm features) value: `key[=y|n]`,
 * comma-separated, as wasmtime run takes them. Of its keys, `-S threads` has a meaning here;
 * `-S cli` and `-W threads` name what is always on (WASI is linked, and a threaded run's engine
 * has the threads proposal), so they may be given but not turned off.
 */
function keyedOptions(command: CliCommand, flag: "-S" | "-W", value: string): void {
  const known = flag === "-S" ? ["threads", "cli"] : ["threads"];
  for (const item of value.split(",")) {
    const split = item.indexOf("=");
    const key = split < 0 ? item : item.slice(0, split);
    const setting = yesNo(`${flag} ${key}`, split < 0 ? undefined : item.slice(split + 1));
    if (!known.includes(key)) {
      throw new UsageError(
        `${flag} ${key}: not supported here (wasmtime-deno takes ${flag} ${known.join(", ")})`,
      );
    }
    if (flag === "-S" && key === "threads") command.threads = setting;
    else if (!setting) throw new UsageError(`${flag} ${key}=n: it cannot be turned off here`);
  }
}

function count(flag: string, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) {
    throw new UsageError(`${flag} expects a non-negative integer, got '${text}'`);
  }
  return value;
}

/** The last path component, as `wasmtime run` passes argv[0] (no host path leaks in). */
function fileName(path: string): string {
  const parts = path.split(Deno.build.os === "windows" ? /[\\/]/ : "/").filter((p) => p !== "");
  return parts.at(-1) ?? path;
}

/**
 * Parses `[run] [options] [--] <module> [args...]` (the program name not included). Options
 * take their value as the next argument or after `=` (`--dir=./data`).
 */
export function parseArgs(argv: readonly string[]): CliRequest {
  let i = argv[0] === "run" ? 1 : 0;
  const command: CliCommand = {
    module: "",
    args: [],
    preopens: [],
    tmp: false,
    env: {},
    passEnv: [],
    inheritEnv: false,
    threads: false,
  };
  let argv0: string | undefined;
  for (; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      i++;
      break;
    }
    if (arg === "-h" || arg === "--help") return { kind: "help" };
    if (arg === "-V" || arg === "--version") return { kind: "version" };
    if (!arg.startsWith("-") || arg === "-") break;
    const eq = arg.indexOf("=");
    // `-Sthreads` and `-S=threads` as clap takes a short option's value.
    const short = /^-[SW]./.test(arg);
    const flag = short ? arg.slice(0, 2) : arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    let value: string | undefined;
    if (short) value = arg.slice(arg[2] === "=" ? 3 : 2);
    else if (VALUE_FLAGS.has(flag)) {
      value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`${flag} needs a value`);
    } else if (eq > 0 && flag.startsWith("--")) {
      throw new UsageError(`${flag} takes no value`);
    }
    switch (flag) {
      case "--dir":
      case "--dir-ro": {
        const split = value!.indexOf("::");
        const host = split < 0 ? value! : value!.slice(0, split);
        const guest = split < 0 ? value! : value!.slice(split + 2);
        if (host === "" || guest === "") {
          throw new UsageError(`${flag} expects HOST[::GUEST], got '${value}'`);
        }
        command.preopens.push({ host, guest, readOnly: flag === "--dir-ro" });
        break;
      }
      case "--tmp":
        command.tmp = true;
        break;
      case "--env": {
        const split = value!.indexOf("=");
        const name = split < 0 ? value! : value!.slice(0, split);
        if (name === "") throw new UsageError(`--env expects NAME=VALUE or NAME, got '${value}'`);
        if (split < 0) command.passEnv.push(name);
        else command.env[name] = value!.slice(split + 1);
        break;
      }
      case "--inherit-env":
        command.inheritEnv = true;
        break;
      case "--inherit-network":
        command.network = true;
        break;
      case "--argv0":
        argv0 = value;
        break;
      case "--invoke":
        command.invoke = value;
        break;
      case "--timeout":
        command.timeoutMs = parseDuration(value!);
        break;
      case "--max-memory":
        command.maxMemoryBytes = parseSize(value!);
        break;
      case "--cache":
        command.cacheDir = value;
        break;
      case "-S":
      case "--wasi":
        keyedOptions(command, "-S", value!);
        break;
      case "-W":
      case "--wasm":
        keyedOptions(command, "-W", value!);
        break;
      default:
        if (Object.hasOwn(COUNT_FLAGS, flag)) {
          command[COUNT_FLAGS[flag as keyof typeof COUNT_FLAGS]] = count(flag, value!);
          break;
        }
        throw new UsageError(`unknown option '${flag}'`);
    }
  }
  const module = argv[i];
  if (module === undefined) throw new UsageError("no module given");
  if (command.threads && command.invoke !== undefined) {
    throw new UsageError("--invoke cannot be used with -S threads (threads start from _start)");
  }
  command.module = module;
  command.args = [argv0 ?? fileName(module), ...argv.slice(i + 1)];
  const guests = command.preopens.map((p) => p.guest);
  if (command.tmp) guests.push("/tmp");
  const twice = guests.find((guest, n) => guests.indexOf(guest) !== n);
  if (twice !== undefined) throw new UsageError(`the guest path ${twice} is given twice`);
  return { kind: "run", command };
}

/**
 * Asks for a Deno permission the user has neither granted nor denied, as Deno itself does
 * when a script touches a file (a prompt at a terminal, a refusal elsewhere). The binding
 * checks the grant again, for where the path really leads, before the guest gets anything.
 */
function ask(descriptor: Deno.PermissionDescriptor): void {
  if (!Deno.stdin.isTerminal()) return; // no one to ask: the check below names the flag
  if (Deno.permissions.querySync(descriptor).state === "prompt") {
    Deno.permissions.requestSync(descriptor);
  }
}

/** The host variables of `--env NAME`, read with the user's leave. */
function passedEnv(names: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const variable of names) {
    ask({ name: "env", variable });
    if (Deno.permissions.querySync({ name: "env", variable }).state !== "granted") {
      throw new PermissionError(
        `--env ${variable} needs to read the host's ${variable}`,
        `--allow-env=${variable}`,
      );
    }
    const value = Deno.env.get(variable);
    if (value !== undefined) env[variable] = value; // unset stays unset, as in wasmtime run
  }
  return env;
}

/** The module's bytes; a file that is not binary wasm is read as the text format. */
async function readModule(path: string): Promise<Uint8Array> {
  const bytes = await Deno.readFile(path);
  const binary = bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d;
  return binary ? bytes : wat2wasm(new TextDecoder().decode(bytes));
}

/**
 * The one place the CLI turns its command line into `runWasi` options: when those option
 * shapes change, only this function follows.
 */
export function runOptions(
  command: CliCommand,
  env: Record<string, string>,
  tmpDir?: string,
): RunWasiOptions {
  const preopens: PreopenSpec[] = command.preopens.map((
    { host, guest, readOnly },
  ) => [host, guest, { mutable: !readOnly }]);
  if (tmpDir !== undefined) preopens.push([tmpDir, "/tmp", { mutable: true }]);
  return {
    args: command.args,
    env,
    inheritEnv: command.inheritEnv,
    preopens,
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
    fuel: command.fuel,
    timeoutMs: command.timeoutMs,
    maxMemoryBytes: command.maxMemoryBytes,
    maxTableElements: command.maxTableElements,
    maxInstances: command.maxInstances,
    maxTables: command.maxTables,
    maxMemories: command.maxMemories,
    cacheDir: command.cacheDir,
    ...(command.network ? { network: true } : {}),
    ...(command.threads ? { threads: true } : {}),
  };
}

const INT_RANGE = {
  i32: [-(2n ** 31n), 2n ** 31n - 1n],
  i64: [-(2n ** 63n), 2n ** 63n - 1n],
} as const;

/**
 * One `--invoke` argument for a parameter of type `type`, parsed as `wasmtime run` parses it:
 * integers in decimal or with a 0x prefix (range-checked, no wrapping), floats in decimal,
 * `inf` or `nan`.
 */
export function parseInvokeArg(type: ValType, text: string, func: string): number | bigint {
  const bad = (why: string) =>
    new WasmtimeError(`invalid ${type} argument '${text}' for \`${func}\`: ${why}`);
  if (type === "i32" || type === "i64") {
    const hex = /^0[xX]([+-]?)([0-9a-fA-F]+)$/.exec(text);
    if (!hex && !/^[+-]?\d+$/.test(text)) throw bad("not an integer");
    const value = hex ? BigInt(`0x${hex[2]}`) * (hex[1] === "-" ? -1n : 1n) : BigInt(text);
    const [min, max] = INT_RANGE[type];
    if (value < min || value > max) throw bad(`out of range for ${type}`);
    return type === "i32" ? Number(value) : value;
  }
  if (type === "f32" || type === "f64") {
    const match = /^([+-]?)(?:(inf|infinity)|(nan)|(\d+\.?\d*(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?))$/i
      .exec(text);
    if (!match) throw bad("not a number");
    const sign = match[1] === "-" ? -1 : 1;
    const value = match[2] ? sign * Infinity : match[3] ? NaN : sign * Number(match[4]);
    return type === "f32" ? Math.fround(value) : value;
  }
  throw new WasmtimeError(`\`${func}\` takes a ${type} parameter, which --invoke cannot pass`);
}

/** `digits` × 10^(exponent - digits.length + 1) written out without an exponent. */
function plainDecimal(digits: string, exponent: number): string {
  if (exponent >= digits.length - 1) return digits + "0".repeat(exponent - digits.length + 1);
  if (exponent >= 0) return `${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
  return `0.${"0".repeat(-exponent - 1)}${digits}`;
}

/**
 * A float as Rust's `Display` writes it, which is what `wasmtime run --invoke` prints: the
 * shortest digits that read back as the same f32 / f64, never in exponent form; `NaN`, `inf`,
 * `-inf`, `-0`.
 */
export function formatFloat(value: number, type: "f32" | "f64"): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "inf";
  if (value === -Infinity) return "-inf";
  if (value === 0) return Object.is(value, -0) ? "-0" : "0";
  let exponential = Math.abs(value).toExponential();
  if (type === "f32") {
    for (let precision = 1; precision <= 9; precision++) {
      exponential = Math.abs(value).toExponential(precision - 1);
      if (Math.fround(Number(exponential)) === Math.abs(value)) break;
    }
  }
  const [mantissa, exponent] = exponential.split("e");
  const digits = mantissa.replace(".", "").replace(/0+$/, "") || "0";
  return `${value < 0 ? "-" : ""}${plainDecimal(digits, Number(exponent))}`;
}

/** One `--invoke` result, printed as `wasmtime run` prints it. */
export function formatResult(type: ValType, value: unknown): string {
  switch (type) {
    case "i32":
    case "i64":
    case "v128":
      return String(value);
    case "f32":
    case "f64":
      return formatFloat(value as number, type);
    default: {
      const name = type === "funcref" || type === "nullfuncref"
        ? "funcref"
        : type === "externref" || type === "nullexternref"
        ? "externref"
        : type === "exnref" || type === "nullexnref"
        ? "exnref"
        : "anyref";
      return value === null || value === undefined ? `<null ${name}>` : `<${name}>`;
    }
  }
}

/** `--invoke`: instantiate (running `_initialize`), call the export, print its results. */
async function invoke(
  name: string,
  bytes: Uint8Array,
  options: RunWasiOptions,
  params: readonly string[],
): Promise<void> {
  const started = performance.now();
  using guest = await instantiateWasi(bytes, options);
  const func = guest.instance.getFunc(name);
  if (func === undefined) throw new WasmtimeError(`no func export named \`${name}\` found`);
  const type = func.type;
  if (params.length < type.params.length) {
    throw new WasmtimeError(`not enough arguments for \`${name}\``);
  }
  const args = type.params.map((param, n) => parseInvokeArg(param, params[n], name));
  // One deadline for the whole run, as in wasmtime run: what `_initialize` used is gone.
  const timeoutMs = options.timeoutMs === undefined
    ? undefined
    : Math.max(1, options.timeoutMs - (performance.now() - started));
  const result = func.callWith({ timeoutMs }, ...args);
  const results = type.results.length === 1 ? [result] : (result as unknown[] | undefined) ?? [];
  for (let n = 0; n < type.results.length; n++) {
    console.log(formatResult(type.results[n], results[n]));
  }
}

/** `--tmp`: a fresh directory in the system's temporary directory, mode 0700 (private). */
async function makeTmp(): Promise<string> {
  try {
    return await Deno.makeTempDir({ prefix: "wasmtime-deno-tmp-" });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotCapable)) throw error;
    throw new PermissionError(
      "--tmp makes a directory in the system's temporary directory ($TMPDIR, else /tmp)",
      "--allow-write=/tmp --allow-read=/tmp (or your $TMPDIR)",
    );
  }
}

/** Runs the parsed command and returns the guest's exit status. */
async function run(command: CliCommand): Promise<number> {
  for (const { host, readOnly } of command.preopens) {
    ask({ name: "read", path: host });
    if (!readOnly) ask({ name: "write", path: host });
  }
  if (command.cacheDir !== undefined) {
    ask({ name: "read", path: command.cacheDir });
    ask({ name: "write", path: command.cacheDir });
  }
  const env = { ...passedEnv(command.passEnv), ...command.env };
  const bytes = await readModule(command.module);
  const tmpDir = command.tmp ? await makeTmp() : undefined;
  try {
    const options = runOptions(command, env, tmpDir);
    if (command.invoke !== undefined) {
      await invoke(command.invoke, bytes, options, command.args.slice(1));
      return 0;
    }
    return (await runWasi(bytes, options)).exitCode;
  } catch (error) {
    if (error instanceof WasmtimeError && /no _start export/.test(error.message)) {
      throw new WasmtimeError(
        "the module has no _start export (a reactor?): call one of its exports with --invoke NAME",
      );
    }
    throw error;
  } finally {
    if (tmpDir !== undefined) {
      // Links the guest made inside are removed, never followed.
      await Deno.remove(tmpDir, { recursive: true }).catch((error) =>
        console.error(`warning: could not remove the --tmp directory ${tmpDir}: ${error.message}`)
      );
    }
  }
}

const INSTALLED_NOTE = "note: a command made with `deno install` has the Deno permissions it " +
  "was installed with: reinstall it (deno install -g -f ...) with the flag, or run it at a " +
  "terminal to be asked";

/** How a failure is reported: the message, and the exit status `wasmtime run` would give. */
function failure(error: unknown, module: string): { message: string; status: number } {
  if (error instanceof PermissionError || error instanceof Deno.errors.NotCapable) {
    return { message: `Error: ${error.message}\n\n${INSTALLED_NOTE}`, status: 1 };
  }
  if (!(error instanceof Trap)) {
    return {
      message: `Error: ${error instanceof Error ? error.message : String(error)}`,
      status: 1,
    };
  }
  const cause = error.details.replaceAll("\n", "\n    ");
  return {
    message: `Error: failed to run main module \`${module}\`\n\nCaused by:\n    ${cause}`,
    // A trap without a code is a WASI host function's error (e.g. proc_exit with a status
    // outside [0, 126)), which wasmtime run reports as a plain error.
    status: error.code === undefined ? 1 : Deno.build.os === "windows" ? 3 : 134,
  };
}

/** Runs the command line `argv` (without the program name) and returns the exit status. */
export async function runCli(argv: readonly string[]): Promise<number> {
  let request: CliRequest;
  try {
    request = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(
      `error: ${error.message}\n\n${USAGE_LINE}\n\nFor more information, try '--help'.`,
    );
    return 2;
  }
  if (request.kind === "help") {
    console.log(HELP);
    return 0;
  }
  try {
    if (request.kind === "version") {
      console.log(`wasmtime-deno (Wasmtime ${version})`);
      return 0;
    }
    return await run(request.command);
  } catch (error) {
    if (error instanceof WasiExit) return error.status; // proc_exit inside --invoke
    const { message, status } = failure(
      error,
      request.kind === "run" ? request.command.module : "",
    );
    console.error(message);
    return status;
  }
}
