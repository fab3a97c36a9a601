/**
 * Host functions written in JS. Each is registered with a native trampoline (see
 * native/src/lib.rs) that copies arguments into a JS-owned scratch buffer, refuses to enter JS
 * on Wasmtime's async fiber, and copies results back; Wasmtime frees the native side, which
 * queues the id so that JS can close the callback later.
 *
 * @module
 */
import { beginHostCall, Caller, endHostCall } from "./caller.ts";
import { WasmtimeError } from "../errors.ts";
import { hostFailure } from "./failure.ts";
import { ffi, type HostCallbackHandle, newHostCallback } from "../ffi/symbols.ts";
import { VAL_RAW_SIZE } from "../ffi/layout.ts";
import { revalidateAllViews, type Store, storeFromContext } from "./store.ts";
import { type FuncType, funcTypePointer } from "./types.ts";
import { nativeVecParts, readPointers } from "../ffi/raw.ts";
import { HOST_OWNER, registerHost } from "./registry.ts";
import {
  isConcreteRef,
  isNumeric,
  isSimpleNumeric,
  numericReader,
  numericWriter,
  readRaw,
  writeRaw,
} from "./values.ts";

/**
 * A host function implemented in JS. Receives the caller, then one JS value per parameter, and
 * returns undefined (no results), one value, or an array (several results).
 *
 * @example
 * ```ts
 * import type { HostFunction } from "@wasmtime-deno/wasmtime";
 * const add: HostFunction = (_caller, a: number, b: number) => a + b;
 * ```
 */
// deno-lint-ignore no-explicit-any
export type HostFunction = (caller: Caller, ...args: any[]) => unknown;

let trampoline: Deno.PointerObject | null = null;
let envFinalizer: Deno.PointerObject | null = null;
let hostOk: Deno.PointerObject | null = null;

/** The native trampoline and finalizer every synchronous host function is registered with. */
export function hostTrampoline(): { callback: Deno.PointerObject; finalizer: Deno.PointerObject } {
  trampoline ??= ffi().wasmtime_deno_host_trampoline();
  envFinalizer ??= ffi().wasmtime_deno_host_env_finalizer();
  return { callback: trampoline!, finalizer: envFinalizer! };
}

/**
 * A host function ready to hand to Wasmtime: pass `callback` with `data` (a native HostEnv)
 * and `finalizer` to `wasmtime_func_new_unchecked` or `wasmtime_linker_define_func_unchecked`.
 */
export interface HostCallback {
  callback: Deno.PointerObject;
  data: Deno.PointerObject;
  finalizer: Deno.PointerObject;
}

/**
 * A host function as V8 takes it in an imports object: one JS value per parameter, no Caller.
 *
 * @example
 * ```ts
 * import type { PlainHostFunction } from "@wasmtime-deno/wasmtime";
 * const add: PlainHostFunction = (a: number, b: number) => a + b;
 * ```
 */
// deno-lint-ignore no-explicit-any
export type PlainHostFunction = (...args: any[]) => unknown;

const NO_TYPES: readonly null[] = [];

/**
 * Owned copies of the native `wasm_valtype_t` of each result of a concrete reference type (null
 * for the others), as `engine` registered them: Wasmtime takes a host function's results
 * unchecked, so each is checked against its type first (a struct of another type there would
 * be memory-unsafe).
 */
function concreteResultTypes(
  type: FuncType,
  engine: object,
): readonly (Deno.PointerObject | null)[] {
  if (!type.results.some(isConcreteRef)) return NO_TYPES;
  const functype = funcTypePointer(type, engine, "host function");
  const natives = readPointers(nativeVecParts(ffi().wasm_functype_results(functype)!));
  return type.results.map((r, i) => isConcreteRef(r) ? ffi().wasm_valtype_copy(natives[i]) : null);
}

/**
 * Creates the native trampoline for a JS host function of signature `type`, for stores of
 * `engine`. `fn` receives the Caller first unless `passCaller` is false (functions of an
 * imports object, called as V8 calls them: wasm arguments only, `this` undefined).
 */
export function createHostCallback(
  type: FuncType,
  fn: HostFunction | PlainHostFunction,
  name: string,
  engine: object,
  passCaller = true,
): HostCallback {
  const ok = hostOk ??= ffi().wasmtime_deno_host_ok()!;
  measureJsStackFloor();
  const { params, results } = type;
  const resultTypes = concreteResultTypes(type, engine);
  const slots = Math.max(params.length, results.length);
  // `slots` values, then the done word the trampoline checks (see native/src/host.rs).
  const buffer = new Uint8Array((slots + 1) * VAL_RAW_SIZE);
  const done = new Uint32Array(buffer.buffer, slots * VAL_RAW_SIZE, 1);
  /**
   * The one bracket of every synchronous host call: the Caller is live, views are revalidated
   * (the guest may have grown a memory), a JS failure becomes a trap that keeps the error aside,
   * and the done word tells the trampoline that the JS body really ran (see native/src/host.rs).
   */
  const bracket = (body: (active: Caller) => void) => (): Deno.PointerValue => {
    const active = beginHostCall(caller);
    try {
      revalidateAllViews();
      body(active);
      return ok;
    } catch (error) {
      return hostFailure(error, name);
    } finally {
      done[0] = 1;
      endHostCall(active);
    }
  };
  const view = new DataView(buffer.buffer);
  const caller = new Caller();
  const args: unknown[] = new Array(params.length);
  // For more than three parameters: [caller, ...args], reused so calls do not allocate.
  const applyArgs: unknown[] = new Array(params.length + 1);
  const needsContext = [...params, ...results].some((t) => !isNumeric(t));
  const register = (callback: HostCallbackHandle): HostCallback => {
    const id = registerHost({
      close: () => {
        callback.close();
        for (const native of resultTypes) if (native !== null) ffi().wasm_valtype_delete(native);
      },
    });
    const native = hostTrampoline();
    return {
      callback: native.callback,
      data: ffi().wasmtime_deno_host_env_new(
        callback.pointer,
        buffer,
        BigInt(slots),
        HOST_OWNER,
        id,
      )!,
      finalizer: native.finalizer,
    };
  };

  if (isSimpleNumeric(params, results) && params.length <= 3) {
    // Numbers only: read and write the scratch buffer through typed arrays, no allocation.
    const [r0, r1, r2] = params.map((t, i) => numericReader(t, buffer.buffer, i * VAL_RAW_SIZE));
    const store = results.length === 0
      ? () => {}
      : numericWriter(results[0], buffer.buffer, 0, `result of ${name}`);
    const write = (result: unknown) => {
      if (result instanceof Promise) throw promiseError(result, name);
      store(result);
    };
    const f = fn as PlainHostFunction;
    const invoke = !passCaller
      ? params.length === 0
        ? () => f()
        : params.length === 1
        ? () => f(r0())
        : params.length === 2
        ? () => f(r0(), r1())
        : () => f(r0(), r1(), r2())
      : params.length === 0
      ? (c: Caller) => f(c)
      : params.length === 1
      ? (c: Caller) => f(c, r0())
      : params.length === 2
      ? (c: Caller) => f(c, r0(), r1())
      : (c: Caller) => f(c, r0(), r1(), r2());
    return register(newHostCallback(bracket((active) => write(invoke(active)))));
  }

  return register(newHostCallback(bracket((active) => {
    try {
      let store: Store | undefined;
      let context: Deno.PointerObject | null = null;
      if (needsContext) {
        context = ffi().wasmtime_caller_context(ffi().wasmtime_deno_current_caller());
        store = storeFromContext(context!);
      }
      for (let i = 0; i < params.length; i++) {
        args[i] = readRaw(view, i * VAL_RAW_SIZE, params[i], store!, context!);
      }
      let result: unknown;
      if (!passCaller) {
        // apply copies the scratch `args` array onto the stack: nothing is allocated.
        result = Reflect.apply(fn, undefined, args);
      } else {
        switch (params.length) {
          case 0:
            result = fn(active);
            break;
          case 1:
            result = fn(active, args[0]);
            break;
          case 2:
            result = fn(active, args[0], args[1]);
            break;
          case 3:
            result = fn(active, args[0], args[1], args[2]);
            break;
          default:
            applyArgs[0] = active;
            for (let i = 0; i < params.length; i++) applyArgs[i + 1] = args[i];
            result = fn.apply(undefined, applyArgs as Parameters<HostFunction>);
        }
      }
      if (result instanceof Promise) throw promiseError(result, name);
      if (results.length === 1) {
        const what = `result of ${name}`;
        writeRaw(view, 0, results[0], result, store!, context!, what, resultTypes[0]);
      } else if (results.length > 1) {
        if (!Array.isArray(result) || result.length !== results.length) {
          throw new WasmtimeError(
            `host function ${name} must return an array of ${results.length} values (${
              results.join(", ")
            })`,
          );
        }
        // Read every element before writing any slot: an element getter (or a Proxy) may call
        // back into wasm and through this very function, which reuses the scratch slots.
        const values = Array.from(result as unknown[]);
        for (let i = 0; i < results.length; i++) {
          writeRaw(
            view,
            i * VAL_RAW_SIZE,
            results[i],
            values[i],
            store!,
            context!,
            `result ${i} of ${name}`,
            resultTypes[i],
          );
        }
      }
    } finally {
      args.fill(undefined);
      applyArgs.fill(undefined);
    }
  })));
}

let jsStackFloor = 0;

/**
 * Measures, once per thread, the lowest stack address JS can reach, for the native trampoline
 * (and returns it): V8 aborts the process when JS is entered below its stack region, and deep
 * wasm frames (which V8 does not see) can take a host call there. Recursing until V8's
 * RangeError costs about a millisecond.
 */
export function measureJsStackFloor(): number {
  if (jsStackFloor !== 0) return jsStackFloor;
  const here = ffi().wasmtime_deno_stack_here;
  let lowest = Number.MAX_SAFE_INTEGER;
  const dive = (): void => {
    const address = Number(here());
    if (address < lowest) lowest = address;
    dive();
  };
  try {
    dive();
  } catch {
    // RangeError: the bottom of V8's stack region.
  }
  jsStackFloor = lowest;
  ffi().wasmtime_deno_set_js_stack_floor(BigInt(lowest));
  return lowest;
}

function promiseError(result: Promise<unknown>, name: string): WasmtimeError {
  result.catch(() => {});
  return new WasmtimeError(
    `host function ${name} returned a Promise; synchronous calls cannot wait for it ` +
      "(use Linker.defineAsyncFunc with callAsync)",
  );
}
