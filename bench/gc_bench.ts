/**
 * A GC-heavy benchmark (binary trees of structs: allocate a tree, walk it, drop it) run with
 * each of Wasmtime's collectors and with V8's WebAssembly GC in the same process.
 *
 * `deno run --allow-ffi --allow-read --allow-env bench/gc_bench.ts [depth] [iterations]`
 *
 * @module
 */
import { Engine, Instance, Module, Store, wat2wasm } from "../mod.ts";

/** Binary trees: `run(depth, iterations)` builds and checks `iterations` trees of `depth`. */
export const BINARY_TREES_WAT = `(module
  (type $node (struct (field $left (ref null $node)) (field $right (ref null $node))))
  (func $make (param $depth i32) (result (ref $node))
    (if (result (ref $node)) (i32.eqz (local.get $depth))
      (then (struct.new $node (ref.null $node) (ref.null $node)))
      (else (struct.new $node
        (call $make (i32.sub (local.get $depth) (i32.const 1)))
        (call $make (i32.sub (local.get $depth) (i32.const 1)))))))
  (func $check (param $tree (ref $node)) (result i32)
    (local $left (ref null $node))
    (local.set $left (struct.get $node $left (local.get $tree)))
    (if (result i32) (ref.is_null (local.get $left))
      (then (i32.const 1))
      (else (i32.add (i32.const 1) (i32.add
        (call $check (ref.as_non_null (local.get $left)))
        (call $check (ref.as_non_null (struct.get $node $right (local.get $tree)))))))))
  (func (export "run") (param $depth i32) (param $iterations i32) (result i32)
    (local $i i32) (local $sum i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $iterations)))
      (local.set $sum (i32.add (local.get $sum) (call $check (call $make (local.get $depth)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (local.get $sum)))`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function time(run: () => number, expected: number): number {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    const result = run();
    times.push(performance.now() - start);
    if (result !== expected) throw new Error(`wrong result ${result}, expected ${expected}`);
  }
  return median(times);
}

if (import.meta.main) {
  const depth = Number(Deno.args[0] ?? 16);
  const iterations = Number(Deno.args[1] ?? 20);
  const expected = (2 ** (depth + 1) - 1) * iterations;
  const wasm = wat2wasm(BINARY_TREES_WAT);
  const results: Record<string, number> = {};
  for (const collector of ["drc", "null"] as const) {
    using engine = new Engine({ gc: true, functionReferences: true, collector });
    using module = new Module(engine, wasm);
    results[`wasmtime ${collector}`] = time(() => {
      // A new store per run: the null collector never frees, so each run starts empty.
      using store = new Store(engine);
      const run = new Instance(store, module, []).getFunc("run")!;
      return run.call(depth, iterations) as number;
    }, expected);
  }
  const v8 = new WebAssembly.Instance(new WebAssembly.Module(wasm)).exports.run as (
    d: number,
    n: number,
  ) => number;
  results["V8"] = time(() => v8(depth, iterations), expected);
  const nodes = expected;
  for (const [name, ms] of Object.entries(results)) {
    console.log(
      `${name.padEnd(14)} ${ms.toFixed(1).padStart(8)} ms  ${
        (ms * 1e6 / nodes).toFixed(1)
      } ns/node` +
        `  ${(ms / results["V8"]).toFixed(2)}x V8`,
    );
  }
}
