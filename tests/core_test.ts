import assert from "node:assert/strict";
import {
  Engine,
  Func,
  FuncType,
  Global,
  Instance,
  Linker,
  Memory,
  Module,
  Store,
  Table,
  Trap,
  TrapCode,
  version,
  WasmtimeError,
  wat2wasm,
} from "../mod.ts";

Deno.test("the issue's usage example works as written", () => {
  const logged: string[] = [];
  using engine = new Engine({ consumeFuel: true, epochInterruption: true });
  using store = new Store(engine, { fuel: 10_000_000, limits: { memorySize: 64 << 20 } });
  using module = new Module(
    engine,
    `(module
    (import "env" "log" (func $log (param i32 i32)))
    (memory (export "memory") 1)
    (data (i32.const 8) "hi there")
    (func (export "hello") i32.const 8 i32.const 8 call $log)
    (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
    (func (export "boom") unreachable))`,
  );
  using linker = new Linker(engine);
  linker.defineFunc("env", "log", new FuncType(["i32", "i32"], []), (caller, ptr, len) => {
    const memory = caller.getExport("memory") as Memory;
    logged.push(memory.readString(ptr, len));
  });
  const instance: Instance = linker.instantiate(store, module);
  const add = instance.getFunc("add")!;
  assert.equal(add.call(40, 2), 42);
  const fastAdd = add.typed(["i32", "i32"], ["i32"]);
  assert.equal(fastAdd(40, 2), 42);
  instance.getFunc("hello")!.call();
  assert.deepEqual(logged, ["hi there"]);
  assert.throws(() => instance.getFunc("boom")!.call(), (e) => {
    assert.ok(e instanceof Trap);
    assert.equal(e.code, TrapCode.UnreachableCodeReached);
    assert.equal(e.codeName, "UnreachableCodeReached");
    assert.equal(e.frames[0].funcIndex, 3);
    assert.match(e.message, /unreachable/);
    return true;
  });
  assert.ok(store.fuel < 10_000_000 && store.fuel > 0);
  assert.match(version, /^\d+\.\d+\.\d+$/);
  assert.ok(wat2wasm("(module)") instanceof Uint8Array);
  assert.ok(new WasmtimeError("x") instanceof Error);
  assert.ok(Func && Table && Global);
});

Deno.test("multi-value results come back as an array; none as undefined", () => {
  using engine = new Engine();
  using store = new Store(engine);
  using module = new Module(
    engine,
    `(module
    (func (export "swap") (param i32 i64) (result i64 i32) local.get 1 local.get 0)
    (func (export "nothing")))`,
  );
  const instance = new Instance(store, module, []);
  assert.deepEqual(instance.getFunc("swap")!.call(7, 9n), [9n, 7]);
  assert.equal(instance.getFunc("nothing")!.call(), undefined);
  assert.deepEqual(instance.getFunc("swap")!.typed(["i32", "i64"], ["i64", "i32"])(1, 2n), [2n, 1]);
});

Deno.test("all value types round-trip through call, typed and host functions", () => {
  using engine = new Engine();
  using store = new Store(engine);
  using module = new Module(
    engine,
    `(module
    (import "host" "echo" (func $echo (param i32 i64 f32 f64 v128 funcref externref)
                                 (result i32 i64 f32 f64 v128 funcref externref)))
    (func (export "through") (param i32 i64 f32 f64 v128 funcref externref)
                             (result i32 i64 f32 f64 v128 funcref externref)
      local.get 0 local.get 1 local.get 2 local.get 3 local.get 4 local.get 5 local.get 6
      call $echo)
    (func (export "id_i64") (param i64) (result i64) local.get 0)
    (func (export "id_f32") (param f32) (result f32) local.get 0))`,
  );
  const seen: unknown[][] = [];
  const type = new FuncType(
    ["i32", "i64", "f32", "f64", "v128", "funcref", "externref"],
    ["i32", "i64", "f32", "f64", "v128", "funcref", "externref"],
  );
  const echo = new Func(store, type, (_caller, ...args) => {
    seen.push(args);
    return args;
  });
  const instance = new Instance(store, module, [echo]);
  const through = instance.getFunc("through")!;
  const payload = { some: "js object" };
  const v128 = (1n << 127n) | 0x0102030405060708n;
  const result = through.call(-5, -(1n << 63n), 1.5, Math.PI, v128, echo, payload) as unknown[];
  assert.equal(result[0], -5);
  assert.equal(result[1], -(1n << 63n));
  assert.equal(result[2], 1.5);
  assert.equal(result[3], Math.PI);
  assert.equal(result[4], v128);
  assert.ok(result[5] instanceof Func);
  assert.equal(result[6], payload);
  assert.equal((result[5] as Func).type.toString(), type.toString());
  assert.deepEqual(seen[0].slice(0, 5), [-5, -(1n << 63n), 1.5, Math.PI, v128]);
  // null references and unsigned inputs
  const nulls = through.call(0xffffffff, 0xffff_ffff_ffff_ffffn, 0, 0, 0n, null, null) as unknown[];
  assert.deepEqual(nulls, [-1, -1n, 0, 0, 0n, null, null]);
  assert.equal(instance.getFunc("id_i64")!.typed(["i64"], ["i64"])(123n), 123n);
  assert.equal(instance.getFunc("id_f32")!.call(0.1), Math.fround(0.1));
});

Deno.test("callBits keeps NaN payloads exact", () => {
  using engine = new Engine();
  using store = new Store(engine);
  using module = new Module(
    engine,
    `(module
    (func (export "f32") (param f32) (result f32) local.get 0)
    (func (export "f64") (param f64) (result f64) local.get 0)
    (global (export "g") f32 (f32.const nan:0x200001)))`,
  );
  const instance = new Instance(store, module, []);
  const signalling32 = 0x7fa00001n; // a signalling NaN: converting to a JS number would quiet it
  assert.deepEqual(instance.getFunc("f32")!.callBits(signalling32), [signalling32]);
  const signalling64 = 0x7ff4000000000001n;
  assert.deepEqual(instance.getFunc("f64")!.callBits(signalling64), [signalling64]);
  assert.equal(instance.getGlobal("g")!.getBits(), 0x7fa00001n);
  assert.throws(() => instance.getFunc("f32")!.callBits(1n << 32n), /does not fit in 32 bits/);
});

Deno.test("globals and tables: get, set, grow, types", () => {
  using engine = new Engine();
  using store = new Store(engine);
  const g = new Global(store, { content: "f64", mutable: true }, 1.25);
  assert.equal(g.value, 1.25);
  g.value = -3;
  assert.equal(g.value, -3);
  assert.deepEqual(g.type, { content: "f64", mutable: true });
  const constant = new Global(store, { content: "i32", mutable: false }, 7);
  assert.throws(() => (constant.value = 8), WasmtimeError);
  assert.throws(() => new Global(store, { content: "i64", mutable: true }, 5), /write 5n/);

  const table = new Table(store, { element: "funcref", minimum: 2, maximum: 10 });
  assert.equal(table.size, 2);
  assert.equal(table.get(0), null);
  const f = new Func(store, new FuncType([], ["i32"]), () => 11);
  table.set(1, f);
  assert.equal((table.get(1) as Func).call(), 11);
  assert.equal(table.grow(3, f), 2);
  assert.equal(table.size, 5);
  assert.equal((table.get(4) as Func).call(), 11);
  assert.throws(() => table.get(5), /out of bounds/);
  assert.throws(() => table.grow(100), WasmtimeError);
  assert.deepEqual(table.type, { element: "funcref", minimum: 2, maximum: 10 }); // declared limits

  const refs = new Table(store, { element: "externref", minimum: 1 }, "init");
  assert.equal(refs.get(0), "init");
  const object = { n: 1 };
  refs.set(0, object);
  assert.equal(refs.get(0), object);
});

Deno.test("modules: imports/exports descriptors, validate, serialize/deserialize", () => {
  using engine = new Engine();
  const wat = `(module
    (import "env" "f" (func (param i64) (result f32)))
    (import "env" "m" (memory 1 4))
    (import "env" "t" (table 2 funcref))
    (import "env" "g" (global (mut i32)))
    (func (export "run") (result i32) i32.const 5)
    (global (export "pi") f64 (f64.const 3.14)))`;
  using module = new Module(engine, wat);
  assert.deepEqual(module.imports, [
    { module: "env", name: "f", type: { kind: "func", params: ["i64"], results: ["f32"] } },
    {
      module: "env",
      name: "m",
      type: {
        kind: "memory",
        minimum: 1,
        maximum: 4,
        memory64: false,
        shared: false,
        pageSizeLog2: 16,
      },
    },
    { module: "env", name: "t", type: { kind: "table", element: "funcref", minimum: 2 } },
    { module: "env", name: "g", type: { kind: "global", content: "i32", mutable: true } },
  ]);
  assert.deepEqual(module.exports, [
    { name: "run", type: { kind: "func", params: [], results: ["i32"] } },
    { name: "pi", type: { kind: "global", content: "f64", mutable: false } },
  ]);
  Module.validate(engine, wat2wasm("(module)"));
  assert.throws(
    () => Module.validate(engine, new Uint8Array([0, 97, 115, 109, 2, 0, 0, 0])),
    WasmtimeError,
  );

  using simple = new Module(engine, `(module (func (export "run") (result i32) i32.const 5))`);
  const bytes = simple.serialize();
  using restored = Module.deserialize(engine, bytes);
  using store = new Store(engine);
  assert.equal(new Instance(store, restored, []).getFunc("run")!.call(), 5);
  const path = Deno.makeTempFileSync({ suffix: ".cwasm" });
  Deno.writeFileSync(path, bytes);
  using fromFile = Module.deserializeFile(engine, path);
  assert.equal(new Instance(store, fromFile, []).getFunc("run")!.call(), 5);
  using otherEngine = new Engine({ consumeFuel: true });
  assert.throws(() => Module.deserialize(otherEngine, bytes), WasmtimeError);
  assert.throws(() => Module.deserialize(engine, new Uint8Array(100)), WasmtimeError);
});

Deno.test("Module.fromFile reads a wasm file", async () => {
  using engine = new Engine();
  const path = await Deno.makeTempFile({ suffix: ".wasm" });
  await Deno.writeFile(path, wat2wasm(`(module (func (export "f") (result i32) i32.const 3))`));
  using module = await Module.fromFile(engine, path);
  using store = new Store(engine);
  assert.equal(new Instance(store, module, []).getFunc("f")!.call(), 3);
});

Deno.test("linker: define, defineInstance, defineModule, shadowing, get, getDefault, traps", () => {
  using engine = new Engine();
  using store = new Store(engine);
  using linker = new Linker(engine);
  const memory = new Memory(store, { minimum: 1 });
  linker.define(store, "env", "memory", memory);
  using lib = new Module(
    engine,
    `(module (import "env" "memory" (memory 1))
    (func (export "store42") (i32.store (i32.const 0) (i32.const 42))))`,
  );
  const libInstance = linker.instantiate(store, lib);
  linker.defineInstance(store, "lib", libInstance);
  using app = new Module(
    engine,
    `(module (import "lib" "store42" (func $s))
    (func (export "run") call $s))`,
  );
  linker.instantiate(store, app).getFunc("run")!.call();
  assert.equal(memory.getInt32(0), 42);
  assert.ok(linker.get(store, "lib", "store42") instanceof Func);
  assert.equal(linker.get(store, "lib", "missing"), undefined);

  const type = new FuncType([], ["i32"]);
  linker.defineFunc("x", "v", type, () => 1);
  assert.throws(() => linker.defineFunc("x", "v", type, () => 2), /defined twice|already defined/);
  linker.allowShadowing(true).defineFunc("x", "v", type, () => 2);
  assert.equal((linker.get(store, "x", "v") as Func).call(), 2);

  using reactor = new Module(
    engine,
    `(module (func (export "") ) (func (export "five") (result i32) i32.const 5))`,
  );
  linker.defineModule(store, "reactor", reactor);
  assert.ok(linker.getDefault(store, "reactor") instanceof Func);
  assert.equal((linker.get(store, "reactor", "five") as Func).call(), 5);

  using needsUnknown = new Module(
    engine,
    `(module (import "nowhere" "f" (func $f)) (func (export "run") call $f))`,
  );
  assert.throws(() => linker.instantiate(store, needsUnknown), /nowhere::f/);
  linker.defineUnknownImportsAsTraps(needsUnknown);
  const trapping = linker.instantiate(store, needsUnknown);
  assert.throws(() => trapping.getFunc("run")!.call(), Trap);
});

Deno.test("instance exports map and typed getters", () => {
  using engine = new Engine();
  using store = new Store(engine);
  using module = new Module(
    engine,
    `(module (memory (export "mem") 1) (table (export "tab") 1 funcref)
    (global (export "glob") i32 (i32.const 1)) (func (export "fn")))`,
  );
  const instance = new Instance(store, module, []);
  const exports = instance.exports;
  assert.deepEqual(Object.keys(exports), ["mem", "tab", "glob", "fn"]);
  assert.ok(exports.mem instanceof Memory);
  assert.ok(exports.tab instanceof Table);
  assert.ok(exports.glob instanceof Global);
  assert.equal(typeof exports.fn, "function");
  assert.ok(instance.getMemory("mem") instanceof Memory);
  assert.throws(() => instance.getFunc("mem"), /is a Memory, not a Func/);
  assert.equal(instance.getFunc("nope"), undefined);
});

Deno.test("engine options are applied and bad ones rejected", () => {
  using fuelEngine = new Engine({ consumeFuel: true });
  using store = new Store(fuelEngine, { fuel: 100 });
  assert.equal(store.fuel, 100);
  store.fuel = 5n;
  assert.equal(store.fuel, 5);
  using plain = new Engine();
  using plainStore = new Store(plain);
  assert.throws(() => plainStore.fuel, /consumeFuel: true/);
  assert.throws(() => new Engine({ nope: true } as never), /unknown Engine option "nope"/);
  assert.throws(() => new Engine({ optLevel: "fast" as never }), /optLevel must be one of/);
  assert.throws(() => new Engine({ maxWasmStack: -1 }), /non-negative integer/);
  // A combination Wasmtime rejects is an error, not a process abort.
  assert.throws(() => new Engine({ simd: false, relaxedSimd: true }), WasmtimeError);
  using configured = new Engine({
    optLevel: "speed_and_size",
    nanCanonicalization: true,
    parallelCompilation: false,
    memory64: true,
    multiMemory: true,
    tailCall: true,
    maxWasmStack: 1 << 20,
    pooling: { totalCoreInstances: 10, totalMemories: 10, totalTables: 10 },
    memoryGuardSize: 1 << 16,
  });
  using module = new Module(
    configured,
    `(module (memory i64 1) (func (export "f") (result i32) i32.const 1))`,
  );
  using poolStore = new Store(configured);
  assert.equal(new Instance(poolStore, module, []).getFunc("f")!.call(), 1);
});

Deno.test("epoch deadlines interrupt a guest", () => {
  using engine = new Engine({ epochInterruption: true });
  using store = new Store(engine);
  using module = new Module(
    engine,
    `(module (func (export "spin") (loop $l (br $l))) (func (export "ok") (result i32) i32.const 1))`,
  );
  const instance = new Instance(store, module, []);
  // Without an explicit deadline the store starts far in the future: calls work.
  assert.equal(instance.getFunc("ok")!.call(), 1);
  store.setEpochDeadline(1);
  engine.incrementEpoch();
  assert.throws(() => instance.getFunc("spin")!.call(), (e) => {
    assert.ok(e instanceof Trap);
    assert.equal(e.code, TrapCode.Interrupt);
    return true;
  });
});

Deno.test("trap frames carry function and module names, offsets, innermost first", () => {
  using engine = new Engine();
  using store = new Store(engine);
  using module = new Module(
    engine,
    `(module $calc
    (func $inner (export "inner") unreachable)
    (func $outer (export "outer") call $inner))`,
  );
  const instance = new Instance(store, module, []);
  assert.throws(() => instance.getFunc("outer")!.call(), (e) => {
    assert.ok(e instanceof Trap);
    assert.equal(e.frames.length, 2);
    assert.deepEqual(
      e.frames.map((f) => [f.funcIndex, f.funcName, f.moduleName]),
      [[0, "inner", "calc"], [1, "outer", "calc"]],
    );
    assert.ok(e.frames[0].moduleOffset > 0);
    assert.match(e.details, /wasm backtrace/);
    return true;
  });
});
