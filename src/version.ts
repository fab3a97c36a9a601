/**
 * Version of Wasmtime this package runs.
 *
 * @module
 */
import { NATIVE_CRATE } from "./package/native_crate.ts";

/**
 * The Wasmtime release this package runs, e.g. `"48.0.8"`. A constant: the loader refuses a
 * libwasmtime of any other release, so it is also the version of the loaded library. (Creating
 * an `Engine` is the way to check that the library can be found and opened.)
 *
 * @example
 * ```ts
 * import { version } from "@wasmtime-deno/wasmtime";
 * console.log(`Wasmtime ${version}`);
 * ```
 */
export const version: string = NATIVE_CRATE.wasmtimeVersion;
