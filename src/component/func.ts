/**
 * Calling component functions: arguments lowered into a per-call arena, the call made through
 * the core call bracket (store held, views revalidated, host errors rethrown as themselves),
 * results lifted and their native memory freed; `result<T, E>` returned or thrown as a
 * {@linkcode ComponentError}.
 *
 * @module
 */
import { ComponentError, WasmtimeError } from "../errors.ts";
import { enterGuest } from "../core/call.ts";
import {
  type CallOptions,
  driveFuture,
  driveFutureBlocking,
  type StartFuture,
  withTimeout,
} from "../core/async.ts";
import { failure } from "../core/failure.ts";
import { contextOf, futureDriven, type Store } from "../core/store.ts";
import { ffi } from "../ffi/symbols.ts";
import {
  Arena,
  copyNativeInto,
  getAddress,
  releaseArena,
  setAddress,
  takeArena,
} from "../ffi/component_raw.ts";
import {
  COMPONENT_FRAME_CALLEE,
  COMPONENT_FRAME_CONTEXT,
  COMPONENT_FRAME_ERROR,
  COMPONENT_FRAME_SLOTS,
  COMPONENT_SLOT_SIZE,
  COMPONENT_VAL_OF_OFFSET as OF,
  COMPONENT_VAL_SIZE as VAL,
} from "../ffi/layout.ts";
import { addressOf, pointerBits, pointerFromWords } from "../ffi/raw.ts";
import { type ComponentFuncType, type ComponentValType, witFunc } from "./types.ts";
import { type Lift, lifter, type Lower, lowerer, ownsMemory, ValuePathError } from "./values.ts";
import { fromRaw, takeRaw } from "../internal.ts";
import { beginResources, checkDrops, endResources, mentionsResource } from "./resource.ts";

/** The marshalling of one function type, compiled once. */
export interface Marshal {
  type: ComponentFuncType;
  lowers: Lower[];
  lift: Lift | undefined;
  /** Host direction: the parameters' liftings and the result's lowering. */
  paramLifts: Lift[];
  resultLower: Lower | undefined;
  /** The result is a `result<T, E>`: returned as T, or thrown as a ComponentError. */
  unwrapResult: boolean;
  resultOwnsMemory: boolean;
  /** A parameter or the result holds resource handles (see resource.ts). */
  resources: boolean;
  /** The parameter and result counts as the C call takes them. */
  paramCount: bigint;
  resultCount: bigint;
}

/** Compiles the marshalling of `type`. */
export function marshalOf(type: ComponentFuncType): Marshal {
  return {
    type,
    lowers: type.params.map((p) => lowerer(p.type)),
    lift: type.result ? lifter(type.result) : undefined,
    paramLifts: type.params.map((p) => lifter(p.type)),
    resultLower: type.result ? lowerer(type.result) : undefined,
    unwrapResult: type.result?.kind === "result",
    resultOwnsMemory: type.result !== undefined && ownsMemory(type.result),
    resources: mentionsResource(type.result) || type.params.some((p) => mentionsResource(p.type)),
    paramCount: BigInt(type.params.length),
    resultCount: type.result ? 1n : 0n,
  };
}

/** The message of a value mismatch: `area: arg 0 .val.x: expected s32, got 2**40`. */
export function valueError(name: string, where: string, error: unknown): unknown {
  if (!(error instanceof ValuePathError)) return error;
  const path = error.segments.length > 0 ? ` ${error.segments.join("")}` : "";
  return new TypeError(`${name}: ${where}${path}: ${error.detail}`);
}

/** Internal: makes a ComponentFunc for a `wasmtime_component_func_t` of `store`. */
export let componentFunc: (
  store: Store,
  struct: Uint8Array<ArrayBuffer>,
  name: string,
  type: ComponentFuncType,
) => ComponentFunc;

/** Internal: the parts of a ComponentFunc (its `wasmtime_component_func_t` first). */
export let funcParts: (func: ComponentFunc) => {
  struct: Uint8Array<ArrayBuffer>;
  name: string;
  marshal: Marshal;
};

/**
 * A function exported by a component instance. `instance.exports` holds plain JS functions
 * that call {@linkcode call}; {@linkcode ComponentInstance.getFunc} returns this object, which
 * also takes call options.
 *
 * @example
 * ```ts
 * import { Component, ComponentLinker, Engine, Store } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine({ epochInterruption: true });
 * using component = new Component(engine, `(component
 *   (core module $m (func (export "f") (param i32 i32) (result i32)
 *     local.get 0 local.get 1 i32.add))
 *   (core instance $i (instantiate $m))
 *   (func (export "add") (param "a" u32) (param "b" u32) (result u32)
 *     (canon lift (core func $i "f"))))`);
 * using linker = new ComponentLinker(engine);
 * using store = new Store(engine);
 * const add = linker.instantiate(store, component).getFunc("add")!;
 * console.log(add.call(40, 2)); // 42
 * console.log(add.callWith({ timeoutMs: 1_000 }, 1, 2)); // 3
 * ```
 */
export class ComponentFunc {
  readonly #store: Store;
  readonly #struct: Uint8Array<ArrayBuffer>;
  readonly #name: string;
  readonly #marshal: Marshal;
  /** The fast path (made on the first call), or null if the type has no fast path. */
  #fast: FastPath | null | undefined;

  static {
    componentFunc = (store, struct, name, type) =>
      fromRaw(ComponentFunc, { store, struct, name, marshal: marshalOf(type) });
    funcParts = (func) => ({
      struct: func.#struct,
      name: func.#name,
      marshal: func.#marshal,
    });
  }

  /** Not public: get functions from a {@linkcode ComponentInstance}. */
  constructor() {
    const raw = takeRaw<{
      store: Store;
      struct: Uint8Array<ArrayBuffer>;
      name: string;
      marshal: Marshal;
    }>();
    if (raw === undefined) {
      throw new WasmtimeError(
        "ComponentFunc has no public constructor: get one from a ComponentInstance",
      );
    }
    this.#store = raw.store;
    this.#struct = raw.struct;
    this.#name = raw.name;
    this.#marshal = raw.marshal;
  }

  /** The store this function belongs to. */
  get store(): Store {
    return this.#store;
  }

  /** The function's WIT name. */
  get name(): string {
    return this.#name;
  }

  /** The function's type. */
  get type(): ComponentFuncType {
    return this.#marshal.type;
  }

  /** The type as WIT-like text: `func(a: u32, b: u32) -> u32`. */
  toString(): string {
    return `${this.#name}: ${witFunc(this.#marshal.type)}`;
  }

  /**
   * Calls the function with one JS value per parameter (see the README's value table).
   * Returns the result (undefined if none); a `result<T, E>` returns T or throws a
   * {@linkcode ComponentError} carrying E. Throws a TypeError naming the argument and the
   * path in it for a value that does not fit its type, a `Trap` if the guest traps, and the
   * original error if a host function threw.
   */
  call(...args: unknown[]): unknown {
    if (futureDriven(this.#store)) return this.#callBlocking({}, args, this.#name);
    if (this.#fast === undefined) {
      this.#fast = fastPath(this.#store, this.#struct, this.#name, this.#marshal);
    }
    if (this.#fast !== null) return this.#fast.call(args);
    return callComponent(
      this.#store,
      this.#struct,
      this.#name,
      this.#marshal,
      args,
    );
  }

  /**
   * Calls the function with options: `timeoutMs` interrupts the guest (a `Trap` with
   * `TrapCode.Interrupt`; needs `epochInterruption`), a `signal` is checked before the call.
   */
  callWith(options: CallOptions, ...args: unknown[]): unknown {
    if (futureDriven(this.#store)) return this.#callBlocking(options, args, this.#name);
    return withTimeout(this.#store, options, () => this.call(...args), "ComponentFunc.callWith");
  }

  /**
   * Calls the function without blocking the event loop: the guest yields to it periodically
   * (every epoch tick with `epochInterruption`, or every slice of fuel with `consumeFuel`), and
   * host functions run between polls (async ones, `ComponentLinker.defineAsyncFunc`, are
   * awaited; they need an instance made by `instantiateAsync`, as do sync host functions
   * called during an async call). Resolves or rejects as {@linkcode call} returns or throws.
   * One async call runs per store at a time; later ones wait their turn.
   *
   * @example
   * ```ts
   * import { Component, ComponentLinker, Engine, Store } from "@wasmtime-deno/wasmtime";
   * using engine = new Engine({ epochInterruption: true });
   * using component = new Component(engine, `(component
   *   (core module $m (func (export "f") (param i32) (result i32) local.get 0 i32.const 1
   *     i32.add))
   *   (core instance $i (instantiate $m))
   *   (func (export "next") (param "n" u32) (result u32) (canon lift (core func $i "f"))))`);
   * using linker = new ComponentLinker(engine);
   * using store = new Store(engine);
   * const next = linker.instantiate(store, component).getFunc("next")!;
   * console.log(await next.callAsync(41)); // 42
   * ```
   */
  callAsync(...args: unknown[]): Promise<unknown> {
    return this.callAsyncWith({}, ...args);
  }

  /**
   * {@linkcode callAsync} with options: `timeoutMs` (counted from the call, waiting for the
   * store included) and an `AbortSignal` stop the guest, also while an async host function is
   * pending, with a `Trap` (code `Interrupt`). A call still waiting for the store just leaves
   * the queue; a guest that was stopped counts as trapped, and Wasmtime then refuses further
   * component calls into its store (`TrapCode.CannotEnterComponent`), as after any trap.
   *
   * @example
   * ```ts
   * import type { ComponentFunc } from "@wasmtime-deno/wasmtime";
   * async function briefly(run: ComponentFunc, signal: AbortSignal): Promise<unknown> {
   *   return await run.callAsyncWith({ timeoutMs: 500, signal });
   * }
   * ```
   */
  async callAsyncWith(options: CallOptions, ...args: unknown[]): Promise<unknown> {
    const call = futureCall(this.#store, this.#struct, this.#name, this.#marshal, args);
    try {
      await driveFuture(this.#store, this.#name, options, call.start);
      return call.finish();
    } finally {
      call.release();
    }
  }

  /** A synchronous call into a store that accepts only call futures (async WASI, ...). */
  #callBlocking(options: CallOptions, args: unknown[], action: string): unknown {
    const call = futureCall(this.#store, this.#struct, this.#name, this.#marshal, args);
    try {
      driveFutureBlocking(this.#store, action, options, call.start);
      return call.finish();
    } finally {
      call.release();
    }
  }
}

/**
 * A plain JS function calling `func` (what `instance.exports` holds): fixed arity for up to
 * three parameters, so a call does not go through rest parameters.
 */
export function plainFunction(func: ComponentFunc): (...args: unknown[]) => unknown {
  const store = func.store;
  const { struct, name, marshal } = funcParts(func);
  const fast = fastPath(store, struct, name, marshal);
  if (fast !== null) return fast.plain(func);
  const scalar = marshal.type.params.every((p) => !ownsMemory(p.type)) &&
    !marshal.resultOwnsMemory && !marshal.unwrapResult;
  if (scalar && marshal.lowers.length <= 3) {
    return scalarFunction(func, struct, name, marshal);
  }
  switch (marshal.lowers.length) {
    case 0:
      return function () {
        return func.call(...arguments);
      };
    case 1:
      return function (a: unknown) {
        if (arguments.length !== 1 || futureDriven(store)) return func.call(...arguments);
        return callComponent(store, struct, name, marshal, [a]);
      };
    case 2:
      return function (a: unknown, b: unknown) {
        if (arguments.length !== 2 || futureDriven(store)) return func.call(...arguments);
        return callComponent(store, struct, name, marshal, [a, b]);
      };
    default:
      return (...args: unknown[]) => func.call(...args);
  }
}

/**
 * The fast path of functions whose parameters and result are scalars: lowering a scalar runs
 * no user code (no getters, no coercion), so one frame per function serves every call, and
 * Wasmtime has copied the arguments before guest code (and a nested call) can run. No
 * allocation but the call's closure-free bracket.
 */
function scalarFunction(
  func: ComponentFunc,
  struct: Uint8Array<ArrayBuffer>,
  name: string,
  marshal: Marshal,
): (...args: unknown[]) => unknown {
  const store = func.store;
  const { lowers, lift } = marshal;
  const frame = new Arena((lowers.length + 1) * VAL);
  const view = frame.firstView;
  const resultsAt = frame.alloc(VAL);
  const argsAt = frame.alloc(lowers.length * VAL);
  const resultsPointer = frame.firstPointer(resultsAt);
  const argsPointer = frame.firstPointer(argsAt);
  const call = ffi().wasmtime_component_func_call;
  let context: Deno.PointerObject | null = null;
  const invoke = () =>
    call(struct, context, argsPointer, marshal.paramCount, resultsPointer, marshal.resultCount);
  const run = (): unknown => {
    context = contextOf(store, name);
    view.setUint8(resultsAt, 0);
    const error = enterGuest(store, invoke);
    // A guest may drop host resources in any call (the check is one load; see resource.ts).
    if (error !== null) throw dropsChecked(failure(error, null, `${name} failed`));
    // Lifted before the drops are drained: a host object's [Symbol.dispose] may call this very
    // function again, which reuses the frame.
    try {
      return lift === undefined ? undefined : lift(view, resultsAt);
    } finally {
      checkDrops();
    }
  };
  const lowerAt = (i: number, value: unknown) => {
    try {
      lowers[i](value, frame, view, argsAt + i * VAL);
    } catch (error) {
      throw valueError(name, `arg ${i}`, error);
    }
  };
  // A store that accepts only call futures takes the call through func.call.
  switch (lowers.length) {
    case 0:
      return function () {
        if (arguments.length !== 0 || futureDriven(store)) return func.call(...arguments);
        return run();
      };
    case 1:
      return function (a: unknown) {
        if (arguments.length !== 1 || futureDriven(store)) return func.call(...arguments);
        lowerAt(0, a);
        return run();
      };
    case 2:
      return function (a: unknown, b: unknown) {
        if (arguments.length !== 2 || futureDriven(store)) return func.call(...arguments);
        lowerAt(0, a);
        lowerAt(1, b);
        return run();
      };
    default:
      return function (a: unknown, b: unknown, c: unknown) {
        if (arguments.length !== 3 || futureDriven(store)) return func.call(...arguments);
        lowerAt(0, a);
        lowerAt(1, b);
        lowerAt(2, c);
        return run();
      };
  }
}

/** Drains dropped host resources once a failed call's error was taken, then returns it. */
function dropsChecked(error: unknown): unknown {
  checkDrops();
  return error;
}

/** One call's arguments lowered into an arena of its own, and where its result goes. */
interface LoweredCall {
  arena: Arena;
  view: DataView;
  resultsAt: number;
  argsPointer: Deno.PointerObject;
  resultsPointer: Deno.PointerObject;
}

/** Takes an arena and lowers `args` into it (the arena is released if one does not fit). */
function lowerCall(name: string, marshal: Marshal, args: unknown[]): LoweredCall {
  const { lowers, lift } = marshal;
  if (args.length !== lowers.length) {
    throw new TypeError(
      `${name}: expected ${lowers.length} argument(s) (${
        witFunc(marshal.type)
      }), got ${args.length}`,
    );
  }
  const results = lift === undefined ? 0 : 1;
  const arena = takeArena();
  try {
    // The results and the arguments come first in the arena, so they are in its first chunk.
    const resultsAt = arena.alloc(results * VAL);
    const argsAt = arena.alloc(lowers.length * VAL);
    const view = arena.firstView;
    if (results > 0) view.setUint8(resultsAt, 0); // a bool: Wasmtime drops the old value
    for (let i = 0; i < lowers.length; i++) {
      try {
        lowers[i](args[i], arena, view, argsAt + i * VAL);
      } catch (error) {
        throw valueError(name, `arg ${i}`, error);
      }
    }
    return {
      arena,
      view,
      resultsAt,
      argsPointer: arena.firstPointer(argsAt),
      resultsPointer: arena.firstPointer(resultsAt),
    };
  } catch (error) {
    releaseArena(arena);
    throw error;
  }
}

/** The result of a finished call, its native memory freed; a `result` `err` thrown. */
function liftCall(call: LoweredCall, marshal: Marshal): unknown {
  const lift = marshal.lift;
  if (lift === undefined) return undefined;
  const { view, resultsAt, resultsPointer } = call;
  let value: unknown;
  try {
    value = lift(view, resultsAt);
  } finally {
    if (marshal.resultOwnsMemory) {
      ffi().wasmtime_component_val_delete(resultsPointer);
      view.setUint8(resultsAt, 0);
    }
  }
  if (marshal.unwrapResult) {
    const { tag, val } = value as { tag: "ok" | "err"; val: unknown };
    if (tag === "err") throw new ComponentError(val);
    return val;
  }
  return value;
}

/** One call: the arena, the lowering, the bracket, the lifting. */
function callComponent(
  store: Store,
  struct: Uint8Array<ArrayBuffer>,
  name: string,
  marshal: Marshal,
  args: unknown[],
): unknown {
  const context = contextOf(store, name);
  // Resource handles lowered and lifted by this call are tracked from here to the end.
  const outer = marshal.resources ? beginResources(store, context) : undefined;
  let call: LoweredCall | undefined;
  try {
    const lowered = call = lowerCall(name, marshal, args);
    const error = enterGuest(store, () =>
      ffi().wasmtime_component_func_call(
        struct,
        context,
        lowered.argsPointer,
        marshal.paramCount,
        lowered.resultsPointer,
        marshal.resultCount,
      ));
    if (error !== null) throw failure(error, null, `${name} failed`);
    return liftCall(lowered, marshal);
  } finally {
    // `call` is set once every argument was lowered: the native call was then made.
    if (outer !== undefined) endResources(outer, call !== undefined);
    else checkDrops();
    if (call !== undefined) releaseArena(call.arena);
  }
}

/**
 * One call as a call future (native/src/component_async.rs): arguments lowered now, the
 * future's start (which converts them), the result once it finished, the arena released.
 */
function futureCall(
  store: Store,
  struct: Uint8Array<ArrayBuffer>,
  name: string,
  marshal: Marshal,
  args: unknown[],
): { start: StartFuture; finish(): unknown; release(): void } {
  contextOf(store, name); // throws once the store is disposed
  if (marshal.resources) {
    // Resource handles are tracked per synchronous call (src/component/resource.ts); a call
    // future spans event-loop turns, where another call's handles would mix with its own.
    throw new WasmtimeError(
      `${name}: functions that take or return resources are called synchronously for now: use ` +
        "call() on an instance made by ComponentLinker.instantiate (not instantiateAsync or " +
        "async WASI)",
    );
  }
  const call = lowerCall(name, marshal, args);
  return {
    start: (context, _trap, error) =>
      ffi().wasmtime_deno_component_func_call_async(
        struct,
        context,
        call.argsPointer,
        marshal.paramCount,
        call.resultsPointer,
        marshal.resultCount,
        error,
      ),
    finish: () => liftCall(call, marshal),
    release: () => releaseArena(call.arena),
  };
}

// ---- the fast path: wasmtime_deno_component_call (native/src/component_call.rs) ----------------

/** A function with a native callee: one packed frame, reused by every call. */
interface FastPath {
  /** Calls with an argument array (ComponentFunc.call). */
  call(args: unknown[]): unknown;
  /** The plain function of `instance.exports`: fixed arity for up to three parameters. */
  plain(func: ComponentFunc): (...args: unknown[]) => unknown;
}

/** Frees the callees of fast paths that were collected (a callee holds no store reference). */
const callees = new FinalizationRegistry<Deno.PointerObject>((callee) =>
  ffi().wasmtime_deno_component_callee_delete(callee)
);

/** The intrinsic getters, so checking a `list<u8>` argument runs no user code. */
const typedArrayProto = Object.getPrototypeOf(Uint8Array.prototype);
const tagOf = Object.getOwnPropertyDescriptor(typedArrayProto, Symbol.toStringTag)!.get!;
const byteLengthOf = Object.getOwnPropertyDescriptor(typedArrayProto, "byteLength")!.get!;
const encoder = new TextEncoder();

const FAST_SCALARS = new Set([
  "bool",
  "s8",
  "u8",
  "s16",
  "u16",
  "s32",
  "u32",
  "s64",
  "u64",
  "f32",
  "f64",
  "char",
]);

function isBytes(type: ComponentValType): boolean {
  return type.kind === "list" && type.element.kind === "u8";
}

function fastKind(type: ComponentValType): boolean {
  return FAST_SCALARS.has(type.kind) || type.kind === "string" || isBytes(type);
}

/**
 * The fast path of `struct`, or null if a parameter or the result is not a scalar, `string` or
 * `list<u8>` (or the result is a `result<T, E>`). Scalars are lowered by the general path's
 * lowerers into the frame's slots; a string is encoded into a per-parameter buffer and a
 * Uint8Array is passed by address (Wasmtime copies both before guest code runs). A value the
 * fast path does not take as it is (an array for `list<u8>`, a mistyped string) goes through
 * the general path, which names the mismatch. No lowering here runs user code, so no
 * argument can be detached or resized between its check and the native call.
 */
function fastPath(
  store: Store,
  struct: Uint8Array<ArrayBuffer>,
  name: string,
  marshal: Marshal,
): FastPath | null {
  const { type, lowers, lift } = marshal;
  if (!type.params.every((p) => fastKind(p.type))) return null;
  if (type.result !== undefined && !fastKind(type.result)) return null;
  const context = contextOf(store, name);
  const callee = ffi().wasmtime_deno_component_callee_new(struct, context);
  if (callee === null) return null;
  const count = lowers.length;
  const resultAt = COMPONENT_FRAME_SLOTS;
  const argsAt = resultAt + (lift === undefined ? 0 : COMPONENT_SLOT_SIZE);
  const frame = new Uint8Array(argsAt + count * COMPONENT_SLOT_SIZE);
  const view = new DataView(frame.buffer);
  const words = new Uint32Array(frame.buffer, 0, COMPONENT_FRAME_SLOTS / 4);
  view.setBigUint64(COMPONENT_FRAME_CALLEE, pointerBits(callee), true);
  view.setBigUint64(COMPONENT_FRAME_CONTEXT, pointerBits(context), true);
  const framePointer = addressOf(frame);
  const call = ffi().wasmtime_deno_component_call;
  const invoke = () => call(framePointer);
  const scratch: Arena = new Arena(8);
  const heldBytes: { at: number; value: Uint8Array | undefined }[] = [];
  /** Counts the calls through this frame (see the `list<u8>` lowering). */
  let calls = 0;

  // One lowering per parameter: true if it took the value, false to leave the call to the
  // general path. Scalars throw their path-naming TypeError here.
  const takes = type.params.map((p, i): (v: unknown) => boolean => {
    const at = argsAt + i * COMPONENT_SLOT_SIZE;
    if (p.type.kind === "string") {
      // The parameter's encoding buffer and its address (backing stores do not move).
      let buffer = new Uint8Array(64);
      let address = Number(pointerBits(addressOf(buffer)));
      const grow = (size: number) => {
        buffer = new Uint8Array(size);
        address = Number(pointerBits(addressOf(buffer)));
      };
      return (v) => {
        if (typeof v !== "string" || !v.isWellFormed()) return false;
        if (buffer.length < v.length) grow(v.length * 2);
        let { read, written } = encoder.encodeInto(v, buffer);
        if (read < v.length) {
          grow(v.length * 3);
          ({ read, written } = encoder.encodeInto(v, buffer));
        }
        setAddress(view, at + OF, written);
        setAddress(view, at + OF + 8, address);
        return true;
      };
    }
    if (isBytes(p.type)) {
      const held = heldBytes.length;
      heldBytes.push({ at, value: undefined });
      return (v) => {
        if (tagOf.call(v) !== "Uint8Array") return false;
        // `Deno.UnsafePointer.of` walks the prototype chain, which user code can replace; the
        // length is read in `finish`, after every argument's lowering, so a buffer detached or
        // shrunk meanwhile passes its current length (0 once detached), never a stale one.
        // A call made from there (through a Proxy) reuses this frame: leave it to the general
        // path, which lowers into an arena of its own.
        const before = calls;
        const pointer = Deno.UnsafePointer.of(v as Uint8Array);
        if (calls !== before) return false;
        heldBytes[held].value = v as Uint8Array;
        setAddress(view, at + OF + 8, Number(Deno.UnsafePointer.value(pointer)));
        return true;
      };
    }
    const lower = lowers[i];
    return (v) => {
      try {
        lower(v, scratch, view, at);
      } catch (error) {
        throw valueError(name, `arg ${i}`, error);
      }
      return true;
    };
  });
  const resultBytes = type.result !== undefined && isBytes(type.result);
  /** Writes the byte lists' lengths (no user code runs from here to the native call). */
  const finish = heldBytes.length === 0 ? undefined : () => {
    for (const held of heldBytes) {
      const length = held.value === undefined ? 0 : byteLengthOf.call(held.value) as number;
      setAddress(view, held.at + OF, length);
      held.value = undefined;
    }
  };

  const run = (): unknown => {
    contextOf(store, name); // throws once the store is disposed
    calls++;
    if (finish !== undefined) finish();
    if (!enterGuest(store, invoke)) {
      const error = pointerFromWords(words, COMPONENT_FRAME_ERROR / 4);
      words[COMPONENT_FRAME_ERROR / 4] = 0;
      words[COMPONENT_FRAME_ERROR / 4 + 1] = 0;
      throw dropsChecked(failure(error, null, `${name} failed`));
    }
    // Lifted before the drops are drained: a host object's [Symbol.dispose] may call this very
    // function again, which reuses the frame.
    try {
      if (lift === undefined) return undefined;
      if (resultBytes) {
        const out = new Uint8Array(getAddress(view, resultAt + OF));
        copyNativeInto(getAddress(view, resultAt + OF + 8), out);
        return out;
      }
      return lift(view, resultAt);
    } finally {
      checkDrops();
    }
  };
  const slow = (args: unknown[]) => callComponent(store, struct, name, marshal, args);
  const [t0, t1, t2] = takes;
  const fast: FastPath = {
    call(args) {
      if (args.length !== count) return slow(args);
      for (let i = 0; i < count; i++) if (!takes[i](args[i])) return slow(args);
      return run();
    },
    plain(func) {
      // A store that accepts only call futures takes the call through func.call.
      switch (count) {
        case 0:
          return function () {
            if (arguments.length !== 0 || futureDriven(store)) return func.call(...arguments);
            return run();
          };
        case 1:
          return function (a: unknown) {
            if (arguments.length !== 1 || futureDriven(store) || !t0(a)) {
              return func.call(...arguments);
            }
            return run();
          };
        case 2:
          return function (a: unknown, b: unknown) {
            if (arguments.length !== 2 || futureDriven(store) || !t0(a) || !t1(b)) {
              return func.call(...arguments);
            }
            return run();
          };
        case 3:
          return function (a: unknown, b: unknown, c: unknown) {
            if (arguments.length !== 3 || futureDriven(store) || !t0(a) || !t1(b) || !t2(c)) {
              return func.call(...arguments);
            }
            return run();
          };
        default:
          return (...args: unknown[]) => func.call(...args);
      }
    },
  };
  // The frame's buffer is what every closure above keeps (through `view` and `words`): the
  // callee lives exactly as long as something can still call through the frame.
  callees.register(frame.buffer, callee);
  return fast;
}
