/**
 * Regression tests for the attack review's findings on calls, async calls, deadlines and
 * linker/store misuse (ids C1, C4, C7, D2-D5, H1, H2, H5, H6, H8, H9 of attack-review.md).
 * Cases that used to crash or hang the process run in a subprocess with a kill timer.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  type Caller,
  Engine,
  type Func,
  FuncType,
  Instance,
  Linker,
  MAX_WASM_STACK,
  Memory,
  Module,
  Store,
  Table,
  Trap,
  TrapCode,
  WasmtimeError,
} from "../mod.ts";
import {
  assertClean,
  type IsolatedResult,
  MOD_URL,
  runIsolated as runIsolatedScript,
} from "./helpers.ts";

/** Runs `source` (which sees the binding as MOD) in a fresh Deno, killed after `killMs`. */
function runIsolated(source: string, killMs = 30_000): Promise<IsolatedResult> {
  return runIsolatedScript(
    `import * as MOD from ${JSON.stringify(MOD_URL)};\n` +
      `const { Engine, Func, FuncType, Instance, Linker, Module, Store, Trap } = MOD;\n` +
      source,
    { killMs },
  );
}

function isInterrupt(e: unknown): boolean {
  assert.ok(e instanceof Trap, `expected a Trap, got ${e}`);
  assert.equal(e.code, TrapCode.Interrupt);
  return true;
}

/** Rejects if `promise` has not settled after `ms` (a "did not hang" guard). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

const SPIN = `(module (func (export "spin") (loop $l (br $l))))`;
/** A compute loop of `n` iterations (about 300 M per second here). */
const WORK = `(module (func (export "work") (param i32) (local i32)
  (loop $l (local.set 1 (i32.add (local.get 1) (i32.const 1)))
    (br_if $l (i32.lt_u (local.get 1) (local.get 0))))))`;

// ---- C1: linker definitions used with the wrong store or engine ---------------------------------

Deno.test("C1: Linker.get/getDefault refuse a foreign store or engine instead of aborting", async () => {
  const result = await runIsolated(`
    const report = (what, run) => {
      try { run(); console.log(what, "no error"); }
      catch (e) { console.log(what, e.constructor.name, e.message.includes("another") ? "named" : e.message); }
    };
    const engine = new Engine();
    const a = new Store(engine), b = new Store(engine);
    const linker = new Linker(engine);
    linker.define(a, "m", "f", new Func(a, new FuncType([], ["i32"]), () => 7));
    report("m01", () => linker.get(b, "m", "f").call());
    const other = new Linker(new Engine());
    other.defineFunc("m", "f", new FuncType([], []), () => {});
    report("m02", () => other.get(new Store(new Engine()), "m", "f"));
    const module = new Module(engine, '(module (func (export "")) (func (export "g") (result i32) i32.const 3))');
    linker.defineInstance(a, "inst", new Instance(a, module, []));
    report("m03", () => linker.getDefault(b, "inst").call());
    report("m03get", () => linker.get(b, "inst", "g").call());
    linker.defineModule(a, "reactor", module);
    report("reactor", () => linker.get(b, "reactor", "g").call());
    // The defining store keeps working, and so do store-independent definitions.
    console.log("own", linker.get(a, "m", "f").call(), linker.get(a, "inst", "g").call());
    linker.defineFunc("m", "h", new FuncType([], ["i32"]), () => 9);
    console.log("host", linker.get(b, "m", "h").call());
    linker.allowShadowing(true);
    linker.defineFunc("m", "f", new FuncType([], ["i32"]), () => 8);
    console.log("shadowed", linker.get(b, "m", "f").call());
  `);
  assertClean(result);
  const lines = result.stdout.trim().split("\n");
  assert.deepEqual(lines, [
    "m01 WasmtimeError named",
    "m02 WasmtimeError named",
    "m03 WasmtimeError named",
    "m03get WasmtimeError named",
    "reactor WasmtimeError named",
    "own 7 3",
    "host 9",
    "shadowed 8",
  ]);
});

// ---- C4: queued async instantiation whose module / linker / pre is disposed meanwhile ---------

Deno.test("C4: a queued instantiateAsync whose module, linker or pre was disposed throws", async () => {
  const result = await runIsolated(`
    const engine = new Engine({ epochInterruption: true });
    const store = new Store(engine);
    const busy = new Linker(engine);
    busy.defineAsyncFunc("", "wait", new FuncType([], []), () => new Promise((r) => setTimeout(r, 50)));
    const b = await busy.instantiateAsync(store, new Module(engine,
      '(module (import "" "wait" (func $w)) (func (export "run") call $w))'));
    const run = b.getFunc("run");
    const source = '(module (func (export "f") (result i32) i32.const 7))';
    const outcome = async (what, make) => {
      const running = run.callAsync(); // the store is busy for 50 ms
      const queued = make();
      for (let i = 0; i < 100; i++) new Module(engine, '(module (func (export "z' + i + '")))');
      await running;
      try { const instance = await queued; console.log(what, "instance", await instance.getFunc("f").callAsync()); }
      catch (e) { console.log(what, e.constructor.name, /was disposed/.test(e.message)); }
    };
    await outcome("module", () => {
      const module = new Module(engine, source);
      const p = new Linker(engine).instantiateAsync(store, module);
      module[Symbol.dispose]();
      return p;
    });
    await outcome("linker", () => {
      const linker = new Linker(engine);
      const p = linker.instantiateAsync(store, new Module(engine, source));
      linker[Symbol.dispose]();
      return p;
    });
    await outcome("pre", () => {
      const pre = new Linker(engine).instantiatePre(new Module(engine, source));
      const p = pre.instantiateAsync(store);
      pre[Symbol.dispose]();
      return p;
    });
    // The store is still usable.
    await outcome("fresh", () => new Linker(engine).instantiateAsync(store, new Module(engine, source)));
  `);
  assertClean(result);
  assert.deepEqual(result.stdout.trim().split("\n"), [
    "module WasmtimeError true",
    "linker WasmtimeError true",
    "pre WasmtimeError true",
    "fresh instance 7",
  ]);
});

// ---- C7: maxWasmStack beyond what the thread and V8 allow ---------------------------------

Deno.test("C7: maxWasmStack above MAX_WASM_STACK is refused with the bound and the reason", () => {
  assert.equal(MAX_WASM_STACK, 1 << 20);
  assert.throws(
    () => new Engine({ maxWasmStack: 64 << 20, asyncStackSize: 65 << 20 }),
    (e: unknown) =>
      e instanceof WasmtimeError && e.message.includes(String(MAX_WASM_STACK)) &&
      e.message.includes("V8"),
  );
  assert.throws(() => new Engine({ maxWasmStack: MAX_WASM_STACK + 1 }), WasmtimeError);
  new Engine({ maxWasmStack: MAX_WASM_STACK })[Symbol.dispose]();
});

Deno.test("C7: deep recursion at the largest allowed stack ends cleanly, main thread and Worker", async () => {
  const body = (size: string) => `
    const engine = new Engine(${size});
    const store = new Store(engine);
    const linker = new Linker(engine);
    linker.defineFunc("", "h", new FuncType(["i64"], ["i64"]), (_c, x) => x);
    const instance = linker.instantiate(store, new Module(engine, '(module ' +
      '(import "" "h" (func $h (param i64) (result i64))) ' +
      '(func $plain (export "plain") (param i64) (result i64) ' +
      '  (i64.add (call $plain (i64.add (local.get 0) (i64.const 1))) (local.get 0))) ' +
      '(func $host (export "host") (param i64) (result i64) ' +
      '  (i64.add (call $host (call $h (i64.add (local.get 0) (i64.const 1)))) (local.get 0))))'));
    const outcome = (name) => {
      try { instance.getFunc(name).call(0n); return name + " returned"; }
      catch (e) { return name + " " + (e instanceof Trap ? "trap " + e.code : "error " + e.constructor.name); }
    };
    const lines = [outcome("plain"), outcome("host")];`;
  for (const size of ["{}", "{ maxWasmStack: MOD.MAX_WASM_STACK }"]) {
    const main = await runIsolated(`${body(size)}\nconsole.log(lines.join("; "));`);
    assertClean(main);
    assert.match(main.stdout, /^plain trap 0; host (trap 0|error RangeError)$/m, size);
    const worker = await runIsolated(`
      const code = ${
      JSON.stringify(`import * as MOD from ${JSON.stringify(MOD_URL)};
        const { Engine, FuncType, Linker, Module, Store, Trap } = MOD;`)
    } + ${JSON.stringify(body(size))} +
        "self.postMessage(lines.join('; '));";
      const w = new Worker("data:application/typescript," + encodeURIComponent(code), { type: "module" });
      console.log(await new Promise((resolve) => (w.onmessage = (e) => resolve(e.data))));
      w.terminate();
    `);
    assertClean(worker);
    assert.match(worker.stdout, /^plain trap 0; host (trap 0|error RangeError)$/m, size);
  }
});

// ---- D2: store.gc() while a guest is suspended -------------------------------------------

const GC_GUEST = `(module (import "" "wait" (func $wait))
  (type $s (struct (field i64) (field i64))) (type $arr (array (mut i64)))
  (func (export "f") (param i64) (result i64)
    (local $a (ref null $s)) (local $j (ref null $arr)) (local $i i32)
    (local.set $a (struct.new $s (local.get 0) (i64.const 7)))
    (call $wait)
    (loop $l (local.set $j (array.new $arr (i64.const -1) (i32.const 64)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 2000))))
    (i64.add (struct.get $s 0 (local.get $a)) (struct.get $s 1 (local.get $a)))))`;

Deno.test("D2: store.gc() is refused while an async call is suspended; results stay right", async () => {
  using engine = new Engine({ epochInterruption: true, gc: true, functionReferences: true });
  using store = new Store(engine);
  using linker = new Linker(engine);
  const refusals: unknown[] = [];
  linker.defineAsyncFunc("", "wait", new FuncType([], []), async () => {
    await null;
    try {
      store.gc();
    } catch (e) {
      refusals.push(e);
    }
  });
  using module = new Module(engine, GC_GUEST);
  const f = (await linker.instantiateAsync(store, module)).getFunc("f")!;
  for (let i = 0; i < 30; i++) assert.equal(await f.callAsync(BigInt(i)), BigInt(i) + 7n);
  assert.equal(refusals.length, 30);
  assert.ok(
    refusals[0] instanceof WasmtimeError && /async call is running/.test(refusals[0].message),
  );
  // Between polls (a timer firing while the guest is suspended at a yield) is refused as well.
  using spinModule = new Module(engine, SPIN);
  const spinner = await new Linker(engine).instantiateAsync(store, spinModule);
  const spinning = spinner.getFunc("spin")!.callAsyncWith({ timeoutMs: 300 });
  await new Promise((r) => setTimeout(r, 50));
  assert.throws(() => store.gc(), WasmtimeError);
  await assert.rejects(spinning, isInterrupt);
  store.gc(); // idle again: allowed
});

Deno.test("D2: store.gc() from a synchronous host function keeps live GC objects", () => {
  using engine = new Engine({ gc: true, functionReferences: true });
  using store = new Store(engine);
  using linker = new Linker(engine);
  linker.defineFunc("", "wait", new FuncType([], []), () => store.gc());
  using module = new Module(engine, GC_GUEST);
  const f = linker.instantiate(store, module).getFunc("f")!;
  for (let i = 0; i < 100; i++) assert.equal(f.call(BigInt(i)), BigInt(i) + 7n);
});

// ---- D3: an outer host function's Caller during a nested host call -----------------------

const MEMORY_GUEST = (byte: number, imports: string) =>
  `(module ${imports}
  (memory (export "memory") 1) (data (i32.const 0) "\\${byte.toString(16).padStart(2, "0")}")
  (func (export "run") call $h))`;

Deno.test("D3: each Caller resolves to its own call while a nested host call runs", () => {
  using engine = new Engine();
  using store = new Store(engine);
  using linker = new Linker(engine);
  let outer: Caller | undefined;
  const seen: number[] = [];
  const byte = (caller: Caller) => (caller.getExport("memory") as Memory).getUint8(0);
  linker.defineFunc("x", "outer", new FuncType([], []), (caller) => {
    outer = caller;
    runY();
    seen.push(byte(caller)); // after the nested call: still X
  });
  linker.defineFunc("y", "inner", new FuncType([], []), (caller) => {
    seen.push(byte(outer!), byte(caller));
  });
  using mx = new Module(engine, MEMORY_GUEST(0x58, `(import "x" "outer" (func $h))`));
  using my = new Module(engine, MEMORY_GUEST(0x63, `(import "y" "inner" (func $h))`));
  const x = linker.instantiate(store, mx);
  const y = linker.instantiate(store, my);
  const runY = () => y.getFunc("run")!.call();
  x.getFunc("run")!.call();
  assert.deepEqual(seen, [0x58, 0x63, 0x58]);
  assert.throws(() => outer!.getExport("memory"), /only valid while its host function runs/);
});

Deno.test("D3: a host function re-entered through wasm gets a distinct Caller per call", () => {
  using engine = new Engine();
  using store = new Store(engine);
  using linker = new Linker(engine);
  const callers: Caller[] = [];
  const seen: number[] = [];
  const byte = (caller: Caller) => (caller.getExport("memory") as Memory).getUint8(0);
  // One host function imported by both instances: X calls it, it calls Y, Y calls it again.
  let recurse = true;
  linker.defineFunc("env", "h", new FuncType([], []), (caller) => {
    callers.push(caller);
    if (!recurse) {
      seen.push(byte(caller));
    } else if (callers.length === 1) {
      runY();
      seen.push(byte(caller));
    } else {
      seen.push(byte(callers[0]), byte(caller));
    }
  });
  using mx = new Module(engine, MEMORY_GUEST(0x58, `(import "env" "h" (func $h))`));
  using my = new Module(engine, MEMORY_GUEST(0x63, `(import "env" "h" (func $h))`));
  const x = linker.instantiate(store, mx);
  const y = linker.instantiate(store, my);
  const runY = () => y.getFunc("run")!.call();
  x.getFunc("run")!.call();
  assert.notEqual(callers[0], callers[1]);
  assert.deepEqual(seen, [0x58, 0x63, 0x58]);
  // The reusable Caller is free again for the next call.
  recurse = false;
  seen.length = 0;
  y.getFunc("run")!.call();
  x.getFunc("run")!.call();
  assert.deepEqual(seen, [0x63, 0x58]);
  assert.equal(callers[2], callers[0]);
});

// ---- D4: table and memory limits --------------------------------------------------------

Deno.test("D4: table and memory limits are validated instead of rewritten", () => {
  using engine = new Engine({ memory64: true });
  using store = new Store(engine);
  const bad: [string, () => unknown, RegExp][] = [
    ["table min -1", () => new Table(store, { element: "funcref", minimum: -1 }), /minimum/],
    [
      "table min 2^32+3",
      () => new Table(store, { element: "funcref", minimum: 2 ** 32 + 3 }),
      /minimum/,
    ],
    ["table min 1.5", () => new Table(store, { element: "funcref", minimum: 1.5 }), /minimum/],
    [
      "table max 2^32",
      () => new Table(store, { element: "funcref", minimum: 0, maximum: 2 ** 32 }),
      /maximum/,
    ],
    [
      "table max < min",
      () => new Table(store, { element: "funcref", minimum: 4, maximum: 2 }),
      /maximum/,
    ],
    [
      "table min string",
      () => new Table(store, { element: "funcref", minimum: "1" as unknown as number }),
      /minimum/,
    ],
    ["memory min -1", () => new Memory(store, { minimum: -1 }), /minimum/],
    ["memory max -1", () => new Memory(store, { minimum: 1, maximum: -1 }), /maximum/],
    ["memory max < min", () => new Memory(store, { minimum: 2, maximum: 1 }), /maximum/],
    ["memory min 65537 pages", () => new Memory(store, { minimum: 65537 }), /minimum/],
    [
      "memory64 min 2^48+1",
      () => new Memory(store, { minimum: 2 ** 48 + 1, memory64: true }),
      /minimum/,
    ],
    ["memory min NaN", () => new Memory(store, { minimum: NaN }), /minimum/],
    [
      "memory64 flag",
      () => new Memory(store, { minimum: 1, memory64: 1 as unknown as boolean }),
      /memory64/,
    ],
  ];
  for (const [what, make, field] of bad) {
    assert.throws(make, (e: unknown) => e instanceof WasmtimeError && field.test(e.message), what);
  }
  const table = new Table(store, { element: "externref", minimum: 2, maximum: 5 });
  assert.deepEqual(table.type, { element: "externref", minimum: 2, maximum: 5 });
  const memory = new Memory(store, { minimum: 1, maximum: 65536 });
  assert.equal(memory.type.maximum, 65536);
  const big = new Memory(store, { minimum: 0, maximum: 2 ** 40, memory64: true });
  assert.equal(big.type.maximum, 2 ** 40);
});

// ---- D5: unstringifiable rejection values -----------------------------------------------

Deno.test("D5: host failures with unstringifiable values reach the caller unchanged", async () => {
  using engine = new Engine({ epochInterruption: true });
  using store = new Store(engine);
  using linker = new Linker(engine);
  const nullProto = Object.create(null);
  const badToString = {
    toString() {
      throw new Error("no");
    },
  };
  const badMessage = new Error("x");
  Object.defineProperty(badMessage, "message", {
    get() {
      throw new Error("no message");
    },
  });
  let reason: unknown;
  linker.defineAsyncFunc("", "a", new FuncType([], []), () => Promise.reject(reason));
  linker.defineFunc("", "s", new FuncType([], []), () => {
    throw reason;
  });
  using module = new Module(
    engine,
    `(module (import "" "a" (func $a)) (import "" "s" (func $s))
       (func (export "async") call $a) (func (export "sync") call $s))`,
  );
  const instance = await linker.instantiateAsync(store, module);
  for (const value of [nullProto, badToString, badMessage, Symbol("s")]) {
    reason = value;
    await assert.rejects(instance.getFunc("async")!.callAsync(), (e) => e === value);
  }
  using plainStore = new Store(engine);
  using plainLinker = new Linker(engine);
  plainLinker.defineFunc("", "a", new FuncType([], []), () => {});
  plainLinker.defineFunc("", "s", new FuncType([], []), () => {
    throw reason;
  });
  const plain = plainLinker.instantiate(plainStore, module);
  for (const value of [nullProto, badToString, badMessage, Symbol("s")]) {
    reason = value;
    assert.throws(() => plain.getFunc("sync")!.call(), (e) => e === value);
  }
});

// ---- H1: nested timed calls ------------------------------------------------------------

Deno.test("H1: a nested callWith does not extend the outer deadline", () => {
  using engine = new Engine({ epochInterruption: true });
  using store = new Store(engine);
  using linker = new Linker(engine);
  let quick!: Func;
  let innerTimeout = 5000;
  linker.defineFunc(
    "",
    "h",
    new FuncType([], []),
    () => quick.callWith({ timeoutMs: innerTimeout }),
  );
  using module = new Module(
    engine,
    `(module (import "" "h" (func $h)) (func (export "quick"))
       (func (export "spin") (call $h) (call $loop))
       (func $loop (export "loop") (local i32)
         ;; 2^32-1 iterations (about a second or more): interrupted first, yet finite
         (loop $l (local.set 0 (i32.add (local.get 0) (i32.const 1)))
           (br_if $l (i32.lt_u (local.get 0) (i32.const -1)))))
       (func (export "nested") call $h))`,
  );
  const instance = linker.instantiate(store, module);
  quick = instance.getFunc("quick")!;
  const started = performance.now();
  assert.throws(() => instance.getFunc("spin")!.callWith({ timeoutMs: 200 }), isInterrupt);
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 150 && elapsed < 5000, `interrupted after ${elapsed} ms`);
  // An inner call that outlives the outer deadline is cut at the outer one.
  quick = instance.getFunc("loop")!;
  innerTimeout = 10_000;
  const t0 = performance.now();
  assert.throws(() => instance.getFunc("nested")!.callWith({ timeoutMs: 150 }), isInterrupt);
  assert.ok(performance.now() - t0 < 5000);
  // Afterwards untimed calls run without a deadline again.
  assert.equal(instance.getFunc("quick")!.call(), undefined);
});

// ---- H2: timed calls after the engine is disposed -----------------------------------------

Deno.test("H2: timed calls keep working after the engine is disposed", async () => {
  const result = await runIsolated(`
    let instance;
    { using engine = new Engine({ epochInterruption: true });
      instance = new Instance(new Store(engine), new Module(engine, '(module (func (export "spin") (loop $l (br $l))))'), []); }
    const spin = instance.getFunc("spin");
    const outcome = (e) => e instanceof Trap && e.code === 10 ? "interrupt" : String(e);
    try { spin.callWith({ timeoutMs: 100 }); } catch (e) { console.log("callWith", outcome(e)); }
    try { spin.callWith({ timeoutMs: 100 }); } catch (e) { console.log("again", outcome(e)); }
    try { await spin.callAsyncWith({ timeoutMs: 100 }); } catch (e) { console.log("callAsyncWith", outcome(e)); }
  `);
  assertClean(result);
  assert.deepEqual(result.stdout.trim().split("\n"), [
    "callWith interrupt",
    "again interrupt",
    "callAsyncWith interrupt",
  ]);
});

// ---- H5: deadlines and signals of queued calls --------------------------------------------

Deno.test("H5: a queued call's timeout and signal run from the call; the queue keeps order", async () => {
  using engine = new Engine({ epochInterruption: true });
  using store = new Store(engine);
  using linker = new Linker(engine);
  let finish!: () => void;
  linker.defineAsyncFunc(
    "",
    "block",
    new FuncType([], []),
    () => new Promise<void>((r) => (finish = r)),
  );
  using module = new Module(
    engine,
    `(module (import "" "block" (func $b)) (func (export "run") call $b)
       (func (export "quick") (result i32) i32.const 5))`,
  );
  const instance = await linker.instantiateAsync(store, module);
  const quick = instance.getFunc("quick")!;
  const order: string[] = [];
  const running = instance.getFunc("run")!.callAsync().then(() => order.push("run"));
  const t0 = performance.now();
  const timed = quick.callAsyncWith({ timeoutMs: 100 });
  const controller = new AbortController();
  const aborted = quick.callAsyncWith({ signal: controller.signal });
  const later = quick.callAsync().then((v) => order.push(`later ${v}`));
  setTimeout(() => controller.abort(new Error("stop")), 20);
  await within(assert.rejects(aborted, isInterrupt), 5000, "the aborted queued call");
  await within(assert.rejects(timed, isInterrupt), 5000, "the timed queued call");
  const latency = performance.now() - t0;
  assert.ok(latency >= 90 && latency < 5000, `rejected after ${latency} ms`);
  assert.deepEqual(order, []); // the others are still queued behind the running call
  finish();
  await within(Promise.all([running, later]), 5000, "the remaining calls");
  assert.deepEqual(order, ["run", "later 5"]);
});

// ---- H6: re-entrant async calls ------------------------------------------------------------

Deno.test("H6: callAsync on the same store from its own async host function throws", async () => {
  using engine = new Engine({ epochInterruption: true });
  using store = new Store(engine);
  using linker = new Linker(engine);
  let mode = "direct";
  let later: Promise<unknown> | undefined;
  linker.defineAsyncFunc("", "h", new FuncType([], ["i32"]), async () => {
    if (mode === "direct") return await inner.callAsync();
    if (mode === "deferred") {
      await new Promise((r) => setTimeout(r, 5));
      return await inner.callAsync();
    }
    // Scheduled for after the host function returned: allowed.
    later = new Promise((r) => setTimeout(r, 5)).then(() => inner.callAsync());
    return 1;
  });
  using module = new Module(
    engine,
    `(module (import "" "h" (func $h (result i32))) (func (export "inner") (result i32) i32.const 5)
       (func (export "outer") (result i32) call $h))`,
  );
  const instance = await linker.instantiateAsync(store, module);
  const inner = instance.getFunc("inner")!;
  const outer = instance.getFunc("outer")!;
  for (mode of ["direct", "deferred"]) {
    await within(
      assert.rejects(
        outer.callAsync(),
        (e) => e instanceof WasmtimeError && /re-entrant/.test(e.message),
      ),
      5000,
      `the ${mode} re-entrant call`,
    );
  }
  mode = "after";
  assert.equal(await outer.callAsync(), 1);
  assert.equal(await within(later!, 5000, "the later call"), 5);
});

// ---- H8: signals on engines that never yield -----------------------------------------------

Deno.test("H8: callAsyncWith({ signal }) needs an engine that yields", async () => {
  using plain = new Engine();
  using store = new Store(plain);
  using module = new Module(plain, WORK);
  const work = new Instance(store, module, []).getFunc("work")!;
  await assert.rejects(
    work.callAsyncWith({ signal: AbortSignal.timeout(10) }, 100_000_000),
    (e) => e instanceof WasmtimeError && /epochInterruption/.test(e.message),
  );
  using fuelEngine = new Engine({ consumeFuel: true });
  using fuelStore = new Store(fuelEngine, { fuel: 2n ** 60n });
  using fuelModule = new Module(fuelEngine, SPIN);
  const fuelSpin = new Instance(fuelStore, fuelModule, []).getFunc("spin")!;
  await within(
    assert.rejects(fuelSpin.callAsyncWith({ signal: AbortSignal.timeout(50) }), isInterrupt),
    5000,
    "the fuel-yielding call",
  );
});

// ---- H9: timeouts beyond setTimeout's range ----------------------------------------------

Deno.test("H9: timeouts of any size are honoured; NaN and negative ones are refused", async () => {
  using engine = new Engine({ epochInterruption: true });
  using store = new Store(engine);
  using module = new Module(engine, WORK);
  const work = new Instance(store, module, []).getFunc("work")!;
  const iterations = 30_000_000; // tens of ms: longer than the ~10 ms an overflowed timer waits
  for (const timeoutMs of [2 ** 31, 30 * 24 * 3600 * 1000, 1e300, Infinity]) {
    assert.equal(await work.callAsyncWith({ timeoutMs }, iterations), undefined, `${timeoutMs}`);
    assert.equal(work.callWith({ timeoutMs }, iterations), undefined, `${timeoutMs}`);
  }
  for (const timeoutMs of [NaN, -1, "5" as unknown as number]) {
    assert.throws(() => work.callWith({ timeoutMs }, 1), WasmtimeError);
    await assert.rejects(work.callAsyncWith({ timeoutMs }, 1), WasmtimeError);
  }
});

// ---- minor: fuel precision and typed() arity ----------------------------------------------

Deno.test("fuel above 2^53 is refused by the number getter and exact through getFuel()", () => {
  using engine = new Engine({ consumeFuel: true });
  using store = new Store(engine, { fuel: 2n ** 60n + 1n });
  assert.throws(() => store.fuel, (e) => e instanceof WasmtimeError && /getFuel/.test(e.message));
  assert.equal(store.getFuel(), 2n ** 60n + 1n);
  store.fuel = 1234;
  assert.equal(store.fuel, 1234);
  assert.equal(store.getFuel(), 1234n);
});

Deno.test("typed() functions throw on a wrong number of arguments", () => {
  using engine = new Engine();
  using store = new Store(engine);
  using module = new Module(
    engine,
    `(module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
       (func (export "none") (result i32) i32.const 1)
       (func (export "ref") (param externref) (result externref) local.get 0))`,
  );
  const instance = new Instance(store, module, []);
  const add = instance.getFunc("add")!.typed(["i32", "i32"], ["i32"]);
  const none = instance.getFunc("none")!.typed([], ["i32"]);
  const ref = instance.getFunc("ref")!.typed(["externref"], ["externref"]);
  assert.equal(add(2, 3), 5);
  // The TypeScript types refuse these calls too; the runtime checks are for JS callers.
  // @ts-expect-error: one argument too many
  assert.throws(() => add(1, 2, 3), /expected 2 argument/);
  // @ts-expect-error: one argument too few
  assert.throws(() => add(1), /expected 2 argument/);
  // @ts-expect-error: takes no argument
  assert.throws(() => none(1), /expected 0 argument/);
  // @ts-expect-error: takes one argument
  assert.throws(() => ref(1, 2), /expected 1 argument/);
  assert.equal(none(), 1);
});

Deno.test("D1: a host error too long to describe is rethrown, never taken as success", async () => {
  // "host function X threw: " + a message at V8's string limit threw inside the catch; a
  // component host call then returned null, which Wasmtime takes as success: the guest went on
  // with its placeholder result (false). Core host calls trapped but lost the user's error.
  const result = await runIsolated(`
const big = "x".repeat(2 ** 29 - 24);
const reports = [];
const component = new MOD.Component(new Engine(), \`(component
  (import "allowed" (func $a (result bool)))
  (import "report" (func $r (param "v" bool)))
  (core func $t (canon lower (func $a)))
  (core func $rr (canon lower (func $r)))
  (core module $m (import "" "t" (func $t (result i32))) (import "" "r" (func $r (param i32)))
    (func (export "run") (call $r (call $t))))
  (core instance $i (instantiate $m (with "" (instance (export "t" (func $t)) (export "r" (func $rr))))))
  (func (export "run") (canon lift (core func $i "run"))))\`);
const linker = new MOD.ComponentLinker(component.engine);
linker.defineFunc("", "allowed", () => { throw new Error(big); });
linker.defineFunc("", "report", (v) => { reports.push(v); });
const outcome = (run) => {
  try { run(); return "returned"; } catch (e) { return e.message === big ? "rethrown" : String(e); }
};
const component_ = outcome(() => linker.instantiate(new Store(component.engine), component).exports.run());
const engine = new Engine();
const store = new Store(engine);
const core = new Instance(store, new Module(engine, \`(module (import "" "t" (func (result i32)))
  (import "" "r" (func (param i32))) (func (export "run") (call 1 (call 0))))\`),
  { "": { t: () => { throw new Error(big); }, r: (v) => { reports.push(v); } } });
console.log(component_, outcome(() => core.exports.run()), JSON.stringify(reports));`);
  assertClean(result);
  assert.equal(result.stdout.trim(), "rethrown rethrown []");
});

Deno.test("C1: a Linker refuses stores and modules of another engine in every definition", async () => {
  // defineModule with another engine's store and defineUnknownImportsAsTraps with another
  // engine's module made Wasmtime abort the process; define and defineInstance accepted such a
  // store and failed only later.
  const result = await runIsolated(`
const a = new Engine(), b = new Engine();
const storeB = new Store(b);
const f = new Func(storeB, new FuncType([], []), () => {});
const instanceB = new Instance(storeB, new Module(b, '(module (func (export "x")))'), []);
const attempts = {
  defineModuleStore: () => new Linker(a).defineModule(storeB, "x", new Module(a, "(module)")),
  defineModuleModule: () => new Linker(a).defineModule(new Store(a), "x", new Module(b, "(module)")),
  unknownImportsAsTraps: () =>
    new Linker(a).defineUnknownImportsAsTraps(new Module(b, '(module (import "a" "b" (func)))')),
  define: () => new Linker(a).define(storeB, "m", "f", f),
  defineInstance: () => new Linker(a).defineInstance(storeB, "x", instanceB),
};
for (const [name, attempt] of Object.entries(attempts)) {
  try { attempt(); console.log(name, "accepted"); }
  catch (e) { console.log(name, e.constructor.name, /another Engine/.test(e.message)); }
}`);
  assertClean(result);
  assert.equal(
    result.stdout,
    [
      "defineModuleStore WasmtimeError true",
      "defineModuleModule WasmtimeError true",
      "unknownImportsAsTraps WasmtimeError true",
      "define WasmtimeError true",
      "defineInstance WasmtimeError true",
      "",
    ].join("\n"),
  );
});
