// Component resources both ways: exported resources as JS classes (constructor, methods,
// statics, own moves, borrow lends, disposal running the guest destructor), host resources
// defined from JS classes (the guest's handles are the JS objects; its last drop disposes
// them), misuse (TypeErrors naming the path, Wasmtime's traps for guest misuse), and leaks.
import assert from "node:assert/strict";
import {
  Component,
  ComponentLinker,
  ComponentResource,
  Engine,
  Store,
  Trap,
  witFunc,
} from "../mod.ts";
import { assertClean, MOD_URL, runIsolated } from "./helpers.ts";

/**
 * Exports `local:x/api` with `resource counter { constructor(init: s32); get-value: func() ->
 * s32; make: static func() -> counter; }`, `consume: func(c: counter) -> s32` (takes the
 * handle, reads its rep and drops it), `double-drop: func(c: counter)` (drops it twice: a
 * trap) and `drops: func() -> u32` (how many times the destructor ran).
 */
export const COUNTER = `(component
  (core module $state
    (global $drops (export "drops") (mut i32) (i32.const 0))
    (global $last (export "last") (mut i32) (i32.const 0))
    (func (export "dtor") (param i32)
      global.get $drops i32.const 1 i32.add global.set $drops
      local.get 0 global.set $last))
  (core instance $s (instantiate $state))
  (type $counter (resource (rep i32) (dtor (core func $s "dtor"))))
  (core func $new (canon resource.new $counter))
  (core func $rep (canon resource.rep $counter))
  (core func $drop (canon resource.drop $counter))
  (core module $m
    (import "" "new" (func $new (param i32) (result i32)))
    (import "" "rep" (func $rep (param i32) (result i32)))
    (import "" "drop" (func $drop (param i32)))
    (import "" "drops" (global $drops (mut i32)))
    (func (export "ctor") (param i32) (result i32) local.get 0 call $new)
    (func (export "get") (param i32) (result i32) local.get 0)
    (func (export "consume") (param i32) (result i32) (local $v i32)
      local.get 0 call $rep local.set $v
      local.get 0 call $drop
      local.get $v)
    (func (export "make") (result i32) i32.const 7 call $new)
    (func (export "double-drop") (param i32)
      local.get 0 call $drop local.get 0 call $drop)
    (func (export "drops") (result i32) global.get $drops))
  (core instance $i (instantiate $m
    (with "" (instance
      (export "new" (func $new)) (export "rep" (func $rep)) (export "drop" (func $drop))
      (export "drops" (global $s "drops"))))))
  (func $ctor (param "init" s32) (result (own $counter)) (canon lift (core func $i "ctor")))
  (func $get (param "self" (borrow $counter)) (result s32) (canon lift (core func $i "get")))
  (func $make (result (own $counter)) (canon lift (core func $i "make")))
  (func $consume (param "c" (own $counter)) (result s32) (canon lift (core func $i "consume")))
  (func $dd (param "c" (own $counter)) (canon lift (core func $i "double-drop")))
  (func $drops (result u32) (canon lift (core func $i "drops")))
  (component $shim
    (import "t-counter" (type $c (sub resource)))
    (import "f-ctor" (func $ctor (param "init" s32) (result (own $c))))
    (import "f-get" (func $get (param "self" (borrow $c)) (result s32)))
    (import "f-make" (func $make (result (own $c))))
    (import "f-consume" (func $consume (param "c" (own $c)) (result s32)))
    (import "f-dd" (func $dd (param "c" (own $c))))
    (import "f-drops" (func $drops (result u32)))
    (export $ce "counter" (type $c))
    (export "[constructor]counter" (func $ctor) (func (param "init" s32) (result (own $ce))))
    (export "[method]counter.get-value" (func $get) (func (param "self" (borrow $ce)) (result s32)))
    (export "[static]counter.make" (func $make) (func (result (own $ce))))
    (export "consume" (func $consume) (func (param "c" (own $ce)) (result s32)))
    (export "double-drop" (func $dd) (func (param "c" (own $ce))))
    (export "drops" (func $drops)))
  (instance $api (instantiate $shim
    (with "t-counter" (type $counter))
    (with "f-ctor" (func $ctor)) (with "f-get" (func $get)) (with "f-make" (func $make))
    (with "f-consume" (func $consume)) (with "f-dd" (func $dd)) (with "f-drops" (func $drops))))
  (export "local:x/api" (instance $api))
)`;

/**
 * Imports `local:x/host` with `resource logger { constructor(id: u32); log: func(v: u32);
 * get-id: func() -> u32; make: static func(id: u32) -> logger; }` and `consume: func(l:
 * logger) -> u32`; the root exports use it: `run(n)` makes, uses and drops a logger, `keep(n)`
 * and `keep-made(n)` keep one in a global, `release` drops it, `give` / `take` move it out and
 * in, `peek(borrow)` reads an id through a borrow, `peek-dropped` uses a borrow it dropped,
 * `pass-back` gives the kept one to the host's `consume`, `drop-twice` drops the kept one twice.
 */
export const LOGGER = `(component
  (import "local:x/host" (instance $host
    (export "logger" (type $logger (sub resource)))
    (export "[constructor]logger" (func (param "id" u32) (result (own $logger))))
    (export "[method]logger.log" (func (param "self" (borrow $logger)) (param "v" u32)))
    (export "[method]logger.get-id" (func (param "self" (borrow $logger)) (result u32)))
    (export "[static]logger.make" (func (param "id" u32) (result (own $logger))))
    (export "consume" (func (param "l" (own $logger)) (result u32)))))
  (alias export $host "logger" (type $logger))
  (core func $new (canon lower (func $host "[constructor]logger")))
  (core func $log (canon lower (func $host "[method]logger.log")))
  (core func $getid (canon lower (func $host "[method]logger.get-id")))
  (core func $make (canon lower (func $host "[static]logger.make")))
  (core func $consume (canon lower (func $host "consume")))
  (core func $drop (canon resource.drop $logger))
  (core module $m
    (import "" "new" (func $new (param i32) (result i32)))
    (import "" "log" (func $log (param i32 i32)))
    (import "" "get-id" (func $getid (param i32) (result i32)))
    (import "" "make" (func $make (param i32) (result i32)))
    (import "" "consume" (func $consume (param i32) (result i32)))
    (import "" "drop" (func $drop (param i32)))
    (global $h (mut i32) (i32.const 0))
    (func (export "run") (param i32) (result i32) (local $x i32) (local $id i32)
      local.get 0 call $new local.set $x
      local.get $x i32.const 42 call $log
      local.get $x call $getid local.set $id
      local.get $x call $drop
      local.get $id)
    (func (export "keep") (param i32) local.get 0 call $new global.set $h)
    (func (export "keep-made") (param i32) local.get 0 call $make global.set $h)
    (func (export "release") global.get $h call $drop)
    (func (export "give") (result i32) global.get $h)
    (func (export "take") (param i32) local.get 0 global.set $h)
    (func (export "peek") (param i32) (result i32) (local $id i32)
      local.get 0 call $getid local.set $id
      local.get 0 call $drop
      local.get $id)
    (func (export "peek-dropped") (param i32) (result i32)
      local.get 0 call $drop
      local.get 0 call $getid)
    (func (export "pass-back") (result i32) global.get $h call $consume)
    (func (export "drop-twice") global.get $h call $drop global.get $h call $drop))
  (core instance $i (instantiate $m (with "" (instance
    (export "new" (func $new)) (export "log" (func $log)) (export "get-id" (func $getid))
    (export "make" (func $make)) (export "consume" (func $consume)) (export "drop" (func $drop))))))
  (func (export "run") (param "n" u32) (result u32) (canon lift (core func $i "run")))
  (func (export "keep") (param "n" u32) (canon lift (core func $i "keep")))
  (func (export "keep-made") (param "n" u32) (canon lift (core func $i "keep-made")))
  (func (export "release") (canon lift (core func $i "release")))
  (func (export "give") (result (own $logger)) (canon lift (core func $i "give")))
  (func (export "take") (param "l" (own $logger)) (canon lift (core func $i "take")))
  (func (export "peek") (param "l" (borrow $logger)) (result u32) (canon lift (core func $i "peek")))
  (func (export "peek-dropped") (param "l" (borrow $logger)) (result u32)
    (canon lift (core func $i "peek-dropped")))
  (func (export "pass-back") (result u32) (canon lift (core func $i "pass-back")))
  (func (export "drop-twice") (canon lift (core func $i "drop-twice")))
)`;

function counterApi(engine: Engine, store: Store, component?: Component) {
  const own = component === undefined;
  component ??= new Component(engine, COUNTER);
  try {
    using linker = new ComponentLinker(engine);
    return linker.instantiate(store, component).exports["local:x/api"];
  } finally {
    if (own) component[Symbol.dispose]();
  }
}

Deno.test("own and borrow types name their resource and interface", () => {
  using engine = new Engine();
  using component = new Component(engine, COUNTER);
  const api = component.exports.find((e) => e.name === "local:x/api");
  assert.ok(api?.kind === "instance");
  const byName = new Map(api.exports.map((e) => [e.name, e]));
  assert.deepEqual(byName.get("counter"), { name: "counter", kind: "resource" });
  const method = byName.get("[method]counter.get-value");
  assert.ok(method?.kind === "func");
  assert.deepEqual(method.type.params[0].type, {
    kind: "borrow",
    resource: "counter",
    interface: "local:x/api",
    imported: false,
  });
  assert.equal(witFunc(method.type), "func(self: borrow<counter>) -> s32");
  const make = byName.get("[static]counter.make");
  assert.ok(make?.kind === "func");
  assert.equal(witFunc(make.type), "func() -> own<counter>");

  using logger = new Component(engine, LOGGER);
  const host = logger.imports.find((e) => e.name === "local:x/host");
  assert.ok(host?.kind === "instance");
  const ctor = host.exports.find((e) => e.name === "[constructor]logger");
  assert.ok(ctor?.kind === "func");
  assert.deepEqual(ctor.type.result, {
    kind: "own",
    resource: "logger",
    interface: "local:x/host",
    imported: true,
  });
  // A root export using the imported resource names it too.
  const give = logger.exports.find((e) => e.name === "give");
  assert.ok(give?.kind === "func");
  assert.equal(witFunc(give.type), "func() -> own<logger>");
});

Deno.test("an exported resource is a class: constructor, methods, statics, own results", () => {
  using engine = new Engine();
  using store = new Store(engine);
  const api = counterApi(engine, store);
  const { Counter } = api;
  assert.equal(Counter.name, "Counter");
  assert.deepEqual(Object.keys(api).sort(), ["Counter", "consume", "doubleDrop", "drops"]);
  using c = new Counter(5);
  assert.ok(c instanceof Counter);
  assert.equal(c instanceof ComponentResource, true);
  assert.equal(c.getValue(), 5);
  assert.equal(c.getValue(), 5, "a borrow lends: the object stays usable");
  using made = Counter.make();
  assert.ok(made instanceof Counter);
  assert.equal(made.getValue(), 7);
  assert.equal(api.drops(), 0);
  assert.throws(() => new ComponentResource(), /no public constructor/);
});

Deno.test("dispose runs the guest destructor once; a dead object throws a TypeError", () => {
  using engine = new Engine();
  using store = new Store(engine);
  const api = counterApi(engine, store);
  const c = new api.Counter(3);
  assert.equal(c.disposed, false);
  c[Symbol.dispose]();
  assert.equal(api.drops(), 1);
  assert.equal(c.disposed, true);
  c[Symbol.dispose]();
  assert.equal(api.drops(), 1, "idempotent");
  assert.throws(
    () => c.getValue(),
    (e: unknown) =>
      e instanceof TypeError &&
      /local:x\/api#\[method\]counter\.get-value: arg 0: expected borrow<counter>, got a dead Counter/
        .test(e.message),
  );
  assert.throws(() => api.consume(c), /arg 0: expected own<counter>, got a dead Counter/);
});

Deno.test("passing an object as own moves it: the guest drops it, the object is dead", () => {
  using engine = new Engine();
  using store = new Store(engine);
  const api = counterApi(engine, store);
  const c = new api.Counter(11);
  assert.equal(api.consume(c), 11);
  assert.equal(api.drops(), 1, "the guest dropped the moved handle: its destructor ran");
  assert.equal(c.disposed, true);
  assert.throws(() => c.getValue(), /dead Counter/);
  c[Symbol.dispose](); // a moved object is already dead: nothing to drop
  assert.equal(api.drops(), 1);
  // A value that fails to lower before the call moves nothing.
  const d = new api.Counter(12);
  assert.throws(() => api.consume(d, 1), TypeError);
  assert.equal(d.getValue(), 12);
  d[Symbol.dispose]();
  assert.equal(api.drops(), 2);
});

Deno.test("resources of another type, instance or store, and plain values, are TypeErrors", () => {
  using engine = new Engine();
  using component = new Component(engine, COUNTER);
  using store = new Store(engine);
  using other = new Store(engine);
  const a = counterApi(engine, store, component);
  const b = counterApi(engine, store, component);
  const c = counterApi(engine, other, component);
  using mine = new a.Counter(1);
  using theirs = new b.Counter(2);
  using far = new c.Counter(3);
  assert.notEqual(a.Counter, b.Counter);
  for (const wrong of [theirs, far]) {
    assert.throws(
      () => a.consume(wrong),
      /local:x\/api#consume: arg 0: expected own<counter> \(a Counter of this instance\), got a Counter of another type, instance or store/,
    );
  }
  for (const plain of [{}, null, undefined, 1, "counter"]) {
    assert.throws(
      () => a.consume(plain),
      /arg 0: expected own<counter> \(a Counter of this instance\)/,
    );
  }
  assert.throws(() => a.Counter.prototype.getValue.call({}), /expected borrow<counter>/);
  assert.equal(mine.getValue(), 1, "nothing was moved by the failed calls");
  assert.equal(theirs.getValue(), 2);
  assert.equal(far.getValue(), 3);
});

Deno.test("a guest that drops a handle twice traps; the binding survives", () => {
  using engine = new Engine();
  using store = new Store(engine);
  const api = counterApi(engine, store);
  const c = new api.Counter(4);
  assert.throws(
    () => api.doubleDrop(c),
    (e: unknown) => e instanceof Trap && /unknown handle/.test(e.message),
  );
  assert.equal(c.disposed, true);
});

Deno.test("disposing the store kills its resource objects without a crash", async () => {
  const result = await runIsolated(`
    import { Component, ComponentLinker, Engine, Store } from "${MOD_URL}";
    const engine = new Engine();
    const component = new Component(engine, ${JSON.stringify(COUNTER)});
    const linker = new ComponentLinker(engine);
    const store = new Store(engine);
    const api = linker.instantiate(store, component).exports["local:x/api"];
    const live = [new api.Counter(1), api.Counter.make()];
    store[Symbol.dispose]();
    for (const c of live) {
      if (!c.disposed) throw new Error("alive after its store");
      try { c.getValue(); throw new Error("no error"); } catch (e) {
        if (!(e instanceof Error) || /no error/.test(e.message)) throw e;
      }
      c[Symbol.dispose]();
      c[Symbol.dispose]();
    }
    live.length = 0;
    globalThis.gc();
    await new Promise((r) => setTimeout(r, 10));
    globalThis.gc();
    console.log("alive");
  `);
  assertClean(result);
  assert.match(result.stdout, /^alive$/m);
});

class Logger {
  static events: string[] = [];
  constructor(readonly id: number) {
    Logger.events.push(`new ${id}`);
  }
  log(v: number) {
    Logger.events.push(`log ${this.id} ${v}`);
  }
  getId() {
    return this.id;
  }
  static make(id: number) {
    Logger.events.push(`make ${id}`);
    return new Logger(id);
  }
  [Symbol.dispose]() {
    Logger.events.push(`dispose ${this.id}`);
  }
}

function loggerExports(engine: Engine, store: Store, consumed?: (l: Logger) => void) {
  using component = new Component(engine, LOGGER);
  using linker = new ComponentLinker(engine);
  linker.defineResource("local:x/host", "logger", Logger);
  linker.defineFunc("local:x/host", "consume", (l: Logger) => {
    consumed?.(l);
    return l.id + 1000;
  });
  return linker.instantiate(store, component).exports;
}

function events(): string[] {
  return Logger.events.splice(0);
}

Deno.test("a host resource: the guest constructs, calls and drops it; dispose is observed", () => {
  using engine = new Engine();
  using store = new Store(engine);
  const e = loggerExports(engine, store);
  events();
  assert.equal(e.run(3), 3);
  assert.deepEqual(events(), ["new 3", "log 3 42", "dispose 3"]);
  e.keepMade(6);
  assert.deepEqual(events(), ["make 6", "new 6"]);
  e.release();
  assert.deepEqual(events(), ["dispose 6"]);
});

Deno.test("a host resource's handles are the same JS object, both ways", () => {
  using engine = new Engine();
  using store = new Store(engine);
  let consumed: Logger | undefined;
  const e = loggerExports(engine, store, (l) => consumed = l);
  e.keep(4);
  const given = e.give();
  assert.ok(given instanceof Logger);
  assert.equal(given.id, 4);
  // Own moved out to the host: the guest no longer holds it, nothing is disposed.
  e.take(given);
  e.release();
  assert.deepEqual(events(), ["new 4", "dispose 4"]);
  // A JS-made object lent to the guest is the object its methods run on.
  const mine = new Logger(5);
  assert.equal(e.peek(mine), 5);
  assert.equal(e.peek(mine), 5);
  // Handed in as own, then to the host's consume: the very object comes back.
  e.take(mine);
  assert.equal(e.passBack(), 1005);
  assert.equal(consumed, mine);
  assert.deepEqual(events(), ["new 5"], "a host that got its object back does not dispose it");
  // Given as own twice: disposed only when the guest dropped its last handle.
  e.take(mine);
  const again = e.give();
  assert.equal(again, mine);
  e.take(mine);
  e.release();
  assert.deepEqual(events(), ["dispose 5"]);
});

Deno.test("host resource misuse: plain values are TypeErrors, guest misuse traps", () => {
  using engine = new Engine();
  {
    using store = new Store(engine);
    const e = loggerExports(engine, store);
    for (const wrong of [{}, null, 4, { id: 4, getId: () => 4 }]) {
      assert.throws(
        () => e.take(wrong),
        /^TypeError: take: arg 0: expected own<logger> \(a Logger\)/,
      );
      assert.throws(() => e.peek(wrong), /peek: arg 0: expected borrow<logger> \(a Logger\)/);
    }
  }
  {
    using store = new Store(engine);
    const e = loggerExports(engine, store);
    assert.throws(
      () => e.peekDropped(new Logger(8)),
      (x: unknown) => x instanceof Trap && /unknown handle/.test(x.message),
    );
  }
  {
    using store = new Store(engine);
    const e = loggerExports(engine, store);
    e.keep(9);
    assert.throws(
      () => e.dropTwice(),
      (x: unknown) => x instanceof Trap && /unknown handle/.test(x.message),
    );
    assert.deepEqual(events(), ["new 8", "new 9", "dispose 9"]);
  }
});

Deno.test("a host resource's missing method traps the guest with its name", () => {
  using engine = new Engine();
  using component = new Component(engine, LOGGER);
  using linker = new ComponentLinker(engine);
  class Bare {
    constructor(readonly id: number) {}
  }
  linker.defineResource("local:x/host", "logger", Bare);
  linker.defineFunc("local:x/host", "consume", () => 0);
  using store = new Store(engine);
  const e = linker.instantiate(store, component).exports;
  assert.throws(() => e.run(1), /Bare has no method log \(for \[method\]logger\.log\)/);
});

Deno.test("an imported resource without a definition fails to instantiate", () => {
  using engine = new Engine();
  using component = new Component(engine, LOGGER);
  using linker = new ComponentLinker(engine);
  using store = new Store(engine);
  assert.throws(
    () => linker.instantiate(store, component),
    /resources without ComponentLinker.defineResource: local:x\/host#logger/,
  );
});

Deno.test("guest resource misuse runs in a subprocess without crashing it", async () => {
  const result = await runIsolated(`
    import { Component, ComponentLinker, Engine, Store, Trap } from "${MOD_URL}";
    const engine = new Engine();
    const counter = new Component(engine, ${JSON.stringify(COUNTER)});
    const logger = new Component(engine, ${JSON.stringify(LOGGER)});
    const linker = new ComponentLinker(engine);
    class Logger { constructor(id) { this.id = id; } log() {} getId() { return this.id; } }
    linker.defineResource("local:x/host", "logger", Logger);
    linker.defineFunc("local:x/host", "consume", (l) => l.id);
    let traps = 0, typeErrors = 0;
    const attempt = (f) => {
      try { f(); } catch (e) { if (e instanceof Trap) traps++; else if (e instanceof TypeError) typeErrors++; else throw e; }
    };
    for (let i = 0; i < 50; i++) {
      const store = new Store(engine);
      const api = linker.instantiate(store, counter).exports["local:x/api"];
      const e = linker.instantiate(store, logger).exports;
      const c = new api.Counter(i);
      attempt(() => api.consume(c, c));
      attempt(() => e.take(c));
      attempt(() => api.consume(new Logger(1)));
      attempt(() => api.doubleDrop(c));
      attempt(() => e.peekDropped(new Logger(2)));
      attempt(() => { e.keep(1); e.dropTwice(); });
      if (i % 2) store[Symbol.dispose]();
    }
    console.log("done", traps, typeErrors);
  `);
  assertClean(result);
  assert.match(result.stdout, /^done \d+ \d+$/m);
});

const rssMiB = (): number => Deno.memoryUsage().rss / (1 << 20);

Deno.test("20,000 resources created and disposed, and host objects dropped, keep RSS bounded", () => {
  using engine = new Engine();
  using store = new Store(engine);
  const api = counterApi(engine, store);
  const e = loggerExports(engine, store);
  const window = (cycles: number) => {
    for (let i = 0; i < cycles; i++) {
      using c = new api.Counter(i);
      c.getValue();
      e.run(i);
    }
    events();
    // Garbage JS objects (one per call) would otherwise swing RSS by tens of MiB.
    (globalThis as { gc?: () => void }).gc?.();
    return rssMiB();
  };
  window(20_000);
  window(20_000);
  const first = window(20_000);
  const second = window(20_000);
  const drops = api.drops();
  console.log(
    `RSS (MiB): after 60k ${first.toFixed(1)}, after 80k ${second.toFixed(1)}; drops ${drops}`,
  );
  assert.equal(drops, 80_000);
  assert.ok(second - first < 16, `+${(second - first).toFixed(1)} MiB`);
});

Deno.test("after a trap, disposing the instance's objects frees them without throwing", () => {
  using engine = new Engine();
  using store = new Store(engine);
  const api = counterApi(engine, store);
  const kept = new api.Counter(1);
  assert.throws(() => api.doubleDrop(new api.Counter(2)), Trap);
  kept[Symbol.dispose](); // the instance can never run again: no destructor, no error
  assert.equal(kept.disposed, true);
  assert.throws(() => new api.Counter(3), Trap);
});

const gc = (globalThis as { gc?: () => void }).gc;

Deno.test({
  name: "resource objects left to the garbage collector free their handles without a crash",
  ignore: gc === undefined,
  async fn() {
    using engine = new Engine();
    using store = new Store(engine);
    const api = counterApi(engine, store);
    const cycle = async (count: number) => {
      for (let i = 0; i < count; i++) new api.Counter(i).getValue();
      for (let i = 0; i < 3; i++) {
        gc!();
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      return rssMiB();
    };
    await cycle(20_000);
    const first = await cycle(20_000);
    const second = await cycle(20_000);
    console.log(
      `RSS (MiB), GC only: after 40k ${first.toFixed(1)}, after 60k ${second.toFixed(1)}`,
    );
    assert.equal(api.drops(), 0, "a finalizer never re-enters the store");
    assert.ok(second - first < 16, `+${(second - first).toFixed(1)} MiB`);
  },
});

/** Exports `cell` with `ob(a: own<cell>, b: borrow<cell>)` and `bo(a: borrow<cell>, b: own<cell>)`. */
const MOVE_AND_LEND = `(component
  (type $r (resource (rep i32)))
  (export $c "cell" (type $r))
  (core func $new (canon resource.new $c))
  (core module $m
    (import "" "new" (func $new (param i32) (result i32)))
    (func (export "ctor") (param i32) (result i32) local.get 0 call $new)
    (func (export "get") (param i32) (result i32) local.get 0)
    (func (export "two") (param i32 i32) (result i32) local.get 1))
  (core instance $i (instantiate $m (with "" (instance (export "new" (func $new))))))
  (func (export "[constructor]cell") (param "v" s32) (result (own $c))
    (canon lift (core func $i "ctor")))
  (func (export "[method]cell.get") (param "self" (borrow $c)) (result s32)
    (canon lift (core func $i "get")))
  (func (export "ob") (param "a" (own $c)) (param "b" (borrow $c)) (result u32)
    (canon lift (core func $i "two")))
  (func (export "bo") (param "a" (borrow $c)) (param "b" (own $c)) (result u32)
    (canon lift (core func $i "two"))))`;

Deno.test("one object moved and lent in the same call is a TypeError; it stays alive", () => {
  // Wasmtime refuses it too, but only while lowering: the handles before it had moved, and the
  // object looked moved although its handle stayed with the host (its destructor never ran).
  using engine = new Engine();
  using component = new Component(engine, MOVE_AND_LEND);
  using linker = new ComponentLinker(engine);
  using store = new Store(engine);
  const e = linker.instantiate(store, component).exports;
  using a = new e.Cell(1);
  assert.throws(() => e.ob(a, a), /^TypeError: ob: arg 1: borrow<cell>: .*moved by an own/);
  assert.throws(() => e.bo(a, a), /^TypeError: bo: arg 1: own<cell>: .*lent as borrow/);
  assert.equal(a.disposed, false);
  assert.equal(typeof a.get(), "number");
  using b = new e.Cell(2);
  e.ob(b, a); // distinct objects: b moves, a is lent
  assert.equal(b.disposed, true);
  assert.equal(a.disposed, false);
  e.bo(a, new e.Cell(3));
  assert.equal(a.disposed, false);
});

Deno.test("a host object's dispose that calls the same export again leaves the outer result alone", () => {
  // The drops are drained after each call; a dispose calling the export that dropped it
  // reuses that function's frame, which must no longer hold the outer call's result.
  using engine = new Engine();
  using store = new Store(engine);
  const guest: { e?: ReturnType<typeof loggerExports> } = {};
  let nested = 0;
  class Reentrant extends Logger {
    override [Symbol.dispose]() {
      if (nested++ < 3) guest.e!.run(this.id + 10);
    }
  }
  using component = new Component(engine, LOGGER);
  using linker = new ComponentLinker(engine);
  linker.defineResource("local:x/host", "logger", Reentrant);
  linker.defineFunc("local:x/host", "consume", (l: Logger) => l.id);
  const e = guest.e = linker.instantiate(store, component).exports;
  assert.equal(e.run(1), 1);
  assert.equal(nested, 4);
  events();
});

/** Imports `local:x/host` `resource thing { constructor(id: u32); }`; `two(n)` makes things n and n + 1 and drops both, `one(n)` makes thing n and drops it. */
const THINGS = `(component
  (import "local:x/host" (instance $host
    (export "thing" (type $thing (sub resource)))
    (export "[constructor]thing" (func (param "id" u32) (result (own $thing))))))
  (alias export $host "thing" (type $thing))
  (core func $new (canon lower (func $host "[constructor]thing")))
  (core func $drop (canon resource.drop $thing))
  (core module $m
    (import "" "new" (func $new (param i32) (result i32)))
    (import "" "drop" (func $drop (param i32)))
    (func (export "two") (param i32) (local $a i32) (local $b i32)
      local.get 0 call $new local.set $a
      local.get 0 i32.const 1 i32.add call $new local.set $b
      local.get $a call $drop
      local.get $b call $drop)
    (func (export "one") (param i32) local.get 0 call $new call $drop))
  (core instance $i (instantiate $m (with "" (instance
    (export "new" (func $new)) (export "drop" (func $drop))))))
  (func (export "two") (param "n" u32) (canon lift (core func $i "two")))
  (func (export "one") (param "n" u32) (canon lift (core func $i "one"))))`;

Deno.test("a dispose that makes the guest drop more things still disposes every dropped thing once", () => {
  // The drain of dropped host objects runs their disposes; one that calls into the guest
  // drains again from inside the first drain, which must not lose or repeat its entries.
  using engine = new Engine();
  using store = new Store(engine);
  const disposed: number[] = [];
  const guest: { e?: Record<string, (n: number) => void> } = {};
  class Thing {
    constructor(readonly id: number) {}
    [Symbol.dispose]() {
      disposed.push(this.id);
      if (this.id === 1) guest.e!.two(100);
    }
  }
  using component = new Component(engine, THINGS);
  using linker = new ComponentLinker(engine);
  linker.defineResource("local:x/host", "thing", Thing);
  const e = guest.e = linker.instantiate(store, component).exports as Record<
    string,
    (n: number) => void
  >;
  e.two(1);
  assert.deepEqual(disposed.sort((a, b) => a - b), [1, 2, 100, 101]);
});

Deno.test("resources stay synchronous: call futures refuse them with a clear error", async () => {
  using engine = new Engine();
  using store = new Store(engine);
  const api = counterApi(engine, store);
  using counter = new api.Counter(3);
  // Functions that take or return resources, called as call futures.
  using component = new Component(engine, COUNTER);
  using linker = new ComponentLinker(engine);
  using asyncStore = new Store(engine);
  const instance = await linker.instantiateAsync(asyncStore, component);
  const make = instance.getFunc("[static]counter.make", "local:x/api")!;
  await assert.rejects(
    () => make.callAsync(),
    /functions that take or return resources are called synchronously for now/,
  );
  // A linker with host resources does not instantiate as a call future.
  using logger = new Component(engine, LOGGER);
  using hostLinker = new ComponentLinker(engine);
  hostLinker.defineResource("local:x/host", "logger", Logger);
  hostLinker.defineFunc("local:x/host", "consume", (l: Logger) => l.id);
  using other = new Store(engine);
  await assert.rejects(
    () => hostLinker.instantiateAsync(other, logger),
    /host resources \(defineResource\) instantiates only with instantiate/,
  );
  // The synchronous paths still work.
  assert.equal(counter.getValue(), 3);
});
