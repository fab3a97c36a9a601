/**
 * wasi-threads: `runWasi(..., { threads: true })` with WAT programs written against the ABI
 * (tests/fixtures/wasi_threads.ts). Runs that end with threads left computing or parked run in
 * subprocesses, which must then exit on their own.
 */
import assert from "node:assert/strict";
import { Engine, Module, TrapCode, wat2wasm } from "../mod.ts";
import { runWasi, WasiTrap } from "../wasi.ts";
import { appFlags, assertClean, runIsolated } from "./helpers.ts";
import { expectedTotal, type ThreadsProgram, threadsProgram } from "./fixtures/wasi_threads.ts";

const WASI_URL = new URL("../wasi.ts", import.meta.url).href;
const MOD = new URL("../mod.ts", import.meta.url).href;
const FIXTURE_URL = new URL("./fixtures/wasi_threads.ts", import.meta.url).href;

function program(options: ThreadsProgram): Uint8Array {
  return wat2wasm(threadsProgram(options));
}

/** Runs `program` with runWasi `options` in a subprocess; prints what the run ended with. */
async function isolated(options: ThreadsProgram, run: Record<string, unknown> = {}) {
  return (await timedIsolated(options, run, {})).outcome;
}

/**
 * `isolated`, also measuring how long the run took to settle and how long the process then took
 * to exit on its own (from the settlement to the parent seeing it gone).
 */
async function timedIsolated(
  options: ThreadsProgram,
  run: Record<string, unknown>,
  { stdin, killMs = 20_000 }: { stdin?: "open"; killMs?: number },
) {
  const result = await runIsolated(
    `
const { wat2wasm } = await import(${JSON.stringify(MOD)});
const { runWasi } = await import(${JSON.stringify(WASI_URL)});
const { threadsProgram } = await import(${JSON.stringify(FIXTURE_URL)});
const started = performance.now();
try {
  const r = await runWasi(wat2wasm(threadsProgram(${
      JSON.stringify(options)
    })), { threads: true, ...${JSON.stringify(run)} });
  console.log(JSON.stringify({ exitCode: r.exitCode, stdout: r.stdoutText }));
} catch (e) {
  console.log(JSON.stringify({ error: e.name, code: e.code, stdout: e.stdout && new TextDecoder().decode(e.stdout) }));
}
console.log(JSON.stringify({ runMs: performance.now() - started, settledAt: Date.now() }));
`,
    { killMs, stdin },
  );
  const exitMs = Date.now();
  assertClean(result); // in particular: the process exits, no thread is left parked or blocked
  const [outcome, timing] = result.stdout.trim().split("\n").map((line) => JSON.parse(line));
  return { outcome, runMs: timing.runMs as number, exitMs: exitMs - timing.settledAt };
}

Deno.test("wasi-threads: a program spawning N threads gets the right total", async () => {
  for (const threads of [1, 3]) {
    const result = await runWasi(program({ threads, items: 24, rounds: 2000 }), { threads: true });
    assert.equal(result.exitCode, 0);
    assert.equal(result.stdoutText, `${expectedTotal(24, 2000)}\n`);
  }
});

Deno.test("wasi-threads: threads write into the run's one captured stdout", async () => {
  const result = await runWasi(program({ threads: 2, items: 4, rounds: 10, first: "print" }), {
    threads: true,
  });
  assert.equal(result.stdoutText, `4242\n${expectedTotal(4, 10)}\n`);
});

Deno.test("wasi-threads: a compiled Module and its engine are used as given", async () => {
  using engine = new Engine({ threads: true, sharedMemory: true, epochInterruption: true });
  using module = new Module(engine, program({ threads: 2, items: 8, rounds: 100 }));
  const result = await runWasi(module, { threads: true });
  assert.equal(result.stdoutText, `${expectedTotal(8, 100)}\n`);
  assert.equal(engine.disposed, false);
});

Deno.test("wasi-threads: refused setups say what to change", async () => {
  const wasm = program({ threads: 1, items: 1 });
  await assert.rejects(
    runWasi(wasm, { threads: true, link: () => {} }),
    /link and imports cannot be used/,
  );
  await assert.rejects(runWasi(wasm, { threads: true, stdout: { file: "x" } }), /stdout must be/);
  await assert.rejects(runWasi(wasm, { threads: true, maxThreads: 0 }), /maxThreads/);
  using plain = new Engine({ threads: true, sharedMemory: true });
  await assert.rejects(runWasi(wasm, { threads: true, engine: plain }), /epochInterruption/);
  const unshared = wat2wasm(`(module (import "env" "memory" (memory 1 1))
    (export "memory" (memory 0)) (func (export "_start")))`);
  await assert.rejects(runWasi(unshared, { threads: true }), /imports exactly one shared memory/);
  await assert.rejects(
    runWasi(wasm, { threads: true, maxMemoryBytes: 1000 }),
    /more than maxMemoryBytes/,
  );
});

Deno.test("wasi-threads: thread-spawn beyond maxThreads fails in the guest", async () => {
  // _start exits with 99 when a spawn fails.
  const result = await runWasi(program({ threads: 3, items: 3, rounds: 10 }), {
    threads: true,
    maxThreads: 2,
  });
  // Threads may finish before the third spawn, so either outcome is legal; 99 must be reachable.
  assert.ok([0, 99].includes(result.exitCode));
  const tight = await runWasi(program({ threads: 3, items: 3, rounds: 10, first: "forever" }), {
    threads: true,
    maxThreads: 1,
  }).catch((error) => error);
  // Thread 1 never ends, so the second spawn must fail: exit 99, and thread 1 is stopped.
  assert.equal(tight.exitCode, 99, String(tight));
});

Deno.test("wasi-threads: proc_exit in a thread ends the run while _start is parked (subprocess)", async () => {
  assert.deepEqual(await isolated({ threads: 2, items: 8, rounds: 10, first: { exit: 7 } }), {
    exitCode: 7,
    stdout: "",
  });
});

Deno.test("wasi-threads: proc_exit in a thread ends the run while _start spins (subprocess)", async () => {
  assert.deepEqual(
    await isolated({ threads: 2, items: 8, rounds: 10, first: { exit: 3 }, wait: "spin" }),
    { exitCode: 3, stdout: "" },
  );
});

Deno.test("wasi-threads: a trap in a thread ends the run with that trap (subprocess)", async () => {
  assert.deepEqual(await isolated({ threads: 2, items: 8, rounds: 10, first: "trap" }), {
    error: "WasiTrap",
    code: TrapCode.UnreachableCodeReached,
    stdout: "",
  });
});

Deno.test("wasi-threads: timeoutMs ends a run whose thread never ends (subprocess)", async () => {
  const started = performance.now();
  const outcome = await isolated({ threads: 2, items: 8, rounds: 10, first: "forever" }, {
    timeoutMs: 300,
  });
  assert.deepEqual(outcome, { error: "WasiTrap", code: TrapCode.Interrupt, stdout: "" });
  assert.ok(performance.now() - started < 15_000, "did not hang");
});

Deno.test("wasi-threads: fuel applies to each thread (subprocess)", async () => {
  assert.deepEqual(
    await isolated({ threads: 2, items: 8, rounds: 10, first: "forever" }, { fuel: 5_000_000 }),
    { error: "WasiTrap", code: TrapCode.OutOfFuel, stdout: "" },
  );
});

Deno.test("wasi-threads: a trap in the only thread is a WasiTrap in-process too (main parked, then woken)", async () => {
  const error = await runWasi(program({ threads: 1, items: 1, rounds: 1, first: "trap" }), {
    threads: true,
  }).catch((e) => e);
  assert.ok(error instanceof WasiTrap);
  assert.equal(error.code, TrapCode.UnreachableCodeReached);
});

Deno.test("wasi-threads: without read access to the package's sources, the run says which grant", async () => {
  // Deno checks a Worker's modules against the permissions: with only the library's flags,
  // every thread used to fail with Deno's "Requires read access to …/thread_worker.ts".
  const sources = new URL("../src/", import.meta.url).pathname;
  const script = `
const { wat2wasm } = await import(${JSON.stringify(MOD)});
const { runWasi } = await import(${JSON.stringify(WASI_URL)});
const { threadsProgram } = await import(${JSON.stringify(FIXTURE_URL)});
try {
  const r = await runWasi(wat2wasm(threadsProgram({ threads: 1, items: 2, rounds: 10 })), { threads: true });
  console.log(JSON.stringify({ exitCode: r.exitCode }));
} catch (e) {
  console.log(JSON.stringify({ error: e.name, message: e.message }));
}`;
  const flags = await appFlags();
  const refused = await runIsolated(script, { flags });
  assertClean(refused);
  const { error, message } = JSON.parse(refused.stdout.trim());
  assert.equal(error, "WasmtimeError");
  assert.ok(message.includes(`--allow-read=${sources}`), message);
  const read = flags.find((f) => f.startsWith("--allow-read="))!;
  const granted = await runIsolated(script, {
    flags: [...flags.filter((f) => f !== read), `${read},${sources}`],
  });
  assertClean(granted);
  assert.deepEqual(JSON.parse(granted.stdout.trim()), { exitCode: 0 });
});

Deno.test("wasi-threads: the end of one run does not stop another run of the same Module", async () => {
  // Every run stopped its threads by advancing the engine's epoch, so the first of two runs of
  // one compiled Module to end trapped the other's threads with Interrupt.
  using engine = new Engine({ threads: true, sharedMemory: true, epochInterruption: true });
  const rounds = 100_000_000; // outlasts the short run (about 1 s against 0.5 s here)
  using long = new Module(engine, program({ threads: 1, items: 4, rounds }));
  using short = new Module(engine, program({ threads: 1, items: 1, rounds: 10 }));
  const running = runWasi(long, { threads: true });
  const quick = await runWasi(short, { threads: true });
  assert.equal(quick.exitCode, 0);
  const result = await running; // rejected with a WasiTrap (Interrupt) before the fix
  assert.equal(result.exitCode, 0);
  assert.match(result.stdoutText, /^\d+\n$/);
});

Deno.test("wasi-threads: options that cannot be posted to the Workers are an error, and the process exits (subprocess)", async () => {
  // postMessage threw after the first Worker was made: the run rejected with a DOMException
  // and that Worker waited for its message forever, so the process never exited.
  const result = await runIsolated(
    `
const { wat2wasm } = await import(${JSON.stringify(MOD)});
const { runWasi } = await import(${JSON.stringify(WASI_URL)});
const { threadsProgram } = await import(${JSON.stringify(FIXTURE_URL)});
try {
  await runWasi(wat2wasm(threadsProgram({ threads: 1, items: 1, rounds: 10 })), {
    threads: true,
    env: { A: Symbol("not a string") },
  });
  console.log(JSON.stringify({ ran: true }));
} catch (e) {
  console.log(JSON.stringify({ error: e.name, message: e.message }));
}`,
    { killMs: 15_000 },
  );
  assertClean(result);
  const { error, message } = JSON.parse(result.stdout.trim());
  assert.equal(error, "WasmtimeError");
  assert.match(message, /cannot be posted to the threads' Workers/);
});

/** Runs a case whose thread is left blocked in WASI; prints the figures; returns the outcome. */
async function blockedCase(
  name: string,
  options: ThreadsProgram,
  run: Record<string, unknown> = {},
  stdin?: "open",
) {
  // A thread blocked in a synchronous WASI call used to keep the process alive for the length
  // of the call (an hour here): the kill timer is generous, the exit must come long before it.
  const { outcome, runMs, exitMs } = await timedIsolated(options, run, { stdin, killMs: 60_000 });
  console.log(`${name}: settled after ${runMs.toFixed(0)} ms, exited ${exitMs} ms later`);
  assert.ok(exitMs < 5_000, `the process took ${exitMs} ms to exit after the run settled`);
  return outcome;
}

Deno.test("wasi-threads: a thread sleeping in poll_oneoff is stopped when _start returns, and the process exits (subprocess)", async () => {
  const outcome = await blockedCase("sleep + _start returns", {
    threads: 2,
    items: 2,
    rounds: 10,
    first: "sleep",
    wait: "blocked",
  });
  assert.deepEqual(outcome, { exitCode: 0, stdout: "" });
});

Deno.test("wasi-threads: a thread sleeping in poll_oneoff is stopped by proc_exit in another thread (subprocess)", async () => {
  const outcome = await blockedCase("sleep + proc_exit", {
    threads: 2,
    items: 2,
    rounds: 10,
    first: "sleep",
    wait: "blocked",
    end: { exit: 5 },
  });
  assert.deepEqual(outcome, { exitCode: 5, stdout: "" });
});

Deno.test("wasi-threads: a thread sleeping in poll_oneoff is stopped by a trap in another thread (subprocess)", async () => {
  const outcome = await blockedCase("sleep + trap", {
    threads: 1,
    items: 1,
    rounds: 10,
    first: "sleep",
    wait: "blocked",
    end: "trap",
  });
  assert.deepEqual(outcome, {
    error: "WasiTrap",
    code: TrapCode.UnreachableCodeReached,
    stdout: "",
  });
});

Deno.test("wasi-threads: a thread sleeping in poll_oneoff is stopped by proc_exit or a trap in a spawned thread (subprocess)", async () => {
  const base = { threads: 2, items: 2, rounds: 10, first: "sleep" } as const;
  assert.deepEqual(
    await blockedCase("sleep + proc_exit in thread 2", { ...base, second: { exit: 6 } }),
    { exitCode: 6, stdout: "" },
  );
  assert.deepEqual(await blockedCase("sleep + trap in thread 2", { ...base, second: "trap" }), {
    error: "WasiTrap",
    code: TrapCode.UnreachableCodeReached,
    stdout: "",
  });
});

Deno.test("wasi-threads: timeoutMs stops two threads sleeping in poll_oneoff (subprocess)", async () => {
  // _start sleeps too, once thread 1 is about to; the deadline is well after both Workers start.
  const outcome = await blockedCase(
    "both sleep + timeoutMs 1500",
    { threads: 2, items: 2, rounds: 10, first: "sleep", wait: "blocked", main: "sleep" },
    { timeoutMs: 1_500 },
  );
  assert.deepEqual(outcome, { error: "WasiTrap", code: TrapCode.Interrupt, stdout: "" });
});

Deno.test("wasi-threads: timeoutMs stops _start blocked on an idle stdin pipe (subprocess)", async () => {
  // The subprocess's stdin is a pipe that stays open and never gets data; only the main thread
  // (the Worker running _start) is given it.
  const outcome = await blockedCase(
    "main reads idle stdin + timeoutMs 1000",
    { threads: 1, items: 1, rounds: 10, main: "read" },
    { timeoutMs: 1_000, stdin: "inherit" },
    "open",
  );
  assert.deepEqual(outcome, { error: "WasiTrap", code: TrapCode.Interrupt, stdout: "" });
});

Deno.test("wasi-threads: a spawned thread reading stdin reads an empty one, not the run's idle pipe (subprocess)", async () => {
  // One reader: the run's stdin goes to the main thread, other threads see end of input at once
  // (and go on with their work), rather than competing for the pipe or waiting on it.
  const outcome = await blockedCase(
    "thread reads stdin",
    { threads: 2, items: 4, rounds: 10, first: "read" },
    { stdin: "inherit", timeoutMs: 20_000 },
    "open",
  );
  assert.deepEqual(outcome, { exitCode: 0, stdout: `${expectedTotal(4, 10)}\n` });
});
