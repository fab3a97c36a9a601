/**
 * `deno task demo`: runs a small bundled guest in the sandbox and prints what happened. The
 * guest computes primes and reports them through a host function; a second guest loops forever
 * and is stopped by its fuel budget.
 *
 * @module
 */
import {
  Engine,
  FuncType,
  Linker,
  type Memory,
  Module,
  Store,
  Trap,
  TrapCode,
  version,
} from "../mod.ts";

const PRIMES = `(module
  (import "host" "report" (func $report (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "primes below 100:")
  ;; count primes below $n by trial division, reporting each one
  (func (export "primes") (param $n i32) (result i32)
    (local $i i32) (local $d i32) (local $count i32) (local $prime i32)
    (call $report (i32.const 0) (i32.const 17))
    (local.set $i (i32.const 2))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $prime (i32.const 1))
      (local.set $d (i32.const 2))
      (block $checked (loop $divide
        (br_if $checked (i32.gt_u (i32.mul (local.get $d) (local.get $d)) (local.get $i)))
        (if (i32.eqz (i32.rem_u (local.get $i) (local.get $d)))
          (then (local.set $prime (i32.const 0)) (br $checked)))
        (local.set $d (i32.add (local.get $d) (i32.const 1)))
        (br $divide)))
      (if (local.get $prime) (then
        (local.set $count (i32.add (local.get $count) (i32.const 1)))
        (call $report (i32.const -1) (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (local.get $count))
  (func (export "spin") (loop $forever (br $forever))))`;

using engine = new Engine({ consumeFuel: true });
using store = new Store(engine, { fuel: 1_000_000, limits: { memorySize: 1 << 20 } });
using linker = new Linker(engine);
const found: number[] = [];
linker.defineFunc("host", "report", new FuncType(["i32", "i32"], []), (caller, ptr, value) => {
  if (ptr === -1) found.push(value);
  else console.log((caller.getExport("memory") as Memory).readString(ptr, value));
});
using module = new Module(engine, PRIMES);
const instance = linker.instantiate(store, module);

console.log(`Wasmtime ${version()} in Deno ${Deno.version.deno}`);
const count = instance.getFunc("primes")!.call(100);
console.log(found.join(" "));
console.log(`${count} primes, ${1_000_000 - store.fuel} fuel used`);

store.fuel = 50_000;
try {
  instance.getFunc("spin")!.call();
} catch (error) {
  if (!(error instanceof Trap) || error.code !== TrapCode.OutOfFuel) throw error;
  console.log(`an infinite loop was stopped: ${error.message} (TrapCode.${error.codeName})`);
}
