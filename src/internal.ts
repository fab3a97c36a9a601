/**
 * Protocols between modules that are not part of the public API.
 *
 * @module
 */

/** Method by which a WASI configuration hands its native `wasi_config_t *` to a store. */
export const WASI_INTO_NATIVE: unique symbol = Symbol("wasmtime-deno.wasiIntoNative");

/** Something that can be turned into a native WASI configuration exactly once. */
export interface WasiSource {
  /** Consumes the configuration and returns the owned `wasi_config_t *`. */
  [WASI_INTO_NATIVE](): Deno.PointerObject;
}
