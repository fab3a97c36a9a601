/** EngineOptions.collector: Wasmtime's deferred reference counting and null collectors. */
import assert from "node:assert/strict";
import { Engine, Instance, Module, Store, Trap, TrapCode, WasmtimeError } from "../mod.ts";
import { BINARY_TREES_WAT } from "../bench/gc_bench.ts";

function trees(collector: "drc" | "null" | undefined, memorySize?: number) {
  const engine = new Engine({ gc: true, functionReferences: true, collector });
  const module = new Module(engine, BINARY_TREES_WAT);
  const store = new Store(engine, memorySize === undefined ? {} : { limits: { memorySize } });
  const run = new Instance(store, module, []).getFunc("run")!;
  return {
    run: (depth: number, iterations: number) => run.call(depth, iterations),
    [Symbol.dispose]() {
      store[Symbol.dispose]();
      module[Symbol.dispose]();
      engine[Symbol.dispose]();
    },
  };
}

Deno.test("collector: drc and null compute the same GC-heavy result", () => {
  for (const collector of [undefined, "drc", "null"] as const) {
    using program = trees(collector);
    assert.equal(program.run(10, 5), (2 ** 11 - 1) * 5, String(collector));
  }
});

Deno.test("collector: null never frees, so a bounded GC heap fills and allocation traps; drc reuses it", () => {
  // 40 trees of 2^13 nodes each are several MiB of garbage; the heap is capped at 1 MiB.
  {
    using program = trees("null", 1 << 20);
    assert.throws(
      () => program.run(12, 40),
      (error: unknown) => error instanceof Trap && error.code === TrapCode.AllocationTooLarge,
    );
  }
  using program = trees("drc", 1 << 20);
  assert.equal(program.run(12, 40), (2 ** 13 - 1) * 40);
});

Deno.test("collector: the option is checked and kept in engine.options", () => {
  using engine = new Engine({ collector: "null" });
  assert.equal(engine.options.collector, "null");
  // deno-lint-ignore no-explicit-any
  assert.throws(() => new Engine({ collector: "copying" as any }), WasmtimeError);
  // deno-lint-ignore no-explicit-any
  assert.throws(() => new Engine({ collector: 1 as any }), /must be "drc" or "null"/);
});
