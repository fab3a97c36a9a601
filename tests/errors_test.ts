import assert from "node:assert/strict";
import {
  Engine,
  Func,
  FuncType,
  Instance,
  Linker,
  Memory,
  Module,
  Store,
  Table,
  Trap,
  TrapCode,
  WasmtimeError,
} from "../mod.ts";
import { assertClean, MOD_URL, runIsolated } from "./helpers.ts";

function setup(wat: string, options: ConstructorParameters<typeof Engine>[0] = {}) {
  const engine = new Engine(options);
  const store = new Store(engine);
  const module = new Module(engine, wat);
  return { engine, store, module };
}

Deno.test("invalid wasm bytes and malformed WAT give WasmtimeErrors with details", () => {
  using engine = new Engine();
  assert.throws(() => new Module(engine, new Uint8Array([1, 2, 3, 4])), (e) => {
    assert.ok(e instanceof WasmtimeError);
    assert.match(e.message, /cannot compile the module:[\s\S]*magic header/);
    return true;
  });
  assert.throws(() => new Module(engine, '(module (func (export "f") i32.add'), (e) => {
    assert.ok(e instanceof WasmtimeError);
    assert.match(e.message, /invalid WebAssembly text/);
    return true;
  });
  assert.throws(
    () => new Module(engine, "(module (func (result i32) i64.const 1))"),
    /type mismatch/,
  );
  assert.throws(() => new Module(engine, 42 as never), /expected WAT text/);
});

Deno.test("wrong argument count and types are rejected before reaching wasm", () => {
  const { engine, store, module } = setup(
    `(module (func (export "f") (param i32 i64 f64 funcref) (result i32) local.get 0))`,
  );
  using _e = engine, _s = store, _m = module;
  const f = new Instance(store, module, []).getFunc("f")!;
  assert.throws(() => f.call(1), /expected 4 argument\(s\) \(i32, i64, f64, funcref\), got 1/);
  assert.throws(() => f.call("1", 1n, 1, null), /argument 0: expected i32, got string "1"/);
  assert.throws(() => f.call(1.5, 1n, 1, null), /argument 0: expected i32, got number 1.5/);
  assert.throws(() => f.call(2 ** 40, 1n, 1, null), /does not fit in an i32/);
  assert.throws(
    () => f.call(1, 5, 1, null),
    /argument 1: expected i64, got number 5 \(i64 values are bigints: write 5n\)/,
  );
  assert.throws(() => f.call(1, 1n << 64n, 1, null), /does not fit in an i64/);
  assert.throws(() => f.call(1, 1n, "x", null), /argument 2: expected f64/);
  assert.throws(
    () => f.call(1, 1n, 1, {}),
    /argument 3: expected funcref, got Object \(a Func, a function of instance.exports or null\)/,
  );
  assert.throws(
    () => f.typed(["i32"], ["i32"]),
    /the function has type \(i32, i64, f64, funcref\) -> \(i32\)/,
  );
  assert.throws(() => new FuncType(["i33" as never], []), /"i33" is not a value type/);
  const fast = f.typed(["i32", "i64", "f64", "funcref"], ["i32"]);
  // @ts-expect-error: an i64 parameter takes a bigint (the runtime check is for JS callers)
  assert.throws(() => fast(1, 2, 3, null), /expected i64/);
  assert.equal(fast(9, 2n, 3, null), 9);
});

Deno.test("missing imports name what is missing", () => {
  const { engine, store, module } = setup(
    `(module (import "env" "log" (func (param i32))) (import "env" "mem" (memory 1)))`,
  );
  using _e = engine, _s = store, _m = module;
  using linker = new Linker(engine);
  assert.throws(
    () => linker.instantiate(store, module),
    /unknown import: `env::log` has not been defined/,
  );
  assert.throws(
    () => new Instance(store, module, []),
    /needs 2 import\(s\): env\.log \(func\), env\.mem \(memory\); got 0/,
  );
  const wrong = new Func(store, new FuncType(["i64"], []), () => {});
  const memory = new Memory(store, { minimum: 1 });
  assert.throws(
    () => new Instance(store, module, [wrong, memory]),
    /incompatible import type|types incompatible/,
  );
  assert.throws(() => new Instance(store, module, [memory, wrong]), WasmtimeError);
});

Deno.test("use after dispose throws clear errors, never crashes", () => {
  const engine = new Engine();
  const store = new Store(engine);
  const module = new Module(
    engine,
    `(module (memory (export "m") 1) (func (export "f") (result i32) i32.const 1) (global (export "g") (mut i32) (i32.const 0)) (table (export "t") 1 funcref))`,
  );
  const instance = new Instance(store, module, []);
  const f = instance.getFunc("f")!;
  const fast = f.typed([], ["i32"]);
  const memory = instance.getMemory("m")!;
  const view = new Uint8Array(memory.buffer);
  const global = instance.getGlobal("g")!;
  const table = instance.getTable("t")!;
  store[Symbol.dispose]();
  store[Symbol.dispose](); // idempotent
  assert.equal(view.length, 0, "zero-copy views are detached when the store goes away");
  assert.throws(
    () => f.call(),
    /(?:^|Error: )Func\.call: the Store was disposed; create a new Store/,
  );
  assert.throws(() => fast(), /(?:^|Error: )a call into wasm: the Store was disposed/);
  assert.throws(() => memory.read(0, 1), /(?:^|Error: )Memory\.read: the Store was disposed/);
  assert.throws(() => memory.byteLength, /(?:^|Error: )Memory\.byteLength: the Store was disposed/);
  assert.throws(() => memory.grow(1), /(?:^|Error: )Memory\.grow: the Store was disposed/);
  assert.throws(() => memory.buffer, /(?:^|Error: )Memory\.buffer: the Store was disposed/);
  assert.throws(() => global.value, /(?:^|Error: )Global\.value: the Store was disposed/);
  assert.throws(() => table.size, /(?:^|Error: )Table\.size: the Store was disposed/);
  assert.throws(() => f.callWith({}), /(?:^|Error: )Func\.callWith: the Store was disposed/);
  assert.throws(() => store.fuel, /(?:^|Error: )Store\.fuel: the Store was disposed/);
  assert.throws(
    () => instance.getExport("f"),
    /(?:^|Error: )Instance\.getExport: the Store was disposed/,
  );
  assert.throws(
    () => new Instance(store, module, []),
    /(?:^|Error: )new Instance: the Store was disposed/,
  );
  module[Symbol.dispose]();
  assert.throws(() => module.serialize(), /Module\.serialize: the Module was disposed/);
  engine[Symbol.dispose]();
  engine[Symbol.dispose]();
  assert.throws(() => new Store(engine), /(?:^|Error: )new Store: the Engine was disposed/);
  const linker = new Linker(new Engine());
  linker[Symbol.dispose]();
  assert.throws(
    () => linker.defineWasi(),
    /(?:^|Error: )Linker\.defineWasi: the Linker was disposed/,
  );
});

Deno.test("values and imports cannot cross stores", () => {
  using engine = new Engine();
  using storeA = new Store(engine);
  using storeB = new Store(engine);
  using module = new Module(
    engine,
    `(module (import "" "f" (func)) (func (export "take") (param funcref)))`,
  );
  const funcA = new Func(storeA, new FuncType([], []), () => {});
  assert.throws(() => new Instance(storeB, module, [funcA]), /belongs to another Store/);
  const instanceA = new Instance(storeA, module, [funcA]);
  const funcB = new Func(storeB, new FuncType([], []), () => {});
  assert.throws(() => instanceA.getFunc("take")!.call(funcB), /belongs to another Store/);
  const tableB = new Table(storeB, { element: "funcref", minimum: 1 });
  assert.throws(() => tableB.set(0, funcA), /belongs to another Store/);
  using linker = new Linker(engine);
  assert.throws(() => linker.define(storeB, "", "f", funcA), /belongs to another Store/);
  assert.throws(() => linker.defineInstance(storeB, "a", instanceA), /Instance of the given store/);
});

Deno.test("host memory access out of range is an error", () => {
  using engine = new Engine();
  using store = new Store(engine);
  const memory = new Memory(store, { minimum: 1, maximum: 2 });
  assert.equal(memory.byteLength, 65536);
  assert.throws(
    () => memory.read(65530, 10),
    /range \[65530, 65530 \+ 10\) is outside the memory \(65536 bytes\)/,
  );
  assert.throws(() => memory.write(-1, new Uint8Array(1)), /outside the memory/);
  assert.throws(() => memory.getInt32(65533), /outside the memory/);
  assert.throws(() => memory.readString(0, Infinity), /outside the memory/);
  assert.throws(() => memory.grow(5), WasmtimeError);
  assert.equal(memory.grow(1), 1);
  memory.setInt32(65536 + 100, 7);
  assert.equal(memory.getInt32(65536 + 100), 7);
});

Deno.test("a host function's exception reaches the caller as the same object", () => {
  using engine = new Engine();
  using store = new Store(engine);
  using module = new Module(
    engine,
    `(module (import "" "h" (func $h (result i32)))
    (func (export "run") (result i32) call $h i32.const 1 i32.add))`,
  );
  const original = new RangeError("from the host");
  let mode = "throw";
  const h = new Func(store, new FuncType([], ["i32"]), () => {
    if (mode === "throw") throw original;
    if (mode === "string") return "not a number";
    if (mode === "promise") return Promise.resolve(1);
    return 41;
  });
  const run = new Instance(store, module, [h]).getFunc("run")!;
  assert.throws(() => run.call(), (e) => e === original);
  assert.equal(run.call.length >= 0, true);
  mode = "string";
  assert.throws(() => run.call(), /result of .*: expected i32, got string "not a number"/);
  mode = "promise";
  assert.throws(() => run.call(), /returned a Promise/);
  mode = "ok";
  assert.equal(run.call(), 42, "the instance still works after host failures");
  const fast = run.typed([], ["i32"]);
  mode = "throw";
  assert.throws(() => fast(), (e) => e === original);
});

Deno.test("nested host calls and reentrancy keep errors and results straight", () => {
  using engine = new Engine();
  using store = new Store(engine);
  using linker = new Linker(engine);
  const late: { instance?: Instance } = {};
  linker.defineFunc("", "down", new FuncType(["i32"], ["i32"]), (_c, n: number) => {
    if (n === 0) return 0;
    return (late.instance!.getFunc("fact")!.call(n - 1) as number) + n;
  });
  using module = new Module(
    engine,
    `(module (import "" "down" (func $down (param i32) (result i32)))
    (func (export "fact") (param i32) (result i32) local.get 0 call $down))`,
  );
  late.instance = linker.instantiate(store, module);
  assert.equal(late.instance.getFunc("fact")!.call(50), 1275);
});

Deno.test("stack overflow, out of fuel and memory limits are reported, not fatal", () => {
  using engine = new Engine({ consumeFuel: true });
  using store = new Store(engine, { fuel: 1_000_000, limits: { memorySize: 2 * 65536 } });
  using module = new Module(
    engine,
    `(module (memory (export "m") 1)
    (func $rec (export "rec") call $rec)
    (func (export "spin") (loop $l (br $l)))
    (func (export "grow") (param i32) (result i32) local.get 0 memory.grow))`,
  );
  const instance = new Instance(store, module, []);
  assert.throws(() => instance.getFunc("rec")!.call(), (e) => {
    assert.ok(e instanceof Trap);
    assert.equal(e.code, TrapCode.StackOverflow);
    return true;
  });
  assert.throws(() => instance.getFunc("spin")!.call(), (e) => {
    assert.ok(e instanceof Trap);
    assert.equal(e.code, TrapCode.OutOfFuel);
    return true;
  });
  store.fuel = 1_000_000;
  const grow = instance.getFunc("grow")!;
  assert.equal(grow.call(1), 1, "the first page fits the 2-page limit");
  assert.equal(grow.call(1), -1, "growing past the store limit fails inside wasm");
  assert.throws(() => instance.getMemory("m")!.grow(1), WasmtimeError);
  assert.equal(instance.getMemory("m")!.pages, 2);
});

Deno.test("disposing a store inside a host call defers the free until the call returns", () => {
  using engine = new Engine();
  const store = new Store(engine);
  using module = new Module(
    engine,
    `(module (import "" "h" (func $h)) (func (export "run") (result i32) call $h i32.const 7))`,
  );
  const h = new Func(store, new FuncType([], []), () => store[Symbol.dispose]());
  const run = new Instance(store, module, [h]).getFunc("run")!;
  assert.equal(run.call(), 7);
  assert.throws(() => run.call(), /the Store was disposed/);
});

Deno.test("a Caller used after its host call returns throws", () => {
  using engine = new Engine();
  using store = new Store(engine);
  using module = new Module(
    engine,
    `(module (import "" "h" (func $h)) (func (export "run") call $h))`,
  );
  let saved: import("../mod.ts").Caller | undefined;
  const h = new Func(store, new FuncType([], []), (caller) => {
    saved = caller;
  });
  new Instance(store, module, [h]).getFunc("run")!.call();
  assert.throws(() => saved!.getExport("memory"), /only valid while its host function runs/);
});

Deno.test("store limits on instances, tables and table elements are enforced", () => {
  using engine = new Engine();
  using module = new Module(
    engine,
    `(module (table (export "t") 1 funcref)
    (func (export "grow") (param i32) (result i32) ref.null func local.get 0 table.grow))`,
  );
  using store = new Store(engine, { limits: { instances: 1, tableElements: 4 } });
  const instance = new Instance(store, module, []);
  assert.throws(() => new Instance(store, module, []), /instance count too high|resource limit/);
  const grow = instance.getFunc("grow")!;
  assert.equal(grow.call(3), 1, "growing to 4 elements fits");
  assert.equal(grow.call(1), -1, "growing past tableElements fails inside wasm");
  using tables = new Store(engine, { limits: { tables: 0 } });
  assert.throws(() => new Instance(tables, module, []), /table count too high|resource limit/);
  assert.throws(() => new Store(engine, { limits: { memorySize: -1 } }), /non-negative integer/);
});

Deno.test("a call the binding interrupts throws the same kind of Trap as an epoch interrupt", () => {
  using engine = new Engine({ epochInterruption: true });
  using store = new Store(engine);
  using module = new Module(engine, `(module (func (export "spin") (loop br 0)))`);
  const spin = new Instance(store, module, []).getFunc("spin")!;
  let native: unknown;
  try {
    spin.callWith({ timeoutMs: 20 });
  } catch (e) {
    native = e;
  }
  assert.ok(native instanceof Trap && native.code === TrapCode.Interrupt);
  const reason = new Error("user cancelled");
  let ours: unknown;
  try {
    spin.callWith({ signal: AbortSignal.abort(reason) });
  } catch (e) {
    ours = e;
  }
  assert.ok(ours instanceof Trap && ours instanceof WasmtimeError);
  assert.equal(ours.code, TrapCode.Interrupt);
  assert.equal(ours.codeName, "Interrupt");
  // Wasmtime's own wording, so both read alike: the reason, then what Wasmtime says.
  assert.equal(ours.message, `the call was aborted (${native.message})`);
  assert.equal(ours.details, native.message);
  assert.deepEqual(ours.frames, []);
  assert.equal(ours.cause, reason);
});

Deno.test("an InstancePre is only made by a Linker", () => {
  using engine = new Engine();
  using linker = new Linker(engine);
  using module = new Module(engine, `(module)`);
  using pre = linker.instantiatePre(module);
  const InstancePre = pre.constructor as new () => unknown;
  assert.throws(() => new InstancePre(), TypeError);
  using store = new Store(engine);
  assert.ok(pre.instantiate(store) instanceof Instance);
});

Deno.test("compile errors lead with their cause and keep Wasmtime's whole report in details", () => {
  using engine = new Engine();
  assert.throws(
    () => new Module(engine, "(module (func (result i32) i64.const 1))"),
    (e: unknown) => {
      assert.ok(e instanceof WasmtimeError);
      assert.match(e.message, /^cannot compile the module: [^\n]*type mismatch: expected i32/);
      assert.doesNotMatch(e.message, /\n/);
      assert.match(e.details ?? "", /Caused by:[\s\S]*type mismatch/);
      return true;
    },
  );
});

Deno.test("typed() functions get TypeScript types from their value types", () => {
  const { engine, store, module } = setup(
    `(module (func (export "pair") (param i32 i64) (result f64 i64)
      (f64.convert_i32_s (local.get 0)) (local.get 1)))`,
  );
  void engine;
  const pair = new Instance(store, module, []).getFunc("pair")!.typed(["i32", "i64"], [
    "f64",
    "i64",
  ]);
  const [x, y]: [number, bigint] = pair(2, 3n);
  assert.equal(x, 2);
  assert.equal(y, 3n);
});

Deno.test("trap frames carry demangled Rust and C++ names, and the stored name beside them", () => {
  using engine = new Engine();
  using store = new Store(engine);
  using module = new Module(
    engine,
    `(module
      (func $_ZN4core9panicking5panic17h0123456789abcdefE unreachable)
      (func $_RNvC7mycrate3foo call $_ZN4core9panicking5panic17h0123456789abcdefE)
      (func $_Z3fooi call $_RNvC7mycrate3foo)
      (func $_ZZZZ call $_Z3fooi)
      (func $plain (export "run") call $_ZZZZ))`,
  );
  const run = new Instance(store, module, []).getFunc("run")!;
  assert.throws(() => run.call(), (e) => {
    assert.ok(e instanceof Trap);
    assert.deepEqual(
      e.frames.map((f) => [f.funcName, f.mangledFuncName]),
      [
        ["core::panicking::panic", "_ZN4core9panicking5panic17h0123456789abcdefE"],
        ["mycrate::foo", "_RNvC7mycrate3foo"],
        ["foo(int)", "_Z3fooi"],
        ["_ZZZZ", undefined], // not a valid mangling: kept as stored
        ["plain", undefined],
      ],
    );
    assert.ok(!("mangledFuncName" in e.frames[4]));
    return true;
  });
});

Deno.test("hostile symbol names in the name section are demangled or kept, never crash", () => {
  // Deep nesting and huge names: the demanglers' recursion limits must hold.
  const names = [
    "_Z" + "P".repeat(100_000) + "i",
    "_ZN" + "1a".repeat(50_000) + "E",
    "_R" + "B_".repeat(30_000),
    "_Z" + "A1_".repeat(20_000) + "i",
    "_Z1f" + "I".repeat(5_000),
  ];
  using engine = new Engine();
  for (const name of names) {
    using store = new Store(engine);
    using module = new Module(engine, `(module (func $${name} (export "run") unreachable))`);
    assert.throws(() => new Instance(store, module, []).getFunc("run")!.call(), (e) => {
      assert.ok(e instanceof Trap);
      const frame = e.frames[0];
      assert.equal(frame.mangledFuncName ?? frame.funcName, name);
      return true;
    });
  }
});

Deno.test("one FuncType serves linkers and functions of several engines (no abort)", async () => {
  // Wasmtime binds a native function type to the first engine that uses it and aborts the
  // process on another: the binding makes one native type per engine. In a subprocess, as a
  // regression would kill the test runner.
  const result = await runIsolated(`
    import { Engine, Func, FuncType, Linker, Module, Store } from ${JSON.stringify(MOD_URL)};
    const type = new FuncType(["i32"], ["i32"]);
    const results = [];
    for (let round = 0; round < 3; round++) {
      const engine = new Engine();
      const store = new Store(engine);
      const linker = new Linker(engine);
      linker.defineFunc("env", "twice", type, (_caller, x) => 2 * x);
      const module = new Module(engine, '(module (import "env" "twice" (func $t (param i32) (result i32))) ' +
        '(func (export "run") (param i32) (result i32) (call $t (local.get 0))))');
      results.push(linker.instantiate(store, module).getFunc("run").call(round + 1));
      const direct = new Func(store, type, (_caller, x) => x + 100);
      results.push(direct.call(round));
    }
    type[Symbol.dispose]();
    try { new Linker(new Engine()).defineFunc("env", "f", type, () => 0); } catch (e) { results.push(e.message); }
    console.log(JSON.stringify(results));
  `);
  assertClean(result);
  assert.deepEqual(JSON.parse(result.stdout), [
    2,
    100,
    4,
    101,
    6,
    102,
    "Linker.defineFunc: the FuncType was disposed; create a new FuncType instead of reusing it",
  ]);
});

Deno.test("table64 limits above 2^32 read exactly and never abort (module types, Table.type)", async () => {
  // Wasmtime's C API converts table limits to u32 with unwrap(): a module declaring such a
  // table64 aborted the process when its imports or exports were read. In a subprocess.
  const result = await runIsolated(`
    import { Engine, Instance, Module, Store } from ${JSON.stringify(MOD_URL)};
    const engine = new Engine();
    const hostile = new Module(engine, '(module (import "a" "b" (table i64 0x200000000 funcref)))');
    const module = new Module(engine,
      '(module (table (export "t") i64 3 0x300000000 funcref) (table (export "u") 2 7 funcref))');
    const store = new Store(engine);
    const instance = new Instance(store, module, []);
    console.log(JSON.stringify({
      imports: hostile.imports,
      exports: module.exports,
      t: instance.getTable("t").type,
      u: instance.getTable("u").type,
      size: instance.getTable("t").size,
    }));
  `);
  assertClean(result);
  const table = (minimum: number, maximum?: number, table64?: boolean) => ({
    element: "funcref",
    minimum,
    ...(maximum === undefined ? {} : { maximum }),
    ...(table64 ? { table64 } : {}),
  });
  assert.deepEqual(JSON.parse(result.stdout), {
    imports: [{
      module: "a",
      name: "b",
      type: { kind: "table", ...table(2 ** 33, undefined, true) },
    }],
    exports: [
      { name: "t", type: { kind: "table", ...table(3, 3 * 2 ** 32, true) } },
      { name: "u", type: { kind: "table", ...table(2, 7) } },
    ],
    t: table(3, 3 * 2 ** 32, true),
    u: table(2, 7),
    size: 3,
  });
});

Deno.test("new Table refuses table64: true instead of making a 32-bit table", () => {
  using engine = new Engine();
  using store = new Store(engine);
  assert.throws(
    () => new Table(store, { element: "funcref", minimum: 1, maximum: 5, table64: true }, null),
    (error: unknown) =>
      error instanceof WasmtimeError && /table64: true.*cannot be made from JS/.test(error.message),
  );
  const table = new Table(store, { element: "funcref", minimum: 1, table64: false }, null);
  assert.equal(table.type.table64, undefined);
});

Deno.test("names and strings keep a leading U+FEFF: an export named '\\u{feff}' is not ''", () => {
  using engine = new Engine();
  using store = new Store(engine);
  using module = new Module(
    engine,
    `(module (memory (export "memory") 1) (data (i32.const 0) "\\ef\\bb\\bfhi")
      (func (export "") (result i32) (i32.const 0))
      (func (export "\\ef\\bb\\bf") (result i32) (i32.const 15)))`,
  );
  assert.deepEqual(module.exports.map((e) => e.name), ["memory", "", "\u{feff}"]);
  const instance = new Instance(store, module, []);
  assert.equal(instance.getFunc("")!.call(), 0);
  assert.equal(instance.getFunc("\u{feff}")!.call(), 15);
  assert.equal((instance.exports as Record<string, () => number>)[""](), 0);
  assert.equal(instance.getMemory("memory")!.readString(0, 5), "\u{feff}hi");
});
