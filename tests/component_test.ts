import assert from "node:assert/strict";
import {
  Component,
  ComponentError,
  ComponentLinker,
  Engine,
  Module,
  Store,
  Trap,
  TrapCode,
  WasmtimeError,
  witType,
} from "../mod.ts";
import { liveHostCallbackCount } from "../src/core/registry.ts";
import { echoComponent, type T } from "./support/component_echo.ts";
import { assertClean, MOD_URL, runIsolated } from "./helpers.ts";

/** Every value kind of the README's table, echoed through a JS host function. */
const CASES: Record<string, T> = {
  bool: "bool",
  s8: "s8",
  u8: "u8",
  s16: "s16",
  u16: "u16",
  s32: "s32",
  u32: "u32",
  s64: "s64",
  u64: "u64",
  f32: "f32",
  f64: "f64",
  char: "char",
  string: "string",
  bytes: { list: "u8" },
  floats: { list: "f64" },
  strings: { list: "string" },
  point: { record: [["x", "s32"], ["my-y", "f64"], ["label", "string"]] },
  pair: { tuple: ["u32", "string"] },
  shape: {
    variant: [["circle", "f64"], ["rect", { record: [["w", "f32"], ["h", "f32"]] }], ["empty"]],
  },
  color: { enum: ["red", "dark-green"] },
  perms: { flags: ["read", "write-all", "exec"] },
  maybe: { option: "u32" },
  maybe2: { option: { option: "string" } },
  res: { result: { ok: "u32", err: "string" } },
  "many-params": {
    tuple: [
      "u64",
      "u64",
      "u64",
      "u64",
      "u64",
      "u64",
      "u64",
      "u64",
      "u64",
      "u64",
      "u64",
      "u64",
      "u64",
      "u64",
      "u64",
      "u64",
      "u64",
    ],
  },
};

/** The echo component, an instance whose host functions return their argument. */
function echo(engine: Engine, store: Store, seen: unknown[] = []) {
  const component = new Component(engine, echoComponent(CASES));
  const linker = new ComponentLinker(engine);
  for (const name of Object.keys(CASES)) {
    linker.defineFunc("", `id-${name}`, (x: unknown) => {
      seen.push(x);
      if (name === "res") {
        const r = x as { tag: string; val: unknown };
        if (r.tag === "err") throw new ComponentError(r.val);
        return r.val;
      }
      return x;
    });
  }
  const instance = linker.instantiate(store, component);
  return { component, linker, instance, exports: instance.exports };
}

/** A component with an interface import, a root import, an interface export and traps. */
const HELLO = `(component
  (import "local:hello/host" (instance $host (export "log" (func (param "msg" string)))))
  (alias export $host "log" (func $log))
  (import "now" (func $now (result u64)))
  (core module $m (memory (export "memory") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 256))
  (core instance $mi (instantiate $m))
  (core func $logl (canon lower (func $log) (memory (core memory $mi "memory"))))
  (core func $nowl (canon lower (func $now)))
  (core module $w
    (import "" "log" (func $log (param i32 i32)))
    (import "" "now" (func $now (result i64)))
    (import "m" "memory" (memory 1))
    (data (i32.const 16) "hi from wasm")
    (func (export "hello") (result i64) i32.const 16 i32.const 12 call $log call $now)
    (func (export "area") (param f64 f64) (result f64) local.get 0 local.get 1 f64.mul)
    (func (export "boom") unreachable)
    (func (export "spin") (loop $l br $l)))
  (core instance $wi (instantiate $w
    (with "" (instance (export "log" (func $logl)) (export "now" (func $nowl))))
    (with "m" (instance $mi))))
  (func $area (param "dims" (tuple f64 f64)) (result f64) (canon lift (core func $wi "area")))
  (instance $api (export "area" (func $area)))
  (export "local:hello/api" (instance $api))
  (func (export "hello") (result u64) (canon lift (core func $wi "hello")))
  (func (export "boom") (canon lift (core func $wi "boom")))
  (func (export "spin") (canon lift (core func $wi "spin"))))`;

function hello(engine: Engine, store: Store, log: (msg: string) => void = () => {}) {
  const component = new Component(engine, HELLO);
  const linker = new ComponentLinker(engine);
  linker.defineFunc("local:hello/host", "log", log);
  linker.defineFunc("", "now", () => 1234n);
  return { component, linker, instance: linker.instantiate(store, component) };
}

Deno.test("a component's imports and exports are described with their types, WIT-like", () => {
  using engine = new Engine();
  using component = new Component(engine, HELLO);
  assert.deepEqual(component.imports[0], {
    name: "local:hello/host",
    kind: "instance",
    exports: [{
      name: "log",
      kind: "func",
      type: { params: [{ name: "msg", type: { kind: "string" } }] },
    }],
  });
  const text = component.toString();
  assert.match(text, /^import now: func\(\) -> u64;$/m);
  assert.match(
    text,
    /^export local:hello\/api: interface \{\n {2}area: func\(dims: tuple<f64, f64>\) -> f64;\n\}$/m,
  );
  assert.equal(
    witType({ kind: "result", err: { kind: "list", element: { kind: "u8" } } }),
    "result<_, list<u8>>",
  );
});

Deno.test("serialize / deserialize round-trips a component; bad input is a WasmtimeError", () => {
  using engine = new Engine();
  using store = new Store(engine);
  const { component } = hello(engine, store);
  using copy = Component.deserialize(engine, component.serialize());
  assert.equal(copy.toString(), component.toString());
  assert.throws(() => new Component(engine, "(module)"), WasmtimeError);
  assert.throws(
    () => new Component(engine, new Uint8Array([0, 97, 115, 109, 13, 0, 1, 0, 99])),
    WasmtimeError,
  );
  assert.throws(() => new Module(engine, "(component)"), WasmtimeError);
  assert.throws(() => Component.deserialize(engine, new Uint8Array(64)), WasmtimeError);
});

Deno.test("interface imports and exports, root imports: host functions get the component's types", () => {
  using engine = new Engine();
  using store = new Store(engine);
  const logged: string[] = [];
  const { instance } = hello(engine, store, (msg) => logged.push(msg));
  assert.equal(instance.exports.hello(), 1234n);
  assert.deepEqual(logged, ["hi from wasm"]);
  assert.equal(instance.exports["local:hello/api"].area([3, 2.5]), 7.5);
  assert.equal(instance.getFunc("area", "local:hello/api")!.call([2, 2]), 4);
  assert.equal(instance.getFunc("hello")!.toString(), "hello: func() -> u64");
});

Deno.test("every value kind round-trips with jco's JS representation", () => {
  using engine = new Engine();
  using store = new Store(engine);
  const seen: unknown[] = [];
  const { exports: e } = echo(engine, store, seen);
  const same = (f: string, value: unknown, expected = value) => {
    seen.length = 0;
    assert.deepEqual(e[f](value), expected, f);
    assert.deepEqual(seen[0], f === "echoRes" ? seen[0] : expected, `${f}: host saw the same`);
  };
  same("echoBool", true);
  same("echoS8", -128);
  same("echoU8", 255);
  same("echoS16", -32768);
  same("echoU16", 65535);
  same("echoS32", -(2 ** 31));
  same("echoU32", 2 ** 32 - 1);
  same("echoS64", -(2n ** 63n));
  same("echoU64", 2n ** 64n - 1n);
  same("echoF32", 1.5);
  same("echoF64", -0.1);
  assert.ok(Number.isNaN(e.echoF64(NaN)));
  same("echoChar", "😀");
  same("echoString", "héllo, 😀 wörld");
  same("echoString", "");
  same("echoBytes", new Uint8Array([0, 1, 255]));
  same("echoBytes", [1, 2, 3], new Uint8Array([1, 2, 3]));
  same("echoFloats", new Float64Array([1.5, -2]));
  same("echoStrings", ["a", "", "ç"]);
  same("echoPoint", { x: -1, myY: 2.5, label: "p" });
  same("echoPair", [7, "seven"]);
  same("echoShape", { tag: "circle", val: 1 });
  same("echoShape", { tag: "rect", val: { w: 2, h: 3 } });
  same("echoShape", { tag: "empty" }, { tag: "empty" });
  same("echoColor", "dark-green");
  same("echoPerms", { read: true, writeAll: true }, { read: true, writeAll: true, exec: false });
  same("echoMaybe", 5);
  same("echoMaybe", undefined);
  same("echoMaybe2", { tag: "none" });
  same("echoMaybe2", { tag: "some", val: undefined });
  same("echoMaybe2", { tag: "some", val: "x" });
  const many = Array.from({ length: 17 }, (_, i) => BigInt(i) << 40n);
  same("echoManyParams", many);
  // result<T, E>: T is returned, E thrown as a ComponentError (from the host function too).
  assert.equal(e.echoRes({ tag: "ok", val: 3 }), 3);
  assert.throws(
    () => e.echoRes({ tag: "err", val: "bad" }),
    (error: unknown) => error instanceof ComponentError && error.payload === "bad",
  );
});

Deno.test("a value that does not fit its type is a TypeError naming the argument and path", () => {
  using engine = new Engine();
  using store = new Store(engine);
  const { exports: e } = echo(engine, store);
  const fails = (f: string, value: unknown, message: string) =>
    assert.throws(() => e[f](value), (error: unknown) => {
      assert.ok(error instanceof TypeError, String(error));
      assert.equal(error.message, message);
      return true;
    });
  fails("echoS32", 2 ** 40, "echo-s32: arg 0: expected s32, got 2**40");
  fails("echoU8", -1, "echo-u8: arg 0: expected u8, got -1");
  fails("echoU32", 1.5, "echo-u32: arg 0: expected u32, got 1.5");
  fails("echoU64", 1, "echo-u64: arg 0: expected u64 (a bigint), got 1");
  fails("echoS64", 2n ** 63n, "echo-s64: arg 0: expected s64 (a bigint), got 9223372036854775808n");
  fails(
    "echoChar",
    "ab",
    'echo-char: arg 0: expected char (a string of one Unicode scalar value), got "ab"',
  );
  fails(
    "echoChar",
    "\ud800",
    'echo-char: arg 0: expected char (a string of one Unicode scalar value), got "\\ud800"',
  );
  fails(
    "echoString",
    "a\ud800b",
    "echo-string: arg 0: expected string, got a string with a lone surrogate",
  );
  fails("echoStrings", ["a", 1], "echo-strings: arg 0 [1]: expected string, got 1");
  fails("echoPoint", { x: 1, myY: 1 }, "echo-point: arg 0 .label: missing field label");
  fails(
    "echoShape",
    { tag: "rect", val: { w: 1, h: "2" } },
    'echo-shape: arg 0 .val.h: expected f32 (a number), got "2"',
  );
  fails(
    "echoShape",
    { tag: "square" },
    'echo-shape: arg 0: expected tag "circle" | "rect" | "empty", got "square"',
  );
  fails("echoColor", "blue", 'echo-color: arg 0: expected enum "red" | "dark-green", got "blue"');
  fails("echoPerms", { read: 1 }, "echo-perms: arg 0 .read: expected boolean, got 1");
  fails("echoPair", [1], "echo-pair: arg 0: expected a tuple (array of 2), got an array of 1");
  fails("echoBytes", "abc", 'echo-bytes: arg 0: expected Uint8Array or an array, got "abc"');
  assert.throws(() => e.echoU32(), /echo-u32: expected 1 argument\(s\)/);
  // Hostile getters: a getter that calls the same function while the outer call is lowered.
  const getter = {
    get x() {
      return e.echoPoint({ x: 5, myY: 0, label: "inner" }).x;
    },
    myY: 1,
    label: "outer",
  };
  assert.deepEqual(e.echoPoint(getter), { x: 5, myY: 1, label: "outer" });
});

Deno.test("a host function's result is checked; its exceptions reach the caller unchanged", () => {
  using engine = new Engine();
  using component = new Component(engine, echoComponent({ u32: "u32", string: "string" }));
  using linker = new ComponentLinker(engine);
  const oops = new RangeError("oops");
  linker.defineFunc("", "id-u32", () => {
    throw oops;
  });
  linker.defineFunc("", "id-string", (s: string) => (s === "bad" ? 42 : s.toUpperCase()));
  // A failed call leaves its store unable to enter component instances again (Wasmtime 48),
  // and says so with a Trap; a new store works.
  const stores: Store[] = [];
  const fresh = () => {
    const store = new Store(engine);
    stores.push(store);
    return linker.instantiate(store, component).exports;
  };
  assert.throws(() => fresh().echoU32(1), (error: unknown) => error === oops);
  const e = fresh();
  assert.equal(e.echoString("ok"), "OK");
  assert.throws(() => e.echoString("bad"), /id-string: result: expected string, got 42/);
  assert.throws(() => e.echoString("again"), (error: unknown) => {
    assert.ok(error instanceof Trap && error.code === TrapCode.CannotEnterComponent, String(error));
    return true;
  });
  assert.equal(fresh().echoString("fine"), "FINE");
  for (const store of stores) store[Symbol.dispose]();
  assert.throws(() => linker.defineFunc("", "id-u32", () => 1), WasmtimeError);
});

Deno.test("traps, timeouts and fuel stop component calls as they stop core calls", () => {
  using engine = new Engine({ epochInterruption: true, consumeFuel: true });
  const stores: Store[] = [];
  const fresh = (fuel = 10_000_000) => {
    const store = new Store(engine, { fuel });
    stores.push(store);
    return hello(engine, store).instance;
  };
  assert.throws(() => fresh().exports.boom(), (error: unknown) => {
    assert.ok(error instanceof Trap);
    assert.equal(error.code, TrapCode.UnreachableCodeReached);
    return true;
  });
  const started = performance.now();
  assert.throws(() => fresh().getFunc("spin")!.callWith({ timeoutMs: 50 }), (error: unknown) => {
    assert.ok(error instanceof Trap, String(error));
    // Fuel may run out first on a fast machine; both stop the loop.
    assert.ok(
      error.code === TrapCode.Interrupt || error.code === TrapCode.OutOfFuel,
      error.message,
    );
    return true;
  });
  assert.ok(performance.now() - started < 5_000, "did not hang");
  assert.throws(() => fresh(1_000).exports.spin(), (error: unknown) => {
    assert.ok(error instanceof Trap && error.code === TrapCode.OutOfFuel, String(error));
    return true;
  });
  assert.equal(fresh().exports.hello(), 1234n);
  const aborted = AbortSignal.abort();
  assert.throws(() => fresh().getFunc("hello")!.callWith({ signal: aborted }), Trap);
  for (const store of stores) store[Symbol.dispose]();
});

Deno.test("instantiation names a missing import and refuses objects of another engine", () => {
  using engine = new Engine();
  using other = new Engine();
  using store = new Store(engine);
  using component = new Component(engine, HELLO);
  using linker = new ComponentLinker(engine);
  assert.throws(() => linker.instantiate(store, component), /local:hello\/host|now/);
  using otherStore = new Store(other);
  assert.throws(() => linker.instantiate(otherStore, component), /same Engine/);
  linker.defineUnknownImportsAsTraps(component);
  const instance = linker.instantiate(store, component);
  assert.throws(() => instance.exports.hello(), WasmtimeError);
});

Deno.test("disposal: stores, components and linkers; host functions outlive their linker", () => {
  using engine = new Engine();
  const store = new Store(engine);
  const { component, linker, instance } = hello(engine, store);
  linker[Symbol.dispose]();
  linker[Symbol.dispose]();
  component[Symbol.dispose]();
  component[Symbol.dispose]();
  assert.equal(instance.exports.hello(), 1234n, "the instance keeps its host functions");
  assert.throws(() => component.serialize(), /Component.serialize: the Component was disposed/);
  assert.throws(() => linker.defineFunc("", "x", () => {}), /ComponentLinker.defineFunc/);
  store[Symbol.dispose]();
  assert.throws(() => instance.exports.hello(), /Store.*disposed/);
});

Deno.test("no leaks: host callbacks are closed once Wasmtime drops them, strings are freed", async () => {
  const collect = async () => {
    for (let i = 0; i < 3; i++) {
      (globalThis as { gc?: () => void }).gc?.();
      await new Promise((r) => setTimeout(r, 0));
    }
  };
  using engine = new Engine();
  using component = new Component(engine, echoComponent({ string: "string" }));
  await collect();
  const before = liveHostCallbackCount();
  const text = "x".repeat(10_000);
  for (let i = 0; i < 200; i++) {
    using store = new Store(engine);
    using linker = new ComponentLinker(engine);
    linker.defineFunc("", "id-string", (s: string) => s);
    const { exports: e } = linker.instantiate(store, component);
    assert.equal(e.echoString(text).length, 10_000);
  }
  await collect();
  assert.equal(liveHostCallbackCount(), before, "every component host callback was closed");
  using store = new Store(engine);
  using linker = new ComponentLinker(engine);
  linker.defineFunc("", "id-string", (s: string) => s);
  const { exports: e } = linker.instantiate(store, component);
  for (let i = 0; i < 2_000; i++) e.echoString(text);
  const rss = Deno.memoryUsage().rss;
  for (let i = 0; i < 20_000; i++) e.echoString(text); // 400 MB through both directions
  const grown = Deno.memoryUsage().rss - rss;
  assert.ok(grown < 100 << 20, `RSS grew by ${grown >> 20} MiB`);
});

/**
 * A component whose `run` passes what the host function `h` returned to the host function
 * `after`, and `spin` does so forever: `after` sees whether the guest went on after `h`.
 */
const RUN_AFTER = `(component
  (import "h" (func $h (result u32)))
  (import "after" (func $after (param "x" u32)))
  (core func $hl (canon lower (func $h)))
  (core func $al (canon lower (func $after)))
  (core module $m
    (import "" "h" (func $h (result i32)))
    (import "" "after" (func $after (param i32)))
    (func (export "run") (call $after (call $h)))
    (func (export "spin") (loop $l (call $after (call $h)) (br $l))))
  (core instance $i (instantiate $m
    (with "" (instance (export "h" (func $hl)) (export "after" (func $al))))))
  (func (export "run") (canon lift (core func $i "run")))
  (func (export "spin") (canon lift (core func $i "spin"))))`;

Deno.test("a host function that throws, even an undescribable value, traps the guest", () => {
  using engine = new Engine();
  using component = new Component(engine, RUN_AFTER);
  using linker = new ComponentLinker(engine);
  const seen: number[] = [];
  let throwing: unknown = undefined;
  linker.defineFunc("", "h", () => {
    if (throwing !== undefined) throw throwing;
    return 7;
  });
  linker.defineFunc("", "after", (x: number) => void seen.push(x));
  for (const value of [new RangeError("no"), Object.create(null), Symbol("s")]) {
    using store = new Store(engine);
    const { exports } = linker.instantiate(store, component);
    throwing = undefined;
    exports.run();
    assert.deepEqual(seen.splice(0), [7]);
    throwing = value;
    assert.throws(() => exports.run(), (e) => e === value, "the host's own exception");
    assert.deepEqual(seen, [], "the guest did not go on after the failed host call");
  }
});

Deno.test("host calls with the JS stack exhausted trap the guest instead of going on", async () => {
  const result = await runIsolated(`
    import { Component, ComponentLinker, Engine, Store, Trap } from "${MOD_URL}";
    const engine = new Engine();
    const component = new Component(engine, ${JSON.stringify(RUN_AFTER)});
    const linker = new ComponentLinker(engine);
    let n = 0, got = -1;
    linker.defineFunc("", "h", () => ++n);
    linker.defineFunc("", "after", (x) => { got = x; });
    let run = null;
    const fresh = () => { run = linker.instantiate(new Store(engine), component).exports.run; };
    fresh();
    let wrong = 0, trapped = 0, ok = 0;
    function check() {
      got = -1;
      const before = n;
      try { run(); } catch (error) {
        // After a trap Wasmtime refuses to enter the instance again: start over.
        if (error instanceof Trap) trapped++;
        if (got !== -1) wrong++;
        try { fresh(); } catch { /* too deep even for that */ }
        return;
      }
      if (got !== n || n !== before + 1) wrong++; else ok++;
    }
    // Recurse until the stack is nearly exhausted, then call at every depth on the way back.
    function deep(depth) { try { deep(depth + 1); } catch { /* the bottom */ } check(); }
    for (let i = 0; i < 3; i++) deep(0);
    console.log(JSON.stringify({ wrong, ok: ok > 0, trapped: trapped > 0 }));
  `);
  assertClean(result);
  assert.equal(
    result.stdout.trim().split("\n").pop(),
    JSON.stringify({ wrong: 0, ok: true, trapped: true }),
    result.stderr,
  );
});

Deno.test("deep wasm recursion into a host function is a stack-overflow trap, not a crash", async () => {
  const result = await runIsolated(`
    import { Component, ComponentLinker, Engine, Store, Trap } from "${MOD_URL}";
    const engine = new Engine();
    const component = new Component(engine, \`(component
      (import "h" (func $h (param "x" u32) (result u32)))
      (core func $hl (canon lower (func $h)))
      (core module $m (import "" "h" (func $h (param i32) (result i32)))
        (func $f (export "f") (param i32) (result i32)
          (i32.add (call $f (call $h (local.get 0))) (i32.const 1))))
      (core instance $i (instantiate $m (with "" (instance (export "h" (func $hl))))))
      (func (export "f") (param "x" u32) (result u32) (canon lift (core func $i "f"))))\`);
    const linker = new ComponentLinker(engine);
    linker.defineFunc("", "h", (x) => x + 1);
    const { exports } = linker.instantiate(new Store(engine), component);
    try { exports.f(0); console.log("returned"); }
    catch (e) { console.log(e instanceof Trap ? "trap " + e.code : "error " + e.constructor.name); }
  `);
  assertClean(result);
  assert.match(result.stdout, /^trap 0$/m, result.stderr);
});

Deno.test("terminating a Worker during component host calls does not crash the process", async () => {
  const result = await runIsolated(`
    const code = \`import { Component, ComponentLinker, Engine, Store } from "${MOD_URL}";
      const engine = new Engine();
      const component = new Component(engine, \${JSON.stringify(${JSON.stringify(RUN_AFTER)})});
      const linker = new ComponentLinker(engine);
      let calls = 0;
      const mode = self.name;
      linker.defineFunc("", "h", () => {
        if (++calls === 1000) self.postMessage("running");
        if (mode === "busy" && calls > 1000) for (;;);
        return calls;
      });
      linker.defineFunc("", "after", () => {});
      linker.instantiate(new Store(engine), component).exports.spin();\`;
    for (const name of ["calls", "busy"]) {
      for (let i = 0; i < 3; i++) {
        const w = new Worker("data:application/typescript," + encodeURIComponent(code),
          { type: "module", name });
        await new Promise((resolve) => (w.onmessage = resolve));
        await new Promise((resolve) => setTimeout(resolve, 20 * i));
        w.terminate();
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    console.log("alive");
    // A Worker terminated inside an FFI callback keeps its thread busy inside Deno (core host
    // functions too), which would hold the process open: exit explicitly.
    Deno.exit(0);
  `);
  assertClean(result);
  assert.match(result.stdout, /^alive$/m, result.stderr);
});

Deno.test("an export returning a handle the guest never made fails cleanly; the others work", () => {
  using engine = new Engine();
  using component = new Component(
    engine,
    `(component
    (type $r (resource (rep i32)))
    (export $re "r" (type $r))
    (core module $m (func (export "n") (result i32) i32.const 1)
      (func (export "k") (result i32) i32.const 7))
    (core instance $i (instantiate $m))
    (func (export "make") (result (own $re)) (canon lift (core func $i "n")))
    (func (export "seven") (result u32) (canon lift (core func $i "k"))))`,
  );
  using linker = new ComponentLinker(engine);
  using store = new Store(engine);
  const { exports } = linker.instantiate(store, component);
  assert.equal(exports.seven(), 7);
  assert.equal(typeof exports.R, "function", "the root-level resource's class");
  assert.throws(() => exports.make(), /make failed: unknown handle index 1/);
  assert.equal(exports.seven(), 7);
});

Deno.test("Component.compile works off the JS thread; Component.cached reuses its entry", async () => {
  using engine = new Engine();
  const wat = `(component
    (core module $m (func (export "f") (result i32) i32.const 42))
    (core instance $i (instantiate $m))
    (func (export "answer") (result u32) (canon lift (core func $i "f"))))`;
  let ticks = 0;
  const timer = setInterval(() => ticks++, 0);
  const compiling = Component.compile(engine, wat);
  await new Promise((resolve) => setTimeout(resolve, 0));
  using compiled = await compiling;
  clearInterval(timer);
  using linker = new ComponentLinker(engine);
  using store = new Store(engine);
  assert.equal(linker.instantiate(store, compiled).exports.answer(), 42);
  await assert.rejects(() => Component.compile(engine, "(module)"), WasmtimeError);
  const dir = await Deno.makeTempDir();
  for (let i = 0; i < 2; i++) {
    using cached = Component.cached(engine, wat, { dir });
    using again = await Component.cachedAsync(engine, wat, { dir });
    assert.equal(linker.instantiate(store, cached).exports.answer(), 42);
    assert.equal(linker.instantiate(store, again).exports.answer(), 42);
  }
  const entries = [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".cwasm"));
  assert.equal(entries.length, 1, "one entry, written once and loaded after");
  // The shared cache checks name what the user called, not Module.cached.
  await Deno.chmod(dir, 0o777);
  assert.throws(
    () => Component.cached(engine, wat, { dir }),
    /^WasmtimeError: Component\.cached: the cache directory .* is writable by other users/,
  );
  assert.throws(
    () => Component.cached(engine, wat, { dir: "" }),
    /^WasmtimeError: Component\.cached:/,
  );
  console.log(`event loop turns during the compile: ${ticks}`);
});

Deno.test("store limits cap a component's memory; hostile lifts trap instead of reading past it", () => {
  using engine = new Engine();
  // `lie` writes a (ptr, len) pair claiming 1 MiB at 0xfff0 of a 1-page (64 KiB) memory.
  const wat = `(component
    (core module $m
      (memory (export "memory") 1)
      (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
      (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 1024)
      (func (export "lie") (result i32)
        (i32.store (i32.const 8) (i32.const 0xfff0))
        (i32.store (i32.const 12) (i32.const 0x100000))
        i32.const 8)
      (func (export "take") (param i32 i32) (result i32) local.get 1))
    (core instance $i (instantiate $m))
    (func (export "grow") (param "pages" u32) (result s32) (canon lift (core func $i "grow")))
    (func (export "lie-list") (result (list u8))
      (canon lift (core func $i "lie") (memory (core memory $i "memory"))))
    (func (export "lie-string") (result string)
      (canon lift (core func $i "lie") (memory (core memory $i "memory")) string-encoding=utf8))
    (func (export "take") (param "b" (list u8)) (result u32)
      (canon lift (core func $i "take") (memory (core memory $i "memory"))
        (realloc (core func $i "realloc")))))`;
  using component = new Component(engine, wat);
  using linker = new ComponentLinker(engine);
  using store = new Store(engine, { limits: { memorySize: 4 << 16 } });
  const { exports } = linker.instantiate(store, component);
  assert.equal(exports.grow(2), 1, "grows to 3 pages, within the 4-page cap");
  assert.equal(exports.grow(2), -1, "5 pages would pass the cap: memory.grow fails");
  assert.equal(exports.grow(1), 3);
  for (const name of ["lieList", "lieString"]) {
    assert.throws(() => exports[name](), (error: unknown) => {
      assert.ok(error instanceof Trap || error instanceof WasmtimeError, `${name}: ${error}`);
      assert.match(String(error), /out of bounds|range/i);
      return true;
    });
  }
  // The realloc answers 1024 for a 300 KiB list: the lowering must not write past the memory.
  assert.throws(
    () => exports.take(new Uint8Array(300 << 10)),
    /beyond end of memory|out of bounds/i,
  );
  assert.equal(exports.take(new Uint8Array(16)), 16, "the instance is still usable");

  using tight = new Store(engine, { limits: { memorySize: 1 << 15 } });
  assert.throws(
    () => linker.instantiate(tight, component),
    /memory|limit|grow/i,
    "a component whose initial memory passes the cap does not instantiate",
  );
});
