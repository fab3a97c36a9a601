/**
 * `deno task demo`: runs small bundled guests in the sandbox and prints what happened:
 * 1. a WASI command run through the CLI (`src/wasi/cli.ts`), with a fuel budget and a timeout;
 * 2. a guest that computes primes and reports them through a host function;
 * 3. a guest that loops forever and is stopped by its fuel budget;
 * 4. another one run as an async call (the event loop keeps running) and stopped by a deadline.
 *
 * @module
 */
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
  version,
  wat2wasm,
} from "../mod.ts";
import { runCli as cli } from "../src/wasi/command_line.ts";

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

// A WASI "hello" in text format: fd_write of a string to stdout, then proc_exit(0).
const HELLO_WASI = `(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello from a WASI guest, sandboxed by wasmtime-deno\\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 52))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $exit (i32.const 0))))`;

console.log(`Wasmtime ${version} in Deno ${Deno.version.deno}\n`);
const hello = await Deno.makeTempFile({ suffix: ".wasm" });
await Deno.writeFile(hello, wat2wasm(HELLO_WASI));
console.log(`$ wasmtime-deno --fuel 1000000 --timeout 5s hello.wasm`);
const status = await cli(["--fuel", "1000000", "--timeout", "5s", hello]);
console.log(`exit status ${status}\n`);
await Deno.remove(hello);

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

// 4. A guest that would spin forever, run without blocking the event loop and stopped by a
//    wall-clock deadline.
{
  using asyncEngine = new Engine({ epochInterruption: true });
  using asyncStore = new Store(asyncEngine);
  using spinner = new Module(asyncEngine, `(module (func (export "spin") (loop $l (br $l))))`);
  const spin = new Instance(asyncStore, spinner, []).getFunc("spin")!;
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  try {
    await spin.callAsyncWith({ timeoutMs: 300 });
  } catch (error) {
    if (!(error instanceof Trap) || error.code !== TrapCode.Interrupt) throw error;
    console.log(
      `a 300 ms deadline interrupted another infinite loop; meanwhile a 10 ms timer fired ` +
        `${ticks} times (TrapCode.${error.codeName})`,
    );
  } finally {
    clearInterval(timer);
  }
}
