/**
 * The only code that turns Wasmtime's error and trap pointers into JS errors. Every pointer
 * passed here is consumed (freed).
 *
 * @module
 */
import {
  decodeUtf8,
  newVec,
  OutCell,
  readName,
  readPointers,
  takeByteVec,
  vecParts,
} from "./ffi/raw.ts";
import { WasmtimeError } from "./error_types.ts";
import { ffi } from "./ffi/symbols.ts";
import { WASMTIME_TRAP_CODE } from "./ffi/layout.ts";

/**
 * Wasmtime's trap codes (`wasmtime_trap_code_t`), by name.
 *
 * @example
 * ```ts
 * import { Trap, TrapCode } from "@wasmtime-deno/wasmtime";
 * function isTimeout(e: unknown): boolean {
 *   return e instanceof Trap && e.code === TrapCode.Interrupt;
 * }
 * ```
 */
export const TrapCode: typeof WASMTIME_TRAP_CODE = WASMTIME_TRAP_CODE;

/**
 * A value of {@linkcode TrapCode}.
 *
 * @example
 * ```ts
 * import { TrapCode } from "@wasmtime-deno/wasmtime";
 * const code: TrapCode = TrapCode.OutOfFuel;
 * ```
 */
export type TrapCode = typeof TrapCode[keyof typeof TrapCode];

const trapCodeNames = new Map<number, string>(
  Object.entries(TrapCode).map(([name, code]) => [code, name]),
);

/**
 * One frame of a wasm backtrace.
 *
 * @example
 * ```ts
 * import { type Frame, Trap } from "@wasmtime-deno/wasmtime";
 * function where(e: unknown): string {
 *   const frame: Frame | undefined = e instanceof Trap ? e.frames[0] : undefined;
 *   return frame ? `${frame.moduleName}!${frame.funcName ?? frame.funcIndex}` : "?";
 * }
 * ```
 */
export interface Frame {
  /** Index of the function in its module's function index space. */
  funcIndex: number;
  /** The function's name from the name section, if any. */
  funcName?: string;
  /** The module's name from the name section, if any. */
  moduleName?: string;
  /** Byte offset of the instruction within the function body. */
  funcOffset: number;
  /** Byte offset of the instruction within the module. */
  moduleOffset: number;
}

/**
 * A WebAssembly trap: the guest executed `unreachable`, accessed memory out of bounds, ran out
 * of fuel, was interrupted, overflowed its stack, ... `code` says which; `frames` is the wasm
 * backtrace, innermost first.
 *
 * @example
 * ```ts
 * import { Engine, Instance, Module, Store, Trap, TrapCode } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine();
 * using store = new Store(engine);
 * using module = new Module(engine, `(module (func (export "boom") unreachable))`);
 * const instance = new Instance(store, module, []);
 * try {
 *   instance.getFunc("boom")!.call();
 * } catch (e) {
 *   if (e instanceof Trap) console.log(e.code === TrapCode.UnreachableCodeReached, e.frames);
 * }
 * ```
 */
export class Trap extends WasmtimeError {
  /** The trap code, or undefined for a trap made by a host function with a message. */
  readonly code: TrapCode | undefined;
  /** The wasm backtrace, innermost frame first. */
  readonly frames: Frame[];
  /** Wasmtime's full report, including its rendering of the backtrace. */
  readonly details: string;

  /** Creates a trap; normally made by the binding, not by users. */
  constructor(
    message: string,
    code: TrapCode | undefined,
    frames: Frame[],
    details = message,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "Trap";
    this.code = code;
    this.frames = frames;
    this.details = details;
  }

  /** Name of the trap code, e.g. `"UnreachableCodeReached"`. */
  get codeName(): string | undefined {
    return this.code === undefined ? undefined : trapCodeNames.get(this.code);
  }
}

/**
 * A WASI program called `proc_exit(status)`. `runWasi` reports this as data (the exit code);
 * lower-level calls throw it.
 *
 * @example
 * ```ts
 * import { WasiExit } from "@wasmtime-deno/wasmtime";
 * function exitCodeOf(e: unknown): number | undefined {
 *   return e instanceof WasiExit ? e.status : undefined;
 * }
 * ```
 */
export class WasiExit extends WasmtimeError {
  /** The status passed to `proc_exit`. */
  readonly status: number;
  /** Creates the error. */
  constructor(status: number) {
    super(`the WASI program exited with status ${status}`);
    this.name = "WasiExit";
    this.status = status;
  }
}

/** The `uint8_t *code` / `int *status` out-parameter of the trap and exit-status queries. */
const codeOut = new OutCell();

function readFrames(vec: Uint8Array<ArrayBuffer>): Frame[] {
  const frames = readPointers(vecParts(vec)).map((frame): Frame => ({
    funcIndex: ffi().wasm_frame_func_index(frame),
    funcName: readName(ffi().wasmtime_frame_func_name(frame)),
    moduleName: readName(ffi().wasmtime_frame_module_name(frame)),
    funcOffset: Number(ffi().wasm_frame_func_offset(frame)),
    moduleOffset: Number(ffi().wasm_frame_module_offset(frame)),
  }));
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
export function errorMessage(error: Deno.PointerObject): string {
  const message = newVec();
  ffi().wasmtime_error_message(error, message);
  return stripNul(decodeUtf8(takeByteVec(message)));
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
    if (frames.length > 0) return new Trap(shortReason(report), undefined, frames, report);
    return new WasmtimeError(`${context}: ${report}`);
  } finally {
    ffi().wasmtime_error_delete(error);
  }
}

/** Throws the converted error if `error` is not null. */
export function check(error: Deno.PointerValue, context: string): void {
  if (error !== null) throw takeError(error, context);
}
