// V8-style ergonomics over the explicit API: callable exports, imports objects whose function
// types come from the module, Caller.memory, the version constant and V8's limit names.
import assert from "node:assert/strict";
import {
  type Caller,
  Engine,
  Func,
  FuncType,
  Global,
  Instance,
  Linker,
  LinkError,
  Memory,
  Module,
  Store,
  Table,
  Trap,
  version,
  WasmtimeError,
} from "../mod.ts";
import { WasiConfig } from "../wasi.ts";
import { defineImports } from "../src/core/imports.ts";

const VALUES = `(module
  (func (export "i32") (param i32) (result i32) local.get 0)
  (func (export "i64") (param i64) (result i64) local.get 0)
  (func (export "f32") (param f32) (result f32) local.get 0)
  (func (export "f64") (param f64) (result f64) local.get 0)
  (func (export "v128") (param v128) (result v128) local.get 0)
  (func (export "externref") (param externref) (result externref) local.get 0)
  (func (export "funcref") (param funcref) (result funcref) local.get 0)
  (func (export "none"))
  (func (export "multi") (param i32 i64 f32 f64) (result f64 f32 i64 i32)
    local.get 3 local.get 2 local.get 1 local.get 0)
  (func (export "sum5") (param i32 i32 i32 i32 i32) (result i32)
    (i32.add (i32.add (i32.add (local.get 0) (local.get 1)) (i32.add (local.get 2) (local.get 3)))
      (local.get 4)))
  (func (export "trap") unreachable)
  (memory (export "memory") 1)
  (table (export "table") 2 funcref)
  (global (export "counter") (mut i32) (i32.const 7)))`;

type ValueExports = {
  i32(x: number): number;
  i64(x: bigint): bigint;
  f32(x: number): number;
  f64(x: number): number;
  v128(x: bigint): bigint;
  externref(x: unknown): unknown;
  funcref(x: unknown): Func | null;
  none(): undefined;
  multi(a: number, b: bigint, c: number, d: number): [number, number, bigint, number];
  sum5(a: number, b: number, c: number, d: number, e: number): number;
  trap(): void;
  memory: Memory;
  table: Table;
  counter: Global;
};

Deno.test("callable exports: every value type, multi-value, and the exported objects", () => {
  using engine = new Engine();
  using store = new Store(engine);
  using module = new Module(engine, VALUES);
  const instance = new Instance<ValueExports>(store, module);
  const e = instance.exports;
  assert.equal(e.i32(-5), -5);
  assert.equal(e.i32(0xffff_ffff), -1, "i32 wraps as Func.call does");
  assert.equal(e.i64(-(1n << 63n)), -(1n << 63n));
  assert.equal(e.f32(0.1), Math.fround(0.1));
  assert.equal(e.f64(0.1), 0.1);
  assert.ok(Number.isNaN(e.f64(NaN)));
  assert.equal(e.v128((1n << 128n) - 1n), (1n << 128n) - 1n);
  const object = { any: "thing" };
  assert.equal(e.externref(object), object);
  assert.equal(e.externref(null), null);
  assert.equal(e.none(), undefined);
  assert.deepEqual(e.multi(1, 2n, 1.5, 2.5), [2.5, 1.5, 2n, 1]);
  assert.equal(e.sum5(1, 2, 3, 4, 5), 15);
  // A function of exports is a funcref value, as in V8; funcref results are Func objects.
  const back = e.funcref(e.i32);
  assert.ok(back instanceof Func);
  assert.equal(back.call(9), 9);
  assert.equal(e.funcref(null), null);
  e.table.set(0, e.i64);
  assert.equal((e.table.get(0) as Func).call(3n), 3n);
  assert.throws(() => e.funcref(() => 1), /expected funcref, got function.*instance\.exports/);
  // Memories, tables and globals are the explicit API's objects.
  assert.ok(e.memory instanceof Memory && e.table instanceof Table && e.counter instanceof Global);
  assert.equal(e.memory.byteLength, 65536);
  e.counter.value = 8;
  assert.equal(instance.getGlobal("counter")!.value, 8);
  // One frozen object without prototype per instance, like V8's.
  assert.equal(instance.exports, e);
  assert.ok(Object.isFrozen(e));
  assert.equal(Object.getPrototypeOf(e), null);
  assert.deepEqual(Object.keys(e), [
    ...["i32", "i64", "f32", "f64", "v128", "externref", "funcref", "none", "multi", "sum5"],
    ...["trap", "memory", "table", "counter"],
  ]);
  assert.throws(() => {
    (e as unknown as Record<string, unknown>).i32 = () => 0;
  }, TypeError);
  assert.equal(e.i32.name, "i32");
  assert.equal(e.multi.length, 4);
  // The explicit API stays: the Func behind an export is one getFunc away.
  assert.equal(instance.getFunc("i32")!.call(4), 4);
  assert.throws(() => e.trap(), (err) => err instanceof Trap && /unreachable/.test(err.message));
  assert.equal(e.i32(1), 1, "usable after a trap");
});

Deno.test("exports are listed in module order, also when the module was disposed first", () => {
  using engine = new Engine();
  using store = new Store(engine);
  const wat = `(module (func (export "b") (result i32) i32.const 2) (memory (export "m") 1)
    (func (export "a") (result i32) i32.const 1))`;
  const module = new Module(engine, wat);
  const named = new Instance(store, module);
  const enumerated = new Instance(store, module);
  assert.deepEqual(Object.keys(named.exports), ["b", "m", "a"]); // by name, from module.exports
  const fresh = new Module(engine, wat);
  const orphan = new Instance<{ a(): number; b(): number }>(store, fresh);
  fresh[Symbol.dispose](); // its export list was never read: the instance enumerates instead
  module[Symbol.dispose]();
  assert.deepEqual(Object.keys(orphan.exports), ["b", "m", "a"]);
  assert.equal(orphan.exports.a() + orphan.exports.b(), 3);
  assert.deepEqual(Object.keys(enumerated.exports), ["b", "m", "a"]);
});

Deno.test("callable exports check their arguments and name the export", () => {
  using engine = new Engine();
  using store = new Store(engine);
  using module = new Module(engine, VALUES);
  const e = new Instance(store, module).exports as unknown as Record<
    string,
    (...args: unknown[]) => unknown
  >;
  assert.throws(() => e.i32(), /exports\.i32: expected 1 argument\(s\) \(i32\), got 0/);
  assert.throws(() => e.i32(1, 2), /exports\.i32: expected 1 argument\(s\) \(i32\), got 2/);
  assert.throws(() => e.i32("1"), /exports\.i32 argument 0: expected i32, got string "1"/);
  assert.throws(() => e.i64(1), /exports\.i64 argument 0: .*write 1n/);
  assert.throws(() => e.sum5(1, 2, 3, 4), /exports\.sum5: expected 5 argument/);
  assert.throws(() => e.multi(1, 2, 3, 4), /exports\.multi argument 1: expected i64/);
  assert.throws(() => e.v128(1), /exports\.v128 argument 0: expected v128/);
  assert.equal(e.i32(3), 3, "a refused call leaves the function usable");
});

Deno.test("callable exports after the store is disposed throw, and never reach freed memory", () => {
  using engine = new Engine();
  const store = new Store(engine);
  using module = new Module(engine, VALUES);
  const early = new Instance<ValueExports>(store, module);
  const late = new Instance<ValueExports>(store, module);
  const { i32, multi, memory } = early.exports;
  const view = memory.buffer;
  store[Symbol.dispose]();
  assert.throws(() => i32(1), /Store.*disposed/);
  assert.throws(() => multi(1, 2n, 3, 4), /Store.*disposed/);
  assert.throws(() => memory.read(0, 4), /disposed/);
  assert.equal(view.byteLength, 0, "the zero-copy view was detached");
  assert.equal(early.exports.i32, i32, "the exports object stays, its functions throw");
  assert.throws(() => late.exports, /Store.*disposed/);
});

Deno.test("callable exports on async-only stores: clear error for async host functions, futures for async WASI", async () => {
  {
    using engine = new Engine({ epochInterruption: true });
    using store = new Store(engine);
    using linker = new Linker(engine);
    linker.defineAsyncFunc("env", "wait", new FuncType(["i32"], ["i32"]), async (_c, n) => {
      await new Promise((r) => setTimeout(r, 1));
      return n + 1;
    });
    using module = new Module(
      engine,
      `(module (import "env" "wait" (func $w (param i32) (result i32)))
        (func (export "run") (param i32) (result i32) local.get 0 call $w)
        (func (export "pure") (param i32 i32) (result i32 i32) local.get 1 local.get 0))`,
    );
    const instance = await linker.instantiateAsync<{
      run(n: number): number;
      pure(a: number, b: number): [number, number];
    }>(store, module);
    assert.throws(
      () => instance.exports.run(1),
      /must be async: .*instance\.getFunc\(name\)!\.callAsync/,
    );
    assert.throws(() => instance.exports.pure(1, 2), /must be async/);
    assert.equal(await instance.getFunc("run")!.callAsync(41), 42);
  }
  {
    // WASI linked asynchronously (what instantiateWasi does by default): calls run as call
    // futures, so exports work where typed() is refused.
    using engine = new Engine();
    using store = new Store(engine, { wasi: new WasiConfig() });
    using linker = new Linker(engine).defineWasi({ async: true });
    using module = new Module(
      engine,
      `(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
        (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
        (func (export "pair") (param f32) (result f32 i64) local.get 0 i64.const 5))`,
    );
    const instance = linker.instantiate<{
      add(a: number, b: number): number;
      pair(x: number): [number, bigint];
    }>(store, module);
    assert.equal(instance.exports.add(40, 2), 42);
    assert.deepEqual(instance.exports.pair(1.5), [1.5, 5n]);
    assert.throws(() => instance.exports.add(1, 2n as never), /exports\.add argument 1/);
    assert.throws(
      () => instance.getFunc("add")!.typed(["i32", "i32"], ["i32"])(1, 2),
      /only call futures/,
    );
  }
});

const IMPORTS = `(module
  (import "env" "log" (func $log (param i32 i32)))
  (import "env" "twice" (func $twice (param i64) (result i64)))
  (import "env" "four" (func $four (param i32 i32 externref i32) (result i32)))
  (import "env" "mem" (memory 1))
  (import "env" "tab" (table 1 funcref))
  (import "env" "g" (global $g (mut i32)))
  (import "env" "limit" (global $limit i64))
  (import "env" "scale" (global $scale f64))
  (import "other" "inc" (func $inc (param i32) (result i32)))
  (data (i32.const 0) "hello")
  (func (export "hello") (call $log (i32.const 0) (i32.const 5)))
  (func (export "twice") (param i64) (result i64) (call $twice (local.get 0)))
  (func (export "four") (param externref) (result i32)
    (call $four (i32.const 1) (i32.const 2) (local.get 0) (i32.const 3)))
  (func (export "bump") (global.set $g (i32.add (global.get $g) (i32.const 1))))
  (func (export "limit") (result i64) global.get $limit)
  (func (export "scale") (result f64) global.get $scale)
  (func (export "inc") (param i32) (result i32) (call $inc (local.get 0)))
  (func (export "viaTable") (param i32) (result i32)
    (call_indirect (param i32) (result i32) (local.get 0) (i32.const 0))))`;

/** A provider of `other.inc` and of a function for the table. */
const OTHER = `(module
  (func (export "inc") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1))))`;

Deno.test("an imports object supplies every extern kind, with function types from the module", () => {
  using engine = new Engine();
  using store = new Store(engine);
  using module = new Module(engine, IMPORTS);
  using otherModule = new Module(engine, OTHER);
  const other = new Instance<{ inc(x: number): number }>(store, otherModule);
  const mem = new Memory(store, { minimum: 1 });
  const tab = new Table(store, { element: "funcref", minimum: 1 });
  const g = new Global(store, { content: "i32", mutable: true }, 10);
  const logged: string[] = [];
  const seen: unknown[] = [];
  const token = { token: true };
  const instance = new Instance<{
    hello(): void;
    twice(x: bigint): bigint;
    four(x: unknown): number;
    bump(): void;
    limit(): bigint;
    scale(): number;
    inc(x: number): number;
    viaTable(x: number): number;
  }>(store, module, {
    env: {
      log(this: unknown, ptr: number, len: number) {
        seen.push(this, arguments.length);
        logged.push(mem.readString(ptr, len));
      },
      twice: (x: bigint) => x * 2n,
      four: (a: number, b: number, ref: unknown, c: number) => {
        assert.equal(ref, token);
        return a + b + c;
      },
      mem,
      tab,
      g,
      limit: 1n << 40n,
      scale: 0.5,
      unused: 1, // extra entries are ignored, as V8 does
    },
    other: other.exports,
    ignored: {},
  });
  const e = instance.exports;
  e.hello();
  assert.deepEqual(logged, ["hello"], "the data segment went into the imported memory");
  assert.deepEqual(seen, [undefined, 2], "called as V8 calls imports: wasm arguments, no this");
  assert.equal(e.twice(21n), 42n);
  assert.equal(e.four(token), 6);
  e.bump();
  e.bump();
  assert.equal(g.value, 12, "the imported mutable global is the one given");
  assert.equal(e.limit(), 1n << 40n);
  assert.equal(e.scale(), 0.5);
  assert.equal(e.inc(1), 2, "a function of another instance's exports is linked as its Func");
  tab.set(0, other.exports.inc);
  assert.equal(e.viaTable(41), 42, "the imported table is the one given");
  // Func objects of the explicit API work too, with their Caller.
  const callerSeen: boolean[] = [];
  const again = new Instance(store, module, {
    env: {
      log: new Func(store, new FuncType(["i32", "i32"], []), (caller: Caller, ptr, len) => {
        callerSeen.push(caller.memory === undefined); // the instance exports no memory
        logged.push(`${ptr}:${len}`);
      }),
      twice: instance.getFunc("twice")!,
      four: () => 0,
      mem,
      tab,
      g,
      limit: new Global(store, { content: "i64", mutable: false }, 5n),
      scale: 1,
    },
    other: { inc: other.exports.inc },
  });
  (again.exports.hello as () => void)();
  assert.deepEqual(logged, ["hello", "0:5"]);
  assert.deepEqual(callerSeen, [true]);
  assert.equal((again.exports.twice as (x: bigint) => bigint)(2n), 4n);
});

Deno.test("a missing import or a value of the wrong kind is a LinkError naming it", () => {
  using engine = new Engine();
  using store = new Store(engine);
  using otherStore = new Store(engine);
  using module = new Module(engine, IMPORTS);
  const mem = new Memory(store, { minimum: 1 });
  const tab = new Table(store, { element: "funcref", minimum: 1 });
  const g = new Global(store, { content: "i32", mutable: true }, 0);
  const good = {
    log() {},
    twice: (x: bigint) => x,
    four: () => 0,
    mem,
    tab,
    g,
    limit: 1n,
    scale: 1,
  };
  const inc = { inc: (x: number) => x };
  const link = (imports: unknown) => () => new Instance(store, module, imports as never);
  const linkError = (module: string, field: string, message: RegExp) => (error: unknown) => {
    assert.ok(error instanceof LinkError, String(error));
    assert.ok(error instanceof WasmtimeError);
    assert.equal(error.name, "LinkError");
    assert.equal(error.module, module);
    assert.equal(error.field, field);
    assert.match(error.message, message);
    return true;
  };
  assert.throws(
    link(undefined),
    linkError("env", "log", /imports env\.log \(a function \(i32, i32\) -> \(\)\).*no "env"/),
  );
  assert.throws(link({ env: good }), linkError("other", "inc", /no "other" entry/));
  assert.throws(
    link({ env: { ...good, twice: undefined }, other: inc }),
    linkError("env", "twice", /env\.twice \(a function \(i64\) -> \(i64\)\).*does not have it/),
  );
  assert.throws(
    link({ env: 1, other: inc }),
    linkError("env", "log", /imports\["env"\] must be an object of imports, got number 1/),
  );
  const wrong: [string, unknown, RegExp][] = [
    ["log", 5, /env\.log must be a function \(i32, i32\) -> \(\); got number 5/],
    ["log", mem, /env\.log must be a function .*; got a Memory/],
    ["mem", tab, /env\.mem must be a Memory of at least 1 page\(s\); got a Table/],
    ["mem", { minimum: 1 }, /env\.mem must be a Memory.*; got a Object/],
    ["tab", mem, /env\.tab must be a Table of funcref with at least 1 element\(s\); got a Memory/],
    ["g", 1, /env\.g must be a Global of i32 \(mutable\); got number 1 \(a mutable global/],
    ["limit", 1, /env\.limit must be a Global of i64 or a bigint; got number 1 \(i64 values/],
    ["scale", "1", /env\.scale must be a Global of f64 or a number; got string "1"/],
    ["mem", new Memory(otherStore, { minimum: 1 }), /env\.mem .*belongs to another Store/],
    ["log", new Func(otherStore, new FuncType(["i32", "i32"], []), () => {}), /another Store/],
  ];
  for (const [field, value, message] of wrong) {
    assert.throws(
      link({ env: { ...good, [field]: value }, other: inc }),
      linkError("env", field, message),
    );
  }
  // Wasmtime still checks the types of the externs given (limits, signatures).
  assert.throws(
    link({
      env: { ...good, twice: new Func(store, new FuncType(["i32"], []), () => {}) },
      other: inc,
    }),
    /incompatible import type for `env::twice`/,
  );
  // Only own properties count: a module's import names must never reach inherited ones.
  using sneaky = new Module(
    engine,
    `(module (import "constructor" "assign" (func)) (import "env" "toString" (func)))`,
  );
  assert.throws(
    () => new Instance(store, sneaky, {}),
    linkError("constructor", "assign", /no "constructor" entry/),
  );
  assert.throws(
    () => new Instance(store, sneaky, { constructor: { assign() {} }, env: {} }),
    linkError("env", "toString", /does not have it/),
  );
  assert.throws(() => new Instance(store, module, 5 as never), /imports must be an object/);
  // The explicit form (an array in module.imports order) still works and is still checked.
  assert.throws(() => new Instance(store, module, []), /needs 9 import\(s\)/);
});

Deno.test("JS functions of an imports object trap the guest like every host function", () => {
  using engine = new Engine();
  using store = new Store(engine);
  using module = new Module(
    engine,
    `(module (import "env" "f" (func $f (param i32) (result i32)))
      (import "env" "g" (func $g (param i32 i32) (result i32 i64)))
      (global $after (mut i32) (i32.const 0))
      (func (export "run") (param i32) (result i32)
        (call $f (local.get 0)) (global.set $after (i32.const 1)))
      (func (export "pair") (param i32) (result i64) (call $g (local.get 0) (i32.const 0)) drop
        drop i64.const 0)
      (func (export "after") (result i32) global.get $after))`,
  );
  const boom = new Error("boom");
  let mode = "ok";
  const instance = new Instance<{
    run(x: number): number;
    pair(x: number): bigint;
    after(): number;
  }>(store, module, {
    env: {
      f: (x: number) => {
        if (mode === "throw") throw boom;
        if (mode === "promise") return Promise.resolve(x);
        if (mode === "bad") return "nope";
        return x;
      },
      g: (x: number) => (mode === "bad" ? [x] : [x, 1n]),
    },
  });
  const e = instance.exports;
  mode = "throw";
  assert.throws(() => e.run(1), (error) => error === boom, "the original error is rethrown");
  mode = "promise";
  assert.throws(() => e.run(1), /env\.f returned a Promise/);
  mode = "bad";
  assert.throws(() => e.run(1), /result of env\.f: expected i32, got string "nope"/);
  assert.throws(() => e.pair(1), /env\.g must return an array of 2 values/);
  assert.equal(e.after(), 0, "the guest stopped at the failing host call each time");
  mode = "ok";
  assert.equal(e.run(5), 5);
  assert.equal(e.pair(1), 0n);
  assert.equal(e.after(), 1);
});

Deno.test("defineImports puts an imports object on a linker beside its other definitions", () => {
  using engine = new Engine();
  using store = new Store(engine);
  using linker = new Linker(engine);
  linker.defineFunc("host", "base", new FuncType([], ["i32"]), () => 40);
  using module = new Module(
    engine,
    `(module (import "host" "base" (func $base (result i32)))
      (import "env" "add" (func $add (param i32 i32) (result i32)))
      (func (export "run") (result i32) (call $add (call $base) (i32.const 2))))`,
  );
  defineImports(linker, store, module, { env: { add: (a: number, b: number) => a + b } }, "test");
  const instance = linker.instantiate<{ run(): number }>(store, module);
  assert.equal(instance.exports.run(), 42);
  assert.throws(
    () => defineImports(linker, store, module, { env: { add: 1 } }, "test"),
    (error) =>
      error instanceof LinkError && /test: import env\.add must be a function/.test(error.message),
  );
  using bare = new Linker(engine);
  defineImports(bare, store, module, {}, "test");
  assert.throws(() => bare.instantiate(store, module), /host::base/);
});

Deno.test("Caller.memory is the caller's exported memory", () => {
  using engine = new Engine();
  using store = new Store(engine);
  const seen: unknown[] = [];
  const log = new Func(store, new FuncType(["i32", "i32"], []), (caller, ptr, len) => {
    const memory = caller.memory;
    seen.push(memory === undefined ? undefined : memory.readString(ptr, len));
    if (memory !== undefined) seen.push(memory.buffer.byteLength);
  });
  using withMemory = new Module(
    engine,
    `(module (import "env" "log" (func $log (param i32 i32)))
      (memory (export "memory") 1) (data (i32.const 3) "abc")
      (func (export "run") (drop (memory.grow (i32.const 1)))
        (call $log (i32.const 3) (i32.const 3))))`,
  );
  new Instance<{ run(): void }>(store, withMemory, { env: { log } }).exports.run();
  assert.deepEqual(seen, ["abc", 2 * 65536], "the view shows the memory grown before the call");
  using noMemory = new Module(
    engine,
    `(module (import "env" "log" (func $log (param i32 i32)))
      (func (export "run") (call $log (i32.const 0) (i32.const 0))))`,
  );
  new Instance<{ run(): void }>(store, noMemory, { env: { log } }).exports.run();
  assert.deepEqual(seen.slice(2), [undefined]);
  using notMemory = new Module(
    engine,
    `(module (import "env" "log" (func $log (param i32 i32)))
      (func (export "memory") (call $log (i32.const 0) (i32.const 0))))`,
  );
  const odd = new Instance<{ memory(): void }>(store, notMemory, { env: { log } });
  assert.throws(() => odd.exports.memory(), /Caller\.memory: .*"memory" is a Func, not a Memory/);
  let kept: Caller | undefined;
  new Instance<{ run(): void }>(store, withMemory, {
    env: {
      log: new Func(store, new FuncType(["i32", "i32"], []), (caller) => void (kept = caller)),
    },
  }).exports.run();
  assert.throws(() => kept!.memory, /only valid while its host function runs/);
});

Deno.test("version is a string constant; limits take minimum and say so to V8 users", () => {
  assert.equal(typeof version, "string");
  assert.match(version, /^\d+\.\d+\.\d+$/);
  assert.equal(`${version}`, version);
  using engine = new Engine();
  using store = new Store(engine);
  assert.throws(
    () => new Memory(store, { initial: 1 } as never),
    /`initial` is V8's name .*`minimum` \(pages\)/,
  );
  assert.throws(
    () => new Table(store, { element: "funcref", initial: 1 } as never),
    /`initial` is V8's name .*`minimum` \(elements\)/,
  );
  assert.throws(
    () => new Table(store, { element: "anyfunc", minimum: 1 } as never),
    /"anyfunc" is V8's old name; use "funcref"/,
  );
  // A type read from a module goes back in as it is.
  using module = new Module(engine, `(module (import "env" "m" (memory 2 3)))`);
  const type = module.imports[0].type;
  assert.equal(type.kind, "memory");
  const memory = new Memory(store, type as never);
  assert.equal(memory.byteLength, 2 * 65536);
  new Instance(store, module, { env: { m: memory } });
});
