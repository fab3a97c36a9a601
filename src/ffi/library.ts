/**
 * Finding and opening libwasmtime: `$WASMTIME_LIB` first, then this package's cache entry,
 * else one error that names the command to run. Every failure is a {@linkcode LibraryError}
 * or a {@linkcode PermissionError} that says what to do next.
 *
 * @module
 */
import { join } from "node:path";
import {
  cacheEntryName,
  CacheLocationError,
  type CacheManifest,
  cacheRoot,
  LIB_ENV,
  libraryFileName,
  optionalEnv,
} from "../package/cache.ts";
import { LibraryError, PermissionError } from "../errors.ts";
import { NATIVE_CRATE } from "../package/native_crate.ts";
import { isGranted, requirePermission } from "../permissions.ts";

/** The commands that build the library, for error messages. */
export const BUILD_HINT = "`deno task build-native` (in a clone of wasmtime-deno) or " +
  "`deno run -A jsr:@wasmtime-deno/wasmtime/build-native` (in your project)";

/** Where the library was found. */
export interface LibraryLocation {
  path: string;
  source: "env" | "cache";
}

function isPermissionError(error: unknown): boolean {
  return error instanceof Deno.errors.PermissionDenied ||
    // Deno 2 reports a missing --allow-* flag as NotCapable.
    ("NotCapable" in Deno.errors &&
      error instanceof (Deno.errors as unknown as { NotCapable: ErrorConstructor }).NotCapable);
}

/** Resolves the library path without opening it. */
export function locateLibrary(): LibraryLocation {
  const explicit = optionalEnv(LIB_ENV);
  if (explicit) return { path: explicit, source: "env" };

  let root: string;
  try {
    root = cacheRoot();
  } catch (error) {
    if (!(error instanceof CacheLocationError)) throw error;
    const last = error.variables[error.variables.length - 1];
    if (!isGranted({ name: "env", variable: last })) {
      throw new PermissionError(
        `libwasmtime: finding the library cache needs the ${last} variable ` +
          `(or set ${LIB_ENV} and grant --allow-env=${LIB_ENV})`,
        `--allow-env=${last}`,
      );
    }
    throw new LibraryError(
      `libwasmtime: cannot locate the library cache because ${error.variables.join(", ")} ` +
        `are all unset; set one of them or ${LIB_ENV}`,
    );
  }

  const entry = join(root, cacheEntryName());
  // The loader reads these two files (Deno checks the reads too; this says what to grant).
  // A --deny-read rule elsewhere in the entry (e.g. on its C headers) does not matter.
  for (const file of ["manifest.json", libraryFileName()]) {
    requirePermission(
      { name: "read", path: join(entry, file) },
      `libwasmtime: reading the library cache at ${entry} needs read access`,
      { suggest: entry },
    );
  }
  let manifest: CacheManifest;
  try {
    manifest = JSON.parse(Deno.readTextFileSync(join(entry, "manifest.json")));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new LibraryError(
        `libwasmtime ${NATIVE_CRATE.wasmtimeVersion} is not built yet (nothing cached at ` +
          `${entry}). Run ${BUILD_HINT}, or set ${LIB_ENV} to a library built from native/.`,
      );
    }
    throw new LibraryError(
      `libwasmtime: the cache manifest in ${entry} is unreadable (${
        (error as Error).message
      }); run ${BUILD_HINT} to rebuild it`,
      { cause: error },
    );
  }
  const path = join(entry, libraryFileName());
  let size: number;
  try {
    size = Deno.statSync(path).size;
  } catch (error) {
    throw new LibraryError(
      `libwasmtime: the cached library ${path} is missing; run ${BUILD_HINT} to rebuild it`,
      { cause: error },
    );
  }
  if (size !== manifest.size) {
    throw new LibraryError(
      `libwasmtime: the cached library ${path} is corrupt (${size} bytes, the manifest says ` +
        `${manifest.size}); run ${BUILD_HINT}, which verifies and rebuilds it`,
    );
  }
  return { path, source: "cache" };
}

/** Opens the library with `symbols`, turning every failure into an actionable error. */
export function openLibrary<S extends Deno.ForeignLibraryInterface>(
  symbols: S,
): Deno.DynamicLibrary<S> {
  const { path, source } = locateLibrary();
  const origin = source === "env" ? `${LIB_ENV}=${path}` : `the cached library ${path}`;
  // Deno's pointer and callback APIs, which every call through the binding uses, need
  // unscoped FFI access: a path-scoped --allow-ffi=<path> opens the library but nothing more.
  // They accept a partial grant (--allow-ffi next to --deny-ffi=<other path>), so this check
  // does too; Deno.dlopen below checks the library path itself.
  requirePermission(
    { name: "ffi" },
    `libwasmtime: using ${origin} needs unscoped FFI access (Deno's pointer APIs do not ` +
      "accept a path-scoped --allow-ffi=<path>)",
    { partialIsEnough: true },
  );
  let library: Deno.DynamicLibrary<S>;
  try {
    library = Deno.dlopen(path, symbols);
  } catch (error) {
    if (isPermissionError(error)) {
      throw new PermissionError(
        `libwasmtime: loading ${origin} needs FFI access`,
        "--allow-ffi",
        { cause: error },
      );
    }
    const message = (error as Error).message;
    const missing = message.match(/symbol[^`"']*[`"']?([A-Za-z0-9_]+)/i);
    const fix = source === "env"
      ? `point ${LIB_ENV} at a library built by ${BUILD_HINT}, or unset it`
      : `run ${BUILD_HINT} --force`;
    throw new LibraryError(
      /register symbol|undefined symbol|symbol not found/i.test(message)
        ? `libwasmtime: ${origin} is not a libwasmtime built from this package's native/ crate ` +
          `(missing symbol ${missing?.[1] ?? "?"}); ${fix}`
        : `libwasmtime: cannot open ${origin}: ${message}; ${fix}`,
      { cause: error },
    );
  }
  const versionSymbol = (library.symbols as unknown as {
    wasmtime_deno_version?: () => Deno.PointerValue;
  }).wasmtime_deno_version;
  if (versionSymbol) {
    const pointer = versionSymbol();
    const found = pointer ? Deno.UnsafePointerView.getCString(pointer) : "?";
    if (found !== NATIVE_CRATE.wasmtimeVersion) {
      library.close();
      throw new LibraryError(
        `libwasmtime: ${origin} is Wasmtime ${found}, but this package needs ` +
          `${NATIVE_CRATE.wasmtimeVersion}; run ${BUILD_HINT}`,
      );
    }
  }
  return library;
}
