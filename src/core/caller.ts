/**
 * The caller of a host function: access to the calling instance's exports while it runs.
 *
 * @module
 */
import { utf8 } from "../ffi/raw.ts";
import { WasmtimeError } from "../errors.ts";
import { type Extern, externFromStruct } from "./extern.ts";
import { ffi } from "../ffi/symbols.ts";
import { EXTERN_SIZE } from "../ffi/layout.ts";
import { Memory } from "./memory.ts";
import { type Store, storeFromContext } from "./store.ts";

/** What a Caller points at: a native caller, CURRENT, or null outside a call. */
export type CallerTarget = Deno.PointerValue | typeof CURRENT;

/** Internal: points a Caller at a native caller (or CURRENT); returns the previous target. */
export let swapCaller: (caller: Caller, pointer: CallerTarget) => CallerTarget;

/**
 * Internal: starts a synchronous host call with `caller` (the host function's reusable Caller)
 * and returns the Caller to pass to it: `caller`, or a fresh one when `caller` still belongs to
 * an outer, still running call of the same function (recursion through wasm).
 */
export let beginHostCall: (caller: Caller) => Caller;
/** Internal: ends a host call started by {@linkcode beginHostCall}. */
export let endHostCall: (caller: Caller) => void;

/**
 * The Caller of the innermost running synchronous host call while it still resolves lazily
 * (CURRENT): the native trampoline keeps only the innermost caller, so this Caller has to be
 * pinned to its own native caller before wasm is entered again (see {@linkcode pinCaller}).
 * Null in the common case of a host call that does not call back into wasm.
 */
export let lazyCaller: Caller | null = null;

/**
 * Internal: wasm is about to be entered from a host function, whose native caller the inner
 * host calls will replace as the thread's current one: pin the outer Caller to it first.
 */
export let pinCaller: () => void;

/** Marks a Caller of a synchronous host call, whose native caller is found on demand. */
export const CURRENT: unique symbol = Symbol("wasmtime-deno.currentCaller");

/**
 * What a host function sees of the wasm code that called it. Valid only during that call.
 *
 * @example
 * ```ts
 * import type { Caller } from "@wasmtime-deno/wasmtime";
 * function log(caller: Caller, ptr: number, len: number): void {
 *   console.log(caller.memory!.readString(ptr, len));
 * }
 * ```
 */
export class Caller {
  /**
   * The native caller: a pointer (async host calls, and synchronous ones pinned because they
   * called back into wasm), CURRENT (synchronous host calls, whose caller the native trampoline
   * keeps in a thread-local, so the callback takes no parameter) or null outside a call.
   */
  #pointer: Deno.PointerValue | typeof CURRENT = null;

  static {
    swapCaller = (caller, pointer) => {
      const previous = caller.#pointer;
      caller.#pointer = pointer;
      return previous;
    };
    beginHostCall = (caller) => {
      const active = caller.#pointer === null ? caller : new Caller();
      active.#pointer = CURRENT;
      lazyCaller = active;
      return active;
    };
    endHostCall = (caller) => {
      caller.#pointer = null;
      if (lazyCaller === caller) lazyCaller = null;
    };
    pinCaller = () => {
      if (lazyCaller === null) return;
      lazyCaller.#pointer = ffi().wasmtime_deno_current_caller();
      lazyCaller = null;
    };
  }

  #live(action: string): Deno.PointerObject {
    const pointer = this.#pointer === CURRENT
      ? ffi().wasmtime_deno_current_caller()
      : this.#pointer;
    if (pointer === null) {
      throw new WasmtimeError(
        `Caller.${action}: a Caller is only valid while its host function runs`,
      );
    }
    return pointer;
  }

  /** The store the calling instance belongs to. */
  get store(): Store {
    const store = storeFromContext(ffi().wasmtime_caller_context(this.#live("store"))!);
    if (store === undefined) throw new WasmtimeError("Caller.store: the store is gone");
    return store;
  }

  /**
   * The calling instance's export named `"memory"` (the name toolchains give a module's linear
   * memory, and Wasmtime's examples look up), or undefined if it exports none; throws if
   * `"memory"` is not a memory. A new Memory object for each call of the host function: its
   * `buffer` follows the usual rules (detached when the memory grows or the store is freed).
   *
   * @example
   * ```ts
   * import { type Caller } from "@wasmtime-deno/wasmtime";
   * function log(caller: Caller, ptr: number, len: number): void {
   *   console.log(caller.memory?.readString(ptr, len));
   * }
   * ```
   */
  get memory(): Memory | undefined {
    const item = this.getExport("memory");
    if (item === undefined || item instanceof Memory) return item;
    throw new WasmtimeError(
      `Caller.memory: the calling instance's export "memory" is a ${item.constructor.name}, ` +
        "not a Memory; use caller.getExport(name) for the memory you mean",
    );
  }

  /** An export of the calling instance (typically its memory), or undefined. */
  getExport(name: string): Extern | undefined {
    const pointer = this.#live("getExport");
    const bytes = utf8(name);
    const item = new Uint8Array(EXTERN_SIZE);
    if (!ffi().wasmtime_caller_export_get(pointer, bytes, BigInt(bytes.length), item)) {
      return undefined;
    }
    return externFromStruct(this.store, item);
  }
}
