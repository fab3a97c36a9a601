/**
 * Gets libwasmtime for this machine into the cache, once per Wasmtime version, crate contents
 * and target: a valid cache entry is reused; otherwise the release archive for this target is
 * downloaded (when this package version ships one), verified against the sha256 pinned in the
 * package source and installed; otherwise the library is built from the pinned `native/` crate
 * with cargo. When neither works, one error names both ways out. Installs are atomic (staged,
 * then renamed into place) and two processes doing the first run at once do the work once.
 *
 * Flags: `--force` builds from source even when the cache is valid; `--print-path` prints only
 * the library path; `--print-flags` prints only the permission flags an app needs to load it on
 * this machine (`--allow-env=<the lookup variables> --allow-read=<cache root> --allow-ffi`,
 * stable across upgrades); `--quiet` prints nothing but errors. Both print options reuse a
 * cached library, and get it first when it is not cached (progress on stderr, so stdout holds
 * only the answer). The cache is found like the loader finds it: `WASMTIME_DENO_CACHE`, else
 * `DENO_DIR`, else Deno's cache directory, + `/wasmtime-deno`. Downloads: `WASMTIME_DENO_DOWNLOAD=0`
 * turns them off, `WASMTIME_DENO_DOWNLOAD_URL` names a mirror (both read only when a download
 * would happen; one that cannot be read is reported, not skipped), and they need only
 * `--allow-net` for the release host (and the host it redirects to).
 *
 * The crate sources are read next to this module, whether it was loaded from disk or from a
 * URL (JSR, an HTTP server), and must hash to the value this package was published with.
 *
 @example From the command line
 * ```sh
 * deno task build-native                 # in a clone of wasmtime-deno
 * deno run -A jsr:@wasmtime-deno/wasmtime/build-native   # in a project that uses the package
 * ```
 *
 * @example From a script (a setup step that needs the library path)
 * ```ts
 * import { buildNative } from "@wasmtime-deno/wasmtime/build-native";
 * const { libraryPath, source, permissionFlags } = await buildNative({ log: console.error });
 * console.log(source, libraryPath); // "cache", "download" or "build"
 * console.log(`run your app with: deno run ${permissionFlags.join(" ")} app.ts`);
 * ```
 *
 * @module
 */
import { createHash } from "node:crypto";
import { dirname, join, resolve } from "node:path";
import {
  appFlags,
  cacheEntryName,
  CacheLocationError,
  type CacheManifest,
  cacheRoot,
  libraryFileName,
  untrustedEntry,
} from "../src/package/cache.ts";
import { ArchiveError, type ArchiveFile, unpackArchive } from "../src/package/archive.ts";
import { DownloadError, downloadPinned } from "../src/package/download.ts";
import {
  commitStaging,
  entryFromArchive,
  makeStaging,
  removeLeftovers,
  withEntryLock,
  writeFiles,
} from "../src/package/install.ts";
import { NATIVE_CRATE } from "../src/package/native_crate.ts";
import { CRATE_FILES, describeCrate } from "../src/package/native_source.ts";
import { PREBUILT } from "../src/package/prebuilt.ts";
import type { PrebuiltArchive, PrebuiltManifest } from "../src/package/release.ts";

export type { CacheManifest, PrebuiltArchive, PrebuiltManifest };

/** Upstream Wasmtime release tag the pinned crate version corresponds to. */
const UPSTREAM_TAG = `v${NATIVE_CRATE.wasmtimeVersion}`;

/** Environment variable that turns the prebuilt download off (`0`) or on (`1`, the default). */
const DOWNLOAD_ENV = "WASMTIME_DENO_DOWNLOAD";
/** Environment variable overriding the base URL of the release archives (a mirror). */
const DOWNLOAD_URL_ENV = "WASMTIME_DENO_DOWNLOAD_URL";

/** Options of {@linkcode buildNative}. */
export interface BuildOptions {
  /** Build from source even if a valid cache entry exists (no download). */
  force?: boolean;
  /** Progress output; `undefined` silences it. */
  log?: (line: string) => void;
  /** Cache root; default from {@linkcode cacheRoot}. */
  cacheDir?: string;
  /**
   * Whether a missing library may be downloaded (verified against the sha256 this package
   * pins) before building from source. Default: `$WASMTIME_DENO_DOWNLOAD` (`0` turns it off),
   * else true.
   */
  download?: boolean;
  /**
   * Base URL of the release archives, e.g. a mirror (`<url>/<archive name>` is fetched).
   * Default: `$WASMTIME_DENO_DOWNLOAD_URL`, else this version's GitHub release.
   */
  downloadUrl?: string;
  /** Give up on a download when no byte arrives for this many milliseconds. Default 30 000. */
  downloadTimeout?: number;
  /**
   * The sha256 manifest downloads are verified against. Default: the one shipped in this
   * package (`src/package/prebuilt.ts`); pass your own to install archives you built and host
   * yourself. Never fetched: a manifest downloaded next to the archive would prove nothing.
   */
  prebuilt?: PrebuiltManifest;
}

/** What {@linkcode buildNative} produced or found. */
export interface BuildResult {
  /** Absolute path of the library. */
  libraryPath: string;
  /** Where the crate sources were materialized and built from, when this call built it. */
  crateDir?: string;
  /** True when a valid cache entry was reused (`source === "cache"`). */
  cached: boolean;
  /** Where the library came from: the cache, a verified download, or a build from source. */
  source: "cache" | "download" | "build";
  /** The entry's manifest. */
  manifest: CacheManifest;
  /**
   * The permission flags an app needs to load this library from the cache on this machine
   * (what `--print-flags` prints), e.g. `["--allow-env=WASMTIME_LIB,…,HOME",
   * "--allow-read=/home/me/.cache/deno/wasmtime-deno", "--allow-ffi"]`.
   */
  permissionFlags: string[];
}

/** A failure with a message meant for the user, printed without a stack trace. */
export class BuildError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "BuildError";
  }
}

async function readCrateFile(file: string): Promise<Uint8Array> {
  const url = new URL(`../native/${file}`, import.meta.url);
  if (url.protocol === "file:") return await Deno.readFile(url);
  const response = await fetch(url);
  if (!response.ok) {
    await response.body?.cancel();
    throw new BuildError(`cannot fetch ${url}: HTTP ${response.status}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

/** Writes the crate sources into `<cache>/crates/<hash16>/`, verifying the package hash. */
async function materializeCrate(root: string): Promise<string> {
  const files = new Map<string, Uint8Array>();
  const description = await describeCrate(async (file) => {
    const bytes = await readCrateFile(file);
    files.set(file, bytes);
    return bytes;
  });
  if (description.hash !== NATIVE_CRATE.hash) {
    throw new BuildError(
      `native/ does not match src/package/native_crate.ts (hash ${
        description.hash.slice(0, 16)
      } vs ` +
        `${NATIVE_CRATE.hash.slice(0, 16)}); run \`deno task sync-native\` after editing native/`,
    );
  }
  const crateDir = join(root, "crates", NATIVE_CRATE.hash.slice(0, 16));
  for (const file of CRATE_FILES) {
    const target = join(crateDir, file);
    await Deno.mkdir(dirname(target), { recursive: true, mode: 0o755 });
    await Deno.writeFile(target, files.get(file)!);
  }
  return crateDir;
}

async function sha256File(path: string): Promise<string> {
  return createHash("sha256").update(await Deno.readFile(path)).digest("hex");
}

/** Throws unless only the cache's owner can have written the entry (see src/package/cache.ts). */
function requireTrusted(root: string, entry: string): void {
  const untrusted = untrustedEntry(root, entry, ["manifest.json", libraryFileName()]);
  if (untrusted) throw new BuildError(`refusing the cache entry ${entry}: ${untrusted}`);
}

async function readValidManifest(
  root: string,
  entry: string,
  log: (line: string) => void,
): Promise<CacheManifest | undefined> {
  let manifest: CacheManifest;
  try {
    manifest = JSON.parse(await Deno.readTextFile(join(entry, "manifest.json")));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      log(`cache manifest in ${entry} is unreadable (${(error as Error).message}): rebuilding`);
    }
    return undefined;
  }
  try {
    requireTrusted(root, entry);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      log(`cached library in ${entry} is missing (${error.message}): rebuilding`);
      return undefined;
    }
    throw error;
  }
  try {
    const actual = await sha256File(join(entry, manifest.library));
    if (actual === manifest.sha256 && manifest.crateHash === NATIVE_CRATE.hash) return manifest;
    log(
      `cached library ${join(entry, manifest.library)} is corrupt (sha256 ${
        actual.slice(0, 12)
      }…, manifest says ${manifest.sha256.slice(0, 12)}…): rebuilding`,
    );
  } catch (error) {
    log(`cached library in ${entry} is missing (${(error as Error).message}): rebuilding`);
  }
  return undefined;
}

async function commandVersion(command: string, args: string[]): Promise<string | undefined> {
  try {
    const { success, stdout } = await new Deno.Command(command, { args, stdout: "piped" })
      .output();
    return success ? new TextDecoder().decode(stdout).trim() : undefined;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

async function checkToolchain(): Promise<string> {
  const rustc = await commandVersion("rustc", ["--version"]);
  const cargo = await commandVersion("cargo", ["--version"]);
  if (!cargo || !rustc) {
    throw new BuildError(
      "cargo and rustc are needed to build libwasmtime but were not found on PATH.\n" +
        "Install Rust 1.95 or newer with https://rustup.rs (curl --proto '=https' --tlsv1.2 " +
        "-sSf https://sh.rustup.rs | sh), open a new shell, and run this again.",
    );
  }
  if (!await commandVersion("cmake", ["--version"])) {
    throw new BuildError(
      "cmake is needed by wasmtime-c-api-impl's build script but was not found on PATH.\n" +
        "Install it (Debian/Ubuntu: sudo apt-get install cmake; Fedora: sudo dnf install " +
        "cmake; macOS: brew install cmake) and run this again.",
    );
  }
  return rustc;
}

/**
 * Where `wasmtime-c-api-impl`'s build script installed the C headers in this build: the
 * `out_dir` of its `build-script-executed` message (cargo emits it for fresh build scripts too),
 * so the right one of several hashed `build/wasmtime-c-api-impl-*` dirs is taken, and the
 * library need not carry the path (which made builds differ by directory).
 */
function headerDir(cargoJson: string): string {
  for (const line of cargoJson.split("\n")) {
    if (!line.startsWith("{")) continue;
    const message = JSON.parse(line);
    // Package ids look like `registry+https://…#wasmtime-c-api-impl@48.0.8`.
    if (
      message.reason === "build-script-executed" &&
      /[#/ ]wasmtime-c-api-impl[@ ]/.test(` ${message.package_id}`)
    ) return join(message.out_dir, "include");
  }
  throw new BuildError("cargo did not report where wasmtime-c-api-impl installed its C headers");
}

/**
 * The rustc flags of the build: the caller's (`CARGO_ENCODED_RUSTFLAGS`, else `RUSTFLAGS`)
 * plus `--remap-path-prefix` for each directory whose name would otherwise end up in the
 * library (panic locations, `file!()`): the crate dir, the target dir (build-script outputs)
 * and `CARGO_HOME` (registry sources). With them two builds in different caches, or on
 * different machines with the same toolchain, give the same bytes. Cargo leaves
 * `--remap-path-prefix` out of its `-C metadata` hash, so symbol names do not change either.
 */
function reproducibleRustflags(crateDir: string, targetDir: string): string {
  const encoded = Deno.env.get("CARGO_ENCODED_RUSTFLAGS");
  const own = encoded !== undefined
    ? encoded.split("\x1f").filter((flag) => flag !== "")
    : (Deno.env.get("RUSTFLAGS") ?? "").split(/\s+/).filter((flag) => flag !== "");
  const home = Deno.env.get(Deno.build.os === "windows" ? "USERPROFILE" : "HOME");
  const cargoHome = Deno.env.get("CARGO_HOME") || (home ? join(home, ".cargo") : undefined);
  const remaps: [string, string][] = [
    [crateDir, "/wasmtime-deno/crate"],
    [targetDir, "/wasmtime-deno/target"],
    ...(cargoHome ? [[resolve(cargoHome), "/cargo"] as [string, string]] : []),
  ];
  // rustc applies the last matching prefix: the longest (most specific) goes last.
  remaps.sort(([a], [b]) => a.length - b.length);
  return [...own, ...remaps.map(([from, to]) => `--remap-path-prefix=${from}=${to}`)].join(
    "\x1f",
  );
}

/** Copies the C headers the library was built with (used by layout tests and benchmarks). */
async function copyHeaders(source: string, destination: string): Promise<void> {
  await Deno.remove(destination, { recursive: true }).catch(() => {});
  await copyDir(source, destination);
}

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory) await copyDir(source, target);
    else await Deno.copyFile(source, target);
  }
}

/**
 * Removes cache entries (and materialized crates) of other builds of this Wasmtime version for
 * this target: each holds a ~25 MB library that nothing refers to once native/ has changed. The
 * shared Cargo target directory stays, so rebuilding an old entry only relinks the cdylib.
 */
async function pruneStaleEntries(
  root: string,
  current: string,
  log: (line: string) => void,
): Promise<void> {
  const prefix = `${NATIVE_CRATE.wasmtimeVersion}-`;
  const suffix = `-${Deno.build.target}`;
  const keepCrate = NATIVE_CRATE.hash.slice(0, 16);
  for await (const item of Deno.readDir(root)) {
    const path = join(root, item.name);
    const stale = item.isDirectory && path !== current && item.name.startsWith(prefix) &&
      item.name.endsWith(suffix) && /^[0-9a-f]{16}$/.test(
        item.name.slice(prefix.length, item.name.length - suffix.length),
      );
    if (stale) {
      await Deno.remove(path, { recursive: true });
      log(`removed the stale cache entry ${path}`);
    }
  }
  try {
    for await (const item of Deno.readDir(join(root, "crates"))) {
      if (item.isDirectory && item.name !== keepCrate && /^[0-9a-f]{16}$/.test(item.name)) {
        await Deno.remove(join(root, "crates", item.name), { recursive: true });
      }
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/** The cache root of the loader's lookup, or a {@linkcode BuildError} saying what to grant. */
function locateCache(): string {
  try {
    return cacheRoot();
  } catch (error) {
    if (!(error instanceof CacheLocationError)) throw error;
    throw new BuildError(
      error.unreadable.length > 0
        ? `${error.message}; run again with --allow-env=${error.unreadable.join(",")} (or -A)`
        : `${error.message}; set one of them`,
    );
  }
}

/** Reads the download settings the options leave open; an unreadable one is reported. */
function downloadSettings(options: BuildOptions, prebuilt: PrebuiltManifest) {
  const wanted = [
    ...(options.download === undefined ? [DOWNLOAD_ENV] : []),
    ...(options.downloadUrl === undefined ? [DOWNLOAD_URL_ENV] : []),
  ];
  // As in the library lookup: a variable we may not read may be set, and skipping it could
  // download although it says 0, or from another URL than it names, so none is skipped.
  const unreadable = wanted.filter((name) =>
    Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted"
  );
  if (unreadable.length > 0) {
    throw new BuildError(
      `a prebuilt library for ${Deno.build.target} can be downloaded, and ${
        unreadable.join(" and ")
      } decide${unreadable.length > 1 ? "" : "s"} whether and from where, but Deno does not ` +
        `let this process read ${unreadable.length > 1 ? "them" : "it"}; run again with ` +
        `--allow-env=${unreadable.join(",")} (or -A), or pass the download/downloadUrl options`,
    );
  }
  let enabled = options.download;
  if (enabled === undefined) {
    const value = (Deno.env.get(DOWNLOAD_ENV) ?? "").trim().toLowerCase();
    if (["0", "false", "no", "off"].includes(value)) enabled = false;
    else if (["", "1", "true", "yes", "on"].includes(value)) enabled = true;
    else throw new BuildError(`${DOWNLOAD_ENV} must be 0 or 1, not ${JSON.stringify(value)}`);
  }
  const base = options.downloadUrl ?? (Deno.env.get(DOWNLOAD_URL_ENV) || prebuilt.baseUrl);
  let baseUrl: URL;
  try {
    baseUrl = new URL(base.endsWith("/") ? base : `${base}/`);
  } catch {
    throw new BuildError(`the download base URL ${JSON.stringify(base)} is not a URL`);
  }
  return { enabled, baseUrl, fromEnv: options.download === undefined };
}

/**
 * Downloads, verifies and installs this target's release archive, holding the entry's lock.
 * Returns the installed manifest, or why no prebuilt library was used (a sentence with the way
 * out), for the build-from-source fallback and its error.
 */
async function tryDownload(
  root: string,
  entry: string,
  options: BuildOptions,
  log: (line: string) => void,
): Promise<{ manifest: CacheManifest; note?: undefined } | { manifest?: undefined; note: string }> {
  const target = Deno.build.target;
  const prebuilt = options.prebuilt ?? PREBUILT;
  const pinned = prebuilt.targets[target];
  if (!pinned) {
    return {
      note: `this package version ships no prebuilt library for ${target} (only for ${
        Object.keys(prebuilt.targets).filter((t) => prebuilt.targets[t]).join(", ") || "none"
      })`,
    };
  }
  if (prebuilt.crateHash !== NATIVE_CRATE.hash) {
    return {
      note: `the prebuilt libraries of this package were built from native crate ${
        prebuilt.crateHash.slice(0, 16)
      }, not from this package's ${NATIVE_CRATE.hash.slice(0, 16)}`,
    };
  }
  const settings = downloadSettings(options, prebuilt);
  if (!settings.enabled) {
    return {
      note: settings.fromEnv
        ? `downloading the prebuilt library is turned off (${DOWNLOAD_ENV}=0); unset it to ` +
          "download the verified library instead"
        : "downloading the prebuilt library is turned off (download: false)",
    };
  }
  const url = new URL(pinned.archive, settings.baseUrl);
  log(
    `phase 1/2: downloading the prebuilt library for ${target} (verified against the sha256 ` +
      "this package pins)",
  );
  let archive: Uint8Array;
  try {
    archive = await downloadPinned(url, pinned, {
      idleTimeout: options.downloadTimeout ?? 30_000,
      log,
    });
  } catch (error) {
    if (!(error instanceof DownloadError)) throw error;
    return {
      note: error.flag
        ? `${error.message}: run again with ${error.flag} to download the verified library`
        : `the download failed: ${error.message}`,
    };
  }
  log(`phase 2/2: verified ${pinned.archive} (sha256 ${pinned.sha256}); installing`);
  const name = cacheEntryName();
  let files: ArchiveFile[];
  let manifest: CacheManifest;
  try {
    ({ files, manifest } = entryFromArchive(unpackArchive(archive), name, target, pinned));
  } catch (error) {
    if (!(error instanceof ArchiveError)) throw error;
    return { note: `the downloaded archive was refused: ${error.message}` };
  }
  manifest = { ...manifest, installedFrom: url.href };
  const staging = await makeStaging(root, name);
  await writeFiles(staging, [
    ...files.filter((f) => f.path !== "manifest.json"),
    manifestFile(manifest),
  ]);
  await install(root, staging, entry, log);
  log(`installed ${join(entry, manifest.library)}`);
  await pruneStaleEntries(root, entry, log);
  return { manifest };
}

function manifestFile(manifest: CacheManifest): ArchiveFile {
  return {
    path: "manifest.json",
    bytes: new TextEncoder().encode(JSON.stringify(manifest, null, 2) + "\n"),
    executable: false,
  };
}

/** Renames `staging` into place (see src/package/install.ts) and re-checks the entry's trust. */
async function install(
  root: string,
  staging: string,
  entry: string,
  log: (line: string) => void,
  replace = false,
): Promise<void> {
  // A valid entry that appeared meanwhile (a process that took no lock) is kept, unless this
  // is a forced rebuild, which replaces it.
  const installed = await commitStaging(
    staging,
    entry,
    async () => !replace && (await readValidManifest(root, entry, log)) !== undefined,
  );
  if (!installed) log(`kept the valid entry another process installed at ${entry}`);
  requireTrusted(root, entry);
}

/** Builds the library from the pinned crate with cargo and installs it. */
async function buildFromSource(
  root: string,
  entry: string,
  options: BuildOptions,
  log: (line: string) => void,
): Promise<{ manifest: CacheManifest; crateDir: string }> {
  log(`phase 1/4: writing the native crate sources (${NATIVE_CRATE.hash.slice(0, 16)})`);
  const crateDir = await materializeCrate(root);
  log("phase 2/4: checking the toolchain (cargo, rustc, cmake)");
  const rustc = await checkToolchain();
  const started = performance.now();
  log(
    `phase 3/4: compiling libwasmtime ${NATIVE_CRATE.wasmtimeVersion} (${UPSTREAM_TAG}) for ` +
      `${Deno.build.target} with ${rustc}; a cold build takes several minutes, cargo's output ` +
      "follows",
  );
  const targetDir = join(root, "target");
  const cargo = new Deno.Command("cargo", {
    args: [
      "build",
      "--release",
      "--locked",
      // Diagnostics go to stderr as usual; stdout carries the JSON messages headerDir reads.
      "--message-format=json-render-diagnostics",
      "--manifest-path",
      join(crateDir, "Cargo.toml"),
    ],
    env: {
      CARGO_TARGET_DIR: targetDir,
      CARGO_ENCODED_RUSTFLAGS: reproducibleRustflags(crateDir, targetDir),
    },
    stdout: "piped",
    stderr: options.log ? "inherit" : "piped",
  });
  const result = await cargo.output();
  if (!result.success) {
    const detail = options.log ? "" : `\n${new TextDecoder().decode(result.stderr).slice(-4000)}`;
    throw new BuildError(
      `cargo build failed (exit code ${result.code}); see the compiler output above.${detail}`,
    );
  }
  const buildSeconds = Math.round((performance.now() - started) / 100) / 10;
  log(`phase 4/4: compiled in ${buildSeconds} s; copying the library and its C headers`);
  const name = cacheEntryName();
  const staging = await makeStaging(root, name);
  const library = join(staging, libraryFileName());
  await Deno.copyFile(join(targetDir, "release", libraryFileName()), library);
  if (Deno.build.os !== "windows") await Deno.chmod(library, 0o755);
  await copyHeaders(headerDir(new TextDecoder().decode(result.stdout)), join(staging, "include"));
  const manifest: CacheManifest = {
    wasmtimeVersion: NATIVE_CRATE.wasmtimeVersion,
    upstreamTag: UPSTREAM_TAG,
    features: [...NATIVE_CRATE.features],
    crateHash: NATIVE_CRATE.hash,
    target: Deno.build.target,
    library: libraryFileName(),
    size: (await Deno.stat(library)).size,
    sha256: await sha256File(library),
    rustc,
    builtAt: new Date().toISOString(),
    buildSeconds,
  };
  await writeFiles(staging, [manifestFile(manifest)]);
  await install(root, staging, entry, log, options.force);
  log(`built in ${buildSeconds} s`);
  await pruneStaleEntries(root, entry, log);
  return { manifest, crateDir };
}

/** Builds (or finds in the cache) the library; see the module documentation. */
export async function buildNative(options: BuildOptions = {}): Promise<BuildResult> {
  const log = options.log ?? (() => {});
  const root = resolve(options.cacheDir ?? locateCache());
  // 0755 whatever the umask: the loader refuses a cache others can write.
  await Deno.mkdir(root, { recursive: true, mode: 0o755 });
  const name = cacheEntryName();
  const entry = join(root, name);
  const libraryPath = join(entry, libraryFileName());
  const permissionFlags = appFlags(root);
  const done = (
    manifest: CacheManifest,
    source: BuildResult["source"],
    crateDir?: string,
  ): BuildResult => ({
    libraryPath,
    crateDir,
    cached: source === "cache",
    source,
    manifest,
    permissionFlags,
  });

  if (!options.force) {
    const manifest = await readValidManifest(root, entry, log);
    if (manifest) return done(manifest, "cache");
  }
  return await withEntryLock(root, name, log, async () => {
    if (!options.force) {
      // Another process may have installed it while this one waited for the lock.
      const manifest = await readValidManifest(root, entry, () => {});
      if (manifest) return done(manifest, "cache");
    }
    await removeLeftovers(root, name);
    let note: string | undefined;
    if (!options.force) {
      const downloaded = await tryDownload(root, entry, options, log);
      if (downloaded.manifest) return done(downloaded.manifest, "download");
      note = downloaded.note;
      log(`${note}; building from source instead`);
    }
    try {
      const built = await buildFromSource(root, entry, options, log);
      return done(built.manifest, "build", built.crateDir);
    } catch (error) {
      if (!(error instanceof BuildError) || note === undefined) throw error;
      throw new BuildError(
        `cannot get libwasmtime for ${Deno.build.target}; neither way worked.\n` +
          `1. Prebuilt download (no Rust needed): ${note}.\n` +
          `2. Build from source: ${error.message}`,
      );
    }
  });
}

/** Quotes `word` for a POSIX shell when it holds anything but safe characters. */
function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

async function main(args: string[]): Promise<number> {
  const known = ["--force", "--print-path", "--print-flags", "--quiet"];
  const unknown = args.filter((a) => !known.includes(a));
  if (unknown.length > 0) {
    console.error(
      `unknown argument ${unknown[0]}; use --force, --print-path, --print-flags or --quiet`,
    );
    return 2;
  }
  const printPath = args.includes("--print-path");
  const printFlags = args.includes("--print-flags");
  const quiet = args.includes("--quiet");
  const started = performance.now();
  try {
    const result = await buildNative({
      force: args.includes("--force"),
      log: quiet ? undefined : (line) => console.error(`build-native: ${line}`),
    });
    if (printPath) console.log(result.libraryPath);
    if (printFlags) console.log(result.permissionFlags.map(shellQuote).join(" "));
    if (!printPath && !printFlags && !quiet) {
      const seconds = ((performance.now() - started) / 1000).toFixed(2);
      console.error(
        `build-native: ${
          { cache: "cached", download: "downloaded", build: "built" }[result.source]
        } libwasmtime ${result.manifest.wasmtimeVersion} at ${result.libraryPath} (${seconds} s)`,
      );
    }
    return 0;
  } catch (error) {
    if (error instanceof BuildError) {
      console.error(`build-native: ${error.message}`);
      return 1;
    }
    if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
      console.error(
        `build-native: ${(error as Error).message}\nRun it with -A: it runs cargo (whose ` +
          "build scripts run any program), writes the cache and opens the built library, so " +
          "narrower flags would not confine it.",
      );
      return 1;
    }
    throw error;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
