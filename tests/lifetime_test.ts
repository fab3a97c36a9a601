// Leak tests: many create/use/drop cycles must keep RSS bounded, with explicit disposal and
// with only the garbage collector (run with --v8-flags=--expose-gc, as `deno task test` does).
import assert from "node:assert/strict";
import { Engine, Func, FuncType, Instance, Linker, Module, Store, type Table } from "../mod.ts";
import { liveHostCallbackCount } from "../src/host.ts";
import { liveExternrefCount, releaseDroppedExternrefs } from "../src/values.ts";

const gc = (globalThis as { gc?: () => void }).gc;

async function collect(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gc!();
    // FinalizationRegistry callbacks run as separate tasks.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

const rssMiB = (): number => Deno.memoryUsage().rss / (1 << 20);

const WAT = `(module
  (import "env" "add1" (func $add1 (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "run") (param i32) (result i32)
    (i32.store (i32.const 0) (local.get 0))
    (call $add1 (i32.load (i32.const 0)))))`;

Deno.test({
  name: "100,000 store+instance+call cycles each with using and GC-only keep RSS bounded",
  ignore: gc === undefined,
  async fn() {
    using engine = new Engine();
    using module = new Module(engine, WAT);
    using linker = new Linker(engine);
    linker.defineFunc("env", "add1", new FuncType(["i32"], ["i32"]), (_c, x) => x + 1);

    const cycle = (i: number, dispose: boolean): void => {
      const store = new Store(engine);
      const instance = linker.instantiate(store, module);
      assert.equal(instance.getFunc("run")!.call(i), i + 1);
      if (dispose) store[Symbol.dispose]();
    };
    for (let i = 0; i < 5_000; i++) cycle(i, true);
    await collect();
    const baseline = rssMiB();

    for (let i = 0; i < 100_000; i++) {
      using store = new Store(engine);
      const instance = linker.instantiate(store, module);
      assert.equal(instance.getFunc("run")!.call(i), i + 1);
    }
    await collect();
    const afterUsing = rssMiB();

    let halfway = 0;
    for (let i = 0; i < 100_000; i++) {
      cycle(i, false);
      if (i % 10_000 === 0) await collect();
      if (i === 50_000) halfway = rssMiB();
    }
    await collect();
    const afterGc = rssMiB();
    console.log(
      `RSS: baseline ${baseline.toFixed(1)} MiB, after 100k with using ${
        afterUsing.toFixed(1)
      } MiB, after 100k GC-only ${afterGc.toFixed(1)} MiB`,
    );
    assert.ok(afterUsing - baseline < 64, `RSS grew ${afterUsing - baseline} MiB with using`);
    // Native allocators settle after tens of thousands of stores; a leak keeps growing.
    assert.ok(afterGc - baseline < 128, `RSS grew ${afterGc - baseline} MiB with GC only`);
    assert.ok(afterGc - halfway < 32, `RSS grew ${afterGc - halfway} MiB in the last 50k cycles`);
  },
});

Deno.test({
  name: "host functions and externrefs are released with their store",
  ignore: gc === undefined,
  async fn() {
    using engine = new Engine();
    using module = new Module(
      engine,
      `(module (import "" "f" (func $f (result i32)))
      (table (export "t") 4 externref)
      (func (export "run") (result i32) call $f))`,
    );
    await collect();
    const callbacksBefore = liveHostCallbackCount();
    releaseDroppedExternrefs();
    const refsBefore = liveExternrefCount();
    for (let i = 0; i < 2_000; i++) {
      const store = new Store(engine);
      const f = new Func(store, new FuncType([], ["i32"]), () => i);
      const instance = new Instance(store, module, [f]);
      assert.equal(instance.getFunc("run")!.call(), i);
      (instance.getTable("t") as Table).set(0, { payload: new Uint8Array(1024) });
      if (i % 2 === 0) store[Symbol.dispose]();
    }
    await collect();
    releaseDroppedExternrefs();
    assert.equal(liveHostCallbackCount(), callbacksBefore, "every host callback was closed");
    assert.equal(liveExternrefCount(), refsBefore, "every externref value was released");
  },
});

Deno.test({
  name: "1,000 engine+module cycles keep RSS bounded",
  ignore: gc === undefined,
  async fn() {
    const cycle = (dispose: boolean): void => {
      const engine = new Engine();
      const module = new Module(engine, WAT);
      const store = new Store(engine);
      const instance = new Instance(store, module, [
        new Func(store, new FuncType(["i32"], ["i32"]), (_c, x) => x * 2),
      ]);
      assert.equal(instance.getFunc("run")!.call(21), 42);
      if (dispose) {
        store[Symbol.dispose]();
        module[Symbol.dispose]();
        engine[Symbol.dispose]();
      }
    };
    for (let i = 0; i < 100; i++) cycle(true);
    await collect();
    const baseline = rssMiB();
    for (let i = 0; i < 500; i++) cycle(true);
    for (let i = 0; i < 500; i++) {
      cycle(false);
      if (i % 100 === 0) await collect();
    }
    await collect();
    const after = rssMiB();
    console.log(
      `RSS: baseline ${baseline.toFixed(1)} MiB, after 1,000 cycles ${after.toFixed(1)} MiB`,
    );
    assert.ok(after - baseline < 96, `RSS grew ${after - baseline} MiB`);
  },
});
