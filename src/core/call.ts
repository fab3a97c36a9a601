/**
 * Calls into guest code: the one bracket every synchronous entry into wasm goes through
 * ({@linkcode enterGuest}), the packed call frame of `wasmtime_deno_call` that `Func.call` and
 * the typed fast path fill, and {@linkcode runGuest} for the native calls that run guest code
 * on the side (instantiation, start functions, linker-defined modules).
 *
 * Async calls (`callAsync`, `instantiateAsync`) take the store with `acquireAsync` in
 * async.ts instead: they span many turns of the event loop and queue behind each other.
 *
 * @module
 */
import { ffi } from "../ffi/symbols.ts";
import {
  addressOf,
  nativeVecParts,
  OutCell,
  pointerBits,
  pointerFromWords,
  readPointers,
} from "../ffi/raw.ts";
import { Handle } from "../ffi/handle.ts";
import {
  FRAME_CONTEXT,
  FRAME_ERROR,
  FRAME_FUNC,
  FRAME_SLOTS,
  FRAME_TRAP,
  FRAME_VALUES,
  VAL_RAW_SIZE,
} from "../ffi/layout.ts";
import { lazyCaller, pinCaller } from "./caller.ts";
import { failure } from "./failure.ts";
import { enterStore, leaveStore, type Store } from "./store.ts";
import type { FuncType, ValType } from "./types.ts";
import { isConcreteRef, releaseRoots } from "./values.ts";

/**
 * Runs `run`, which enters guest code of `store`, inside the store's call bracket: the store is
 * held (not freed, views revalidated after), a host call's lazy Caller is pinned first (the
 * guest's own host calls would replace the native caller it resolves to), and the externrefs
 * rooted for the call's arguments (or by host functions for their results) are released after.
 * The typed fast path goes through it too, with `run` made once per signature: measured, a
 * typed add(i32, i32) costs the same as with the bracket written inline (22.6 ns per call).
 */
export function enterGuest<T>(store: Store, run: () => T, viaFuture = false): T {
  if (lazyCaller !== null) pinCaller();
  enterStore(store, viaFuture);
  try {
    return run();
  } finally {
    releaseRoots();
    leaveStore(store);
  }
}

// ---- the packed call frame ------------------------------------------------------------------

/** A function's signature with its packed call frame, made once per Func (and per typed()). */
export interface Signature {
  params: readonly ValType[];
  results: readonly ValType[];
  /** The packed call frame passed to `wasmtime_deno_call` (see native/src/lib.rs). */
  frame: Uint8Array<ArrayBuffer>;
  /** The frame's address (ArrayBuffer backing stores do not move). */
  framePointer: Deno.PointerObject;
  frameWords: Uint32Array;
  /** The frame's value slots. */
  view: DataView;
  /** Runs `wasmtime_deno_call` on the frame; false if the call failed (see frameFailure). */
  invoke: () => boolean;
  /**
   * The native `wasm_valtype_t` of each parameter of a concrete reference type (null for the
   * others), owned by this signature: only Wasmtime can tell whether a GC object or function is
   * of that type, and the unchecked call must never receive one that is not.
   */
  paramTypes: readonly (Deno.PointerObject | null)[];
}

/** The signature and call frame of the function `struct` of type `type` in `context`. */
export function signatureOf(
  type: FuncType,
  context: Deno.PointerObject,
  struct: Uint8Array<ArrayBuffer>,
): Signature {
  const slots = Math.max(type.params.length, type.results.length);
  const frame = new Uint8Array(FRAME_VALUES + Math.max(slots, 1) * VAL_RAW_SIZE);
  const header = new DataView(frame.buffer);
  header.setBigUint64(FRAME_CONTEXT, pointerBits(context), true);
  frame.set(struct, FRAME_FUNC);
  header.setBigUint64(FRAME_SLOTS, BigInt(slots), true);
  const framePointer = addressOf(frame);
  const call = ffi().wasmtime_deno_call;
  const paramTypes: (Deno.PointerObject | null)[] = type.params.map(() => null);
  const signature: Signature = {
    params: type.params,
    results: type.results,
    frame,
    framePointer,
    frameWords: new Uint32Array(frame.buffer, 0, FRAME_VALUES / 4),
    view: new DataView(frame.buffer, FRAME_VALUES),
    invoke: () => call(framePointer),
    paramTypes,
  };
  if (type.params.some(isConcreteRef)) {
    // The function's own native type, freed with the signature.
    const functype = ffi().wasmtime_func_type(context, struct);
    new Handle(signature, "FuncType", functype, (p) => ffi().wasm_functype_delete(p));
    const natives = readPointers(nativeVecParts(ffi().wasm_functype_params(functype)!));
    type.params.forEach((p, i) => {
      if (isConcreteRef(p)) paramTypes[i] = natives[i];
    });
  }
  return signature;
}

/** Throws the failure a `wasmtime_deno_call` left in its frame. */
export function frameFailure(store: Store, words: Uint32Array, action: string): never {
  const trap = pointerFromWords(words, FRAME_TRAP / 4);
  const error = pointerFromWords(words, FRAME_ERROR / 4);
  words.fill(0, FRAME_TRAP / 4, FRAME_VALUES / 4);
  throw failure(error, trap, action, store);
}

/** Calls the function of `sig` with the arguments already in its frame; throws its failure. */
export function callFrame(store: Store, sig: Signature, action: string): void {
  if (!enterGuest(store, sig.invoke)) frameFailure(store, sig.frameWords, action);
}

// ---- guest code run by other native calls ---------------------------------------------------

/** The `wasm_trap_t **` out-parameter of {@linkcode runGuest}. */
const trapOut = new OutCell();

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
  const error = enterGuest(store, () => run(trapSlot));
  if (error !== null || !trapOut.isZero) {
    throw failure(error, trapOut.takePointer(), action, store);
  }
}
