/**
 * The command line of the `./cli` entry point (src/wasi/cli.ts), kept apart so that the
 * published module exports nothing and the tests can still reach the parser: `run <module>
 * [options] [--] [args...]` becomes {@linkcode RunWasiOptions} for `runWasi`.
 *
 * @module
 */
import { Trap, WasmtimeError } from "../errors.ts";
import { type PreopenSpec, runWasi, type RunWasiOptions } from "./run.ts";

const USAGE = `usage: cli.ts run <module.wasm> [options] [--] [args...]

options:
  --dir HOST[::GUEST]   preopen a host directory (read-only), as GUEST (default: HOST)
  --dir-rw HOST[::GUEST] preopen a host directory with write access
  --env NAME=VALUE      set an environment variable (repeatable)
  --inherit-env         pass the whole host environment (needs --allow-env)
  --fuel N              fuel budget (instructions, roughly)
  --timeout DURATION    wall-clock limit, e.g. 500ms, 5s, 2m
  --max-memory SIZE     cap on linear memory, e.g. 64M, 1G
  --max-table-elements N cap on the elements of any one table (default 1000000)
  --max-instances N     cap on instances (default 10)
  --max-tables N        cap on tables (default 10)
  --max-memories N      cap on linear memories (default 10)
  --cache DIR           cache compiled code in DIR (needs read/write access to it)
`;

/** Parses "500ms", "5s", "2m" or a plain number of seconds into milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match) throw new WasmtimeError(`invalid duration ${JSON.stringify(text)} (try 5s or 500ms)`);
  const value = Number(match[1]);
  return match[2] === "ms" ? value : match[2] === "m" ? value * 60_000 : value * 1000;
}

/** Parses "64M", "1G", "512K" or a plain number of bytes. */
export function parseSize(text: string): number {
  const match = /^(\d+)([KMG])?i?B?$/i.exec(text.trim());
  if (!match) throw new WasmtimeError(`invalid size ${JSON.stringify(text)} (try 64M)`);
  const unit = { K: 1 << 10, M: 1 << 20, G: 1 << 30 }[match[2]?.toUpperCase() as "K"] ?? 1;
  return Number(match[1]) * unit;
}

/** Flags that take a count, and the runWasi option each sets. */
const COUNT_FLAGS: Record<
  string,
  "maxTableElements" | "maxInstances" | "maxTables" | "maxMemories"
> = {
  "--max-table-elements": "maxTableElements",
  "--max-instances": "maxInstances",
  "--max-tables": "maxTables",
  "--max-memories": "maxMemories",
};

function count(flag: string, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) {
    throw new WasmtimeError(`${flag} expects a non-negative integer, got ${text}`);
  }
  return value;
}

/** The parsed command line. */
export interface CliCommand {
  /** Path of the module to run. */
  module: string;
  /** What `runWasi` gets; `args[0]` is the module path, as `wasmtime run` passes it. */
  options: RunWasiOptions;
}

/** Parses `run <module> [options] [--] [args...]`. */
export function parseArgs(argv: readonly string[]): CliCommand {
  const [command, module, ...rest] = argv;
  if (command !== "run" || !module) throw new WasmtimeError(USAGE);
  const preopens: PreopenSpec[] = [];
  const options: RunWasiOptions = {
    args: [module],
    env: {},
    preopens,
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  };
  const guestArgs: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    const value = (): string => {
      const next = rest[++i];
      if (next === undefined) throw new WasmtimeError(`${arg} needs a value\n\n${USAGE}`);
      return next;
    };
    if (arg === "--") {
      guestArgs.push(...rest.slice(i + 1));
      break;
    } else if (arg === "--dir" || arg === "--dir-rw") {
      const [host, guest] = value().split("::");
      preopens.push([host, guest ?? host, { mutable: arg === "--dir-rw" }]);
    } else if (arg === "--env") {
      const pair = value();
      const eq = pair.indexOf("=");
      if (eq <= 0) throw new WasmtimeError(`--env expects NAME=VALUE, got ${pair}`);
      options.env![pair.slice(0, eq)] = pair.slice(eq + 1);
    } else if (arg === "--inherit-env") {
      options.inheritEnv = true;
    } else if (arg === "--fuel") {
      options.fuel = count(arg, value());
    } else if (Object.hasOwn(COUNT_FLAGS, arg)) {
      options[COUNT_FLAGS[arg]] = count(arg, value());
    } else if (arg === "--timeout") {
      options.timeoutMs = parseDuration(value());
    } else if (arg === "--max-memory") {
      options.maxMemoryBytes = parseSize(value());
    } else if (arg === "--cache") {
      options.cacheDir = value();
    } else if (arg.startsWith("--")) {
      throw new WasmtimeError(`unknown option ${arg}\n\n${USAGE}`);
    } else {
      guestArgs.push(arg);
    }
  }
  options.args = [module, ...guestArgs];
  return { module, options };
}

/** Runs the command line `argv` (without the program name) and returns the exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  let command: CliCommand;
  try {
    command = parseArgs(argv);
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  try {
    const result = await runWasi(command.module, command.options);
    return result.exitCode;
  } catch (error) {
    if (error instanceof Trap) {
      console.error(
        `Error: failed to run main module \`${command.module}\`\n\nCaused by:\n    ${
          error.details.replaceAll("\n", "\n    ")
        }`,
      );
      return Deno.build.os === "windows" ? 3 : 134;
    }
    console.error(`Error: ${(error as Error).message}`);
    return 1;
  }
}
