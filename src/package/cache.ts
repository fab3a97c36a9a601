/**
 * Where built libraries live. One cache entry per (Wasmtime version, native crate hash,
 * target): `<cache>/<version>-<hash16>-<target>/` holding the library, its C headers and a
 * `manifest.json`. Shared by the loader and the build task, so that both find the same
 * directory, and so that a consumer can print the flags an app needs (`--print-flags`).
 *
 * Lookup. The variables of {@linkcode lookupVariables} are read in order and the first one set
 * decides. A variable Deno does not let us read may be set (we cannot tell), and skipping it
 * could load another library than the one it names, so the lookup stops there with an error
 * naming every such variable; it never prompts. Relative `WASMTIME_LIB`, `WASMTIME_DENO_CACHE`
 * and `DENO_DIR` values are taken from the working directory (as Deno does for `DENO_DIR`); an
 * empty value counts as unset, and so does a relative `XDG_CACHE_HOME` (as the XDG spec and
 * Deno's own cache lookup say).
 *
 * Trust. The library is native code this process runs, so whoever can write the cache decides
 * what runs: the loader and build-native refuse an entry when the cache root, the entry, its
 * manifest or its library is writable by group or others, when the entry or a file in it is a
 * symlink, or when one of them belongs to another user than the cache root's owner (or the
 * current user, when `--allow-sys=uid` lets us ask), root excepted. The loader then checks the
 * manifest's size and the library's version symbol; build-native its sha256. Parents of the
 * root are not inspected (the narrow read grant does not reach them); on Windows, ACLs are not.
 *
 * @module
 */
import { isAbsolute, join, resolve } from "node:path";
import { NATIVE_CRATE } from "./native_crate.ts";

/** Contents of a cache entry's `manifest.json`. */
export interface CacheManifest {
  /** Version of the wasmtime-c-api crate the library re-exports, e.g. `48.0.8`. */
  wasmtimeVersion: string;
  /** The upstream Wasmtime release tag it corresponds to, e.g. `v48.0.8`. */
  upstreamTag: string;
  /** Cargo features the crate was built with. */
  features: string[];
  /** sha256 of the native crate sources (the cache key's second part). */
  crateHash: string;
  /** Deno target triple the library was built for. */
  target: string;
  /** File name of the library inside the entry. */
  library: string;
  /** Size of the library in bytes. */
  size: number;
  /** sha256 of the library file, checked before every reuse. */
  sha256: string;
  /** `rustc --version` of the compiler that built it. */
  rustc: string;
  /**
   * When it was built (ISO 8601); absent in a release archive, whose bytes depend only on the
   * library and headers.
   */
  builtAt?: string;
  /** How long the build took, in seconds; absent in a release archive. */
  buildSeconds?: number;
  /** The URL of the release archive it was installed from; absent when built here. */
  installedFrom?: string;
}

/** Environment variable naming an explicit library file; it wins over the cache. */
export const LIB_ENV = "WASMTIME_LIB";
/** Environment variable overriding the cache directory. */
export const CACHE_ENV = "WASMTIME_DENO_CACHE";

/**
 * The environment variables that locate the library on `os`, in the order they are read: the
 * first one set decides. `WASMTIME_LIB` names the library itself; the others the cache root.
 */
export function lookupVariables(os: typeof Deno.build.os = Deno.build.os): string[] {
  if (os === "windows") return [LIB_ENV, CACHE_ENV, "DENO_DIR", "LOCALAPPDATA"];
  if (os === "darwin") return [LIB_ENV, CACHE_ENV, "DENO_DIR", "HOME"];
  return [LIB_ENV, CACHE_ENV, "DENO_DIR", "XDG_CACHE_HOME", "HOME"];
}

/** File name of the shared library on this OS. */
export function libraryFileName(os: typeof Deno.build.os = Deno.build.os): string {
  if (os === "windows") return "wasmtime.dll";
  if (os === "darwin") return "libwasmtime.dylib";
  return "libwasmtime.so";
}

/** Name of this package's cache entry for the current target. */
export function cacheEntryName(target: string = Deno.build.target): string {
  return `${NATIVE_CRATE.wasmtimeVersion}-${NATIVE_CRATE.hash.slice(0, 16)}-${target}`;
}

/**
 * Thrown by {@linkcode locate} and {@linkcode cacheRoot} when the lookup cannot decide: a
 * variable it must read is not granted (`unreadable`), or every variable is unset.
 */
export class CacheLocationError extends Error {
  /** The variables the lookup read or had to read, in order. */
  readonly variables: string[];
  /** Those Deno does not let us read (not granted, or denied), in order; may be empty. */
  readonly unreadable: string[];
  /** Those of `unreadable` that a `--deny-env` rule (or a refused prompt) covers. */
  readonly denied: string[];
  /** Creates the error. */
  constructor(variables: string[], unreadable: string[] = [], denied: string[] = []) {
    super(
      unreadable.length > 0
        ? `cannot locate the library: Deno does not let this process read ${
          unreadable.join(", ")
        } (the lookup reads ${variables.join(", ")} in this order, and the first one set decides)`
        : `cannot locate the library: ${variables.join(", ")} are all unset`,
    );
    this.variables = variables;
    this.unreadable = unreadable;
    this.denied = denied;
  }
}

/** Where the lookup leads: a library named by `WASMTIME_LIB`, or a cache root. */
export type Location =
  | { kind: "library"; path: string; variable: string }
  | { kind: "cache"; root: string; variable: string };

function usable(name: string, value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (name === "XDG_CACHE_HOME" && !isAbsolute(value)) return undefined;
  return value;
}

function fromVariable(name: string, value: string): Location {
  switch (name) {
    case LIB_ENV:
      return { kind: "library", path: resolve(value), variable: name };
    case CACHE_ENV:
      return { kind: "cache", root: resolve(value), variable: name };
    case "DENO_DIR":
      return { kind: "cache", root: resolve(value, "wasmtime-deno"), variable: name };
    case "LOCALAPPDATA":
    case "XDG_CACHE_HOME":
      return { kind: "cache", root: join(value, "deno", "wasmtime-deno"), variable: name };
    default: // HOME
      return {
        kind: "cache",
        root: Deno.build.os === "darwin"
          ? join(value, "Library", "Caches", "deno", "wasmtime-deno")
          : join(value, ".cache", "deno", "wasmtime-deno"),
        variable: name,
      };
  }
}

/**
 * Runs the lookup (see the module documentation). With `library: false`, `WASMTIME_LIB` is not
 * read and the result is always the cache root (what build-native builds into).
 */
export function locate(options: { library?: boolean } = {}): Location {
  const names = lookupVariables().filter((name) => options.library !== false || name !== LIB_ENV);
  const unreadable: string[] = [];
  const denied: string[] = [];
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const status = Deno.permissions.querySync({ name: "env", variable: name });
    if (status.state !== "granted") {
      unreadable.push(name);
      if (status.state === "denied") denied.push(name);
      continue;
    }
    const value = usable(name, Deno.env.get(name));
    if (value === undefined) continue;
    if (unreadable.length > 0) {
      throw new CacheLocationError(names.slice(0, i + 1), unreadable, denied);
    }
    return fromVariable(name, value);
  }
  throw new CacheLocationError(names, unreadable, denied);
}

/**
 * The cache root: `$WASMTIME_DENO_CACHE`, else `$DENO_DIR/wasmtime-deno`, else the OS cache
 * directory Deno itself uses (`$XDG_CACHE_HOME/deno` or `~/.cache/deno` on Linux,
 * `~/Library/Caches/deno` on macOS, `%LOCALAPPDATA%\deno` on Windows) + `/wasmtime-deno`.
 * Throws {@linkcode CacheLocationError} when the lookup cannot decide.
 */
export function cacheRoot(): string {
  return (locate({ library: false }) as { root: string }).root;
}

/**
 * The flags an app needs to load the library from the cache at `root`: every lookup variable
 * (so that the lookup can always decide), read access to the root (which holds every version's
 * entry, so the line survives upgrades) and unscoped FFI access (Deno's pointer APIs refuse a
 * path-scoped `--allow-ffi`).
 */
export function appFlags(root: string): string[] {
  return [`--allow-env=${lookupVariables().join(",")}`, `--allow-read=${root}`, "--allow-ffi"];
}

const GROUP_OR_OTHER_WRITE = 0o022;

function currentUid(): number | undefined {
  if (Deno.permissions.querySync({ name: "sys", kind: "uid" }).state !== "granted") {
    return undefined;
  }
  return Deno.uid() ?? undefined;
}

/**
 * Why the cache entry `entry` under `root` (and the files named in `files`, inside it) cannot
 * be trusted, as a sentence that says what to do, or undefined when it can (see the module
 * documentation). Needs read access to `root`; throws what `Deno.lstatSync` throws for a
 * missing path.
 */
export function untrustedEntry(root: string, entry: string, files: string[]): string | undefined {
  const rootInfo = Deno.statSync(root);
  if (rootInfo.uid === null || rootInfo.mode === null) return undefined; // Windows
  const owner = currentUid() ?? rootInfo.uid;
  const checks: [string, Deno.FileInfo][] = [[root, rootInfo], [entry, Deno.lstatSync(entry)]];
  for (const file of files) checks.push([join(entry, file), Deno.lstatSync(join(entry, file))]);
  for (const [path, info] of checks) {
    if (info.isSymlink) {
      return `${path} is a symlink; the cache holds native code, so links in it are refused. ` +
        "Replace it with a copy of what it points to, or rebuild the entry";
    }
    if (info.uid !== owner && info.uid !== 0) {
      return `${path} belongs to user ${info.uid}, not to user ${owner} (who owns the cache); ` +
        "it holds native code this process would run. Use a cache only you can write";
    }
    if (((info.mode ?? 0) & GROUP_OR_OTHER_WRITE) !== 0) {
      const mode = `0${((info.mode ?? 0) & 0o7777).toString(8)}`;
      return `${path} is writable by other users (mode ${mode}); it holds native code this ` +
        `process would run. Run chmod go-w ${path}, or use a cache only you can write`;
    }
  }
  return undefined;
}
