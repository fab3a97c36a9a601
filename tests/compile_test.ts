import assert from "node:assert/strict";
import {
  Engine,
  Instance,
  Module,
  Store,
  Trap,
  TrapCode,
  WasmtimeError,
  wat2wasm,
} from "../mod.ts";
import { assertClean, MOD_URL, runIsolated } from "./helpers.ts";

const ANSWER = wat2wasm(`(module (func (export "answer") (result i32) i32.const 42))`);

/** A module that takes a while to compile: `functions` functions of some arithmetic each. */
function bigModule(functions: number): Uint8Array<ArrayBuffer> {
  const body = Array.from(
    { length: 40 },
    (_, k) => `local.get 0 i32.const ${k * 7919} i32.add i32.const ${k + 3} i32.mul local.set 0`,
  ).join(" ");
  let wat = "(module\n";
  for (let i = 0; i < functions; i++) {
    wat += `(func (export "f${i}") (param i32) (result i32) ${body} local.get 0)\n`;
  }
  return wat2wasm(`${wat})`);
}

function answer(store: Store, module: Module): unknown {
  return new Instance(store, module, []).getFunc("answer")!.call();
}

Deno.test("Module.compile compiles off the JS thread: timers fire while it runs", async () => {
  const big = bigModule(3_000);
  using engine = new Engine();
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  try {
    using module = await Module.compile(engine, big);
    assert.ok(ticks > 0, "the event loop ran while the module compiled");
    using store = new Store(engine);
    const f = new Instance(store, module, []).getFunc("f2999")!;
    // Same result as the synchronous compile's code.
    using sync = new Module(engine, big);
    assert.equal(f.call(5), new Instance(store, sync, []).getFunc("f2999")!.call(5));
  } finally {
    clearInterval(timer);
  }
});

Deno.test("Module.compile copies the bytes: the caller may change or transfer its buffer", async () => {
  using engine = new Engine();
  using store = new Store(engine);
  const changed = ANSWER.slice();
  const compiling = Module.compile(engine, changed);
  changed.fill(0);
  using fromChanged = await compiling;
  assert.equal(answer(store, fromChanged), 42);

  const transferred = ANSWER.slice();
  const compilingTransferred = Module.compile(engine, transferred.buffer);
  const moved = transferred.buffer.transfer();
  assert.equal(transferred.byteLength, 0, "the caller's buffer is detached");
  new Uint8Array(moved).fill(0);
  using fromTransferred = await compilingTransferred;
  assert.equal(answer(store, fromTransferred), 42);
});

Deno.test("Module.compile rejects with the errors new Module throws", async () => {
  using engine = new Engine();
  const invalid = `(module (func (export "f") (result i32) i64.const 1))`;
  let sync: unknown;
  try {
    new Module(engine, invalid);
  } catch (error) {
    sync = error;
  }
  assert.ok(sync instanceof WasmtimeError);
  await assert.rejects(Module.compile(engine, invalid), (error) => {
    assert.ok(error instanceof WasmtimeError);
    assert.equal(error.message, (sync as WasmtimeError).message);
    assert.match(error.message, /^cannot compile the module: .*type mismatch/);
    return true;
  });
  await assert.rejects(Module.compile(engine, new Uint8Array([0, 1, 2])), WasmtimeError);
  await assert.rejects(Module.compile(engine, 7 as unknown as string), /expected WAT text/);
  const disposed = new Engine();
  disposed[Symbol.dispose]();
  await assert.rejects(Module.compile(disposed, ANSWER), /Engine was disposed/);
});

Deno.test("disposing the Engine while Module.compile runs is safe: the module still works", async () => {
  const engine = new Engine();
  using store = new Store(engine); // stores keep working after their Engine is disposed
  const compiling = Module.compile(engine, ANSWER);
  const compilingBig = Module.compile(engine, bigModule(1_000));
  engine[Symbol.dispose]();
  using module = await compiling;
  using big = await compilingBig;
  assert.equal(answer(store, module), 42);
  assert.equal(typeof new Instance(store, big, []).getFunc("f0")!.call(1), "number");
  assert.equal(module.engine, engine);
});

Deno.test("a compiled module nobody awaited is garbage collected", async () => {
  using engine = new Engine();
  let collected = false;
  const registry = new FinalizationRegistry(() => collected = true);
  await (async () => {
    const promise = Module.compile(engine, ANSWER);
    registry.register(await promise, "module");
  })();
  for (let i = 0; i < 20 && !collected; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.ok(collected, "the module was collected (run with --v8-flags=--expose-gc)");
});

Deno.test("exiting, or terminating a Worker, while a compile runs does not crash", async () => {
  const worker = `
    import { Engine, Module, wat2wasm } from "${MOD_URL}";
    const body = Array.from({ length: 40 }, (_, k) => "local.get 0 i32.const " + k + " i32.add local.set 0").join(" ");
    let wat = "(module";
    for (let i = 0; i < 3000; i++) wat += '(func (export "f' + i + '") (param i32) (result i32) ' + body + " local.get 0)";
    const bytes = wat2wasm(wat + ")");
    const engine = new Engine();
    postMessage("compiling");
    Module.compile(engine, bytes);
    Module.compile(engine, bytes);
  `;
  const result = await runIsolated(`
    const url = URL.createObjectURL(new Blob([${
    JSON.stringify(worker)
  }], { type: "text/javascript" }));
    for (let round = 0; round < 3; round++) {
      const w = new Worker(url, { type: "module" });
      await new Promise((resolve) => w.onmessage = resolve);
      await new Promise((resolve) => setTimeout(resolve, 20 + 40 * round));
      w.terminate();
    }
    // The abandoned compiles finish on the blocking pool and must not touch freed memory.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const { Engine, Module } = await import("${MOD_URL}");
    const engine = new Engine();
    Module.compile(engine, "(module (func (export \\"f\\")))");
    console.log("done");
    Deno.exit(0); // with the compile still pending
  `);
  assertClean(result);
  assert.match(result.stdout, /done/);
});

// ---- strategies ------------------------------------------------------------------------------

const PROGRAM = `(module
  (memory (export "memory") 1)
  (func $fib (export "fib") (param i64) (result i64)
    (if (result i64) (i64.lt_u (local.get 0) (i64.const 2))
      (then (local.get 0))
      (else (i64.add (call $fib (i64.sub (local.get 0) (i64.const 1)))
                     (call $fib (i64.sub (local.get 0) (i64.const 2)))))))
  (func (export "sum") (param $n i32) (result i32) (local $i i32) (local $acc i32)
    (loop $l
      (i32.store (i32.shl (i32.and (local.get $i) (i32.const 1023)) (i32.const 2)) (local.get $i))
      (local.set $acc (i32.add (local.get $acc)
        (i32.load (i32.shl (i32.and (local.get $i) (i32.const 1023)) (i32.const 2)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $acc))
  (func (export "f64") (param f64 f64) (result f64) (f64.sqrt (f64.mul (local.get 0) (local.get 1))))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "boom") unreachable)
  (func (export "spin") (loop $l (br $l))))`;

function trapCode(run: () => unknown): TrapCode | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof Trap) return error.code;
    throw error;
  }
  assert.fail("expected a trap");
}

Deno.test("a winch engine runs real wasm with Cranelift's results and traps with codes", async () => {
  const results: unknown[][] = [];
  for (const strategy of ["cranelift", "winch"] as const) {
    using engine = new Engine({ strategy, epochInterruption: true });
    assert.equal(engine.options.strategy, strategy);
    using module = await Module.compile(engine, PROGRAM);
    using store = new Store(engine);
    const instance = new Instance(store, module, []);
    const call = (name: string, ...args: unknown[]) => instance.getFunc(name)!.call(...args);
    results.push([call("fib", 20n), call("sum", 100_000), call("f64", 2, 8), call("div", -7, 2)]);
    assert.equal(trapCode(() => call("boom")), TrapCode.UnreachableCodeReached);
    assert.equal(trapCode(() => call("div", 1, 0)), TrapCode.IntegerDivisionByZero);
    assert.equal(trapCode(() => call("div", -2147483648, -1)), TrapCode.IntegerOverflow);
    assert.equal(trapCode(() => call("load", 65535)), TrapCode.MemoryOutOfBounds);
    const spin = instance.getFunc("spin")!;
    assert.equal(trapCode(() => spin.callWith({ timeoutMs: 50 })), TrapCode.Interrupt);
  }
  assert.deepEqual(results[0], [6765n, 704_982_704, 4, -3]);
  assert.deepEqual(results[1], results[0]);

  using fuelEngine = new Engine({ strategy: "winch", consumeFuel: true });
  using fuelModule = new Module(fuelEngine, PROGRAM);
  using fuelStore = new Store(fuelEngine, { fuel: 10_000 });
  const spin = new Instance(fuelStore, fuelModule, []).getFunc("spin")!;
  assert.equal(trapCode(() => spin.call()), TrapCode.OutOfFuel);
});

Deno.test("winch runs SIMD, atomics on a shared memory and 64-bit memories", () => {
  using engine = new Engine({
    strategy: "winch",
    threads: true,
    sharedMemory: true,
    memory64: true,
    multiMemory: true,
  });
  using module = new Module(
    engine,
    `(module
    (memory 1 1 shared)
    (memory $wide i64 1)
    (func (export "simd") (param i32) (result i32)
      (i32x4.extract_lane 2 (i32x4.add (i32x4.splat (local.get 0)) (v128.const i32x4 1 2 3 4))))
    (func (export "atomic") (param i32) (result i32)
      (drop (i32.atomic.rmw.add (i32.const 0) (local.get 0))) (i32.atomic.load (i32.const 0)))
    (func (export "wide") (param i64 i32) (result i32)
      (i32.store $wide (local.get 0) (local.get 1)) (i32.load $wide (local.get 0))))`,
  );
  using store = new Store(engine);
  const instance = new Instance(store, module, []);
  assert.equal(instance.getFunc("simd")!.call(10), 13);
  assert.equal(instance.getFunc("atomic")!.call(5), 5);
  assert.equal(instance.getFunc("atomic")!.call(5), 10);
  assert.equal(instance.getFunc("wide")!.call(65_532n, 7), 7);
  assert.equal(
    trapCode(() => instance.getFunc("wide")!.call(65_533n, 7)),
    TrapCode.MemoryOutOfBounds,
  );
});

Deno.test("what Winch cannot do fails with a clear error at new Engine or at compile", () => {
  for (const option of ["gc", "tailCall", "exceptions", "relaxedSimd", "functionReferences"]) {
    assert.throws(
      () => new Engine({ strategy: "winch", [option]: true }),
      (error: Error) =>
        error instanceof WasmtimeError && /not supported on this compiler configuration/.test(
          error.message,
        ) && /use strategy "cranelift"/.test(error.message),
      option,
    );
  }
  assert.throws(() => new Engine({ strategy: "winch", debugInfo: true }), /native debug info/);
  assert.throws(
    () => new Engine({ strategy: "winch", signalsBasedTraps: false }),
    /signals-based-traps/,
  );
  // Features Winch lacks are off in a winch engine, so modules using them fail to compile.
  using winch = new Engine({ strategy: "winch" });
  const tail =
    `(module (func $f (result i32) i32.const 1) (func (export "g") (result i32) return_call $f))`;
  assert.throws(() => new Module(winch, tail), /cannot compile the module: .*tail call/);
  using cranelift = new Engine();
  new Module(cranelift, tail)[Symbol.dispose]();
  assert.throws(() => new Engine({ strategy: "fast" as "winch" }), /one of cranelift, winch/);
});

Deno.test("craneliftFlags are applied, checked by Wasmtime, and copied into engine.options", () => {
  const flags: Record<string, string | boolean> = {
    regalloc_algorithm: "single_pass",
    enable_verifier: true,
  };
  using engine = new Engine({ craneliftFlags: flags });
  flags.opt_level = "none";
  assert.deepEqual(engine.options.craneliftFlags, {
    enable_verifier: true,
    regalloc_algorithm: "single_pass",
  });
  assert.deepEqual(Object.keys(engine.options.craneliftFlags!), [
    "enable_verifier",
    "regalloc_algorithm",
  ], "sorted, so equal flags make equal cache keys");
  using module = new Module(engine, ANSWER);
  using store = new Store(engine);
  assert.equal(answer(store, module), 42);

  assert.throws(() => new Engine({ craneliftFlags: { no_such_flag: true } }), /no_such_flag/);
  assert.throws(() => new Engine({ craneliftFlags: { opt_level: "fastest" } }), /expected any/);
  assert.throws(
    () => new Engine({ craneliftFlags: { opt_level: 2 as unknown as string } }),
    /craneliftFlags.opt_level must be true, false or a string, got number/,
  );
  assert.throws(() => new Engine({ craneliftFlags: { "a\0b": true } }), /NUL/);
  assert.throws(
    () => new Engine({ craneliftFlags: [] as unknown as Record<string, string> }),
    /must be an object/,
  );
});

Deno.test("an Engine for another target precompiles; its code loads only there", () => {
  const arch = Deno.build.arch;
  const os = Deno.build.os === "windows" ? "apple-darwin" : "pc-windows-msvc";
  const target = `${arch}-${os}`;
  using foreign = new Engine({ target });
  const code = foreign.precompile(ANSWER);
  assert.ok(code.length > 0);
  for (
    const compile of [() => new Module(foreign, ANSWER), () => Module.deserialize(foreign, code)]
  ) {
    assert.throws(compile, /not (compatible with|for) this host|does not match the host/);
  }
  assert.throws(() => new Module(foreign, ANSWER), /Use engine\.precompile\(wasm\)/);
  using host = new Engine();
  assert.throws(
    () => Module.deserialize(host, code),
    /cannot deserialize the module: .*compiled for/,
  );

  // The host's own triple is an ordinary engine.
  using native = new Engine({ target: Deno.build.target });
  using module = new Module(native, ANSWER);
  using store = new Store(native);
  assert.equal(answer(store, module), 42);

  assert.throws(
    () => new Engine({ target: "no-such-arch" }),
    /target: "no-such-arch" is not a target/,
  );
  const other = arch === "x86_64" ? "aarch64-unknown-linux-gnu" : "x86_64-unknown-linux-gnu";
  assert.throws(() => new Engine({ target: other }), /compiles for its own architecture/);
});

Deno.test("Module.compile of an Engine for another target rejects with the same advice", async () => {
  const os = Deno.build.os === "windows" ? "apple-darwin" : "pc-windows-msvc";
  using foreign = new Engine({ target: `${Deno.build.arch}-${os}` });
  await assert.rejects(Module.compile(foreign, ANSWER), /Use engine\.precompile\(wasm\)/);
});
