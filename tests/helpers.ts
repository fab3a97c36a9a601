/**
 * Shared test helpers: running Deno subprocesses and locating the built library.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Absolute path of the repository root. */
export const ROOT: string = fileURLToPath(new URL("../", import.meta.url));

/** Result of a subprocess. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The variables of the library lookup (src/package/cache.ts), in its order. */
const LOOKUP_VARIABLES = [
  "WASMTIME_LIB",
  "WASMTIME_DENO_CACHE",
  "DENO_DIR",
  "XDG_CACHE_HOME",
  "HOME",
];

/** Runs `deno <args>` with a clean, explicit environment (plus `env`). */
export async function runDeno(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; clearEnv?: boolean } = {},
): Promise<RunResult> {
  const env: Record<string, string> = {
    NO_COLOR: "1",
    // A subprocess never downloads the prebuilt library from the internet unless a test says so
    // (tests/distribution_test.ts serves archives from 127.0.0.1 instead).
    WASMTIME_DENO_DOWNLOAD: "0",
    PATH: Deno.env.get("PATH") ?? "",
    HOME: Deno.env.get("HOME") ?? "",
    // Keep a relocated library cache (every variable of its lookup, so that a subprocess never
    // builds into or prunes another cache than this process uses) and the toolchain visible.
    ...Object.fromEntries(
      [
        // A development build named by WASMTIME_LIB (otherwise a subprocess would look in the
        // cache), unless the test sets up a lookup of its own.
        ...(LOOKUP_VARIABLES.some((name) => options.env?.[name] !== undefined)
          ? []
          : ["WASMTIME_LIB"]),
        "WASMTIME_DENO_CACHE",
        "DENO_DIR",
        "XDG_CACHE_HOME",
        "CARGO_HOME",
        "RUSTUP_HOME",
        "RUSTUP_TOOLCHAIN",
      ]
        .map((name) => [name, Deno.env.get(name)])
        .filter((entry): entry is [string, string] => entry[1] !== undefined),
    ),
    ...options.env,
  };
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: options.cwd ?? ROOT,
    env,
    clearEnv: options.clearEnv ?? true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Path of the cached library (builds it if needed, like the README's first command). */
export async function libraryPath(): Promise<string> {
  const result = await runDeno(["run", "-A", "tasks/build_native.ts", "--print-path"]);
  if (result.code !== 0) throw new Error(`build-native failed: ${result.stderr}`);
  return result.stdout.trim();
}

let printedFlags: Promise<string[]> | undefined;

/**
 * The README's narrow line for an app: the flags `build-native --print-flags` prints
 * (`--allow-env=<lookup variables> --allow-read=<cache root> --allow-ffi`), plus read access to
 * `read` when given (Deno merges repeated `--allow-read` flags).
 */
export async function appFlags(read: string[] = []): Promise<string[]> {
  printedFlags ??= runDeno(["run", "-A", "tasks/build_native.ts", "--print-flags"]).then((r) => {
    if (r.code !== 0) throw new Error(`build-native --print-flags failed: ${r.stderr}`);
    return r.stdout.trim().split(" ");
  });
  const flags = await printedFlags;
  return read.length > 0 ? [...flags, `--allow-read=${read.join(",")}`] : [...flags];
}

/** The cache entry directory holding the library, its headers and manifest. */
export async function cacheEntry(): Promise<string> {
  return dirname(await libraryPath());
}

/** Writes `source` to a temporary .ts file and returns its path. */
export async function tempScript(source: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "wasmtime-deno-test-" });
  const path = join(dir, "script.ts");
  await Deno.writeTextFile(path, source);
  return path;
}

/** The repository's mod.ts as a file URL (for scripts written to temp dirs). */
export const MOD_URL: string = new URL("../mod.ts", import.meta.url).href;

/** Result of {@linkcode runIsolated}: a subprocess run, and whether it had to be killed. */
export interface IsolatedResult extends RunResult {
  killed: boolean;
}

/**
 * Runs `source` as a script in its own Deno process (for cases that used to crash or hang the
 * process), killed after `killMs`. `stdin: "open"` gives it a pipe that stays open and idle.
 */
export async function runIsolated(
  source: string,
  options: { flags?: string[]; killMs?: number; stdin?: "null" | "open" } = {},
): Promise<IsolatedResult> {
  const path = await tempScript(source);
  const kill = AbortSignal.timeout(options.killMs ?? 30_000);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...(options.flags ?? ["-A", "--v8-flags=--expose-gc"]), path],
    cwd: ROOT,
    stdin: options.stdin === "open" ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
    signal: kill,
  }).spawn();
  const output = await child.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
    killed: kill.aborted,
  };
}

/** Asserts that an isolated run neither hung nor failed. */
export function assertClean(result: IsolatedResult): void {
  if (result.killed) throw new Error(`the subprocess hung:\n${result.stdout}\n${result.stderr}`);
  if (result.code !== 0) {
    throw new Error(
      `the subprocess failed (code ${result.code}):\n${result.stdout}\n${result.stderr}`,
    );
  }
}

/**
 * Starts a process that flips the symlink `link` between `a` and `b` with atomic renames, as
 * fast as it can, until `stop()` is called (for check-then-use race tests).
 */
export async function startSymlinkRacer(
  link: string,
  a: string,
  b: string,
): Promise<{ stop(): Promise<void> }> {
  const stopFile = join(await Deno.makeTempDir({ prefix: "wasmtime-deno-racer-" }), "stop");
  const script = await tempScript(`const [link, a, b, stop] = Deno.args;
for (let i = 0; ; i++) {
  const next = link + ".next";
  try { Deno.removeSync(next); } catch { /* absent */ }
  Deno.symlinkSync(i % 2 ? b : a, next);
  Deno.renameSync(next, link);
  if (i % 256 === 0) { try { Deno.statSync(stop); break; } catch { /* go on */ } }
}`);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, link, a, b, stopFile],
    stdout: "null",
    stderr: "null",
  }).spawn();
  return {
    async stop() {
      await Deno.writeTextFile(stopFile, "");
      await child.status;
    },
  };
}
