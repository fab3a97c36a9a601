/**
 * How a failed call becomes an exception. A JS exception thrown by a host function is kept
 * aside while Wasmtime unwinds the guest with a real trap, then rethrown as the same object to
 * the caller of the call; otherwise the trap or error pointer is converted.
 *
 * @module
 */
import { OutCell, utf8 } from "../ffi/raw.ts";
import { takeError, takeTrap } from "../errors.ts";
import { ffi } from "../ffi/symbols.ts";
import { enterStore, leaveStore, type Store } from "./store.ts";
import { releaseRoots } from "./values.ts";

// ---- failure plumbing -----------------------------------------------------------------------

/** The error a host function threw, waiting to be rethrown by the call that trapped. */
let pendingHostError: { error: unknown } | undefined;

/** The `wasm_trap_t **` out-parameter of {@linkcode runGuest}. */
const trapOut = new OutCell();

/** Converts and frees a call's error or trap; a pending host error wins over both. */
export function failure(
  error: Deno.PointerValue,
  trap: Deno.PointerValue,
  context: string,
): unknown {
  const converted = error !== null ? takeError(error, context) : takeTrap(trap!);
  if (error !== null && trap !== null) ffi().wasm_trap_delete(trap);
  const host = pendingHostError;
  pendingHostError = undefined;
  return host ? host.error : converted;
}

/**
 * Text describing a value a host function threw (or a user passed), for an error message.
 * Never throws: the value may be a Symbol, `Object.create(null)`, a Proxy, or an object whose
 * `message` getter or `toString` throws, and a failure path must not fail in turn.
 */
export function describe(value: unknown): string {
  try {
    if (value instanceof Error) {
      const message = value.message;
      return typeof message === "string" ? message : describe(message);
    }
    if (typeof value === "string") return value;
    if (typeof value === "symbol") return value.toString();
    return String(value);
  } catch {
    try {
      return `a value that cannot be converted to a string (${
        Object.prototype.toString.call(value)
      })`;
    } catch {
      return "a value that cannot be converted to a string";
    }
  }
}

/** A trap for Wasmtime that stands for a JS exception; the exception itself is kept aside. */
export function hostFailure(error: unknown, name: string): Deno.PointerValue {
  pendingHostError = { error };
  const message = utf8(`host function ${name} threw: ${describe(error)}`);
  return ffi().wasmtime_trap_new(message, BigInt(message.length));
}

/**
 * Runs a native call that may execute guest code (instantiation, start functions, linker
 * defaults) with the same failure handling as {@linkcode Func.call}. `run` receives the trap
 * out-parameter and returns the error pointer.
 */
export function runGuest(
  store: Store,
  action: string,
  run: (trap: Uint8Array<ArrayBuffer>) => Deno.PointerValue,
): void {
  const trapSlot = trapOut.cleared();
  enterStore(store);
  let error: Deno.PointerValue;
  try {
    error = run(trapSlot);
  } finally {
    releaseRoots();
    leaveStore(store);
  }
  if (error !== null || !trapOut.isZero) throw failure(error, trapOut.takePointer(), action);
}
