/**
 * Functions: calling wasm (generic `call`, raw-bits `callBits`, and the `typed` fast path) and
 * host functions written in JS.
 *
 * Every call goes through `wasmtime_func_call_unchecked`: the binding knows each function's
 * signature and checks arguments itself, which is both safer (clear errors) and faster than the
 * checked C entry point. Host functions use unchecked callbacks for the same reason.
 *
 * A JS exception must never unwind into native code: host callbacks catch everything, hand a
 * real trap to Wasmtime, and the original error is rethrown to the caller of `call`.
 *
 * @module
 */
import { utf8 } from "./bytes.ts";
import { WasmtimeError } from "./error_types.ts";
import { takeError, takeTrap } from "./errors.ts";
import { ffi } from "./ffi.ts";
import { EXTERN_SIZE, FUNC_SIZE, VAL_RAW_SIZE, VAL_SIZE } from "./layout.ts";
import {
  contextOf,
  enterStore,
  leaveStore,
  revalidateAllViews,
  type Store,
  storeFromContext,
} from "./store.ts";
import { FuncType, type ValType } from "./types.ts";
import {
  HOST_OWNER,
  isNumeric,
  readRaw,
  readRawBits,
  readVal,
  releaseRoots,
  toFloat,
  toI32,
  toI64,
  unrootVal,
  writeRaw,
  writeRawBits,
  writeVal,
} from "./values.ts";
import { type Extern, externFromStruct } from "./extern.ts";
import { type CallOptions, driveFuture, withTimeout } from "./async.ts";

/** A host function implemented in JS. Receives the caller, then one JS value per parameter. */
// deno-lint-ignore no-explicit-any
export type HostFunction = (caller: Caller, ...args: any[]) => unknown;

// ---- failure plumbing -----------------------------------------------------------------------

/** The error a host function threw, waiting to be rethrown by the call that trapped. */
let pendingHostError: { error: unknown } | undefined;

const trapSlot = new Uint8Array(8);
const trapWords = new Uint32Array(trapSlot.buffer);

/** Turns a failed call (error pointer or trap in `trapSlot`) into the right exception. */
function callFailure(error: Deno.PointerValue, context: string): unknown {
  const trap = Deno.UnsafePointer.create(
    BigInt(trapWords[0]) | (BigInt(trapWords[1]) << 32n),
  );
  return failure(error, trap, context);
}

/** Converts and frees a call's error or trap; a pending host error wins over both. */
function failure(error: Deno.PointerValue, trap: Deno.PointerValue, context: string): unknown {
  const converted = error !== null ? takeError(error, context) : takeTrap(trap!);
  if (error !== null && trap !== null) ffi().wasm_trap_delete(trap);
  const host = pendingHostError;
  pendingHostError = undefined;
  return host ? host.error : converted;
}

/** A trap for Wasmtime that stands for a JS exception; the exception itself is kept aside. */
function hostFailure(error: unknown, name: string): Deno.PointerValue {
  pendingHostError = { error };
  const message = utf8(
    `host function ${name} threw: ${error instanceof Error ? error.message : String(error)}`,
  );
  return ffi().wasmtime_trap_new(message, BigInt(message.length));
}

// ---- signatures -------------------------------------------------------------------------------

interface Signature {
  params: readonly ValType[];
  results: readonly ValType[];
  /** The packed call frame passed to `wasmtime_deno_call` (see native/src/lib.rs). */
  frame: Uint8Array<ArrayBuffer>;
  /** The frame's address (ArrayBuffer backing stores do not move). */
  framePointer: Deno.PointerObject;
  frameWords: Uint32Array;
  /** The frame's value slots. */
  view: DataView;
}

// Layout of a packed call frame (CallFrame in native/src/lib.rs).
const FRAME_CONTEXT = 0;
const FRAME_FUNC = 8;
const FRAME_SLOTS = 24;
const FRAME_TRAP = 32;
const FRAME_ERROR = 40;
const FRAME_VALUES = 48;

function signatureOf(
  type: FuncType,
  context: Deno.PointerObject,
  struct: Uint8Array<ArrayBuffer>,
): Signature {
  const slots = Math.max(type.params.length, type.results.length);
  const frame = new Uint8Array(FRAME_VALUES + Math.max(slots, 1) * VAL_RAW_SIZE);
  const header = new DataView(frame.buffer);
  header.setBigUint64(FRAME_CONTEXT, BigInt(Deno.UnsafePointer.value(context)), true);
  frame.set(struct, FRAME_FUNC);
  header.setBigUint64(FRAME_SLOTS, BigInt(slots), true);
  return {
    params: type.params,
    results: type.results,
    frame,
    framePointer: Deno.UnsafePointer.of(frame)!,
    frameWords: new Uint32Array(frame.buffer, 0, FRAME_VALUES / 4),
    view: new DataView(frame.buffer, FRAME_VALUES),
  };
}

/** Throws the failure a `wasmtime_deno_call` left in its frame. */
function frameFailure(words: Uint32Array, action: string): never {
  const trap = Deno.UnsafePointer.create(
    BigInt(words[FRAME_TRAP / 4]) | (BigInt(words[FRAME_TRAP / 4 + 1]) << 32n),
  );
  const error = Deno.UnsafePointer.create(
    BigInt(words[FRAME_ERROR / 4]) | (BigInt(words[FRAME_ERROR / 4 + 1]) << 32n),
  );
  words.fill(0, FRAME_TRAP / 4, FRAME_VALUES / 4);
  throw failure(error, trap, action);
}

function sameTypes(a: readonly ValType[], b: readonly ValType[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

// ---- Func -------------------------------------------------------------------------------------

const FROM_STRUCT = Symbol("wasmtime-deno.funcFromStruct");

/** Internal: wraps a `wasmtime_func_t` of `store`. */
export let funcFromStruct: (store: Store, struct: Uint8Array<ArrayBuffer>) => Func;
/** Internal: the `wasmtime_func_t` bytes of a Func. */
export let funcStruct: (func: Func) => Uint8Array<ArrayBuffer>;

/**
 * A WebAssembly function: exported by an instance, or a host function written in JS.
 *
 * @example
 * ```ts
 * import { Engine, Func, FuncType, Instance, Module, Store } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine();
 * using store = new Store(engine);
 * using module = new Module(engine, `(module
 *   (import "" "double" (func $double (param i32) (result i32)))
 *   (func (export "quadruple") (param i32) (result i32)
 *     local.get 0 call $double call $double))`);
 * const double = new Func(store, new FuncType(["i32"], ["i32"]), (_caller, x) => x * 2);
 * const instance = new Instance(store, module, [double]);
 * const quadruple = instance.getFunc("quadruple")!;
 * console.log(quadruple.call(5)); // 20
 * const fast = quadruple.typed(["i32"], ["i32"]);
 * console.log(fast(6)); // 24
 * ```
 */
export class Func {
  readonly #store: Store;
  readonly #struct: Uint8Array<ArrayBuffer>;
  #signature: Signature | undefined;

  static {
    funcFromStruct = (store, struct) =>
      new Func(store, FROM_STRUCT as unknown as FuncType, struct as unknown as HostFunction);
    funcStruct = (func) => func.#struct;
  }

  /**
   * Creates a host function in `store` with signature `type`, implemented by `fn`. `fn`
   * receives a {@linkcode Caller} and one JS value per parameter, and returns undefined (no
   * results), one value, or an array (several results).
   */
  constructor(store: Store, type: FuncType, fn: HostFunction) {
    if ((type as unknown) === FROM_STRUCT) {
      // Internal: wrapping an existing function (see funcFromStruct).
      this.#store = store;
      this.#struct = fn as unknown as Uint8Array<ArrayBuffer>;
      return;
    }
    if (!(type instanceof FuncType)) {
      throw new WasmtimeError("new Func(store, type, fn): type must be a FuncType");
    }
    if (typeof fn !== "function") {
      throw new WasmtimeError("new Func(store, type, fn): fn must be a function");
    }
    const context = contextOf(store, "new Func");
    const host = createHostCallback(type, fn, fn.name || "(anonymous)");
    const struct = new Uint8Array(FUNC_SIZE);
    ffi().wasmtime_func_new_unchecked(
      context,
      type.pointer("new Func"),
      host.callback,
      host.data,
      host.finalizer,
      struct,
    );
    this.#store = store;
    this.#struct = struct;
  }

  /** The store this function belongs to. */
  get store(): Store {
    return this.#store;
  }

  #sig(action: string): Signature {
    if (this.#signature === undefined) {
      this.#signature = signatureOf(
        this.#readType(action),
        contextOf(this.#store, action),
        this.#struct,
      );
    }
    return this.#signature;
  }

  #readType(action: string): FuncType {
    const native = ffi().wasmtime_func_type(contextOf(this.#store, action), this.#struct);
    try {
      return FuncType.fromNative(native!);
    } finally {
      ffi().wasm_functype_delete(native!);
    }
  }

  /** The function's signature. */
  get type(): FuncType {
    const sig = this.#sig("type");
    return new FuncType(sig.params, sig.results);
  }

  #invoke(_context: Deno.PointerObject, sig: Signature, action: string): void {
    const store = this.#store;
    enterStore(store);
    let ok: boolean;
    try {
      ok = ffi().wasmtime_deno_call(sig.framePointer);
    } finally {
      releaseRoots();
      leaveStore(store);
    }
    if (!ok) frameFailure(sig.frameWords, action);
  }

  #checkArity(sig: Signature, count: number, action: string): void {
    if (count !== sig.params.length) {
      throw new WasmtimeError(
        `${action}: expected ${sig.params.length} argument(s) (${
          sig.params.join(", ")
        }), got ${count}`,
      );
    }
  }

  /**
   * Calls the function. Returns undefined for no results, the value for one result, and an
   * array for several. Throws a {@linkcode Trap} if the guest traps, or the original error if
   * a host function it called threw.
   */
  call(...args: unknown[]): unknown {
    const store = this.#store;
    const context = contextOf(store, "call");
    const sig = this.#sig("call");
    this.#checkArity(sig, args.length, "Func.call");
    const { view, params, results } = sig;
    for (let i = 0; i < params.length; i++) {
      writeRaw(view, i * VAL_RAW_SIZE, params[i], args[i], store, context, `argument ${i}`);
    }
    this.#invoke(context, sig, "Func.call");
    if (results.length === 0) return undefined;
    if (results.length === 1) return readRaw(view, 0, results[0], store, context);
    const out = new Array(results.length);
    for (let i = 0; i < results.length; i++) {
      out[i] = readRaw(view, i * VAL_RAW_SIZE, results[i], store, context);
    }
    return out;
  }

  /**
   * Calls the function with numeric arguments and results as raw bit patterns (bigints), so
   * float NaN payloads survive exactly. References are passed as in {@linkcode call}. Always
   * returns an array of results.
   */
  callBits(...args: unknown[]): unknown[] {
    const store = this.#store;
    const context = contextOf(store, "callBits");
    const sig = this.#sig("callBits");
    this.#checkArity(sig, args.length, "Func.callBits");
    const { view, params, results } = sig;
    for (let i = 0; i < params.length; i++) {
      const what = `argument ${i}`;
      if (isNumeric(params[i])) writeRawBits(view, i * VAL_RAW_SIZE, params[i], args[i], what);
      else writeRaw(view, i * VAL_RAW_SIZE, params[i], args[i], store, context, what);
    }
    this.#invoke(context, sig, "Func.callBits");
    const out = new Array(results.length);
    for (let i = 0; i < results.length; i++) {
      out[i] = isNumeric(results[i])
        ? readRawBits(view, i * VAL_RAW_SIZE, results[i])
        : readRaw(view, i * VAL_RAW_SIZE, results[i], store, context);
    }
    return out;
  }

  /**
   * Calls the function synchronously with options: `timeoutMs` interrupts the guest (a
   * {@linkcode Trap} with `TrapCode.Interrupt`) even though it blocks the JS thread, because a
   * native thread advances the engine's epoch. Needs `epochInterruption`.
   */
  callWith(options: CallOptions, ...args: unknown[]): unknown {
    return withTimeout(this.#store, options, () => this.call(...args));
  }

  /**
   * Calls the function without blocking the event loop: the guest yields to it periodically
   * (every epoch tick with `epochInterruption`, or every slice of fuel with `consumeFuel`), and
   * host functions defined with `Linker.defineAsyncFunc` may await Promises. Resolves like
   * {@linkcode call} returns. One async call runs per store at a time; later ones wait.
   */
  callAsync(...args: unknown[]): Promise<unknown> {
    return this.callAsyncWith({}, ...args);
  }

  /** {@linkcode callAsync} with options: `timeoutMs` and an `AbortSignal`. */
  async callAsyncWith(options: CallOptions, ...args: unknown[]): Promise<unknown> {
    const store = this.#store;
    const context = contextOf(store, "callAsync");
    const sig = this.#sig("callAsync");
    this.#checkArity(sig, args.length, "Func.callAsync");
    const { params, results } = sig;
    const argBytes = new Uint8Array(Math.max(1, params.length) * VAL_SIZE);
    const resultBytes = new Uint8Array(Math.max(1, results.length) * VAL_SIZE);
    const slot = (bytes: Uint8Array<ArrayBuffer>, i: number) =>
      bytes.subarray(i * VAL_SIZE, (i + 1) * VAL_SIZE);
    try {
      for (let i = 0; i < params.length; i++) {
        writeVal(slot(argBytes, i), params[i], args[i], store, context, `argument ${i}`);
      }
      await driveFuture(
        store,
        "Func.callAsync",
        options,
        (ctx, trap, error) =>
          ffi().wasmtime_func_call_async(
            ctx,
            this.#struct,
            argBytes,
            BigInt(params.length),
            resultBytes,
            BigInt(results.length),
            trap,
            error,
          ),
      );
    } finally {
      if (!store.disposed) {
        for (let i = 0; i < params.length; i++) unrootVal(slot(argBytes, i));
      }
    }
    const values = results.map((_, i) => readVal(slot(resultBytes, i), store, context));
    return values.length === 0 ? undefined : values.length === 1 ? values[0] : values;
  }

  /**
   * Returns a plain JS function for this signature, checked once against the function's type.
   * Calls through it skip per-call type lookups and allocations: the fast path.
   */
  // deno-lint-ignore no-explicit-any
  typed(params: readonly ValType[], results: readonly ValType[]): (...args: any[]) => any {
    const sig = this.#sig("typed");
    if (!sameTypes(sig.params, params) || !sameTypes(sig.results, results)) {
      throw new WasmtimeError(
        `Func.typed: the function has type (${sig.params.join(", ")}) -> (${
          sig.results.join(", ")
        }), not (${params.join(", ")}) -> (${results.join(", ")})`,
      );
    }
    return makeTyped(
      this,
      signatureOf(new FuncType(params, results), contextOf(this.#store, "typed"), this.#struct),
      (context, own) => this.#invoke(context, own, "typed call"),
    );
  }
}

// ---- typed fast path -------------------------------------------------------------------------

type Writer = (value: unknown) => void;

/** A writer of one numeric value straight into a raw value slot at `offset` of `frame`. */
function numericWriter(type: ValType, frame: ArrayBuffer, offset: number, what: string): Writer {
  switch (type) {
    case "i32": {
      const cell = new Int32Array(frame, offset, 2);
      return (v) => {
        cell[0] = typeof v === "number" && (v | 0) === v ? v : toI32(v, what);
      };
    }
    case "i64": {
      const cell = new BigInt64Array(frame, offset, 1);
      return (v) => {
        cell[0] = toI64(v, what);
      };
    }
    case "f32": {
      const cell = new Float32Array(frame, offset, 1);
      return (v) => {
        cell[0] = toFloat(v, what, type);
      };
    }
    case "f64": {
      const cell = new Float64Array(frame, offset, 1);
      return (v) => {
        cell[0] = toFloat(v, what, type);
      };
    }
    default:
      throw new Error("not numeric");
  }
}

/** A reader of one numeric raw value slot at `offset` of `frame`. */
function numericReader(
  type: ValType | undefined,
  frame: ArrayBuffer,
  offset: number,
): () => unknown {
  switch (type) {
    case undefined:
      return () => undefined;
    case "i32": {
      const cell = new Int32Array(frame, offset, 1);
      return () => cell[0];
    }
    case "i64": {
      const cell = new BigInt64Array(frame, offset, 1);
      return () => cell[0];
    }
    case "f32": {
      const cell = new Float32Array(frame, offset, 1);
      return () => cell[0];
    }
    default: {
      const cell = new Float64Array(frame, offset, 1);
      return () => cell[0];
    }
  }
}

/** True for signatures the allocation-free numeric paths handle. */
function isSimpleNumeric(params: readonly ValType[], results: readonly ValType[]): boolean {
  return [...params, ...results].every((t) =>
    t === "i32" || t === "i64" || t === "f32" || t === "f64"
  ) && results.length <= 1;
}

function makeTyped(
  func: Func,
  sig: Signature,
  invoke: (context: Deno.PointerObject, sig: Signature) => void,
  // deno-lint-ignore no-explicit-any
): (...args: any[]) => any {
  const store = func.store;
  const { view, params, results } = sig;
  const simple =
    [...params, ...results].every((t) =>
      t === "i32" || t === "i64" || t === "f32" || t === "f64"
    ) && results.length <= 1;
  if (!simple) {
    // References, v128 and multi-value: the generic marshalling, still without type lookups.
    return (...args: unknown[]) => {
      const context = contextOf(store, "typed call");
      if (args.length !== params.length) {
        throw new WasmtimeError(
          `typed call: expected ${params.length} argument(s), got ${args.length}`,
        );
      }
      for (let i = 0; i < params.length; i++) {
        writeRaw(view, i * VAL_RAW_SIZE, params[i], args[i], store, context, `argument ${i}`);
      }
      invoke(context, sig);
      if (results.length === 0) return undefined;
      if (results.length === 1) return readRaw(view, 0, results[0], store, context);
      return results.map((t, i) => readRaw(view, i * VAL_RAW_SIZE, t, store, context));
    };
  }
  // Numbers only: no references to root, so the call is the frame, the FFI call and the
  // store's bookkeeping, with no allocation.
  const { frame, framePointer, frameWords } = sig;
  const w = params.map((t, i) =>
    numericWriter(t, frame.buffer, FRAME_VALUES + i * VAL_RAW_SIZE, `argument ${i}`)
  );
  const read = numericReader(results[0], frame.buffer, FRAME_VALUES);
  const call = ffi().wasmtime_deno_call;
  const run = (): unknown => {
    enterStore(store);
    let ok: boolean;
    try {
      ok = call(framePointer);
    } finally {
      leaveStore(store);
    }
    if (!ok) frameFailure(frameWords, "typed call");
    return read();
  };
  switch (params.length) {
    case 0:
      return () => run();
    case 1: {
      const [w0] = w;
      return (a: unknown) => {
        w0(a);
        return run();
      };
    }
    case 2: {
      const [w0, w1] = w;
      return (a: unknown, b: unknown) => {
        w0(a);
        w1(b);
        return run();
      };
    }
    case 3: {
      const [w0, w1, w2] = w;
      return (a: unknown, b: unknown, c: unknown) => {
        w0(a);
        w1(b);
        w2(c);
        return run();
      };
    }
    default:
      return (...args: unknown[]) => {
        if (args.length !== w.length) {
          throw new WasmtimeError(
            `typed call: expected ${w.length} argument(s), got ${args.length}`,
          );
        }
        for (let i = 0; i < w.length; i++) w[i](args[i]);
        return run();
      };
  }
}

// ---- host functions --------------------------------------------------------------------------

/**
 * What a host function sees of the wasm code that called it. Valid only during that call.
 *
 * @example
 * ```ts
 * import { type Caller, Memory } from "@wasmtime-deno/wasmtime";
 * function log(caller: Caller, ptr: number, len: number): void {
 *   const memory = caller.getExport("memory") as Memory;
 *   console.log(memory.readString(ptr, len));
 * }
 * ```
 */
export class Caller {
  #pointer: Deno.PointerValue = null;

  /** Internal: points the caller at a new native caller; returns the previous one. */
  swap(pointer: Deno.PointerValue): Deno.PointerValue {
    const previous = this.#pointer;
    this.#pointer = pointer;
    return previous;
  }

  #live(action: string): Deno.PointerObject {
    if (this.#pointer === null) {
      throw new WasmtimeError(
        `Caller.${action}: a Caller is only valid while its host function runs`,
      );
    }
    return this.#pointer;
  }

  /** The store the calling instance belongs to. */
  get store(): Store {
    const store = storeFromContext(ffi().wasmtime_caller_context(this.#live("store"))!);
    if (store === undefined) throw new WasmtimeError("Caller.store: the store is gone");
    return store;
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

/** An async host function as performed by `callAsync` between polls. */
export interface AsyncHost {
  fn: HostFunction;
  type: FuncType;
  name: string;
}

interface HostEntry {
  /** Closes the JS side (the UnsafeCallback, or nothing for async host functions). */
  close(): void;
  /** Set for async host functions. */
  async?: AsyncHost;
}

/** The async host function registered as `id`, if any. */
export function asyncHostById(id: bigint): AsyncHost | undefined {
  return hostEntries.get(id)?.async;
}

/** Host functions Wasmtime may still call, by id. */
const hostEntries = new Map<bigint, HostEntry>();
let nextHostId = 1n;
const droppedIds = new BigUint64Array(256);
const droppedBytes = new Uint8Array(droppedIds.buffer);

/**
 * Closes the JS side of host functions Wasmtime has dropped. Their native environments are
 * freed by Wasmtime (possibly on an async fiber, where JS cannot run), which only queues the id.
 */
export function releaseDroppedHostFunctions(): void {
  for (;;) {
    const count = Number(
      ffi().wasmtime_deno_take_dropped(HOST_OWNER, droppedBytes, BigInt(droppedIds.length)),
    );
    for (let i = 0; i < count; i++) {
      const entry = hostEntries.get(droppedIds[i]);
      hostEntries.delete(droppedIds[i]);
      entry?.close();
    }
    if (count < droppedIds.length) return;
  }
}

/** Registers a host function's JS side and returns its id. */
export function registerHost(entry: {
  close(): void;
  async?: AsyncHost;
}): bigint {
  if (hostEntries.size % 64 === 0) releaseDroppedHostFunctions();
  const id = nextHostId++;
  hostEntries.set(id, entry);
  return id;
}

let trampoline: Deno.PointerObject | null = null;
let envFinalizer: Deno.PointerObject | null = null;

/** The native trampoline and finalizer every synchronous host function is registered with. */
export function hostTrampoline(): { callback: Deno.PointerObject; finalizer: Deno.PointerObject } {
  trampoline ??= ffi().wasmtime_deno_host_trampoline();
  envFinalizer ??= ffi().wasmtime_deno_host_env_finalizer();
  return { callback: trampoline!, finalizer: envFinalizer! };
}

const JS_HOST_CALLBACK = {
  // wasm_trap_t *(*)(wasmtime_caller_t *caller): the native trampoline copies arguments into
  // and results out of the function's scratch buffer, so only the caller crosses the boundary.
  parameters: ["pointer"],
  result: "pointer",
} as const;

/**
 * A host function ready to hand to Wasmtime: pass `callback` with `data` (a native HostEnv)
 * and `finalizer` to `wasmtime_func_new_unchecked` or `wasmtime_linker_define_func_unchecked`.
 */
export interface HostCallback {
  callback: Deno.PointerObject;
  data: Deno.PointerObject;
  finalizer: Deno.PointerObject;
}

/** Creates the native trampoline for a JS host function of signature `type`. */
export function createHostCallback(type: FuncType, fn: HostFunction, name: string): HostCallback {
  const { params, results } = type;
  const slots = Math.max(params.length, results.length);
  const buffer = new Uint8Array(Math.max(slots, 1) * VAL_RAW_SIZE);
  const view = new DataView(buffer.buffer);
  const caller = new Caller();
  const args: unknown[] = new Array(params.length);
  // For more than three parameters: [caller, ...args], reused so calls do not allocate.
  const applyArgs: unknown[] = new Array(params.length + 1);
  const needsContext = [...params, ...results].some((t) => !isNumeric(t));
  const register = (callback: Deno.UnsafeCallback<typeof JS_HOST_CALLBACK>): HostCallback => {
    const id = registerHost({ close: () => callback.close() });
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
    const invoke = params.length === 0
      ? () => fn(caller)
      : params.length === 1
      ? () => fn(caller, r0())
      : params.length === 2
      ? () => fn(caller, r0(), r1())
      : () => fn(caller, r0(), r1(), r2());
    return register(
      new Deno.UnsafeCallback(JS_HOST_CALLBACK, (callerPointer) => {
        const previous = caller.swap(callerPointer);
        try {
          revalidateAllViews();
          write(invoke());
          return null;
        } catch (error) {
          return hostFailure(error, name);
        } finally {
          caller.swap(previous);
        }
      }),
    );
  }

  const callback = new Deno.UnsafeCallback(JS_HOST_CALLBACK, (callerPointer) => {
    const previous = caller.swap(callerPointer);
    try {
      revalidateAllViews();
      let store: Store | undefined;
      let context: Deno.PointerObject | null = null;
      if (needsContext) {
        context = ffi().wasmtime_caller_context(callerPointer);
        store = storeFromContext(context!);
      }
      for (let i = 0; i < params.length; i++) {
        args[i] = readRaw(view, i * VAL_RAW_SIZE, params[i], store!, context!);
      }
      let result: unknown;
      switch (params.length) {
        case 0:
          result = fn(caller);
          break;
        case 1:
          result = fn(caller, args[0]);
          break;
        case 2:
          result = fn(caller, args[0], args[1]);
          break;
        case 3:
          result = fn(caller, args[0], args[1], args[2]);
          break;
        default:
          applyArgs[0] = caller;
          for (let i = 0; i < params.length; i++) applyArgs[i + 1] = args[i];
          result = fn.apply(undefined, applyArgs as Parameters<HostFunction>);
      }
      if (result instanceof Promise) throw promiseError(result, name);
      if (results.length === 1) {
        writeRaw(view, 0, results[0], result, store!, context!, `result of ${name}`);
      } else if (results.length > 1) {
        if (!Array.isArray(result) || result.length !== results.length) {
          throw new WasmtimeError(
            `host function ${name} must return an array of ${results.length} values (${
              results.join(", ")
            })`,
          );
        }
        for (let i = 0; i < results.length; i++) {
          writeRaw(
            view,
            i * VAL_RAW_SIZE,
            results[i],
            result[i],
            store!,
            context!,
            `result ${i} of ${name}`,
          );
        }
      }
      return null;
    } catch (error) {
      return hostFailure(error, name);
    } finally {
      caller.swap(previous);
      args.fill(undefined);
      applyArgs.fill(undefined);
    }
  });
  return register(callback);
}

function promiseError(result: Promise<unknown>, name: string): WasmtimeError {
  result.catch(() => {});
  return new WasmtimeError(
    `host function ${name} returned a Promise; synchronous calls cannot wait for it ` +
      "(use Linker.defineAsyncFunc with callAsync)",
  );
}

/** Number of host functions whose JS side is alive (for leak tests). */
export function liveHostCallbackCount(): number {
  releaseDroppedHostFunctions();
  return hostEntries.size;
}

/** Wraps an exported `wasmtime_func_t` (used by extern.ts). */
export function wrapFunc(store: Store, struct: Uint8Array<ArrayBuffer>): Func {
  return funcFromStruct(store, struct);
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
  trapWords[0] = 0;
  trapWords[1] = 0;
  enterStore(store);
  let error: Deno.PointerValue;
  try {
    error = run(trapSlot);
  } finally {
    releaseRoots();
    leaveStore(store);
  }
  if (error !== null || trapWords[0] !== 0 || trapWords[1] !== 0) {
    throw callFailure(error, action);
  }
}
