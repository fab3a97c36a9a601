/**
 * The binding's error classes. Pure definitions: turning native error and trap pointers into
 * these lives in `errors.ts`.
 *
 * @module
 */

/**
 * An error reported by Wasmtime or by the binding: invalid modules, link errors, misuse of the
 * API (use after dispose, wrong argument types, ...).
 *
 * @example
 * ```ts
 * import { Engine, Module, WasmtimeError } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine();
 * try {
 *   new Module(engine, new Uint8Array([1, 2, 3]));
 * } catch (e) {
 *   if (e instanceof WasmtimeError) console.log(e.message);
 * }
 * ```
 */
export class WasmtimeError extends Error {
  /** Creates an error with a message that says what went wrong and what to do next. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "WasmtimeError";
  }
}

/**
 * libwasmtime could not be found or opened. The message names the command or flag that fixes
 * it.
 *
 * @example
 * ```ts
 * import { LibraryError, version } from "@wasmtime-deno/wasmtime";
 * try {
 *   version();
 * } catch (e) {
 *   if (e instanceof LibraryError) console.error(e.message); // e.g. "run deno task build-native"
 * }
 * ```
 */
export class LibraryError extends WasmtimeError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "LibraryError";
  }
}

/**
 * Deno did not grant a permission the binding needs (to open libwasmtime, or to hand a host
 * resource to a guest). `flag` is the command-line flag that grants it.
 *
 * @example
 * ```ts
 * import { PermissionError, version } from "@wasmtime-deno/wasmtime";
 * try {
 *   version();
 * } catch (e) {
 *   if (e instanceof PermissionError) console.error(`run again with ${e.flag}`);
 * }
 * ```
 */
export class PermissionError extends WasmtimeError {
  /** The flag to add, e.g. `--allow-read=/data`. */
  readonly flag: string;
  /** Creates the error for a missing `flag`. */
  constructor(message: string, flag: string, options?: ErrorOptions) {
    super(`${message}: run again with ${flag}`, options);
    this.name = "PermissionError";
    this.flag = flag;
  }
}
