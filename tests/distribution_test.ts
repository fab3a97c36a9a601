/**
 * The prebuilt-library path: release archives (tasks/package_native.ts), their verified download
 * and atomic install by build-native, against a local HTTP server and temporary caches. The
 * "build from source" fallback is faked by a PATH without cargo, so that it fails fast with the
 * error that names both ways out.
 */
import assert from "node:assert/strict";
import { gunzipSync, gzipSync } from "node:zlib";
import { join } from "node:path";
import { ArchiveError, packArchive, unpackArchive } from "../src/package/archive.ts";
import { cacheEntryName, libraryFileName } from "../src/package/cache.ts";
import { DownloadError, downloadPinned, sha256Hex } from "../src/package/download.ts";
import { entryFromArchive } from "../src/package/install.ts";
import { NATIVE_CRATE } from "../src/package/native_crate.ts";
import { PREBUILT } from "../src/package/prebuilt.ts";
import {
  archiveName,
  type PrebuiltManifest,
  RELEASE_TARGETS,
  targetLibraryName,
  targetOs,
} from "../src/package/release.ts";
import { packEntry } from "../tasks/package_native.ts";
import { cacheEntry, MOD_URL, ROOT, runDeno, tempScript } from "./helpers.ts";

const TARGET = Deno.build.target;
const ENTRY = cacheEntryName();
const BUILD_URL = new URL("../tasks/build_native.ts", import.meta.url).href;

let packedOnce: Promise<Awaited<ReturnType<typeof packEntry>>> | undefined;
/** This machine's cache entry packed as a release archive (read-only use of the real cache). */
function packed() {
  packedOnce ??= cacheEntry().then(packEntry);
  return packedOnce;
}

/** A manifest pinning `archive` for this target (what the release writes into prebuilt.ts). */
async function pinning(
  change: (m: PrebuiltManifest) => void = () => {},
): Promise<PrebuiltManifest> {
  const { description } = await packed();
  const manifest: PrebuiltManifest = {
    packageVersion: "0.0.0-test",
    wasmtimeVersion: NATIVE_CRATE.wasmtimeVersion,
    crateHash: NATIVE_CRATE.hash,
    baseUrl: "http://127.0.0.1:9/unused/",
    targets: {
      [TARGET]: {
        archive: description.archive,
        size: description.size,
        sha256: description.sha256,
        librarySize: description.librarySize,
        librarySha256: description.librarySha256,
        rustc: description.rustc,
      },
    },
  };
  change(manifest);
  return manifest;
}

/** A local release server; each mode is a path prefix: `/<mode>/<archive>`. */
function serve() {
  const requests: string[] = [];
  const stalled: ReadableStreamDefaultController<Uint8Array>[] = [];
  let other: Deno.HttpServer<Deno.NetAddr> | undefined;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      const [, mode, name] = new URL(request.url).pathname.split("/");
      requests.push(mode);
      const { archive } = await packed();
      if (name !== archiveName(TARGET)) return new Response("not found", { status: 404 });
      const half = archive.subarray(0, archive.length >> 1);
      const stream = (
        start: (c: ReadableStreamDefaultController<Uint8Array>) => void | Promise<void>,
      ) => new Response(new ReadableStream<Uint8Array>({ start }));
      switch (mode) {
        case "good":
          return new Response(archive);
        case "slow": // sixteen pieces over ~1.6 s, so that two clients overlap
          return stream(async (c) => {
            const step = Math.ceil(archive.length / 16);
            for (let i = 0; i < archive.length; i += step) {
              c.enqueue(archive.slice(i, i + step));
              await new Promise((r) => setTimeout(r, 100));
            }
            c.close();
          });
        case "short": // ends early, without a Content-Length to betray it
          return stream((c) => {
            c.enqueue(half.slice());
            c.close();
          });
        case "short-length": // a Content-Length that does not match the pin
          return new Response(half.slice());
        case "broken":
          return stream((c) => {
            c.enqueue(half.slice());
            c.error(new Error("connection reset"));
          });
        case "stall-body":
          return stream((c) => {
            c.enqueue(archive.slice(0, 65536));
            stalled.push(c);
          });
        case "stall-headers":
          await new Promise((r) => setTimeout(r, 3000));
          return new Response("late");
        case "error":
          return new Response("internal error", { status: 500 });
        case "redirect":
          other ??= Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
            requests.push("other");
            return new Response(archive);
          });
          return Response.redirect(`http://127.0.0.1:${other.addr.port}/good/${name}`, 302);
        default:
          return new Response("no such mode", { status: 404 });
      }
    },
  );
  const host = `127.0.0.1:${server.addr.port}`;
  return {
    host,
    url: (mode: string) => `http://${host}/${mode}/`,
    requests,
    async [Symbol.asyncDispose]() {
      for (const c of stalled) {
        try {
          c.close();
        } catch {
          // already cancelled by the client giving up
        }
      }
      await Promise.all([server.shutdown(), other?.shutdown()]);
    },
  };
}

const SCRIPT = `import { BuildError, buildNative } from ${JSON.stringify(BUILD_URL)};
const options = JSON.parse(Deno.args[0]);
try {
  const r = await buildNative({ ...options, log: (line) => console.error("build-native: " + line) });
  console.log(JSON.stringify({ source: r.source, libraryPath: r.libraryPath }));
} catch (e) {
  if (!(e instanceof BuildError)) throw e;
  console.error("BuildError: " + e.message);
  Deno.exit(1);
}
`;

const DOWNLOAD_ENV = "WASMTIME_DENO_DOWNLOAD,WASMTIME_DENO_DOWNLOAD_URL";

/** A PATH with deno only: the source build fails at once, naming what to install. */
async function denoOnly(): Promise<string> {
  const bin = await Deno.makeTempDir({ prefix: "wasmtime-deno-bin-" });
  await Deno.symlink(Deno.execPath(), join(bin, "deno"));
  return bin;
}

/** Every cache of this file lives here (each holds a ~30 MB library), removed at the end. */
const CACHES = Deno.makeTempDirSync({ prefix: "wasmtime-deno-dist-" });
globalThis.addEventListener("unload", () => Deno.removeSync(CACHES, { recursive: true }));

async function freshCache(): Promise<string> {
  const root = await Deno.makeTempDir({ dir: CACHES, prefix: "cache-" });
  await Deno.chmod(root, 0o755);
  return root;
}

/**
 * Runs build-native (through its API) in a subprocess with the narrow download line: the
 * cache's read/write, the lookup and download variables, the native/ sources (for the
 * fallback), and `net` when given; never --allow-ffi.
 */
async function buildIn(
  root: string,
  options: Record<string, unknown>,
  { net, env = {}, envFlag }: { net?: string; env?: Record<string, string>; envFlag?: string } = {},
) {
  const script = await tempScript(SCRIPT);
  const flags = [
    `--allow-env=${envFlag ?? `WASMTIME_DENO_CACHE,DENO_DIR,XDG_CACHE_HOME,HOME,${DOWNLOAD_ENV}`}`,
    `--allow-read=${root},${join(ROOT, "native")}`,
    `--allow-write=${root}`,
    "--allow-run=cargo,rustc,cmake",
    ...(net ? [`--allow-net=${net}`] : []),
  ];
  const started = performance.now();
  const result = await runDeno(["run", ...flags, script, JSON.stringify(options)], {
    env: { WASMTIME_DENO_CACHE: root, PATH: await denoOnly(), WASMTIME_DENO_DOWNLOAD: "1", ...env },
  });
  return { ...result, seconds: (performance.now() - started) / 1000 };
}

async function listing(root: string): Promise<string[]> {
  const names: string[] = [];
  for await (const item of Deno.readDir(root)) names.push(item.name);
  return names.sort();
}

/** Asserts the fallback's error: exit 1, the download's reason, then the missing toolchain. */
function assertBothWaysFailed(result: { code: number; stderr: string }, reason: RegExp) {
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /BuildError: cannot get libwasmtime for .*; neither way worked\./);
  assert.match(
    result.stderr,
    new RegExp(`1\\. Prebuilt download \\(no Rust needed\\): (.*)${reason.source}`),
  );
  assert.match(result.stderr, /2\. Build from source: cargo and rustc are needed.*\n.*rustup\.rs/);
  assert.doesNotMatch(result.stderr, /^\s+at /m, "no stack trace");
}

/** Asserts that `root` holds no entry, no staging directory and no trash. */
async function assertNothingInstalled(root: string) {
  const names = await listing(root);
  assert.ok(!names.includes(ENTRY), `no entry was installed: ${names}`);
  assert.deepEqual(names.filter((n) => n.startsWith(".staging") || n.startsWith(".trash")), []);
}

const LOAD_SCRIPT = `import { Engine, version } from ${JSON.stringify(MOD_URL)};
new Engine()[Symbol.dispose]();
console.log(version);
`;

/** Loads the library from the cache `root` with an app's narrow line (no net, no write). */
async function loadFrom(root: string) {
  const script = await tempScript(LOAD_SCRIPT);
  return await runDeno([
    "run",
    "--allow-env=WASMTIME_LIB,WASMTIME_DENO_CACHE,DENO_DIR,XDG_CACHE_HOME,HOME",
    `--allow-read=${root}`,
    "--allow-ffi",
    script,
  ], { env: { WASMTIME_DENO_CACHE: root } });
}

// ---- names, archives and the manifest (in process) ----

Deno.test("distribution: library names and OS by target triple (every release target)", () => {
  const expected: Record<string, [string, string]> = {
    "x86_64-unknown-linux-gnu": ["linux", "libwasmtime.so"],
    "aarch64-unknown-linux-gnu": ["linux", "libwasmtime.so"],
    "x86_64-apple-darwin": ["darwin", "libwasmtime.dylib"],
    "aarch64-apple-darwin": ["darwin", "libwasmtime.dylib"],
    "x86_64-pc-windows-msvc": ["windows", "wasmtime.dll"],
  };
  assert.deepEqual([...RELEASE_TARGETS].sort(), Object.keys(expected).sort());
  for (const [target, [os, library]] of Object.entries(expected)) {
    assert.equal(targetOs(target), os, target);
    assert.equal(targetLibraryName(target), library, target);
    assert.equal(
      archiveName(target),
      `libwasmtime-${NATIVE_CRATE.wasmtimeVersion}-${
        NATIVE_CRATE.hash.slice(0, 16)
      }-${target}.tar.gz`,
    );
  }
  assert.equal(libraryFileName(), targetLibraryName(TARGET), "the loader agrees on this machine");
  assert.throws(() => targetOs("wasm32-unknown-unknown"), /unknown target/);
});

Deno.test("distribution: archives are deterministic, round-trip, and unpack with tar", async () => {
  const files = [
    { path: "top/b.txt", bytes: new TextEncoder().encode("b"), executable: false },
    { path: "top/a.so", bytes: new Uint8Array(1000).fill(7), executable: true },
    { path: `top/include/${"deep/".repeat(25)}x.h`, bytes: new Uint8Array(3), executable: false },
  ];
  const one = packArchive(files);
  const two = packArchive([...files].reverse());
  assert.equal(sha256Hex(one), sha256Hex(two), "input order does not matter");
  const back = unpackArchive(one);
  assert.deepEqual(back.map((f) => f.path), [...files.map((f) => f.path)].sort());
  assert.deepEqual(back.find((f) => f.path === "top/a.so"), files[1]);
  const dir = await Deno.makeTempDir();
  const path = join(dir, "x.tar.gz");
  await Deno.writeFile(path, one);
  const tar = await new Deno.Command("tar", { args: ["-xzf", path, "-C", dir], stderr: "piped" })
    .output().catch(() => undefined);
  if (tar) {
    assert.ok(tar.success, new TextDecoder().decode(tar.stderr));
    assert.equal(await Deno.readTextFile(join(dir, "top/b.txt")), "b");
    assert.equal((await Deno.stat(join(dir, "top/a.so"))).mode! & 0o777, 0o755);
  }
});

/** A gzip'd tar with one hand-made header (what a hostile archive could hold). */
function hostile(
  name: string,
  { type = "0", link = "", data = new Uint8Array(4), fix = true, magic = "ustar\0" } = {},
): Uint8Array {
  const header = new Uint8Array(512);
  const put = (offset: number, text: string) => header.set(new TextEncoder().encode(text), offset);
  put(0, name);
  put(100, "0000644\0");
  put(108, "0000000\0");
  put(116, "0000000\0");
  put(124, `${data.length.toString(8).padStart(11, "0")}\0`);
  put(136, "00000000000\0");
  put(156, type);
  put(157, link);
  put(257, magic);
  put(263, "00");
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : header[i];
  put(148, `${(fix ? sum : sum + 1).toString(8).padStart(6, "0")}\0 `);
  const body = new Uint8Array(Math.ceil(data.length / 512) * 512);
  body.set(data);
  const tar = new Uint8Array(512 + body.length + 1024);
  tar.set(header);
  tar.set(body, 512);
  return new Uint8Array(gzipSync(tar));
}

Deno.test("distribution: the archive reader refuses traversal, links, odd types and damage", () => {
  const cases: [Uint8Array, RegExp][] = [
    [hostile("../evil.so"), /has a "\.\." path segment; refused/],
    [hostile("top/../../evil.so"), /has a "\.\." path segment/],
    [hostile("/etc/evil.so"), /has an absolute path/],
    [hostile("C:/evil.dll"), /has an absolute path/],
    [hostile("top\\..\\evil.dll"), /backslash/],
    [hostile("top//x"), /"" path segment/],
    [
      hostile("top/lib.so", { type: "2", link: "/etc/passwd" }),
      /symbolic link .*links are refused/,
    ],
    [hostile("top/lib.so", { type: "1", link: "top/other" }), /hard link/],
    [hostile("top/dev", { type: "3" }), /tar type "3"; only files/],
    [hostile("top/pax", { type: "x" }), /tar type "x"/],
    [hostile("top/lib.so", { fix: false }), /wrong checksum/],
    [hostile("top/lib.so", { magic: "ustar " }), /not a POSIX ustar/],
    [new TextEncoder().encode("not gzip at all"), /not valid gzip/],
  ];
  for (const [archive, message] of cases) {
    assert.throws(() => unpackArchive(archive), (e: unknown) => {
      assert.ok(e instanceof ArchiveError, String(e));
      assert.match((e as Error).message, message);
      return true;
    });
  }
  // A tar cut inside a file, and one without its end marker.
  const good = new Uint8Array(gunzipSync(hostile("top/x", { data: new Uint8Array(5000) })));
  assert.throws(
    () => unpackArchive(new Uint8Array(gzipSync(good.subarray(0, 2048)))),
    /truncated inside top\/x/,
  );
  assert.throws(
    () => unpackArchive(new Uint8Array(gzipSync(good.subarray(0, 512 + 5120)))),
    /no end-of-archive marker/,
  );
  const twice = packArchive([{ path: "top/a", bytes: new Uint8Array(1), executable: false }]);
  const tar = new Uint8Array(gunzipSync(twice));
  const doubled = new Uint8Array(tar.length + 1024);
  doubled.set(tar.subarray(0, 1024));
  doubled.set(tar.subarray(0, 1024), 1024);
  assert.throws(() => unpackArchive(new Uint8Array(gzipSync(doubled))), /holds top\/a twice/);
});

Deno.test("distribution: only the entry's own files are taken, and only the pinned library", async () => {
  const { archive } = await packed();
  const pinned = (await pinning()).targets[TARGET]!;
  const files = unpackArchive(archive);
  const { manifest, files: inner } = entryFromArchive(files, ENTRY, TARGET, pinned);
  assert.equal(manifest.sha256, pinned.librarySha256);
  assert.ok(inner.some((f) => f.path === "include/wasmtime.h"));
  assert.equal(manifest.builtAt, undefined, "the archive's manifest carries no build time");

  const extra = [...files, {
    path: `${ENTRY}/../escape`,
    bytes: new Uint8Array(1),
    executable: false,
  }];
  assert.throws(() => entryFromArchive(extra, ENTRY, TARGET, pinned), /not part of cache entry/);
  const stray = [...files, { path: `${ENTRY}/run.sh`, bytes: new Uint8Array(1), executable: true }];
  assert.throws(() => entryFromArchive(stray, ENTRY, TARGET, pinned), /not part of cache entry/);
  assert.throws(
    () => entryFromArchive(files, ENTRY, TARGET, { ...pinned, librarySha256: "0".repeat(64) }),
    /is not the pinned one/,
  );
  const other = files.map((f) =>
    f.path.endsWith("manifest.json")
      ? { ...f, bytes: new TextEncoder().encode(JSON.stringify({ ...manifest, target: "x" })) }
      : f
  );
  assert.throws(() => entryFromArchive(other, ENTRY, TARGET, pinned), /says target "x"/);
});

Deno.test("distribution: the shipped manifest pins real archives only, for this crate and version", async () => {
  const config = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
  assert.equal(PREBUILT.packageVersion, config.version, "prebuilt.ts is for this package version");
  assert.equal(PREBUILT.crateHash, NATIVE_CRATE.hash, "prebuilt.ts is for this native crate");
  assert.equal(PREBUILT.wasmtimeVersion, NATIVE_CRATE.wasmtimeVersion);
  assert.deepEqual(Object.keys(PREBUILT.targets).sort(), [...RELEASE_TARGETS].sort());
  for (const [target, pinned] of Object.entries(PREBUILT.targets)) {
    if (!pinned) continue;
    assert.equal(pinned.archive, archiveName(target));
    assert.match(pinned.sha256, /^[0-9a-f]{64}$/);
    assert.match(pinned.librarySha256, /^[0-9a-f]{64}$/);
  }
  // The pin for this machine was made from this machine's build: packing the same library
  // again gives the same archive, byte for byte.
  const mine = PREBUILT.targets[TARGET];
  const { description } = await packed();
  if (mine && mine.librarySha256 === description.librarySha256) {
    assert.equal(description.sha256, mine.sha256);
    assert.equal(description.size, mine.size);
  } else {
    console.log(`the cached library is not the pinned one for ${TARGET}; reproduction not checked`);
  }
});

// ---- build-native against a local server (subprocesses, narrow permissions) ----

Deno.test("distribution: a good archive is downloaded, verified, installed and loads (no Rust, no ffi)", async () => {
  await using server = serve();
  const root = await freshCache();
  // A staging directory a crashed run left behind is cleaned up.
  await Deno.mkdir(join(root, `.staging-${ENTRY}-crashed`), { mode: 0o755 });
  const options = { prebuilt: await pinning(), downloadUrl: server.url("good") };
  const result = await buildIn(root, options, { net: server.host });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout).source, "download");
  assert.match(
    result.stderr,
    /downloading http:\/\/127\.0\.0\.1:\d+\/good\/libwasmtime-.*\.tar\.gz \(\d+\.\d MB\)/,
  );
  assert.match(result.stderr, /50% \(\d+\.\d MB of \d+\.\d MB\)/);
  assert.match(result.stderr, /100% /);
  assert.match(result.stderr, /phase 2\/2: verified .* \(sha256 [0-9a-f]{64}\); installing/);
  assert.deepEqual(await listing(root), [`.lock-${ENTRY}`, ENTRY]);
  const manifest = JSON.parse(await Deno.readTextFile(join(root, ENTRY, "manifest.json")));
  assert.equal(manifest.installedFrom, `${server.url("good")}${archiveName(TARGET)}`);
  assert.equal(
    sha256Hex(await Deno.readFile(join(root, ENTRY, libraryFileName()))),
    options.prebuilt.targets[TARGET]!.librarySha256,
  );
  for (const path of ["", "/manifest.json", `/${libraryFileName()}`]) {
    const mode = (await Deno.stat(join(root, ENTRY) + path)).mode! & 0o777;
    assert.equal(mode & 0o022, 0, `${path || "entry"} is not group/world-writable`);
  }
  const loaded = await loadFrom(root);
  assert.equal(loaded.code, 0, loaded.stderr);
  assert.equal(loaded.stdout.trim(), NATIVE_CRATE.wasmtimeVersion);

  const again = await buildIn(root, options, { net: server.host });
  assert.equal(JSON.parse(again.stdout).source, "cache");
  assert.deepEqual(server.requests, ["good"], "the second run downloads nothing");
});

Deno.test("distribution: a corrupt cached entry is replaced by the verified download", async () => {
  await using server = serve();
  const root = await freshCache();
  const source = await cacheEntry();
  await Deno.mkdir(join(root, ENTRY), { mode: 0o755 });
  for (const file of [libraryFileName(), "manifest.json"]) {
    await Deno.copyFile(join(source, file), join(root, ENTRY, file));
  }
  const library = join(root, ENTRY, libraryFileName());
  const bytes = await Deno.readFile(library);
  bytes[bytes.length >> 1] ^= 0xff;
  await Deno.writeFile(library, bytes);
  const result = await buildIn(
    root,
    { prebuilt: await pinning(), downloadUrl: server.url("good") },
    { net: server.host },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /is corrupt \(sha256 .*\): rebuilding/);
  assert.equal(JSON.parse(result.stdout).source, "download");
  assert.equal(
    sha256Hex(await Deno.readFile(library)),
    (await pinning()).targets[TARGET]!.librarySha256,
  );
  assert.deepEqual(await listing(root), [`.lock-${ENTRY}`, ENTRY], "no trash left behind");
});

Deno.test("distribution: a wrong sha256 is refused before anything is unpacked", async () => {
  await using server = serve();
  const root = await freshCache();
  const wrong = await pinning((m) => {
    m.targets[TARGET] = { ...m.targets[TARGET]!, sha256: "ab".repeat(32) };
  });
  const result = await buildIn(root, { prebuilt: wrong, downloadUrl: server.url("good") }, {
    net: server.host,
  });
  assertBothWaysFailed(
    result,
    /the download failed: the archive's sha256 is [0-9a-f]{64}, but this package pins (ab){32}; it was not used/,
  );
  await assertNothingInstalled(root);
});

Deno.test("distribution: truncated and broken downloads are refused", async () => {
  await using server = serve();
  const prebuilt = await pinning();
  const cases: [string, RegExp][] = [
    ["short", /the download is truncated: \d+ of \d+ bytes arrived/],
    ["short-length", /http:\/\/\S+\/short-length\/\S+ is \d+ bytes, but this package pins \d+/],
    ["broken", /the download broke off after \d+ of \d+ bytes/],
  ];
  for (const [mode, reason] of cases) {
    const root = await freshCache();
    const result = await buildIn(root, { prebuilt, downloadUrl: server.url(mode) }, {
      net: server.host,
    });
    assertBothWaysFailed(result, new RegExp(`the download failed: ${reason.source}`));
    await assertNothingInstalled(root);
  }
});

Deno.test("distribution: a server error falls back to the source build", async () => {
  await using server = serve();
  const root = await freshCache();
  const result = await buildIn(root, {
    prebuilt: await pinning(),
    downloadUrl: server.url("error"),
  }, {
    net: server.host,
  });
  assertBothWaysFailed(result, /the download failed: http:\/\/.*\/error\/.* answered HTTP 500/);
  assert.match(result.stderr, /answered HTTP 500.*; building from source instead/);
  assert.match(result.stderr, /phase 1\/4: writing the native crate sources/);
  await assertNothingInstalled(root);
});

Deno.test("distribution: a stalled server is given up on after the idle timeout", async () => {
  await using server = serve();
  const prebuilt = await pinning();
  for (
    const [mode, reason] of [
      ["stall-body", /sent nothing for 0\.5 s after 65536 bytes; gave up/],
      ["stall-headers", /sent nothing for 0\.5 s before answering; gave up/],
    ] as const
  ) {
    const root = await freshCache();
    const result = await buildIn(root, {
      prebuilt,
      downloadUrl: server.url(mode),
      downloadTimeout: 500,
    }, { net: server.host });
    assertBothWaysFailed(
      result,
      new RegExp(`the download failed: 127\\.0\\.0\\.1:\\d+ ${reason.source}`),
    );
    assert.ok(result.seconds < 15, `did not hang (${result.seconds.toFixed(1)} s)`);
    console.log(`${mode}: gave up and reported in ${result.seconds.toFixed(2)} s`);
    await assertNothingInstalled(root);
  }
});

Deno.test("distribution: without network access it names the exact --allow-net, then falls back", async () => {
  await using server = serve();
  const prebuilt = await pinning();
  // No --allow-net at all: nothing is requested.
  const root = await freshCache();
  const none = await buildIn(root, { prebuilt, downloadUrl: server.url("good") });
  assertBothWaysFailed(
    none,
    new RegExp(
      `downloading http://${server.host}/good/\\S+ needs network access to ${server.host}: ` +
        `run again with --allow-net=${server.host} to download the verified library`,
    ),
  );
  assert.deepEqual(server.requests, []);
  // Allowed for the release host, but it redirects elsewhere: both hosts are named.
  const redirected = await buildIn(await freshCache(), {
    prebuilt,
    downloadUrl: server.url("redirect"),
  }, {
    net: server.host,
  });
  assertBothWaysFailed(
    redirected,
    new RegExp(`run again with --allow-net=${server.host},127\\.0\\.0\\.1:\\d+ to download`),
  );
  assert.deepEqual(server.requests, ["redirect"], "the other host was never contacted");
  // Unreachable (nothing listens there).
  const refused = await buildIn(await freshCache(), {
    prebuilt,
    downloadUrl: "http://127.0.0.1:9/",
  }, { net: "127.0.0.1:9" });
  assertBothWaysFailed(refused, /the download failed: cannot reach 127\.0\.0\.1:9: /);
  await assertNothingInstalled(root);
});

Deno.test("distribution: a redirect to a granted host is followed", async () => {
  await using server = serve();
  const root = await freshCache();
  const result = await buildIn(root, {
    prebuilt: await pinning(),
    downloadUrl: server.url("redirect"),
  }, {
    net: "127.0.0.1",
  });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(server.requests, ["redirect", "other"]);
});

Deno.test("distribution: no manifest entry for this target, or one for another crate, builds from source", async () => {
  await using server = serve();
  const missing = await pinning((m) => {
    m.targets = { [TARGET]: null, "aarch64-apple-darwin": m.targets[TARGET] };
  });
  const result = await buildIn(await freshCache(), {
    prebuilt: missing,
    downloadUrl: server.url("good"),
  }, {
    net: server.host,
  });
  assertBothWaysFailed(
    result,
    new RegExp(
      `this package version ships no prebuilt library for ${TARGET} \\(only for aarch64-apple-darwin\\)`,
    ),
  );
  const stale = await pinning((m) => {
    m.crateHash = "0".repeat(64);
  });
  const other = await buildIn(await freshCache(), {
    prebuilt: stale,
    downloadUrl: server.url("good"),
  }, {
    net: server.host,
  });
  assertBothWaysFailed(
    other,
    /the prebuilt libraries of this package were built from native crate 0{16}/,
  );
  assert.deepEqual(server.requests, [], "nothing was downloaded");
});

Deno.test("distribution: WASMTIME_DENO_DOWNLOAD=0 turns downloads off; unreadable settings are reported", async () => {
  await using server = serve();
  const prebuilt = await pinning();
  const off = await buildIn(await freshCache(), { prebuilt }, {
    net: server.host,
    env: { WASMTIME_DENO_DOWNLOAD: "0", WASMTIME_DENO_DOWNLOAD_URL: server.url("good") },
  });
  assertBothWaysFailed(
    off,
    /downloading the prebuilt library is turned off \(WASMTIME_DENO_DOWNLOAD=0\)/,
  );
  const optionOff = await buildIn(await freshCache(), { prebuilt, download: false }, {
    net: server.host,
  });
  assertBothWaysFailed(optionOff, /turned off \(download: false\)/);
  // The base URL from the environment is used when the option is absent.
  const fromEnv = await buildIn(await freshCache(), { prebuilt }, {
    net: server.host,
    env: { WASMTIME_DENO_DOWNLOAD_URL: server.url("good") },
  });
  assert.equal(fromEnv.code, 0, fromEnv.stderr);
  assert.deepEqual(server.requests, ["good"]);
  // A setting Deno does not let it read may be set: reported, not skipped.
  const unreadable = await buildIn(await freshCache(), { prebuilt }, {
    net: server.host,
    env: { WASMTIME_DENO_DOWNLOAD_URL: server.url("good") },
    envFlag: "WASMTIME_DENO_CACHE",
  });
  assert.equal(unreadable.code, 1);
  assert.match(
    unreadable.stderr,
    /WASMTIME_DENO_DOWNLOAD and WASMTIME_DENO_DOWNLOAD_URL decide whether and from where.*run again with --allow-env=WASMTIME_DENO_DOWNLOAD,WASMTIME_DENO_DOWNLOAD_URL/,
  );
  assert.deepEqual(server.requests, ["good"], "nothing more was downloaded");
  const bad = await buildIn(await freshCache(), { prebuilt }, {
    env: { WASMTIME_DENO_DOWNLOAD: "maybe" },
  });
  assert.match(bad.stderr, /WASMTIME_DENO_DOWNLOAD must be 0 or 1, not "maybe"/);
});

Deno.test("distribution: two concurrent first runs download once and both get a whole entry", async () => {
  await using server = serve();
  const root = await freshCache();
  const options = { prebuilt: await pinning(), downloadUrl: server.url("slow") };
  const first = buildIn(root, options, { net: server.host });
  await new Promise((r) => setTimeout(r, 150));
  // Meanwhile the loader sees no entry (not half of one).
  const meanwhile = await listing(root);
  assert.ok(!meanwhile.includes(ENTRY), `no entry before the rename: ${meanwhile}`);
  const second = buildIn(root, options, { net: server.host });
  const results = await Promise.all([first, second]);
  for (const result of results) assert.equal(result.code, 0, result.stderr);
  const sources = results.map((r) => JSON.parse(r.stdout).source).sort();
  assert.deepEqual(sources, ["cache", "download"]);
  assert.deepEqual(server.requests, ["slow"], "one download");
  const waiter = results.find((r) => JSON.parse(r.stdout).source === "cache")!;
  assert.match(waiter.stderr, /waiting for another process that is installing this entry/);
  assert.deepEqual(await listing(root), [`.lock-${ENTRY}`, ENTRY]);
  const loaded = await loadFrom(root);
  assert.equal(loaded.code, 0, loaded.stderr);
});

Deno.test("distribution: the loader never downloads; its error names build-native's download", async () => {
  const root = await freshCache();
  const loaded = await loadFrom(root);
  assert.notEqual(loaded.code, 0);
  assert.match(loaded.stderr, /is not installed yet/);
  assert.match(
    loaded.stderr,
    PREBUILT.targets[TARGET]
      ? /downloads the verified prebuilt library for .* \(no Rust needed\) or builds it from source/
      : /builds it from source \(this version ships no prebuilt library/,
  );
});

Deno.test("distribution: a redirect to a file: or data: URL is refused, not read", async () => {
  // fetch reads file: URLs: a server (or whoever answers for an http mirror) could make the
  // installer read a local file and print its sha256 and size.
  const secret = await Deno.makeTempFile();
  await Deno.writeTextFile(secret, "secret");
  const targets = [`file://${secret}`, "data:application/octet-stream,secret"];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => Response.redirect(targets[Number(new URL(request.url).pathname.slice(1))], 302),
  );
  try {
    for (const [i, target] of targets.entries()) {
      const url = new URL(`http://127.0.0.1:${server.addr.port}/${i}`);
      await assert.rejects(
        downloadPinned(url, { size: 6, sha256: sha256Hex(new TextEncoder().encode("secret")) }, {
          idleTimeout: 5_000,
          log: () => {},
        }),
        (error: unknown) =>
          error instanceof DownloadError &&
          error.message.includes(`redirected to ${new URL(target).protocol} URL`),
      );
    }
  } finally {
    await server.shutdown();
    await Deno.remove(secret);
  }
});
