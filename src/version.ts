/**
 * Version of the loaded library.
 *
 * @module
 */
import { readCString } from "./ffi/raw.ts";
import { ffi } from "./ffi/symbols.ts";

/**
 * The Wasmtime release of the loaded libwasmtime, e.g. `"48.0.8"`. Opens the library on first
 * use, so it is also the quickest way to check that the binding can find it.
 *
 * @example
 * ```ts
 * import { version } from "@wasmtime-deno/wasmtime";
 * console.log(`Wasmtime ${version()}`);
 * ```
 */
export function version(): string {
  return readCString(ffi().wasmtime_deno_version()!);
}
