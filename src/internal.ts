/**
 * Protocols between modules that are not part of the public API.
 *
 * @module
 */

/**
 * How a `WasiConfig` (src/wasi, a layer above core) hands its native `wasi_config_t *` to a
 * `Store`: src/wasi/config.ts fills `intoNative` when it loads, so core reaches WASI without
 * importing it. `intoNative` consumes the configuration and returns the owned pointer, or
 * undefined for an object that is not a WasiConfig.
 */
export const wasiBridge: {
  intoNative?: (config: unknown) => Deno.PointerObject | undefined;
  /**
   * Hands the network gate of a config just built to the store whose context took it (null:
   * the store refused the config; the gate is freed). True if the store now has a network.
   */
  attachNetwork?: (config: unknown, context: Deno.PointerObject | null) => boolean;
} = {};

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
