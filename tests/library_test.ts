import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { version } from "../mod.ts";
import { NATIVE_CRATE } from "../src/package/native_crate.ts";
import { CRATE_FILES, describeCrate, parseManifest } from "../src/package/native_source.ts";
import { lookupVariables } from "../src/package/cache.ts";
import {
  appFlags,
  cacheEntry,
  libraryPath,
  MOD_URL,
  ROOT,
  runDeno,
  tempScript,
} from "./helpers.ts";

const VERSION_SCRIPT = `import { Engine, version } from ${JSON.stringify(MOD_URL)};
try {
  new Engine()[Symbol.dispose](); // opens the library
  console.log(version);
} catch (e) {
  console.error(e.name + ": " + e.message);
  Deno.exit(3);
}
`;

/**
 * A cache dir holding a copy (no links) of the real cache entry, so tests can damage it freely;
 * `under` puts the cache root below a fresh directory `base` (e.g. `deno/wasmtime-deno` for
 * XDG_CACHE_HOME).
 */
async function copiedCache(
  under?: string,
): Promise<{ base: string; root: string; entry: string; library: string }> {
  const source = await cacheEntry();
  const base = await Deno.makeTempDir({ prefix: "wasmtime-deno-cache-" });
  const root = under ? join(base, under) : base;
  const entry = join(root, source.split("/").pop()!);
  // 0755 whatever the umask of the test run: the loader refuses a cache others can write.
  await Deno.mkdir(entry, { recursive: true, mode: 0o755 });
  for (const file of ["libwasmtime.so", "manifest.json"]) {
    await Deno.copyFile(join(source, file), join(entry, file));
  }
  return { base, root, entry, library: join(entry, "libwasmtime.so") };
}

/** A PATH holding only deno and the given tools, to prove which commands a task runs. */
async function pathWith(tools: string[]): Promise<string> {
  const bin = await Deno.makeTempDir({ prefix: "wasmtime-deno-bin-" });
  await Deno.symlink(Deno.execPath(), join(bin, "deno"));
  for (const tool of tools) {
    const found = new TextDecoder().decode(
      (await new Deno.Command("sh", { args: ["-c", `command -v ${tool}`], stdout: "piped" })
        .output()).stdout,
    ).trim();
    assert.ok(found, `${tool} must be installed for this test`);
    await Deno.symlink(found, join(bin, tool));
  }
  return bin;
}

Deno.test("version is the Wasmtime release pinned in native/Cargo.toml", async () => {
  const manifest = parseManifest(await Deno.readTextFile(join(ROOT, "native/Cargo.toml")));
  assert.equal(version, manifest.wasmtimeVersion);
  assert.equal(version, NATIVE_CRATE.wasmtimeVersion);
  assert.match(version, /^\d+\.\d+\.\d+$/);
});

Deno.test("src/package/native_crate.ts is in sync with native/ (run deno task sync-native)", async () => {
  const description = await describeCrate((file) => Deno.readFile(join(ROOT, "native", file)));
  assert.deepEqual(
    { ...description, features: [...description.features] },
    { ...NATIVE_CRATE, features: [...NATIVE_CRATE.features] },
  );
  for (
    const feature of [
      "cranelift",
      "wat",
      "wasi",
      "async",
      "gc",
      "gc-drc",
      "threads",
      "cache",
      "parallel-compilation",
      "pooling-allocator",
      "component-model",
      "profiling",
      "addr2line",
      "demangle",
      "coredump",
    ]
  ) {
    assert.ok(NATIVE_CRATE.features.includes(feature as never), `feature ${feature}`);
  }
});

Deno.test("build-native reuses a valid cache without invoking cargo", async () => {
  const expected = await libraryPath();
  // With only deno on PATH, any attempt to run cargo or cmake would fail the task.
  const bin = await pathWith([]);
  const started = performance.now();
  const result = await runDeno(["run", "-A", "tasks/build_native.ts"], { env: { PATH: bin } });
  const seconds = (performance.now() - started) / 1000;
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stderr,
    /cached libwasmtime 48\.\d+\.\d+ at .*libwasmtime\.so \(\d+\.\d+ s\)/,
  );
  assert.ok(result.stderr.includes(expected));
  console.log(`cached build-native run: ${seconds.toFixed(2)} s`);

  const printed = await runDeno(["run", "-A", "tasks/build_native.ts", "--print-path"], {
    env: { PATH: bin },
  });
  assert.equal(printed.code, 0, printed.stderr);
  assert.equal(printed.stdout.trim(), expected);
  const manifest = JSON.parse(await Deno.readTextFile(join(await cacheEntry(), "manifest.json")));
  assert.equal(manifest.wasmtimeVersion, NATIVE_CRATE.wasmtimeVersion);
  assert.equal(manifest.crateHash, NATIVE_CRATE.hash);
  assert.equal(manifest.size, (await Deno.stat(expected)).size);
  assert.match(manifest.sha256, /^[0-9a-f]{64}$/);
  assert.match(manifest.rustc, /^rustc \d+\.\d+/);
  assert.deepEqual(manifest.features, [...NATIVE_CRATE.features]);
});

Deno.test("build-native --force rebuilds (reusing compiled dependencies) and re-verifies", async () => {
  const library = await libraryPath();
  const manifestPath = join(await cacheEntry(), "manifest.json");
  const before = JSON.parse(await Deno.readTextFile(manifestPath));
  const result = await runDeno(["run", "-A", "tasks/build_native.ts", "--force"]);
  assert.equal(result.code, 0, result.stderr);
  // A line per phase, around cargo's own output.
  assert.match(result.stderr, /build-native: phase 1\/4: writing the native crate sources/);
  assert.match(result.stderr, /build-native: phase 2\/4: checking the toolchain/);
  assert.match(
    result.stderr,
    /build-native: phase 3\/4: compiling libwasmtime 48\.\d+\.\d+ \(v48\.\d+\.\d+\)/,
  );
  assert.match(result.stderr, /build-native: phase 4\/4: compiled in [\d.]+ s/);
  assert.match(result.stderr, /build-native: built in [\d.]+ s/);
  const after = JSON.parse(await Deno.readTextFile(manifestPath));
  assert.notEqual(after.builtAt, before.builtAt);
  assert.equal(after.size, (await Deno.stat(library)).size);
  const again = await runDeno(["run", "-A", "tasks/build_native.ts"]);
  assert.match(again.stderr, /cached libwasmtime/);
});

Deno.test("the library names no build directory, so builds elsewhere give the same bytes", async () => {
  const entry = await cacheEntry();
  const text = new TextDecoder("latin1").decode(await Deno.readFile(await libraryPath()));
  const home = Deno.env.get("HOME") ?? "/root";
  const cargoHome = Deno.env.get("CARGO_HOME") || join(home, ".cargo");
  // The cache root holds the crate and Cargo's target dir; CARGO_HOME the registry sources.
  for (const directory of [dirname(entry), cargoHome]) {
    assert.ok(!text.includes(directory), `the library contains ${directory}`);
  }
  // The remapped names are there instead (panic locations of registry crates).
  assert.ok(text.includes("/cargo/registry/src/"), "no remapped registry path");
  // The headers came from the build's own OUT_DIR, not from a path the library carries.
  const header = await Deno.readTextFile(join(entry, "include", "wasmtime.h"));
  assert.ok(header.includes(`#define WASMTIME_VERSION "${NATIVE_CRATE.wasmtimeVersion}"`));
});

Deno.test("build-native rejects unknown flags", async () => {
  const result = await runDeno(["run", "-A", "tasks/build_native.ts", "--frobnicate"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /unknown argument --frobnicate/);
});

Deno.test("build-native detects a corrupt cached library and explains a missing cargo", async () => {
  const { root, library } = await copiedCache();
  const bytes = await Deno.readFile(library);
  bytes[bytes.length >> 1] ^= 0xff; // same size, different sha256
  await Deno.writeFile(library, bytes);
  const result = await runDeno(["run", "-A", "tasks/build_native.ts"], {
    env: { WASMTIME_DENO_CACHE: root, PATH: await pathWith([]) },
  });
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /is corrupt \(sha256 [0-9a-f]+…, manifest says [0-9a-f]+…\): rebuilding/,
  );
  assert.match(result.stderr, /cargo and rustc are needed.*\n.*rustup\.rs/);
  assert.doesNotMatch(result.stderr, /^\s+at /m, "no stack trace");
});

Deno.test("build-native explains a missing cmake (--print-flags builds first when not cached)", async () => {
  const root = await Deno.makeTempDir({ prefix: "wasmtime-deno-cache-" });
  const result = await runDeno(["run", "-A", "tasks/build_native.ts", "--print-flags"], {
    env: { WASMTIME_DENO_CACHE: root, PATH: await pathWith(["cargo", "rustc"]) },
  });
  assert.equal(result.code, 1);
  assert.equal(result.stdout, "", "nothing printed for a library that does not exist");
  assert.match(result.stderr, /cmake is needed.*\n.*apt-get install cmake/);
  assert.doesNotMatch(result.stderr, /^\s+at /m, "no stack trace");
});

Deno.test("build-native runs from a remote URL and builds exactly native/", async () => {
  // An empty cache and no cargo: the crate is fetched and written out, then the build stops.
  const root = await Deno.makeTempDir({ prefix: "wasmtime-deno-cache-" });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const path = decodeURIComponent(new URL(request.url).pathname);
    if (path.includes("..")) return new Response("no", { status: 400 });
    try {
      const body = await Deno.readFile(join(ROOT, path));
      const type = path.endsWith(".ts") ? "application/typescript" : "application/octet-stream";
      return new Response(body, { headers: { "content-type": type } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  try {
    const url = `http://127.0.0.1:${server.addr.port}/tasks/build_native.ts`;
    const result = await runDeno(["run", "-A", "--reload", url, "--print-path"], {
      env: { WASMTIME_DENO_CACHE: root, PATH: await pathWith([]) },
      cwd: await Deno.makeTempDir(),
    });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /writing the native crate sources/);
    assert.match(result.stderr, /cargo and rustc are needed/);
    const crateDir = join(root, "crates", NATIVE_CRATE.hash.slice(0, 16));
    for (const file of CRATE_FILES) {
      assert.deepEqual(
        await Deno.readFile(join(crateDir, file)),
        await Deno.readFile(join(ROOT, "native", file)),
        `${file} differs from native/${file}`,
      );
    }
  } finally {
    await server.shutdown();
  }
});

Deno.test("loader: an empty cache names the command to run", async () => {
  const root = await Deno.makeTempDir();
  const script = await tempScript(VERSION_SCRIPT);
  const result = await runDeno(["run", "-A", script], { env: { WASMTIME_DENO_CACHE: root } });
  assert.equal(result.code, 3, result.stderr);
  assert.match(result.stderr, /LibraryError: libwasmtime 48\.\d+\.\d+ is not installed yet/);
  assert.match(result.stderr, /deno task build-native/);
  assert.match(result.stderr, /deno run -A jsr:@wasmtime-deno\/wasmtime\/build-native/);
});

Deno.test("loader: a truncated cached library is reported as corrupt", async () => {
  const { root, library } = await copiedCache();
  await Deno.truncate(library, 4096);
  const script = await tempScript(VERSION_SCRIPT);
  const result = await runDeno(["run", "-A", script], { env: { WASMTIME_DENO_CACHE: root } });
  assert.equal(result.code, 3, result.stderr);
  assert.match(result.stderr, /LibraryError: .* is corrupt \(4096 bytes, the manifest says \d+\)/);
});

Deno.test("loader: WASMTIME_LIB wins and bad values get clear errors", async () => {
  const script = await tempScript(VERSION_SCRIPT);
  const good = await runDeno(["run", "-A", script], {
    env: { WASMTIME_LIB: await libraryPath(), WASMTIME_DENO_CACHE: "/nonexistent" },
  });
  assert.equal(good.code, 0, good.stderr);
  assert.equal(good.stdout.trim(), NATIVE_CRATE.wasmtimeVersion);

  const missing = await runDeno(["run", "-A", script], {
    env: { WASMTIME_LIB: "/nonexistent/libwasmtime.so" },
  });
  assert.equal(missing.code, 3);
  assert.match(missing.stderr, /LibraryError: libwasmtime: cannot open WASMTIME_LIB=\/nonexistent/);
  assert.match(missing.stderr, /point WASMTIME_LIB at a library built by/);

  const notALibrary = join(await Deno.makeTempDir(), "libwasmtime.so");
  await Deno.writeTextFile(notALibrary, "this is not an ELF file");
  const wrongFile = await runDeno(["run", "-A", script], { env: { WASMTIME_LIB: notALibrary } });
  assert.equal(wrongFile.code, 3);
  assert.match(wrongFile.stderr, /LibraryError: libwasmtime: cannot open WASMTIME_LIB=/);

  const otherLibrary = ["/lib/x86_64-linux-gnu/libm.so.6", "/usr/lib/x86_64-linux-gnu/libm.so.6"]
    .find((p) => {
      try {
        return Deno.statSync(p).isFile;
      } catch {
        return false;
      }
    });
  if (otherLibrary) {
    const wrongLibrary = await runDeno(["run", "-A", script], {
      env: { WASMTIME_LIB: otherLibrary },
    });
    assert.equal(wrongLibrary.code, 3);
    assert.match(wrongLibrary.stderr, /is not a libwasmtime built from this package's native\//);
  }
});

Deno.test("loader: missing permissions name the flag to add", async () => {
  const library = await libraryPath();
  const [env, read] = await appFlags();
  const root = read.slice("--allow-read=".length);
  const script = await tempScript(VERSION_SCRIPT);

  const noFfi = await runDeno(["run", "--no-prompt", env, read, script]);
  assert.equal(noFfi.code, 3, noFfi.stderr);
  assert.match(noFfi.stderr, /PermissionError: .*run again with --allow-ffi$/m);

  const scopedFfi = await runDeno([
    "run",
    "--no-prompt",
    env,
    read,
    `--allow-ffi=${library}`,
    script,
  ]);
  assert.equal(scopedFfi.code, 3, scopedFfi.stderr);
  assert.match(scopedFfi.stderr, /needs unscoped FFI access.*run again with --allow-ffi$/m);

  // The root is suggested, not the versioned entry, so that the grant survives upgrades.
  const noRead = await runDeno(["run", "--no-prompt", env, "--allow-ffi", script]);
  assert.equal(noRead.code, 3, noRead.stderr);
  assert.match(noRead.stderr, new RegExp(`run again with --allow-read=${root}$`, "m"));
  const entryOnly = await runDeno(
    ["run", "--no-prompt", env, `--allow-read=${dirname(library)}`, "--allow-ffi", script],
  );
  assert.match(entryOnly.stderr, new RegExp(`run again with --allow-read=${root}$`, "m"));

  const noEnv = await runDeno(["run", "--no-prompt", read, "--allow-ffi", script]);
  assert.equal(noEnv.code, 3, noEnv.stderr);
  assert.match(noEnv.stderr, new RegExp(`run again with ${env}$`, "m"));
});

Deno.test("importing mod.ts needs no permission at all", async () => {
  const script = await tempScript(
    `import * as wasmtime from ${JSON.stringify(MOD_URL)};\nconsole.log(typeof wasmtime.Engine);`,
  );
  const result = await runDeno(["run", "--no-prompt", script]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.trim(), "function");
});

Deno.test("the README example runs with exactly the README's narrow flags", async () => {
  const library = await libraryPath();
  const flags = await appFlags();
  const example = join(ROOT, "tests/fixtures/readme_example.ts");
  const readme = await Deno.readTextFile(join(ROOT, "README.md"));
  // The README documents these command lines; run them verbatim (with paths filled in).
  const line = `deno run ${
    flags[0]
  } --allow-read=$HOME/.cache/deno/wasmtime-deno --allow-ffi app.ts`;
  assert.ok(readme.includes(line), `the README shows ${line}`);
  assert.ok(readme.includes("build-native --print-flags"));
  assert.ok(readme.includes("deno run --allow-env=WASMTIME_LIB --allow-ffi app.ts"));
  assert.deepEqual(flags.slice(0, 1), [`--allow-env=${lookupVariables().join(",")}`]);
  const viaCache = await runDeno(["run", "--no-prompt", ...flags, example]);
  assert.equal(viaCache.code, 0, viaCache.stderr);
  assert.equal(viaCache.stdout.trim(), "add(40, 2) = 42");
  const viaEnv = await runDeno(
    ["run", "--no-prompt", "--allow-env=WASMTIME_LIB", "--allow-ffi", example],
    { env: { WASMTIME_LIB: library } },
  );
  assert.equal(viaEnv.code, 0, viaEnv.stderr);
  assert.equal(viaEnv.stdout.trim(), "add(40, 2) = 42");
});

const EXAMPLE = join(ROOT, "tests/fixtures/readme_example.ts");
const BUILD_NATIVE = join(ROOT, "tasks/build_native.ts");
/** Every variable of the lookup emptied (an empty value counts as unset), for `env` overrides. */
const UNSET = Object.fromEntries(lookupVariables().map((name) => [name, ""]));

for (
  const [variable, under, extra, relative] of [
    ["WASMTIME_DENO_CACHE", undefined, {}, false],
    ["WASMTIME_DENO_CACHE", undefined, {}, true],
    ["DENO_DIR", "wasmtime-deno", {}, false],
    ["XDG_CACHE_HOME", "deno/wasmtime-deno", {}, false],
    // A relative XDG_CACHE_HOME is ignored (XDG spec; Deno's own lookup does the same).
    ["HOME", ".cache/deno/wasmtime-deno", { XDG_CACHE_HOME: "relative/cache" }, false],
  ] as const
) {
  const how = `${relative ? "a relative " : ""}${variable}${
    "XDG_CACHE_HOME" in extra ? " (and a relative XDG_CACHE_HOME)" : ""
  }`;
  Deno.test(`${how}: build-native and the loader use one cache; --print-flags loads it`, async () => {
    const { base, root, library } = await copiedCache(under);
    const cwd = dirname(base);
    const env = {
      ...UNSET,
      HOME: Deno.env.get("HOME") ?? "",
      ...extra,
      [variable]: relative ? base.slice(cwd.length + 1) : base,
      // Only deno on PATH: a cached library is printed without running cargo.
      PATH: await pathWith([]),
    };
    const printed = await runDeno(["run", "-A", BUILD_NATIVE, "--print-path", "--print-flags"], {
      env,
      cwd,
    });
    assert.equal(printed.code, 0, printed.stderr);
    const [path, line] = printed.stdout.trim().split("\n");
    assert.equal(path, library);
    assert.equal(
      line,
      `--allow-env=${lookupVariables().join(",")} --allow-read=${root} --allow-ffi`,
    );
    // The line survives upgrades: it names neither the Wasmtime version nor the crate hash.
    assert.ok(!line.includes(NATIVE_CRATE.wasmtimeVersion), line);
    assert.ok(!line.includes(NATIVE_CRATE.hash.slice(0, 16)), line);

    const app = await runDeno(["run", "--no-prompt", ...line.split(" "), EXAMPLE], { env, cwd });
    assert.equal(app.code, 0, app.stderr);
    assert.equal(app.stdout.trim(), "add(40, 2) = 42");
    // It was this copy that the app loaded: damaged, it is reported by its path.
    await Deno.truncate(library, 4096);
    const damaged = await runDeno(["run", "--no-prompt", ...line.split(" "), EXAMPLE], {
      env,
      cwd,
    });
    assert.equal(damaged.code, 1);
    assert.ok(damaged.stderr.includes(`the cached library ${library} is corrupt`), damaged.stderr);
  });
}

Deno.test("loader: a lookup variable it may not read is reported with the flag, never skipped", async () => {
  const { base, root } = await copiedCache("wasmtime-deno");
  const script = await tempScript(VERSION_SCRIPT);
  const env = { ...UNSET, HOME: Deno.env.get("HOME") ?? "", DENO_DIR: base };
  const run = (...flags: string[]) =>
    runDeno(["run", "--no-prompt", ...flags, `--allow-read=${root}`, "--allow-ffi", script], {
      env,
    });
  const suggested = (stderr: string) => stderr.match(/run again with (--allow-env=\S+)$/m)?.[1];

  // The old narrow line: DENO_DIR may be set (it is), so HOME's cache is not used instead.
  const homeOnly = await run("--allow-env=HOME");
  assert.equal(homeOnly.code, 3, homeOnly.stderr);
  assert.match(
    homeOnly.stderr,
    /^PermissionError: libwasmtime: finding the library reads WASMTIME_LIB, WASMTIME_DENO_CACHE, DENO_DIR, XDG_CACHE_HOME, HOME in this order .*does not let it read WASMTIME_LIB, WASMTIME_DENO_CACHE, DENO_DIR, XDG_CACHE_HOME, which may be set .*--print-flags/m,
  );
  const flag = suggested(homeOnly.stderr);
  assert.equal(flag, "--allow-env=WASMTIME_LIB,WASMTIME_DENO_CACHE,DENO_DIR,XDG_CACHE_HOME");
  // Adding the flag the error names is enough.
  const fixed = await run("--allow-env=HOME", flag!);
  assert.equal(fixed.code, 0, fixed.stderr);
  assert.equal(fixed.stdout.trim(), NATIVE_CRATE.wasmtimeVersion);

  // Only what the lookup reaches is needed: DENO_DIR is set, so XDG_CACHE_HOME and HOME are not.
  const upToDenoDir = await run("--allow-env=WASMTIME_LIB,WASMTIME_DENO_CACHE,DENO_DIR");
  assert.equal(upToDenoDir.code, 0, upToDenoDir.stderr);
  const gap = await run("--allow-env=WASMTIME_LIB,WASMTIME_DENO_CACHE,HOME");
  assert.equal(gap.code, 3);
  assert.equal(suggested(gap.stderr), "--allow-env=DENO_DIR,XDG_CACHE_HOME");

  // A deny rule is named as such, with the way out.
  const denied = await run("--allow-env", "--deny-env=DENO_DIR");
  assert.equal(denied.code, 3);
  assert.match(denied.stderr, /a --deny-env rule \(or a refused prompt\) covers DENO_DIR, so drop/);

  // Everything granted and unset: nothing is ambiguous, and the error says so.
  const none = await runDeno(["run", "--no-prompt", "--allow-env", "--allow-ffi", script], {
    env: { ...UNSET, HOME: "" },
  });
  assert.equal(none.code, 3);
  assert.match(
    none.stderr,
    /LibraryError: .*WASMTIME_DENO_CACHE, DENO_DIR, XDG_CACHE_HOME, HOME are all unset/,
  );
});

Deno.test("loader and build-native refuse a cache entry others could have written", async () => {
  const { root, entry, library } = await copiedCache();
  const script = await tempScript(VERSION_SCRIPT);
  const env = { ...UNSET, WASMTIME_DENO_CACHE: root, PATH: await pathWith([]) };
  const line = [
    `--allow-env=${lookupVariables().join(",")}`,
    `--allow-read=${root}`,
    "--allow-ffi",
  ];
  const load = () => runDeno(["run", "--no-prompt", ...line, script], { env });
  const build = () => runDeno(["run", "-A", BUILD_NATIVE, "--print-path"], { env });
  assert.equal((await load()).code, 0);

  for (const [path, mode] of [[root, 0o770], [entry, 0o775], [library, 0o757]] as const) {
    const before = (await Deno.stat(path)).mode! & 0o7777;
    await Deno.chmod(path, mode);
    const loaded = await load();
    assert.equal(loaded.code, 3, loaded.stderr);
    assert.ok(
      loaded.stderr.includes(
        `refusing the cached library: ${path} is writable by other users (mode 0${
          mode.toString(8)
        })`,
      ),
      loaded.stderr,
    );
    assert.match(loaded.stderr, /Run chmod go-w /);
    const built = await build();
    assert.equal(built.code, 1, built.stderr);
    assert.ok(built.stderr.includes(`refusing the cache entry ${entry}: ${path} is writable`));
    assert.equal(built.stdout, "");
    await Deno.chmod(path, before);
  }

  // A library that is a link (here to an identical copy) is refused, whoever may write it.
  const elsewhere = join(await Deno.makeTempDir(), "libwasmtime.so");
  await Deno.rename(library, elsewhere);
  await Deno.symlink(elsewhere, library);
  const linked = await load();
  assert.equal(linked.code, 3);
  assert.ok(linked.stderr.includes(`${library} is a symlink`), linked.stderr);
  await Deno.remove(library);
  await Deno.rename(elsewhere, library);

  if (Deno.uid() === 0) {
    // A file someone else owns (chown needs root) is refused too.
    await Deno.chown(library, 65534, 65534);
    const foreign = await load();
    assert.equal(foreign.code, 3);
    assert.ok(foreign.stderr.includes(`${library} belongs to user 65534`), foreign.stderr);
  }
});
