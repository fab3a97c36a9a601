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

// ---- objects made from raw native fields ------------------------------------------------------

/** The fields handed to the constructor {@linkcode fromRaw} is running, if any. */
let pendingRaw: object | undefined;

/**
 * Makes an object of class `cls` from raw native fields (the struct bytes Wasmtime filled in, a
 * pointer to own) instead of its public constructor arguments: the binding's one way to wrap
 * what Wasmtime hands back, like wasmtime-py's `_from_raw`. JS cannot make an object with
 * `#private` fields without running its constructor, so every such constructor begins with
 * `const raw = takeRaw<Fields>()` and, when it gets fields, stores them and returns. The
 * fields never travel through a constructor parameter, so public constructors show only
 * public parameters. Called from the class's `static {}` block (see `funcFromStruct`).
 */
export function fromRaw<T>(cls: { prototype: T }, fields: object): T {
  pendingRaw = fields;
  try {
    return Reflect.construct(cls as unknown as new () => T, []);
  } finally {
    pendingRaw = undefined;
  }
}

/** First thing in a constructor: the fields {@linkcode fromRaw} passed to it, or undefined. */
export function takeRaw<Fields extends object>(): Fields | undefined {
  const fields = pendingRaw as Fields | undefined;
  pendingRaw = undefined;
  return fields;
}
