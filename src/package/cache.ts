/**
 * Where built libraries live. One cache entry per (Wasmtime version, native crate hash,
 * target): `<cache>/<version>-<hash16>-<target>/` holding the library, its C headers and a
 * `manifest.json`. Shared by the loader and the build task.
 *
 * @module
 */
import { join } from "node:path";
import { NATIVE_CRATE } from "./native_crate.ts";
import { isGranted } from "../permissions.ts";

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
  /** When it was built (ISO 8601). */
  builtAt: string;
  /** How long the build took, in seconds. */
  buildSeconds: number;
}

/** Environment variable naming an explicit library file; it wins over the cache. */
export const LIB_ENV = "WASMTIME_LIB";
/** Environment variable overriding the cache directory. */
export const CACHE_ENV = "WASMTIME_DENO_CACHE";

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
 * Reads an environment variable only when access to it is already granted, so that optional
 * variables never trigger a prompt or a permission error.
 */
export function optionalEnv(name: string): string | undefined {
  return isGranted({ name: "env", variable: name }) ? Deno.env.get(name) : undefined;
}

/** Thrown by {@linkcode cacheRoot} when no variable that locates the cache can be read. */
export class CacheLocationError extends Error {
  /** The variables that would locate the cache, in the order they are tried. */
  readonly variables: string[];
  /** Creates the error. */
  constructor(variables: string[]) {
    super(`cannot locate the library cache: none of ${variables.join(", ")} is readable`);
    this.variables = variables;
  }
}

/**
 * The cache root: `$WASMTIME_DENO_CACHE`, else `$DENO_DIR/wasmtime-deno`, else the OS cache
 * directory Deno itself uses (`$XDG_CACHE_HOME/deno` or `~/.cache/deno` on Linux,
 * `~/Library/Caches/deno` on macOS, `%LOCALAPPDATA%\deno` on Windows) + `/wasmtime-deno`.
 */
export function cacheRoot(env: (name: string) => string | undefined = optionalEnv): string {
  const explicit = env(CACHE_ENV);
  if (explicit) return explicit;
  const denoDir = env("DENO_DIR");
  if (denoDir) return join(denoDir, "wasmtime-deno");
  const os = Deno.build.os;
  if (os === "windows") {
    const local = env("LOCALAPPDATA");
    if (local) return join(local, "deno", "wasmtime-deno");
    throw new CacheLocationError([CACHE_ENV, "DENO_DIR", "LOCALAPPDATA"]);
  }
  if (os !== "darwin") {
    const xdg = env("XDG_CACHE_HOME");
    if (xdg) return join(xdg, "deno", "wasmtime-deno");
  }
  const home = env("HOME");
  if (!home) {
    const tried = os === "darwin"
      ? [CACHE_ENV, "DENO_DIR", "HOME"]
      : [CACHE_ENV, "DENO_DIR", "XDG_CACHE_HOME", "HOME"];
    throw new CacheLocationError(tried);
  }
  return os === "darwin"
    ? join(home, "Library", "Caches", "deno", "wasmtime-deno")
    : join(home, ".cache", "deno", "wasmtime-deno");
}
