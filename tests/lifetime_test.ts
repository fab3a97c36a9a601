// Leak tests: many create/use/drop cycles must keep RSS bounded, with explicit disposal and
// with only the garbage collector (run with --v8-flags=--expose-gc, as `deno task test` does).
import assert from "node:assert/strict";
import {
  Component,
  ComponentLinker,
  Engine,
  Func,
  FuncType,
  Instance,
  Linker,
  Module,
  Store,
  type Table,
} from "../mod.ts";
import { echoComponent } from "./support/component_echo.ts";
import {
  liveExternrefCount,
  liveHostCallbackCount,
  releaseDroppedExternrefs,
} from "../src/core/registry.ts";

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
    // Native allocators take tens of thousands of stores to settle, so a leak shows as growth
    // between two later windows of the same length, not as growth from the start.
    const window = async (cycles: number, dispose: boolean): Promise<number> => {
      for (let i = 0; i < cycles; i++) {
        if (dispose) {
          using store = new Store(engine);
          const instance = linker.instantiate(store, module);
          assert.equal(instance.getFunc("run")!.call(i), i + 1);
        } else {
          cycle(i, false);
          if (i % 10_000 === 0) await collect();
        }
      }
      await collect();
      return rssMiB();
    };
    const warm = await window(20_000, true);
    const usingFirst = await window(50_000, true);
    const usingSecond = await window(50_000, true);
    const gcFirst = await window(50_000, false);
    const gcSecond = await window(50_000, false);
    console.log(
      `RSS (MiB): warm ${warm.toFixed(1)}; with using after 50k ${usingFirst.toFixed(1)}, after ` +
        `100k ${usingSecond.toFixed(1)}; GC only after 50k ${gcFirst.toFixed(1)}, after 100k ${
          gcSecond.toFixed(1)
        }`,
    );
    assert.ok(usingSecond - usingFirst < 24, `with using: +${usingSecond - usingFirst} MiB`);
    assert.ok(gcSecond - gcFirst < 32, `GC only: +${gcSecond - gcFirst} MiB`);
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
    const window = async (cycles: number, dispose: boolean): Promise<number> => {
      for (let i = 0; i < cycles; i++) {
        cycle(dispose);
        if (!dispose && i % 100 === 0) await collect();
      }
      await collect();
      return rssMiB();
    };
    const warm = await window(200, true);
    const usingFirst = await window(500, true);
    const usingSecond = await window(500, true);
    const gcFirst = await window(500, false);
    const gcSecond = await window(500, false);
    console.log(
      `RSS (MiB): warm ${warm.toFixed(1)}; with using ${usingFirst.toFixed(1)} → ${
        usingSecond.toFixed(1)
      }; GC only ${gcFirst.toFixed(1)} → ${gcSecond.toFixed(1)}`,
    );
    assert.ok(usingSecond - usingFirst < 24, `with using: +${usingSecond - usingFirst} MiB`);
    assert.ok(gcSecond - gcFirst < 32, `GC only: +${gcSecond - gcFirst} MiB`);
  },
});

Deno.test({
  name:
    "component store+instance+call cycles (host function, strings) with using and GC-only keep RSS bounded",
  ignore: gc === undefined,
  async fn() {
    using engine = new Engine();
    using component = new Component(engine, echoComponent({ string: "string" }));
    using linker = new ComponentLinker(engine);
    linker.defineFunc("", "id-string", (s: string) => s);
    const text = "ü".repeat(500);
    const window = async (cycles: number, dispose: boolean): Promise<number> => {
      for (let i = 0; i < cycles; i++) {
        const store = new Store(engine);
        const { exports } = linker.instantiate(store, component);
        assert.equal(exports.echoString(text), text);
        if (dispose) store[Symbol.dispose]();
        else if (i % 5_000 === 0) await collect();
      }
      await collect();
      return rssMiB();
    };
    const warm = await window(10_000, true);
    const usingFirst = await window(20_000, true);
    const usingSecond = await window(20_000, true);
    const gcFirst = await window(20_000, false);
    const gcSecond = await window(20_000, false);
    console.log(
      `RSS (MiB): warm ${warm.toFixed(1)}; with dispose after 20k ${usingFirst.toFixed(1)}, ` +
        `after 40k ${usingSecond.toFixed(1)}; GC only after 20k ${gcFirst.toFixed(1)}, after 40k ${
          gcSecond.toFixed(1)
        }`,
    );
    assert.ok(usingSecond - usingFirst < 24, `with dispose: +${usingSecond - usingFirst} MiB`);
    assert.ok(gcSecond - gcFirst < 32, `GC only: +${gcSecond - gcFirst} MiB`);
  },
});
