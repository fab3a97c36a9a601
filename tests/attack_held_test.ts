/**
 * What the attack review found to hold, kept held: load and concurrency cases that must neither
 * crash nor mix up results (the "Held" list of attack-review.md). The heavier ones run in a
 * subprocess so that a crash fails the test instead of the whole run.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Engine, FuncType, Linker, Module, Store, WasmtimeError, wat2wasm } from "../mod.ts";
import { runWasi } from "../wasi.ts";
import { assertClean, MOD_URL, runIsolated } from "./helpers.ts";
import { compileC } from "./wasi_fixtures.ts";

Deno.test("400 concurrent callAsync over 8 stores all get their own results", async () => {
  using engine = new Engine({ epochInterruption: true });
  using module = new Module(
    engine,
    `(module (import "" "wait" (func $wait (param i32) (result i32)))
      (func (export "run") (param i32) (result i32)
        (i32.add (call $wait (local.get 0)) (i32.const 1))))`,
  );
  using linker = new Linker(engine);
  linker.defineAsyncFunc("", "wait", new FuncType(["i32"], ["i32"]), async (_c, n: number) => {
    await new Promise((resolve) => setTimeout(resolve, n % 7));
    return n * 2;
  });
  const stores = Array.from({ length: 8 }, () => new Store(engine));
  try {
    const runs = await Promise.all(
      stores.map(async (store) => (await linker.instantiateAsync(store, module)).getFunc("run")!),
    );
    const results = await Promise.all(
      Array.from({ length: 400 }, (_, i) => runs[i % 8].callAsync(i)),
    );
    assert.deepEqual(results, Array.from({ length: 400 }, (_, i) => i * 2 + 1));
  } finally {
    for (const store of stores) store[Symbol.dispose]();
  }
});

Deno.test("Workers creating and dropping thousands of stores in parallel stay correct", async () => {
  const result = await runIsolated(
    `
const code = ${
      JSON.stringify(`import { Engine, Instance, Module, Store } from ${JSON.stringify(MOD_URL)};
const engine = new Engine();
const module = new Module(engine, '(module (memory (export "m") 1) (func (export "f") (param i32) (result i32) local.get 0 i32.const 3 i32.mul))');
let sum = 0;
for (let i = 0; i < 2000; i++) {
  const store = new Store(engine);
  const instance = new Instance(store, module, []);
  sum += instance.getFunc("f").call(i);
  instance.getMemory("m").setUint8(0, i & 255);
  if (i % 2) store[Symbol.dispose]();
}
postMessage(sum);`)
    };
const url = "data:application/typescript," + encodeURIComponent(code);
const sums = await Promise.all(Array.from({ length: 4 }, () => new Promise((resolve) => {
  const worker = new Worker(url, { type: "module" });
  worker.onmessage = (e) => { resolve(e.data); worker.terminate(); };
})));
console.log(JSON.stringify(sums));`,
    { killMs: 60_000 },
  );
  assertClean(result);
  const expected = 3 * (1999 * 2000) / 2;
  assert.equal(result.stdout.trim(), JSON.stringify([expected, expected, expected, expected]));
});

Deno.test("wat2wasm on hostile text throws WasmtimeErrors, never crashes", () => {
  const hostile = [
    "(module " + "(block ".repeat(20_000) + ")".repeat(20_001),
    `(module (func (i32.const 99999999999999999999999)))`,
    `(module (memory 70000))`,
    "(module (func $\u0000\uffff))",
    `(module (data "\\ff\\fe\\x"))`,
    "(".repeat(100_000),
    `(module (type (func (param ${"i32 ".repeat(100_000)}))))`,
    "",
  ];
  for (const text of hostile) {
    try {
      wat2wasm(text);
    } catch (error) {
      assert.ok(error instanceof WasmtimeError, `${text.slice(0, 40)}: ${error}`);
    }
  }
});

Deno.test("deserialize refuses truncated, foreign and random bytes", () => {
  using engine = new Engine();
  const good = engine.precompile(`(module (func (export "f") (result i32) i32.const 1))`);
  using other = new Engine({ consumeFuel: true });
  const candidates = [
    good.slice(0, good.length >> 1),
    good.slice(0, 16),
    new Uint8Array(0),
    crypto.getRandomValues(new Uint8Array(4096)),
    wat2wasm(`(module)`),
  ];
  for (const bytes of candidates) {
    assert.throws(() => Module.deserialize(engine, bytes), WasmtimeError);
  }
  // Compiled for an engine with other options: refused, not misused.
  assert.throws(() => Module.deserialize(other, good), WasmtimeError);
});

Deno.test("WASI: paths through a second mutable preopen cannot reach outside", async () => {
  const probe = await compileC("probe");
  const root = Deno.makeTempDirSync({ prefix: "wasmtime-deno-held-" });
  const a = join(root, "a");
  const b = join(root, "b");
  Deno.mkdirSync(a);
  Deno.mkdirSync(b);
  Deno.writeTextFileSync(join(root, "secret.txt"), "secret");
  const result = await runWasi(probe, {
    args: ["p", "escape", "/a", "/b/../../secret.txt"],
    preopens: [[a, "/a", { mutable: true }], [b, "/b", { mutable: true }]],
  });
  assert.equal(result.exitCode, 0, result.stdoutText);
  assert.doesNotMatch(result.stdoutText, /ESCAPED/);
});

Deno.test("a call whose later argument is bad releases the references made for earlier ones", async () => {
  const { liveExternrefCount, releaseDroppedExternrefs } = await import("../src/core/registry.ts");
  using engine = new Engine();
  using store = new Store(engine);
  using module = new Module(
    engine,
    `(module (func (export "mix") (param i32 externref i64) (result i32) local.get 0))`,
  );
  const { Instance } = await import("../mod.ts");
  const mix = new Instance(store, module, []).getFunc("mix")!;
  const live = () => {
    store.gc();
    releaseDroppedExternrefs();
    return liveExternrefCount();
  };
  const before = live();
  for (let i = 0; i < 200; i++) {
    assert.throws(() => mix.call(1, { i }, "not an i64"), WasmtimeError);
    assert.throws(() => mix.callBits(1, { i }, "not an i64"), WasmtimeError);
  }
  assert.equal(live(), before, "externrefs of failed calls stayed rooted");
});

Deno.test("runWasi with a compiled Module uses the module's engine, and says what an engine lacks", async () => {
  const probe = await compileC("probe");
  using engine = new Engine({ epochInterruption: true });
  using module = new Module(engine, await Deno.readFile(probe));
  const result = await runWasi(module, { args: ["p", "args", "x"], timeoutMs: 5_000 });
  assert.equal(result.stdoutText, "0=p\n1=args\n2=x\n");
  await assert.rejects(
    () => runWasi(module, { args: ["p"], fuel: 1_000 }),
    (e: unknown) => e instanceof WasmtimeError && /consumeFuel: true/.test(e.message),
  );
  using plain = new Engine();
  using plainModule = new Module(plain, await Deno.readFile(probe));
  await assert.rejects(
    () => runWasi(plainModule, { args: ["p"], timeoutMs: 100 }),
    (e: unknown) => e instanceof WasmtimeError && /epochInterruption: true/.test(e.message),
  );
});

Deno.test("a write that crosses maxCaptureBytes is cut at the cap, not dropped whole", async () => {
  const probe = await compileC("probe");
  // "big 1" writes 1 MiB in 64 KiB writes: the first one already crosses a 1000-byte cap.
  for (const cap of [1000, 65_536 + 10]) {
    const result = await runWasi(probe, { args: ["p", "big", "1"], maxCaptureBytes: cap });
    assert.equal(result.stdout.length, cap);
    assert.ok(result.stdout.every((b) => b === "x".charCodeAt(0)));
  }
});
