/**
 * The ids by which native code refers to JS values it cannot hold: the value behind each
 * externref this binding made, and each host function. Wasmtime frees its side of both on its
 * own schedule (a GC, a dropped store, possibly on an async fiber where JS cannot run), so
 * native code only queues the dropped ids, tagged with an owner; JS takes them from the queue
 * here, in one drain, and forgets the values.
 *
 * @module
 */
import { ffi } from "../ffi/symbols.ts";
import type { HostFunction } from "./host.ts";
import type { FuncType } from "./types.ts";

/**
 * Identifies this JS realm's externrefs in the native dropped-id queue (random, so that realms
 * sharing the library, such as workers, never take each other's ids).
 */
export const EXTERN_OWNER: bigint = crypto.getRandomValues(new BigUint64Array(1))[0] & ~1n;
/** Identifies this JS realm's host functions in the native dropped-id queue. */
export const HOST_OWNER: bigint = EXTERN_OWNER | 1n;

const dropped = new BigUint64Array(256);
const droppedBytes = new Uint8Array(dropped.buffer);

/** Takes every id of `owner` that Wasmtime has dropped and hands each to `forget`. */
function drainDropped(owner: bigint, forget: (id: bigint) => void): void {
  for (;;) {
    const count = Number(
      ffi().wasmtime_deno_take_dropped(owner, droppedBytes, BigInt(dropped.length)),
    );
    for (let i = 0; i < count; i++) forget(dropped[i]);
    if (count < dropped.length) return;
  }
}

// ---- externref values -----------------------------------------------------------------------

const externValues = new Map<bigint, unknown>();
let nextExternId = 1n;
let createdSinceDrain = 0;
const forgetExternref = (id: bigint): void => {
  externValues.delete(id);
};

/** Forgets JS values whose externrefs Wasmtime has collected. */
export function releaseDroppedExternrefs(): void {
  createdSinceDrain = 0;
  drainDropped(EXTERN_OWNER, forgetExternref);
}

/**
 * Keeps `value` for a new externref and returns its id (owner {@linkcode EXTERN_OWNER});
 * pass the id to {@linkcode unregisterExternref} if the externref could not be made.
 */
export function registerExternref(value: unknown): bigint {
  if (++createdSinceDrain >= 64) releaseDroppedExternrefs();
  const id = nextExternId++;
  externValues.set(id, value);
  return id;
}

/** Forgets the value of an id whose externref was never made. */
export function unregisterExternref(id: bigint): void {
  externValues.delete(id);
}

/** The JS value of externref `id`. */
export function externrefById(id: bigint): unknown {
  return externValues.get(id);
}

/** Number of JS values currently held for wasm (for tests and diagnostics). */
export function liveExternrefCount(): number {
  return externValues.size;
}

// ---- host functions -------------------------------------------------------------------------

/** An async host function as performed by `callAsync` between polls. */
export interface AsyncHost {
  fn: HostFunction;
  type: FuncType;
  name: string;
  /**
   * `fn` returns its results rather than a Promise, so a blocking future driver (a synchronous
   * call into a store with async WASI) may perform it too, between two polls.
   */
  blocking?: boolean;
  /**
   * Set for host functions that are not core ones (a component's): reads the recorded call
   * `info` (`[id, type, args, nargs, results, nresults]`) in place of the core marshalling and
   * Caller, and returns the call of the JS function and the writer of its result.
   */
  prepare?: (info: BigUint64Array) => PreparedHostCall;
}

/** A recorded host call made ready by {@linkcode AsyncHost.prepare}. */
export interface PreparedHostCall {
  /** Calls the JS function with the call's arguments; returns its result or a Promise. */
  run(): unknown;
  /** Writes `result` (what `run` returned or its Promise resolved to) as the call's result. */
  finish(result: unknown): void;
}

/** The JS side of a host function. */
export interface HostEntry {
  /** Closes the JS side (the native callback, or nothing for async host functions). */
  close(): void;
  /** Set for async host functions. */
  async?: AsyncHost;
}

/** Host functions Wasmtime may still call, by id. */
const hostEntries = new Map<bigint, HostEntry>();
let nextHostId = 1n;
const forgetHost = (id: bigint): void => {
  const entry = hostEntries.get(id);
  hostEntries.delete(id);
  entry?.close();
};

/**
 * Closes the JS side of host functions Wasmtime has dropped. Their native environments are
 * freed by Wasmtime (possibly on an async fiber, where JS cannot run), which only queues the id.
 */
export function releaseDroppedHostFunctions(): void {
  drainDropped(HOST_OWNER, forgetHost);
}

/** Registers a host function's JS side and returns its id (owner {@linkcode HOST_OWNER}). */
export function registerHost(entry: HostEntry): bigint {
  if (hostEntries.size % 64 === 0) releaseDroppedHostFunctions();
  const id = nextHostId++;
  hostEntries.set(id, entry);
  return id;
}

/** The async host function registered as `id`, if any. */
export function asyncHostById(id: bigint): AsyncHost | undefined {
  return hostEntries.get(id)?.async;
}

/** Number of host functions whose JS side is alive (for leak tests). */
export function liveHostCallbackCount(): number {
  releaseDroppedHostFunctions();
  return hostEntries.size;
}
