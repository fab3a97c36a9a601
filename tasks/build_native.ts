/**
 * Builds libwasmtime from the pinned `native/` crate and caches it, once per Wasmtime version,
 * crate contents and target. A valid cache entry is reused without invoking cargo.
 *
 * Flags: `--force` rebuilds even when the cache is valid; `--print-path` prints only the
 * library path; `--print-flags` prints only the permission flags an app needs to load it on
 * this machine (`--allow-env=<the lookup variables> --allow-read=<cache root> --allow-ffi`,
 * stable across upgrades); `--quiet` prints nothing but errors. Both print options reuse a
 * cached library without running cargo, and build it first when it is not cached (progress
 * on stderr, so stdout holds only the answer). The cache is found like the loader finds it:
 * `WASMTIME_DENO_CACHE`, else `DENO_DIR`, else Deno's cache directory, + `/wasmtime-deno`.
 *
 * The crate sources are read next to this module, whether it was loaded from disk or from a
 * URL (JSR, an HTTP server), and must hash to the value this package was published with.
 *
 * @example From the command line
 * ```sh
 * deno task build-native                 # in a clone of wasmtime-deno
 * deno run -A jsr:@wasmtime-deno/wasmtime/build-native   # in a project that uses the package
 * ```
 *
 * @example From a script (a setup step that needs the library path)
 * ```ts
 * import { buildNative } from "@wasmtime-deno/wasmtime/build-native";
 * const { libraryPath, cached, permissionFlags } = await buildNative({ log: console.error });
 * console.log(cached ? "reused" : "built", libraryPath);
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
import { NATIVE_CRATE } from "../src/package/native_crate.ts";
import { CRATE_FILES, describeCrate } from "../src/package/native_source.ts";

export type { CacheManifest };

/** Upstream Wasmtime release tag the pinned crate version corresponds to. */
const UPSTREAM_TAG = `v${NATIVE_CRATE.wasmtimeVersion}`;

/** Options of {@linkcode buildNative}. */
export interface BuildOptions {
  /** Rebuild even if a valid cache entry exists. */
  force?: boolean;
  /** Progress output; `undefined` silences it. */
  log?: (line: string) => void;
  /** Cache root; default from {@linkcode cacheRoot}. */
  cacheDir?: string;
}

/** What {@linkcode buildNative} produced or found. */
export interface BuildResult {
  /** Absolute path of the library. */
  libraryPath: string;
  /** Where the crate sources were materialized and built from. */
  crateDir: string;
  /** True when a valid cache entry was reused. */
  cached: boolean;
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

/** Copies the C headers the library was built with (used by layout tests and benchmarks). */
async function copyHeaders(libraryPath: string, destination: string): Promise<void> {
  const library = Deno.dlopen(libraryPath, {
    wasmtime_deno_include_dir: { parameters: [], result: "pointer" },
  });
  try {
    const pointer = library.symbols.wasmtime_deno_include_dir();
    const source = pointer ? Deno.UnsafePointerView.getCString(pointer) : "";
    await Deno.remove(destination, { recursive: true }).catch(() => {});
    await copyDir(source, destination);
  } finally {
    library.close();
  }
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

/** Builds (or finds in the cache) the library; see the module documentation. */
export async function buildNative(options: BuildOptions = {}): Promise<BuildResult> {
  const log = options.log ?? (() => {});
  const root = resolve(options.cacheDir ?? locateCache());
  // 0755 whatever the umask: the loader refuses a cache others can write.
  await Deno.mkdir(root, { recursive: true, mode: 0o755 });
  const crateDir = await materializeCrate(root);
  const entry = join(root, cacheEntryName());
  const libraryPath = join(entry, libraryFileName());
  const permissionFlags = appFlags(root);

  if (!options.force) {
    const manifest = await readValidManifest(root, entry, log);
    if (manifest) return { libraryPath, crateDir, cached: true, manifest, permissionFlags };
  }

  const rustc = await checkToolchain();
  const started = performance.now();
  log(
    `building libwasmtime ${NATIVE_CRATE.wasmtimeVersion} (${UPSTREAM_TAG}) for ` +
      `${Deno.build.target} with ${rustc}; a cold build takes several minutes`,
  );
  const targetDir = join(root, "target");
  const cargo = new Deno.Command("cargo", {
    args: [
      "build",
      "--release",
      "--locked",
      "--manifest-path",
      join(crateDir, "Cargo.toml"),
    ],
    env: { CARGO_TARGET_DIR: targetDir },
    stdout: options.log ? "inherit" : "null",
    stderr: options.log ? "inherit" : "piped",
  });
  const result = await cargo.output();
  if (!result.success) {
    const detail = options.log ? "" : `\n${new TextDecoder().decode(result.stderr).slice(-4000)}`;
    throw new BuildError(
      `cargo build failed (exit code ${result.code}); see the compiler output above.${detail}`,
    );
  }
  const built = join(targetDir, "release", libraryFileName());

  await Deno.mkdir(entry, { recursive: true, mode: 0o755 });
  // Copy then rename, so a concurrent loader never sees a half-written library.
  const partial = `${libraryPath}.partial-${Deno.pid}`;
  await Deno.copyFile(built, partial);
  await Deno.chmod(partial, 0o755);
  await Deno.rename(partial, libraryPath);
  await copyHeaders(libraryPath, join(entry, "include"));

  const buildSeconds = Math.round((performance.now() - started) / 100) / 10;
  const manifest: CacheManifest = {
    wasmtimeVersion: NATIVE_CRATE.wasmtimeVersion,
    upstreamTag: UPSTREAM_TAG,
    features: [...NATIVE_CRATE.features],
    crateHash: NATIVE_CRATE.hash,
    target: Deno.build.target,
    library: libraryFileName(),
    size: (await Deno.stat(libraryPath)).size,
    sha256: await sha256File(libraryPath),
    rustc,
    builtAt: new Date().toISOString(),
    buildSeconds,
  };
  await Deno.writeTextFile(join(entry, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n", {
    mode: 0o644,
  });
  await Deno.chmod(join(entry, "manifest.json"), 0o644);
  requireTrusted(root, entry);
  log(`built in ${buildSeconds} s`);
  await pruneStaleEntries(root, entry, log);
  return { libraryPath, crateDir, cached: false, manifest, permissionFlags };
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
          result.cached ? "cached" : "built"
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
