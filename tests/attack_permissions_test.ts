// Permission checks the binding makes for native code, attacked under narrow flags in
// subprocesses: deny rules inside a grant, symlinks (dangling, pointing out, swapped while
// opened), profiler outputs, and a module cache written by someone else.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Engine, Instance, Module, Store, WasmtimeError, wat2wasm } from "../mod.ts";
import {
  appFlags,
  cacheEntry,
  MOD_URL,
  runDeno,
  type RunResult,
  startSymlinkRacer,
  tempScript,
} from "./helpers.ts";
import { compileC } from "./wasi_fixtures.ts";

const probe = await compileC("probe");
const WASI_URL = new URL("../wasi.ts", import.meta.url).href;
const ENTRY = await cacheEntry();
const A = `(module (func (export "answer") (result i32) i32.const 42))`;
const B = `(module (func (export "answer") (result i32) i32.const 7))`;

/**
 * Runs `body` (top-level await allowed; `wasmtime` and `wasi` are the modules) with `flags`
 * plus what loading the library takes. Prints what `body` logs, or the error's name and
 * message.
 */
async function attempt(
  body: string,
  options: { read?: string[] | "all"; env?: string; flags?: string[]; cwd?: string } = {},
): Promise<RunResult> {
  const script = await tempScript(`import * as wasmtime from ${JSON.stringify(MOD_URL)};
import * as wasi from ${JSON.stringify(WASI_URL)};
try {
  ${body}
} catch (e) {
  console.log(e.name + ": " + e.message);
}`);
  // The README's line (build-native --print-flags), with the env and read grants replaced or
  // widened as asked.
  const flags = (await appFlags(options.read === "all" ? [] : [probe, ...(options.read ?? [])]))
    .filter((flag) =>
      !(options.env && flag.startsWith("--allow-env")) &&
      !(options.read === "all" && flag.startsWith("--allow-read"))
    );
  return await runDeno([
    "run",
    "--no-prompt",
    ...flags,
    ...(options.env ? [options.env] : []),
    ...(options.read === "all" ? ["--allow-read"] : []),
    ...(options.flags ?? []),
    script,
  ], { cwd: options.cwd });
}

function out(result: RunResult): string {
  return result.stdout.trim() + (result.stderr ? `\n[stderr] ${result.stderr}` : "");
}

/** DIR/pub/hello.txt, DIR/secret/secret.txt and DIR/protected/p.txt. */
function tree(): { dir: string; pub: string; secret: string; protectedDir: string } {
  const dir = Deno.realPathSync(Deno.makeTempDirSync({ prefix: "wasmtime-deno-perm-" }));
  for (const sub of ["pub", "secret", "protected"]) Deno.mkdirSync(join(dir, sub));
  Deno.writeTextFileSync(join(dir, "pub", "hello.txt"), "hello\n");
  Deno.writeTextFileSync(join(dir, "pub", "input.txt"), "from the host\n");
  Deno.writeTextFileSync(join(dir, "secret", "secret.txt"), "top secret\n");
  Deno.writeTextFileSync(join(dir, "protected", "p.txt"), "keep me\n");
  return {
    dir,
    pub: join(dir, "pub"),
    secret: join(dir, "secret"),
    protectedDir: join(dir, "protected"),
  };
}

const run = (args: string[], extra = "") =>
  `const r = await wasi.runWasi(${JSON.stringify(probe)}, { args: ${
    JSON.stringify(args)
  }, ${extra} }); console.log("exit " + r.exitCode + ": " + r.stdoutText.trim());`;

Deno.test("a preopen holding a --deny-read child is refused; a narrower one works", async () => {
  const { dir, pub, secret } = tree();
  const flags = [`--deny-read=${secret}`];
  const wide = await attempt(run(["p", "ro", "/d"], `preopens: [[${JSON.stringify(dir)}, "/d"]]`), {
    read: [dir],
    flags,
  });
  assert.match(
    out(wide),
    new RegExp(
      `^PermissionError: WASI: preopening ${dir} as /d needs read access to ${dir}, but Deno ` +
        `grants it only in part: a --deny-read rule covers ${secret}, .*Preopen a narrower ` +
        `directory`,
    ),
  );
  const narrow = await attempt(
    run(["p", "ro", "/d"], `preopens: [[${JSON.stringify(pub)}, "/d"]]`),
    { read: [dir], flags },
  );
  assert.match(out(narrow), /^exit 0: read: from the host/);
  const denied = await attempt(
    run(["p", "ro", "/d"], `preopens: [[${JSON.stringify(secret)}, "/d"]]`),
    { read: [dir], flags },
  );
  assert.match(
    out(denied),
    new RegExp(`but Deno denies it \\(a --deny-read rule covers ${secret}`),
  );
});

Deno.test("a mutable preopen holding a --deny-write child is refused", async () => {
  const { dir, protectedDir } = tree();
  const result = await attempt(
    run(["p", "fs", "/d"], `preopens: [[${JSON.stringify(dir)}, "/d", { mutable: true }]]`),
    { read: [dir], flags: [`--allow-write=${dir}`, `--deny-write=${protectedDir}`] },
  );
  assert.match(
    out(result),
    new RegExp(
      `^PermissionError: .*\\(mutable\\).*only in part: a --deny-write rule covers ${protectedDir}`,
    ),
  );
  assert.equal(Deno.readTextFileSync(join(protectedDir, "p.txt")), "keep me\n");
});

Deno.test("inheritEnv next to a --deny-env rule is refused", async () => {
  const result = await attempt(run(["p", "env", "HOME"], "inheritEnv: true"), {
    env: "--allow-env",
    flags: ["--deny-env=SECRET_TOKEN"],
  });
  assert.match(out(result), /^PermissionError: .*only in part.*Pass the variables the guest needs/);
});

Deno.test("stdin { file }: deny rules, symlinks out, dangling and swapped links", async () => {
  const { dir, pub, secret } = tree();
  const flags = [`--deny-read=${secret}`];
  const stdin = (file: string) => run(["p", "cat"], `stdin: { file: ${JSON.stringify(file)} }`);
  assert.match(
    out(await attempt(stdin(join(pub, "hello.txt")), { read: [dir], flags })),
    /^exit 0: hello$/,
  );
  // In a denied directory.
  assert.match(
    out(await attempt(stdin(join(secret, "secret.txt")), { read: [dir], flags })),
    /^PermissionError: .*Deno denies it/,
  );
  // A link in the granted part that leads into the denied one.
  const link = join(pub, "link");
  Deno.symlinkSync(join(secret, "secret.txt"), link);
  const viaLink = out(await attempt(stdin(link), { read: [dir], flags }));
  assert.match(viaLink, new RegExp(`^PermissionError: .*${secret}/secret.txt`));
  assert.doesNotMatch(viaLink, /top secret/);
  // Dangling: a clean error, no file created, no crash.
  const dangling = join(pub, "dangling");
  Deno.symlinkSync(join(dir, "nowhere.txt"), dangling);
  assert.match(
    out(await attempt(stdin(dangling), { read: [dir], flags })),
    /^WasmtimeError: WASI: cannot open .*dangling for standard input/,
  );
  // Swapped: the same link first leads to an allowed file, then to the denied one.
  const swapped = join(pub, "swapped");
  Deno.symlinkSync(join(pub, "hello.txt"), swapped);
  const script = `{ ${stdin(swapped)} }
Deno.writeTextFileSync(${JSON.stringify(join(dir, "go"))}, "");
while (true) { try { Deno.statSync(${
    JSON.stringify(join(dir, "swapped-now"))
  }); break; } catch { await new Promise((r) => setTimeout(r, 10)); } }
{ ${stdin(swapped)} }`;
  const child = attempt(script, { read: [dir], flags: [...flags, `--allow-write=${dir}`] });
  while (true) {
    try {
      Deno.statSync(join(dir, "go"));
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  Deno.removeSync(swapped);
  Deno.symlinkSync(join(secret, "secret.txt"), swapped);
  Deno.writeTextFileSync(join(dir, "swapped-now"), "");
  const swappedOut = out(await child);
  assert.match(swappedOut, /^exit 0: hello\nPermissionError: .*secret\.txt/);
  assert.doesNotMatch(swappedOut, /top secret/);
});

function compiled(source: string | Uint8Array): Uint8Array {
  using engine = new Engine();
  return engine.precompile(source);
}

const loadFile = (path: string) =>
  `using m = wasmtime.Module.deserializeFile(new wasmtime.Engine(), ${JSON.stringify(path)});
using s = new wasmtime.Store(m.engine);
console.log("answer " + new wasmtime.Instance(s, m, []).getFunc("answer").call());`;

Deno.test("deserializeFile: deny rules, symlinks out, dangling links", async () => {
  const { dir, pub, secret } = tree();
  Deno.writeFileSync(join(pub, "a.cwasm"), compiled(A));
  Deno.writeFileSync(join(secret, "b.cwasm"), compiled(B));
  const flags = [`--deny-read=${secret}`];
  assert.equal(
    out(await attempt(loadFile(join(pub, "a.cwasm")), { read: [dir], flags })),
    "answer 42",
  );
  assert.match(
    out(await attempt(loadFile(join(secret, "b.cwasm")), { read: [dir], flags })),
    /^PermissionError: Module.deserializeFile needs read access .*Deno denies it/,
  );
  Deno.symlinkSync(join(secret, "b.cwasm"), join(pub, "link.cwasm"));
  const viaLink = out(await attempt(loadFile(join(pub, "link.cwasm")), { read: [dir], flags }));
  assert.match(viaLink, new RegExp(`^PermissionError: .*${secret}/b.cwasm \\(where`));
  // A link to a file outside every grant.
  const outside = Deno.makeTempFileSync({ suffix: ".cwasm" });
  Deno.writeFileSync(outside, compiled(B));
  Deno.symlinkSync(outside, join(pub, "out.cwasm"));
  assert.match(
    out(await attempt(loadFile(join(pub, "out.cwasm")), { read: [dir] })),
    new RegExp(`^PermissionError: .*run again with --allow-read=${outside}`),
  );
  Deno.symlinkSync(join(dir, "missing.cwasm"), join(pub, "dangling.cwasm"));
  assert.match(
    out(await attempt(loadFile(join(pub, "dangling.cwasm")), { read: [dir] })),
    /^NotFound: Module.deserializeFile: .*dangling.cwasm does not exist \(or is a symlink to nothing\)/,
  );
  assert.match(
    out(await attempt(loadFile(pub), { read: [dir] })),
    /^WasmtimeError: Module.deserializeFile: .* is not a regular file/,
  );
});

Deno.test("deserializeFile: a symlink swapped while it is opened never loads the denied file", async () => {
  const { dir, pub } = tree();
  Deno.writeFileSync(join(pub, "a.cwasm"), compiled(A));
  // Outside every grant: Deno's own open follows links to such a file without a word (it
  // refuses only targets under a deny rule), so the binding's check is the only guard.
  const b = join(Deno.makeTempDirSync(), "b.cwasm");
  Deno.writeFileSync(b, compiled(B));
  const link = join(pub, "race.cwasm");
  Deno.symlinkSync(join(pub, "a.cwasm"), link);
  // The racer flips the link between the allowed and the denied file with atomic renames.
  const racing = await startSymlinkRacer(link, join(pub, "a.cwasm"), b);
  const result = await attempt(
    `using engine = new wasmtime.Engine();
const counts = { a: 0, b: 0, refused: 0 };
for (const end = Date.now() + 2000; Date.now() < end;) {
  let m;
  try { m = wasmtime.Module.deserializeFile(engine, ${
      JSON.stringify(link)
    }); } catch { counts.refused++; continue; }
  // A store per load: one store would reach its instance limit (10,000) on a fast machine.
  using store = new wasmtime.Store(engine);
  const v = new wasmtime.Instance(store, m, []).getFunc("answer").call();
  if (v === 42) counts.a++; else counts.b++;
  m[Symbol.dispose]();
}
console.log(JSON.stringify(counts));`,
    { read: [dir] },
  );
  await racing.stop();
  if (!result.stdout.trim().startsWith("{")) throw new Error(out(result));
  const counts = JSON.parse(result.stdout.trim());
  console.log(`race for 2 s: ${result.stdout.trim()}`);
  assert.equal(counts.b, 0, "the denied module was loaded");
  assert.ok(counts.a > 0 && counts.refused > 0, out(result));
});

Deno.test("deserializeFile: a link swapped while open() waits is caught by the identity check", async () => {
  // Deterministic version of the race: opening a FIFO blocks until a writer comes, and the link
  // is swapped meanwhile, so the opened file and the file at the checked path differ.
  const { dir, pub } = tree();
  Deno.writeFileSync(join(pub, "a.cwasm"), compiled(A));
  const fifo = join(pub, "fifo");
  assert.ok((await new Deno.Command("mkfifo", { args: [fifo] }).output()).success);
  const link = join(pub, "link.cwasm");
  Deno.symlinkSync(fifo, link);
  const pidFile = join(dir, "pid");
  const child = attempt(
    `Deno.writeTextFileSync(${JSON.stringify(pidFile)}, String(Deno.pid));\n${loadFile(link)}`,
    { read: [dir], flags: [`--allow-write=${pidFile}`] },
  );
  // Wait until the child blocks in open() (Linux shows it as wait_for_partner).
  let blocked = false;
  for (let i = 0; i < 1000 && !blocked; i++) {
    await new Promise((r) => setTimeout(r, 5));
    try {
      const pid = Deno.readTextFileSync(pidFile);
      blocked = pid !== "" && Deno.readTextFileSync(`/proc/${pid}/wchan`) === "wait_for_partner";
    } catch { /* not yet */ }
  }
  assert.ok(blocked, "the child never blocked opening the FIFO");
  Deno.removeSync(link);
  Deno.symlinkSync(join(pub, "a.cwasm"), link);
  const writer = await Deno.open(fifo, { write: true });
  writer.close();
  assert.match(
    out(await child),
    /^WasmtimeError: Module.deserializeFile: .*link.cwasm changed while it was opened/,
  );
});

Deno.test("a deserialized file truncated afterwards: calls still work (no SIGBUS)", async () => {
  const dir = Deno.makeTempDirSync();
  const functions = Array.from(
    { length: 3000 },
    (_, i) => `(func (export "f${i}") (param i32) (result i32) local.get 0 i32.const ${i} i32.add)`,
  ).join("\n");
  const wasm = wat2wasm(`(module ${functions})`);
  const path = join(dir, "big.cwasm");
  Deno.writeFileSync(path, compiled(wasm));
  Deno.writeFileSync(join(dir, "big.wasm"), wasm);
  const result = await attempt(
    `using engine = new wasmtime.Engine();
using store = new wasmtime.Store(engine);
using m = wasmtime.Module.deserializeFile(engine, ${JSON.stringify(path)});
const instance = new wasmtime.Instance(store, m, []);
Deno.truncateSync(${JSON.stringify(path)}, 0);
console.log("f2999 " + instance.getFunc("f2999").call(1));
// The same through Module.cached: load from the cache, truncate the entry, call.
const cache = ${JSON.stringify(join(dir, "cache"))};
const wasm = Deno.readFileSync(${JSON.stringify(join(dir, "big.wasm"))});
wasmtime.Module.cached(engine, wasm, { dir: cache })[Symbol.dispose]();
using cached = wasmtime.Module.cached(engine, wasm, { dir: cache });
const again = new wasmtime.Instance(store, cached, []);
for (const e of Deno.readDirSync(cache)) Deno.truncateSync(cache + "/" + e.name, 0);
console.log("cached f2999 " + again.getFunc("f2999").call(2));`,
    { read: [dir], flags: [`--allow-write=${dir}`] },
  );
  assert.equal(result.code, 0, out(result));
  assert.equal(out(result), "f2999 3000\ncached f2999 3001");
});

Deno.test("Engine({ cache }) needs whole read and write grants (a --deny-write child refuses it)", async () => {
  const { dir, protectedDir } = tree();
  const config = join(dir, "cache.toml");
  Deno.writeTextFileSync(config, `[cache]\ndirectory = "${protectedDir}"\n`);
  const make = `new wasmtime.Engine({ cache: { configPath: ${
    JSON.stringify(config)
  } } }); console.log("made");`;
  const partial = await attempt(make, {
    read: "all",
    flags: ["--allow-write", `--deny-write=${protectedDir}`],
  });
  assert.match(
    out(partial),
    /^PermissionError: Engine option `cache` .*only in part: a --deny-write rule covers something inside the grant.*Module\.cached/,
  );
  assert.deepEqual([...Deno.readDirSync(protectedDir)].map((e) => e.name), ["p.txt"]);
  const scoped = await attempt(make, { read: [dir], flags: [`--allow-write=${dir}`] });
  assert.match(out(scoped), /^PermissionError: .*run again with --allow-read$/);
  const whole = await attempt(make, { read: "all", flags: ["--allow-write"] });
  assert.equal(out(whole), "made");
});

Deno.test("Module.cached: a --deny-write child, a denied directory, a linked directory", async () => {
  const { dir, protectedDir, pub } = tree();
  const cached = (cacheDir: string) =>
    `using m = wasmtime.Module.cached(new wasmtime.Engine(), ${JSON.stringify(A)}, { dir: ${
      JSON.stringify(cacheDir)
    } });
console.log("loaded " + [...Deno.readDirSync(${JSON.stringify(cacheDir)})].length);`;
  const flags = [`--allow-write=${dir}`, `--deny-write=${protectedDir}`];
  // Only JS touches the cache, and Deno applies the deny rule to each file itself.
  Deno.chmodSync(dir, 0o700);
  assert.equal(out(await attempt(cached(dir), { read: [dir], flags })), "loaded 5");
  assert.match(
    out(await attempt(cached(join(protectedDir, "cache")), { read: [dir], flags })),
    /^PermissionError: .*Deno denies it \(a --deny-write rule covers/,
  );
  assert.deepEqual([...Deno.readDirSync(protectedDir)].map((e) => e.name), ["p.txt"]);
  Deno.mkdirSync(join(pub, "cache"), { mode: 0o700 });
  assert.equal(out(await attempt(cached(join(pub, "cache")), { read: [dir], flags })), "loaded 2");
  // A link inside the grant that leads to a directory outside it.
  const outside = Deno.makeTempDirSync();
  Deno.symlinkSync(outside, join(pub, "cache-link"));
  assert.match(
    out(await attempt(cached(join(pub, "cache-link")), { read: [dir], flags })),
    new RegExp(
      `^PermissionError: Module.cached: using the cache ${outside} \\(where .*run again with --allow-read=${outside}`,
    ),
  );
  assert.deepEqual([...Deno.readDirSync(outside)], []);
});

Deno.test("Module.cached never loads another module's entry swapped under this key", () => {
  const dir = Deno.makeTempDirSync();
  using engine = new Engine();
  using store = new Store(engine);
  const answer = (m: Module) => new Instance(store, m, []).getFunc("answer")!.call();
  const cwasm = () =>
    [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".cwasm"));
  Module.cached(engine, A, { dir })[Symbol.dispose]();
  const [keyA] = cwasm();
  Module.cached(engine, B, { dir })[Symbol.dispose]();
  const keyB = cwasm().find((n) => n !== keyA)!;
  assert.ok(keyB, "B has its own entry");

  // B's whole entry (code and manifest) copied under A's name.
  Deno.copyFileSync(join(dir, keyB), join(dir, keyA));
  const manifest = (key: string) => join(dir, key.replace(/\.cwasm$/, ".json"));
  Deno.copyFileSync(manifest(keyB), manifest(keyA));
  using loaded = Module.cached(engine, A, { dir });
  assert.equal(answer(loaded), 42, "the swapped entry was loaded");
  assert.notDeepEqual(Deno.readFileSync(join(dir, keyA)), Deno.readFileSync(join(dir, keyB)));

  // Raw compiled code of B (the old format: code plus a .sha256 beside it) under A's name.
  const rawB = compiled(B);
  Deno.writeFileSync(join(dir, keyA), rawB);
  Deno.writeTextFileSync(join(dir, `${keyA}.sha256`), "ignored\n");
  using raw = Module.cached(engine, A, { dir });
  assert.equal(answer(raw), 42);

  // A link to a valid entry of A elsewhere is not followed either: the entry is rewritten.
  const elsewhere = join(Deno.makeTempDirSync(), "entry");
  Deno.copyFileSync(join(dir, keyA), elsewhere);
  Deno.removeSync(join(dir, keyA));
  Deno.symlinkSync(elsewhere, join(dir, keyA));
  using viaLink = Module.cached(engine, A, { dir });
  assert.equal(answer(viaLink), 42);
  assert.ok(Deno.lstatSync(join(dir, keyA)).isFile, "the link was replaced by a file");

  // A dangling link under the entry's name: compiled and replaced, the target not created.
  Deno.removeSync(join(dir, keyA));
  const target = join(Deno.makeTempDirSync(), "created-through-link");
  Deno.symlinkSync(target, join(dir, keyA));
  using dangling = Module.cached(engine, A, { dir });
  assert.equal(answer(dangling), 42);
  assert.throws(() => Deno.statSync(target), Deno.errors.NotFound);
});

Deno.test("Module.cached refuses a directory other users can write or own", () => {
  const parent = Deno.makeTempDirSync();
  const dir = join(parent, "cache");
  using engine = new Engine();
  using first = Module.cached(engine, A, { dir });
  assert.equal(Deno.statSync(dir).mode! & 0o777, 0o700, "created private");

  for (const mode of [0o777, 0o770, 0o702]) {
    Deno.chmodSync(dir, mode);
    assert.throws(
      () => Module.cached(engine, A, { dir }),
      (e: Error) =>
        e instanceof WasmtimeError &&
        e.message.includes(`${dir} is writable by other users (mode 0${mode.toString(8)})`) &&
        e.message.includes(`chmod go-w ${dir}`),
    );
  }
  Deno.chmodSync(dir, 0o755);
  Module.cached(engine, A, { dir })[Symbol.dispose]();

  // A loose parent lets others swap the whole directory.
  Deno.chmodSync(parent, 0o777);
  assert.throws(
    () => Module.cached(engine, A, { dir }),
    new RegExp(`lies inside ${parent}, which other users can write \\(mode 0777\\)`),
  );
  Deno.chmodSync(parent, 0o1777); // sticky, like /tmp: others cannot rename what is not theirs
  Module.cached(engine, A, { dir })[Symbol.dispose]();
  Deno.chmodSync(parent, 0o700);

  // An entry writable by others is recompiled and rewritten private.
  const [entry] = [...Deno.readDirSync(dir)].map((e) => join(dir, e.name));
  Deno.chmodSync(entry, 0o666);
  const before = Deno.statSync(entry).ino;
  Module.cached(engine, A, { dir })[Symbol.dispose]();
  assert.equal(Deno.statSync(entry).mode! & 0o777, 0o644);
  assert.notEqual(Deno.statSync(entry).ino, before, "rewritten, not loaded");

  if (Deno.uid() === 0) {
    // Running as root (CI): hand the directory, then an entry, to another user.
    Deno.chownSync(dir, 65534, 65534);
    assert.throws(
      () => Module.cached(engine, A, { dir }),
      new RegExp(`${dir} belongs to user 65534, not to this process`),
    );
    Deno.chownSync(dir, 0, 0);
    Deno.chownSync(entry, 65534, 65534);
    const owned = Deno.statSync(entry).ino;
    Module.cached(engine, A, { dir })[Symbol.dispose]();
    assert.notEqual(Deno.statSync(entry).ino, owned, "another user's entry is not loaded");
    assert.equal(Deno.statSync(entry).uid, 0);
  }
  assert.equal(new Instance(new Store(engine), first, []).getFunc("answer")!.call(), 42);
});

Deno.test("profilers: output files need write permission; links there are refused", async () => {
  const { dir, protectedDir } = tree();
  // perfmap without any write grant: refused, nothing written to /tmp.
  const perfmap = await attempt(
    `console.log("pid " + Deno.pid); new wasmtime.Engine({ profiler: "perfmap" }); console.log("made");`,
  );
  const pid = perfmap.stdout.match(/pid (\d+)/)![1];
  assert.match(
    out(perfmap),
    new RegExp(
      `PermissionError: Engine option profiler: "perfmap" writes /tmp/perf-${pid}.map needs write access to /tmp/perf-${pid}.map: run again with --allow-write=/tmp$`,
      "m",
    ),
  );
  assert.throws(() => Deno.statSync(`/tmp/perf-${pid}.map`), Deno.errors.NotFound);

  // jitdump in a directory under a --deny-write rule: refused, nothing written there.
  const jitdump = await attempt(
    `new wasmtime.Engine({ profiler: "jitdump" }); console.log("made");`,
    {
      read: [dir],
      flags: [`--allow-write=${dir}`, `--deny-write=${protectedDir}`],
      cwd: protectedDir,
    },
  );
  assert.match(
    out(jitdump),
    /^PermissionError: .*jit-\d+\.dump.*Deno denies it \(a --deny-write rule/,
  );
  assert.deepEqual([...Deno.readDirSync(protectedDir)].map((e) => e.name), ["p.txt"]);
  // Granted: the dump is written where it was checked.
  const granted = await attempt(
    `new wasmtime.Engine({ profiler: "jitdump" }); console.log("made");`,
    { read: [dir], flags: [`--allow-write=${dir}`], cwd: dir },
  );
  assert.equal(out(granted), "made");
  assert.ok([...Deno.readDirSync(dir)].some((e) => /^jit-\d+\.dump$/.test(e.name)));

  // A symlink (dangling or not) at the output path is refused: native code would follow it.
  const target = join(dir, "target-of-link");
  const links = await attempt(
    `for (const [profiler, path] of [["jitdump", Deno.cwd() + "/jit-" + Deno.pid + ".dump"], ["perfmap", "/tmp/perf-" + Deno.pid + ".map"]]) {
  Deno.symlinkSync(${JSON.stringify(target)}, path);
  try { new wasmtime.Engine({ profiler }); console.log(profiler + " made"); }
  catch (e) { console.log(e.name + ": " + e.message); }
  finally { Deno.removeSync(path); }
}`,
    { read: "all", flags: ["--allow-write"], cwd: dir },
  );
  assert.match(
    out(links),
    /^WasmtimeError: .*jit-\d+\.dump already exists and is a symlink; .*refused.*\nWasmtimeError: .*perf-\d+\.map already exists and is a symlink/,
  );
  assert.throws(() => Deno.statSync(target), Deno.errors.NotFound);
});

Deno.test("the loader checks the files it reads: deny rules elsewhere do not block it", async () => {
  // Only manifest.json and the library are read; Deno's pointer APIs accept --allow-ffi next
  // to a --deny-ffi rule for another path, so the binding does too.
  const load = `new wasmtime.Engine()[Symbol.dispose](); console.log(wasmtime.version);`;
  const ok = await attempt(load, {
    flags: [`--deny-read=${join(ENTRY, "include")}`, "--deny-ffi=/nonexistent/lib.so"],
  });
  assert.match(out(ok), /^\d+\.\d+\.\d+$/);
  const denied = await attempt(load, {
    flags: [`--deny-read=${join(ENTRY, "manifest.json")}`],
  });
  assert.match(denied.stdout + denied.stderr, /PermissionError: .*Deno denies it/);
});
