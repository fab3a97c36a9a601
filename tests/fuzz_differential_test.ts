// The CI slice of the differential fuzzer (tasks/fuzz.ts): a fixed range of wasm-tools smith
// seeds must behave the same through the binding and through V8's WebAssembly, and a Wasmtime
// that behaves differently must be caught, shrunk and written as a replayable repro.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Engine, Module, type ValType, wat2wasm } from "../mod.ts";
import {
  boundWaits,
  type Call,
  exportFuel,
  fuzz,
  GC_ENGINE,
  hasWasmTools,
  replay,
  runModule,
  SMITH_GC_ARGS,
  SMITH_THREADS_ARGS,
  THREADS_ENGINE,
  WASM_TOOLS_VERSION,
} from "../tasks/fuzz.ts";

const tools = await hasWasmTools();
if (!tools) {
  console.warn(
    `SKIPPED tests/fuzz_differential_test.ts: wasm-tools is not on PATH ` +
      `(cargo install --locked wasm-tools --version ${WASM_TOOLS_VERSION}; .ci/run installs it)`,
  );
}

Deno.test({
  name: "fixed smith seeds behave the same in the binding and in V8",
  ignore: !tools,
  async fn() {
    const summary = await fuzz({ seed: 1, count: 1500, seconds: 120, minimize: false });
    assert.deepEqual(
      summary.findings.map((f) => `seed ${f.seed}: ${f.divergence.detail}`),
      [],
    );
    // The slice must exercise something: modules instantiate, calls return and trap.
    assert.equal(summary.modules + summary.rejected, 1500, "the time bound cut the slice short");
    assert.ok(summary.instantiated > 1200, `only ${summary.instantiated} instantiated`);
    assert.ok(summary.calls > 4000, `only ${summary.calls} calls`);
    assert.ok((summary.outcomes["returned"] ?? 0) > 1000, JSON.stringify(summary.outcomes));
    for (const kind of ["unreachable", "memory out of bounds", "integer overflow"]) {
      assert.ok((summary.outcomes[kind] ?? 0) > 0, `no call ended in ${kind}`);
    }
  },
});

Deno.test({
  name: "fixed smith seeds with GC and exceptions behave the same in the binding and in V8",
  ignore: !tools,
  async fn() {
    const summary = await fuzz({
      seed: 1,
      count: 300,
      seconds: 120,
      minimize: false,
      smith: SMITH_GC_ARGS,
      engine: GC_ENGINE,
    });
    assert.deepEqual(
      summary.findings.map((f) => `seed ${f.seed}: ${f.divergence.detail}`),
      [],
    );
    assert.equal(summary.modules + summary.rejected, 300, "the time bound cut the slice short");
    assert.ok(summary.instantiated > 200, `only ${summary.instantiated} instantiated`);
    // Exceptions escape calls and GC casts fail in both engines alike.
    for (const kind of ["uncaught exception", "cast failure", "null reference"]) {
      assert.ok((summary.outcomes[kind] ?? 0) > 0, `no call ended in ${kind}`);
    }
  },
});

Deno.test({
  name: "a Wasmtime that runs out of fuel diverges, and the shrunk repro replays",
  ignore: !tools,
  async fn() {
    // A fuel-metered engine with a store holding no fuel traps where V8 runs: a stand-in for
    // a binding bug that goes through the whole pipeline (detect, shrink, write, replay).
    const out = await Deno.makeTempDir({ prefix: "wasmtime-deno-fuzz-" });
    try {
      const summary = await fuzz({
        seed: 1,
        count: 10,
        out,
        shrinkMs: 3000,
        engine: { consumeFuel: true },
      });
      assert.ok(summary.findings.length > 0, "an out-of-fuel Wasmtime went unnoticed");
      const finding = summary.findings[0];
      assert.match(finding.divergence.key, /OutOfFuel/);
      assert.ok(finding.dir !== undefined);
      for (const file of ["input.bin", "module.wasm", "module.wat", "calls.json", "report.txt"]) {
        assert.ok((await Deno.stat(join(finding.dir, file))).size > 0, `${file} is empty`);
      }
      const report = await Deno.readTextFile(join(finding.dir, "report.txt"));
      assert.match(report, new RegExp(`--seed ${finding.seed} --count 1`));
      const again = await replay(finding.dir, { consumeFuel: true });
      assert.equal(again.divergence?.key, finding.divergence.key);
      assert.equal((await replay(finding.dir)).divergence, undefined);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});

Deno.test("the fuel global smith appends is exported, with or without an export section", () => {
  for (
    const wat of [
      `(module (global (mut i32) (i32.const 7)) (global (mut i32) (i32.const 1000)))`,
      `(module (memory (export "m") 1) (global (mut i32) (i32.const 1000)) (func (export "f")))`,
      `(module (global (mut i32) (i32.const 1000)) (func $f) (start $f) (data "x"))`,
    ]
  ) {
    const bytes = exportFuel(wat2wasm(wat)) as Uint8Array<ArrayBuffer>;
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
    const fuel = instance.exports.__fuzz_fuel as WebAssembly.Global;
    assert.equal(fuel.value, 1000, wat);
    fuel.value = 5;
    assert.equal(fuel.value, 5);
  }
});

Deno.test("functions with GC-typed parameters and results are called and compared", () => {
  const wasm = wat2wasm(`(module
    (type $box (struct (field i32)))
    (type $other (struct (field i64)))
    (func (export "make") (param i32) (result (ref $box)) (struct.new $box (local.get 0)))
    (func (export "other") (result (ref null $other)) (struct.new $other (i64.const 1)))
    (func (export "read") (param (ref $box)) (result i32) (struct.get $box 0 (local.get 0)))
    (func (export "id") (param anyref) (result anyref) (local.get 0))
    (func (export "i31") (param i31ref) (result i32)
      (if (result i32) (ref.is_null (local.get 0)) (then (i32.const -1))
        (else (i31.get_s (local.get 0)))))
    (func (export "cast") (param anyref) (result i32)
      (struct.get $box 0 (ref.cast (ref $box) (local.get 0)))))`) as Uint8Array<ArrayBuffer>;
  using engine = new Engine(GC_ENGINE);
  // Concrete types read as their names in the engine (the same for runModule's reads).
  using module = new Module(engine, wasm);
  const box = (module.exports[2].type as { params: readonly ValType[] }).params[0];
  const call = (name: string, type: ValType, value: string | null): Call => ({
    export: name,
    args: [{ type, value }],
    via: "call",
  });
  const plan: Call[] = [
    call("make", "i32", "7"),
    { export: "other", args: [], via: "call" },
    call("read", box, "#0"), // the struct "make" returned: 7 in both engines
    call("read", box, "#1"), // the other module type: refused by both
    call("read", box, null), // null for a non-nullable type: refused by both
    call("read", box, "5"), // an i31 for a struct type: refused by both
    call("id", "anyref", "#0"),
    call("id", "anyref", "-1073741824"),
    call("i31", "i31ref", "1073741823"),
    call("i31", "i31ref", null),
    call("cast", "anyref", "#0"),
    call("cast", "anyref", "#1"), // cast failure in both
    call("cast", "anyref", "3"),
    // typed() and callBits take concrete types too, checked before the unchecked call.
    { ...call("read", box, "#0"), via: "typed" },
    { ...call("read", box, "#1"), via: "typed" },
    { ...call("read", box, "#1"), via: "callBits" },
  ];
  const report = runModule(engine, wasm, plan);
  assert.equal(report.divergence, undefined, report.divergence?.detail);
  assert.equal(report.calls, plan.length);
  assert.equal(report.gcCalls, plan.length);
  assert.deepEqual(report.outcomes, { returned: 9, "argument type": 5, "cast failure": 2 });
});

Deno.test({
  name: "fixed smith seeds with shared memory and atomics behave the same in the binding and in V8",
  ignore: !tools,
  async fn() {
    const summary = await fuzz({
      seed: 1,
      count: 400,
      seconds: 120,
      minimize: false,
      smith: SMITH_THREADS_ARGS,
      engine: THREADS_ENGINE,
    });
    assert.deepEqual(
      summary.findings.map((f) => `seed ${f.seed}: ${f.divergence.detail}`),
      [],
    );
    assert.equal(summary.modules + summary.rejected, 400, "the time bound cut the slice short");
    assert.ok(summary.sharedModules > 20, `only ${summary.sharedModules} shared memories`);
    // Atomic accesses ran: misaligned ones trap in both engines alike.
    assert.ok((summary.outcomes["unaligned atomic"] ?? 0) > 0, JSON.stringify(summary.outcomes));
  },
});

Deno.test({
  name: "atomic waits are bounded, so a matching wait returns in both engines instead of blocking",
  ignore: !tools,
  async fn() {
    const wasm = (await boundWaits(wat2wasm(`(module
      (memory (export "m") 1 1 shared)
      (memory $plain 1 1)
      (func (export "wait32") (param i32) (result i32)
        (memory.atomic.wait32 (i32.const 0) (local.get 0) (i64.const 3000000000)))
      (func (export "wait64") (result i32)
        (memory.atomic.wait64 offset=8 (i32.const 0) (i64.const 0) (i64.const 9000000000000)))
      (func (export "plain") (result i32)
        (memory.atomic.wait32 $plain (i32.const 0) (i32.const 0) (i64.const -1)))
      (func (export "misaligned") (result i32)
        (memory.atomic.wait32 (i32.const 2) (i32.const 0) (i64.const -1)))
      (func (export "notify") (result i32) (memory.atomic.notify (i32.const 0) (i32.const 1))))`))) as Uint8Array<
      ArrayBuffer
    >;
    const plan: Call[] = [
      { export: "wait32", args: [{ type: "i32", value: "0" }] }, // matches: would block 3 s
      { export: "wait32", args: [{ type: "i32", value: "1" }] }, // not equal
      { export: "wait64", args: [] },
      { export: "plain", args: [] },
      { export: "misaligned", args: [] },
      { export: "notify", args: [] },
    ];
    using engine = new Engine(THREADS_ENGINE);
    const started = performance.now();
    const report = runModule(engine, wasm, plan);
    // Unbounded, the matching wait would block 3 s in each engine.
    assert.ok(performance.now() - started < 2500, "a wait blocked");
    assert.equal(report.divergence, undefined, report.divergence?.detail);
    assert.ok(report.shared);
    assert.deepEqual(report.outcomes, {
      returned: 4,
      "atomic wait on non-shared memory": 1,
      "unaligned atomic": 1,
    });
  },
});
