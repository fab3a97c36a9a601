import assert from "node:assert/strict";
import { join } from "node:path";
import { Engine, FuncType, Linker, Module, Store, Trap, TrapCode, WasmtimeError } from "../mod.ts";
import {
  instantiateWasi,
  limitedEngineOptions,
  runWasi,
  WasiConfig,
  WasiExit,
  type WasiLink,
} from "../wasi.ts";
import { appFlags, ROOT, runDeno, tempScript } from "./helpers.ts";
import { compileC } from "./wasi_fixtures.ts";

const probe = await compileC("probe");
const reactor = await compileC("reactor", ["-mexec-model=reactor"]);
const withImports = await compileC("imports");
const WASI_URL = new URL("../wasi.ts", import.meta.url).href;

/** A temp tree: root/secret.txt outside the preopen root/data, with escape hatches inside. */
function sandboxTree(): { root: string; data: string; secret: string } {
  const root = Deno.makeTempDirSync({ prefix: "wasmtime-deno-wasi-" });
  const data = join(root, "data");
  Deno.mkdirSync(join(data, "sub"), { recursive: true });
  Deno.writeTextFileSync(join(root, "secret.txt"), "top secret\n");
  Deno.writeTextFileSync(join(data, "input.txt"), "from the host\n");
  Deno.symlinkSync(root, join(data, "link-out"));
  Deno.symlinkSync(join(root, "secret.txt"), join(data, "file-link"));
  return { root, data, secret: join(root, "secret.txt") };
}

Deno.test("args, env, stdin, stdout and stderr", async () => {
  const args = await runWasi(probe, { args: ["probe", "args", "two words", "ünïcode"] });
  assert.equal(args.exitCode, 0);
  assert.equal(args.stdoutText, "0=probe\n1=args\n2=two words\n3=ünïcode\n");

  const env = await runWasi(probe, {
    args: ["probe", "env", "GREETING", "HOME", "PATH"],
    env: { GREETING: "hi" },
  });
  assert.equal(env.stdoutText, "GREETING=hi\nHOME=(unset)\nPATH=(unset)\n", "only granted env");

  const cat = await runWasi(probe, {
    args: ["probe", "cat"],
    stdin: new TextEncoder().encode("input bytes\n"),
  });
  assert.equal(cat.stdoutText, "input bytes\n");
  assert.deepEqual(cat.stdout, new TextEncoder().encode("input bytes\n"));

  const streams = await runWasi(probe, { args: ["probe", "stderr", "oops"] });
  assert.equal(streams.stdoutText, "to stdout\n");
  assert.equal(streams.stderrText, "to stderr: oops\n");
});

Deno.test("runWasi can cache compiled code", async () => {
  const cacheDir = await Deno.makeTempDir();
  const first = await runWasi(probe, { args: ["probe", "args"], cacheDir });
  const second = await runWasi(probe, { args: ["probe", "args"], cacheDir });
  assert.equal(second.stdoutText, first.stdoutText);
  assert.equal([...Deno.readDirSync(cacheDir)].filter((e) => e.name.endsWith(".cwasm")).length, 1);
});

Deno.test("stdin from a file and stdout to a file", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(join(dir, "in.txt"), "file input");
  const result = await runWasi(probe, {
    args: ["probe", "cat"],
    stdin: { file: join(dir, "in.txt") },
    stdout: { file: join(dir, "out.txt") },
  });
  assert.equal(result.exitCode, 0);
  assert.equal(result.stdout.length, 0);
  assert.equal(await Deno.readTextFile(join(dir, "out.txt")), "file input");
});

Deno.test("files: open, read, write, seek, stat, readdir, rename, unlink in a mutable preopen", async () => {
  const { data } = sandboxTree();
  const result = await runWasi(probe, {
    args: ["probe", "fs", "/data"],
    preopens: [[data, "/data", { mutable: true }]],
  });
  assert.equal(result.exitCode, 0, result.stdoutText);
  assert.equal(
    result.stdoutText,
    "read after seek: file\nsize: 10\nreaddir sees renamed.txt: 1\nfs ok\n",
  );
});

Deno.test("a read-only preopen allows reading and refuses every change", async () => {
  const { data } = sandboxTree();
  const result = await runWasi(probe, {
    args: ["probe", "ro", "/data"],
    preopens: [[data, "/data"]],
  });
  assert.equal(result.exitCode, 0, result.stdoutText);
  assert.match(result.stdoutText, /read: from the host/);
  assert.match(result.stdoutText, /denied: 4 of 4/);
  assert.equal(Deno.readTextFileSync(join(data, "input.txt")), "from the host\n");
  const mutable = await runWasi(probe, {
    args: ["probe", "fs", "/data"],
    preopens: [[data, "/data"]],
  });
  assert.notEqual(mutable.exitCode, 0, "writing fails in a read-only preopen");
});

Deno.test("sandbox escapes fail: .., absolute paths, symlinks out of the preopen", async () => {
  const { data, secret } = sandboxTree();
  const result = await runWasi(probe, {
    args: ["probe", "escape", "/data", secret],
    preopens: [[data, "/data", { mutable: true }]],
  });
  assert.doesNotMatch(result.stdoutText, /ESCAPED/);
  assert.equal(result.exitCode, 0, result.stdoutText);
  assert.equal((result.stdoutText.match(/^blocked /gm) ?? []).length, 6);
});

Deno.test("clocks and random work", async () => {
  const clock = await runWasi(probe, { args: ["probe", "clock"] });
  const seconds = Number(/realtime (\d+)/.exec(clock.stdoutText)![1]);
  assert.ok(Math.abs(seconds - Date.now() / 1000) < 60, clock.stdoutText);
  assert.match(clock.stdoutText, /monotonic_ok 1/);
  const a = await runWasi(probe, { args: ["probe", "random"] });
  const b = await runWasi(probe, { args: ["probe", "random"] });
  assert.match(a.stdoutText, /^[0-9a-f]{32}\n$/);
  assert.notEqual(a.stdoutText, b.stdoutText);
});

Deno.test("exit codes are data from runWasi and a typed error from lower-level calls", async () => {
  for (const code of [0, 1, 7, 125]) {
    const result = await runWasi(probe, { args: ["probe", "exit", String(code)] });
    assert.equal(result.exitCode, code);
  }
  assert.equal((await runWasi(probe, { args: ["probe", "args"] })).exitCode, 0);
  // Wasmtime's WASI refuses statuses outside [0, 126) with an error (shells reserve them).
  await assert.rejects(
    () => runWasi(probe, { args: ["probe", "exit", "255"] }),
    /invalid exit status/,
  );
  using engine = new Engine();
  using wasi = new WasiConfig().args(["probe", "exit", "3"]);
  using store = new Store(engine, { wasi });
  using linker = new Linker(engine);
  linker.defineWasi();
  using module = new Module(engine, await Deno.readFile(probe));
  const start = linker.instantiate(store, module).getFunc("_start")!;
  assert.throws(() => start.call(), (e) => e instanceof WasiExit && e.status === 3);
  await assert.rejects(() => runWasi(probe, { args: ["probe", "trap"] }), (e) => {
    assert.ok(e instanceof Trap && !(e instanceof WasiExit));
    assert.equal(e.code, TrapCode.UnreachableCodeReached);
    return true;
  });
});

Deno.test("limits: timeout, fuel and memory", async () => {
  const started = performance.now();
  await assert.rejects(
    () => runWasi(probe, { args: ["probe", "spin"], timeoutMs: 300 }),
    (e) => e instanceof Trap && e.code === TrapCode.Interrupt,
  );
  const elapsed = performance.now() - started;
  console.log(`infinite loop with timeoutMs 300 ended after ${elapsed.toFixed(0)} ms`);
  assert.ok(elapsed < 1_300, `the timeout fired after ${elapsed} ms`);
  await assert.rejects(
    () => runWasi(probe, { args: ["probe", "spin"], fuel: 1_000_000 }),
    (e) => e instanceof Trap && e.code === TrapCode.OutOfFuel,
  );
  const small = await runWasi(probe, { args: ["probe", "alloc", "100"], maxMemoryBytes: 32 << 20 });
  assert.equal(small.exitCode, 3);
  assert.match(small.stdoutText, /malloc failed after \d+ MiB/);
  const enough = await runWasi(probe, { args: ["probe", "alloc", "20"], maxMemoryBytes: 64 << 20 });
  assert.equal(enough.exitCode, 0, enough.stdoutText);
});

Deno.test("nonBlocking runs keep the event loop alive and still time out", async () => {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  try {
    await assert.rejects(
      () => runWasi(probe, { args: ["probe", "spin"], timeoutMs: 200, nonBlocking: true }),
      (e) => e instanceof Trap && e.code === TrapCode.Interrupt,
    );
    console.log(`a 5 ms timer fired ${ticks} times during a 200 ms nonBlocking guest`);
    assert.ok(ticks >= 10, `the timer fired only ${ticks} times`);
    const cat = await runWasi(probe, { args: ["probe", "cat"], stdin: "abc", nonBlocking: true });
    assert.equal(cat.stdoutText, "abc");
    const exit = await runWasi(probe, { args: ["probe", "exit", "9"], nonBlocking: true });
    assert.equal(exit.exitCode, 9);
  } finally {
    clearInterval(timer);
  }
});

Deno.test("100 MB through captured stdout", async () => {
  const before = Deno.memoryUsage().rss;
  const started = performance.now();
  const result = await runWasi(probe, { args: ["probe", "big", "100"] });
  const seconds = (performance.now() - started) / 1000;
  const grown = (Deno.memoryUsage().rss - before) / (1 << 20);
  assert.equal(result.exitCode, 0);
  assert.equal(result.stdout.length, 100 << 20);
  assert.ok(result.stdout.every((b) => b === 0x78));
  console.log(
    `captured 100 MiB in ${seconds.toFixed(2)} s (${(100 / seconds).toFixed(0)} MiB/s), ` +
      `RSS +${grown.toFixed(0)} MiB`,
  );
  assert.ok(grown < 400, `RSS grew ${grown} MiB for 100 MiB of output`);
  const capped = await runWasi(probe, { args: ["probe", "big", "4"], maxCaptureBytes: 1 << 20 });
  assert.equal(capped.stdout.length, 1 << 20, "output beyond the cap is refused, not buffered");
});

Deno.test("reactors are initialized and their exports usable", async () => {
  using guest = await instantiateWasi(reactor, {});
  const next = guest.instance.getFunc("next")!;
  assert.equal(next.call(), 101, "the constructor ran in _initialize");
  assert.equal(next.call(), 102);
  guest.instance.getFunc("greet")!.call();
  assert.equal(guest.wasi.stdout.text(), "hello from the reactor, counter=102\n");
  await assert.rejects(() => runWasi(reactor), /no _start export/);
});

Deno.test("a WasiConfig is single-use and a store without WASI refuses WASI modules", async () => {
  using engine = new Engine();
  const wasi = new WasiConfig();
  using _store = new Store(engine, { wasi });
  assert.throws(() => new Store(engine, { wasi }), /already given to a store/);
  assert.throws(() => wasi.args([]), /already given to a store/);
  using plain = new Store(engine);
  using linker = new Linker(engine);
  linker.defineWasi();
  using module = new Module(engine, await Deno.readFile(probe));
  assert.throws(() => linker.instantiate(plain, module), /needs a WASI context/);
});

async function runScript(body: string, flags: string[]): Promise<string> {
  const script = await tempScript(`import { runWasi } from ${JSON.stringify(WASI_URL)};
try {
  ${body}
  console.log("ok");
} catch (e) {
  console.log(e.name + ": " + e.message);
}`);
  const result = await runDeno([
    "run",
    "--no-prompt",
    ...await appFlags(),
    ...flags,
    script,
  ]);
  return result.stdout.trim() + result.stderr;
}

Deno.test("capabilities never exceed Deno's permissions (narrow flags in a subprocess)", async () => {
  const { root, data } = sandboxTree();
  const base = [`--allow-read=${probe}`];
  const read = await runScript(
    `await runWasi(${JSON.stringify(probe)}, { args: ["p", "args"], preopens: [[${
      JSON.stringify(data)
    }, "/d"]] });`,
    base,
  );
  assert.match(read, new RegExp(`PermissionError: .*run again with --allow-read=${data}`));

  const granted = await runScript(
    `await runWasi(${JSON.stringify(probe)}, { args: ["p", "args"], preopens: [[${
      JSON.stringify(data)
    }, "/d"]] });`,
    [`${base[0]},${data}`],
  );
  assert.equal(granted.trim(), "ok");

  const write = await runScript(
    `await runWasi(${JSON.stringify(probe)}, { args: ["p"], preopens: [[${
      JSON.stringify(data)
    }, "/d", { mutable: true }]] });`,
    [`${base[0]},${data}`],
  );
  assert.match(write, new RegExp(`run again with --allow-write=${data}`));

  const out = join(root, "out.txt");
  const file = await runScript(
    `await runWasi(${JSON.stringify(probe)}, { args: ["p", "args"], stdout: { file: ${
      JSON.stringify(out)
    } } });`,
    base,
  );
  assert.match(file, new RegExp(`run again with --allow-write=${out}`));

  const env = await runScript(
    `await runWasi(${JSON.stringify(probe)}, { args: ["p"], inheritEnv: true });`,
    base,
  );
  assert.match(env, /PermissionError: .*run again with --allow-env$/m);

  // A symlinked stdin file inside a granted directory must not lend access to its target.
  const hidden = join(Deno.makeTempDirSync(), "hidden.txt");
  Deno.writeTextFileSync(hidden, "secret");
  Deno.symlinkSync(hidden, join(data, "stdin-link"));
  const stdinLink = await runScript(
    `await runWasi(${JSON.stringify(probe)}, { args: ["p", "cat"], stdin: { file: ${
      JSON.stringify(join(data, "stdin-link"))
    } } });`,
    [`${base[0]},${data}`],
  );
  assert.match(stdinLink, new RegExp(`run again with --allow-read=${hidden}`));

  // A symlink inside a granted directory must not lend access to where it points.
  const outside = Deno.makeTempDirSync();
  Deno.symlinkSync(outside, join(data, "alias"));
  const alias = await runScript(
    `await runWasi(${JSON.stringify(probe)}, { args: ["p"], preopens: [[${
      JSON.stringify(join(data, "alias"))
    }, "/d"]] });`,
    [`${base[0]},${data}`],
  );
  assert.match(alias, new RegExp(`run again with --allow-read=${outside}`));
});

Deno.test("the CLI runs a module, passes the exit code and prints traps", async () => {
  const { data } = sandboxTree();
  const cli = join(ROOT, "src/wasi/cli.ts");
  const env = await runDeno([
    "run",
    "-A",
    cli,
    "run",
    "--dir-ro",
    `${data}::/data`,
    "--env",
    "K=V",
    "--",
    probe,
    "env",
    "K",
  ]);
  assert.equal(env.code, 0, env.stderr);
  assert.equal(env.stdout, "K=V\n");
  const ro = await runDeno([
    "run",
    "-A",
    cli,
    "run",
    "--dir-ro",
    `${data}::/data`,
    probe,
    "ro",
    "/data",
  ]);
  assert.equal(ro.code, 0, ro.stdout);
  const exit = await runDeno(["run", "-A", cli, "run", probe, "exit", "42"]);
  assert.equal(exit.code, 42);
  const trap = await runDeno(["run", "-A", cli, "run", probe, "trap"]);
  assert.equal(trap.code, 134);
  assert.match(trap.stderr, /Error: failed to run main module `.*probe.*\.wasm`\n\nCaused by:/);
  assert.match(trap.stderr, /wasm trap: wasm `unreachable` instruction executed/);
  const timeout = await runDeno([
    "run",
    "-A",
    cli,
    "run",
    "--timeout",
    "200ms",
    "--max-memory",
    "64M",
    "--fuel",
    "100000000000",
    probe,
    "spin",
  ]);
  assert.equal(timeout.code, 134);
  assert.match(timeout.stderr, /interrupt/);
  const usage = await runDeno(["run", "-A", cli, "--frobnicate", probe]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /Usage: wasmtime-deno/);
});

Deno.test("extra imports as an imports object, typed from the module", async () => {
  const starts: number[] = [];
  let ticks = 0;
  const imports = {
    bench: { start: (argc: number) => void starts.push(argc), tick: () => ++ticks },
  };
  const result = await runWasi(withImports, { args: ["imports", "4"], imports, syncWasi: true });
  assert.equal(result.exitCode, 4);
  assert.equal(result.stdoutText, `sum=${(1000 * 1001) / 2}\n`);
  assert.deepEqual(starts, [2]);
  // The object wins over what link defined for the same name; link supplies the rest.
  ticks = 0;
  const mixed = await runWasi(withImports, {
    args: ["imports"],
    syncWasi: true,
    imports: { bench: { tick: () => 2 } },
    link: (linker) => {
      linker.defineFunc("bench", "start", new FuncType(["i32"], []), () => {});
      linker.defineFunc("bench", "tick", new FuncType([], ["i32"]), () => ++ticks);
    },
  });
  assert.equal(mixed.stdoutText, "sum=2000\n");
  assert.equal(ticks, 0);
  // JS functions need synchronous WASI; a missing import names itself; a throw traps.
  await assert.rejects(
    () => runWasi(withImports, { args: ["imports"], imports }),
    /synchronous host function bench\.start \(from link or imports\).*Pass syncWasi: true/,
  );
  await assert.rejects(
    () => runWasi(withImports, { args: ["imports"], imports: { bench: {} }, syncWasi: true }),
    /bench::start/,
  );
  const boom = new Error("boom");
  await assert.rejects(
    () =>
      runWasi(withImports, {
        args: ["imports"],
        syncWasi: true,
        imports: {
          bench: {
            start: () => {},
            tick: () => {
              throw boom;
            },
          },
        },
      }),
    (e) => e === boom,
  );
});

Deno.test("extra imports through the link hook, with exit codes", async () => {
  const starts: number[] = [];
  let ticks = 0;
  // One FuncType serves every run's engine (each run makes its own engine).
  const startType = new FuncType(["i32"], []);
  const tickType = new FuncType([], ["i32"]);
  const start = () => startType;
  const tick = () => tickType;
  const link: WasiLink = (linker) => {
    linker.defineFunc("bench", "start", start(), (_caller, argc: number) => void starts.push(argc));
    linker.defineFunc("bench", "tick", tick(), () => ++ticks);
  };
  const result = await runWasi(withImports, { args: ["imports", "5"], link, syncWasi: true });
  assert.equal(result.exitCode, 5, "proc_exit from main's return value");
  assert.equal(result.stdoutText, `sum=${(1000 * 1001) / 2}\n`);
  assert.deepEqual(starts, [2]);
  assert.equal(ticks, 1000);

  // Under limits too; the hook may be async and gets the guest's store.
  ticks = 0;
  const limited = await runWasi(withImports, {
    args: ["imports"],
    fuel: 50_000_000,
    timeoutMs: 5_000,
    syncWasi: true,
    link: async (linker, store) => {
      await Promise.resolve();
      assert.ok(store instanceof Store);
      link(linker, store);
    },
  });
  assert.equal(limited.exitCode, 0);
  assert.equal(ticks, 1000);

  // Async host functions run in a nonBlocking run, with async WASI.
  ticks = 0;
  const nonBlocking = await runWasi(withImports, {
    args: ["imports", "3"],
    nonBlocking: true,
    timeoutMs: 5_000,
    link: (linker) => {
      linker.defineAsyncFunc("bench", "start", start(), async () => await Promise.resolve());
      linker.defineAsyncFunc("bench", "tick", tick(), () => ++ticks);
    },
  });
  assert.equal(nonBlocking.exitCode, 3);
  assert.equal(ticks, 1000);

  // A mismatch is refused before the guest runs, saying what to change.
  ticks = 0;
  await assert.rejects(
    () => runWasi(withImports, { args: ["imports"], link }),
    /synchronous host function bench\.start.*Pass syncWasi: true/,
  );
  await assert.rejects(
    () => runWasi(withImports, { args: ["imports"], link, syncWasi: true, nonBlocking: true }),
    /synchronous host function bench\.start \(from link or imports\) cannot run in a nonBlocking run/,
  );
  assert.equal(ticks, 0, "the guest never started");
  await assert.rejects(
    () =>
      runWasi(withImports, {
        args: ["imports"],
        link: (linker) => void linker.defineAsyncFunc("bench", "start", start(), () => {}),
      }),
    /async host functions.*nonBlocking: true/,
  );

  // A host function that throws ends the run with that error, not an exit code.
  await assert.rejects(
    () =>
      runWasi(withImports, {
        args: ["imports"],
        syncWasi: true,
        link: (linker) => {
          linker.defineFunc("bench", "start", start(), () => {});
          linker.defineFunc("bench", "tick", tick(), () => {
            throw new RangeError("host says no");
          });
        },
      }),
    /host says no/,
  );
  await assert.rejects(() => runWasi(withImports, { args: ["imports"] }), /bench.*start/);
});

Deno.test("one compiled artifact serves limited runs with and without fuel and timeout", async () => {
  const cacheDir = await Deno.makeTempDir();
  const cwasm = () =>
    [...Deno.readDirSync(cacheDir)].filter((e) => e.name.endsWith(".cwasm")).map((e) => e.name);
  const args = ["probe", "args"];
  const expected = "0=probe\n1=args\n";
  for (
    const options of [
      { fuel: 10_000_000 },
      { timeoutMs: 5_000 },
      { fuel: 10_000_000, timeoutMs: 5_000 },
      { nonBlocking: true },
    ]
  ) {
    const result = await runWasi(probe, { args, cacheDir, ...options });
    assert.equal(result.stdoutText, expected, JSON.stringify(options));
  }
  assert.equal(cwasm().length, 1, "every limited run loads the same entry");
  await assert.rejects(
    () => runWasi(probe, { args: ["probe", "spin"], cacheDir, fuel: 1_000_000 }),
    (e) => e instanceof Trap && e.code === TrapCode.OutOfFuel,
  );
  await assert.rejects(
    () => runWasi(probe, { args: ["probe", "spin"], cacheDir, timeoutMs: 200 }),
    (e) => e instanceof Trap && e.code === TrapCode.Interrupt,
  );
  assert.equal(cwasm().length, 1);
  // A run without limits gets plain code (the instrumentation would slow it for nothing).
  assert.equal((await runWasi(probe, { args, cacheDir })).stdoutText, expected);
  assert.equal(cwasm().length, 2);

  // A module compiled once with both instrumentations runs with any limits or none: without
  // `fuel` its store gets an unlimited budget (not zero, which would trap at once).
  using engine = new Engine(limitedEngineOptions);
  using module = new Module(engine, await Deno.readFile(probe));
  assert.equal((await runWasi(module, { args })).stdoutText, expected);
  assert.equal((await runWasi(module, { args: ["probe", "alloc", "20"] })).exitCode, 0);
  await assert.rejects(
    () => runWasi(module, { args: ["probe", "spin"], fuel: 1_000_000 }),
    (e) => e instanceof Trap && e.code === TrapCode.OutOfFuel,
  );
  await assert.rejects(
    () => runWasi(module, { args: ["probe", "spin"], timeoutMs: 200 }),
    (e) => e instanceof Trap && e.code === TrapCode.Interrupt,
  );
});

Deno.test("option shapes: host before guest, { file } for every stream, capture by default", async () => {
  // Old shapes are refused with what to write instead.
  await assert.rejects(
    () => runWasi(probe, { preopens: { "/d": "." } as never }),
    /preopens must be an array of \[hostDir, guestPath, options\?\]/,
  );
  await assert.rejects(
    () => runWasi(probe, { stdout: "out.txt" as never }),
    /expected "capture", "inherit" or \{ file: path \}, got "out.txt" \(write \{ file: "out.txt" \}\)/,
  );
  assert.throws(() => new WasiConfig().stderrTo("log" as never), WasmtimeError);

  // WasiConfig captures by default, like runWasi; its captures exist before the store does.
  using engine = new Engine();
  using module = new Module(engine, await Deno.readFile(probe));
  using wasi = new WasiConfig().args(["probe", "stderr", "x"]);
  assert.equal(wasi.stdout.text(), "", "readable before the run, without a non-null assertion");
  using store = new Store(engine, { wasi });
  using linker = new Linker(engine).defineWasi();
  linker.instantiate(store, module).getFunc("_start")!.call();
  assert.equal(wasi.stdout.text(), "to stdout\n");
  assert.equal(wasi.stderr.text(), "to stderr: x\n");

  // Not captured: reading says where the stream went instead of returning nothing.
  using inherited = new WasiConfig().stdoutTo("inherit");
  assert.throws(() => inherited.stdout, /stdout is inherited, so nothing is captured/);
  assert.equal(inherited.stderr.bytes().length, 0);
  assert.throws(() => new WasiConfig().stdoutTo({ file: "x" }).stdout, /goes to x/);
  using read = new WasiConfig();
  read.stdout;
  assert.throws(() => read.captureLimit(10), /set the limit first/);

  // One preopen tuple is preopen()'s argument list; the same host directory may appear twice.
  const { data } = sandboxTree();
  const twice = await runWasi(probe, {
    args: ["probe", "ro", "/b"],
    preopens: [[data, "/a", { mutable: true }], [data, "/b"]],
  });
  assert.equal(twice.exitCode, 0, twice.stdoutText);
  assert.match(twice.stdoutText, /denied: 4 of 4/, "/b is read-only although /a is mutable");
});
