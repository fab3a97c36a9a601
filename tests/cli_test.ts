import assert from "node:assert/strict";
import { basename, dirname, join } from "node:path";
import {
  formatFloat,
  parseArgs,
  parseDuration,
  parseInvokeArg,
  parseSize,
  runOptions,
} from "../src/wasi/command_line.ts";
import { appFlags, ROOT } from "./helpers.ts";
import { compileC } from "./wasi_fixtures.ts";
import { expectedTotal, threadsProgram } from "./fixtures/wasi_threads.ts";

const CLI = join(ROOT, "src/wasi/cli.ts");

function command(argv: string[]) {
  const request = parseArgs(argv);
  assert.equal(request.kind, "run");
  return (request as Extract<typeof request, { kind: "run" }>).command;
}

Deno.test("CLI durations and sizes", () => {
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("5s"), 5000);
  assert.equal(parseDuration("2m"), 120_000);
  assert.equal(parseDuration("1h"), 3_600_000);
  assert.equal(parseDuration("1.5"), 1500);
  assert.throws(() => parseDuration("soon"), /invalid duration 'soon'/);
  assert.equal(parseSize("64M"), 64 << 20);
  assert.equal(parseSize("64MiB"), 64 << 20);
  assert.equal(parseSize("1G"), 1 << 30);
  assert.equal(parseSize("512k"), 512 << 10);
  assert.equal(parseSize("4096"), 4096);
  assert.equal(parseSize("4096B"), 4096);
  assert.throws(() => parseSize("lots"), /invalid size/);
});

Deno.test("CLI: options before the module, everything after it goes to the guest", () => {
  const parsed = command([
    "run",
    "--dir",
    "./data::/data",
    "--dir-ro=./ro",
    "--env",
    "A=1=2",
    "--env",
    "PASSED",
    "--fuel",
    "1000",
    "--timeout=2s",
    "--max-memory",
    "16MiB",
    "--cache",
    "/tmp/c",
    "dir/app.wasm",
    "--version",
    "--env",
    "X=1",
    "--dir",
    "/",
    "--",
    "--help",
  ]);
  assert.equal(parsed.module, "dir/app.wasm");
  // argv[0] is the file name, as wasmtime run passes it; nothing after the module is parsed.
  assert.deepEqual(parsed.args, [
    "app.wasm",
    "--version",
    "--env",
    "X=1",
    "--dir",
    "/",
    "--",
    "--help",
  ]);
  assert.deepEqual(parsed.preopens, [
    { host: "./data", guest: "/data", readOnly: false },
    { host: "./ro", guest: "./ro", readOnly: true },
  ]);
  assert.deepEqual(parsed.env, { A: "1=2" });
  assert.deepEqual(parsed.passEnv, ["PASSED"]);
  assert.equal(parsed.fuel, 1000);
  assert.equal(parsed.timeoutMs, 2000);
  assert.equal(parsed.maxMemoryBytes, 16 << 20);
  assert.equal(parsed.cacheDir, "/tmp/c");
  // `run` is optional; `--` ends the options, so a module may start with a dash.
  assert.deepEqual(command(["--", "-odd.wasm", "x"]).args, ["-odd.wasm", "x"]);
  assert.deepEqual(command(["--argv0", "tool", "a.wasm", "x"]).args, ["tool", "x"]);
  assert.equal(command(["--invoke", "add", "a.wasm", "1", "2"]).invoke, "add");
  assert.deepEqual(parseArgs(["--help", "a.wasm"]), { kind: "help" });
  assert.deepEqual(parseArgs(["run", "-V"]), { kind: "version" });
  // The one place that builds runWasi's options.
  const options = runOptions(parsed, { A: "1=2" }, "/tmp/private");
  assert.deepEqual(options.preopens, [
    ["./data", "/data", { mutable: true }],
    ["./ro", "./ro", { mutable: false }],
    ["/tmp/private", "/tmp", { mutable: true }],
  ]);
  assert.deepEqual(options.args, parsed.args);
  assert.equal(options.stdout, "inherit");
});

Deno.test("CLI usage errors", () => {
  assert.throws(() => parseArgs(["run", "--fuel"]), /--fuel needs a value/);
  assert.throws(() => parseArgs(["--fuel", "lots", "a.wasm"]), /non-negative integer/);
  assert.throws(() => parseArgs(["--env", "=x", "a.wasm"]), /NAME=VALUE or NAME/);
  assert.throws(() => parseArgs(["--dir", "::/g", "a.wasm"]), /HOST\[::GUEST\]/);
  assert.throws(() => parseArgs(["--bogus", "a.wasm"]), /unknown option '--bogus'/);
  assert.throws(() => parseArgs(["--tmp=yes", "a.wasm"]), /--tmp takes no value/);
  assert.throws(() => parseArgs(["run"]), /no module given/);
  assert.throws(() => parseArgs(["--dir", "a::/x", "--dir-ro", "b::/x", "m.wasm"]), /\/x .*twice/);
  assert.throws(() => parseArgs(["--dir", "a::/tmp", "--tmp", "m.wasm"]), /\/tmp .*twice/);
});

Deno.test("CLI -S threads / --wasi threads, as wasmtime run spells them", () => {
  for (
    const spelling of [
      ["-S", "threads"],
      ["-Sthreads"],
      ["-S=threads"],
      ["-S", "threads=y"],
      ["--wasi", "threads"],
      ["--wasi=threads=yes"],
      ["-S", "cli,threads"],
      ["-W", "threads=y", "-S", "threads=true"],
      ["--wasm", "threads", "-Sthreads"],
    ]
  ) {
    const parsed = command([...spelling, "a.wasm", "-S", "x"]);
    assert.equal(parsed.threads, true, spelling.join(" "));
    assert.deepEqual(parsed.args, ["a.wasm", "-S", "x"]); // after the module: the guest's
    assert.equal(runOptions(parsed, {}).threads, true);
  }
  for (const spelling of [[], ["-S", "threads=n"], ["-S", "threads", "-S", "threads=no"]]) {
    const parsed = command([...spelling, "a.wasm"]);
    assert.equal(parsed.threads, false, spelling.join(" "));
    assert.equal(runOptions(parsed, {}).threads, undefined);
  }
  assert.throws(() => parseArgs(["-S", "threads=maybe", "a.wasm"]), /-S threads expects y or n/);
  assert.throws(() => parseArgs(["-S", "http", "a.wasm"]), /-S http: not supported here/);
  assert.throws(() => parseArgs(["-S", "cli=n", "a.wasm"]), /cannot be turned off/);
  assert.throws(() => parseArgs(["-W", "gc", "a.wasm"]), /-W gc: not supported here/);
  assert.throws(() => parseArgs(["-S"]), /-S needs a value/);
  assert.throws(
    () => parseArgs(["-S", "threads", "--invoke", "f", "a.wasm"]),
    /--invoke cannot be used with -S threads/,
  );
});

Deno.test("CLI -S threads runs a wasi-threads program whose threads compute the right total", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wasmtime-deno-cli-threads-" });
  const path = join(dir, "threads.wat");
  await Deno.writeTextFile(path, threadsProgram({ threads: 3, items: 24, rounds: 500 }));
  // Each thread's Worker loads the package's sources: read access to src/ is needed.
  const flags = [...await libraryFlags(), `--allow-read=${dir},${join(ROOT, "src")}`];
  const result = await cli(flags, ["-S", "threads", path]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `${expectedTotal(24, 500)}\n`);
  // Without the flag the module's thread-spawn import is not provided: a clean error.
  const plain = await cli(flags, [path]);
  assert.equal(plain.code, 1);
  assert.match(plain.stderr, /thread-spawn|shared|import/);
  assertNoStack(plain);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("CLI --invoke arguments and results are read and written as wasmtime run does", () => {
  assert.equal(parseInvokeArg("i32", "-5", "f"), -5);
  assert.equal(parseInvokeArg("i32", "0x10", "f"), 16);
  assert.equal(parseInvokeArg("i32", "+7", "f"), 7);
  assert.equal(parseInvokeArg("i64", "9223372036854775807", "f"), 9223372036854775807n);
  assert.equal(parseInvokeArg("i64", "0XFF", "f"), 255n);
  assert.throws(() => parseInvokeArg("i32", "2147483648", "f"), /out of range for i32/);
  assert.throws(() => parseInvokeArg("i32", "1.5", "f"), /invalid i32 argument '1.5' for `f`/);
  assert.throws(() => parseInvokeArg("i64", "", "f"), /not an integer/);
  assert.equal(parseInvokeArg("f64", "1e-3", "f"), 0.001);
  assert.equal(parseInvokeArg("f64", "-inf", "f"), -Infinity);
  assert.ok(Number.isNaN(parseInvokeArg("f64", "NaN", "f")));
  assert.equal(parseInvokeArg("f32", "0.1", "f"), Math.fround(0.1));
  assert.throws(() => parseInvokeArg("f64", "0x10", "f"), /not a number/);
  assert.throws(() => parseInvokeArg("v128", "1", "f"), /v128 parameter/);
  // Rust's Display: shortest round-trip digits, never an exponent.
  assert.equal(formatFloat(0.1, "f64"), "0.1");
  assert.equal(formatFloat(1, "f64"), "1");
  assert.equal(formatFloat(-2.5, "f64"), "-2.5");
  assert.equal(formatFloat(1e21, "f64"), "1000000000000000000000");
  assert.equal(formatFloat(1.5e-7, "f64"), "0.00000015");
  assert.equal(formatFloat(Number.MAX_VALUE, "f64"), "17976931348623157" + "0".repeat(292));
  assert.equal(formatFloat(Math.fround(0.1), "f32"), "0.1");
  assert.equal(formatFloat(Math.fround(1 / 3), "f32"), "0.33333334");
  assert.equal(formatFloat(-0, "f64"), "-0");
  assert.equal(formatFloat(NaN, "f32"), "NaN");
  assert.equal(formatFloat(-Infinity, "f64"), "-inf");
});

// ---------------------------------------------------------------------------------------------
// The command itself, in subprocesses.

/** Flags the library needs: what build-native --print-flags prints (the README's line). */
const libraryFlags = appFlags;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `program` (deno or an installed command) with a clean environment; killed after 60 s. */
async function spawn(
  program: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  const passed = ["PATH", "HOME", "WASMTIME_LIB", "WASMTIME_DENO_CACHE", "DENO_DIR"]
    .map((name) => [name, Deno.env.get(name)])
    .filter((entry): entry is [string, string] => entry[1] !== undefined);
  const output = await new Deno.Command(program, {
    args,
    cwd: ROOT,
    clearEnv: true,
    env: { NO_COLOR: "1", ...Object.fromEntries(passed), ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** `deno run <deno flags> cli.ts <args>`. */
function cli(
  denoFlags: string[],
  args: string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  return spawn(Deno.execPath(), ["run", ...denoFlags, CLI, ...args], env);
}

/** No JS stack trace reached the user. */
function assertNoStack(result: CliResult): void {
  assert.doesNotMatch(result.stderr, /^\s+at .*\.ts:\d+/m, result.stderr);
}

/** A work directory holding a copy of the probe program (so read grants stay narrow). */
async function workDir(): Promise<{ dir: string; probe: string }> {
  const dir = await Deno.makeTempDir({ prefix: "wasmtime-deno-cli-" });
  const probe = join(dir, "probe.wasm");
  await Deno.copyFile(await compileC("probe"), probe);
  return { dir, probe };
}

Deno.test("CLI: guest arguments after the module reach the guest unchanged", async () => {
  const { dir, probe } = await workDir();
  const flags = [...await libraryFlags(), `--allow-read=${dir}`];
  const args = ["args", "--version", "--env", "A=1", "--dir", "/", "--", "--fuel"];
  const result = await cli(flags, ["run", probe, ...args]);
  assert.equal(result.code, 0, result.stderr);
  const expected = ["probe.wasm", ...args].map((arg, i) => `${i}=${arg}`).join("\n");
  assert.equal(result.stdout.trim(), expected);
  // `--` before the module, and --argv0.
  const renamed = await cli(flags, ["--argv0", "tool", "--", probe, "args", "-x"]);
  assert.equal(renamed.stdout.trim(), "0=tool\n1=args\n2=-x");
});

Deno.test("CLI: --dir is read-write like wasmtime run's, --dir-ro is read-only", async () => {
  const { dir, probe } = await workDir();
  const data = join(dir, "data");
  await Deno.mkdir(data);
  await Deno.writeTextFile(join(data, "input.txt"), "hello ro");
  const read = [...await libraryFlags(), `--allow-read=${dir}`];
  const rw = await cli([...read, `--allow-write=${data}`], [
    "--dir",
    `${data}::/d`,
    probe,
    "fs",
    "/d",
  ]);
  assert.equal(rw.code, 0, rw.stdout + rw.stderr);
  assert.match(rw.stdout, /fs ok/);
  const ro = await cli(read, ["--dir-ro", `${data}::/d`, probe, "ro", "/d"]);
  assert.equal(ro.code, 0, ro.stdout + ro.stderr);
  assert.match(ro.stdout, /read: hello ro\n[\s\S]*denied: 4 of 4/);
  assert.equal(await Deno.readTextFile(join(data, "input.txt")), "hello ro");
  // --dir without write permission: a message naming the flag, no stack trace, status 1.
  const denied = await cli(read, ["--dir", `${data}::/d`, probe, "fs", "/d"]);
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, new RegExp(`run again with --allow-write=${data}`));
  assertNoStack(denied);
  const unread = await cli(await libraryFlags(), ["--dir-ro", data, probe, "ro", data]);
  assert.equal(unread.code, 1);
  assert.match(unread.stderr, /Requires read access to .*probe\.wasm.*--allow-read/);
  assertNoStack(unread);
});

Deno.test("CLI: --tmp gives the guest a private, writable /tmp, removed afterwards", async () => {
  const { dir, probe } = await workDir();
  const tmp = join(dir, "tmp");
  await Deno.mkdir(tmp);
  const flags = [...await libraryFlags(), `--allow-read=${dir}`, `--allow-write=${tmp}`];
  const result = await cli(flags, ["--tmp", probe, "fs", "/tmp"], { TMPDIR: tmp });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /fs ok/);
  assert.deepEqual([...Deno.readDirSync(tmp)], [], "the private /tmp was removed");
  const refused = await cli(await libraryFlags(), ["--tmp", probe, "args"], { TMPDIR: tmp });
  assert.equal(refused.code, 1);
  assertNoStack(refused);
});

Deno.test("CLI: --env NAME=VALUE sets, --env NAME passes the host's variable", async () => {
  const { dir, probe } = await workDir();
  const flags = [...await libraryFlags(), `--allow-read=${dir}`];
  const args = ["--env", "A=1=2", "--env", "FROM_HOST", "--env", "NOT_SET", probe, "env"];
  const names = ["A", "FROM_HOST", "NOT_SET"];
  const allowed = await cli([...flags, "--allow-env=FROM_HOST,NOT_SET"], [...args, ...names], {
    FROM_HOST: "host value",
  });
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.equal(allowed.stdout, "A=1=2\nFROM_HOST=host value\nNOT_SET=(unset)\n");
  const denied = await cli(flags, [...args, ...names], { FROM_HOST: "host value" });
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /--allow-env=FROM_HOST/);
  assertNoStack(denied);
});

Deno.test("CLI exit statuses are wasmtime run's", async () => {
  const { dir, probe } = await workDir();
  const flags = [...await libraryFlags(), `--allow-read=${dir}`];
  for (const status of [0, 3, 125]) {
    const result = await cli(flags, [probe, "exit", String(status)]);
    assert.equal(result.code, status, result.stderr);
    assert.equal(result.stderr, "");
  }
  // WASI allows [0, 126): wasmtime run reports a larger status as an error, status 1.
  const invalid = await cli(flags, [probe, "exit", "255"]);
  assert.equal(invalid.code, 1);
  assert.match(invalid.stderr, /exit with invalid exit status outside of \[0\.\.126\)/);
  const trap = await cli(flags, [probe, "trap"]);
  assert.equal(trap.code, Deno.build.os === "windows" ? 3 : 134);
  assert.match(trap.stderr, /^Error: failed to run main module `.*probe\.wasm`/);
  assert.match(trap.stderr, /unreachable/);
  const missing = await cli(flags, [join(dir, "absent.wasm")]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^Error: .*absent\.wasm/);
  assertNoStack(missing);
});

Deno.test("CLI --fuel, --timeout and --max-memory bound the guest", async () => {
  const { dir, probe } = await workDir();
  const flags = [...await libraryFlags(), `--allow-read=${dir}`];
  const abort = Deno.build.os === "windows" ? 3 : 134;
  const fuel = await cli(flags, ["--fuel", "100000", probe, "spin"]);
  assert.equal(fuel.code, abort);
  assert.match(fuel.stderr, /all fuel consumed/);
  const started = performance.now();
  const timeout = await cli(flags, ["--timeout", "300ms", probe, "spin"]);
  const elapsed = performance.now() - started;
  assert.equal(timeout.code, abort);
  assert.match(timeout.stderr, /interrupt/);
  assert.ok(elapsed < 30_000, `did not hang (${elapsed} ms)`);
  const capped = await cli(flags, ["--max-memory", "8MiB", probe, "alloc", "16"]);
  assert.equal(capped.code, 3, capped.stderr);
  assert.match(capped.stdout, /malloc failed after \d MiB/);
  const roomy = await cli(flags, ["--max-memory", "64MiB", probe, "alloc", "16"]);
  assert.equal(roomy.code, 0, roomy.stderr);
  assert.match(roomy.stdout, /allocated 16 MiB/);
});

Deno.test("CLI --cache: the second run loads the entry the first one wrote", async () => {
  const { dir, probe } = await workDir();
  const cache = join(dir, "cache");
  const flags = [...await libraryFlags(), `--allow-read=${dir}`, `--allow-write=${cache}`];
  const first = await cli(flags, ["--cache", cache, probe, "args"]);
  assert.equal(first.code, 0, first.stderr);
  const entries = [...Deno.readDirSync(cache)].map((e) => e.name).filter((n) =>
    n.endsWith(".cwasm")
  );
  assert.equal(entries.length, 1, String(entries));
  const before = Deno.statSync(join(cache, entries[0]));
  const second = await cli(flags, ["--cache", cache, probe, "args"]);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stdout, first.stdout);
  const after = Deno.statSync(join(cache, entries[0]));
  // A miss would have compiled again and replaced the entry (a new file).
  assert.equal(after.ino, before.ino);
  assert.equal(after.mtime?.getTime(), before.mtime?.getTime());
  assert.deepEqual(
    [...Deno.readDirSync(cache)].map((e) => e.name).filter((n) => n.endsWith(".cwasm")),
    entries,
  );
  const unwritable = await cli([...await libraryFlags(), `--allow-read=${dir}`], [
    "--cache",
    cache,
    probe,
    "args",
  ]);
  assert.equal(unwritable.code, 1);
  assert.match(unwritable.stderr, /--allow-write/);
  assertNoStack(unwritable);
});

const REACTOR = `(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (global $base (mut i32) (i32.const 0))
  (func (export "_initialize") (global.set $base (i32.const 1000)))
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (global.get $base) (i32.add (local.get 0) (local.get 1))))
  (func (export "mul64") (param i64 i64) (result i64) (i64.mul (local.get 0) (local.get 1)))
  (func (export "div") (param f64 f64) (result f64) (f64.div (local.get 0) (local.get 1)))
  (func (export "third") (param f32) (result f32) (f32.div (local.get 0) (f32.const 3)))
  (func (export "pair") (param i64) (result i64 f64)
    (local.get 0) (f64.convert_i64_s (local.get 0)))
  (func (export "quit") (param i32) (call $exit (local.get 0)))
  (func (export "boom") unreachable))`;

Deno.test("CLI --invoke calls a reactor's export with typed arguments", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wasmtime-deno-cli-" });
  const wat = join(dir, "calc.wat"); // the text format is accepted, as by wasmtime run
  await Deno.writeTextFile(wat, REACTOR);
  const flags = [...await libraryFlags(), `--allow-read=${dir}`];
  const invoke = (name: string, ...args: string[]) => cli(flags, ["--invoke", name, wat, ...args]);
  const add = await invoke("add", "2", "0x10");
  assert.equal(add.code, 0, add.stderr);
  assert.equal(add.stdout, "1018\n", "_initialize ran first");
  assert.equal(
    (await invoke("mul64", "9223372036854775807", "-1")).stdout,
    "-9223372036854775807\n",
  );
  assert.equal((await invoke("div", "1", "3")).stdout, "0.3333333333333333\n");
  assert.equal((await invoke("div", "1e300", "1e-10")).stdout, "inf\n");
  assert.equal((await invoke("third", "1")).stdout, "0.33333334\n");
  assert.equal((await invoke("pair", "-7")).stdout, "-7\n-7\n");
  const quit = await invoke("quit", "7");
  assert.equal(quit.code, 7, quit.stderr);
  const boom = await invoke("boom");
  assert.equal(boom.code, Deno.build.os === "windows" ? 3 : 134);
  assert.match(boom.stderr, /unreachable/);
  for (
    const [args, message] of [
      [["add", "1"], /not enough arguments for `add`/],
      [["add", "1", "x"], /invalid i32 argument 'x' for `add`/],
      [["absent"], /no func export named `absent` found/],
    ] as const
  ) {
    const result = await invoke(args[0], ...args.slice(1));
    assert.equal(result.code, 1, `${args}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assertNoStack(result);
  }
  const noStart = await cli(flags, [wat]);
  assert.equal(noStart.code, 1);
  assert.match(noStart.stderr, /no _start export .*--invoke NAME/);
});

Deno.test("CLI --help, --version and usage errors", async () => {
  const flags = await libraryFlags();
  const help = await cli(flags, ["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: wasmtime-deno \[run\] \[OPTIONS\] \[--\] <MODULE>/);
  assert.match(help.stdout, /--dir-ro HOST\[::GUEST\]/);
  const versionResult = await cli(flags, ["-V"]);
  assert.equal(versionResult.code, 0, versionResult.stderr);
  assert.match(versionResult.stdout, /Wasmtime 48\.\d+\.\d+/);
  for (const args of [["--bogus", "a.wasm"], [], ["run"], ["--fuel"], ["--fuel", "x", "a.wasm"]]) {
    const result = await cli(flags, args);
    assert.equal(result.code, 2, `${args}: ${result.stderr}`);
    assert.match(result.stderr, /^error: .*\n\nUsage: wasmtime-deno/);
    assertNoStack(result);
  }
});

Deno.test("CLI: deno install makes a wasmtime-deno command", async () => {
  const { dir, probe } = await workDir();
  const root = await Deno.makeTempDir({ prefix: "wasmtime-deno-install-" });
  const install = await spawn(Deno.execPath(), [
    "install",
    "-g",
    "-n",
    "wasmtime-deno",
    ...await libraryFlags(),
    CLI,
  ], { DENO_INSTALL_ROOT: root });
  assert.equal(install.code, 0, install.stderr);
  const command = join(
    root,
    "bin",
    Deno.build.os === "windows" ? "wasmtime-deno.cmd" : "wasmtime-deno",
  );
  // Installed with the library's permissions only: the module is refused (no terminal to ask).
  const refused = await spawn(command, [probe, "args"]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /--allow-read/);
  assert.match(refused.stderr, /deno install/);
  assertNoStack(refused);
  const reinstall = await spawn(Deno.execPath(), [
    "install",
    "-g",
    "-f",
    "-n",
    "wasmtime-deno",
    ...await libraryFlags(),
    `--allow-read=${dir}`,
    CLI,
  ], { DENO_INSTALL_ROOT: root });
  assert.equal(reinstall.code, 0, reinstall.stderr);
  const ran = await spawn(command, [probe, "args", "--x"]);
  assert.equal(ran.code, 0, ran.stderr);
  assert.equal(ran.stdout, `0=${basename(probe)}\n1=args\n2=--x\n`);
  assert.ok(dirname(command).startsWith(root));
});
