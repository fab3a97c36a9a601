/**
 * Async component calls and host functions: `ComponentFunc.callAsync`,
 * `ComponentLinker.instantiateAsync` / `defineAsyncFunc`, sync host functions performed between
 * polls, deadlines / AbortSignal / fuel, and runWasi with a component's own imports.
 */
import assert from "node:assert/strict";
import {
  Component,
  ComponentError,
  type ComponentInstance,
  ComponentLinker,
  Engine,
  Store,
  Trap,
  TrapCode,
  WasmtimeError,
} from "../mod.ts";
import { instantiateWasi, runWasi } from "../wasi.ts";

/**
 * Imports `local:test/host` (u64, string and result<u32, string> values, a sleep) and exports
 * functions calling each, plus a spinning one. A bump allocator serves both directions.
 */
const HOST_WAT = `(component
  (import "local:test/host" (instance $host
    (export "double" (func (param "x" u64) (result u64)))
    (export "greet" (func (param "name" string) (result string)))
    (export "check" (func (param "x" u32) (result (result u32 (error string)))))
    (export "sleep" (func (param "ms" u32)))))
  (core module $libc
    (memory (export "memory") 1)
    (global $bump (mut i32) (i32.const 4096))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      global.get $bump
      local.get 2 i32.const 1 i32.sub i32.add
      local.get 2 i32.const 1 i32.sub i32.const -1 i32.xor i32.and
      local.tee $p
      local.get 3 i32.add
      global.set $bump
      local.get $p))
  (core instance $libc (instantiate $libc))
  (alias core export $libc "memory" (core memory $mem))
  (alias core export $libc "realloc" (core func $realloc))
  (core func $double (canon lower (func $host "double")))
  (core func $greet (canon lower (func $host "greet") (memory $mem) (realloc $realloc)))
  (core func $check (canon lower (func $host "check") (memory $mem) (realloc $realloc)))
  (core func $sleep (canon lower (func $host "sleep")))
  (core module $m
    (import "libc" "memory" (memory 1))
    (import "host" "double" (func $double (param i64) (result i64)))
    (import "host" "greet" (func $greet (param i32 i32 i32)))
    (import "host" "check" (func $check (param i32 i32)))
    (import "host" "sleep" (func $sleep (param i32)))
    (func (export "quad") (param i64) (result i64) local.get 0 call $double call $double)
    (func (export "hello") (param i32 i32) (result i32)
      local.get 0 local.get 1 i32.const 512 call $greet i32.const 512)
    (func (export "checked") (param i32) (result i32) local.get 0 i32.const 600 call $check
      i32.const 600)
    (func (export "nap") (param i32) local.get 0 call $sleep)
    (func (export "spin") (loop $l br $l))
    (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))
  (core instance $i (instantiate $m
    (with "libc" (instance $libc))
    (with "host" (instance (export "double" (func $double)) (export "greet" (func $greet))
      (export "check" (func $check)) (export "sleep" (func $sleep))))))
  (func (export "quad") (param "x" u64) (result u64) (canon lift (core func $i "quad")))
  (func (export "hello") (param "name" string) (result string)
    (canon lift (core func $i "hello") (memory $mem) (realloc $realloc)))
  (func (export "checked") (param "x" u32) (result (result u32 (error string)))
    (canon lift (core func $i "checked") (memory $mem) (realloc $realloc)))
  (func (export "nap") (param "ms" u32) (canon lift (core func $i "nap")))
  (func (export "spin") (canon lift (core func $i "spin")))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $i "add"))))`;

/** A command component: its `run` logs a string through `local:app/host#log`. */
const COMMAND_WAT = `(component
  (import "local:app/host" (instance $host (export "log" (func (param "msg" string)))))
  (core module $libc (memory (export "memory") 1))
  (core instance $libc (instantiate $libc))
  (alias core export $libc "memory" (core memory $mem))
  (core func $log (canon lower (func $host "log") (memory $mem)))
  (core module $m
    (import "libc" "memory" (memory 1))
    (import "host" "log" (func $log (param i32 i32)))
    (data (i32.const 16) "hello from wasm")
    (func (export "run") (result i32) i32.const 16 i32.const 15 call $log i32.const 0))
  (core instance $i (instantiate $m
    (with "libc" (instance $libc)) (with "host" (instance (export "log" (func $log))))))
  (func $run (result (result)) (canon lift (core func $i "run")))
  (instance $run (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $run)))`;

const HOST = "local:test/host";
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function isInterrupt(error: unknown): boolean {
  return error instanceof Trap && error.code === TrapCode.Interrupt;
}

/** Async host functions for every import of HOST_WAT. */
function defineAsyncHost(linker: ComponentLinker, log: string[] = []): void {
  linker.defineAsyncFunc(HOST, "double", async (x: bigint) => {
    await delay(1);
    return x * 2n;
  });
  linker.defineAsyncFunc(HOST, "greet", async (name: string) => {
    log.push(name);
    await delay(Math.random() * 5);
    return `Hello, ${name}!`;
  });
  linker.defineAsyncFunc(HOST, "check", async (x: number) => {
    await delay(1);
    if (x > 100) throw new ComponentError(`${x} is too big`);
    return x + 1;
  });
  linker.defineAsyncFunc(HOST, "sleep", (ms: number) => delay(ms));
}

Deno.test("callAsync returns results like call, result<T, E> included", async () => {
  using engine = new Engine({ epochInterruption: true });
  using component = new Component(engine, HOST_WAT);
  using linker = new ComponentLinker(engine);
  linker.defineUnknownImportsAsTraps(component);
  using store = new Store(engine);
  const instance = linker.instantiate(store, component);
  const add = instance.getFunc("add")!;
  assert.equal(await add.callAsync(40, 2), 42);
  assert.equal(await add.callAsyncWith({ timeoutMs: 1_000 }, 0xffff_ffff, 1), 0);
  // Value mismatches are the same TypeError as for call, before anything runs.
  await assert.rejects(() => add.callAsync(2 ** 40, 1), /add: arg 0.*expected u32/);
  // The store still takes synchronous calls: a plain linker makes no call-future-only store.
  assert.equal(instance.exports.add(1, 2), 3);
});

Deno.test("async host functions: bigint, string and result values awaited", async () => {
  using engine = new Engine({ epochInterruption: true });
  using component = new Component(engine, HOST_WAT);
  using linker = new ComponentLinker(engine);
  const log: string[] = [];
  defineAsyncHost(linker, log);
  using store = new Store(engine);
  assert.throws(() => linker.instantiate(store, component), /defineAsyncFunc.*instantiateAsync/);
  const instance = await linker.instantiateAsync(store, component);
  assert.equal(await instance.getFunc("quad")!.callAsync(5n), 20n);
  assert.equal(await instance.getFunc("hello")!.callAsync("Deno"), "Hello, Deno!");
  assert.equal(await instance.getFunc("hello")!.callAsync("ünï ✓"), "Hello, ünï ✓!");
  assert.deepEqual(log, ["Deno", "ünï ✓"]);
  const checked = instance.getFunc("checked")!;
  assert.equal(await checked.callAsync(41), 42);
  // A ComponentError rejection is the import's `err`, which the guest returns as its own.
  await assert.rejects(
    () => checked.callAsync(500),
    (e) => e instanceof ComponentError && e.payload === "500 is too big",
  );
  // Synchronous calls cannot await: refused with what to do.
  assert.throws(() => instance.exports.quad(1n), /callAsync/);
});

Deno.test("a rejected async host function traps the guest and is rethrown as itself", async () => {
  using engine = new Engine({ epochInterruption: true });
  using component = new Component(engine, HOST_WAT);
  using linker = new ComponentLinker(engine);
  defineAsyncHost(linker);
  const boom = new Error("boom");
  linker.allowShadowing(true);
  linker.defineAsyncFunc(HOST, "greet", async () => {
    await delay(1);
    throw boom;
  });
  linker.defineAsyncFunc(HOST, "double", () => "not a bigint");
  using store = new Store(engine);
  const instance = await linker.instantiateAsync(store, component);
  await assert.rejects(() => instance.getFunc("hello")!.callAsync("x"), (e) => e === boom);
  // After a trap Wasmtime refuses every further component call into the store, cleanly.
  await assert.rejects(
    () => instance.getFunc("add")!.callAsync(1, 2),
    (e) => e instanceof Trap && e.code === TrapCode.CannotEnterComponent,
  );
  // A result that does not fit the type traps too, naming the function and the value.
  using store2 = new Store(engine);
  const other = await linker.instantiateAsync(store2, component);
  await assert.rejects(
    () => other.getFunc("quad")!.callAsync(1n),
    (e) => e instanceof TypeError && /double: result.*expected u64/.test(e.message),
  );
});

Deno.test("sync host functions run between polls of an async instance's call futures", async () => {
  using engine = new Engine({ epochInterruption: true });
  using component = new Component(engine, HOST_WAT);
  using linker = new ComponentLinker(engine);
  const seen: string[] = [];
  linker.defineFunc(HOST, "double", (x: bigint) => x * 2n);
  linker.defineFunc(HOST, "greet", (name: string) => (seen.push(name), `Hi ${name}`));
  linker.defineFunc(HOST, "check", (x: number) => {
    if (x > 100) throw new ComponentError("big");
    return x;
  });
  linker.defineFunc(HOST, "sleep", () => Promise.resolve());
  // Instantiated synchronously, they run inline and cannot run inside a call future.
  using syncStore = new Store(engine);
  const inline = linker.instantiate(syncStore, component);
  assert.equal(inline.exports.quad(3n), 12n);
  await assert.rejects(() => inline.getFunc("quad")!.callAsync(3n), /instantiateAsync/);

  using store = new Store(engine);
  const instance = await linker.instantiateAsync(store, component);
  assert.equal(await instance.getFunc("quad")!.callAsync(3n), 12n);
  assert.equal(await instance.getFunc("hello")!.callAsync("a"), "Hi a");
  // Synchronous calls into the store run as call futures on this thread, fast path or not.
  assert.equal(instance.exports.quad(4n), 16n);
  assert.equal(instance.exports.hello("b"), "Hi b");
  assert.equal(instance.getFunc("hello")!.callWith({ timeoutMs: 1_000 }, "c"), "Hi c");
  assert.equal(instance.exports.add(2, 3), 5);
  assert.throws(() => instance.exports.checked(101), ComponentError);
  assert.deepEqual(seen, ["a", "b", "c"]);
  // A sync host function returning a Promise is refused (defineAsyncFunc is the way).
  await assert.rejects(() => instance.getFunc("nap")!.callAsync(1), /defineAsyncFunc/);
});

Deno.test("a deadline stops a spinning guest and one waiting for an async host function", async () => {
  using engine = new Engine({ epochInterruption: true });
  using component = new Component(engine, HOST_WAT);
  using linker = new ComponentLinker(engine);
  defineAsyncHost(linker);
  linker.allowShadowing(true);
  let pending = 0;
  linker.defineAsyncFunc(HOST, "sleep", () => {
    pending++;
    return new Promise(() => {}); // never settles
  });
  using store = new Store(engine);
  const instance = await linker.instantiateAsync(store, component);
  // A trap ends component calls into its store: the second guest gets a store of its own.
  using napStore = new Store(engine);
  const napper = await linker.instantiateAsync(napStore, component);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  try {
    const start = performance.now();
    await assert.rejects(
      () => instance.getFunc("spin")!.callAsyncWith({ timeoutMs: 100 }),
      isInterrupt,
    );
    const spun = performance.now() - start;
    assert.ok(spun < 5_000, `spin stopped after ${spun} ms`);
    assert.ok(ticks > 0, "the event loop ran while the guest spun");
    const napStart = performance.now();
    await assert.rejects(
      () => napper.getFunc("nap")!.callAsyncWith({ timeoutMs: 100 }, 1),
      isInterrupt,
    );
    assert.equal(pending, 1);
    assert.ok(performance.now() - napStart < 5_000);
  } finally {
    clearInterval(timer);
  }
  // The store can still be disposed, and calls into it are refused, not hung.
  await assert.rejects(() => instance.getFunc("quad")!.callAsync(1n), Trap);
});

Deno.test("an AbortSignal cancels an async component call, queued ones too", async () => {
  using engine = new Engine({ epochInterruption: true });
  using component = new Component(engine, HOST_WAT);
  using linker = new ComponentLinker(engine);
  defineAsyncHost(linker);
  using store = new Store(engine);
  const instance = await linker.instantiateAsync(store, component);
  // An already aborted signal rejects before the guest runs (the store is untouched).
  await assert.rejects(
    () => instance.getFunc("add")!.callAsyncWith({ signal: AbortSignal.abort() }, 1, 2),
    isInterrupt,
  );
  const controller = new AbortController();
  const queuedController = new AbortController();
  const spinning = instance.getFunc("spin")!.callAsyncWith({ signal: controller.signal });
  const queued = instance.getFunc("quad")!.callAsyncWith({ signal: queuedController.signal }, 2n);
  const late = instance.getFunc("quad")!.callAsync(2n);
  setTimeout(() => queuedController.abort(), 20);
  setTimeout(() => controller.abort(new Error("stop")), 50);
  // The queued call leaves the queue when aborted, before the running one ends.
  await assert.rejects(() => queued, isInterrupt);
  await assert.rejects(() => spinning, (e) => isInterrupt(e) && /aborted/.test(String(e)));
  // The interrupted guest ended component calls into this store: the next one is refused.
  await assert.rejects(
    () => late,
    (e) => e instanceof Trap && e.code === TrapCode.CannotEnterComponent,
  );
});

Deno.test("fuel stops an async component call", async () => {
  using engine = new Engine({ consumeFuel: true });
  using component = new Component(engine, HOST_WAT);
  using linker = new ComponentLinker(engine);
  linker.defineUnknownImportsAsTraps(component);
  using store = new Store(engine, { fuel: 50_000_000 });
  const instance = await linker.instantiateAsync(store, component);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  try {
    await assert.rejects(
      () => instance.getFunc("spin")!.callAsync(),
      (e) => e instanceof Trap && e.code === TrapCode.OutOfFuel,
    );
  } finally {
    clearInterval(timer);
  }
  // The guest yielded every fuel slice, so the event loop ran meanwhile.
  assert.ok(ticks > 0, "the event loop ran while the guest burnt its fuel");
});

Deno.test("concurrent callAsync on one store queue without mixing their values", async () => {
  using engine = new Engine({ epochInterruption: true });
  using component = new Component(engine, HOST_WAT);
  using linker = new ComponentLinker(engine);
  defineAsyncHost(linker);
  using store = new Store(engine);
  const instance = await linker.instantiateAsync(store, component);
  const hello = instance.getFunc("hello")!;
  const quad = instance.getFunc("quad")!;
  const names = Array.from({ length: 20 }, (_, i) => `caller-${i}-${"x".repeat(i * 7)}`);
  const results = await Promise.all(
    names.flatMap((name, i) => [hello.callAsync(name), quad.callAsync(BigInt(i))]),
  );
  names.forEach((name, i) => {
    assert.equal(results[2 * i], `Hello, ${name}!`);
    assert.equal(results[2 * i + 1], BigInt(i) * 4n);
  });
});

Deno.test("callAsync after the store is disposed throws; disposal during a call interrupts it", async () => {
  using engine = new Engine({ epochInterruption: true });
  using component = new Component(engine, HOST_WAT);
  using linker = new ComponentLinker(engine);
  defineAsyncHost(linker);
  const store = new Store(engine);
  const instance = await linker.instantiateAsync(store, component);
  const spin = instance.getFunc("spin")!;
  const running = spin.callAsync();
  setTimeout(() => store[Symbol.dispose](), 30);
  await assert.rejects(() => running, isInterrupt);
  await assert.rejects(() => spin.callAsync(), WasmtimeError);
});

Deno.test("disposing the store while an async host function is pending interrupts the call", async () => {
  using engine = new Engine({ epochInterruption: true });
  using component = new Component(engine, HOST_WAT);
  using linker = new ComponentLinker(engine);
  defineAsyncHost(linker);
  linker.allowShadowing(true);
  let settle!: () => void;
  linker.defineAsyncFunc(HOST, "sleep", () => new Promise<void>((r) => (settle = r)));
  const store = new Store(engine);
  const instance = await linker.instantiateAsync(store, component);
  const napping = instance.getFunc("nap")!.callAsync(1);
  await delay(20);
  store[Symbol.dispose]();
  await assert.rejects(() => napping, isInterrupt);
  // The host function settling late writes into nothing: the recorded call is gone.
  settle();
  await delay(5);
  await assert.rejects(() => instance.getFunc("add")!.callAsync(1, 2), WasmtimeError);
});

Deno.test("runWasi and instantiateWasi give a component its own imports", async () => {
  using engine = new Engine({ epochInterruption: true });
  using component = new Component(engine, COMMAND_WAT);
  for (
    const options of [{}, { nonBlocking: true, timeoutMs: 5_000 }, { syncWasi: true }] as const
  ) {
    const seen: string[] = [];
    const result = await runWasi(component, {
      ...options,
      imports: { "local:app/host": { log: (msg: string) => void seen.push(msg) } },
    });
    assert.equal(result.exitCode, 0, JSON.stringify(options));
    assert.deepEqual(seen, ["hello from wasm"], JSON.stringify(options));
  }
  // Missing, misspelled or mistyped imports are refused with what the component imports.
  await assert.rejects(() => runWasi(component), /local:app\/host/);
  await assert.rejects(
    () => runWasi(component, { imports: { "local:app/hots": { log() {} } } }),
    /imports\["local:app\/hots"\] names no function interface.*"local:app\/host"/,
  );
  await assert.rejects(
    () => runWasi(component, { imports: { "local:app/host": { log: 1 } } } as never),
    /log must be a function/,
  );
  await assert.rejects(
    () => runWasi(component, { link: () => {} }),
    /`link` defines core-module imports/,
  );
  // A host function's error fails the run: rethrown as itself, as for modules.
  const failure = new Error("no logging today");
  await assert.rejects(
    () =>
      runWasi(component, {
        imports: {
          "local:app/host": {
            log() {
              throw failure;
            },
          },
        },
      }),
    (e) => e === failure,
  );
  // instantiateWasi: the exports run as call futures, host functions between polls.
  const seen: string[] = [];
  using guest = await instantiateWasi(component, {
    imports: { "local:app/host": { log: (msg: string) => void seen.push(msg) } },
  });
  const run = guest.component!.exports["wasi:cli/run@0.2.0"].run;
  run();
  await guest.component!.getFunc("run", "wasi:cli/run@0.2.0")!.callAsync();
  assert.deepEqual(seen, ["hello from wasm", "hello from wasm"]);
});

Deno.test("a host function performed between polls cannot call into its own store", async () => {
  // The suspended guest holds the store: a nested call would run two calls on it at once.
  using engine = new Engine({ epochInterruption: true });
  using component = new Component(engine, HOST_WAT);
  using linker = new ComponentLinker(engine);
  let instance: ComponentInstance | undefined;
  let nested: unknown;
  linker.defineFunc(HOST, "double", (x: bigint) => {
    try {
      return instance!.exports.add(1, 2) === 3 ? x * 2n : 0n;
    } catch (error) {
      nested = error;
      throw error;
    }
  });
  linker.defineFunc(HOST, "greet", (name: string) => name);
  linker.defineFunc(HOST, "check", (x: number) => x);
  linker.defineFunc(HOST, "sleep", () => {});
  using store = new Store(engine);
  instance = await linker.instantiateAsync(store, component);
  assert.throws(() => instance!.exports.quad(3n), /re-entrant call/);
  assert.match(String(nested), /re-entrant call: a host function running between polls/);
  // In an async call the same entry is refused too (the store is running that call).
  using other = new Store(engine);
  instance = await linker.instantiateAsync(other, component);
  assert.equal(instance.exports.add(2, 3), 5);
  await assert.rejects(
    () => instance!.getFunc("quad")!.callAsync(3n),
    /the store is running a callAsync|re-entrant/,
  );
});
