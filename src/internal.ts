/**
 * Protocols between modules that are not part of the public API.
 *
 * @module
 */

/**
 * Method by which a WASI configuration hands its native `wasi_config_t *` to a store. Part of
 * the protocol between `WasiConfig` and `Store`; applications do not call it.
 *
 * @example
 * ```ts
 * import { WASI_INTO_NATIVE } from "@wasmtime-deno/wasmtime";
 * console.log(typeof WASI_INTO_NATIVE); // "symbol"
 * ```
 */
export const WASI_INTO_NATIVE: unique symbol = Symbol("wasmtime-deno.wasiIntoNative");

/**
 * Something that can be turned into a native WASI configuration exactly once: a `WasiConfig`
 * from `@wasmtime-deno/wasmtime/wasi`, passed as `new Store(engine, { wasi })`.
 *
 * @example
 * ```ts
 * import { Engine, Store } from "@wasmtime-deno/wasmtime";
 * import { WasiConfig } from "@wasmtime-deno/wasmtime/wasi";
 * using engine = new Engine();
 * using store = new Store(engine, { wasi: new WasiConfig().args(["app"]) });
 * ```
 */
export interface WasiSource {
  /** Consumes the configuration and returns the owned `wasi_config_t *`. */
  [WASI_INTO_NATIVE](): Deno.PointerObject;
}
