/**
 * The JS-stack guard of component calls whose instance has JS host functions. Component host
 * functions are plain `Deno.UnsafeCallback`s (the native trampoline of core host functions has
 * another signature), so nothing native checks the stack before JS is entered: a host call
 * made below V8's stack region would abort the process. Wasmtime bounds the guest's stack by
 * `maxWasmStack` below the point where the call enters wasm, so a call that starts at least
 * that much (plus a margin for the host function's own frames) above the lowest address JS
 * can reach can never take a host call too deep. Closer to the floor the call is refused.
 *
 * @module
 */
import { measureJsStackFloor } from "../core/host.ts";
import { ffi } from "../ffi/symbols.ts";
import type { Store } from "../core/store.ts";

/** Wasmtime's default `max_wasm_stack`. */
const DEFAULT_MAX_WASM_STACK = 512 << 10;
/** Stack a JS host function needs above V8's floor (as native/src/thread.rs assumes). */
const JS_STACK_MARGIN = 96 << 10;

/** Throws if a call entering wasm here could take a host call below V8's stack region. */
export function checkJsStack(store: Store, name: string): void {
  const floor = measureJsStackFloor();
  const here = Number(ffi().wasmtime_deno_stack_here());
  const wasm = store.engine.options.maxWasmStack ?? DEFAULT_MAX_WASM_STACK;
  if (here - floor < wasm + JS_STACK_MARGIN) {
    throw new RangeError(
      `${name}: too little stack left to call a component with JS host functions ` +
        `(${Math.round((here - floor) / 1024)} KiB above JS's limit, ${
          Math.round((wasm + JS_STACK_MARGIN) / 1024)
        } KiB needed); call it from a shallower JS stack, or lower the engine's maxWasmStack`,
    );
  }
}
