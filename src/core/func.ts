/**
 * Functions: calling wasm (generic `call`, raw-bits `callBits`, the `typed` fast path, and the
 * async and timed variants) and host functions created in a store.
 *
 * Every call goes through `wasmtime_func_call_unchecked` (in one packed frame, see
 * `wasmtime_deno_call`): the binding knows each function's signature and checks arguments
 * itself, which is both safer (clear errors) and faster than the checked C entry point.
 *
 * @module
 */
import {
  type CallOptions,
  driveFuture,
  driveFutureBlocking,
  type StartFuture,
  withTimeout,
} from "./async.ts";
import { WasmtimeError } from "../errors.ts";
import type { AnyRef, ArrayRef, ExnRef, StructRef } from "./gc.ts";
import { callFrame, enterGuest, frameFailure, type Signature, signatureOf } from "./call.ts";
import { ffi } from "../ffi/symbols.ts";
import { createHostCallback, type HostFunction, type PlainHostFunction } from "./host.ts";
import { FRAME_VALUES, FUNC_SIZE, VAL_RAW_SIZE, VAL_SIZE } from "../ffi/layout.ts";
import { fromRaw, takeRaw } from "../internal.ts";
import { contextOf, futureDriven, type Store, type StructFields } from "./store.ts";
import { FuncType, funcTypePointer, readFuncType, type ValType } from "./types.ts";
import {
  isNumeric,
  isSimpleNumeric,
  numericReader,
  numericWriter,
  readRaw,
  readRawBits,
  readVal,
  releaseRoots,
  unrootVal,
  writeRaw,
  writeRawBits,
  writeVal,
} from "./values.ts";

// ---- Func helpers ---------------------------------------------------------------------------

function sameTypes(a: readonly ValType[], b: readonly ValType[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

// ---- Func -------------------------------------------------------------------------------------

/**
 * The JS value of a wasm value type, as calls take and return it: numbers for i32/f32/f64,
 * bigints for i64 and v128, a `Func` for function references, a {@linkcode StructRef},
 * {@linkcode ArrayRef}, {@linkcode AnyRef} or an i31 number for the `any` hierarchy, an
 * {@linkcode ExnRef} for exception references, any JS value (or an
 * {@linkcode ExternalizedRef}) for externref; null for the null reference of nullable types.
 * Concrete reference types (`(ref $t)`, read from modules) map to their abstract family.
 *
 * @example
 * ```ts
 * import type { JsValueOf, StructRef } from "@wasmtime-deno/wasmtime";
 * const n: JsValueOf<"i32"> = 42;
 * const big: JsValueOf<"i64"> = 42n;
 * const small: JsValueOf<"i31ref"> = 7;
 * const none: JsValueOf<"structref"> = null;
 * function x(point: JsValueOf<"(ref struct)">): StructRef {
 *   return point;
 * }
 * ```
 */
export type JsValueOf<T extends ValType> = T extends "i32" | "f32" | "f64" ? number
  : T extends "i64" | "v128" ? bigint
  : T extends "funcref" ? Func | null
  : T extends "externref" ? unknown
  : T extends "anyref" | "eqref" ? AnyRef | number | null
  : T extends "i31ref" ? number | null
  : T extends "structref" ? StructRef | null
  : T extends "arrayref" ? ArrayRef | null
  : T extends "exnref" ? ExnRef | null
  : T extends "nullref" | "nullfuncref" | "nullexternref" | "nullexnref" ? null
  : T extends `(ref null ${infer H})` ? JsValueOf<`(ref ${H})`> | null
  : T extends `(ref ${infer H})` ? (
      H extends "func" | "(concrete func)" | `(func${string}` | `$func:${string}` ? Func
        : H extends "any" | "eq" ? AnyRef | number
        : H extends "i31" ? number
        : H extends "struct" | "(concrete struct)" | `(struct${string}` | `$struct:${string}`
          ? StructRef
        : H extends "array" | "(concrete array)" | `(array${string}` | `$array:${string}` ? ArrayRef
        : H extends "exn" | "(concrete exn)" ? ExnRef
        : H extends "none" | "nofunc" | "noextern" | "noexn" ? never
        : unknown
    )
  : unknown;

/**
 * The parameters of a function made by {@linkcode Func.typed}: one JS value per wasm parameter.
 *
 * @example
 * ```ts
 * import type { TypedParams } from "@wasmtime-deno/wasmtime";
 * const args: TypedParams<["i32", "i64"]> = [1, 2n];
 * ```
 */
export type TypedParams<P extends readonly ValType[]> = {
  -readonly [K in keyof P]: P[K] extends ValType ? JsValueOf<P[K]> : never;
};

/**
 * The result of a function made by {@linkcode Func.typed}: undefined for no results, the value
 * for one, an array for several.
 *
 * @example
 * ```ts
 * import type { TypedResult } from "@wasmtime-deno/wasmtime";
 * const one: TypedResult<["f64"]> = 1.5;
 * const two: TypedResult<["i32", "i64"]> = [1, 2n];
 * ```
 */
export type TypedResult<R extends readonly ValType[]> = R extends readonly [] ? undefined
  : R extends readonly [infer T extends ValType] ? JsValueOf<T>
  : TypedParams<R>;

/**
 * A function of `instance.exports`: a plain JS function calling the wasm function on the
 * fastest path for its type. Its arguments and results are those of {@linkcode Func.call}.
 *
 * @example
 * ```ts
 * import type { ExportFunction } from "@wasmtime-deno/wasmtime";
 * function callAll(fns: ExportFunction[]): unknown[] {
 *   return fns.map((fn) => fn());
 * }
 * ```
 */
// deno-lint-ignore no-explicit-any
export type ExportFunction = (...args: any[]) => unknown;

/** The Func behind each function of an `instance.exports` object. */
const exportedFuncs = new WeakMap<ExportFunction, Func>();

/** Internal: the Func behind a function of `instance.exports`, or undefined. */
export function funcOfExport(fn: unknown): Func | undefined {
  return typeof fn === "function" ? exportedFuncs.get(fn as ExportFunction) : undefined;
}

/** Internal: the function of `instance.exports` for `func`, exported as `name`. */
export let exportFunction: (func: Func, name: string) => ExportFunction;

/** The `wasmtime_func_t` of a new host function (see {@linkcode createHostCallback}). */
function newHostFunc(
  store: Store,
  type: FuncType,
  fn: HostFunction | PlainHostFunction,
  name: string,
  passCaller: boolean,
): Uint8Array<ArrayBuffer> {
  const context = contextOf(store, "new Func");
  const host = createHostCallback(type, fn, name, store.engine, passCaller);
  const struct = new Uint8Array(FUNC_SIZE);
  ffi().wasmtime_func_new_unchecked(
    context,
    funcTypePointer(type, store.engine, "new Func"),
    host.callback,
    host.data,
    host.finalizer,
    struct,
  );
  return struct;
}

/**
 * Internal: a host function of `store` that V8 would call, `fn(...args)` without a Caller (the
 * functions of an imports object).
 */
export function plainHostFunc(
  store: Store,
  type: FuncType,
  fn: PlainHostFunction,
  name: string,
): Func {
  return funcFromStruct(store, newHostFunc(store, type, fn, name, false));
}

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
    funcFromStruct = (store, struct) => fromRaw(Func, { store, struct });
    funcStruct = (func) => func.#struct;
    exportFunction = (func, name) => {
      const sig = func.#sig("exports");
      const label = `exports.${name}`;
      const fn = makeTyped(func, sig, label, true);
      Object.defineProperty(fn, "name", { value: name });
      Object.defineProperty(fn, "length", { value: sig.params.length });
      exportedFuncs.set(fn, func);
      return fn;
    };
  }

  /**
   * Creates a host function in `store` with signature `type`, implemented by `fn`. `fn`
   * receives a {@linkcode Caller} and one JS value per parameter, and returns undefined (no
   * results), one value, or an array (several results).
   */
  constructor(store: Store, type: FuncType, fn: HostFunction) {
    const raw = takeRaw<StructFields>();
    if (raw !== undefined) {
      this.#store = raw.store;
      this.#struct = raw.struct;
      return;
    }
    if (!(type instanceof FuncType)) {
      throw new WasmtimeError("new Func(store, type, fn): type must be a FuncType");
    }
    if (typeof fn !== "function") {
      throw new WasmtimeError("new Func(store, type, fn): fn must be a function");
    }
    this.#store = store;
    this.#struct = newHostFunc(store, type, fn, fn.name || "(anonymous)", true);
  }

  /** The store this function belongs to. */
  get store(): Store {
    return this.#store;
  }

  #sig(action: string): Signature {
    if (this.#signature === undefined) {
      this.#signature = signatureOf(
        this.#readType(action),
        contextOf(this.#store, `Func.${action}`),
        this.#struct,
      );
    }
    return this.#signature;
  }

  #readType(action: string): FuncType {
    const native = ffi().wasmtime_func_type(contextOf(this.#store, `Func.${action}`), this.#struct);
    try {
      return readFuncType(native!, this.#store.engine);
    } finally {
      ffi().wasm_functype_delete(native!);
    }
  }

  /** The function's signature. */
  get type(): FuncType {
    // Read from Wasmtime: it may hold concrete reference types, which callers cannot spell.
    return this.#readType("type");
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
    if (futureDriven(store)) return this.#callBlocking({}, args, "Func.call");
    const context = contextOf(store, "Func.call");
    const sig = this.#sig("call");
    this.#checkArity(sig, args.length, "Func.call");
    const { view, params, results, paramTypes } = sig;
    try {
      for (let i = 0; i < params.length; i++) {
        const what = `argument ${i}`;
        writeRaw(view, i * VAL_RAW_SIZE, params[i], args[i], store, context, what, paramTypes[i]);
      }
    } catch (error) {
      releaseRoots(); // references made for the arguments before the bad one
      throw error;
    }
    callFrame(store, sig, "Func.call");
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
    const context = contextOf(store, "Func.callBits");
    const sig = this.#sig("callBits");
    this.#checkArity(sig, args.length, "Func.callBits");
    const { view, params, results, paramTypes } = sig;
    try {
      for (let i = 0; i < params.length; i++) {
        const what = `argument ${i}`;
        const offset = i * VAL_RAW_SIZE;
        if (isNumeric(params[i])) writeRawBits(view, offset, params[i], args[i], what);
        else writeRaw(view, offset, params[i], args[i], store, context, what, paramTypes[i]);
      }
    } catch (error) {
      releaseRoots(); // references made for the arguments before the bad one
      throw error;
    }
    callFrame(store, sig, "Func.callBits");
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
   * native thread advances the engine's epoch. Needs `epochInterruption`. A `signal` is only
   * checked before the call starts: a synchronous call blocks the thread that would observe it.
   */
  callWith(options: CallOptions, ...args: unknown[]): unknown {
    if (futureDriven(this.#store)) return this.#callBlocking(options, args, "Func.callWith");
    return withTimeout(this.#store, options, () => this.call(...args), "Func.callWith");
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
    const call = this.#futureCall("callAsync", args);
    try {
      await driveFuture(this.#store, "Func.callAsync", options, call.start);
    } finally {
      call.release();
    }
    return call.results();
  }

  /**
   * A call as a call future (for callAsync, and for synchronous calls into stores that accept
   * only futures): arguments marshalled as `wasmtime_val_t`, the future's start, the results.
   */
  #futureCall(action: string, args: unknown[]): {
    start: StartFuture;
    release(): void;
    results(): unknown;
  } {
    const store = this.#store;
    const context = contextOf(store, `Func.${action}`);
    const sig = this.#sig(action);
    this.#checkArity(sig, args.length, `Func.${action}`);
    const { params, results } = sig;
    const argBytes = new Uint8Array(Math.max(1, params.length) * VAL_SIZE);
    const resultBytes = new Uint8Array(Math.max(1, results.length) * VAL_SIZE);
    const slot = (bytes: Uint8Array<ArrayBuffer>, i: number) =>
      bytes.subarray(i * VAL_SIZE, (i + 1) * VAL_SIZE);
    const release = () => {
      if (!store.disposed) {
        for (let i = 0; i < params.length; i++) unrootVal(slot(argBytes, i));
      }
    };
    try {
      for (let i = 0; i < params.length; i++) {
        writeVal(slot(argBytes, i), params[i], args[i], store, context, `argument ${i}`);
      }
    } catch (error) {
      release();
      throw error;
    }
    return {
      start: (ctx, trap, error) =>
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
      release,
      results: () => {
        const values = results.map((_, i) => readVal(slot(resultBytes, i), store, context));
        return values.length === 0 ? undefined : values.length === 1 ? values[0] : values;
      },
    };
  }

  /** A synchronous call into a store that accepts only call futures (async WASI). */
  #callBlocking(options: CallOptions, args: unknown[], action: string): unknown {
    const call = this.#futureCall("call", args);
    try {
      driveFutureBlocking(this.#store, action, options, call.start);
    } finally {
      call.release();
    }
    return call.results();
  }

  /**
   * Returns a plain JS function for this signature, checked once against the function's type.
   * Calls through it skip per-call type lookups and allocations: the fast path. Its TypeScript
   * type follows the value types: `typed(["i32", "i32"], ["i32"])` is
   * `(a: number, b: number) => number`.
   */
  typed<const P extends readonly ValType[], const R extends readonly ValType[]>(
    params: P,
    results: R,
  ): (...args: TypedParams<P>) => TypedResult<R> {
    const sig = this.#sig("typed");
    if (!sameTypes(sig.params, params) || !sameTypes(sig.results, results)) {
      throw new WasmtimeError(
        `Func.typed: the function has type (${sig.params.join(", ")}) -> (${
          sig.results.join(", ")
        }), not (${params.join(", ")}) -> (${results.join(", ")})`,
      );
    }
    return <(...args: TypedParams<P>) => TypedResult<R>> makeTyped(
      this,
      // The type as Wasmtime read it: concrete reference types cannot be made from their text.
      signatureOf(this.#readType("typed"), contextOf(this.#store, "Func.typed"), this.#struct),
      "typed call",
      false,
    );
  }
}

// ---- typed fast path -------------------------------------------------------------------------

/**
 * The plain JS function behind `typed()` and `instance.exports`, calling through `sig`'s frame.
 * `exported` functions also serve stores whose calls must run as call futures (async WASI):
 * there they take Func.call's future path (one flag read per call on the fast path; measured
 * no slower than typed(), whose calls stay exactly the frame and the FFI call and which refuses
 * such stores instead).
 */
function makeTyped(
  func: Func,
  sig: Signature,
  label: string,
  exported: boolean,
  // deno-lint-ignore no-explicit-any
): (...args: any[]) => any {
  const store = func.store;
  const { view, params, results, paramTypes } = sig;
  const what = (i: number) => exported ? `${label} argument ${i}` : `argument ${i}`;
  const arityError = (count: number): WasmtimeError =>
    new WasmtimeError(
      exported
        ? `${label}: expected ${params.length} argument(s) (${params.join(", ")}), got ${count}`
        : `${label}: expected ${params.length} argument(s), got ${count}`,
    );
  if (!isSimpleNumeric(params, results)) {
    // References, v128 and multi-value: the generic marshalling, still without type lookups.
    return (...args: unknown[]) => {
      if (exported && futureDriven(store)) return func.call(...args);
      const context = contextOf(store, label);
      if (args.length !== params.length) throw arityError(args.length);
      for (let i = 0; i < params.length; i++) {
        writeRaw(
          view,
          i * VAL_RAW_SIZE,
          params[i],
          args[i],
          store,
          context,
          what(i),
          paramTypes[i],
        );
      }
      callFrame(store, sig, label);
      if (results.length === 0) return undefined;
      if (results.length === 1) return readRaw(view, 0, results[0], store, context);
      return results.map((t, i) => readRaw(view, i * VAL_RAW_SIZE, t, store, context));
    };
  }
  // Numbers only: the call is the frame, the FFI call and the store's bookkeeping, with no
  // allocation.
  const { frame, frameWords, invoke } = sig;
  const w = params.map((t, i) =>
    numericWriter(t, frame.buffer, FRAME_VALUES + i * VAL_RAW_SIZE, what(i))
  );
  const read = numericReader(results[0], frame.buffer, FRAME_VALUES);
  const fast = (): unknown => {
    if (!enterGuest(store, invoke)) frameFailure(store, frameWords, label);
    return read();
  };
  // The arguments are already checked and in the frame: read them back for Func.call.
  const args = params.map((t, i) =>
    numericReader(t, frame.buffer, FRAME_VALUES + i * VAL_RAW_SIZE)
  );
  const run = exported
    ? (): unknown => futureDriven(store) ? func.call(...args.map((r) => r())) : fast()
    : fast;
  // `arguments.length` is read without materializing an arguments object, so the arity check
  // costs a compare (extra arguments would otherwise be ignored silently).
  const arity = (count: number): never => {
    throw arityError(count);
  };
  switch (params.length) {
    case 0:
      return function () {
        if (arguments.length !== 0) arity(arguments.length);
        return run();
      };
    case 1: {
      const [w0] = w;
      return function (a: unknown) {
        if (arguments.length !== 1) arity(arguments.length);
        w0(a);
        return run();
      };
    }
    case 2: {
      const [w0, w1] = w;
      return function (a: unknown, b: unknown) {
        if (arguments.length !== 2) arity(arguments.length);
        w0(a);
        w1(b);
        return run();
      };
    }
    case 3: {
      const [w0, w1, w2] = w;
      return function (a: unknown, b: unknown, c: unknown) {
        if (arguments.length !== 3) arity(arguments.length);
        w0(a);
        w1(b);
        w2(c);
        return run();
      };
    }
    default:
      return (...args: unknown[]) => {
        if (args.length !== w.length) arity(args.length);
        for (let i = 0; i < w.length; i++) w[i](args[i]);
        return run();
      };
  }
}
