/**
 * The one place where native failures become JS errors: Wasmtime's error and trap pointers
 * (every pointer passed here is consumed, i.e. freed), and failed calls. A JS exception thrown
 * by a host function is kept aside while Wasmtime unwinds the guest with a real trap, then
 * rethrown as the same object to the caller of the call; otherwise the trap or error pointer
 * is converted.
 *
 * @module
 */
import {
  decodeUtf8,
  newVec,
  OutCell,
  readName,
  readPointers,
  readSymbolName,
  takeByteVec,
  utf8,
  vecParts,
} from "../ffi/raw.ts";
import {
  type Frame,
  Trap,
  type TrapCode,
  TrapCode as TrapCodes,
  WasiExit,
  WasmtimeError,
} from "../errors.ts";
import { ffi } from "../ffi/symbols.ts";
import { EXNREF_SIZE } from "../ffi/layout.ts";
import { exceptionFromRef, exceptionTrap, WasmException } from "./exception.ts";
import { liveContext, type Store } from "./store.ts";

// ---- native errors and traps ----------------------------------------------------------------

/** The `uint8_t *code` / `int *status` out-parameter of the trap and exit-status queries. */
const codeOut = new OutCell();

function readFrames(vec: Uint8Array<ArrayBuffer>): Frame[] {
  const frames = readPointers(vecParts(vec)).map((frame): Frame => {
    const { name, mangled } = readSymbolName(ffi().wasmtime_frame_func_name(frame));
    return {
      funcIndex: ffi().wasm_frame_func_index(frame),
      funcName: name,
      ...(mangled === undefined ? {} : { mangledFuncName: mangled }),
      moduleName: readName(ffi().wasmtime_frame_module_name(frame)),
      funcOffset: Number(ffi().wasm_frame_func_offset(frame)),
      moduleOffset: Number(ffi().wasm_frame_module_offset(frame)),
    };
  });
  ffi().wasm_frame_vec_delete(vec);
  return frames;
}

function stripNul(text: string): string {
  return text.endsWith("\0") ? text.slice(0, -1) : text;
}

/** The short cause of Wasmtime's report: the last paragraph after "Caused by:". */
function shortReason(report: string): string {
  const caused = report.lastIndexOf("Caused by:");
  const reason = caused >= 0 ? report.slice(caused + "Caused by:".length) : report;
  const lines = reason.split("\n").map((l) => l.trim()).filter((l) => l.length > 0);
  return lines.length === 0 ? report.trim() : lines[lines.length - 1].replace(/^\d+:\s*/, "");
}

/** Converts and frees a `wasm_trap_t *`. */
export function takeTrap(trap: Deno.PointerObject): Trap {
  const message = newVec();
  ffi().wasm_trap_message(trap, message);
  const report = stripNul(decodeUtf8(takeByteVec(message)));
  const hasCode = ffi().wasmtime_trap_code(trap, codeOut.cleared());
  const code = hasCode ? codeOut.takeU8() as TrapCode : undefined;
  const trace = newVec();
  ffi().wasm_trap_trace(trap, trace);
  const frames = readFrames(trace);
  ffi().wasm_trap_delete(trap);
  return new Trap(shortReason(report), code, frames, report);
}

/** The message of a `wasmtime_error_t *`, without freeing it. */
function errorMessage(error: Deno.PointerObject): string {
  const message = newVec();
  ffi().wasmtime_error_message(error, message);
  return stripNul(decodeUtf8(takeByteVec(message)));
}

/** The message of a `wasmtime_error_t *`, which is freed: for errors reworded by the caller. */
export function takeErrorMessage(error: Deno.PointerObject): string {
  try {
    return errorMessage(error);
  } finally {
    ffi().wasmtime_error_delete(error);
  }
}

/**
 * Wasmtime's rendering of a trap code (`wasmtime_environ::Trap`'s Display), for errors that
 * carry a trap without its code (component calls report traps as `wasmtime_error_t`).
 */
const TRAP_REASONS: [string, TrapCode][] = [
  ["call stack exhausted", TrapCodes.StackOverflow],
  ["out of bounds memory access", TrapCodes.MemoryOutOfBounds],
  ["undefined element: out of bounds table access", TrapCodes.TableOutOfBounds],
  ["uninitialized element", TrapCodes.IndirectCallToNull],
  ["indirect call type mismatch", TrapCodes.BadSignature],
  ["integer overflow", TrapCodes.IntegerOverflow],
  ["integer divide by zero", TrapCodes.IntegerDivisionByZero],
  ["invalid conversion to integer", TrapCodes.BadConversionToInteger],
  ["wasm `unreachable` instruction executed", TrapCodes.UnreachableCodeReached],
  ["interrupt", TrapCodes.Interrupt],
  ["all fuel consumed by WebAssembly", TrapCodes.OutOfFuel],
  ["cannot enter component instance", TrapCodes.CannotEnterComponent],
];

function trapCodeOfReason(reason: string): TrapCode | undefined {
  const text = reason.replace(/^wasm trap:\s*/, "");
  return TRAP_REASONS.find(([r]) => text === r)?.[1];
}

/**
 * Converts and frees a `wasmtime_error_t *`. A WASI exit becomes {@linkcode WasiExit}; an
 * error carrying a wasm backtrace becomes a {@linkcode Trap}; anything else a
 * {@linkcode WasmtimeError} whose message starts with `context`.
 */
export function takeError(error: Deno.PointerObject, context: string): WasmtimeError {
  try {
    if (ffi().wasmtime_error_exit_status(error, codeOut.cleared())) {
      return new WasiExit(codeOut.takeI32());
    }
    const report = errorMessage(error);
    const trace = newVec();
    ffi().wasmtime_error_wasm_trace(error, trace);
    const frames = readFrames(trace);
    const reason = shortReason(report);
    const code = trapCodeOfReason(reason);
    // A trap reported as an error (component calls): a backtrace, or a trap's own wording.
    if (frames.length > 0 || code !== undefined) return new Trap(reason, code, frames, report);
    // Wasmtime's report is a chain of contexts with the cause last: lead with the cause, keep the
    // chain in `details`.
    const at = report.indexOf("Caused by:");
    if (at < 0) return new WasmtimeError(`${context}: ${report.trim()}`);
    // The causes are numbered ("0: ...", "1: ...") when there are several; the last is the root.
    const causes = report.slice(at + "Caused by:".length).split(/\n\s*\d+:\s/);
    const cause = causes[causes.length - 1].replace(/^\s*\d+:\s/, "").replace(/\s+/g, " ").trim();
    const head = report.slice(0, at).replace(/\s+/g, " ").trim().replace(/:$/, "");
    return new WasmtimeError(`${context}: ${cause} (${head})`, { details: report });
  } finally {
    ffi().wasmtime_error_delete(error);
  }
}

/** Throws the converted error if `error` is not null. */
export function check(error: Deno.PointerValue, context: string): void {
  if (error !== null) throw takeError(error, context);
}

// ---- failure plumbing -----------------------------------------------------------------------

/** The error a host function threw, waiting to be rethrown by the call that trapped. */
let pendingHostError: { error: unknown } | undefined;

/**
 * Converts and frees a call's error or trap; a pending host error wins over both. With `store`
 * (every core call), a wasm exception the guest left uncaught is taken out of the store here
 * (so none is ever left behind) and becomes the {@linkcode WasmException} returned.
 */
export function failure(
  error: Deno.PointerValue,
  trap: Deno.PointerValue,
  context: string,
  store?: Store,
): unknown {
  const converted = error !== null ? takeError(error, context) : takeTrap(trap!);
  if (error !== null && trap !== null) ffi().wasm_trap_delete(trap);
  const host = pendingHostError;
  pendingHostError = undefined;
  const exception = store === undefined ? undefined : takePendingException(store);
  if (host) return host.error;
  return exception ?? converted;
}

/** The exception a failed call left in `store`, taken out, or undefined. */
function takePendingException(store: Store): WasmException | undefined {
  const storeContext = liveContext(store);
  if (storeContext === null) return undefined;
  const ref = new Uint8Array(EXNREF_SIZE);
  if (!ffi().wasmtime_context_take_exception(storeContext, ref)) return undefined;
  return exceptionFromRef(store, storeContext, ref);
}

/**
 * Text describing a value a host function threw (or a user passed), for an error message.
 * Never throws: the value may be a Symbol, `Object.create(null)`, a Proxy, or an object whose
 * `message` getter or `toString` throws, and a failure path must not fail in turn.
 */
export function describe(value: unknown): string {
  const text = describeUncapped(value);
  // The text goes into a longer message: one near V8's string limit would make that
  // concatenation throw on the failure path (a component guest then continued as if the host
  // call had succeeded). The value itself is rethrown whole.
  return text.length > DESCRIBE_LIMIT ? `${text.slice(0, DESCRIBE_LIMIT)}…` : text;
}

/** Characters of a described value kept in native error messages. */
const DESCRIBE_LIMIT = 16 << 10;

function describeUncapped(value: unknown): string {
  try {
    if (value instanceof Error) {
      const message = value.message;
      return typeof message === "string" ? message : describeUncapped(message);
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

/** A new `wasm_trap_t *` with `message`, to hand to Wasmtime (which frees it). */
export function newTrap(message: string): Deno.PointerValue {
  const bytes = utf8(message);
  return ffi().wasmtime_trap_new(bytes, BigInt(bytes.length));
}

/**
 * A trap for Wasmtime that stands for a JS exception; the exception itself is kept aside. A
 * {@linkcode WasmException} is thrown into the guest of `context` instead (the caller's context
 * by default), as a wasm exception its handlers can catch.
 */
export function hostFailure(
  error: unknown,
  name: string,
  context?: Deno.PointerObject,
): Deno.PointerValue {
  if (error instanceof WasmException) {
    try {
      return exceptionTrap(
        error,
        context ?? ffi().wasmtime_caller_context(ffi().wasmtime_deno_current_caller())!,
      );
    } catch (cause) {
      error = cause;
    }
  }
  pendingHostError = { error };
  return newTrap(`host function ${name} threw: ${describe(error)}`);
}

/**
 * A `wasmtime_error_t *` for Wasmtime that stands for a JS exception (component host functions
 * fail with an error, not a trap); the exception itself is kept aside like in
 * {@linkcode hostFailure}.
 */
export function hostErrorPointer(error: unknown, name: string): Deno.PointerValue {
  pendingHostError = { error };
  const message = `host function ${name} threw: ${describe(error)}`.replaceAll("\0", " ");
  return ffi().wasmtime_error_new(utf8(`${message}\0`));
}
