import assert from "node:assert/strict";
import { Engine, Func, FuncType, Instance, Linker, Module, Store, Trap, TrapCode } from "../mod.ts";

const COMPUTE = `
  (func (export "spin") (loop $l (br $l)))
  (func (export "work") (param i32) (result i32) (local i32)
    (block (loop (br_if 1 (i32.eqz (local.get 0)))
      (local.set 1 (i32.add (local.get 1) (i32.mul (local.get 0) (local.get 0))))
      (local.set 0 (i32.sub (local.get 0) (i32.const 1))) (br 0))) local.get 1)`;
const GUEST = `(module
  (import "env" "fetch_len" (func $fetch (param i32) (result i32)))
  (func (export "run") (param i32) (result i32) local.get 0 call $fetch)${COMPUTE})`;
/** The same compute functions without imports. */
const PURE = `(module${COMPUTE})`;

function isInterrupt(e: unknown): boolean {
  assert.ok(e instanceof Trap, `expected a Trap, got ${e}`);
  assert.equal(e.code, TrapCode.Interrupt);
  return true;
}

async function setup(fetchLen: (n: number) => Promise<number> | number) {
  const engine = new Engine({ epochInterruption: true });
  const store = new Store(engine);
  const linker = new Linker(engine);
  linker.defineAsyncFunc(
    "env",
    "fetch_len",
    new FuncType(["i32"], ["i32"]),
    (_caller, n: number) => fetchLen(n),
  );
  const module = new Module(engine, GUEST);
  const instance = await linker.instantiateAsync(store, module);
  return {
    engine,
    store,
    linker,
    module,
    instance,
    [Symbol.dispose]() {
      store[Symbol.dispose]();
      linker[Symbol.dispose]();
      module[Symbol.dispose]();
      engine[Symbol.dispose]();
    },
  };
}

Deno.test("the issue's async example: Promise-returning host function, timer keeps firing", async () => {
  using env = await setup(async (n) => {
    await new Promise((r) => setTimeout(r, 10)); // real async work while wasm is suspended
    return n * 2;
  });
  const run = env.instance.getFunc("run")!;
  const ticks: number[] = [];
  const timer = setInterval(() => ticks.push(Date.now()), 5);
  try {
    assert.equal(await run.callAsync(21), 42);
    // A CPU-bound guest: the event loop must keep running while it computes.
    const started = performance.now();
    const sync = env.instance.getFunc("work")!;
    const before = ticks.length;
    const result = await sync.callAsync(200_000_000);
    const elapsed = performance.now() - started;
    const fired = ticks.length - before;
    console.log(`async guest ran ${elapsed.toFixed(0)} ms; the 5 ms timer fired ${fired} times`);
    assert.equal(typeof result, "number");
    assert.ok(fired >= 2, `the timer fired ${fired} times while the guest ran`);
  } finally {
    clearInterval(timer);
  }
});

Deno.test("an infinite loop under callAsyncWith({ timeoutMs }) rejects with Interrupt", async () => {
  using env = await setup((n) => n);
  const started = performance.now();
  await assert.rejects(
    () => env.instance.getFunc("spin")!.callAsyncWith({ timeoutMs: 200 }),
    isInterrupt,
  );
  console.log(`timeout 200 ms: rejected after ${(performance.now() - started).toFixed(0)} ms`);
  assert.equal(await env.instance.getFunc("run")!.callAsync(4), 4, "the store stays usable");
});

Deno.test("a synchronous call with a timeout interrupts an infinite loop", () => {
  using engine = new Engine({ epochInterruption: true });
  using store = new Store(engine);
  using module = new Module(engine, PURE);
  const instance = new Instance(store, module, []);
  const started = performance.now();
  assert.throws(() => instance.getFunc("spin")!.callWith({ timeoutMs: 150 }), isInterrupt);
  console.log(`sync timeout 150 ms: trapped after ${(performance.now() - started).toFixed(0)} ms`);
  assert.equal(instance.getFunc("work")!.callWith({ timeoutMs: 5_000 }, 3), 14);
  assert.throws(() => {
    using plain = new Engine();
    using s = new Store(plain);
    using m = new Module(plain, `(module (func (export "f")))`);
    new Instance(s, m, []).getFunc("f")!.callWith({ timeoutMs: 10 });
  }, /epochInterruption: true/);
});

Deno.test("a rejected or throwing async host function fails the call with the original error", async () => {
  const original = new SyntaxError("host failed");
  let mode: "reject" | "throw" | "bad" = "reject";
  using env = await setup(() => {
    if (mode === "throw") throw original;
    if (mode === "bad") return "nope" as unknown as number;
    return Promise.reject(original);
  });
  const run = env.instance.getFunc("run")!;
  await assert.rejects(() => run.callAsync(1), (e) => e === original);
  mode = "throw";
  await assert.rejects(() => run.callAsync(1), (e) => e === original);
  mode = "bad";
  await assert.rejects(() => run.callAsync(1), /expected i32, got string "nope"/);
});

Deno.test("a timeout during an async host function interrupts the call", async () => {
  using env = await setup(() => new Promise((r) => setTimeout(() => r(1), 2_000)));
  const started = performance.now();
  await assert.rejects(
    () => env.instance.getFunc("run")!.callAsyncWith({ timeoutMs: 100 }, 1),
    isInterrupt,
  );
  const elapsed = performance.now() - started;
  console.log(`timeout during host await: ${elapsed.toFixed(0)} ms`);
  assert.ok(elapsed < 1_500, "did not wait for the host promise");
});

Deno.test("an AbortSignal cancels a running callAsync; the store stays usable", async () => {
  using env = await setup((n) => n + 1);
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error("user cancelled")), 50);
  await assert.rejects(
    () => env.instance.getFunc("spin")!.callAsyncWith({ signal: controller.signal }),
    (e) => {
      isInterrupt(e);
      assert.match((e as Error).message, /aborted/);
      assert.equal(((e as Error).cause as Error).message, "user cancelled");
      return true;
    },
  );
  assert.equal(await env.instance.getFunc("run")!.callAsync(1), 2);
  const aborted = AbortSignal.abort();
  await assert.rejects(
    () => env.instance.getFunc("run")!.callAsyncWith({ signal: aborted }, 1),
    isInterrupt,
  );
});

Deno.test("concurrent callAsync on one store run one after the other", async () => {
  const order: string[] = [];
  using env = await setup(async (n) => {
    order.push(`start ${n}`);
    await new Promise((r) => setTimeout(r, 20));
    order.push(`end ${n}`);
    return n;
  });
  const run = env.instance.getFunc("run")!;
  const results = await Promise.all([run.callAsync(1), run.callAsync(2), run.callAsync(3)]);
  assert.deepEqual(results, [1, 2, 3]);
  assert.deepEqual(order, ["start 1", "end 1", "start 2", "end 2", "start 3", "end 3"]);
});

Deno.test("sync calls into a store that is busy or uses async host functions fail clearly", async () => {
  using env = await setup(async (n) => {
    await new Promise((r) => setTimeout(r, 20));
    return n;
  });
  const pending = env.instance.getFunc("run")!.callAsync(1);
  assert.throws(() => env.instance.getFunc("work")!.call(1), /must be async|running a callAsync/);
  assert.equal(await pending, 1);
  assert.throws(() => env.instance.getFunc("run")!.call(1), /calls into it must be async/);
  assert.throws(() => env.linker.instantiate(env.store, env.module), /must be async/);
});

Deno.test("a synchronous host function called during callAsync traps instead of crashing", async () => {
  using engine = new Engine({ epochInterruption: true });
  using store = new Store(engine);
  using module = new Module(
    engine,
    `(module (import "" "s" (func $s (result i32))) (func (export "run") (result i32) call $s))`,
  );
  const s = new Func(store, new FuncType([], ["i32"]), () => 5);
  const instance = new Instance(store, module, [s]);
  await assert.rejects(
    () => instance.getFunc("run")!.callAsync(),
    /synchronous JS host function was called while the guest runs as a call future/,
  );
  assert.equal(instance.getFunc("run")!.call(), 5, "sync calls still work");
});

Deno.test("disposing a store while an async call is pending rejects it without crashing", async () => {
  const env = await setup(() => new Promise((r) => setTimeout(() => r(1), 100)));
  const pendingHost = env.instance.getFunc("run")!.callAsync(1);
  const pendingSpin = env.instance.getFunc("spin")!.callAsync();
  await new Promise((r) => setTimeout(r, 20));
  env.store[Symbol.dispose]();
  await assert.rejects(() => pendingHost, /store was disposed|Store was disposed/);
  await assert.rejects(() => pendingSpin, /disposed/);
  assert.throws(() => env.instance.getFunc("run"), /the Store was disposed/);
  env[Symbol.dispose]();
});

Deno.test("fuel-metered engines yield too", async () => {
  using engine = new Engine({ consumeFuel: true });
  using store = new Store(engine, { fuel: 10_000_000_000 });
  using module = new Module(engine, PURE);
  const instance = new Instance(store, module, []);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  try {
    const result = await instance.getFunc("work")!.callAsync(100_000_000);
    assert.equal(result, instance.getFunc("work")!.call(100_000_000));
    console.log(`fuel yielding: the 5 ms timer fired ${ticks} times`);
    assert.ok(ticks >= 1);
  } finally {
    clearInterval(timer);
  }
});

Deno.test("stores in different workers run in parallel", async () => {
  const source = `
    import { Engine, Instance, Module, Store } from ${
    JSON.stringify(new URL("../mod.ts", import.meta.url).href)
  };
    self.onmessage = async (event) => {
      using engine = new Engine({ epochInterruption: true });
      using store = new Store(engine);
      using module = new Module(engine, ${JSON.stringify(PURE)});
      const work = new Instance(store, module, []).getFunc("work")!;
      const started = performance.now();
      const result = await work.callAsync(event.data);
      self.postMessage({ result, started, ended: performance.now() });
    };`;
  const url = `data:application/typescript;base64,${btoa(source)}`;
  const workers = [0, 1].map(() => new Worker(url, { type: "module" }));
  try {
    const replies = await Promise.all(
      workers.map((worker) =>
        new Promise<{ result: number }>((resolve, reject) => {
          worker.onmessage = (e) => resolve(e.data);
          worker.onerror = (e) => reject(e.message);
          worker.postMessage(50_000_000);
        })
      ),
    );
    using engine = new Engine();
    using store = new Store(engine);
    using module = new Module(engine, PURE);
    const expected = new Instance(store, module, []).getFunc("work")!.call(50_000_000);
    assert.deepEqual(replies.map((r) => r.result), [expected, expected]);
  } finally {
    workers.forEach((w) => w.terminate());
  }
});

Deno.test("an async host function reads and writes the caller's memory across an await", async () => {
  using engine = new Engine({ epochInterruption: true });
  using store = new Store(engine);
  using linker = new Linker(engine);
  linker.defineAsyncFunc(
    "env",
    "shout",
    new FuncType(["i32", "i32"], ["i32"]),
    async (caller, ptr: number, len: number) => {
      await new Promise((r) => setTimeout(r, 5));
      const memory = caller.getExport("memory") as import("../mod.ts").Memory;
      const text = memory.readString(ptr, len);
      return memory.writeString(100, text.toUpperCase());
    },
  );
  using module = new Module(
    engine,
    `(module (import "env" "shout" (func $shout (param i32 i32) (result i32)))
    (memory (export "memory") 1) (data (i32.const 0) "hello async")
    (func (export "run") (result i32) i32.const 0 i32.const 11 call $shout))`,
  );
  const instance = await linker.instantiateAsync(store, module);
  assert.equal(await instance.getFunc("run")!.callAsync(), 11);
  assert.equal(instance.getMemory("memory")!.readString(100, 11), "HELLO ASYNC");
});

Deno.test("calls queued behind a store that gets disposed all reject", async () => {
  const env = await setup(() => new Promise((r) => setTimeout(() => r(1), 30)));
  const run = env.instance.getFunc("run")!;
  const calls = [run.callAsync(1), run.callAsync(2), run.callAsync(3)];
  await new Promise((r) => setTimeout(r, 5));
  env.store[Symbol.dispose]();
  const results = await Promise.allSettled(calls);
  assert.deepEqual(results.map((r) => r.status), ["rejected", "rejected", "rejected"]);
  env[Symbol.dispose]();
});
