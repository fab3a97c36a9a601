/**
 * `deno task bench [--quick]`: the binding side by side with its references, in one run.
 *
 * - native floor: bench/native/harness.c, compiled now with `cc` against the same libwasmtime
 *   and the crate's headers (checked and unchecked calls, host round trip, compute kernels);
 * - V8: the same wasm bytes through Deno's built-in `WebAssembly`;
 * - wasmtime-py (PyPI `wasmtime` 48, installed into a venv in the cache) when Python exists;
 * - jco (npm `@bytecodealliance/jco`, its transpiled JS cached in the library cache) for the
 *   component rows (bench/component_bench.ts); the rows say so when npm cannot be reached.
 *
 * Prints a table of medians with ratios to each case's reference and writes bench/results.json.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Engine, Instance, Linker, Module, Store, wat2wasm } from "../mod.ts";
import { cacheRoot } from "../src/package/cache.ts";
import { runWasi } from "../wasi.ts";
import { CALL_WAT_PATH, callFixture } from "./support.ts";
import {
  type BenchExports as ComponentBenchExports,
  binding as componentBinding,
  jco,
  JCO_VERSION,
} from "./component_bench.ts";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const quick = Deno.args.includes("--quick");
const CALLS = quick ? 300_000 : 2_000_000;
const KERNEL = quick
  ? { sha256: 16 << 20, nbody: 300_000, matmulN: 128, matmulReps: 2, interp: 30_000_000 }
  : { sha256: 64 << 20, nbody: 1_000_000, matmulN: 128, matmulReps: 6, interp: 100_000_000 };
const RUNS = 5;

interface Row {
  group: string;
  name: string;
  value: number;
  unit: string;
  reference?: string;
  target?: string;
  /** Show the ratio as a speed-up over the reference. */
  faster?: boolean;
}
const rows: Row[] = [];
const add = (row: Row) => rows.push(row);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

/** Median ns per iteration of `body` over RUNS runs of `n` iterations. */
function perCall(n: number, body: (i: number) => void): number {
  for (let i = 0; i < Math.min(n, 100_000); i++) body(i); // warm up the JIT
  const runs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t = performance.now();
    for (let i = 0; i < n; i++) body(i);
    runs.push(((performance.now() - t) * 1e6) / n);
  }
  return median(runs);
}

/** Median ms of `body`. */
function timed(body: () => void, runs = RUNS): number {
  const samples: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    body();
    samples.push(performance.now() - t);
  }
  return median(samples);
}

async function run(command: string, args: string[], env?: Record<string, string>) {
  const output = await new Deno.Command(command, { args, env, stdout: "piped", stderr: "piped" })
    .output();
  return {
    ok: output.success,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

const libraryPath =
  (await run(Deno.execPath(), ["run", "-A", join(ROOT, "tasks/build_native.ts"), "--print-path"]))
    .stdout.trim();
const include = join(dirname(libraryPath), "include");
const work = await Deno.makeTempDir({ prefix: "wasmtime-deno-bench-" });

// ---- build the kernels and the native harness ----------------------------------------------------
const kernelsPath = join(work, "kernels.wasm");
const clang = await run("clang-16", [
  "--target=wasm32",
  "-O2",
  "-mbulk-memory",
  "-nostdlib",
  "-Wl,--no-entry",
  "-Wl,--export-memory",
  "-o",
  kernelsPath,
  join(ROOT, "bench/kernels/kernels.c"),
]).catch((e) => ({ ok: false, stdout: "", stderr: String(e) }));
if (!clang.ok) throw new Error(`clang-16 is needed for the compute kernels: ${clang.stderr}`);
const harnessPath = join(work, "harness");
const cc = await run("cc", [
  "-O2",
  "-I",
  include,
  "-o",
  harnessPath,
  join(ROOT, "bench/native/harness.c"),
  libraryPath,
  `-Wl,-rpath,${dirname(libraryPath)}`,
]);
if (!cc.ok) throw new Error(`cc failed on the native harness: ${cc.stderr}`);
console.error("bench: running the native harness");
const native = await run(harnessPath, [
  kernelsPath,
  String(CALLS),
  String(KERNEL.sha256),
  String(KERNEL.nbody),
  String(KERNEL.matmulN),
  String(KERNEL.matmulReps),
  String(KERNEL.interp),
]);
if (!native.ok) throw new Error(`native harness failed: ${native.stderr}`);
const nativeResults = new Map<string, number>(
  native.stdout.trim().split("\n").map((line) => {
    const row = JSON.parse(line);
    return [row.case, row.value];
  }),
);

// ---- call paths ------------------------------------------------------------------------------------
console.error("bench: call paths");
{
  using fixture = callFixture();
  const { add: addFunc, typedAdd, callHost, v8 } = fixture;
  let sink = 0;
  const unchecked = nativeResults.get("add: native unchecked")!;
  const checked = nativeResults.get("add: native checked")!;
  add({
    group: "call add(i32,i32)",
    name: "native unchecked (floor)",
    value: unchecked,
    unit: "ns",
  });
  add({ group: "call add(i32,i32)", name: "native checked", value: checked, unit: "ns" });
  add({
    group: "call add(i32,i32)",
    name: "typed()",
    value: perCall(CALLS, (i) => sink += typedAdd(i & 0xff, 2)),
    unit: "ns",
    reference: "native unchecked (floor)",
    target: "<= 2.5x",
  });
  add({
    group: "call add(i32,i32)",
    name: "call()",
    value: perCall(CALLS, (i) => sink += addFunc.call(i & 0xff, 2) as number),
    unit: "ns",
    reference: "native checked",
    target: "<= 1.3x",
  });
  add({
    group: "call add(i32,i32)",
    name: "V8 WebAssembly",
    value: perCall(CALLS, (i) => sink += v8.add(i & 0xff, 2)),
    unit: "ns",
    reference: "native unchecked (floor)",
  });
  add({
    group: "host round trip",
    name: "native",
    value: nativeResults.get("host round trip: native")!,
    unit: "ns",
  });
  add({
    group: "host round trip",
    name: "V8 WebAssembly",
    value: perCall(CALLS, (i) => sink += v8.call_host(i & 0xff)),
    unit: "ns",
  });
  add({
    group: "host round trip",
    name: "typed() host function",
    value: perCall(CALLS, (i) => sink += callHost(i & 0xff) as number),
    unit: "ns",
    reference: "V8 WebAssembly",
    target: "<= 250 ns and <= 12x V8",
  });
  if (sink === 42) console.log("");
}

// ---- Deno.bench micro cases (bench/*_bench.ts) --------------------------------------------------
console.error("bench: Deno.bench micro cases");
{
  const result = await run(Deno.execPath(), ["bench", "-A", "--json", join(ROOT, "bench")]);
  if (!result.ok) throw new Error(`deno bench failed: ${result.stderr}`);
  const report = JSON.parse(result.stdout) as {
    benches: {
      group: string | null;
      name: string;
      results: { ok?: { avg: number; p75: number } }[];
    }[];
  };
  for (const bench of report.benches) {
    const ok = bench.results[0]?.ok;
    if (!ok) continue;
    add({
      group: `Deno.bench: ${bench.group ?? "ungrouped"} (p75)`,
      name: bench.name,
      value: ok.p75,
      unit: "ns",
    });
  }
}

// ---- wasmtime-py ------------------------------------------------------------------------------------
async function wasmtimePy(): Promise<void> {
  const venv = join(cacheRoot(), "bench-venv");
  const python = join(venv, "bin", "python");
  try {
    await Deno.stat(python);
  } catch {
    console.error("bench: installing wasmtime-py into a venv (once)");
    const made = await run("python3", ["-m", "venv", venv]).catch(() => ({
      ok: false,
      stderr: "no python3",
    }));
    if (!made.ok) return console.error(`bench: skipping wasmtime-py (${made.stderr.trim()})`);
    const pip = await run(python, ["-m", "pip", "install", "-q", "wasmtime>=48,<49"]);
    if (!pip.ok) return console.error(`bench: skipping wasmtime-py (pip: ${pip.stderr.trim()})`);
  }
  const n = quick ? 20_000 : 100_000;
  const script = join(ROOT, "bench/wasmtime_py.py");
  const result = await run(python, [script, CALL_WAT_PATH, String(n)]);
  if (!result.ok) return console.error(`bench: wasmtime-py failed: ${result.stderr.trim()}`);
  const py = JSON.parse(result.stdout);
  add({
    group: "call add(i32,i32)",
    name: `wasmtime-py ${py.version}`,
    value: py.add,
    unit: "ns",
    reference: "typed()",
  });
  add({
    group: "host round trip",
    name: `wasmtime-py ${py.version}`,
    value: py.host,
    unit: "ns",
    reference: "typed() host function",
  });
}
await wasmtimePy();

// ---- compute kernels ------------------------------------------------------------------------------
console.error("bench: compute kernels");
{
  const bytes = await Deno.readFile(kernelsPath);
  using engine = new Engine();
  using asyncEngine = new Engine({ epochInterruption: true });
  using winchEngine = new Engine({ strategy: "winch" });
  using module = new Module(engine, bytes);
  using asyncModule = new Module(asyncEngine, bytes);
  using winchModule = new Module(winchEngine, bytes);
  using winchStore = new Store(winchEngine);
  using store = new Store(engine);
  using asyncStore = new Store(asyncEngine);
  const instance = new Instance(store, module, []);
  const asyncInstance = new Instance(asyncStore, asyncModule, []);
  const winchInstance = new Instance(winchStore, winchModule, []);
  const v8 = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as
    & Record<
      string,
      CallableFunction
    >
    & { memory: WebAssembly.Memory };
  const fill = (memory: Uint8Array, at: number) => {
    for (let i = 0; i < KERNEL.sha256; i++) memory[at + i] = (i * 31) & 0xff;
  };
  const at = instance.getFunc("buffer")!.call() as number;
  fill(new Uint8Array(instance.getMemory("memory")!.buffer), at);
  fill(new Uint8Array(asyncInstance.getMemory("memory")!.buffer), at);
  fill(new Uint8Array(winchInstance.getMemory("memory")!.buffer), at);
  fill(new Uint8Array(v8.memory.buffer), (v8.buffer as () => number)());
  const cases: [string, unknown[]][] = [
    ["sha256", [KERNEL.sha256]],
    ["nbody", [KERNEL.nbody]],
    ["matmul", [KERNEL.matmulN, KERNEL.matmulReps]],
    ["interp", [KERNEL.interp]],
  ];
  for (const [name, args] of cases) {
    const group = `compute: ${name}`;
    const func = instance.getFunc(name)!;
    const asyncFunc = asyncInstance.getFunc(name)!;
    const winchFunc = winchInstance.getFunc(name)!;
    add({ group, name: "native", value: nativeResults.get(`${name}: native`)!, unit: "ms" });
    add({
      group,
      name: "binding (sync)",
      value: timed(() => func.call(...args)),
      unit: "ms",
      reference: "native",
      target: "<= 1.02x",
    });
    // Winch, the baseline compiler: faster to compile, slower to run (see start-up).
    add({
      group,
      name: "binding (sync, winch)",
      value: timed(() => winchFunc.call(...args)),
      unit: "ms",
      reference: "binding (sync)",
    });
    // Async calls need an engine with epoch interruption, whose instrumented loops cost time
    // of their own: measured separately from the cost of the async machinery.
    add({
      group,
      name: "binding (sync, epoch engine)",
      value: timed(() => asyncFunc.call(...args)),
      unit: "ms",
      reference: "binding (sync)",
    });
    const asyncRuns: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const t = performance.now();
      await asyncFunc.callAsync(...args);
      asyncRuns.push(performance.now() - t);
    }
    add({
      group,
      name: "binding (callAsync, epoch engine)",
      value: median(asyncRuns),
      unit: "ms",
      reference: "binding (sync, epoch engine)",
      target: "<= 1.10x",
    });
    add({
      group,
      name: "V8 WebAssembly",
      value: timed(() => v8[name](...args)),
      unit: "ms",
      reference: "native",
    });
  }
  // Event-loop latency while a CPU-bound guest runs under callAsync.
  const delays: number[] = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    delays.push(now - last);
    last = now;
  }, 5);
  await asyncInstance.getFunc("interp")!.callAsync(KERNEL.interp * 2);
  clearInterval(timer);
  const sorted = delays.sort((a, b) => a - b);
  add({
    group: "event loop during callAsync",
    name: "5 ms timer interval, median",
    value: median(sorted),
    unit: "ms",
  });
  add({
    group: "event loop during callAsync",
    name: "5 ms timer interval, p99",
    value: sorted[Math.floor(sorted.length * 0.99)] ?? NaN,
    unit: "ms",
  });
}

// ---- start-up ------------------------------------------------------------------------------------
console.error("bench: start-up");
{
  // A module of several MB: many functions with some arithmetic each.
  const functions = quick ? 3_000 : 12_000;
  const body = Array.from(
    { length: 40 },
    (_, k) => `local.get 0 i32.const ${k * 7919} i32.add i32.const ${k + 3} i32.mul local.set 0`,
  ).join(" ");
  let wat = "(module\n";
  for (let i = 0; i < functions; i++) {
    wat += `(func (export "f${i}") (param i32) (result i32) ${body} local.get 0)\n`;
  }
  wat += ")";
  const big = wat2wasm(wat);
  using engine = new Engine();
  const compileMs = timed(() => new Module(engine, big)[Symbol.dispose](), 3);
  const cwasm = join(work, "big.cwasm");
  Deno.writeFileSync(cwasm, engine.precompile(big));
  const loadMs = timed(() => Module.deserializeFile(engine, cwasm)[Symbol.dispose]());
  const group = `start-up (${(big.length / 1e6).toFixed(1)} MB wasm, ${
    (Deno.statSync(cwasm).size / 1e6).toFixed(1)
  } MB compiled)`;
  add({ group, name: "compile", value: compileMs, unit: "ms" });
  {
    using winch = new Engine({ strategy: "winch" });
    add({
      group,
      name: "compile (winch)",
      value: timed(() => new Module(winch, big)[Symbol.dispose](), 3),
      unit: "ms",
      reference: "compile",
      faster: true,
    });
  }
  // Module.compile runs on Deno's blocking pool: the longest gap between 5 ms timer ticks.
  for (const how of ["new Module", "Module.compile"] as const) {
    let last = performance.now();
    let gap = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      gap = Math.max(gap, now - last);
      last = now;
    }, 5);
    last = performance.now();
    const module = how === "new Module"
      ? new Module(engine, big)
      : await Module.compile(engine, big);
    await new Promise((resolve) => setTimeout(resolve, 10));
    clearInterval(timer);
    module[Symbol.dispose]();
    add({ group, name: `longest event-loop gap during ${how}`, value: gap, unit: "ms" });
  }
  add({
    group,
    name: "Module.deserializeFile",
    value: loadMs,
    unit: "ms",
    reference: "compile",
    target: ">= 50x faster",
    faster: true,
  });
  const cacheDir = join(work, "module-cache");
  Module.cached(engine, big, { dir: cacheDir })[Symbol.dispose]();
  add({
    group,
    name: "Module.cached (hit)",
    value: timed(() => Module.cached(engine, big, { dir: cacheDir })[Symbol.dispose]()),
    unit: "ms",
    reference: "compile",
    faster: true,
  });

  const small = `(module (memory 1) (global (mut i32) (i32.const 0))
    (func (export "f") (result i32) i32.const 1))`;
  for (const [label, options] of [["default", {}], ["pooling", { pooling: true }]] as const) {
    using e = new Engine(options);
    using m = Module.deserialize(e, e.precompile(small));
    using linker = new Linker(e);
    using pre = linker.instantiatePre(m);
    const n = quick ? 2_000 : 10_000;
    add({
      group: "instantiate a small precompiled module",
      name: `new Store + new Instance (${label})`,
      value: perCall(n, () => {
        using s = new Store(e);
        new Instance(s, m, []);
      }) / 1000,
      unit: "µs",
    });
    add({
      group: "instantiate a small precompiled module",
      name: `new Store + InstancePre.instantiate (${label})`,
      value: perCall(n, () => {
        using s = new Store(e);
        pre.instantiate(s);
      }) / 1000,
      unit: "µs",
      target: "<= 50 µs",
    });
  }
}

// ---- host <-> linear memory ------------------------------------------------------------------------
console.error("bench: memory copies");
{
  using engine = new Engine();
  using store = new Store(engine);
  using module = new Module(engine, `(module (memory (export "m") 1025))`);
  const memory = new Instance(store, module, []).getMemory("m")!;
  const size = 64 << 20;
  const source = new Uint8Array(size).fill(7);
  const sink = new Uint8Array(size);
  const view = new Uint8Array(memory.buffer, 0, size);
  const gbps = (ms: number) => size / 1e6 / ms;
  add({
    group: "host <-> linear memory, 64 MiB",
    name: "copy in (zero-copy view .set)",
    value: gbps(timed(() => view.set(source))),
    unit: "GB/s",
    target: ">= 5 GB/s",
  });
  add({
    group: "host <-> linear memory, 64 MiB",
    name: "copy out (zero-copy view)",
    value: gbps(timed(() => sink.set(view))),
    unit: "GB/s",
    target: ">= 5 GB/s",
  });
  add({
    group: "host <-> linear memory, 64 MiB",
    name: "Memory.read (copying API)",
    value: gbps(timed(() => memory.read(0, size))),
    unit: "GB/s",
  });
}

// ---- WASI stdout capture ---------------------------------------------------------------------------
console.error("bench: WASI stdout capture");
{
  const megabytes = quick ? 32 : 100;
  const probe = join(work, "probe.wasm");
  const built = await run("clang-16", [
    "--target=wasm32-wasi",
    "-O2",
    "-o",
    probe,
    join(ROOT, "tests/fixtures/wasi/probe.c"),
  ]);
  if (built.ok) {
    const samples: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t = performance.now();
      const result = await runWasi(probe, { args: ["probe", "big", String(megabytes)] });
      samples.push(performance.now() - t);
      if (result.stdout.length !== megabytes << 20) throw new Error("short capture");
    }
    add({
      group: `WASI stdout capture (${megabytes} MiB in 64 KiB writes)`,
      name: "runWasi, captured",
      value: (megabytes * 1.048576) / (median(samples) / 1000),
      unit: "MB/s",
      target: ">= 500 MB/s",
    });
  }
}

// ---- components: the binding and jco's transpiled JS, same component, same process ---------------
console.error("bench: components (binding and jco)");
{
  const ours = componentBinding();
  const theirs = await jco(join(cacheRoot(), "bench-jco"));
  const text100 = "héllo, wörld ".repeat(8).slice(0, 100);
  const text1m = "abcdefghijklmnop".repeat(1 << 16);
  const bytes1m = new Uint8Array(1 << 20).map((_, i) => i & 0xff);
  const record = { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10 };
  const small = quick ? 100_000 : 500_000;
  const big = quick ? 100 : 400;
  const cases: {
    group: string;
    n: number;
    target?: string;
    body: (e: ComponentBenchExports) => (i: number) => void;
  }[] = [
    { group: "empty()", n: small, body: (e) => () => e.empty() },
    {
      group: "add(u32, u32)",
      n: small,
      target: "<= 500 ns, >= 10x faster than jco",
      body: (e) => (i) => {
        if (e.add(i, 1) !== i + 1) throw new Error("wrong sum");
      },
    },
    {
      group: "string round trip, 100 chars",
      n: small / 2,
      body: (e) => () => {
        if (e.echoString(text100) !== text100) throw new Error("wrong string");
      },
    },
    {
      group: "string round trip, 1 MiB",
      n: big,
      target: "<= 1 ms",
      body: (e) => () => {
        if (e.echoString(text1m).length !== text1m.length) throw new Error("wrong string");
      },
    },
    {
      group: "list<u8> round trip, 1 MiB",
      n: big,
      body: (e) => () => {
        if (e.echoBytes(bytes1m).length !== bytes1m.length) throw new Error("wrong bytes");
      },
    },
    {
      group: "record of 10 fields round trip",
      n: small / 2,
      body: (e) => () => {
        if (e["local:bench/records"].echoRecord(record).j !== 10) throw new Error("wrong record");
      },
    },
  ];
  for (const { group, n, target, body } of cases) {
    const name = `component ${group}`;
    const jcoName = `jco ${JCO_VERSION} transpiled`;
    if (typeof theirs === "string") {
      add({
        group: name,
        name: "binding",
        value: perCall(n, body(ours.exports)),
        unit: "ns",
        target,
      });
      add({ group: name, name: jcoName, value: NaN, unit: "ns", target: theirs });
      continue;
    }
    add({ group: name, name: jcoName, value: perCall(n, body(theirs)), unit: "ns" });
    add({
      group: name,
      name: "binding",
      value: perCall(n, body(ours.exports)),
      unit: "ns",
      reference: jcoName,
      target,
    });
  }
  ours.dispose();
}

// ---- report ------------------------------------------------------------------------------------------
const byName = new Map(rows.map((r) => [`${r.group}\u0000${r.name}`, r]));
let group = "";
const table: string[] = [];
for (const row of rows) {
  if (row.group !== group) {
    group = row.group;
    table.push(`\n${group}`);
  }
  const reference = row.reference ? byName.get(`${row.group}\u0000${row.reference}`) : undefined;
  const ratio = !reference
    ? ""
    : row.faster
    ? `${(reference.value / row.value).toFixed(0)}x faster than ${row.reference}`
    : `${(row.value / reference.value).toFixed(2)}x ${row.reference}`;
  table.push(
    `  ${row.name.padEnd(44)} ${row.value.toFixed(row.value < 10 ? 2 : 1).padStart(10)} ${
      row.unit.padEnd(5)
    } ${ratio.padEnd(38)} ${row.target ?? ""}`,
  );
}
console.log(`wasmtime-deno benchmarks (${quick ? "quick" : "full"}), Deno ${Deno.version.deno}`);
console.log(table.join("\n"));
await Deno.writeTextFile(
  join(ROOT, "bench/results.json"),
  JSON.stringify({ date: new Date().toISOString(), quick, deno: Deno.version.deno, rows }, null, 2),
);
console.log("\nwrote bench/results.json");
await Deno.remove(work, { recursive: true });
