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

/** The compiled entries (each has a `.json` manifest beside it). */
function compiledEntries(dir: string): string[] {
  return entries(dir).filter((name) => name.endsWith(".cwasm"));
}

Deno.test("Module.cached compiles once, then loads from the cache", () => {
  const dir = Deno.makeTempDirSync();
  using engine = new Engine();
  using first = Module.cached(engine, WAT, { dir });
  const files = entries(dir);
  assert.equal(files.length, 2, "one entry: the compiled code and its manifest");
  const [cwasm, manifest] = [
    files.find((f) => f.endsWith(".cwasm"))!,
    files.find((f) => f.endsWith(".json"))!,
  ];
  assert.equal(cwasm.replace(".cwasm", ""), manifest.replace(".json", ""));
  const before = Deno.statSync(join(dir, cwasm));
  using second = Module.cached(engine, WAT, { dir });
  const after = Deno.statSync(join(dir, cwasm));
  assert.deepEqual([after.ino, after.mtime], [before.ino, before.mtime], "a hit does not rewrite");
  using store = new Store(engine);
  assert.equal(new Instance(store, second, []).getFunc("answer")!.call(), 42);
  assert.equal(new Instance(store, first, []).getFunc("answer")!.call(), 42);
});

/** The cache entry of WAT compiled by `engine` in `dir`: its two paths. */
function entryOf(dir: string, engine: Engine): { cwasm: string; manifest: string } {
  const known = new Set(entries(dir));
  Module.cached(engine, WAT, { dir })[Symbol.dispose]();
  const name = entries(dir).find((f) => f.endsWith(".cwasm") && !known.has(f)) ??
    entries(dir).find((f) => f.endsWith(".cwasm"))!;
  return { cwasm: join(dir, name), manifest: join(dir, name.replace(".cwasm", ".json")) };
}

/**
 * Loads WAT through the cache after `tamper` and says whether the entry was recompiled (a new
 * file renamed into place) or loaded; the module must answer 42 either way.
 */
async function afterTamper(tamper: (entry: { cwasm: string; manifest: string }) => void) {
  const dir = Deno.makeTempDirSync();
  using engine = new Engine();
  const entry = entryOf(dir, engine);
  // Let the clock move past the entry's mtime, so that a rewrite shows in it.
  await new Promise((resolve) => setTimeout(resolve, 20));
  tamper(entry);
  const tampered = Deno.statSync(entry.cwasm);
  using module = Module.cached(engine, WAT, { dir });
  using store = new Store(engine);
  assert.equal(new Instance(store, module, []).getFunc("answer")!.call(), 42);
  const now = Deno.statSync(entry.cwasm);
  const manifest = JSON.parse(Deno.readTextFileSync(entry.manifest));
  assert.equal(manifest.entry.ino, now.ino, "the manifest describes the entry in place");
  return now.ino !== tampered.ino ? "recompiled" : "loaded";
}

Deno.test("Module.cached refuses a modified, truncated or replaced entry and recompiles it", async () => {
  assert.equal(await afterTamper(() => {}), "loaded", "an untouched entry is a hit");
  // A byte changed in place (same inode, same size): its mtime moved.
  assert.equal(
    await afterTamper(({ cwasm }) => {
      const bytes = Deno.readFileSync(cwasm);
      bytes[bytes.length >> 1] ^= 0xff;
      using file = Deno.openSync(cwasm, { write: true });
      file.writeSync(bytes);
    }),
    "recompiled",
  );
  assert.equal(
    await afterTamper(({ cwasm }) => Deno.truncateSync(cwasm, Deno.statSync(cwasm).size >> 1)),
    "recompiled",
  );
  assert.equal(await afterTamper(({ cwasm }) => Deno.truncateSync(cwasm, 0)), "recompiled");
  // Replaced by a copy of itself (another inode), and by a foreign file.
  assert.equal(
    await afterTamper(({ cwasm }) => {
      const bytes = Deno.readFileSync(cwasm);
      Deno.removeSync(cwasm);
      Deno.writeFileSync(cwasm, bytes, { mode: 0o644 });
    }),
    "recompiled",
  );
  assert.equal(
    await afterTamper(({ cwasm }) => Deno.writeFileSync(cwasm, new Uint8Array(64))),
    "recompiled",
  );
  // The manifest missing, unreadable as JSON, or naming another key.
  assert.equal(await afterTamper(({ manifest }) => Deno.removeSync(manifest)), "recompiled");
  assert.equal(
    await afterTamper(({ manifest }) => Deno.writeTextFileSync(manifest, "{")),
    "recompiled",
  );
  assert.equal(
    await afterTamper(({ manifest }) => {
      const record = JSON.parse(Deno.readTextFileSync(manifest));
      record.key = record.key.replace(/"source":"[0-9a-f]/, '"source":"_');
      Deno.writeTextFileSync(manifest, JSON.stringify(record));
    }),
    "recompiled",
  );
});

Deno.test("Module.cached keys entries by engine options; another entry copied in is recompiled", () => {
  const dir = Deno.makeTempDirSync();
  using engine = new Engine();
  using fuelEngine = new Engine({ consumeFuel: true });
  const plain = entryOf(dir, engine);
  const fuel = entryOf(dir, fuelEngine);
  assert.notEqual(plain.cwasm, fuel.cwasm, "one entry per engine configuration");
  assert.equal(entries(dir).length, 4);

  // Another configuration's entry, with its manifest, copied under this one's name.
  Deno.copyFileSync(fuel.cwasm, plain.cwasm);
  Deno.copyFileSync(fuel.manifest, plain.manifest);
  const copied = Deno.statSync(plain.cwasm).ino;
  using store = new Store(engine);
  using recompiled = Module.cached(engine, WAT, { dir });
  assert.equal(new Instance(store, recompiled, []).getFunc("answer")!.call(), 42);
  assert.notEqual(Deno.statSync(plain.cwasm).ino, copied, "recompiled and replaced");
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
  assert.equal(compiledEntries(dir).length, engines.length, "one entry per compiler configuration");
  // Winch code loaded back from its entry is Winch code: it runs in a winch engine's store.
  using winch = Module.cached(engines[1], WAT, { dir });
  assert.equal(compiledEntries(dir).length, engines.length, "a hit");
  using store = new Store(engines[1]);
  assert.equal(new Instance(store, winch, []).getFunc("answer")!.call(), 42);
  // Flags given in another order make the same key.
  using reordered = new Engine({ craneliftFlags: { enable_verifier: true, opt_level: "none" } });
  using ordered = new Engine({ craneliftFlags: { opt_level: "none", enable_verifier: true } });
  Module.cached(reordered, WAT, { dir })[Symbol.dispose]();
  Module.cached(ordered, WAT, { dir })[Symbol.dispose]();
  assert.equal(compiledEntries(dir).length, engines.length + 1);
  for (const engine of engines) engine[Symbol.dispose]();
});

Deno.test("Module.cachedAsync shares Module.cached's entries and compiles off the JS thread", async () => {
  const dir = Deno.makeTempDirSync();
  using engine = new Engine();
  const bytes = wat2wasm(WAT);
  const compiling = Module.cachedAsync(engine, bytes, { dir });
  bytes.fill(0); // the key and the compile both used the bytes as they were at the call
  using first = await compiling;
  assert.equal(compiledEntries(dir).length, 1);
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
