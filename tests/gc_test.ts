// GC references in JS: anyref/structref/arrayref/exnref values, i31 numbers, externalized
// references, and the `features` engine preset.
import assert from "node:assert/strict";
import {
  AnyRef,
  ArrayRef,
  ArrayType,
  Engine,
  ExnRef,
  ExternalizedRef,
  Func,
  FuncType,
  Global,
  Instance,
  type JsValueOf,
  Module,
  Store,
  StructRef,
  StructType,
  Table,
  Tag,
  Trap,
  type ValType,
  WasmException,
  WasmtimeError,
} from "../mod.ts";
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

const GC_WAT = `(module
  (type $point (struct (field $x (mut i32)) (field $y i64)))
  (type $bytes (array (mut i8)))
  (global $kept (mut anyref) (ref.null any))
  (func (export "point") (param i32 i64) (result (ref $point))
    (struct.new $point (local.get 0) (local.get 1)))
  (func (export "bytes") (param i32) (result anyref)
    (array.new $bytes (i32.const 200) (local.get 0)))
  (func (export "i31") (param i32) (result anyref) (ref.i31 (local.get 0)))
  (func (export "x") (param structref) (result i32)
    (struct.get $point $x (ref.cast (ref $point) (local.get 0))))
  (func (export "same") (param eqref eqref) (result i32) (ref.eq (local.get 0) (local.get 1)))
  (func (export "i31_get") (param anyref) (result i32)
    (i31.get_s (ref.cast (ref i31) (local.get 0))))
  (func (export "keep") (param anyref) (global.set $kept (local.get 0)))
  (func (export "kept") (result anyref) (global.get $kept))
  (func (export "non_null") (param (ref any)) (result i32) (i32.const 1))
  (func (export "externalize") (param anyref) (result externref)
    (extern.convert_any (local.get 0)))
  (func (export "internalize") (param externref) (result anyref)
    (any.convert_extern (local.get 0))))`;

function setup(engine: Engine, store: Store) {
  using module = new Module(engine, GC_WAT);
  const instance = new Instance(store, module, []);
  return (name: string) => instance.getFunc(name)!;
}

Deno.test("GC structs and arrays arrive as rooted StructRef / ArrayRef with typed access", () => {
  using engine = new Engine({ features: "3.0" });
  using store = new Store(engine);
  const f = setup(engine, store);
  using point = f("point").call(3, 4n) as StructRef;
  assert.ok(point instanceof StructRef && point instanceof AnyRef);
  assert.equal(point.fieldCount, 2);
  assert.equal(point.get(0), 3);
  assert.equal(point.get(1), 4n);
  point.set(0, 10);
  assert.equal(f("x").call(point), 10, "wasm sees the field written from JS");
  assert.throws(() => point.set(1, 5n), WasmtimeError, "an immutable field cannot be set");
  assert.throws(() => point.get(2), WasmtimeError);
  using bytes = f("bytes").call(3) as ArrayRef;
  assert.ok(bytes instanceof ArrayRef);
  assert.equal(bytes.length, 3);
  assert.equal(bytes.get(0), 200);
  bytes.set(1, 7);
  assert.equal(bytes.get(1), 7);
  assert.throws(() => bytes.get(3), WasmtimeError);
  // The same object passed back is the same wasm reference.
  assert.equal(f("same").call(point, point), 1);
  assert.equal(f("same").call(point, bytes), 0);
});

Deno.test("i31 references are numbers both ways; null is null", () => {
  using engine = new Engine({ features: "3.0" });
  using store = new Store(engine);
  const f = setup(engine, store);
  assert.equal(f("i31").call(-5), -5);
  assert.equal(f("i31").call(0x3fff_ffff), 0x3fff_ffff);
  assert.equal(f("i31_get").call(-123), -123);
  assert.equal(f("kept").call(), null);
  assert.throws(() => f("i31_get").call(1.5), WasmtimeError);
  assert.throws(() => f("i31_get").call("7"), WasmtimeError);
});

Deno.test("reference arguments are checked against the parameter type, store and nullability", () => {
  using engine = new Engine({ features: "3.0" });
  using store = new Store(engine);
  using other = new Store(engine);
  const f = setup(engine, store);
  const g = setup(engine, other);
  using bytes = f("bytes").call(1) as ArrayRef;
  assert.throws(() => f("x").call(bytes), /not of this type/, "an array is not a structref");
  assert.throws(() => f("x").call(5), WasmtimeError, "an i31 is not a structref");
  assert.throws(() => f("non_null").call(null), /not nullable/);
  using foreign = g("point").call(1, 1n) as StructRef;
  assert.throws(() => f("x").call(foreign), /another Store/);
  assert.throws(() => f("keep").call({}), WasmtimeError, "a plain object is not an anyref");
  assert.equal(f("non_null").call(bytes), 1);
});

Deno.test("a rooted GC object survives store.gc(); dispose and store disposal make uses throw", () => {
  using engine = new Engine({ features: "3.0" });
  const store = new Store(engine);
  const f = setup(engine, store);
  const point = f("point").call(9, 9n) as StructRef;
  for (let i = 0; i < 1000; i++) f("point").call(i, 0n); // garbage the collector may reclaim
  store.gc();
  assert.equal(point.get(0), 9, "JS's reference keeps the struct alive across a collection");
  f("keep").call(point);
  point[Symbol.dispose]();
  point[Symbol.dispose](); // idempotent
  assert.throws(() => point.get(0), /disposed/);
  store.gc();
  using kept = f("kept").call() as StructRef;
  assert.equal(kept.get(0), 9, "wasm's own reference (a global) keeps it alive after dispose");
  store[Symbol.dispose]();
  assert.throws(() => kept.get(0), /disposed/);
  kept[Symbol.dispose](); // releasing a root after the store is gone is safe
});

Deno.test("externalized internal references round-trip as ExternalizedRef; host values as themselves", () => {
  using engine = new Engine({ features: "3.0" });
  using store = new Store(engine);
  const f = setup(engine, store);
  using point = f("point").call(1, 2n) as StructRef;
  using ext = f("externalize").call(point) as ExternalizedRef;
  assert.ok(ext instanceof ExternalizedRef);
  using back = f("internalize").call(ext) as StructRef;
  assert.equal(f("same").call(back, point), 1);
  const host = { mine: true };
  using inner = f("internalize").call(host) as AnyRef;
  assert.ok(inner instanceof AnyRef && !(inner instanceof StructRef));
  assert.equal(f("externalize").call(inner), host);
});

Deno.test("exnref values: caught, passed back and rethrown; an escape is a WasmException", () => {
  using engine = new Engine({ features: "3.0" });
  using store = new Store(engine);
  using module = new Module(
    engine,
    `(module
      (tag $oops (param i32 i64))
      (func (export "fail") (throw $oops (i32.const 42) (i64.const -1)))
      (func (export "catch") (result exnref)
        (block $caught (result exnref)
          (try_table (catch_all_ref $caught) (call 0))
          (unreachable)))
      (func (export "rethrow") (param exnref) (throw_ref (local.get 0))))`,
  );
  const instance = new Instance(store, module, []);
  const escaped = thrown(() => instance.getFunc("fail")!.call()) as WasmException;
  assert.ok(escaped instanceof WasmException);
  assert.deepEqual(escaped.payload, [42, -1n]);
  using caught = instance.getFunc("catch")!.call() as ExnRef;
  assert.ok(caught instanceof ExnRef);
  assert.equal(caught.fieldCount, 2);
  assert.equal(caught.field(0), 42);
  assert.equal(caught.field(1), -1n);
  const again = thrown(() => instance.getFunc("rethrow")!.call(caught)) as WasmException;
  assert.ok(again instanceof WasmException && again.tag.equals(escaped.tag));
  assert.deepEqual(again.payload, [42, -1n]);
  assert.throws(() => instance.getFunc("rethrow")!.call(null), Trap, "throw_ref of null traps");
});

Deno.test("GC reference classes cannot be constructed from JS", () => {
  for (const cls of [AnyRef, StructRef, ArrayRef, ExnRef, ExternalizedRef]) {
    assert.throws(() => new cls(), WasmtimeError);
  }
});

Deno.test("features presets: 2.0 rejects 3.0 modules, 3.0 accepts them, flags override", () => {
  const gcModule = `(module (type (struct)) (func (result anyref) (ref.null any)))`;
  const multiMemory = `(module (memory 1) (memory 1))`;
  using v2 = new Engine({ features: "2.0" });
  assert.throws(() => new Module(v2, gcModule), WasmtimeError);
  assert.throws(() => new Module(v2, multiMemory), WasmtimeError);
  new Module(v2, `(module (func (result v128) (v128.const i64x2 0 0)))`)[Symbol.dispose]();
  using v3 = new Engine({ features: "3.0" });
  new Module(v3, gcModule)[Symbol.dispose]();
  new Module(v3, multiMemory)[Symbol.dispose]();
  assert.throws(
    () => new Module(v3, `(module (memory 1 1 shared))`),
    WasmtimeError,
    "threads are not part of 3.0",
  );
  using v2multi = new Engine({ features: "2.0", multiMemory: true });
  new Module(v2multi, multiMemory)[Symbol.dispose]();
  assert.throws(
    () => new Engine({ features: "4.0" as "3.0" }),
    /features must be one of "2.0", "3.0"/,
  );
});

Deno.test("host functions, globals, tables and typed() take abstract GC reference types", () => {
  using engine = new Engine({ features: "3.0" });
  using store = new Store(engine);
  using module = new Module(
    engine,
    `(module
      (type $point (struct (field i32)))
      (import "host" "keep" (func $keep (param (ref null eq) i31ref) (result anyref)))
      (import "host" "g" (global $g (mut structref)))
      (import "host" "t" (table $t 2 (ref null any)))
      (func (export "make") (result (ref $point)) (struct.new $point (i32.const 9)))
      (func (export "run") (param i32) (result anyref)
        (call $keep (struct.new $point (local.get 0)) (ref.i31 (i32.const 3))))
      (func (export "stash") (table.set $t (i32.const 1) (global.get $g)))
      (func (export "eq") (param eqref eqref) (result i32) (ref.eq (local.get 0) (local.get 1))))`,
  );
  assert.deepEqual(module.imports.map((i) => i.type), [
    { kind: "func", params: ["eqref", "i31ref"], results: ["anyref"] },
    { kind: "global", content: "structref", mutable: true },
    { kind: "table", element: "anyref", minimum: 2 },
  ]);
  const seen: unknown[] = [];
  const keep = new Func(
    store,
    new FuncType(["eqref", "i31ref"], ["anyref"]),
    (_caller, point: unknown, small: unknown) => {
      seen.push(point, small);
      return point;
    },
  );
  const global = new Global(store, { content: "structref", mutable: true }, null);
  const table = new Table(store, { element: "anyref", minimum: 2 }, 17);
  assert.equal(table.get(0), 17, "an i31 element");
  assert.throws(() => new Global(store, { content: "structref", mutable: false }, 5), /i31/);
  const instance = new Instance(store, module, [keep, global, table]);
  using point = instance.getFunc("run")!.call(4) as StructRef;
  assert.ok(seen[0] instanceof StructRef && seen[1] === 3);
  assert.equal(point.get(0), 4);
  global.value = point;
  instance.getFunc("stash")!.call();
  using stashed = table.get(1) as StructRef;
  assert.equal(instance.getFunc("eq")!.call(stashed, point), 1, "the same struct");
  const eq = instance.getFunc("eq")!.typed(["eqref", "eqref"], ["i32"]);
  const same: 0 | 1 | number = eq(5, 5);
  assert.equal(same, 1);
  assert.throws(() => eq({} as number, 5), /expected eqref/);
  // JsValueOf types every reference kind (checked by deno check).
  const typedPoint: JsValueOf<"(ref null struct)"> = point;
  const small: JsValueOf<"(ref i31)"> = 5;
  // @ts-expect-error a number is not a struct reference
  const notPoint: JsValueOf<"structref"> = 5;
  assert.deepEqual([typedPoint === point, small, notPoint], [true, 5, 5]);
  // typed() takes concrete types as Func.type names them.
  const makeFunc = instance.getFunc("make")!;
  const make = makeFunc.typed([], makeFunc.type.results as [`(ref ${string})`]);
  using made = make() as StructRef;
  assert.ok(made instanceof StructRef);
  assert.throws(() => new FuncType(["(ref $point)" as "anyref"], []), /not a value type/);
  assert.deepEqual(new FuncType(["(ref any)", "(ref null i31)"], ["exnref"]).params, [
    "(ref any)",
    "(ref null i31)",
  ]);
});

// ---- concrete types made from JS ------------------------------------------------------------

/** Takes a $point made anywhere with the same structure, and sums an $ints array. */
const CONCRETE = `(module
  (type $point (struct (field i32) (field (mut i64)) (field i8)))
  (type $ints (array (mut i32)))
  (type $list (struct (field i32) (field (ref null $list))))
  (func (export "sum") (param (ref $point)) (result i64)
    (i64.add
      (i64.add (i64.extend_i32_s (struct.get $point 0 (local.get 0))) (struct.get $point 1 (local.get 0)))
      (i64.extend_i32_u (struct.get_u $point 2 (local.get 0)))))
  (func (export "bump") (param (ref $point)) (struct.set $point 1 (local.get 0) (i64.const 99)))
  (func (export "asum") (param (ref null $ints)) (result i32) (local $i i32) (local $s i32)
    (if (ref.is_null (local.get 0)) (then (return (i32.const -1))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (array.len (local.get 0))))
      (local.set $s (i32.add (local.get $s) (array.get $ints (local.get 0) (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (local.get $s))
  (func (export "head") (param (ref null $list)) (result (ref null $list)) (local.get 0))
  (global (export "g") (mut (ref null $point)) (ref.null $point)))`;

Deno.test("a struct made in JS is read by wasm; an array made in JS is summed by wasm", () => {
  using engine = new Engine({ gc: true });
  using store = new Store(engine);
  using point = new StructType(engine, [
    { type: "i32" },
    { type: "i64", mutable: true },
    { type: "i8" },
  ]);
  using ints = new ArrayType(engine, { type: "i32", mutable: true });
  assert.equal(String(point), "(struct (field i32) (field (mut i64)) (field i8))");
  assert.equal(String(ints), "(array (mut i32))");
  assert.deepEqual(point.fields[1], { type: "i64", mutable: true });
  using module = new Module(engine, CONCRETE);
  const instance = new Instance(store, module, []);
  // 300 does not fit the packed i8 field: it is truncated, as struct.new would.
  using p = StructRef.new(store, point, [-5, 10n, 300]);
  assert.ok(p instanceof StructRef);
  assert.deepEqual([p.get(0), p.get(1), p.get(2), p.fieldCount], [-5, 10n, 44, 3]);
  assert.equal(instance.getFunc("sum")!.call(p), -5n + 10n + 44n);
  instance.getFunc("bump")!.call(p);
  assert.equal(p.get(1), 99n); // wasm wrote the JS-made struct
  using a = ArrayRef.new(store, ints, 7, 4);
  a.set(0, 100);
  assert.equal(a.length, 4);
  assert.equal(instance.getFunc("asum")!.call(a), 121);
  assert.equal(instance.getFunc("asum")!.call(null), -1);
  using empty = ArrayRef.new(store, ints, 0, 0);
  assert.equal(instance.getFunc("asum")!.call(empty), 0);
  // A nested concrete field type, and the struct survives a collection.
  using box = new StructType(engine, [{ type: point.ref({ nullable: true }) }]);
  using b = StructRef.new(store, box, [p]);
  store.gc();
  assert.equal((b.get(0) as StructRef).get(0), -5);
});

Deno.test("concrete GC type mismatches are typed errors", () => {
  using engine = new Engine({ gc: true });
  using store = new Store(engine);
  using point = new StructType(engine, [{ type: "i32" }, { type: "i64", mutable: true }, {
    type: "i8",
  }]);
  using other = new StructType(engine, [{ type: "i32" }]);
  using ints = new ArrayType(engine, { type: "i32" });
  using module = new Module(engine, CONCRETE);
  const instance = new Instance(store, module, []);
  const sum = instance.getFunc("sum")!;
  const mismatch = (fn: () => unknown, pattern: RegExp) => {
    const error = thrown(fn);
    assert.ok(error instanceof WasmtimeError, `expected a WasmtimeError, got ${error}`);
    assert.match(error.message, pattern);
  };
  using wrongStruct = StructRef.new(store, other, [1]);
  mismatch(() => sum.call(wrongStruct), /type mismatch/);
  using array = ArrayRef.new(store, ints, 1, 2);
  mismatch(() => sum.call(array), /type mismatch/);
  mismatch(() => sum.call(5), /type mismatch|i31/);
  mismatch(() => sum.call(null), /not nullable/);
  mismatch(() => StructRef.new(store, point, [1, "x", 2]), /field 1: expected i64/);
  mismatch(() => StructRef.new(store, point, [1, 2n]), /takes 3 field value\(s\), got 2/);
  mismatch(() => StructRef.new(store, ints as unknown as StructType, []), /must be a StructType/);
  mismatch(() => ArrayRef.new(store, ints, 1, -1), /length must be an integer/);
  mismatch(() => ArrayRef.new(store, ints, 1.5, 1), /expected i32/);
  // Immutable fields and elements refuse writes from JS as from wasm.
  using p = StructRef.new(store, point, [1, 2n, 3]);
  mismatch(() => p.set(0, 7), /immutable|mutable/);
  mismatch(() => array.set(0, 7), /immutable|mutable/);
  mismatch(() => new StructType(engine, [{ type: "i9" as "i8" }]), /not a value type/);
  mismatch(
    () => new StructType(engine, [{ type: "i32", mutable: 1 as unknown as boolean }]),
    /boolean/,
  );
  // A disposed type object cannot be used; its name keeps resolving (the engine keeps it).
  const gone = new StructType(engine, [{ type: "i32" }]);
  const ref = gone.ref();
  gone[Symbol.dispose]();
  gone[Symbol.dispose]();
  assert.equal(new Func(store, new FuncType([ref], []), () => {}).type.params[0], ref);
  mismatch(() => StructRef.new(store, gone, [1]), /disposed/);
  mismatch(
    () =>
      new FuncType(["(ref $struct:999999)"], []) &&
      new Func(store, new FuncType(["(ref $struct:999999)"], []), () => {}),
    /no live StructType/,
  );
  mismatch(() => StructType.of("(ref $array:1)" as never), /StructType\.of: expected/);
  mismatch(() => StructType.of("i32"), /StructType\.of: expected/);
});

Deno.test("host functions, globals and tables take concrete types made from JS", () => {
  using engine = new Engine({ gc: true });
  using store = new Store(engine);
  using point = new StructType(engine, [{ type: "i32" }, { type: "i64", mutable: true }, {
    type: "i8",
  }]);
  using ints = new ArrayType(engine, { type: "i32", mutable: true });
  using p = StructRef.new(store, point, [4, 5n, 6]);
  // A host function taking (ref null $point): wasm and JS pass it structs of that type.
  using type = new FuncType([point.ref({ nullable: true })], ["i32"]);
  const first = new Func(
    store,
    type,
    (_caller, s) => s === null ? -1 : (s as StructRef).get(0) as number,
  );
  assert.equal(first.call(p), 4);
  assert.equal(first.call(null), -1);
  assert.deepEqual(first.type.params, [point.ref({ nullable: true })]);
  using module = new Module(
    engine,
    `(module
    (type $point (struct (field i32) (field (mut i64)) (field i8)))
    (import "env" "first" (func $first (param (ref null $point)) (result i32)))
    (func (export "run") (result i32)
      (call $first (struct.new $point (i32.const 11) (i64.const 0) (i32.const 0)))))`,
  );
  const instance = new Instance(store, module, [first]);
  assert.equal(instance.getFunc("run")!.call(), 11);
  // A host result of a concrete type: checked before Wasmtime takes it (its path is unchecked).
  using maker = new FuncType([], [point.ref({ nullable: true })]);
  assert.equal(new Func(store, maker, () => null).call(), null);
  assert.equal((new Func(store, maker, () => p).call() as StructRef).get(0), 4);
  // Globals and tables of concrete types are checked by Wasmtime.
  const g = new Global(store, { content: point.ref({ nullable: true }), mutable: true }, p);
  assert.equal((g.value as StructRef).get(1), 5n);
  using a = ArrayRef.new(store, ints, 1, 3);
  assert.throws(() => (g.value = a), /type mismatch/);
  g.value = null;
  assert.equal(g.value, null);
  const t = new Table(store, { element: ints.ref({ nullable: true }), minimum: 2 }, null);
  t.set(1, a);
  assert.equal((t.get(1) as ArrayRef).length, 3);
  assert.deepEqual(t.type.element, ints.ref({ nullable: true }));
  assert.throws(() => t.set(0, p), /type mismatch/);
  assert.throws(
    () => new Global(store, { content: point.ref(), mutable: false }, null),
    /not nullable/,
  );
});

Deno.test("module imports, exports and Func.type name concrete types; equal JS-made types share the name", () => {
  using engine = new Engine({ gc: true });
  using store = new Store(engine);
  using module = new Module(engine, CONCRETE);
  const types = Object.fromEntries(module.exports.map((e) => [e.name, e.type]));
  const sum = types.sum as { params: readonly ValType[]; results: readonly ValType[] };
  assert.match(sum.params[0], /^\(ref \$struct:\d+\)$/);
  assert.deepEqual(sum.results, ["i64"]);
  const g = types.g as { content: ValType };
  // One name per type: the global and the parameter are the same $point.
  assert.equal(g.content, sum.params[0].replace("(ref ", "(ref null "));
  // The module's type, by name: build values of it without re-declaring it.
  using point = StructType.of(sum.params[0]);
  assert.equal(String(point), "(struct (field i32) (field (mut i64)) (field i8))");
  assert.deepEqual(point.fields, [
    { type: "i32", mutable: false },
    { type: "i64", mutable: true },
    { type: "i8", mutable: false },
  ]);
  assert.equal(point.ref(), sum.params[0]);
  const instance = new Instance(store, module, []);
  using p = StructRef.new(store, point, [1, 2n, 3]);
  assert.equal(instance.getFunc("sum")!.call(p), 6n);
  // A JS-made type with the same fields is the same type, and so has the same name.
  using same = new StructType(engine, [
    { type: "i32" },
    { type: "i64", mutable: true },
    { type: "i8" },
  ]);
  assert.equal(same.ref(), sum.params[0]);
  using other = new StructType(engine, [{ type: "i32" }]);
  assert.notEqual(other.ref(), sum.params[0]);
  // Made first in JS, then read from a module: the module's type takes the JS name.
  using first = new StructType(engine, [{ type: "f32" }, { type: "f32" }]);
  using later = new Module(
    engine,
    `(module (type $v (struct (field f32) (field f32))) (func (export "f") (param (ref $v))))`,
  );
  assert.deepEqual((later.exports[0].type as { params: readonly ValType[] }).params, [
    first.ref(),
  ]);
  // Arrays, Func.type, and a struct's own type.
  const asum = instance.getFunc("asum")!;
  assert.match(asum.type.toString(), /^\(\(ref null \$array:\d+\)\) -> \(i32\)$/);
  using ints = ArrayType.of(asum.type.params[0]);
  assert.deepEqual(ints.element, { type: "i32", mutable: true });
  using a = ArrayRef.new(store, ints, 4, 3);
  assert.equal(asum.call(a), 12);
  assert.equal(a.type.ref({ nullable: true }), asum.type.params[0]);
  assert.equal(p.type.ref(), sum.params[0]);
  // A recursive type names itself in its own field.
  const head = types.head as { params: readonly ValType[] };
  using list = StructType.of(head.params[0]);
  assert.deepEqual(list.fields[1], { type: head.params[0], mutable: false });
  // Another engine's engine-bound names are refused (never Wasmtime's abort).
  using engine2 = new Engine({ gc: true });
  using store2 = new Store(engine2);
  assert.throws(
    () => new Func(store2, new FuncType([sum.params[0]], []), () => {}),
    /another Engine/,
  );
  assert.throws(() => StructRef.new(store2, point, [1, 2n, 3]), /another Engine/);
  // A struct with many fields, each referring to it, stays bounded.
  const fields = Array.from({ length: 2000 }, () => "(field (ref null $t))").join(" ");
  using wide = new Module(
    engine,
    `(module (rec (type $t (struct ${fields})))
    (func (export "f") (param (ref null $t))))`,
  );
  const param = (wide.exports[0].type as { params: readonly string[] }).params[0];
  assert.match(param, /^\(ref null \$struct:\d+\)$/);
  using t = StructType.of(param as ValType);
  assert.equal(t.fields.length, 2000);
  assert.ok(String(t).length < 500_000, `${String(t).length} characters`);
});

Deno.test("struct and array types used with another engine are clean errors, never an abort", async () => {
  const result = await runIsolated(`
    import { ArrayRef, ArrayType, Engine, Func, FuncType, Global, Linker, Store, StructRef, StructType, Table, Tag } from ${
    JSON.stringify(MOD_URL)
  };
    const a = new Engine({ gc: true });
    const b = new Engine({ gc: true });
    const storeB = new Store(b);
    const point = new StructType(a, [{ type: "i32" }]);
    const ints = new ArrayType(a, { type: "i32" });
    const report = (what, run) => {
      try { run(); console.log(what, "no error"); }
      catch (e) { console.log(what, e.constructor.name, e.message.includes("another Engine") ? "named" : e.message); }
    };
    report("StructRef.new", () => StructRef.new(storeB, point, [1]));
    report("ArrayRef.new", () => ArrayRef.new(storeB, ints, 1, 1));
    report("Func", () => new Func(storeB, new FuncType([point.ref({ nullable: true })], []), () => {}));
    report("Linker", () => new Linker(b).defineFunc("m", "f", new FuncType([], [ints.ref({ nullable: true })]), () => null));
    report("Global", () => new Global(storeB, { content: point.ref({ nullable: true }), mutable: false }, null));
    report("Table", () => new Table(storeB, { element: ints.ref({ nullable: true }), minimum: 1 }, null));
    report("Tag", () => new Tag(storeB, { params: [point.ref({ nullable: true })] }));
    report("StructType", () => new StructType(b, [{ type: point.ref() }]));
    report("ArrayType", () => new ArrayType(b, { type: ints.ref({ nullable: true }) }));
    console.log("alive");
  `);
  assertClean(result);
  const lines = result.stdout.trim().split("\n");
  assert.equal(lines.pop(), "alive");
  for (const line of lines) assert.match(line, /^\S+ WasmtimeError named$/, line);
  assert.equal(lines.length, 9);
});

/** A module with a subtype hierarchy and a typed function reference, for the unchecked paths. */
const SUBTYPES = `(module
  (type $base (sub (struct (field i32))))
  (type $derived (sub $base (struct (field i32) (field i64))))
  (type $point (struct (field i32)))
  (type $f (func (param i32) (result i32)))
  (import "env" "make" (func $make (param i32) (result (ref $point))))
  (import "env" "pick" (func $pick (result (ref $f))))
  (func $double (type $f) (i32.mul (local.get 0) (i32.const 2)))
  (elem declare func $double)
  (func (export "x") (param (ref $base)) (result i32) (struct.get $base 0 (local.get 0)))
  (func (export "px") (param (ref null $point) i32) (result i32)
    (if (result i32) (ref.is_null (local.get 0)) (then (local.get 1))
      (else (struct.get $point 0 (local.get 0)))))
  (func (export "base") (param i32) (result (ref $base)) (struct.new $base (local.get 0)))
  (func (export "derived") (param i32) (result (ref $derived))
    (struct.new $derived (local.get 0) (i64.const 1)))
  (func (export "made") (param i32) (result i32) (struct.get $point 0 (call $make (local.get 0))))
  (func (export "double") (result (ref $f)) (ref.func $double))
  (func (export "apply") (param (ref $f) i32) (result i32) (call_ref $f (local.get 1) (local.get 0)))
  (func (export "picked") (param i32) (result i32) (call_ref $f (local.get 0) (call $pick))))`;

/** The WasmtimeError `fn` throws; its message must match `pattern`. */
function refused(fn: () => unknown, pattern: RegExp): void {
  const error = thrown(fn);
  assert.ok(error instanceof WasmtimeError, `expected a WasmtimeError, got ${error}`);
  assert.match(error.message, pattern);
}

Deno.test("typed(), instance.exports and host results take GC objects of the concrete type or a subtype", () => {
  using engine = new Engine({ gc: true });
  using store = new Store(engine);
  using point = new StructType(engine, [{ type: "i32" }]);
  using wide = new StructType(engine, [{ type: "i32" }, { type: "f64" }]);
  using unary = new FuncType(["i32"], ["i32"]);
  using module = new Module(engine, SUBTYPES);
  using p = StructRef.new(store, point, [7]);
  using w = StructRef.new(store, wide, [8, 0.5]);
  // The host result must be a $point: a JS-made struct of the same fields is one; others not.
  let made: unknown = p;
  const make = new Func(store, new FuncType(["i32"], [point.ref()]), () => made);
  const pick = new Func(store, new FuncType([], [unary.ref()]), () => made);
  const instance = new Instance(store, module, [make, pick]);
  const get = (name: string) => instance.getFunc(name)!;
  assert.equal(get("made").call(0), 7);
  made = w;
  refused(
    () => get("made").call(0),
    /result of \(anonymous\): type mismatch: expected \(ref \$struct:\d+\), got StructRef of type \(struct \(field i32\) \(field f64\)\)/,
  );
  made = 3;
  refused(() => get("made").call(0), /a number is an i31 reference/);
  made = null;
  refused(() => get("made").call(0), /not nullable/);

  // typed() and instance.exports: a subtype is accepted, an unrelated struct refused.
  const [baseParam] = get("x").type.params;
  assert.match(baseParam, /^\(ref \$struct:\d+\)$/);
  assert.notEqual(baseParam, point.ref()); // the open $base is not the final $point
  const x = get("x").typed([baseParam], ["i32"]);
  using b = get("base").call(1) as StructRef;
  using d = get("derived").call(2) as StructRef;
  assert.equal(x(b), 1);
  assert.equal(x(d), 2); // $derived <: $base
  assert.equal((instance.exports.x as (s: unknown) => number)(d), 2);
  assert.equal(get("x").call(d), 2);
  // $point is final and not $base, though it prints the same: refused on every path.
  refused(() => x(p), /argument 0: type mismatch: expected \(ref \$struct:\d+\)/);
  refused(
    () => (instance.exports.x as (s: unknown) => number)(w),
    /exports\.x argument 0: type mismatch/,
  );
  refused(() => get("x").call(p), /argument 0: type mismatch/);
  refused(() => get("x").callBits(w), /argument 0: type mismatch/);
  refused(() => x(null as never), /not nullable/);
  assert.equal(get("px").type.params[0], point.ref({ nullable: true }));
  const px = get("px").typed(get("px").type.params as [`(ref null ${string})`, "i32"], [
    "i32",
  ]);
  assert.deepEqual([px(p, 0), px(null, 5)], [7, 5]);
  refused(() => px(b as never, 0), /type mismatch/);
  // A GC object of another store is refused before Wasmtime sees it.
  using other = new Store(engine);
  using q = StructRef.new(other, point, [1]);
  refused(() => px(q, 0), /another Store/);
  // The checks never let a mistyped struct reach wasm: the store still works.
  store.gc();
  assert.equal(px(p, 0), 7);
});

Deno.test("typed function references: FuncType.ref() for host functions, (ref $f) funcrefs both ways", () => {
  using engine = new Engine({ gc: true });
  using store = new Store(engine);
  using unary = new FuncType(["i32"], ["i32"]);
  using binary = new FuncType(["i32", "i32"], ["i32"]);
  assert.match(unary.ref(), /^\(ref \$func:\d+\)$/);
  assert.equal(unary.ref(), unary.ref()); // one name per FuncType
  assert.match(unary.ref({ nullable: true }), /^\(ref null \$func:\d+\)$/);
  const triple = new Func(store, unary, (_caller, v: number) => v * 3);
  const add = new Func(store, binary, (_caller, a: number, b: number) => a + b);
  let picked: unknown = triple;
  const pick = new Func(store, new FuncType([], [unary.ref()]), () => picked);
  const make = new Func(store, new FuncType(["i32"], ["(ref struct)"]), () => null);
  using module = new Module(engine, SUBTYPES);
  // The import wants (ref $point); a host function returning (ref struct) does not match.
  refused(() => new Instance(store, module, [make, pick]), /type|incompatible/);
  using point = new StructType(engine, [{ type: "i32" }]);
  const make2 = new Func(store, new FuncType(["i32"], [point.ref()]), () => null);
  const instance = new Instance(store, module, [make2, pick]);
  const get = (name: string) => instance.getFunc(name)!;
  // wasm -> JS -> wasm: a (ref $f) result is a Func, passed back as a (ref $f) argument.
  const double = get("double").call() as Func;
  assert.ok(double instanceof Func);
  assert.equal(double.call(21), 42);
  assert.equal(get("apply").call(double, 5), 10);
  assert.equal(get("apply").call(triple, 5), 15); // a host function of the same signature
  const apply = get("apply").typed(get("apply").type.params as ["(ref (concrete func))", "i32"], [
    "i32",
  ]);
  assert.equal(apply(triple, 4), 12);
  refused(
    () => apply(add, 4),
    /type mismatch: expected \(ref .*got Func of type \(func \(i32, i32\) -> \(i32\)\)/,
  );
  refused(() => get("apply").call(add, 4), /type mismatch/);
  refused(() => get("apply").call(null, 4), /not nullable/);
  // JS -> wasm as a host result.
  assert.equal(get("picked").call(7), 21);
  picked = add;
  refused(() => get("picked").call(7), /result of \(anonymous\): type mismatch/);
  // A host function taking and returning typed function references.
  using applyType = new FuncType([unary.ref(), "i32"], ["i32"]);
  const hostApply = new Func(
    store,
    applyType,
    (_caller, f: Func, v: number) => f.call(v) as number,
  );
  assert.equal(hostApply.call(double, 8), 16);
  refused(() => hostApply.call(add, 8), /type mismatch/);
  // A disposed FuncType no longer names a type.
  const gone = new FuncType([], []);
  const name = gone.ref();
  gone[Symbol.dispose]();
  refused(() => new Func(store, new FuncType([name], []), () => {}), /no live/);
});

Deno.test("a Tag whose payload names concrete types: thrown by the host, caught by wasm, and back", () => {
  using engine = new Engine({ gc: true, exceptions: true });
  using store = new Store(engine);
  using point = new StructType(engine, [{ type: "i32" }]);
  using unary = new FuncType(["i32"], ["i32"]);
  const tag = new Tag(store, { params: [point.ref(), unary.ref({ nullable: true })] });
  using p = StructRef.new(store, point, [6]);
  const inc = new Func(store, unary, (_caller, v: number) => v + 1);
  const fail = new Func(store, new FuncType([], []), () => {
    throw new WasmException(tag, [p, inc]);
  });
  using module = new Module(
    engine,
    `(module
      (type $point (struct (field i32)))
      (type $f (func (param i32) (result i32)))
      (import "env" "tag" (tag $t (param (ref $point) (ref null $f))))
      (import "env" "fail" (func $fail))
      (func (export "catch") (result i32) (local $f (ref null $f))
        (block $h (result (ref $point) (ref null $f))
          (try_table (catch $t $h) (call $fail))
          (return (i32.const -1)))
        (local.set $f)
        (struct.get $point 0)
        (call_ref $f (i32.const 100) (local.get $f))
        (i32.add))
      (func (export "throw") (param (ref $point))
        (throw $t (local.get 0) (ref.null $f))))`,
  );
  const instance = new Instance(store, module, [tag, fail]);
  assert.equal(instance.getFunc("catch")!.call(), 107);
  const error = thrown(() => instance.getFunc("throw")!.call(p)) as WasmException;
  assert.ok(error instanceof WasmException);
  assert.equal((error.payload[0] as StructRef).get(0), 6);
  assert.equal(error.payload[1], null);
  // A payload of the wrong concrete type is refused when the exception is made.
  using wide = new StructType(engine, [{ type: "i64" }]);
  using w = StructRef.new(store, wide, [1n]);
  const bad = new Func(store, new FuncType([], []), () => {
    throw new WasmException(tag, [w, null]);
  });
  const again = new Instance(store, module, [tag, bad]);
  refused(() => again.getFunc("catch")!.call(), /mismatch|type/);
});
