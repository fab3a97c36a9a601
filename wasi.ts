/**
 * WASI preview 1 for Deno: run WASI programs with exactly the capabilities you grant, never more
 * than the Deno process has.
 *
 * @example
 * ```ts
 * import { runWasi } from "@wasmtime-deno/wasmtime/wasi";
 * const result = await runWasi("app.wasm", { args: ["app"], timeoutMs: 5_000 });
 * console.log(result.exitCode, result.stdoutText);
 * ```
 *
 * @module
 */
export {
  CapturedOutput,
  DEFAULT_CAPTURE_LIMIT,
  type NetworkOptions,
  type OutputTarget,
  type PreopenOptions,
  type StdinSource,
  WasiConfig,
} from "./src/wasi/config.ts";
export {
  instantiateWasi,
  limitedEngineOptions,
  type PreopenSpec,
  runWasi,
  type RunWasiOptions,
  WASI_DEFAULT_LIMITS,
  wasiConfigFrom,
  type WasiInstance,
  type WasiLink,
  type WasiOutput,
  type WasiResult,
} from "./src/wasi/run.ts";
export { WasiExit, WasiTrap } from "./src/errors.ts";
