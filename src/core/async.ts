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
import type { AsyncLocalStorage } from "node:async_hooks";
import { setImmediate } from "node:timers";
import { OutCell, pointerFromBits } from "../ffi/raw.ts";
import { Trap, TrapCode, WasmtimeError } from "../errors.ts";
import { enterGuest } from "./call.ts";
import { describe, failure, newTrap } from "./failure.ts";
import { exceptionTrap, WasmException } from "./exception.ts";
import { acquireTicker, releaseTicker } from "./engine.ts";
import { ffi } from "../ffi/symbols.ts";
import { Caller, swapCaller } from "./caller.ts";
import { asyncHostById } from "./registry.ts";
import { POLL_AGAIN, POLL_NO_RUNTIME, POLL_READY, VAL_SIZE } from "../ffi/layout.ts";
import { revalidateAllViews, revalidateViews, whileDrivingFuture } from "./store.ts";
import {
  acquireAsync,
  contextOf,
  enterStore,
  epochControlOf,
  FAR_DEADLINE,
  leaveStore,
  type Store,
  storeHasNetwork,
} from "./store.ts";
import { answerNetQuestions } from "./net.ts";
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
   * Wall-clock limit in milliseconds, counted from the moment of the call (time spent waiting
   * for the store counts); the call then fails with a `Trap` (code `Interrupt`). Any
   * non-negative number; `Infinity` means no limit. A timed call inside another one on the same
   * store ends at the earlier of the two deadlines. Needs
   * `new Engine({ epochInterruption: true })`.
   */
  timeoutMs?: number;
  /**
   * Cancels the call: it rejects with a `Trap` (code Interrupt); the store stays usable. An async
   * call needs an engine whose guests yield (`epochInterruption` or `consumeFuel`).
   */
  signal?: AbortSignal;
}

/** Fuel consumed between two yields of an async call when the engine meters fuel. */
const FUEL_SLICE = 2_000_000n;
/** The longest delay `setTimeout` honours (longer ones fire after 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;
/**
 * Deadlines further away than this (about 142 years, in microseconds) are treated as none: the
 * native side adds the timeout to a clock instant, which must not overflow.
 */
const MAX_DEADLINE_US = 2 ** 52;

/**
 * Resolves after one turn of the event loop. `setImmediate` lets due timers and I/O run without
 * the ~2 ms minimum delay of `setTimeout(0)` (measured: 1 ms guest slices kept a 5 ms interval
 * on time and cost about 9% throughput, against 60% with setTimeout).
 */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** `setTimeout` for any finite delay (chained below 2^31 ms); returns the canceller. */
function startTimer(ms: number, fire: () => void): () => void {
  const due = performance.now() + ms;
  let handle: ReturnType<typeof setTimeout>;
  const arm = (left: number): void => {
    handle = left <= MAX_TIMER_MS
      ? setTimeout(fire, left)
      : setTimeout(() => arm(due - performance.now()), MAX_TIMER_MS);
  };
  arm(ms);
  return () => clearTimeout(handle);
}

function checkOptions(store: Store, options: CallOptions, action: string, async: boolean): void {
  if (typeof options !== "object" || options === null) {
    throw new WasmtimeError(`${action}: options must be an object ({ timeoutMs, signal })`);
  }
  const { timeoutMs, signal } = options;
  const engine = store.engine.options;
  if (timeoutMs !== undefined) {
    if (typeof timeoutMs !== "number" || !(timeoutMs >= 0)) {
      throw new WasmtimeError(
        `${action}: timeoutMs must be a non-negative number of milliseconds (Infinity: no limit)`,
      );
    }
    if (!engine.epochInterruption) {
      throw new WasmtimeError(
        `${action}: timeouts need an engine with epoch interruption: ` +
          "new Engine({ epochInterruption: true })",
      );
    }
  }
  if ((timeoutMs !== undefined && timeoutMs !== Infinity) || signal !== undefined) {
    if (engine.sharedMemory) {
      // Wasmtime 48 parks a thread in memory.atomic.wait with no way to wake it but a notify
      // of that very address: a deadline could not be kept, so it is not promised.
      throw new WasmtimeError(
        `${action}: deadlines cannot stop a guest blocked in memory.atomic.wait, which an ` +
          "engine with sharedMemory allows; run such guests in a subprocess you can kill, or " +
          "use an engine without sharedMemory",
      );
    }
  }
  if (signal !== undefined) {
    if (!(signal instanceof AbortSignal)) {
      throw new WasmtimeError(`${action}: signal must be an AbortSignal`);
    }
    if (async && !engine.epochInterruption && !engine.consumeFuel) {
      // The guest would never hand control back, so nothing could observe the abort.
      throw new WasmtimeError(
        `${action}: an AbortSignal needs an engine whose guests yield to the event loop: ` +
          "new Engine({ epochInterruption: true }) (or consumeFuel: true)",
      );
    }
  }
}

/** What Wasmtime reports for an Interrupt trap, kept so both kinds of interruption read alike. */
const INTERRUPT_REPORT = "wasm trap: interrupt";

function interrupted(reason: string, cause?: unknown): Trap {
  // Made like the trap Wasmtime raises when the epoch deadline passes (same code, frames and
  // details), so callers can handle both the same way.
  return new Trap(
    `${reason} (${INTERRUPT_REPORT})`,
    TrapCode.Interrupt,
    [],
    INTERRUPT_REPORT,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Points the store's epoch control at `deadline` (a `performance.now()` time, Infinity for
 * none) and makes the next epoch tick consult it.
 */
function armDeadline(
  control: Deno.PointerObject,
  context: Deno.PointerObject,
  deadline: number,
): void {
  const remainingUs = (deadline - performance.now()) * 1000;
  // 0 = no wall-clock deadline; a deadline already passed still needs a positive value.
  const us = !(remainingUs < MAX_DEADLINE_US) ? 0n : BigInt(Math.max(1, Math.round(remainingUs)));
  ffi().wasmtime_deno_epoch_control_set(control, true, us);
  ffi().wasmtime_context_set_epoch_deadline(context, 1n);
}

function disarmDeadline(control: Deno.PointerObject, context: Deno.PointerObject): void {
  ffi().wasmtime_deno_epoch_control_set(control, false, 0n);
  ffi().wasmtime_context_set_epoch_deadline(context, BigInt(FAR_DEADLINE));
}

/**
 * The effective deadline of the timed synchronous calls running on each store: a call made
 * from a host function inside another timed call may only shorten it, and restores it when it
 * returns.
 */
const syncDeadlines = new WeakMap<Store, number>();

/**
 * Runs a timed synchronous call: the engine's native ticker advances the epoch while the guest
 * blocks the JS thread, and the store's epoch control traps the guest once the earliest active
 * deadline on the store has passed.
 */
export function withTimeout<T>(
  store: Store,
  options: CallOptions,
  run: () => T,
  action: string,
  viaFuture = false,
): T {
  checkOptions(store, options, action, false);
  const context = contextOf(store, action);
  if (options.signal?.aborted) throw interrupted("the call was aborted", options.signal.reason);
  const timeoutMs = options.timeoutMs;
  if (timeoutMs === undefined || timeoutMs === Infinity) return run();
  const control = epochControlOf(store)!;
  const outer = syncDeadlines.get(store);
  const deadline = Math.min(performance.now() + timeoutMs, outer ?? Infinity);
  // Holds the store: if a host function disposes it, the free waits until the deadline is reset.
  enterStore(store, viaFuture);
  try {
    acquireTicker(store.engine);
    try {
      syncDeadlines.set(store, deadline);
      armDeadline(control, context, deadline);
      return run();
    } finally {
      if (outer === undefined) {
        syncDeadlines.delete(store);
        disarmDeadline(control, context);
      } else {
        syncDeadlines.set(store, outer);
        armDeadline(control, context, outer);
      }
      releaseTicker(store.engine);
    }
  } finally {
    leaveStore(store);
  }
}

/** An async host function running for a call on `store` (see {@linkcode refuseReentrant}). */
interface HostFrame {
  store: Store;
  active: boolean;
  parent: HostFrame | undefined;
}

/**
 * The async host calls that (transitively) led to the running JS code. Loaded with the first
 * async host call: merely importing node:async_hooks makes every synchronous host call about
 * 5 ns (10%) slower in Deno 2.9 (measured), a cost only programs with async host functions pay.
 */
let hostFrames: AsyncLocalStorage<HostFrame> | undefined;

async function loadHostFrames(): Promise<AsyncLocalStorage<HostFrame>> {
  const { AsyncLocalStorage } = await import("node:async_hooks");
  return hostFrames ??= new AsyncLocalStorage<HostFrame>();
}

/**
 * An async call into a store made from inside one of that store's running async host functions
 * would wait for the store, which waits for the host function: a silent deadlock. Refuse it.
 */
function refuseReentrant(store: Store, action: string): void {
  for (let frame = hostFrames?.getStore(); frame !== undefined; frame = frame.parent) {
    if (frame.active && frame.store === store) {
      throw new WasmtimeError(
        `${action}: re-entrant async call on a busy store: an async host function of this ` +
          "store is running, and the store only takes the next call after it returns (this " +
          "would deadlock). Call into another Store, or make the call after the host function " +
          "has returned.",
      );
    }
  }
}

/**
 * Starts a call future: receives the store's context and the trap / error out-parameters and
 * returns the `wasmtime_call_future_t *` (func call, instantiation, instance-pre instantiation).
 */
export type StartFuture = (
  context: Deno.PointerObject,
  trap: Uint8Array<ArrayBuffer>,
  error: Uint8Array<ArrayBuffer>,
) => Deno.PointerValue;

/**
 * Drives a call future to completion. `start` receives the store's context and the trap and
 * error out-parameters and returns the future; it runs only once the store is acquired, so it
 * must read native pointers (module, linker, ...) itself, then. Rejects with the guest's trap,
 * the host function's original error, or an Interrupt trap on timeout / abort / store disposal.
 */
export async function driveFuture(
  store: Store,
  action: string,
  options: CallOptions,
  start: StartFuture,
): Promise<void> {
  checkOptions(store, options, action, true);
  refuseReentrant(store, action);
  const { timeoutMs, signal } = options;
  // The deadline and the signal apply from the call on, also while it waits for the store.
  const deadline = timeoutMs === undefined ? Infinity : performance.now() + timeoutMs;
  let cancelled: (() => WasmtimeError) | undefined;
  let wakeQueued!: () => void;
  const whenCancelled = new Promise<void>((resolve) => (wakeQueued = resolve));
  const cancelWaiters: (() => void)[] = [];
  const cancel = (make: () => WasmtimeError): void => {
    cancelled ??= make;
    wakeQueued();
    for (const wake of cancelWaiters.splice(0)) wake();
  };
  const onAbort = () =>
    cancel(() => interrupted(`${action}: the call was aborted`, signal?.reason));
  signal?.addEventListener("abort", onAbort);
  if (signal?.aborted) onAbort();
  const stopTimer = Number.isFinite(deadline)
    ? startTimer(
      timeoutMs!,
      () => cancel(() => interrupted(`${action}: timed out after ${timeoutMs} ms`)),
    )
    : undefined;
  const stopWatching = () => {
    stopTimer?.();
    signal?.removeEventListener("abort", onAbort);
  };

  let release: (() => void) | null;
  try {
    release = await acquireAsync(
      store,
      () => cancel(() => interrupted(`${action}: the store was disposed during the call`)),
      whenCancelled,
    );
  } catch (error) {
    stopWatching();
    throw error;
  }
  if (release === null) {
    // Cancelled while queued: the call left the queue without touching the store.
    stopWatching();
    throw cancelled!();
  }
  const context = contextOf(store, action);
  const engine = store.engine;
  const epoch = engine.options.epochInterruption === true;
  const fuel = engine.options.consumeFuel === true;
  const control = epochControlOf(store);

  const trap = new OutCell();
  const error = new OutCell();
  let hostError: { error: unknown } | undefined;
  let future: Deno.PointerValue = null;
  let waker: Deno.PointerValue = null;
  let outcome: WasmtimeError | undefined;
  let ticking = false;
  try {
    if (epoch && control !== null) {
      acquireTicker(engine);
      ticking = true;
      armDeadline(control, context, deadline);
    }
    if (fuel) ffi().wasmtime_context_fuel_async_yield_interval(context, FUEL_SLICE);
    future = start(context, trap.bytes, error.bytes);
    waker = ffi().wasmtime_deno_waker_new()!;
    const network = storeHasNetwork(store);
    const info = new BigUint64Array(6);
    const infoBytes = new Uint8Array(info.buffer);
    for (;;) {
      if (cancelled) {
        outcome = cancelled();
        break;
      }
      const status = ffi().wasmtime_deno_future_poll(future!, waker);
      if (status === POLL_READY) break;
      if (status === POLL_NO_RUNTIME) {
        outcome = new WasmtimeError(`${action}: the WASI I/O thread could not be started`);
        break;
      }
      revalidateViews(store); // JS runs next: the guest may have grown (moved) a memory
      // The guest waits for Deno's permission for an address: answered now, polled again.
      if (network && answerNetQuestions(store, context) > 0) continue;
      const call = ffi().wasmtime_deno_async_take_pending(infoBytes);
      if (call === null) {
        // The guest yielded (epoch tick, fuel slice): let the event loop run one turn. Or it
        // waits in WASI (a sleep, an idle pipe): wait for its waker off the JS thread, so
        // timers and I/O keep running; a deadline or an abort wakes it early.
        if (status === POLL_AGAIN) await nextTurn();
        else await waitForWake(waker, cancelWaiters);
        continue;
      }
      const hostOutcome = await performHostCall(
        store,
        context,
        info,
        cancelWaiters,
        () => cancelled,
      );
      if (hostOutcome === undefined) {
        ffi().wasmtime_deno_async_finish(call, null);
      } else if ("cancelled" in hostOutcome) {
        ffi().wasmtime_deno_async_finish(call, ffi().wasmtime_trap_new_code(TrapCode.Interrupt));
      } else {
        // A WasmException is thrown into the guest; any other error traps it and is kept aside.
        let thrown: Deno.PointerValue = null;
        let failed = hostOutcome;
        if (failed.error instanceof WasmException) {
          try {
            thrown = exceptionTrap(failed.error, context);
          } catch (cause) {
            failed = { error: cause };
          }
        }
        if (thrown === null) {
          hostError = failed;
          thrown = newTrap(`async host function threw: ${describe(failed.error)}`);
        }
        ffi().wasmtime_deno_async_finish(call, thrown);
      }
    }
  } finally {
    stopWatching();
    // Dropping an unfinished future unwinds the suspended guest; the store stays usable.
    if (future !== null) ffi().wasmtime_call_future_delete(future);
    if (waker !== null) ffi().wasmtime_deno_waker_delete(waker);
    if (ticking) {
      disarmDeadline(control!, context);
      releaseTicker(engine);
    }
    if (fuel) ffi().wasmtime_context_fuel_async_yield_interval(context, 0n);
    release();
  }
  settle(store, trap, error, outcome, hostError, cancelled, action);
}

/**
 * Drives the call future made by `start` to completion on this thread, for synchronous calls
 * into stores whose WASI is linked asynchronously (`Linker.defineWasi({ async: true })`, as
 * `runWasi` does): such stores accept only async entry points, so that a deadline can drop a
 * blocking WASI call. While the guest waits in WASI (a sleep, an idle pipe) the thread sleeps
 * until the future's waker fires or the call's deadline passes, whichever comes first.
 */
export function driveFutureBlocking(
  store: Store,
  action: string,
  options: CallOptions,
  start: StartFuture,
): void {
  const trap = new OutCell();
  const error = new OutCell();
  let outcome: WasmtimeError | undefined;
  const hostError: HostErrorCell = { failed: undefined };
  withTimeout(
    store,
    options,
    () => {
      const context = contextOf(store, action);
      enterGuest(store, () => {
        const waker = ffi().wasmtime_deno_waker_new()!;
        let future: Deno.PointerValue = null;
        try {
          future = start(context, trap.bytes, error.bytes);
          outcome = whileDrivingFuture(
            store,
            () => pollBlocking(store, future!, waker, action, hostError),
          );
        } finally {
          // Dropping an unfinished future unwinds the guest (and drops its pending WASI call).
          if (future !== null) ffi().wasmtime_call_future_delete(future);
          ffi().wasmtime_deno_waker_delete(waker);
        }
      }, true);
    },
    action,
    true,
  );
  settle(store, trap, error, outcome, hostError.failed, undefined, action);
}

/** The first error a host function threw during a blocking drive, rethrown as itself. */
interface HostErrorCell {
  failed: { error: unknown } | undefined;
}

/**
 * Stop conditions of stores whose blocking calls another thread may end (see
 * {@linkcode stopWhen}).
 */
const stopChecks = new WeakMap<Store, () => boolean>();

/**
 * Longest single wait for a waker in a store with a stop condition: how late a guest blocked in
 * WASI (a sleep, an idle pipe) notices that the condition holds.
 */
const STOP_CHECK_US = 10_000n;

/**
 * Internal (wasi-threads): makes every blocking call future driven in `store` end with an
 * Interrupt trap once `stopped()` returns true. Nothing another thread does wakes a call waiting
 * in WASI (an epoch increment does not), so such waits are cut into slices of
 * {@linkcode STOP_CHECK_US} with a look at `stopped` between them; a computing guest is not
 * affected (it is stopped through the epoch).
 */
export function stopWhen(store: Store, stopped: () => boolean): void {
  stopChecks.set(store, stopped);
}

/** Polls `future` until it is ready, or until the store's deadline passes while it waits. */
function pollBlocking(
  store: Store,
  future: Deno.PointerObject,
  waker: Deno.PointerObject,
  action: string,
  hostError: HostErrorCell,
): WasmtimeError | undefined {
  const info = new BigUint64Array(6);
  const infoBytes = new Uint8Array(info.buffer);
  const stopped = stopChecks.get(store);
  const network = storeHasNetwork(store);
  for (;;) {
    const status = ffi().wasmtime_deno_future_poll(future, waker);
    if (status === POLL_READY) return undefined;
    if (status === POLL_NO_RUNTIME) {
      return new WasmtimeError(`${action}: the WASI I/O thread could not be started`);
    }
    if (network && answerNetQuestions(store, contextOf(store, action)) > 0) continue;
    const call = ffi().wasmtime_deno_async_take_pending(infoBytes);
    if (call !== null) {
      // A JS async host function cannot be awaited by a synchronous caller; a blocking one
      // (see defineBlockingFunc) runs right here.
      ffi().wasmtime_deno_async_finish(
        call,
        performBlockingHostCall(store, info, action, hostError),
      );
      continue;
    }
    if (stopped?.()) return interrupted(`${action}: the run ended while the guest waited`);
    const left = (syncDeadlines.get(store) ?? Infinity) - performance.now();
    if (left <= 0) return interrupted(`${action}: the deadline passed while the guest waited`);
    if (status !== POLL_AGAIN) {
      const most = stopped === undefined ? MAX_WAIT_US : STOP_CHECK_US;
      const us = left < Number(most) / 1000 ? BigInt(Math.ceil(left * 1000)) : most;
      if (stopped === undefined) ffi().wasmtime_deno_waker_wait(waker, us);
      else {
        // Wait on until woken (no needless re-poll of a sleeping guest), looking at the stop
        // condition and the deadline between slices.
        while (!ffi().wasmtime_deno_waker_wait(waker, us)) {
          if (stopped()) return interrupted(`${action}: the run ended while the guest waited`);
          if ((syncDeadlines.get(store) ?? Infinity) <= performance.now()) break;
        }
      }
    }
  }
}

/**
 * Performs a recorded host call for a blocking driver: a blocking host function's, else none
 * (an async one cannot be awaited here). Returns the trap to finish the call with, or null.
 */
function performBlockingHostCall(
  store: Store,
  info: BigUint64Array,
  action: string,
  hostError: HostErrorCell,
): Deno.PointerValue {
  const host = asyncHostById(info[0]);
  if (host === undefined || host.blocking !== true) {
    return newTrap(
      "an async host function was called during a synchronous call; call with callAsync",
    );
  }
  const context = contextOf(store, action);
  if (host.prepare !== undefined) {
    try {
      revalidateAllViews();
      const prepared = host.prepare(info);
      // Only blocking (synchronous) functions get here, and their run() refuses a Promise.
      prepared.finish(prepared.run());
      return null;
    } catch (error) {
      hostError.failed ??= { error };
      return newTrap(`host function threw: ${describe(error)}`);
    }
  }
  const caller = new Caller();
  swapCaller(caller, pointerFromBits(info[1]));
  try {
    revalidateAllViews();
    const args = readArgs(store, context, info);
    const result = host.fn(caller, ...args);
    if (result instanceof Promise) {
      result.catch(() => {});
      throw new WasmtimeError(`${host.name} returned a Promise during a synchronous call`);
    }
    writeResults(
      store,
      context,
      host.type.results,
      result,
      host.name,
      pointerFromBits(info[4]),
      Number(info[5]),
    );
    return null;
  } catch (error) {
    return newTrap(`host function threw: ${describe(error)}`);
  } finally {
    swapCaller(caller, null);
  }
}

/** The arguments of the recorded host call described by `info`. */
function readArgs(store: Store, context: Deno.PointerObject, info: BigUint64Array): unknown[] {
  const nargs = Number(info[3]);
  const argBytes = new Uint8Array(Math.max(1, nargs) * VAL_SIZE);
  if (nargs > 0) {
    ffi().wasmtime_deno_read(argBytes, pointerFromBits(info[2]), BigInt(nargs * VAL_SIZE));
  }
  const args: unknown[] = [];
  for (let i = 0; i < nargs; i++) {
    args.push(
      readVal(argBytes.subarray(i * VAL_SIZE, (i + 1) * VAL_SIZE), store, context, false, true),
    );
  }
  return args;
}

/**
 * How a finished call future becomes a result or an exception: an early stop (`outcome`)
 * frees the out-parameters; a host function's own error wins over the trap it caused; a trap
 * that came from a cancellation is reported as the cancellation.
 */
function settle(
  store: Store,
  trap: OutCell,
  error: OutCell,
  outcome: WasmtimeError | undefined,
  hostError: { error: unknown } | undefined,
  cancelled: (() => WasmtimeError) | undefined,
  action: string,
): void {
  if (outcome !== undefined) {
    freeOutParameters(trap, error);
    throw outcome;
  }
  if (trap.isZero && error.isZero) return;
  const converted = failure(error.takePointer(), trap.takePointer(), action, store);
  if (hostError !== undefined) throw hostError.error;
  if (cancelled !== undefined && converted instanceof Error && "code" in converted) {
    throw cancelled();
  }
  throw converted;
}

/** Longest single wait for a waker; a lost wake-up then costs at most this much. */
const MAX_WAIT_US = 1_000_000n;

/**
 * Waits held on Deno's blocking pool at once. The pool also serves Deno's own file I/O: a
 * guest per pool thread, each waiting in WASI, was measured to delay `Deno.readTextFile` by up
 * to 1.5 s with 64 such guests. Waits beyond this many poll their waker on a timer instead.
 */
const MAX_POOL_WAITS = 4;
/** Longest pause between two looks at the waker of a timer-polled wait. */
const MAX_POLL_DELAY_MS = 16;
let poolWaits = 0;

/** Internal (tests): how many waits are held on Deno's blocking pool right now. */
export function poolWaitCount(): number {
  return poolWaits;
}

/**
 * Waits until the call's waker fires (the guest can make progress) or a cancellation (deadline,
 * abort, disposal) ends the wait, without blocking the event loop: on Deno's blocking pool
 * while few calls wait, else by looking at the waker on a backoff timer (1 ms, doubling to
 * 16 ms), which holds no thread.
 */
async function waitForWake(waker: Deno.PointerObject, cancelWaiters: (() => void)[]) {
  if (poolWaits < MAX_POOL_WAITS) {
    const wake = () => ffi().wasmtime_deno_waker_wake(waker);
    cancelWaiters.push(wake);
    poolWaits++;
    try {
      await ffi().wasmtime_deno_waker_wait_nonblocking(waker, MAX_WAIT_US);
    } finally {
      poolWaits--;
      const index = cancelWaiters.indexOf(wake);
      if (index >= 0) cancelWaiters.splice(index, 1);
    }
    return;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  let cancelled = false;
  let resume = () => {};
  const wake = () => {
    cancelled = true;
    clearTimeout(timer);
    resume();
  };
  cancelWaiters.push(wake);
  try {
    // A zero timeout only reads the waker's flag.
    for (let delay = 1; !cancelled && !ffi().wasmtime_deno_waker_wait(waker, 0n); delay *= 2) {
      await new Promise<void>((resolve) => {
        resume = resolve;
        timer = setTimeout(resolve, Math.min(delay, MAX_POLL_DELAY_MS));
      });
    }
  } finally {
    const index = cancelWaiters.indexOf(wake);
    if (index >= 0) cancelWaiters.splice(index, 1);
  }
}

function freeOutParameters(trap: OutCell, error: OutCell): void {
  const trapPointer = trap.takePointer();
  if (trapPointer !== null) ffi().wasm_trap_delete(trapPointer);
  const errorPointer = error.takePointer();
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
  const { fn, type, name, prepare } = host;
  const nresults = Number(info[5]);
  // A component host function has no Caller: its `prepare` reads the call instead.
  const caller = prepare === undefined ? new Caller() : undefined;
  if (caller !== undefined) swapCaller(caller, pointerFromBits(info[1]));
  try {
    revalidateAllViews();
    const prepared = prepare?.(info);
    const args = prepared === undefined ? readArgs(store, context, info) : [];
    let wake!: () => void;
    const cancelledPromise = new Promise<"cancelled">((resolve) => {
      wake = () => resolve("cancelled");
    });
    cancelWaiters.push(wake);
    if (isCancelled()) return { cancelled: true };
    const frames = hostFrames ?? await loadHostFrames();
    if (isCancelled()) return { cancelled: true };
    const frame: HostFrame = { store, active: true, parent: frames.getStore() };
    let result: unknown;
    try {
      const pending = frames.run(
        frame,
        () => Promise.resolve(prepared !== undefined ? prepared.run() : fn(caller!, ...args)),
      );
      result = await Promise.race([pending, cancelledPromise]);
    } finally {
      frame.active = false;
    }
    if (isCancelled()) return { cancelled: true };
    if (prepared !== undefined) {
      prepared.finish(result);
      return undefined;
    }
    writeResults(
      store,
      context,
      type.results,
      result,
      name,
      pointerFromBits(info[4]),
      nresults,
    );
    return undefined;
  } catch (error) {
    return { error };
  } finally {
    if (caller !== undefined) swapCaller(caller, null);
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
