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
  LIB_ENV,
  libraryFileName,
  locate,
  untrustedEntry,
} from "../package/cache.ts";
import { LibraryError, PermissionError } from "../errors.ts";
import { NATIVE_CRATE } from "../package/native_crate.ts";
import { PREBUILT } from "../package/prebuilt.ts";
import { requirePermission } from "../permissions.ts";

/** The commands that build the library, for error messages. */
export const BUILD_HINT = "`deno task build-native` (in a clone of wasmtime-deno) or " +
  "`deno run -A jsr:@wasmtime-deno/wasmtime/build-native` (in your project)";

/** The command that prints the flags an app needs, for error messages. */
const FLAGS_HINT = "`deno run -A jsr:@wasmtime-deno/wasmtime/build-native --print-flags` " +
  "prints the whole line";

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

/** The lookup's answer, or the error that says which variables to grant or set. */
function lookup(): ReturnType<typeof locate> {
  try {
    return locate();
  } catch (error) {
    if (!(error instanceof CacheLocationError)) throw error;
    if (error.unreadable.length === 0) {
      throw new LibraryError(
        `libwasmtime: cannot locate the library cache because ${error.variables.join(", ")} ` +
          `are all unset; set one of them (${LIB_ENV} names the library itself)`,
      );
    }
    const denied = error.denied.length === 0
      ? ""
      : `; a --deny-env rule (or a refused prompt) covers ${error.denied.join(", ")}, so drop ` +
        `it or set ${LIB_ENV} (granted) instead`;
    // Unset and unreadable look alike from here: a variable we may not read could name
    // another cache (build-native, run with -A, would have built there), so none is skipped.
    throw new PermissionError(
      `libwasmtime: finding the library reads ${error.variables.join(", ")} in this order ` +
        `(the first one set decides), and Deno does not let it read ${
          error.unreadable.join(", ")
        }, which may be set${denied} (${FLAGS_HINT})`,
      `--allow-env=${error.unreadable.join(",")}`,
    );
  }
}

/** Resolves the library path without opening it. */
export function locateLibrary(): LibraryLocation {
  const where = lookup();
  if (where.kind === "library") return { path: where.path, source: "env" };
  const root = where.root;
  const entry = join(root, cacheEntryName());
  const path = join(entry, libraryFileName());
  // The loader stats the root and reads the entry's two files (Deno checks the reads too; this
  // says what to grant). The root, not the entry, is suggested: it holds every version's entry,
  // so the grant survives upgrades. A --deny-read rule elsewhere (e.g. on the entry's C headers
  // or the build directory) does not matter, as no native code reads through this grant.
  for (const target of [root, join(entry, "manifest.json"), path]) {
    requirePermission(
      { name: "read", path: target },
      `libwasmtime: reading the library cache at ${root} (found through ${where.variable}) ` +
        "needs read access",
      // The root is only stat'ed, by JS (Deno applies the deny rules itself).
      { suggest: root, partialIsEnough: target === root },
    );
  }
  let manifest: CacheManifest;
  try {
    manifest = JSON.parse(Deno.readTextFileSync(join(entry, "manifest.json")));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      const pinned = PREBUILT.targets[Deno.build.target];
      // The loader itself never downloads: it is synchronous and an app's permission line
      // should not need the network; build-native does it once, ahead of time.
      const how = pinned && PREBUILT.crateHash === NATIVE_CRATE.hash
        ? `downloads the verified prebuilt library for ${Deno.build.target} (no Rust needed) ` +
          "or builds it from source"
        : `builds it from source (this version ships no prebuilt library for ${Deno.build.target})`;
      throw new LibraryError(
        `libwasmtime ${NATIVE_CRATE.wasmtimeVersion} is not installed yet (nothing cached at ` +
          `${entry}, found through ${where.variable}). Run ${BUILD_HINT} with the same ` +
          `${where.variable}; it ${how}. Or set ${LIB_ENV} to a library built from native/.`,
      );
    }
    throw new LibraryError(
      `libwasmtime: the cache manifest in ${entry} is unreadable (${
        (error as Error).message
      }); run ${BUILD_HINT} to rebuild it`,
      { cause: error },
    );
  }
  let untrusted: string | undefined;
  try {
    untrusted = untrustedEntry(root, entry, ["manifest.json", libraryFileName()]);
  } catch (error) {
    throw new LibraryError(
      `libwasmtime: the cached library ${path} is missing; run ${BUILD_HINT} to rebuild it`,
      { cause: error },
    );
  }
  if (untrusted) throw new LibraryError(`libwasmtime: refusing the cached library: ${untrusted}`);
  const size = Deno.statSync(path).size;
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
