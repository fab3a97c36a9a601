// Wasm exceptions in JS: Tag objects, WasmException out of calls and from host functions into
// the guest (try_table), and that JS errors from host functions still trap.
import assert from "node:assert/strict";
import {
  Engine,
  Func,
  FuncType,
  Instance,
  Linker,
  Module,
  Store,
  StructRef,
  Tag,
  Trap,
  WasmException,
  WasmtimeError,
} from "../mod.ts";
import { ffi } from "../src/ffi/symbols.ts";
import { contextOf } from "../src/core/store.ts";
import { assertClean, MOD_URL, runIsolated } from "./helpers.ts";

/** What `fn` throws (fails the test if it returns). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

/** Whether Wasmtime still holds an exception in the store (it must never be left behind). */
function pending(store: Store): boolean {
  return ffi().wasmtime_context_has_exception(contextOf(store, "test"));
}

/** A guest around host `fail` (throws) and tag `oops` (i32 i64), both imported from "host". */
const GUEST = `(module
  (import "host" "oops" (tag $oops (param i32 i64)))
  (import "host" "fail" (func $fail (param i32)))
  (tag $own (export "own") (param f64))
  (func (export "catch") (param i32) (result i32 i64)
    (block $caught (result i32 i64)
      (try_table (catch $oops $caught) (call $fail (local.get 0)))
      (i32.const -1) (i64.const -1)))
  (func (export "catch_all") (param i32) (result i32)
    (block $caught
      (try_table (catch_all $caught) (call $fail (local.get 0)))
      (return (i32.const 0)))
    (i32.const 1))
  (func (export "rethrow") (param i32)
    (block $caught (result exnref)
      (try_table (catch_all_ref $caught) (call $fail (local.get 0)))
      (return))
    (throw_ref))
  (func (export "through") (param i32) (call $fail (local.get 0)))
  (func (export "throw_own") (param f64) (throw $own (local.get 0))))`;

function setup(fail: (x: number) => void) {
  const engine = new Engine({ exceptions: true, gc: true });
  const store = new Store(engine);
  const oops = new Tag(store, { params: ["i32", "i64"] });
  const host = new Func(store, new FuncType(["i32"], []), (_caller, x: number) => fail(x));
  const module = new Module(engine, GUEST);
  const instance = new Instance(store, module, [oops, host]);
  const f = (name: string) => instance.getFunc(name)!;
  return {
    engine,
    store,
    oops,
    instance,
    f,
    [Symbol.dispose]() {
      module[Symbol.dispose]();
      store[Symbol.dispose]();
      engine[Symbol.dispose]();
    },
  };
}

Deno.test("Tag: created with a type, imported and exported, equal by definition", () => {
  using t = setup(() => {});
  assert.deepEqual(t.oops.type, { params: ["i32", "i64"] });
  using module = new Module(t.engine, GUEST);
  assert.deepEqual(module.imports[0], {
    module: "host",
    name: "oops",
    type: { kind: "tag", params: ["i32", "i64"] },
  });
  assert.deepEqual(module.exports.find((e) => e.name === "own")?.type, {
    kind: "tag",
    params: ["f64"],
  });
  const own = t.instance.getTag("own")!;
  assert.ok(own instanceof Tag);
  assert.deepEqual(own.type, { params: ["f64"] });
  assert.ok(t.instance.exports.own instanceof Tag);
  assert.ok(own.equals(t.instance.exports.own as Tag), "two objects for one tag are equal");
  assert.ok(!own.equals(t.oops));
  const twin = new Tag(t.store, { params: ["i32", "i64"] });
  assert.ok(!twin.equals(t.oops), "same type, different tag");
  using other = new Store(t.engine);
  assert.ok(!new Tag(other, { params: [] }).equals(t.oops), "tags of other stores differ");
  assert.throws(() => new Tag(t.store, { params: ["i33" as "i32"] }), /tag parameter 0/);
  assert.throws(() => new Tag(t.store, {} as { params: [] }), /params/);
});

Deno.test("an uncaught wasm exception is a WasmException with its tag and payload", () => {
  using t = setup(() => {});
  const own = t.instance.getTag("own")!;
  const error = thrown(() => t.f("throw_own").call(2.5)) as unknown;
  assert.ok(error instanceof WasmException && error instanceof WasmtimeError);
  assert.ok(!(error instanceof Trap), "the guest did not fault");
  assert.deepEqual(error.payload, [2.5]);
  assert.ok(error.is(own) && error.tag.equals(own) && !error.is(t.oops));
  assert.match(error.message, /\(f64\) with payload \[2\.5\] was not caught/);
  assert.equal(pending(t.store), false, "taken out of the store at the failure point");
  // Each escape is its own exception; the store stays usable.
  const again = thrown(() => t.f("throw_own").call(3)) as WasmException;
  assert.deepEqual(again.payload, [3]);
  assert.notEqual(again, error);
});

Deno.test("a host function throws a WasmException that the guest catches with try_table", () => {
  let last: WasmException | undefined;
  using t = setup((x) => {
    throw (last = new WasmException(t.oops, [x, BigInt(x) * 10n]));
  });
  assert.deepEqual(t.f("catch").call(7), [7, 70n]);
  assert.equal(t.f("catch_all").call(8), 1);
  assert.equal(pending(t.store), false);
  // Uncaught, or rethrown by throw_ref: the caller gets the very object the host threw.
  const through = thrown(() => t.f("through").call(9));
  assert.equal(through, last);
  const rethrown = thrown(() => t.f("rethrow").call(10));
  assert.equal(rethrown, last);
  assert.deepEqual((rethrown as WasmException).payload, [10, 100n]);
  assert.equal(pending(t.store), false);
});

Deno.test("JS errors from host functions still trap: try_table does not catch them", () => {
  const boom = new TypeError("boom");
  using t = setup(() => {
    throw boom;
  });
  assert.equal(thrown(() => t.f("catch_all").call(1)), boom);
  assert.equal(thrown(() => t.f("catch").call(1)), boom);
});

Deno.test("a WasmException that cannot be thrown into this guest fails the call instead", () => {
  let make: () => WasmException = () => new WasmException(t.oops, ["x" as unknown as number, 1n]);
  using t = setup(() => {
    throw make();
  });
  const bad = thrown(() => t.f("catch_all").call(1)) as Error;
  assert.ok(bad instanceof WasmtimeError && !(bad instanceof WasmException));
  assert.match(bad.message, /payload 0: expected i32/);
  using other = new Store(t.engine);
  const foreign = new Tag(other, { params: [] });
  make = () => new WasmException(foreign, []);
  assert.match(
    (thrown(() => t.f("catch_all").call(1)) as Error).message,
    /tag belongs to another Store/,
  );
  assert.equal(pending(t.store), false);
  assert.throws(() => new WasmException(t.oops, [1]), /carries 2 value\(s\) \(i32, i64\)/);
  assert.throws(() => new WasmException({} as Tag, []), /must be a Tag/);
});

Deno.test("an exception passes through a JS host frame into an outer guest handler", () => {
  using engine = new Engine({ exceptions: true });
  using store = new Store(engine);
  const tag = new Tag(store, { params: ["i32"] });
  using inner = new Module(
    engine,
    `(module (import "" "t" (tag $t (param i32)))
      (func (export "throw") (param i32) (throw $t (local.get 0))))`,
  );
  const thrower = new Instance(store, inner, [tag]).getFunc("throw")!;
  let seen: unknown;
  const relay = new Func(store, new FuncType(["i32"], []), (_caller, x: number) => {
    try {
      thrower.call(x + 1);
    } catch (error) {
      seen = error;
      throw error; // JS sees a WasmException and lets it go on unwinding the outer guest
    }
  });
  using outer = new Module(
    engine,
    `(module (import "" "t" (tag $t (param i32))) (import "" "relay" (func $relay (param i32)))
      (func (export "run") (param i32) (result i32)
        (block $caught (result i32)
          (try_table (catch $t $caught) (call $relay (local.get 0)))
          (i32.const -1))))`,
  );
  const run = new Instance(store, outer, [tag, relay]).getFunc("run")!;
  assert.equal(run.call(41), 42);
  assert.ok(seen instanceof WasmException && seen.is(tag));
  assert.equal(pending(store), false);
});

Deno.test("exception payloads carry references: externref and GC structs", () => {
  using engine = new Engine({ exceptions: true, gc: true });
  using store = new Store(engine);
  using module = new Module(
    engine,
    `(module
      (type $box (struct (field i32)))
      (tag $t (export "t") (param externref (ref $box)))
      (func (export "throw") (param externref)
        (throw $t (local.get 0) (struct.new $box (i32.const 5)))))`,
  );
  const instance = new Instance(store, module, []);
  const payload = { js: "value" };
  const error = thrown(() => instance.getFunc("throw")!.call(payload)) as WasmException;
  assert.equal(error.payload[0], payload);
  const box = error.payload[1] as StructRef;
  assert.ok(box instanceof StructRef);
  assert.equal(box.get(0), 5);
  assert.deepEqual(instance.getTag("t")!.type.params, ["externref", box.type.ref()]);
});

Deno.test("async host functions throw WasmExceptions into the guest too", async () => {
  using engine = new Engine({ exceptions: true });
  using store = new Store(engine);
  const tag = new Tag(store, { params: ["i32"] });
  using linker = new Linker(engine);
  linker.define(store, "host", "t", tag);
  linker.defineAsyncFunc("host", "fail", new FuncType(["i32"], []), async (_c, x: number) => {
    await new Promise((r) => setTimeout(r, 1));
    throw new WasmException(tag, [x * 2]);
  });
  using module = new Module(
    engine,
    `(module (import "host" "t" (tag $t (param i32))) (import "host" "fail" (func $f (param i32)))
      (func (export "run") (param i32) (result i32)
        (block $caught (result i32)
          (try_table (catch $t $caught) (call $f (local.get 0)))
          (i32.const -1)))
      (func (export "through") (param i32) (call $f (local.get 0))))`,
  );
  const instance = await linker.instantiateAsync(store, module);
  assert.equal(await instance.getFunc("run")!.callAsync(21), 42);
  const error = await instance.getFunc("through")!.callAsync(5).catch((e) => e);
  assert.ok(error instanceof WasmException);
  assert.deepEqual(error.payload, [10]);
  assert.equal(pending(store), false);
});

Deno.test("a Tag cannot be used with another store or engine (no abort)", async () => {
  const result = await runIsolated(`
    import { Engine, Instance, Linker, Module, Store, Tag } from "${MOD_URL}";
    const a = new Engine({ exceptions: true });
    const b = new Engine({ exceptions: true });
    const storeA = new Store(a);
    const storeB = new Store(b);
    const tag = new Tag(storeA, { params: ["i32"] });
    const module = new Module(b, '(module (import "" "t" (tag (param i32))))');
    const outcomes = [];
    for (const attempt of [
      () => new Instance(storeB, module, [tag]),
      () => new Linker(b).define(storeB, "", "t", tag),
      () => new Instance(storeB, module, { "": { t: tag } }),
    ]) {
      try { attempt(); outcomes.push("accepted"); } catch (e) { outcomes.push(e.constructor.name); }
    }
    // The same tag type used to make tags in stores of two engines.
    const type = { params: ["i32", "anyref"] };
    new Tag(storeA, type);
    new Tag(storeB, type);
    console.log(JSON.stringify(outcomes));
  `);
  assertClean(result);
  assert.deepEqual(JSON.parse(result.stdout.trim()), [
    "WasmtimeError",
    "WasmtimeError",
    "LinkError",
  ]);
});
