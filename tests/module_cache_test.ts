import assert from "node:assert/strict";
import { join } from "node:path";
import {
  Engine,
  FuncType,
  Instance,
  Linker,
  Module,
  Store,
  WasmtimeError,
  wat2wasm,
} from "../mod.ts";
import { MOD_URL, runDeno, tempScript } from "./helpers.ts";

const WAT = `(module (func (export "answer") (result i32) i32.const 42))`;

function entries(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

Deno.test("Module.cached compiles once, then loads from the cache", () => {
  const dir = Deno.makeTempDirSync();
  using engine = new Engine();
  using first = Module.cached(engine, WAT, { dir });
  const files = entries(dir);
  assert.equal(files.length, 1, "one file per entry: header, digest and code together");
  assert.ok(files[0].endsWith(".cwasm"));
  const stamp = Deno.statSync(join(dir, files[0])).mtime;
  using second = Module.cached(engine, WAT, { dir });
  assert.deepEqual(Deno.statSync(join(dir, files[0])).mtime, stamp, "a hit does not rewrite");
  using store = new Store(engine);
  assert.equal(new Instance(store, second, []).getFunc("answer")!.call(), 42);
  assert.equal(new Instance(store, first, []).getFunc("answer")!.call(), 42);
});

Deno.test("Module.cached keys entries by engine options and replaces corrupt entries", () => {
  const dir = Deno.makeTempDirSync();
  using engine = new Engine();
  using fuelEngine = new Engine({ consumeFuel: true });
  Module.cached(engine, WAT, { dir })[Symbol.dispose]();
  Module.cached(fuelEngine, WAT, { dir })[Symbol.dispose]();
  assert.equal(entries(dir).length, 2, "one entry per engine configuration");

  const cwasm = entries(dir).filter((f) => f.endsWith(".cwasm"));
  for (const file of cwasm) {
    const bytes = Deno.readFileSync(join(dir, file));
    bytes[bytes.length >> 1] ^= 0xff;
    Deno.writeFileSync(join(dir, file), bytes);
  }
  using store = new Store(engine);
  using recompiled = Module.cached(engine, WAT, { dir });
  assert.equal(new Instance(store, recompiled, []).getFunc("answer")!.call(), 42);

  // A foreign file under the right name (e.g. from another build) is not trusted either.
  for (const file of cwasm) Deno.writeFileSync(join(dir, file), new Uint8Array(64));
  using again = Module.cached(engine, WAT, { dir });
  assert.equal(new Instance(store, again, []).getFunc("answer")!.call(), 42);
  assert.throws(() => Module.cached(engine, WAT, { dir: "" }), WasmtimeError);
});

Deno.test("Module.cached keys entries by strategy, Cranelift flags and target", () => {
  const dir = Deno.makeTempDirSync();
  const engines = [
    new Engine(),
    new Engine({ strategy: "winch" }),
    new Engine({ craneliftFlags: { regalloc_algorithm: "single_pass" } }),
    new Engine({ target: Deno.build.target }),
  ];
  for (const engine of engines) Module.cached(engine, WAT, { dir })[Symbol.dispose]();
  assert.equal(entries(dir).length, engines.length, "one entry per compiler configuration");
  // Winch code loaded back from its entry is Winch code: it runs in a winch engine's store.
  using winch = Module.cached(engines[1], WAT, { dir });
  assert.equal(entries(dir).length, engines.length, "a hit");
  using store = new Store(engines[1]);
  assert.equal(new Instance(store, winch, []).getFunc("answer")!.call(), 42);
  // Flags given in another order make the same key.
  using reordered = new Engine({ craneliftFlags: { enable_verifier: true, opt_level: "none" } });
  using ordered = new Engine({ craneliftFlags: { opt_level: "none", enable_verifier: true } });
  Module.cached(reordered, WAT, { dir })[Symbol.dispose]();
  Module.cached(ordered, WAT, { dir })[Symbol.dispose]();
  assert.equal(entries(dir).length, engines.length + 1);
  for (const engine of engines) engine[Symbol.dispose]();
});

Deno.test("Module.cachedAsync shares Module.cached's entries and compiles off the JS thread", async () => {
  const dir = Deno.makeTempDirSync();
  using engine = new Engine();
  const bytes = wat2wasm(WAT);
  const compiling = Module.cachedAsync(engine, bytes, { dir });
  bytes.fill(0); // the key and the compile both used the bytes as they were at the call
  using first = await compiling;
  assert.equal(entries(dir).length, 1);
  const file = join(dir, entries(dir)[0]);
  const stamp = Deno.statSync(file).mtime;
  using hit = await Module.cachedAsync(engine, WAT, { dir });
  using syncHit = Module.cached(engine, WAT, { dir });
  assert.deepEqual(Deno.statSync(file).mtime, stamp, "both hit the entry cachedAsync wrote");
  using store = new Store(engine);
  for (const module of [first, hit, syncHit]) {
    assert.equal(new Instance(store, module, []).getFunc("answer")!.call(), 42);
  }
  await assert.rejects(Module.cachedAsync(engine, WAT, { dir: "" }), /options.dir/);
  await assert.rejects(Module.cachedAsync(engine, "(module", { dir }), WasmtimeError);
});

Deno.test("Module.cached needs read and write permission for its directory", async () => {
  const dir = await Deno.makeTempDir();
  const script = await tempScript(`import { Engine, Module } from ${JSON.stringify(MOD_URL)};
try {
  Module.cached(new Engine(), "(module)", { dir: ${JSON.stringify(dir)} });
  console.log("ok");
} catch (e) { console.log(e.name + ": " + e.message); }`);
  const denied = await runDeno(["run", "--allow-ffi", "--allow-env", "--allow-read", script]);
  assert.match(denied.stdout, new RegExp(`PermissionError: .*run again with --allow-write=${dir}`));
  const allowed = await runDeno([
    "run",
    "--allow-ffi",
    "--allow-env",
    "--allow-read",
    `--allow-write=${dir}`,
    script,
  ]);
  assert.equal(allowed.stdout.trim(), "ok", allowed.stderr);
});

Deno.test("Engine.precompile output loads with Module.deserialize", () => {
  using engine = new Engine();
  const compiled = engine.precompile(WAT);
  using module = Module.deserialize(engine, compiled);
  using store = new Store(engine);
  assert.equal(new Instance(store, module, []).getFunc("answer")!.call(), 42);
});

Deno.test("instance-pre instantiates many stores, also with the pooling allocator", () => {
  using engine = new Engine({ pooling: { totalCoreInstances: 8, totalMemories: 8 } });
  using linker = new Linker(engine);
  linker.defineFunc("env", "base", new FuncType([], ["i32"]), () => 40);
  using module = new Module(
    engine,
    `(module (import "env" "base" (func $b (result i32))) (memory 1)
    (func (export "answer") (result i32) call $b i32.const 2 i32.add))`,
  );
  using pre = linker.instantiatePre(module);
  for (let i = 0; i < 50; i++) {
    using store = new Store(engine);
    assert.equal(pre.instantiate(store).getFunc("answer")!.call(), 42);
  }
  assert.throws(
    () => new (pre.constructor as new (...a: unknown[]) => unknown)(Symbol(), null, module),
    /made by Linker\.instantiatePre/,
  );
});

Deno.test("Wasmtime's own compilation cache is configured from a TOML file", async () => {
  const dir = await Deno.makeTempDir();
  const config = join(dir, "cache.toml");
  await Deno.writeTextFile(config, `[cache]\ndirectory = "${join(dir, "store")}"\n`);
  {
    using engine = new Engine({ cache: { configPath: config } });
    using module = new Module(engine, WAT);
    assert.ok(module.exports.length === 1);
  }
  const stored = [...Deno.readDirSync(join(dir, "store"))].map((e) => e.name);
  assert.ok(stored.includes("modules"), `cache directory holds ${stored}`);
  await Deno.writeTextFile(config, "[cache]\nnot_an_option = 1\n");
  assert.throws(() => new Engine({ cache: { configPath: config } }), WasmtimeError);
});
