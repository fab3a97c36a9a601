/**
 * Regression tests for the attack review's findings fixed in the native crate: host calls whose
 * JS side failed beyond JS's reach (D1), WASI files and directories checked by what was
 * opened (E2, E3), and deadlines that stop a guest blocked inside a WASI call (H3). Cases that
 * used to crash or hang the process run in a subprocess with a kill timer.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cpuUsage } from "node:process";
import { Engine, Func, FuncType, Instance, Module, Store, Trap, TrapCode } from "../mod.ts";
import { runWasi, WasiConfig } from "../wasi.ts";
import { CRATE_FILES } from "../src/package/native_source.ts";
import {
  appFlags,
  assertClean,
  MOD_URL,
  ROOT,
  runDeno,
  runIsolated,
  startSymlinkRacer,
  tempScript,
} from "./helpers.ts";
import { compileC } from "./wasi_fixtures.ts";

const WASI_URL = new URL("../wasi.ts", import.meta.url).href;
const blocking = await compileC("blocking");
const probe = await compileC("probe");

const RUN_AFTER = `(module (import "" "h" (func $h (result i32)))
  (global (export "ranAfter") (mut i32) (i32.const 0)) (global (export "got") (mut i32) (i32.const -1))
  (func (export "run") (global.set 1 (call $h)) (global.set 0 (i32.const 1))))`;

Deno.test("D1: a host function whose failure cannot even be described traps the guest", () => {
  using engine = new Engine();
  using store = new Store(engine);
  let calls = 0;
  const h = new Func(store, new FuncType([], ["i32"]), () => {
    if (++calls === 1) return 1; // the scratch slot now holds 1
    throw Object.create(null); // String() of it throws
  });
  const instance = new Instance(store, new Module(engine, RUN_AFTER), [h]);
  instance.getFunc("run")!.call();
  assert.equal(instance.getGlobal("got")!.value, 1);
  instance.getGlobal("ranAfter")!.value = 0;
  instance.getGlobal("got")!.value = -1;
  assert.throws(() => instance.getFunc("run")!.call());
  assert.equal(instance.getGlobal("ranAfter")!.value, 0, "the guest continued after the failure");
  assert.equal(instance.getGlobal("got")!.value, -1, "the guest received a stale value");
});

Deno.test("D1: a host call made with the JS stack exhausted traps instead of returning stale results", async () => {
  const result = await runIsolated(`
import { Engine, Func, FuncType, Instance, Module, Store } from ${JSON.stringify(MOD_URL)};
const engine = new Engine();
const store = new Store(engine);
let n = 0;
const h = new Func(store, new FuncType([], ["i32"]), () => ++n);
const inst = new Instance(store, new Module(engine, ${JSON.stringify(RUN_AFTER)}), [h]);
const run = inst.getFunc("run");
const ran = inst.getGlobal("ranAfter"), got = inst.getGlobal("got");
let wrong = 0, failed = 0, ok = 0;
function check() {
  ran.value = 0; got.value = -1;
  const before = n;
  try { run.call(); } catch { failed++; if (ran.value !== 0) wrong++; return; }
  if (ran.value !== 1 || got.value !== n || n !== before + 1) wrong++; else ok++;
}
// Recurse until the stack is nearly exhausted, then call into wasm at every depth on the way back.
function deep(depth) { try { deep(depth + 1); } catch { /* the bottom */ } check(); }
for (let i = 0; i < 3; i++) deep(0);
console.log(JSON.stringify({ wrong, ok: ok > 0 }));`);
  assertClean(result);
  assert.equal(result.stdout.trim(), JSON.stringify({ wrong: 0, ok: true }), result.stderr);
});

/** Runs `body` under narrow flags (read: the library cache + `read`, write: `write`). */
async function narrow(body: string, read: string[], write: string[] = []) {
  const script = await tempScript(`import * as wasi from ${JSON.stringify(WASI_URL)};
try { ${body} } catch (e) { console.log(e.name + ": " + e.message); }`);
  const result = await runDeno([
    "run",
    "--no-prompt",
    ...await appFlags([probe, ...read]),
    ...(write.length ? [`--allow-write=${write.join(",")}`] : []),
    script,
  ]);
  return result.stdout.trim() + result.stderr;
}

Deno.test("E2: a stdout path that is a dangling symlink never creates a file outside the grant", async () => {
  const sandbox = Deno.makeTempDirSync({ prefix: "wasmtime-deno-e2-" });
  const data = join(sandbox, "data");
  const outside = join(sandbox, "outside");
  Deno.mkdirSync(data);
  Deno.mkdirSync(outside);
  Deno.symlinkSync(join(outside, "created.txt"), join(data, "log.txt"));
  const text = await narrow(
    `await wasi.runWasi(${JSON.stringify(probe)}, { args: ["p", "args", "x"], stdout: { file: ${
      JSON.stringify(join(data, "log.txt"))
    } } }); console.log("ran");`,
    [sandbox],
    [data],
  );
  assert.match(text, /WasmtimeError: .*dangling symlink/);
  assert.throws(() => Deno.statSync(join(outside, "created.txt")), Deno.errors.NotFound);
  // A plain new file inside the grant still works, and an existing one is truncated.
  Deno.writeTextFileSync(join(data, "old.txt"), "x".repeat(1000));
  for (const name of ["new.txt", "old.txt"]) {
    const ok = await narrow(
      `await wasi.runWasi(${JSON.stringify(probe)}, { args: ["p", "args", "hi"], stdout: { file: ${
        JSON.stringify(join(data, name))
      } } }); console.log("ran");`,
      [sandbox],
      [data],
    );
    assert.equal(ok, "ran");
    assert.equal(Deno.readTextFileSync(join(data, name)), "0=p\n1=args\n2=hi\n");
  }
});

Deno.test("E2: an output file in a --deny-write child is refused, and nothing is truncated", async () => {
  const sandbox = Deno.makeTempDirSync({ prefix: "wasmtime-deno-e2d-" });
  const locked = join(sandbox, "locked");
  Deno.mkdirSync(locked);
  Deno.writeTextFileSync(join(locked, "keep.txt"), "precious");
  Deno.symlinkSync(join(locked, "keep.txt"), join(sandbox, "link.txt"));
  const script = await tempScript(`import * as wasi from ${JSON.stringify(WASI_URL)};
try {
  await wasi.runWasi(${JSON.stringify(probe)}, { args: ["p", "args"], stdout: { file: ${
    JSON.stringify(join(sandbox, "link.txt"))
  } } });
  console.log("ran");
} catch (e) { console.log(e.name); }`);
  const result = await runDeno([
    "run",
    "--no-prompt",
    "--allow-ffi",
    (await appFlags())[0], // the lookup's --allow-env
    "--allow-read",
    `--allow-write=${sandbox}`,
    `--deny-write=${locked}`,
    script,
  ]);
  assert.equal(result.stdout.trim(), "PermissionError", result.stderr);
  assert.equal(Deno.readTextFileSync(join(locked, "keep.txt")), "precious");
});

Deno.test("E3: a preopen whose symlink flips between an allowed and a forbidden directory never escapes", async () => {
  const sandbox = Deno.makeTempDirSync({ prefix: "wasmtime-deno-e3-" });
  const allowed = join(sandbox, "allowed");
  const forbidden = join(Deno.makeTempDirSync({ prefix: "wasmtime-deno-e3-out-" }));
  Deno.mkdirSync(allowed);
  Deno.writeTextFileSync(join(forbidden, "outside.txt"), "secret");
  const link = join(sandbox, "link");
  Deno.symlinkSync(allowed, link);
  const racer = await startSymlinkRacer(link, allowed, forbidden);
  const script = await tempScript(`
import { Engine, Linker, Module, Store } from ${JSON.stringify(MOD_URL)};
import { WasiConfig } from ${JSON.stringify(WASI_URL)};
const engine = new Engine();
const module = new Module(engine, Deno.readFileSync(${JSON.stringify(probe)}));
const linker = new Linker(engine).defineWasi();
const counts = { refused: 0, ran: 0, escaped: 0 };
for (const end = Date.now() + 2000; Date.now() < end;) {
  const wasi = new WasiConfig().args(["p", "escape", "/d", "/d/outside.txt"]).preopen(${
    JSON.stringify(link)
  }, "/d");
  let store;
  try { store = new Store(engine, { wasi }); } catch { counts.refused++; continue; }
  try { linker.instantiate(store, module).getFunc("_start").call(); } catch { /* exit */ }
  if (wasi.stdout.text().includes("ESCAPED /d/outside.txt")) counts.escaped++; else counts.ran++;
  store[Symbol.dispose]();
}
console.log(JSON.stringify(counts));`);
  const result = await runDeno([
    "run",
    "--no-prompt",
    ...await appFlags([probe, sandbox]),
    script,
  ]);
  await racer.stop();
  const counts = JSON.parse(result.stdout.trim() || "null");
  assert.ok(counts, result.stderr);
  console.log(`preopen race for 2 s: ${result.stdout.trim()}`);
  assert.equal(counts.escaped, 0, "the guest read a file in the forbidden directory");
  assert.ok(counts.ran > 0 && counts.refused > 0, result.stdout);
});

Deno.test("CRATE_FILES lists every file of native/src (the cache key covers all of the crate)", () => {
  const files = [...Deno.readDirSync(join(ROOT, "native/src"))].map((e) => `src/${e.name}`).sort();
  assert.deepEqual(CRATE_FILES.filter((f) => f.startsWith("src/")).sort(), files);
});

/** How long after `timeoutMs` a blocked guest was stopped, and what it printed first. */
async function stopLatency(
  args: string[],
  nonBlocking: boolean,
  stdin?: "inherit",
): Promise<{ late: number; ticks: number; cpu: number; stdout: string }> {
  const timeoutMs = 300;
  using engine = new Engine({ epochInterruption: true });
  using module = new Module(engine, await Deno.readFile(blocking));
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  const cpuBefore = cpuUsage();
  const started = performance.now();
  try {
    await runWasi(module, { args, timeoutMs, nonBlocking, stdin, engine });
    throw new Error(`${args.join(" ")} was not stopped`);
  } catch (error) {
    const late = performance.now() - started - timeoutMs;
    const used = cpuUsage(cpuBefore);
    assert.ok(error instanceof Trap, String(error));
    assert.equal(error.code, TrapCode.Interrupt);
    const stdout = (error as unknown as { stdoutText: string }).stdoutText;
    return { late, ticks, cpu: (used.user + used.system) / 1000 / timeoutMs, stdout };
  } finally {
    clearInterval(timer);
  }
}

Deno.test("H3: timeoutMs stops a guest sleeping in WASI, synchronously and with nonBlocking", async () => {
  for (const nonBlocking of [false, true]) {
    const { late, ticks, cpu, stdout } = await stopLatency(["b", "sleep", "3600"], nonBlocking);
    console.log(
      `sleep(3600), nonBlocking ${nonBlocking}: stopped ${late.toFixed(1)} ms after the ` +
        `deadline; timer ticks ${ticks}; CPU ${(cpu * 100).toFixed(0)}% of the wait`,
    );
    assert.ok(late < 2000, `stopped ${late} ms late`);
    assert.equal(stdout, "before\n", "the output up to the stop comes with the trap");
    if (nonBlocking) {
      assert.ok(ticks >= 10, `the event loop stood still while the guest slept (${ticks})`);
      assert.ok(cpu < 0.5, `the wait spun the CPU (${cpu})`);
    }
  }
});

Deno.test("H3: timeoutMs stops a guest blocked on an idle stdin pipe (fd_read, poll_oneoff)", async () => {
  // The guest inherits this subprocess's stdin: a pipe that stays open and never gets data.
  const result = await runIsolated(
    `
import { Engine, Module } from ${JSON.stringify(MOD_URL)};
import { runWasi } from ${JSON.stringify(WASI_URL)};
const engine = new Engine({ epochInterruption: true });
const module = new Module(engine, Deno.readFileSync(${JSON.stringify(blocking)}));
const lines = [];
for (const nonBlocking of [false, true]) {
  for (const cmd of ["read", "poll"]) {
    const started = performance.now();
    try {
      await runWasi(module, { args: ["b", cmd], timeoutMs: 300, nonBlocking, stdin: "inherit", engine });
      lines.push(cmd + " returned");
    } catch (e) {
      lines.push(cmd + " " + nonBlocking + " " + e.code + " " + Math.round(performance.now() - started - 300));
    }
  }
}
console.log(lines.join("\\n"));`,
    { stdin: "open", killMs: 30_000 },
  );
  assertClean(result);
  const lines = result.stdout.trim().split("\n");
  console.log(`stop latency after the deadline (ms): ${lines.join("; ")}`);
  assert.equal(lines.length, 4);
  for (const line of lines) {
    const [, , code, late] = line.split(" ");
    assert.equal(Number(code), TrapCode.Interrupt, line);
    assert.ok(Number(late) < 2000, line);
  }
});

Deno.test("H3: a WasiConfig store with async WASI can be driven by callAsync with a signal", async () => {
  using engine = new Engine({ epochInterruption: true });
  using module = new Module(engine, await Deno.readFile(blocking));
  using wasi = new WasiConfig().args(["b", "sleep", "3600"]);
  using store = new Store(engine, { wasi });
  const { Linker } = await import("../mod.ts");
  using linker = new Linker(engine).defineWasi({ async: true });
  const instance = await linker.instantiateAsync(store, module);
  const started = performance.now();
  await assert.rejects(
    () => instance.getFunc("_start")!.callAsyncWith({ signal: AbortSignal.timeout(200) }),
    (e: unknown) => e instanceof Trap && e.code === TrapCode.Interrupt,
  );
  console.log(
    `abort after 200 ms stopped the sleep at ${Math.round(performance.now() - started)} ms`,
  );
  assert.equal(wasi.stdout.text(), "before\n");
});

Deno.test("H4: an engine with sharedMemory refuses deadlines that memory.atomic.wait would break", async () => {
  using engine = new Engine({ epochInterruption: true, sharedMemory: true });
  using store = new Store(engine);
  using module = new Module(
    engine,
    `(module (memory 1 1 shared) (func (export "wait") (result i32)
      (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const -1))))`,
  );
  const wait = new Instance(store, module, []).getFunc("wait")!;
  assert.throws(() => wait.callWith({ timeoutMs: 100 }), /memory\.atomic\.wait/);
  await assert.rejects(() => wait.callAsyncWith({ timeoutMs: 100 }), /memory\.atomic\.wait/);
  await assert.rejects(
    () => wait.callAsyncWith({ signal: AbortSignal.timeout(100) }),
    /memory\.atomic\.wait/,
  );
});

Deno.test("host calls from deep JS and deep wasm end in a result or an error, never an abort", async () => {
  const result = await runIsolated(`
import { Engine, Func, FuncType, Instance, Module, Store } from ${JSON.stringify(MOD_URL)};
const engine = new Engine();
const store = new Store(engine);
let rec;
const h = new Func(store, new FuncType(["i32"], ["i32"]), (_c, n) => rec(n));
const f = new Instance(store, new Module(engine, \`(module (import "" "h" (func $h (param i32) (result i32)))
  (func $f (export "f") (param i32) (result i32) (local i64 i64 i64 i64 i64 i64 i64 i64)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
      (else (i32.add (call $h (i32.sub (local.get 0) (i32.const 1))) (i32.const 1))))))\`), [h]).getFunc("f");
rec = (n) => f.call(n);
let max = 0;
const probe = (d) => { max = d; probe(d + 1); };
try { probe(0); } catch { /* measured */ }
let wrong = 0, ok = 0;
function at(depth, n) {
  if (depth > 0) return at(depth - 1, n);
  try { if (f.call(n) === n) ok++; else wrong++; } catch { /* a Trap or a RangeError */ }
}
for (const fraction of [0, 0.3, 0.6, 0.9]) {
  for (const n of [10, 300, 3000, 10000]) {
    try { at(Math.floor(max * fraction), n); } catch { /* RangeError on the way down */ }
  }
}
console.log(JSON.stringify({ wrong, ok: ok > 0 }));`);
  assertClean(result);
  assert.equal(result.stdout.trim(), JSON.stringify({ wrong: 0, ok: true }));
});

// ---- found by the attacker review of this hardening ----------------------------------------

Deno.test("synchronous calls into a store with async WASI run as futures, never abort", async () => {
  const result = await runIsolated(`
import { Engine, Linker, Module, Store } from ${JSON.stringify(MOD_URL)};
import { WasiConfig } from ${JSON.stringify(WASI_URL)};
const engine = new Engine({ epochInterruption: true });
const wasi = new WasiConfig().args(["b", "sleep", "3600"]);
const store = new Store(engine, { wasi });
const linker = new Linker(engine).defineWasi({ async: true });
const module = new Module(engine, Deno.readFileSync(${JSON.stringify(blocking)}));
const instance = linker.instantiate(store, module); // sync instantiate drives the future too
const start = instance.getFunc("_start");
const outcome = (call) => { try { call(); return "returned"; } catch (e) { return e.name + " " + (e.code ?? ""); } };
console.log(outcome(() => start.typed([], [])()));
const t0 = performance.now();
console.log(outcome(() => start.callWith({ timeoutMs: 200 })), performance.now() - t0 < 2000);
console.log(JSON.stringify(wasi.stdout.text()));`);
  assertClean(result);
  assert.deepEqual(result.stdout.trim().split("\n"), [
    "WasmtimeError ",
    "Trap 10 true",
    JSON.stringify("before\n"),
  ]);
});

Deno.test("stdin { file } that leads to a pipe or a FIFO is refused (no check by a pseudo path, no hang)", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "wasmtime-deno-fifo-" });
  Deno.symlinkSync("/proc/self/fd/0", join(dir, "pipe-link"));
  const fifo = join(dir, "fifo");
  const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
  assert.ok(made.success, "mkfifo failed");
  const result = await runIsolated(
    `
import { runWasi } from ${JSON.stringify(WASI_URL)};
Deno.chdir(${JSON.stringify(dir)});
for (const file of ["pipe-link", "fifo", "."]) {
  try {
    await runWasi(${
      JSON.stringify(probe)
    }, { args: ["p", "cat"], stdin: { file }, timeoutMs: 500 });
    console.log("ran");
  } catch (e) { console.log(e.name + ": " + e.message); }
}`,
    { stdin: "open", killMs: 20_000 },
  );
  assertClean(result);
  const [pipe, fifoLine, directory] = result.stdout.trim().split("\n");
  assert.match(pipe, /WasmtimeError: .*pipe:\[\d+\], which is not a file/);
  assert.match(fifoLine, /WasmtimeError: .*is not a regular file/);
  assert.match(directory, /WasmtimeError: /);
});

Deno.test("a multi-value host result whose element getter re-enters the guest keeps its values", () => {
  using engine = new Engine();
  using store = new Store(engine);
  let again: () => unknown = () => 0;
  let depth = 0;
  const pair = new Func(store, new FuncType([], ["i32", "i32"]), () => {
    if (++depth > 1) return [2000, 2001];
    const result = [10, 0];
    Object.defineProperty(result, 1, {
      get() {
        again();
        return 11;
      },
    });
    return result;
  });
  const instance = new Instance(
    store,
    new Module(
      engine,
      `(module (import "" "pair" (func $pair (result i32 i32)))
        (func (export "run") (result i32 i32) (call $pair)))`,
    ),
    [pair],
  );
  again = () => instance.getFunc("run")!.call();
  assert.deepEqual(instance.getFunc("run")!.call(), [10, 11]);
});

Deno.test("many nonBlocking guests waiting in WASI hold few of Deno's pool threads", async () => {
  const { poolWaitCount } = await import("../src/core/async.ts");
  using engine = new Engine({ epochInterruption: true });
  using module = new Module(engine, await Deno.readFile(blocking));
  const runs = Array.from(
    { length: 24 },
    () => runWasi(module, { engine, args: ["b", "sleep"], timeoutMs: 400, nonBlocking: true }),
  );
  await new Promise((resolve) => setTimeout(resolve, 200));
  const held = poolWaitCount();
  const outcomes = await Promise.allSettled(runs);
  assert.ok(held <= 4, `${held} pool threads held by waiting guests`);
  for (const outcome of outcomes) {
    assert.equal(outcome.status, "rejected");
    const reason = (outcome as PromiseRejectedResult).reason;
    assert.ok(reason instanceof Trap && reason.code === TrapCode.Interrupt, String(reason));
  }
});

Deno.test("H3: a reactor export blocked in WASI is stopped by callWith({ timeoutMs })", async () => {
  const reactor = await compileC("reactor", ["-mexec-model=reactor"]);
  const { instantiateWasi } = await import("../wasi.ts");
  using guest = await instantiateWasi(reactor, { timeoutMs: 10_000 });
  const nap = guest.instance.getFunc("nap")!;
  const started = performance.now();
  assert.throws(
    () => nap.callWith({ timeoutMs: 200 }, 3600),
    (e: unknown) => e instanceof Trap && e.code === TrapCode.Interrupt,
  );
  const late = performance.now() - started - 200;
  console.log(`reactor nap(3600) stopped ${late.toFixed(1)} ms after its deadline`);
  assert.ok(late < 2000);
  // The store stays usable, synchronously.
  assert.equal(guest.instance.getFunc("next")!.call(), 101);
});

Deno.test("the kernel's /proc, /sys and /dev reach a guest only with every permission, as in Deno", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "wasmtime-deno-proc-" });
  Deno.symlinkSync("/proc/self/environ", join(dir, "environ"));
  const body = `
import { runWasi } from ${JSON.stringify(WASI_URL)};
for (const spec of [{ stdin: { file: "/proc/self/environ" } }, { stdin: { file: ${
    JSON.stringify(join(dir, "environ"))
  } } }, { preopens: [["/", "/r"]] }]) {
  try {
    const r = await runWasi(${JSON.stringify(probe)}, { args: ["p", "cat"], ...spec });
    console.log("read " + r.stdout.length);
  } catch (e) { console.log(e.name); }
}`;
  const narrow = await runIsolated(body, {
    flags: ["--allow-read", "--allow-ffi", (await appFlags())[0]],
  });
  assertClean(narrow);
  assert.deepEqual(narrow.stdout.trim().split("\n"), [
    "PermissionError",
    "PermissionError",
    "PermissionError",
  ]);
  const all = await runIsolated(body, { flags: ["-A"] });
  assertClean(all);
  assert.match(all.stdout, /^read [1-9]\d*$/m, "with --allow-all the guest may read them");
});
