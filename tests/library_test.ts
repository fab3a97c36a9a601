import assert from "node:assert/strict";
import { join } from "node:path";
import { version } from "../mod.ts";
import { NATIVE_CRATE } from "../src/package/native_crate.ts";
import { CRATE_FILES, describeCrate, parseManifest } from "../src/package/native_source.ts";
import { cacheEntry, libraryPath, MOD_URL, ROOT, runDeno, tempScript } from "./helpers.ts";

const VERSION_SCRIPT = `import { Engine, version } from ${JSON.stringify(MOD_URL)};
try {
  new Engine()[Symbol.dispose](); // opens the library
  console.log(version);
} catch (e) {
  console.error(e.name + ": " + e.message);
  Deno.exit(3);
}
`;

/** A cache dir holding a copy of the real cache entry, so tests can damage it freely. */
async function copiedCache(): Promise<{ root: string; entry: string; library: string }> {
  const source = await cacheEntry();
  const root = await Deno.makeTempDir({ prefix: "wasmtime-deno-cache-" });
  const entry = join(root, source.split("/").pop()!);
  await Deno.mkdir(entry);
  for (const file of ["libwasmtime.so", "manifest.json"]) {
    await Deno.copyFile(join(source, file), join(entry, file));
  }
  return { root, entry, library: join(entry, "libwasmtime.so") };
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
  assert.match(result.stderr, /build-native: building libwasmtime 48\.\d+\.\d+ \(v48\.\d+\.\d+\)/);
  assert.match(result.stderr, /build-native: built in [\d.]+ s/);
  const after = JSON.parse(await Deno.readTextFile(manifestPath));
  assert.notEqual(after.builtAt, before.builtAt);
  assert.equal(after.size, (await Deno.stat(library)).size);
  const again = await runDeno(["run", "-A", "tasks/build_native.ts"]);
  assert.match(again.stderr, /cached libwasmtime/);
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

Deno.test("build-native explains a missing cmake", async () => {
  const root = await Deno.makeTempDir({ prefix: "wasmtime-deno-cache-" });
  const result = await runDeno(["run", "-A", "tasks/build_native.ts"], {
    env: { WASMTIME_DENO_CACHE: root, PATH: await pathWith(["cargo", "rustc"]) },
  });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /cmake is needed.*\n.*apt-get install cmake/);
  assert.doesNotMatch(result.stderr, /^\s+at /m, "no stack trace");
});

Deno.test("build-native runs from a remote URL and builds exactly native/", async () => {
  const { root } = await copiedCache();
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
    assert.equal(result.code, 0, result.stderr);
    assert.ok(result.stdout.trim().startsWith(root), result.stdout);
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
  assert.match(result.stderr, /LibraryError: libwasmtime 48\.\d+\.\d+ is not built yet/);
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
  const entry = await cacheEntry();
  const script = await tempScript(VERSION_SCRIPT);
  const home = Deno.env.get("HOME")!;

  const noFfi = await runDeno(["run", "--allow-env=HOME", `--allow-read=${entry}`, script]);
  assert.equal(noFfi.code, 3, noFfi.stderr);
  assert.match(noFfi.stderr, /PermissionError: .*run again with --allow-ffi$/m);

  const scopedFfi = await runDeno([
    "run",
    "--allow-env=HOME",
    `--allow-read=${entry}`,
    `--allow-ffi=${library}`,
    script,
  ]);
  assert.equal(scopedFfi.code, 3, scopedFfi.stderr);
  assert.match(scopedFfi.stderr, /needs unscoped FFI access.*run again with --allow-ffi$/m);

  const noRead = await runDeno(["run", "--allow-env=HOME", "--allow-ffi", script]);
  assert.equal(noRead.code, 3, noRead.stderr);
  assert.match(noRead.stderr, new RegExp(`run again with --allow-read=${entry}`));

  const noEnv = await runDeno(["run", `--allow-read=${entry}`, "--allow-ffi", script], {
    env: { HOME: home },
  });
  assert.equal(noEnv.code, 3, noEnv.stderr);
  assert.match(noEnv.stderr, /run again with --allow-env=HOME/);
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
  const entry = await cacheEntry();
  const example = join(ROOT, "tests/fixtures/readme_example.ts");
  const readme = await Deno.readTextFile(join(ROOT, "README.md"));
  // The README documents these two command lines; run both verbatim (with paths filled in).
  assert.ok(readme.includes('--allow-env=HOME --allow-read="$(dirname "$LIB")" --allow-ffi app'));
  assert.ok(readme.includes("deno run --allow-env=WASMTIME_LIB --allow-ffi app.ts"));
  const viaCache = await runDeno([
    "run",
    "--no-prompt",
    "--allow-env=HOME",
    `--allow-read=${entry}`,
    "--allow-ffi",
    example,
  ]);
  assert.equal(viaCache.code, 0, viaCache.stderr);
  assert.equal(viaCache.stdout.trim(), "add(40, 2) = 42");
  const viaEnv = await runDeno(
    ["run", "--no-prompt", "--allow-env=WASMTIME_LIB", "--allow-ffi", example],
    { env: { WASMTIME_LIB: library } },
  );
  assert.equal(viaEnv.code, 0, viaEnv.stderr);
  assert.equal(viaEnv.stdout.trim(), "add(40, 2) = 42");
});
