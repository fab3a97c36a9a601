/**
 * The fast component call path (native/src/component_call.rs): functions whose parameters and
 * result are scalars, `string` or `list<u8>` are called through a packed frame and Wasmtime's
 * Rust API. These tests check what that path must keep from the general one: exact values
 * (big, empty, offset and non-ASCII inputs), the general path's TypeErrors, nested calls of the
 * same function, and callees that live as long as their functions.
 */
import assert from "node:assert/strict";
import { Component, ComponentLinker, Engine, Store } from "../mod.ts";
import { type BenchExports, binding } from "../bench/component_bench.ts";

function bench(): { e: BenchExports; [Symbol.dispose](): void } {
  const b = binding();
  return { e: b.exports, [Symbol.dispose]: b.dispose };
}

Deno.test("strings and list<u8> of every size round-trip exactly through the fast path", () => {
  using b = bench();
  const { e } = b;
  for (const text of ["", "a", "héllo, 😀 wörld", "ü".repeat(70_000), "x".repeat(1 << 20)]) {
    assert.equal(e.echoString(text), text);
  }
  const big = new Uint8Array(1 << 20).map((_, i) => (i * 7) & 255);
  for (const bytes of [new Uint8Array(0), new Uint8Array([0, 255, 7]), big]) {
    const out = e.echoBytes(bytes);
    assert.ok(out instanceof Uint8Array);
    assert.notEqual(out.buffer, bytes.buffer, "the result is a fresh copy");
    assert.deepEqual(out, bytes);
  }
  // A view with an offset passes its own bytes, not its buffer's start.
  assert.deepEqual(e.echoBytes(big.subarray(1000, 1010)), big.slice(1000, 1010));
  // An array of numbers is a valid list<u8> (the general path takes it).
  assert.deepEqual(e.echoBytes([1, 2, 3] as unknown as Uint8Array), new Uint8Array([1, 2, 3]));
  // A result buffer is the caller's: the next call does not overwrite it.
  const first = e.echoBytes(new Uint8Array([1, 1]));
  e.echoBytes(new Uint8Array([2, 2]));
  assert.deepEqual(first, new Uint8Array([1, 1]));
  assert.equal(e.add(2 ** 32 - 1, 1), 0);
  assert.equal(e.empty(), undefined);
  assert.deepEqual(
    e["local:bench/records"].echoRecord({
      a: 1,
      b: 2,
      c: 3,
      d: 4,
      e: 5,
      f: 6,
      g: 7,
      h: 8,
      i: 9,
      j: 10,
    }),
    { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10 },
  );
});

Deno.test("the fast path throws the general path's TypeErrors; a Uint8Array is read by its slots", () => {
  using b = bench();
  const { e } = b;
  const fails = (run: () => unknown, message: string) =>
    assert.throws(run, (error: unknown) => {
      assert.ok(error instanceof TypeError, String(error));
      assert.equal(error.message, message);
      return true;
    });
  fails(() => e.add(1, 2 ** 32), "add: arg 1: expected u32, got 2**32");
  fails(() => e.add(-1, 0), "add: arg 0: expected u32, got -1");
  fails(
    () => (e.add as (...a: unknown[]) => number)(1),
    "add: expected 2 argument(s) (func(a: u32, b: u32) -> u32), got 1",
  );
  fails(
    () => e.echoString("a\ud800b"),
    "echo-string: arg 0: expected string, got a string with a lone surrogate",
  );
  fails(() => e.echoString(7 as unknown as string), "echo-string: arg 0: expected string, got 7");
  fails(
    () => e.echoBytes(new Uint16Array(2) as unknown as Uint8Array),
    "echo-bytes: arg 0: expected Uint8Array or an array, got a Uint16Array",
  );
  // A Uint8Array with a hostile prototype and own byteLength: the check reads neither.
  const hostile = new Uint8Array([4, 5, 6]);
  let touched = 0;
  Object.defineProperty(hostile, "byteLength", { get: () => (touched++, 1 << 30) });
  Object.setPrototypeOf(
    hostile,
    new Proxy(Uint8Array.prototype, {
      getPrototypeOf: (t) => (touched++, Reflect.getPrototypeOf(t)),
    }),
  );
  assert.deepEqual(e.echoBytes(hostile), new Uint8Array([4, 5, 6]));
  assert.equal(touched, 1, "only Deno.UnsafePointer.of walks the prototype chain");
  // The functions still work after each failure.
  assert.equal(e.add(40, 2), 42);
  assert.equal(e.echoString("ok"), "ok");
});

/** Exports `fs(s, n) -> string` and `fb(b) -> list<u8>`, each forwarding to a host import. */
const NESTED = `(component
  (import "host-s" (func $hs (param "s" string) (param "n" u32) (result string)))
  (import "host-b" (func $hb (param "b" (list u8)) (result (list u8))))
  (core module $m
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
      global.get $heap i32.const 7 i32.add i32.const -8 i32.and local.set $p
      local.get $p local.get 3 i32.add global.set $heap
      local.get $p))
  (core instance $mi (instantiate $m))
  (alias core export $mi "realloc" (core func $realloc))
  (core func $hsl (canon lower (func $hs) (memory (core memory $mi "memory"))
    (realloc (core func $mi "realloc"))))
  (core func $hbl (canon lower (func $hb) (memory (core memory $mi "memory"))
    (realloc (core func $mi "realloc"))))
  (core module $w
    (import "" "hs" (func $hs (param i32 i32 i32 i32)))
    (import "" "hb" (func $hb (param i32 i32 i32)))
    (import "" "realloc" (func $realloc (param i32 i32 i32 i32) (result i32)))
    (func (export "fs") (param i32 i32 i32) (result i32) (local $ret i32)
      i32.const 0 i32.const 0 i32.const 4 i32.const 8 call $realloc local.set $ret
      local.get 0 local.get 1 local.get 2 local.get $ret call $hs
      local.get $ret)
    (func (export "fb") (param i32 i32) (result i32) (local $ret i32)
      i32.const 0 i32.const 0 i32.const 4 i32.const 8 call $realloc local.set $ret
      local.get 0 local.get 1 local.get $ret call $hb
      local.get $ret))
  (core instance $wi (instantiate $w (with "" (instance
    (export "hs" (func $hsl)) (export "hb" (func $hbl)) (export "realloc" (func $realloc))))))
  (func (export "fs") (param "s" string) (param "n" u32) (result string)
    (canon lift (core func $wi "fs") (memory (core memory $mi "memory"))
      (realloc (core func $mi "realloc"))))
  (func (export "fb") (param "b" (list u8)) (result (list u8))
    (canon lift (core func $wi "fb") (memory (core memory $mi "memory"))
      (realloc (core func $mi "realloc")))))`;

Deno.test("a host function calling the same export keeps each call's arguments and results", () => {
  using engine = new Engine();
  using component = new Component(engine, NESTED);
  using linker = new ComponentLinker(engine);
  using store = new Store(engine);
  // deno-lint-ignore no-explicit-any
  const self: { e?: any } = {};
  linker.defineFunc(
    "",
    "host-s",
    (s: string, n: number) => n === 0 ? `${s}!` : `${self.e.fs(`${s}${n}`, n - 1)}<${n}`,
  );
  linker.defineFunc(
    "",
    "host-b",
    (b: Uint8Array) =>
      b.length >= 3 ? b : new Uint8Array([...self.e.fb(new Uint8Array([...b, b.length])), 9]),
  );
  const instance = linker.instantiate(store, component);
  self.e = instance.exports;
  assert.equal(self.e.fs("a", 2), "a21!<1<2");
  assert.deepEqual(self.e.fb(new Uint8Array(0)), new Uint8Array([0, 1, 2, 9, 9, 9]));
  // ComponentFunc.call takes the same path.
  assert.equal(instance.getFunc("fs")!.call("b", 1), "b1!<1");
  assert.deepEqual(
    instance.getFunc("fb")!.call(new Uint8Array([7, 7, 7])),
    new Uint8Array([7, 7, 7]),
  );
});

Deno.test("a function's native callee lives as long as the function, across collections", () => {
  const b = binding();
  const add = b.exports.add;
  const echo = b.exports.echoBytes;
  // deno-lint-ignore no-explicit-any
  const gc = (globalThis as any).gc as (() => void) | undefined;
  for (let round = 0; round < 5; round++) {
    gc?.();
    assert.equal(add(round, 1), round + 1);
    assert.deepEqual(echo(new Uint8Array([round])), new Uint8Array([round]));
  }
  b.dispose();
  assert.throws(() => add(1, 2), /disposed/);
});

Deno.test("a list<u8> whose prototype calls the same export while it is lowered", () => {
  using b = bench();
  const { e } = b;
  const reentrant = new Uint8Array([1, 2, 3]);
  let inner: Uint8Array | undefined;
  Object.setPrototypeOf(
    reentrant,
    new Proxy(Uint8Array.prototype, {
      getPrototypeOf: (t) => {
        inner ??= e.echoBytes(new Uint8Array([9]));
        return Reflect.getPrototypeOf(t);
      },
    }),
  );
  assert.deepEqual(e.echoBytes(reentrant), new Uint8Array([1, 2, 3]));
  assert.deepEqual(inner, new Uint8Array([9]));
  // Detached while lowered: passes its current length (0), never its old bytes.
  const detaching = new Uint8Array(new ArrayBuffer(1 << 16));
  Object.setPrototypeOf(
    detaching,
    new Proxy(Uint8Array.prototype, {
      getPrototypeOf: (t) => {
        if (detaching.buffer.byteLength > 0) detaching.buffer.transfer();
        return Reflect.getPrototypeOf(t);
      },
    }),
  );
  assert.equal(e.echoBytes(detaching).length, 0);
});
