/**
 * Regression tests for the attack review's memory items: aliases of zero-copy buffers (C2),
 * stale views during async calls (C5), stores pinned by view tracking (L1), captured output
 * handed out zero-copy (C3), resource caps of runWasi and the CLI, and output carried by traps.
 * Crash cases run in a subprocess and must exit cleanly with the expected output.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  Engine,
  FuncType,
  Instance,
  Linker,
  type Memory,
  Module,
  Store,
  Trap,
  TrapCode,
  WasmtimeError,
  wat2wasm,
} from "../mod.ts";
import { instantiateWasi, runWasi, WASI_DEFAULT_LIMITS, WasiTrap } from "../wasi.ts";
import { ffi } from "../src/ffi/symbols.ts";
import { memoryStruct } from "../src/core/memory.ts";
import { contextOf, viewStats } from "../src/core/store.ts";
import { parseArgs, runCli, runOptions } from "../src/wasi/command_line.ts";
import { MOD_URL, runIsolated as runIsolatedScript, tempScript } from "./helpers.ts";
import { compileC } from "./wasi_fixtures.ts";

const STORE_URL = new URL("../src/core/store.ts", import.meta.url).href;
const WASI_URL = new URL("../wasi.ts", import.meta.url).href;
const FIXTURES_URL = new URL("./wasi_fixtures.ts", import.meta.url).href;
const WARNING = "a Memory.buffer was transferred";

/** Runs `source` (which may use MOD, STORE, WASI, FIXTURES) in its own Deno process. */
async function runIsolated(source: string) {
  const prelude = `const MOD = ${JSON.stringify(MOD_URL)}; const STORE = ${
    JSON.stringify(STORE_URL)
  }; const WASI = ${JSON.stringify(WASI_URL)}; const FIXTURES = ${JSON.stringify(FIXTURES_URL)};
const { Engine, Instance, Memory, Module, Store } = await import(MOD);
const { isQuarantined } = await import(STORE);
const collect = async () => { for (let i = 0; i < 6; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 10)); } };
`;
  return await runIsolatedScript(prelude + source);
}

function assertClean(result: { code: number; stdout: string; stderr: string }, stdout: string) {
  assert.equal(result.code, 0, `exit ${result.code}\n${result.stdout}\n${result.stderr}`);
  assert.equal(result.stdout, stdout, result.stderr);
}

function occurrences(text: string, part: string): number {
  return text.split(part).length - 1;
}

function baseAddress(store: Store, memory: Memory): bigint {
  const data = ffi().wasmtime_memory_data(contextOf(store, "test"), memoryStruct(memory));
  return BigInt(Deno.UnsafePointer.value(data));
}

// ---- C2: aliases made by transfer --------------------------------------------------------

Deno.test("a transferred Memory.buffer stays readable after its store is disposed", async () => {
  const result = await runIsolated(`
const store = new Store(new Engine());
const memory = new Memory(store, { minimum: 1 });
memory.setUint8(0, 42);
const moved = new Uint8Array(memory.buffer.transfer());
const again = new Uint8Array(structuredClone(memory.buffer, { transfer: [memory.buffer] }));
store[Symbol.dispose]();
await collect();
moved[1] = 7;
console.log("quarantined", isQuarantined(store), "read", moved[0], moved[1], again[0], again[1]);
`);
  assertClean(result, "quarantined true read 42 7 42 7\n");
  assert.equal(occurrences(result.stderr, WARNING), 1, "the warning is printed once");
});

Deno.test("an alias made by structuredClone outlives a store that is only collected", async () => {
  const result = await runIsolated(`
let collected = 0;
const registry = new FinalizationRegistry(() => collected++);
function make() {
  const store = new Store(new Engine());
  registry.register(store, 0);
  const memory = new Memory(store, { minimum: 1 });
  memory.setUint8(0, 9);
  const buffer = memory.buffer;
  return new Uint8Array(structuredClone(buffer, { transfer: [buffer] }));
}
const alias = make();
await collect();
alias[2] = 3;
console.log("collected", collected, "read", alias[0], alias[2]);
`);
  assertClean(result, "collected 1 read 9 3\n");
  assert.match(result.stderr, new RegExp(WARNING));
});

Deno.test("a Memory.buffer transferred to a Worker stays valid there", async () => {
  const worker = await tempScript(`
let alias;
self.onmessage = (event) => {
  if (event.data instanceof ArrayBuffer) {
    alias = new Uint8Array(event.data);
    self.postMessage("got");
  } else {
    alias[1] = 5;
    self.postMessage([alias[0], alias[1], alias.length]);
  }
};`);
  const result = await runIsolated(`
const worker = new Worker(${JSON.stringify(new URL(`file://${worker}`).href)}, { type: "module" });
const reply = () => new Promise((resolve) => (worker.onmessage = (e) => resolve(e.data)));
const engine = new Engine();
const store = new Store(engine);
const memory = new Memory(store, { minimum: 1 });
memory.setUint8(0, 42);
const buffer = memory.buffer;
let next = reply();
worker.postMessage(buffer, [buffer]);
await next;
store[Symbol.dispose]();
await collect();
const other = new Store(engine); // may take the freed memory if it had been freed
new Memory(other, { minimum: 1 }).setUint8(0, 99);
next = reply();
worker.postMessage("read");
console.log("worker read", JSON.stringify(await next), "quarantined", isQuarantined(store));
worker.terminate();
`);
  assertClean(result, "worker read [42,5,65536] quarantined true\n");
});

Deno.test("with pooling, an alias never shows the next store's memory", async () => {
  const result = await runIsolated(`
const engine = new Engine({ pooling: { totalCoreInstances: 4, totalMemories: 4, maxMemorySize: 1 << 20 } });
const module = new Module(engine, '(module (memory (export "m") 1 16))');
const first = new Store(engine);
const mine = new Instance(first, module, []).getMemory("m");
mine.setUint8(0, 65);
const alias = new Uint8Array(mine.buffer.transfer());
first[Symbol.dispose]();
await collect();
const second = new Store(engine);
const theirs = new Instance(second, module, []).getMemory("m");
theirs.setUint8(0, 66);
alias[0] = 1;
console.log("alias", alias[0], "next store", theirs.getUint8(0));
// Without a transfer nothing is kept: the buffer is simply detached.
const third = new Store(engine);
const plain = new Uint8Array(new Instance(third, module, []).getMemory("m").buffer);
third[Symbol.dispose]();
console.log("plain", plain.length, isQuarantined(third));
`);
  assertClean(result, "alias 1 next store 66\nplain 0 false\n");
});

Deno.test("an alias survives the guest growing the memory (32-bit memories never move)", async () => {
  const result = await runIsolated(`
const engine = new Engine();
const store = new Store(engine);
const module = new Module(engine, '(module (memory (export "m") 1) (func (export "grow") (param i32) (result i32) local.get 0 memory.grow))');
const instance = new Instance(store, module, []);
const memory = instance.getMemory("m");
memory.setUint8(100, 5);
const alias = new Uint8Array(memory.buffer.transfer());
instance.getFunc("grow").call(1000);
const quarantinedAfterCall = isQuarantined(store);
memory.setUint8(100, 6);
console.log(quarantinedAfterCall, alias[100], memory.byteLength);
store[Symbol.dispose]();
alias[100] = 1;
console.log("after dispose", alias[100]);
`);
  assertClean(result, `true 6 ${1001 * 65536}\nafter dispose 1\n`);
});

Deno.test("a 32-bit memory keeps its base address across grows (default reservation)", () => {
  using engine = new Engine();
  using store = new Store(engine);
  using module = new Module(engine, `(module (memory (export "m") 1))`);
  const memory = new Instance(store, module, []).getMemory("m")!;
  const base = baseAddress(store, memory);
  const buffer = memory.buffer;
  for (let i = 0; i < 4; i++) {
    memory.grow(4096);
    assert.equal(baseAddress(store, memory), base, `moved after ${(i + 1) * 4096} pages`);
  }
  assert.equal(buffer.byteLength, 0, "growing still detaches the old buffer");
  assert.equal(memory.buffer.byteLength, (1 + 4 * 4096) * 65536);
});

Deno.test("memories that can move have no buffer; the accessors keep working", () => {
  using engine = new Engine({ memoryReservation: 1 << 20 });
  using store = new Store(engine);
  using module = new Module(engine, `(module (memory (export "m") 1))`);
  const memory = new Instance(store, module, []).getMemory("m")!;
  assert.throws(
    () => memory.buffer,
    (e) =>
      e instanceof WasmtimeError && /memoryReservation/.test(e.message) &&
      /read, write/.test(e.message),
  );
  memory.setUint32(8, 0xdeadbeef);
  const base = baseAddress(store, memory);
  let moved = false;
  for (let i = 0; i < 20; i++) {
    memory.grow(16);
    moved ||= baseAddress(store, memory) !== base;
    const end = memory.byteLength - 4;
    memory.setUint32(end, i);
    assert.equal(memory.getUint32(end), i);
  }
  assert.ok(moved, "this configuration moves the memory (otherwise the test proves nothing)");
  assert.equal(memory.getUint32(8), 0xdeadbeef);
  assert.deepEqual(memory.read(8, 4), new Uint8Array([0xef, 0xbe, 0xad, 0xde]));

  // A bounded memory that fits the reservation never moves, so it has a buffer.
  using bounded = new Module(engine, `(module (memory (export "m") 1 16))`);
  assert.equal(new Instance(store, bounded, []).getMemory("m")!.buffer.byteLength, 65536);
});

Deno.test("a 64-bit memory has a buffer only if its maximum fits the reservation", () => {
  using engine = new Engine();
  using store = new Store(engine);
  using unbounded = new Module(engine, `(module (memory (export "m") i64 1))`);
  const memory = new Instance(store, unbounded, []).getMemory("m")!;
  assert.throws(() => memory.buffer, /can grow to .* bytes/);
  memory.setUint8(3, 4);
  assert.equal(memory.getUint8(3), 4);
  using bounded = new Module(engine, `(module (memory (export "m") i64 1 100))`);
  assert.equal(new Instance(store, bounded, []).getMemory("m")!.buffer.byteLength, 65536);
});

// ---- C5: views during async calls ----------------------------------------------------------

const GROWING_GUEST = `(module (memory (export "m") 1)
  (func (export "grow") (local i32)
    (loop $l (drop (memory.grow (i32.const 1))) (local.set 0 (i32.const 0))
      (loop $s (local.set 0 (i32.add (local.get 0) (i32.const 1)))
        (br_if $s (i32.lt_u (local.get 0) (i32.const 1000000))))
      (br_if $l (i32.lt_u (memory.size) (i32.const 60))))))`;

Deno.test("a view written by a timer during callAsync is detached when the guest grows", async () => {
  const result = await runIsolated(`
const engine = new Engine({ epochInterruption: true });
const instance = new Instance(new Store(engine), new Module(engine, ${
    JSON.stringify(GROWING_GUEST)
  }), []);
const view = new Uint8Array(instance.getMemory("m").buffer);
let writes = 0;
const timer = setInterval(() => { if (view.length) { view.fill(0x5a); writes++; } }, 1);
await instance.getFunc("grow").callAsync();
clearInterval(timer);
console.log("view", view.length, "pages", instance.getMemory("m").pages);
`);
  assertClean(result, "view 0 pages 60\n");
});

Deno.test("accessors used by a timer during callAsync follow a memory that moves", async () => {
  const result = await runIsolated(`
const engine = new Engine({ epochInterruption: true, memoryReservation: 0, memoryGuardSize: 0, memoryReservationForGrowth: 0 });
const instance = new Instance(new Store(engine), new Module(engine, ${
    JSON.stringify(GROWING_GUEST)
  }), []);
const memory = instance.getMemory("m");
let refused = false;
try { memory.buffer; } catch { refused = true; }
let ticks = 0;
const fill = new Uint8Array(4096).fill(0x5a);
const timer = setInterval(() => {
  ticks++;
  memory.write(0, fill);
  memory.setUint8(memory.byteLength - 1, 7);
}, 1);
await instance.getFunc("grow").callAsync();
clearInterval(timer);
console.log("refused", refused, "ticked", ticks > 0, memory.getUint8(4095), memory.getUint8(memory.byteLength - 1) === 7 || ticks > 0);
`);
  assertClean(result, "refused true ticked true 90 true\n");
});

// ---- L1: view tracking pins nothing ----------------------------------------------------------

Deno.test("stores whose memories were accessed are garbage collected", async () => {
  const result = await runIsolated(`
const engine = new Engine();
const module = new Module(engine, '(module (memory (export "m") 1))');
let live = 0;
const registry = new FinalizationRegistry(() => live--);
function make(i) {
  const store = new Store(engine);
  live++;
  registry.register(store, 0);
  const memory = new Instance(store, module, []).getMemory("m");
  if (i % 2) memory.getUint8(0); else new Uint8Array(memory.buffer)[0] = 1;
}
for (let i = 0; i < 1000; i++) make(i);
await collect();
console.log("live", live < 10 ? "few" : live);
`);
  assertClean(result, "live few\n");
});

/** A linker defining `peek(address)`: a host function reading the caller's memory "m". */
function peekLinker(engine: Engine): Linker {
  const linker = new Linker(engine);
  linker.defineFunc("", "peek", new FuncType(["i32"], ["i32"]), (caller, address) => {
    return (caller.getExport("m") as Memory).getUint8(address);
  });
  return linker;
}

/** How many views `run(calls)` (one `peek` per iteration) revalidates in a fresh store. */
function countRevalidations(linker: Linker, module: Module, calls: number): number {
  using store = new Store(linker.engine);
  const instance = linker.instantiate(store, module);
  instance.getMemory("m")!.setUint8(0, 1);
  const before = viewStats.revalidated;
  assert.equal(instance.getFunc("run")!.call(calls), calls);
  return viewStats.revalidated - before;
}

Deno.test("a host call revalidates only views of stores inside a call", () => {
  using engine = new Engine();
  using module = new Module(
    engine,
    `(module (import "" "peek" (func $peek (param i32) (result i32))) (memory (export "m") 1)
    (func (export "run") (param $n i32) (result i32) (local $sum i32)
      (loop $l
        (local.set $sum (i32.add (local.get $sum) (call $peek (i32.const 0))))
        (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
      (local.get $sum)))`,
  );
  using linker = peekLinker(engine);
  using plain = new Module(engine, `(module (memory (export "m") 1))`);
  const idle: Store[] = [];
  const measure = () => countRevalidations(linker, module, 500);
  const alone = measure();
  for (let i = 0; i < 300; i++) {
    const store = new Store(engine);
    new Instance(store, plain, []).getMemory("m")!.getUint8(0);
    idle.push(store);
  }
  const crowded = measure();
  assert.equal(crowded, alone, "idle stores are not revalidated by host calls");
  assert.ok(alone <= 502, `one view per host call (a new Memory wrapper each time): ${alone}`);
  for (const store of idle) store[Symbol.dispose]();
});

Deno.test("stores whose async calls end out of order are not revalidated afterwards", async () => {
  using engine = new Engine({ epochInterruption: true });
  using module = new Module(
    engine,
    `(module (import "" "peek" (func $peek (param i32) (result i32))) (memory (export "m") 1)
    (func (export "run") (param $n i32) (result i32) (local $sum i32)
      (loop $l
        (local.set $sum (i32.add (local.get $sum) (call $peek (i32.const 0))))
        (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
      (local.get $sum))
    (func (export "spin") (param $n i32)
      (loop $l (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))`,
  );
  using linker = peekLinker(engine);
  const measure = () => countRevalidations(linker, module, 100);
  const alone = measure();
  using first = new Store(engine);
  using second = new Store(engine);
  const long = linker.instantiate(first, module);
  const short = linker.instantiate(second, module);
  long.getMemory("m")!.getUint8(0);
  short.getMemory("m")!.getUint8(0);
  const order: string[] = [];
  await Promise.all([
    // Started first, ended first: its store is not the last one listed when it leaves.
    short.getFunc("spin")!.callAsync(50_000_000).then(() => order.push("short")),
    long.getFunc("spin")!.callAsync(400_000_000).then(() => order.push("long")),
  ]);
  assert.deepEqual(order, ["short", "long"], "the calls ended out of order");
  assert.equal(measure(), alone, "neither store is still listed as inside a call");
});

// ---- C3: captured output ---------------------------------------------------------------------

Deno.test("captured output stays valid after its original array is transferred and collected", async () => {
  const result = await runIsolated(`
const { runWasi } = await import(WASI);
const { compileC } = await import(FIXTURES);
let r = await runWasi(await compileC("probe"), { args: ["p", "big", "4"] });
const mine = structuredClone(r.stdout, { transfer: [r.stdout.buffer] });
r = null;
await collect();
let sum = 0;
for (let i = 0; i < mine.length; i += 4096) sum += mine[i];
console.log(sum, mine.length);
`);
  assertClean(result, `${(4 << 20) / 4096 * 0x78} ${4 << 20}\n`);
});

Deno.test("CapturedOutput.bytes refuses to return bytes the user transferred away", async () => {
  using guest = await instantiateWasi(await compileC("probe"), { args: ["p", "stderr", "x"] });
  guest.instance.getFunc("_start")!.call();
  const bytes = guest.wasi.stdout.bytes();
  assert.equal(new TextDecoder().decode(bytes), "to stdout\n");
  structuredClone(bytes, { transfer: [bytes.buffer] });
  assert.throws(() => guest.wasi.stdout.bytes(), /transferred away/);
});

// ---- resource caps -----------------------------------------------------------------------------

/** Grows a table by 64 Ki elements until that fails; exits with the number of grows. */
const TABLE_GROWER = wat2wasm(`(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (table $t 0 funcref)
  (func (export "_start")
    (loop $l
      (if (i32.eq (table.grow $t (ref.null func) (i32.const 65536)) (i32.const -1))
        (then (call $exit (i32.div_u (table.size $t) (i32.const 65536)))))
      (br $l))))`);

Deno.test("runWasi caps table growth by default and by maxTableElements", async () => {
  const capped = await runWasi(TABLE_GROWER);
  assert.equal(capped.exitCode, Math.floor(WASI_DEFAULT_LIMITS.maxTableElements / 65536));
  const smaller = await runWasi(TABLE_GROWER, { maxTableElements: 200_000 });
  assert.equal(smaller.exitCode, 3);
  await assert.rejects(() => runWasi(TABLE_GROWER, { maxTableElements: -1 }), /maxTableElements/);
});

Deno.test("runWasi caps instances, tables and memories", async () => {
  const twoTables = wat2wasm(
    `(module (table 1 funcref) (table 1 funcref) (memory (export "memory") 1) (func (export "_start")))`,
  );
  assert.equal((await runWasi(twoTables)).exitCode, 0);
  await assert.rejects(() => runWasi(twoTables, { maxTables: 1 }), WasmtimeError);
  await assert.rejects(() => runWasi(twoTables, { maxMemories: 0 }), WasmtimeError);
  await assert.rejects(() => runWasi(twoTables, { maxInstances: 0 }), WasmtimeError);
  const hugeTable = wat2wasm(`(module (table 2000000 funcref) (func (export "_start")))`);
  await assert.rejects(() => runWasi(hugeTable), WasmtimeError);
  assert.equal((await runWasi(hugeTable, { maxTableElements: 2_000_000 })).exitCode, 0);
});

Deno.test("the CLI caps tables, instances, tables and memories", async () => {
  const request = parseArgs([
    "run",
    "--max-table-elements",
    "5000",
    "--max-instances",
    "2",
    "--max-tables",
    "3",
    "--max-memories",
    "4",
    "a.wasm",
    "constructor",
  ]);
  assert.ok(request.kind === "run");
  const options = runOptions(request.command, {});
  assert.equal(options.maxTableElements, 5000);
  assert.equal(options.maxInstances, 2);
  assert.equal(options.maxTables, 3);
  assert.equal(options.maxMemories, 4);
  assert.deepEqual(options.args, ["a.wasm", "constructor"]);
  assert.throws(() => parseArgs(["run", "--max-tables", "-1", "a.wasm"]), /non-negative integer/);
  const dir = await Deno.makeTempDir({ prefix: "wasmtime-deno-cli-" });
  const path = join(dir, "grow.wasm");
  await Deno.writeFile(path, TABLE_GROWER);
  assert.equal(await runCli(["run", "--max-table-elements", "200000", path]), 3);
});

// ---- traps carry the output ------------------------------------------------------------------

function printer(then: "trap" | "spin"): Uint8Array<ArrayBuffer> {
  return wat2wasm(`(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "before trap\\n")
  (data (i32.const 200) "err\\n")
  (func $print (param $fd i32) (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func (export "_start")
    (call $print (i32.const 1) (i32.const 100) (i32.const 12))
    (call $print (i32.const 2) (i32.const 200) (i32.const 4))
    ${then === "trap" ? "unreachable" : "(loop $l (br $l))"}))`);
}

Deno.test("runWasi throws a WasiTrap carrying the output written before the trap", async () => {
  await assert.rejects(() => runWasi(printer("trap")), (e) => {
    assert.ok(e instanceof WasiTrap && e instanceof Trap);
    assert.equal(e.code, TrapCode.UnreachableCodeReached);
    assert.equal(e.stdoutText, "before trap\n");
    assert.equal(e.stderrText, "err\n");
    assert.ok(e.frames.length > 0);
    return true;
  });
});

Deno.test("a timed-out runWasi reports what the guest printed", async () => {
  for (const nonBlocking of [false, true]) {
    const started = performance.now();
    await assert.rejects(() => runWasi(printer("spin"), { timeoutMs: 200, nonBlocking }), (e) => {
      assert.ok(e instanceof WasiTrap, String(e));
      assert.equal(e.code, TrapCode.Interrupt);
      assert.equal(e.stdoutText, "before trap\n");
      assert.deepEqual(e.stderr, new TextEncoder().encode("err\n"));
      return true;
    });
    assert.ok(performance.now() - started < 5000, "did not hang");
  }
});

Deno.test("byte inputs whose length lies are read only as far as their real bytes", async () => {
  // Native code gets a view's real start but took the length JS reads: an own `length` or a
  // subclass getter made Wasmtime read 256 MiB past an 8-byte buffer (SIGSEGV).
  const result = await runIsolated(`
const { Component } = await import(MOD);
const { WasiConfig } = await import(WASI);
const engine = new Engine();
const lying = (bytes) => {
  const view = new Uint8Array(bytes);
  Object.defineProperty(view, "length", { value: 1 << 28 });
  Object.defineProperty(view, "byteLength", { value: 1 << 28 });
  return view;
};
class Longer extends Uint8Array { get length() { return 1 << 28; } }
const header = [0, 97, 115, 109, 1, 0, 0, 0];
const out = [];
const attempt = async (name, run) => {
  try { await run(); out.push(name + " ok"); } catch (e) { out.push(name + " " + e.constructor.name); }
};
await attempt("new", () => new Module(engine, lying(header)));
await attempt("subclass", () => new Module(engine, new Longer(header)));
await attempt("compile", () => Module.compile(engine, lying(header)));
await attempt("validate", () => Module.validate(engine, lying(header)));
await attempt("precompile", () => engine.precompile(lying(header)));
await attempt("deserialize", () => Module.deserialize(engine, lying(header)));
await attempt("component", () => Component.deserialize(engine, lying(header)));
await attempt("stdin", () => new Store(engine, { wasi: new WasiConfig().stdin(lying(header)) }));
await attempt("fake", () => new Module(engine, Object.create(Uint8Array.prototype)));
console.log(out.join(", "));
`);
  assertClean(
    result,
    "new ok, subclass ok, compile ok, validate ok, precompile ok, deserialize WasmtimeError, " +
      "component WasmtimeError, stdin ok, fake WasmtimeError\n",
  );
});
