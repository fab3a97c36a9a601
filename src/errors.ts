/**
 * Every error class a user of the binding catches. Pure definitions with no native imports:
 * the one place where Wasmtime's error and trap pointers become these is
 * `core/failure.ts`. `TrapCode` is the plain constant table of `ffi/layout.ts` (no FFI).
 *
 * @module
 */
import { WASMTIME_TRAP_CODE } from "./ffi/layout.ts";

/**
 * An error reported by Wasmtime or by the binding: invalid modules, link errors, misuse of the
 * API (use after dispose, wrong argument types, ...).
 *
 * @example
 * ```ts
 * import { Engine, Module, WasmtimeError } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine();
 * try {
 *   new Module(engine, new Uint8Array([1, 2, 3]));
 * } catch (e) {
 *   if (e instanceof WasmtimeError) console.log(e.message);
 * }
 * ```
 */
export class WasmtimeError extends Error {
  /**
   * Wasmtime's whole report when the message gives only its cause (e.g. a compile error's
   * chain of contexts); undefined otherwise.
   */
  readonly details?: string;
  /** Creates an error with a message that says what went wrong and what to do next. */
  constructor(message: string, options?: ErrorOptions & { details?: string }) {
    super(message, options);
    this.name = "WasmtimeError";
    if (options?.details !== undefined) this.details = options.details;
  }
}

/**
 * libwasmtime could not be found or opened. The message names the command or flag that fixes
 * it.
 *
 * @example
 * ```ts
 * import { Engine, LibraryError } from "@wasmtime-deno/wasmtime";
 * try {
 *   using _engine = new Engine(); // opens libwasmtime on first use
 * } catch (e) {
 *   if (e instanceof LibraryError) console.error(e.message); // e.g. "run deno task build-native"
 * }
 * ```
 */
export class LibraryError extends WasmtimeError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "LibraryError";
  }
}

/**
 * An import the module needs was not supplied, or was supplied as the wrong kind of value (an
 * imports object given to `new Instance`). `module` and `field` say which import.
 *
 * @example
 * ```ts
 * import { Engine, Instance, LinkError, Module, Store } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine();
 * using store = new Store(engine);
 * using module = new Module(engine, `(module (import "env" "log" (func (param i32))))`);
 * try {
 *   new Instance(store, module, { env: {} });
 * } catch (e) {
 *   if (e instanceof LinkError) console.error(`${e.module}.${e.field}: ${e.message}`);
 * }
 * ```
 */
export class LinkError extends WasmtimeError {
  /** The module name of the import. */
  readonly module: string;
  /** The field name of the import. */
  readonly field: string;
  /** Creates the error for the import `module.field`. */
  constructor(message: string, module: string, field: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "LinkError";
    this.module = module;
    this.field = field;
  }
}

/**
 * Deno did not grant a permission the binding needs (to open libwasmtime, or to hand a host
 * resource to a guest). `flag` is the command-line flag that grants it.
 *
 * @example
 * ```ts
 * import { Engine, PermissionError } from "@wasmtime-deno/wasmtime";
 * try {
 *   using _engine = new Engine(); // opens libwasmtime on first use
 * } catch (e) {
 *   if (e instanceof PermissionError) console.error(`run again with ${e.flag}`);
 * }
 * ```
 */
export class PermissionError extends WasmtimeError {
  /** The flag to add, e.g. `--allow-read=/data`. */
  readonly flag: string;
  /** Creates the error for a missing `flag`. */
  constructor(message: string, flag: string, options?: ErrorOptions) {
    super(`${message}: run again with ${flag}`, options);
    this.name = "PermissionError";
    this.flag = flag;
  }
}

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
export const TrapCode: {
  // Spelled out so that the published docs show the codes (the table itself is ffi/layout.ts's,
  // checked against wasmtime/trap.h); tests/layout_test.ts checks that the two agree.
  readonly StackOverflow: 0;
  readonly MemoryOutOfBounds: 1;
  readonly HeapMisaligned: 2;
  readonly TableOutOfBounds: 3;
  readonly IndirectCallToNull: 4;
  readonly BadSignature: 5;
  readonly IntegerOverflow: 6;
  readonly IntegerDivisionByZero: 7;
  readonly BadConversionToInteger: 8;
  readonly UnreachableCodeReached: 9;
  readonly Interrupt: 10;
  readonly OutOfFuel: 11;
  readonly AtomicWaitNonSharedMemory: 12;
  readonly NullReference: 13;
  readonly ArrayOutOfBounds: 14;
  readonly AllocationTooLarge: 15;
  readonly CastFailure: 16;
  readonly CannotEnterComponent: 17;
  readonly NoAsyncResult: 18;
  readonly UnhandledTag: 19;
  readonly ContinuationAlreadyConsumed: 20;
  readonly DisabledOpcode: 21;
  readonly AsyncDeadlock: 22;
} = WASMTIME_TRAP_CODE;

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
  /**
   * The function's name from the name section, if any; a mangled Rust or C++ symbol is
   * demangled (`core::panicking::panic`, `std::vector<int>::push_back(int const&)`), as
   * Wasmtime's backtrace text shows it.
   */
  funcName?: string;
  /** The name as the name section stores it, present only when `funcName` was demangled. */
  mangledFuncName?: string;
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
  override readonly details: string;

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

/**
 * The {@linkcode Trap} thrown by `runWasi`, carrying what the guest wrote before it
 * trapped (ran out of fuel, timed out, hit `unreachable`, ...). It is a `Trap`, so `code`,
 * `frames` and `details` are there too.
 *
 * @example
 * ```ts
 * import { runWasi, WasiTrap } from "@wasmtime-deno/wasmtime/wasi";
 * try {
 *   await runWasi("app.wasm", { timeoutMs: 1_000 });
 * } catch (e) {
 *   if (e instanceof WasiTrap) console.error(e.codeName, e.stdoutText, e.stderrText);
 * }
 * ```
 */
export class WasiTrap extends Trap {
  /** Standard output captured until the trap (empty unless captured). */
  readonly stdout: Uint8Array<ArrayBuffer>;
  /** Standard error captured until the trap (empty unless captured). */
  readonly stderr: Uint8Array<ArrayBuffer>;

  /** Wraps `trap` with the output captured before it. */
  constructor(trap: Trap, stdout: Uint8Array<ArrayBuffer>, stderr: Uint8Array<ArrayBuffer>) {
    super(
      trap.message,
      trap.code,
      trap.frames,
      trap.details,
      trap.cause === undefined ? undefined : { cause: trap.cause },
    );
    this.name = "WasiTrap";
    this.stack = trap.stack; // where the guest trapped, not where it was wrapped
    this.stdout = stdout;
    this.stderr = stderr;
  }

  /** `stdout` decoded as UTF-8. */
  get stdoutText(): string {
    return new TextDecoder().decode(this.stdout);
  }

  /** `stderr` decoded as UTF-8. */
  get stderrText(): string {
    return new TextDecoder().decode(this.stderr);
  }
}

/**
 * The `err` case of a component function's `result<T, E>`, as jco throws it: the function
 * returned `err(payload)`. A component host function throws one to return `err(payload)`.
 *
 * @example
 * ```ts
 * import { ComponentError } from "@wasmtime-deno/wasmtime";
 * try {
 *   throw new ComponentError({ tag: "not-found", val: "user 7" });
 * } catch (e) {
 *   if (e instanceof ComponentError) console.log(e.payload); // { tag: "not-found", val: "user 7" }
 * }
 * ```
 */
export class ComponentError extends WasmtimeError {
  /** The `err` value, mapped to JS like any component value (undefined for `result<T>`). */
  readonly payload: unknown;

  /** Creates the error for `err(payload)`. */
  constructor(payload: unknown, options?: ErrorOptions) {
    super(
      typeof payload === "string" ? payload : `${payloadText(payload)} (see error.payload)`,
      options,
    );
    this.name = "ComponentError";
    this.payload = payload;
  }
}

function payloadText(payload: unknown): string {
  try {
    return typeof payload === "object" && payload !== null
      ? JSON.stringify(payload, (_, v) => (typeof v === "bigint" ? `${v}n` : v)) ?? String(payload)
      : String(payload);
  } catch {
    return "the component returned an error";
  }
}
