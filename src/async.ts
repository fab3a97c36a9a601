/**
 * Async execution: guest calls that keep Deno's event loop running, and host functions that
 * return Promises.
 *
 * A call runs as a Wasmtime call future (`wasmtime_func_call_async`) polled from JS. The guest
 * yields back to JS periodically (every epoch tick of the engine's native ticker, or every
 * slice of fuel), and JS then lets the event loop run one turn before polling again. Async
 * host functions are recorded natively while the guest is suspended on its fiber; JS performs
 * them between polls, on the main stack, and completes them before the next poll.
 *
 * @module
 */
import { setImmediate } from "node:timers";
import { utf8 } from "./bytes.ts";
import { WasmtimeError } from "./error_types.ts";
import { takeTrap, TrapCode } from "./errors.ts";
import { failure } from "./failure.ts";
import { acquireTicker, releaseTicker } from "./engine.ts";
import { ffi } from "./ffi.ts";
import { Caller, swapCaller } from "./caller.ts";
import { asyncHostById } from "./host.ts";
import { VAL_SIZE } from "./layout.ts";
import { revalidateAllViews, revalidateViews } from "./store.ts";
import { acquireAsync, contextOf, epochControlOf, type Store } from "./store.ts";
import type { ValType } from "./types.ts";
import { readVal, writeVal } from "./values.ts";

/**
 * Options of an async (or timed) call.
 *
 * @example
 * ```ts
 * import type { CallOptions, Func } from "@wasmtime-deno/wasmtime";
 * async function runBriefly(run: Func): Promise<unknown> {
 *   const options: CallOptions = { timeoutMs: 200, signal: AbortSignal.timeout(1_000) };
 *   return await run.callAsyncWith(options);
 * }
 * ```
 */
export interface CallOptions {
  /**
   * Wall-clock limit in milliseconds; the guest then traps with `TrapCode.Interrupt`. Needs
   * `new Engine({ epochInterruption: true })`.
   */
  timeoutMs?: number;
  /** Cancels the call: it rejects with a `Trap` (code Interrupt); the store stays usable. */
  signal?: AbortSignal;
}

/** Fuel consumed between two yields of an async call when the engine meters fuel. */
const FUEL_SLICE = 2_000_000n;
/** Effectively "never": the epoch deadline outside timed and async calls. */
const FAR_DEADLINE = BigInt(2 ** 53 - 1);

/**
 * Resolves after one turn of the event loop. `setImmediate` lets due timers and I/O run without
 * the ~2 ms minimum delay of `setTimeout(0)` (measured: 1 ms guest slices kept a 5 ms interval
 * on time and cost about 9% throughput, against 60% with setTimeout).
 */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function checkOptions(store: Store, options: CallOptions, action: string): void {
  const { timeoutMs, signal } = options;
  if (timeoutMs !== undefined) {
    if (typeof timeoutMs !== "number" || !(timeoutMs >= 0)) {
      throw new WasmtimeError(`${action}: timeoutMs must be a non-negative number`);
    }
    if (!store.engine.options.epochInterruption) {
      throw new WasmtimeError(
        `${action}: timeouts need an engine with epoch interruption: ` +
          "new Engine({ epochInterruption: true })",
      );
    }
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new WasmtimeError(`${action}: signal must be an AbortSignal`);
  }
}

function interrupted(reason: string, cause?: unknown): WasmtimeError {
  // Built like a trap from Wasmtime, so callers can handle both the same way.
  const trap = takeTrap(ffi().wasmtime_trap_new_code(TrapCode.Interrupt)!);
  Object.defineProperty(trap, "message", { value: `${reason} (${trap.message})` });
  if (cause !== undefined) Object.defineProperty(trap, "cause", { value: cause });
  return trap;
}

/**
 * Runs a timed synchronous call: the engine's native ticker advances the epoch while the guest
 * blocks the JS thread, and the store's epoch control traps the guest once `timeoutMs` passed.
 */
export function withTimeout<T>(store: Store, options: CallOptions, run: () => T): T {
  checkOptions(store, options, "callWith");
  if (options.signal?.aborted) throw interrupted("the call was aborted", options.signal.reason);
  if (options.timeoutMs === undefined) return run();
  const context = contextOf(store, "callWith");
  const control = epochControlOf(store)!;
  acquireTicker(store.engine);
  try {
    ffi().wasmtime_deno_epoch_control_set(
      control,
      true,
      BigInt(Math.max(1, Math.round(options.timeoutMs * 1000))),
    );
    ffi().wasmtime_context_set_epoch_deadline(context, 1n);
    return run();
  } finally {
    ffi().wasmtime_deno_epoch_control_set(control, false, 0n);
    ffi().wasmtime_context_set_epoch_deadline(context, FAR_DEADLINE);
    releaseTicker(store.engine);
  }
}

/**
 * Drives a call future to completion. `start` receives the trap and error out-parameters and
 * returns the future. Rejects with the guest's trap, the host function's original error, or
 * an Interrupt trap on timeout / abort / store disposal.
 */
export async function driveFuture(
  store: Store,
  action: string,
  options: CallOptions,
  start: (
    context: Deno.PointerObject,
    trap: Uint8Array<ArrayBuffer>,
    error: Uint8Array<ArrayBuffer>,
  ) => Deno.PointerValue,
): Promise<void> {
  checkOptions(store, options, action);
  let cancelled: (() => WasmtimeError) | undefined;
  const cancelWaiters: (() => void)[] = [];
  const cancel = (make: () => WasmtimeError): void => {
    cancelled ??= make;
    for (const wake of cancelWaiters.splice(0)) wake();
  };
  const release = await acquireAsync(
    store,
    () => cancel(() => interrupted(`${action}: the store was disposed during the call`)),
  );
  const context = contextOf(store, action);
  const engine = store.engine;
  const epoch = engine.options.epochInterruption === true;
  const fuel = engine.options.consumeFuel === true;
  const control = epochControlOf(store);
  const startedAt = performance.now();
  const deadline = options.timeoutMs === undefined ? Infinity : startedAt + options.timeoutMs;
  const onAbort = () =>
    cancel(() => interrupted(`${action}: the call was aborted`, options.signal?.reason));
  options.signal?.addEventListener("abort", onAbort);
  if (options.signal?.aborted) onAbort();
  const timer = Number.isFinite(deadline)
    ? setTimeout(
      () => cancel(() => interrupted(`${action}: timed out after ${options.timeoutMs} ms`)),
      options.timeoutMs,
    )
    : undefined;

  const trap = new Uint8Array(8);
  const error = new Uint8Array(8);
  const trapWords = new Uint32Array(trap.buffer);
  const errorWords = new Uint32Array(error.buffer);
  let hostError: { error: unknown } | undefined;
  let future: Deno.PointerValue = null;
  let outcome: WasmtimeError | undefined;
  try {
    if (epoch && control !== null) {
      acquireTicker(engine);
      const remainingUs = Number.isFinite(deadline) ? Math.max(1, options.timeoutMs! * 1000) : 0;
      ffi().wasmtime_deno_epoch_control_set(control, true, BigInt(Math.round(remainingUs)));
      ffi().wasmtime_context_set_epoch_deadline(context, 1n);
    }
    if (fuel) ffi().wasmtime_context_fuel_async_yield_interval(context, FUEL_SLICE);
    future = start(context, trap, error);
    const info = new BigUint64Array(6);
    const infoBytes = new Uint8Array(info.buffer);
    for (;;) {
      if (cancelled) {
        outcome = cancelled();
        break;
      }
      if (ffi().wasmtime_deno_future_poll(future!)) break;
      revalidateViews(store); // JS runs next: the guest may have grown (moved) a memory
      const call = ffi().wasmtime_deno_async_take_pending(infoBytes);
      if (call === null) {
        await nextTurn();
        continue;
      }
      const failure = await performHostCall(store, context, info, cancelWaiters, () => cancelled);
      if (failure === undefined) {
        ffi().wasmtime_deno_async_finish(call, null);
      } else if ("cancelled" in failure) {
        ffi().wasmtime_deno_async_finish(call, ffi().wasmtime_trap_new_code(TrapCode.Interrupt));
      } else {
        hostError = failure;
        const message = utf8(`async host function threw: ${String(failure.error)}`);
        ffi().wasmtime_deno_async_finish(
          call,
          ffi().wasmtime_trap_new(message, BigInt(message.length)),
        );
      }
    }
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
    // Dropping an unfinished future unwinds the suspended guest; the store stays usable.
    if (future !== null) ffi().wasmtime_call_future_delete(future);
    if (epoch && control !== null) {
      ffi().wasmtime_deno_epoch_control_set(control, false, 0n);
      ffi().wasmtime_context_set_epoch_deadline(context, FAR_DEADLINE);
      releaseTicker(engine);
    }
    if (fuel) ffi().wasmtime_context_fuel_async_yield_interval(context, 0n);
    release();
  }
  if (outcome !== undefined) {
    freeOutParameters(trapWords, errorWords);
    throw outcome;
  }
  const failed = trapWords[0] !== 0 || trapWords[1] !== 0 || errorWords[0] !== 0 ||
    errorWords[1] !== 0;
  if (!failed) return;
  const converted = failure(pointerIn(errorWords), pointerIn(trapWords), action);
  if (hostError !== undefined) throw hostError.error;
  if (cancelled !== undefined && converted instanceof Error && "code" in converted) {
    throw cancelled();
  }
  throw converted;
}

function pointerIn(words: Uint32Array): Deno.PointerValue {
  return Deno.UnsafePointer.create(BigInt(words[0]) | (BigInt(words[1]) << 32n));
}

function freeOutParameters(trapWords: Uint32Array, errorWords: Uint32Array): void {
  const trapPointer = pointerIn(trapWords);
  if (trapPointer !== null) ffi().wasm_trap_delete(trapPointer);
  const errorPointer = pointerIn(errorWords);
  if (errorPointer !== null) ffi().wasmtime_error_delete(errorPointer);
}

/**
 * Performs one recorded async host call: reads its arguments, awaits the JS function, writes
 * its results. Returns undefined on success, the thrown error, or `{ cancelled }`.
 */
async function performHostCall(
  store: Store,
  context: Deno.PointerObject,
  info: BigUint64Array,
  cancelWaiters: (() => void)[],
  isCancelled: () => unknown,
): Promise<undefined | { error: unknown } | { cancelled: true }> {
  const host = asyncHostById(info[0]);
  if (host === undefined) return { error: new WasmtimeError("unknown async host function") };
  const { fn, type, name } = host;
  const nargs = Number(info[3]);
  const nresults = Number(info[5]);
  const caller = new Caller();
  swapCaller(caller, Deno.UnsafePointer.create(info[1]));
  try {
    revalidateAllViews();
    const argBytes = new Uint8Array(Math.max(1, nargs) * VAL_SIZE);
    if (nargs > 0) {
      ffi().wasmtime_deno_read(
        argBytes,
        Deno.UnsafePointer.create(info[2]),
        BigInt(nargs * VAL_SIZE),
      );
    }
    const args: unknown[] = [];
    for (let i = 0; i < nargs; i++) {
      args.push(
        readVal(argBytes.subarray(i * VAL_SIZE, (i + 1) * VAL_SIZE), store, context, false, true),
      );
    }
    let wake!: () => void;
    const cancelledPromise = new Promise<"cancelled">((resolve) => {
      wake = () => resolve("cancelled");
    });
    cancelWaiters.push(wake);
    if (isCancelled()) return { cancelled: true };
    const result = await Promise.race([Promise.resolve(fn(caller, ...args)), cancelledPromise]);
    if (isCancelled()) return { cancelled: true };
    writeResults(
      store,
      context,
      type.results,
      result,
      name,
      Deno.UnsafePointer.create(info[4]),
      nresults,
    );
    return undefined;
  } catch (error) {
    return { error };
  } finally {
    swapCaller(caller, null);
  }
}

function writeResults(
  store: Store,
  context: Deno.PointerObject,
  types: readonly ValType[],
  result: unknown,
  name: string,
  destination: Deno.PointerValue,
  count: number,
): void {
  if (count === 0) return;
  const values = count === 1 ? [result] : result;
  if (!Array.isArray(values) || values.length !== count) {
    throw new WasmtimeError(
      `async host function ${name} must resolve to an array of ${count} values (${
        types.join(", ")
      })`,
    );
  }
  const bytes = new Uint8Array(count * VAL_SIZE);
  for (let i = 0; i < count; i++) {
    writeVal(
      bytes.subarray(i * VAL_SIZE, (i + 1) * VAL_SIZE),
      types[i],
      values[i],
      store,
      context,
      `result ${i} of ${name}`,
    );
  }
  ffi().wasmtime_deno_write(destination!, bytes, BigInt(bytes.length));
}

/** One event-loop turn in which timers can fire (setTimeout 0, measured unclamped in Deno). */
