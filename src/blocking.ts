/**
 * Synchronous calls that run as call futures. A store whose WASI is linked asynchronously
 * (`Linker.defineWasi({ async: true })`, which `runWasi` uses) only accepts async entry points,
 * because a blocking WASI call must be a future for a deadline to drop it. Such a call can
 * still be synchronous for its caller: the future is polled here on the calling thread, and
 * while the guest waits (a WASI sleep, a read from an idle pipe) the thread sleeps until the
 * future's waker fires or the call's deadline passes, whichever comes first.
 *
 * @module
 */
import type { CallOptions } from "./async.ts";
import { acquireTicker, releaseTicker } from "./engine.ts";
import { WasmtimeError } from "./error_types.ts";
import { takeTrap, TrapCode } from "./errors.ts";
import { failure } from "./failure.ts";
import { ffi } from "./ffi.ts";
import { contextOf, enterStore, epochControlOf, leaveStore, type Store } from "./store.ts";

/** Effectively "never": the epoch deadline outside timed and async calls. */
const FAR_DEADLINE = BigInt(2 ** 53 - 1);
const POLL_READY = 1;
const POLL_AGAIN = 2;
const POLL_NO_RUNTIME = 3;
/** Longest single wait without a deadline; a lost wake-up then costs at most this much. */
const MAX_WAIT_US = 1_000_000;

/** Where a blocking call stands after polling: still running, finished, or stopped early. */
type Outcome = undefined | WasmtimeError;

function interrupted(reason: string): WasmtimeError {
  const trap = takeTrap(ffi().wasmtime_trap_new_code(TrapCode.Interrupt)!);
  Object.defineProperty(trap, "message", { value: `${reason} (${trap.message})` });
  return trap;
}

/**
 * Runs the call future made by `start` to completion on this thread. `start` receives the
 * context and the trap / error out-parameters. Throws the guest's trap or error, or an Interrupt
 * trap once `options.timeoutMs` passed, wherever the guest is (computing, or waiting in WASI).
 */
export function driveFutureBlocking(
  store: Store,
  action: string,
  options: CallOptions,
  start: (
    context: Deno.PointerObject,
    trap: Uint8Array<ArrayBuffer>,
    error: Uint8Array<ArrayBuffer>,
  ) => Deno.PointerValue,
): void {
  const { timeoutMs } = options;
  if (timeoutMs !== undefined && !(typeof timeoutMs === "number" && timeoutMs >= 0)) {
    throw new WasmtimeError(`${action}: timeoutMs must be a non-negative number`);
  }
  if (timeoutMs !== undefined && !store.engine.options.epochInterruption) {
    throw new WasmtimeError(
      `${action}: timeouts need an engine with epoch interruption: ` +
        "new Engine({ epochInterruption: true })",
    );
  }
  if (options.signal?.aborted) throw interrupted(`${action}: the call was aborted`);
  const context = contextOf(store, action);
  const control = epochControlOf(store);
  const deadline = timeoutMs === undefined ? Infinity : performance.now() + timeoutMs;
  const trap = new Uint8Array(8);
  const error = new Uint8Array(8);
  const info = new Uint8Array(48);
  let outcome: Outcome;
  enterStore(store);
  const waker = ffi().wasmtime_deno_waker_new()!;
  let future: Deno.PointerValue = null;
  if (control !== null) {
    acquireTicker(store.engine);
    const us = Number.isFinite(deadline) ? Math.max(1, Math.round(timeoutMs! * 1000)) : 0;
    ffi().wasmtime_deno_epoch_control_set(control, true, BigInt(us));
    ffi().wasmtime_context_set_epoch_deadline(context, 1n);
  }
  try {
    future = start(context, trap, error);
    for (;;) {
      const status = ffi().wasmtime_deno_future_poll(future!, waker);
      if (status === POLL_READY) break;
      if (status === POLL_NO_RUNTIME) {
        outcome = new WasmtimeError(`${action}: the WASI I/O thread could not be started`);
        break;
      }
      const call = ffi().wasmtime_deno_async_take_pending(info);
      if (call !== null) {
        // A JS async host function cannot be awaited by a synchronous caller.
        const message = new TextEncoder().encode(
          "an async host function was called during a synchronous call; use callAsync",
        );
        ffi().wasmtime_deno_async_finish(
          call,
          ffi().wasmtime_trap_new(message, BigInt(message.length)),
        );
        continue;
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        outcome = interrupted(`${action}: timed out after ${timeoutMs} ms`);
        break;
      }
      if (status !== POLL_AGAIN) {
        const us = Number.isFinite(left) ? Math.min(Math.ceil(left * 1000), 2 ** 53) : MAX_WAIT_US;
        ffi().wasmtime_deno_waker_wait(waker, BigInt(us));
      }
    }
  } finally {
    // Dropping an unfinished future unwinds the guest (and drops its pending WASI call).
    if (future !== null) ffi().wasmtime_call_future_delete(future);
    ffi().wasmtime_deno_waker_delete(waker);
    if (control !== null) {
      ffi().wasmtime_deno_epoch_control_set(control, false, 0n);
      ffi().wasmtime_context_set_epoch_deadline(context, FAR_DEADLINE);
      releaseTicker(store.engine);
    }
    leaveStore(store);
  }
  const trapPointer = Deno.UnsafePointer.create(new BigUint64Array(trap.buffer)[0]);
  const errorPointer = Deno.UnsafePointer.create(new BigUint64Array(error.buffer)[0]);
  if (outcome !== undefined) {
    if (trapPointer !== null) ffi().wasm_trap_delete(trapPointer);
    if (errorPointer !== null) ffi().wasmtime_error_delete(errorPointer);
    throw outcome;
  }
  if (trapPointer === null && errorPointer === null) return;
  throw failure(errorPointer, trapPointer, action);
}
