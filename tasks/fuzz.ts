/**
 * Differential fuzzer: random valid modules from `wasm-tools smith` run through the binding
 * (Wasmtime) and through V8's `WebAssembly` in the same process, and every observable outcome
 * is compared: instantiation, each call's results or trap kind, and afterwards every exported
 * global, memory (size and bytes) and table (size and null pattern).
 *
 * ```sh
 * deno task fuzz [--time 60] [--seed N] [--count N] [--out tmp/fuzz] [--no-minimize] [--gc]
 *                [--threads]
 * deno task fuzz --replay tmp/fuzz/divergence-N [--gc | --threads]   # re-runs a written repro
 * ```
 *
 * Module `seed` is generated from smith input bytes drawn from a PRNG seeded with `seed`, and
 * its calls (export, arguments) from the same PRNG, so `--seed N --count 1` replays module N
 * exactly. On a divergence the input bytes are shrunk (chunks removed while the same kind of
 * divergence persists), then the call sequence, and `<out>/divergence-N/` gets input.bin,
 * module.wasm, module.wat, calls.json and report.txt. Exits with 1 if anything diverged.
 *
 * The smith feature set is what both engines implement with the same semantics: Wasm 2.0
 * (multi-value, bulk memory, reference types, SIMD, sign extension, saturating conversions)
 * plus tail calls and extended constant expressions; no imports; memories and tables bounded
 * (so `memory.grow` / `table.grow` succeed or fail alike); NaNs canonicalised by smith; every
 * function instrumented by `--ensure-termination` with a fuel global that this fuzzer exports
 * and refills before each call, so each call ends in both engines.
 *
 * `--gc` adds the GC and exception-handling proposals ({@linkcode SMITH_GC_ARGS}), which V8
 * ships too: GC instructions run inside the compared functions, GC references compare by
 * nullness (and i31 values), and an exception escaping a call compares as "uncaught exception".
 *
 * `--threads` adds the threads proposal ({@linkcode SMITH_THREADS_ARGS}): shared memories and
 * the atomic loads, stores, read-modify-writes, fences, `memory.atomic.notify` and
 * `memory.atomic.wait32/64`, all run on one thread in each engine; a shared memory compares as
 * any memory (its `SharedArrayBuffer` in both). Every wait's timeout is rewritten to 0
 * ({@linkcode boundWaits}): with no other thread to notify it, a wait whose value matches would
 * otherwise block for its (random, possibly infinite) timeout in both engines.
 *
 * @module
 */
import { join } from "node:path";
import {
  Engine,
  type EngineOptions,
  type Func,
  type Global as WtGlobal,
  Instance,
  type Memory as WtMemory,
  Module,
  SharedMemory,
  Store,
  type Table as WtTable,
  Trap,
  TrapCode,
  type ValType,
  WasmException,
  WasmtimeError,
  wat2wasm,
} from "../mod.ts";

/** wasm-tools release the fuzzer (and CI) is pinned to. */
export const WASM_TOOLS_VERSION = "1.263.0";

/** Fuel per call given to smith's termination instrumentation (loop iterations + calls). */
export const FUEL = 1000;

/** Name under which the fuzzer exports smith's fuel global. */
const FUEL_EXPORT = "__fuzz_fuel";

/**
 * `wasm-tools smith` flags: Wasm 2.0 plus tail calls and extended-const, nothing that either
 * engine lacks or implements differently (threads, relaxed SIMD, GC, exceptions, memory64,
 * custom page sizes, wide arithmetic), no imports, bounded memories and tables.
 */
export const SMITH_ARGS: readonly string[] = [
  "smith",
  "--ensure-termination",
  `--fuel=${FUEL}`,
  "--canonicalize-nans=true",
  "--export-everything=true",
  "--max-imports=0",
  "--min-funcs=4",
  "--max-funcs=30",
  "--max-memories=1",
  "--max-tables=2",
  "--max-memory32-bytes=1048576",
  "--memory-max-size-required=true",
  "--max-table-elements=1000",
  "--table-max-size-required=true",
  "--bulk-memory-enabled=true",
  "--multi-value-enabled=true",
  "--reference-types-enabled=true",
  "--saturating-float-to-int-enabled=true",
  "--sign-extension-ops-enabled=true",
  "--simd-enabled=true",
  "--tail-call-enabled=true",
  "--extended-const-enabled=true",
  "--relaxed-simd-enabled=false",
  "--threads-enabled=false",
  "--shared-everything-threads-enabled=false",
  "--gc-enabled=false",
  "--exceptions-enabled=false",
  "--memory64-enabled=false",
  "--custom-page-sizes-enabled=false",
  "--wide-arithmetic-enabled=false",
  "--compact-imports-enabled=false",
  "--custom-descriptors-enabled=false",
];

/** {@linkcode SMITH_ARGS} with the GC and exception-handling proposals (`--gc`). */
export const SMITH_GC_ARGS: readonly string[] = SMITH_ARGS.map((arg) =>
  arg === "--gc-enabled=false" || arg === "--exceptions-enabled=false"
    ? arg.replace("=false", "=true")
    : arg
);

/** Wasmtime options for modules of {@linkcode SMITH_GC_ARGS}. */
export const GC_ENGINE: EngineOptions = { gc: true, exceptions: true };

/** {@linkcode SMITH_ARGS} with the threads proposal: shared memories and atomics (`--threads`). */
export const SMITH_THREADS_ARGS: readonly string[] = SMITH_ARGS.map((arg) =>
  arg === "--threads-enabled=false" ? "--threads-enabled=true" : arg
);

/** Wasmtime options for modules of {@linkcode SMITH_THREADS_ARGS}. */
export const THREADS_ENGINE: EngineOptions = { threads: true, sharedMemory: true };

// ---- deterministic randomness ---------------------------------------------------------------

/** A seeded PRNG (mulberry32): the same seed gives the same module and calls. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}

function pick<T>(next: () => number, items: readonly T[]): T {
  return items[Math.floor(next() * items.length)];
}

/** Smith's input bytes for `seed`: 256 B to 8 KiB, larger inputs giving larger modules. */
export function smithInput(seed: number): Uint8Array {
  const next = prng(seed);
  const bytes = new Uint8Array(256 + Math.floor(next() * 7936));
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(next() * 256);
  return bytes;
}

// ---- wasm-tools ------------------------------------------------------------------------------

/** Whether `wasm-tools` is on PATH (and runnable with the granted permissions). */
export async function hasWasmTools(): Promise<boolean> {
  try {
    const out = await new Deno.Command("wasm-tools", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

async function wasmTools(args: readonly string[], input: Uint8Array): Promise<Deno.CommandOutput> {
  const child = new Deno.Command("wasm-tools", {
    args: [...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(input);
  await writer.close();
  return await child.output();
}

/** Runs smith on `input`; null when smith cannot make a module of it (its exit code 2). */
export async function generate(
  input: Uint8Array,
  smith: readonly string[] = SMITH_ARGS,
): Promise<Uint8Array | null> {
  const out = await wasmTools(smith, input);
  if (out.code === 2) return null;
  if (!out.success) {
    throw new Error(`wasm-tools smith failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  const wasm = exportFuel(out.stdout);
  return smith.includes("--threads-enabled=true") ? await boundWaits(wasm) : wasm;
}

/**
 * `wasm` with every `memory.atomic.wait32/64` given a timeout of 0 (its timeout operand is
 * dropped and replaced): the fuzzer runs each engine on one thread, where nothing could notify
 * a wait whose value matches. The wait still runs (and returns "timed out", "not equal", or
 * traps on a non-shared memory or an unaligned address) in both engines alike.
 */
export async function boundWaits(wasm: Uint8Array): Promise<Uint8Array> {
  const text = await print(wasm);
  if (!/memory\.atomic\.wait/.test(text)) return wasm;
  const bounded = text.replace(
    /^(\s*)(memory\.atomic\.wait(?:32|64)\b.*)$/gm,
    "$1drop\n$1i64.const 0\n$1$2",
  );
  return wat2wasm(bounded);
}

/** The text format of `wasm` (for repro files). */
export async function print(wasm: Uint8Array): Promise<string> {
  const out = await wasmTools(["print"], wasm);
  return new TextDecoder().decode(out.success ? out.stdout : out.stderr);
}

// ---- exporting smith's fuel global -------------------------------------------------------------

function readU32(bytes: Uint8Array, at: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [value, at];
    shift += 7;
  }
}

function u32(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

/**
 * Adds an export of the last global, which `--ensure-termination` appends as its fuel counter
 * (there are no imported globals: smith makes no imports), so that every call can be given the
 * same fresh budget in both engines instead of sharing one budget per instance.
 */
export function exportFuel(wasm: Uint8Array): Uint8Array {
  const sections: { id: number; start: number; end: number; body: number }[] = [];
  for (let at = 8; at < wasm.length;) {
    const id = wasm[at];
    const [size, body] = readU32(wasm, at + 1);
    sections.push({ id, start: at, end: body + size, body });
    at = body + size;
  }
  const globals = sections.find((s) => s.id === 6);
  if (globals === undefined) return wasm;
  const [count] = readU32(wasm, globals.body);
  const name = new TextEncoder().encode(FUEL_EXPORT);
  const entry = [...u32(name.length), ...name, 0x03, ...u32(count - 1)];
  const exports = sections.find((s) => s.id === 7);
  let section: number[];
  let before: number;
  let after: number;
  if (exports) {
    const [n, rest] = readU32(wasm, exports.body);
    section = [...u32(n + 1), ...wasm.subarray(rest, exports.end), ...entry];
    before = exports.start;
    after = exports.end;
  } else {
    section = [1, ...entry];
    before = after = globals.end;
  }
  const out = [...wasm.subarray(0, before), 7, ...u32(section.length), ...section];
  return new Uint8Array([...out, ...wasm.subarray(after)]);
}

// ---- call plans -------------------------------------------------------------------------------

/** One argument, in a JSON-friendly form (numbers as text so NaN, -0 and i64 survive). */
export interface Arg {
  type: ValType;
  /** The number as text, an export name for funcref, an externref tag, or null. */
  value: string | null;
}

/** Which entry point of the binding a call goes through. */
export type Via = "call" | "typed" | "callBits";

/** One call of an exported function. */
export interface Call {
  export: string;
  args: Arg[];
  /** `Func.call`, a `Func.typed` function, or `Func.callBits` (default "call"). */
  via?: Via;
}

const VIAS: readonly Via[] = ["call", "typed", "callBits"];
const CALLABLE = new Set<ValType>(["i32", "i64", "f32", "f64", "funcref", "externref"]);
/**
 * GC reference types both engines pass between JS and wasm (the `any` hierarchy, abstract or
 * concrete struct/array): arguments are null, i31 numbers, or GC objects an earlier call of the
 * same module returned. (exnref cannot cross V8's JS boundary; concrete function types are not
 * generated as arguments here.)
 */
const GC_REF =
  /^(anyref|eqref|i31ref|structref|arrayref|nullref|\(ref (null )?(any|eq|i31|struct|array|none|\$(struct|array):\d+)\))$/;
/** i31 values, all in range: V8 boxes an out-of-range number for anyref, the binding refuses. */
const I31S = ["0", "1", "-1", "1073741823", "-1073741824"];
/** The GC objects earlier calls returned, as `#k` arguments pick them (modulo the pool size). */
const POOL_PICKS = 8;

/** Whether a parameter or result of `type` can be called with and compared. */
function callableType(type: ValType): boolean {
  return CALLABLE.has(type) || GC_REF.test(type);
}

const I32S = ["0", "1", "-1", "2", "255", "65535", "65536", "2147483647", "-2147483648"];
const I64S = ["0", "1", "-1", "4294967296", "9223372036854775807", "-9223372036854775808"];
const FLOATS = ["0", "-0", "1", "-1", "0.5", "Infinity", "-Infinity", "NaN", "2147483648", "1e20"];

function randomArg(next: () => number, type: ValType, funcs: readonly string[]): Arg {
  const r = next();
  switch (type) {
    case "i32":
      return {
        type,
        value: r < 0.5 ? pick(next, I32S) : String((next() * 2 ** 32) | 0),
      };
    case "i64":
      return {
        type,
        value: r < 0.5 ? pick(next, I64S) : String(
          BigInt.asIntN(
            64,
            (BigInt(Math.floor(next() * 2 ** 32)) << 32n) |
              BigInt(Math.floor(next() * 2 ** 32)),
          ),
        ),
      };
    case "f32":
    case "f64": {
      if (r < 0.5) return { type, value: pick(next, FLOATS) };
      const value = (next() - 0.5) * 2 ** Math.floor(next() * 80 - 20);
      return { type, value: String(type === "f32" ? Math.fround(value) : value) };
    }
    case "funcref":
      return { type, value: r < 0.5 || funcs.length === 0 ? null : pick(next, funcs) };
    case "externref":
      return { type, value: r < 0.5 ? null : String(Math.floor(next() * 4)) };
    default:
      // GC references: null, an i31 number, or a GC object returned earlier (`#k`). A kind the
      // type refuses (null for a non-nullable type, a number for a struct) must be refused by
      // both engines alike.
      if (r < 0.3) return { type, value: null };
      if (r < 0.55) return { type, value: pick(next, I31S) };
      return { type, value: `#${Math.floor(next() * POOL_PICKS)}` };
  }
}

/** Up to `limit` calls of the callable exports, drawn from `next`. */
export function planCalls(
  next: () => number,
  funcs: readonly { name: string; params: readonly ValType[]; results?: readonly ValType[] }[],
  limit = 24,
): Call[] {
  if (funcs.length === 0) return [];
  const names = funcs.map((f) => f.name);
  const calls: Call[] = [];
  const count = 1 + Math.floor(next() * limit);
  for (let i = 0; i < count; i++) {
    const f = pick(next, funcs);
    const args = f.params.map((t) => randomArg(next, t, names));
    // Every entry point, concrete reference types included (typed() takes them as Func.type
    // spells them; the unchecked paths check GC objects against them natively).
    calls.push({ export: f.name, args, via: pick(next, VIAS) });
  }
  return calls;
}

// ---- outcomes -------------------------------------------------------------------------------

/** A trap or error reduced to a kind both engines can be compared on. */
function wasmtimeKind(error: unknown): string {
  if (error instanceof WasmException) return "uncaught exception";
  if (error instanceof Trap) {
    switch (error.code) {
      case TrapCode.UnreachableCodeReached:
        return "unreachable";
      case TrapCode.IntegerDivisionByZero:
        return "divide by zero";
      case TrapCode.IntegerOverflow:
        return "integer overflow";
      case TrapCode.BadConversionToInteger:
        return "invalid conversion to integer";
      case TrapCode.MemoryOutOfBounds:
        return "memory out of bounds";
      case TrapCode.TableOutOfBounds:
        return "table out of bounds";
      case TrapCode.IndirectCallToNull:
        return "indirect call to null";
      case TrapCode.BadSignature:
        return "indirect call type mismatch";
      case TrapCode.NullReference:
        return "null reference";
      case TrapCode.StackOverflow:
        return "stack overflow";
      case TrapCode.CastFailure:
        return "cast failure";
      case TrapCode.ArrayOutOfBounds:
        return "array out of bounds";
      case TrapCode.AllocationTooLarge:
        return "allocation too large";
      case TrapCode.HeapMisaligned:
        return "unaligned atomic";
      case TrapCode.AtomicWaitNonSharedMemory:
        return "atomic wait on non-shared memory";
      default:
        return `trap ${error.codeName ?? error.message}`;
    }
  }
  // An argument the parameter type refuses (checked by the binding, or by Wasmtime's checked
  // call for concrete types): V8 throws a TypeError for the same arguments.
  if (error instanceof WasmtimeError && /argument/.test(error.message)) return "argument type";
  return `error ${(error as Error)?.name}: ${(error as Error)?.message}`;
}

/** V8's RuntimeError messages (message-template.h) mapped to the same kinds. */
const V8_KINDS: [RegExp, string][] = [
  [/^unreachable$/, "unreachable"],
  [/^(divide|remainder) by zero$/, "divide by zero"],
  [/^divide result unrepresentable$/, "integer overflow"],
  [/^float unrepresentable in integer range$/, "float unrepresentable"],
  [/memory access out of bounds|data segment .*out of bounds/, "memory out of bounds"],
  [/table index is out of bounds|element segment .*out of bounds/, "table out of bounds"],
  [/^null function$/, "indirect call to null"],
  [/^function signature mismatch$/, "indirect call type mismatch"],
  [/^null function or function signature mismatch$/, "indirect call to null or mismatch"],
  [/dereferencing a null pointer/, "null reference"],
  [/^illegal cast$/, "cast failure"],
  [/^array element access out of bounds$/, "array out of bounds"],
  [/requested new array is too large/, "allocation too large"],
  [/^operation does not support unaligned accesses$/, "unaligned atomic"],
  [/^Atomics\.wait cannot be called in this context$/, "atomic wait on non-shared memory"],
];

/** V8's `WebAssembly.Exception` (not in Deno's lib.dom types). */
const V8_EXCEPTION = (WebAssembly as unknown as { Exception?: new () => object }).Exception;

function v8Kind(error: unknown): string {
  if (V8_EXCEPTION !== undefined && error instanceof V8_EXCEPTION) return "uncaught exception";
  if (error instanceof RangeError && /call stack/.test(error.message)) return "stack overflow";
  if (error instanceof TypeError && /type incompatibility/.test(error.message)) {
    return "argument type";
  }
  if (error instanceof WebAssembly.RuntimeError) {
    const message = error.message.replace(/^WebAssembly\.Instance\(\): /, "");
    for (const [pattern, kind] of V8_KINDS) if (pattern.test(message)) return kind;
  }
  return `error ${(error as Error)?.name}: ${(error as Error)?.message}`;
}

/**
 * Whether the kinds agree. V8 has one message for both float-to-int traps, which Wasmtime (and
 * the spec) split into "invalid conversion" (NaN) and "integer overflow" (out of range); an
 * atomic access may report its misalignment or its bounds (see below).
 */
function sameKind(wasmtime: string, v8: string): boolean {
  if (wasmtime === v8) return true;
  if (v8 === "float unrepresentable") {
    return wasmtime === "invalid conversion to integer" || wasmtime === "integer overflow";
  }
  if (v8 === "indirect call to null or mismatch") {
    return wasmtime === "indirect call to null" || wasmtime === "indirect call type mismatch";
  }
  // An atomic access both misaligned and out of bounds traps in both; which check comes first
  // is each engine's (the spec has one trap), and it differs between them by instruction.
  const atomic = new Set(["unaligned atomic", "memory out of bounds"]);
  return atomic.has(wasmtime) && atomic.has(v8);
}

/** A value reduced to text: NaN-ness and the sign of zero count, NaN payloads do not. */
function show(value: unknown, type: ValType): string {
  switch (type) {
    case "i32":
    case "i64":
      return String(value);
    case "f32":
    case "f64":
      return Object.is(value, -0) ? "-0" : String(value);
    case "funcref":
      return value === null
        ? "null"
        : typeof value === "object" || typeof value === "function"
        ? "func"
        : `? ${typeof value}`;
    case "externref":
      // An externref wasm made of an internal reference (extern.convert_any) is opaque here
      // and the internal value itself in V8 (an i31 number, a GC object).
      return value === null
        ? "null"
        : typeof value === "object" && value !== null && "tag" in value
        ? `extern#${(value as { tag: unknown }).tag}`
        : "internal";
    default:
      // GC references (opaque in V8) compare by nullness; i31 references are numbers in both.
      return value === null ? "null" : typeof value === "number" ? String(value) : "ref";
  }
}

/** One observed difference between the engines. */
export interface Divergence {
  /** Stable class of the difference, used to keep shrinking on the same bug. */
  key: string;
  /** Human-readable account: what each engine did. */
  detail: string;
  /** The calls made up to and including the diverging one. */
  calls: Call[];
}

/** What running one module in both engines gave. */
export interface ModuleReport {
  /** Calls made in both engines. */
  calls: number;
  /** Of those, calls with a GC-typed parameter or result (see GC_REF). */
  gcCalls?: number;
  /** Whether the module exports a shared memory (`--threads`). */
  shared?: boolean;
  instantiated: boolean;
  /** Set when a stack overflow or an allocation limit made the rest incomparable (see isOverflow). */
  stackLimited: boolean;
  /** How the calls ended ("returned" or the trap kind), as counts. */
  outcomes: Record<string, number>;
  divergence?: Divergence;
}

interface Sides {
  wt: { instance: Instance; funcs: Map<string, Func> };
  v8: { instance: WebAssembly.Instance };
}

type Exports = Record<string, unknown>;

/** The GC objects calls returned so far, in the same order on both sides. */
interface Pools {
  wt: unknown[];
  v8: unknown[];
}

/** A GC-typed argument: null, an i31 number, or a pooled object (null while the pool is empty). */
function gcArg(value: string | null, pool: unknown[]): unknown {
  if (value === null) return null;
  if (!value.startsWith("#")) return Number(value);
  return pool.length === 0 ? null : pool[Number(value.slice(1)) % pool.length];
}

function v8Arg(arg: Arg, exports: Exports, tags: Map<string, object>, pool: unknown[]): unknown {
  if (GC_REF.test(arg.type)) return gcArg(arg.value, pool);
  if (arg.type === "funcref") return arg.value === null ? null : exports[arg.value];
  if (arg.type === "externref") return refTag(arg.value, tags);
  if (arg.type === "i64") return BigInt(arg.value!);
  return Number(arg.value);
}

function wtArg(
  arg: Arg,
  funcs: Map<string, Func>,
  tags: Map<string, object>,
  pool: unknown[],
): unknown {
  if (GC_REF.test(arg.type)) return gcArg(arg.value, pool);
  if (arg.type === "funcref") return arg.value === null ? null : funcs.get(arg.value) ?? null;
  if (arg.type === "externref") return refTag(arg.value, tags);
  if (arg.type === "i64") return BigInt(arg.value!);
  return Number(arg.value);
}

const bitsView = new DataView(new ArrayBuffer(8));

/** A numeric argument as the raw bits `Func.callBits` takes (references pass as values). */
function toBits(type: ValType, value: unknown): unknown {
  switch (type) {
    case "i32":
      return BigInt.asUintN(32, BigInt(value as number));
    case "i64":
      return BigInt.asUintN(64, value as bigint);
    case "f32":
      bitsView.setFloat32(0, value as number, true);
      return BigInt(bitsView.getUint32(0, true));
    case "f64":
      bitsView.setFloat64(0, value as number, true);
      return bitsView.getBigUint64(0, true);
    default:
      return value;
  }
}

/** A result of `Func.callBits` as the value `Func.call` would give. */
function fromBits(type: ValType, bits: unknown): unknown {
  switch (type) {
    case "i32":
      return Number(BigInt.asIntN(32, bits as bigint));
    case "i64":
      return BigInt.asIntN(64, bits as bigint);
    case "f32":
      bitsView.setUint32(0, Number(bits as bigint), true);
      return bitsView.getFloat32(0, true);
    case "f64":
      bitsView.setBigUint64(0, bits as bigint, true);
      return bitsView.getFloat64(0, true);
    default:
      return bits;
  }
}

function refTag(value: string | null, tags: Map<string, object>): object | null {
  if (value === null) return null;
  let tag = tags.get(value);
  if (!tag) tags.set(value, tag = { tag: value });
  return tag;
}

type Outcome =
  | { ok: true; values: string[]; raw: unknown[] }
  | { ok: false; kind: string; error: unknown };

function outcome(run: () => unknown, results: readonly ValType[], wasmtime: boolean): Outcome {
  try {
    const value = run();
    const values = results.length === 1 ? [value] : (value as unknown[] | undefined) ?? [];
    return { ok: true, values: results.map((t, i) => show(values[i], t)), raw: values };
  } catch (error) {
    return { ok: false, kind: wasmtime ? wasmtimeKind(error) : v8Kind(error), error };
  }
}

/**
 * Whether an engine hit one of its own resource limits, which differ between engines (stack
 * depth; V8 caps GC array lengths far below Wasmtime's heap): the rest is not comparable.
 */
function isOverflow(o: Outcome): boolean {
  return !o.ok && (o.kind === "stack overflow" || o.kind === "allocation too large");
}

function kindOf(o: Outcome): string {
  return o.ok ? "ok" : o.kind;
}

function describeOutcome(o: Outcome): string {
  return o.ok ? `returned [${o.values.join(", ")}]` : `trapped: ${o.kind}`;
}

/** Compares exported globals, memories and tables; returns the first difference. */
function compareState(
  sides: Sides,
  names: readonly WebAssembly.ModuleExportDescriptor[],
): string[] {
  const v8 = sides.v8.instance.exports as Exports;
  const wt = sides.wt.instance;
  for (const { name, kind } of names) {
    if (kind === "global") {
      const g = wt.getGlobal(name) as WtGlobal;
      const type = g.type.content;
      if (!CALLABLE.has(type)) continue;
      const a = show(g.value, type);
      const b = show((v8[name] as WebAssembly.Global).value, type);
      if (a !== b) return ["global", `global ${name}: wasmtime ${a}, v8 ${b}`];
    } else if (kind === "memory") {
      // A shared memory is a SharedMemory here; both engines give its SharedArrayBuffer.
      const m = wt.getExport(name) as WtMemory | SharedMemory;
      const a = new Uint8Array(m.buffer);
      const b = new Uint8Array((v8[name] as WebAssembly.Memory).buffer);
      if (a.length !== b.length) {
        return ["memory:size", `memory ${name}: wasmtime ${a.length} B, v8 ${b.length} B`];
      }
      const at = firstDifference(a, b);
      if (at >= 0) {
        return [
          "memory:bytes",
          `memory ${name} byte ${at}: wasmtime ${a[at]}, v8 ${b[at]} (${a.length} B)`,
        ];
      }
    } else if (kind === "table") {
      const t = wt.getTable(name) as WtTable;
      const other = v8[name] as WebAssembly.Table;
      if (t.size !== other.length) {
        return ["table:size", `table ${name}: wasmtime ${t.size}, v8 ${other.length}`];
      }
      const type = t.type.element;
      // V8's Table.get cannot read exnref elements into JS.
      if (type === "exnref" || /^\(ref (null )?(exn|noexn|\(concrete exn\))\)$/.test(type)) {
        continue;
      }
      for (let i = 0; i < t.size; i++) {
        const a = show(t.get(i), type);
        const b = show(other.get(i), type);
        if (a !== b) {
          return ["table:element", `table ${name}[${i}]: wasmtime ${a}, v8 ${b}`];
        }
      }
    }
  }
  return [];
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const words = a.length >>> 2;
  const a32 = new Uint32Array(a.buffer, a.byteOffset, words);
  const b32 = new Uint32Array(b.buffer, b.byteOffset, words);
  for (let i = 0; i < words; i++) {
    if (a32[i] !== b32[i]) {
      for (let j = i * 4;; j++) if (a[j] !== b[j]) return j;
    }
  }
  for (let j = words * 4; j < a.length; j++) if (a[j] !== b[j]) return j;
  return -1;
}

/**
 * Runs `wasm` in both engines: compile, instantiate, then `calls` (or the calls that `plan`
 * draws for the module's callable exports), comparing after each step.
 */
export function runModule(
  engine: Engine,
  wasm: Uint8Array<ArrayBuffer>,
  calls: Call[] | (() => number),
): ModuleReport {
  const report: ModuleReport = { calls: 0, instantiated: false, stackLimited: false, outcomes: {} };
  const diverge = (key: string, detail: string, made: Call[] = []): ModuleReport => {
    report.divergence = { key, detail, calls: made };
    return report;
  };

  let v8Module: WebAssembly.Module;
  try {
    v8Module = new WebAssembly.Module(wasm);
  } catch (error) {
    return diverge("compile:v8", `V8 rejects a module smith made: ${error}`);
  }
  using store = new Store(engine);
  let module: Module;
  try {
    module = new Module(engine, wasm);
  } catch (error) {
    return diverge("compile:wasmtime", `Wasmtime rejects a module smith made: ${error}`);
  }
  using _module = module;

  let instance: Instance | undefined;
  let v8Instance: WebAssembly.Instance | undefined;
  const wtStart = outcome(() => instance = new Instance(store, module, []), [], true);
  const v8Start = outcome(() => v8Instance = new WebAssembly.Instance(v8Module, {}), [], false);
  if (!wtStart.ok || !v8Start.ok) {
    if (!wtStart.ok && !v8Start.ok && sameKind(wtStart.kind, v8Start.kind)) return report;
    if (isOverflow(wtStart) || isOverflow(v8Start)) {
      report.stackLimited = true;
      return report;
    }
    return diverge(
      `instantiate:${kindOf(wtStart)}/${kindOf(v8Start)}`,
      `instantiation: wasmtime ${describeOutcome(wtStart)}; v8 ${describeOutcome(v8Start)}`,
    );
  }
  if (instance === undefined || v8Instance === undefined) throw new Error("unreachable");
  report.instantiated = true;

  const sides: Sides = { wt: { instance, funcs: new Map() }, v8: { instance: v8Instance } };
  const names = WebAssembly.Module.exports(v8Module);
  const callable: { name: string; params: readonly ValType[]; results: readonly ValType[] }[] = [];
  for (const { name, kind } of names) {
    if (kind !== "function") continue;
    const func = instance.getFunc(name)!;
    sides.wt.funcs.set(name, func);
    const { params, results } = func.type;
    if ([...params, ...results].every(callableType)) {
      callable.push({ name, params, results });
    }
  }
  const wt = sides.wt.instance;
  report.shared = names.some((e) =>
    e.kind === "memory" && wt.getExport(e.name) instanceof SharedMemory
  );
  const stateKey = compareState(sides, names);
  if (stateKey.length > 0) return diverge(`start:${stateKey[0]}`, `after start: ${stateKey[1]}`);

  const plan = typeof calls === "function" ? planCalls(calls, callable) : calls;
  const v8Exports = v8Instance.exports as Exports;
  const fuel = instance.getGlobal(FUEL_EXPORT);
  const v8Fuel = v8Exports[FUEL_EXPORT] as WebAssembly.Global | undefined;
  const v8Tags = new Map<string, object>();
  const wtTags = new Map<string, object>();
  const made: Call[] = [];
  const typedFuncs = new Map<string, (...args: unknown[]) => unknown>();
  const pools: Pools = { wt: [], v8: [] };
  for (const call of plan) {
    const target = callable.find((f) => f.name === call.export);
    if (!target || target.params.length !== call.args.length) continue;
    if (call.args.some((a, i) => a.type !== target.params[i])) continue;
    made.push(call);
    if (fuel) fuel.value = FUEL;
    if (v8Fuel) v8Fuel.value = FUEL;
    const func = sides.wt.funcs.get(call.export)!;
    const v8Func = v8Exports[call.export] as (...a: unknown[]) => unknown;
    const wtArgs = call.args.map((a) => wtArg(a, sides.wt.funcs, wtTags, pools.wt));
    const v8Args = call.args.map((a) => v8Arg(a, v8Exports, v8Tags, pools.v8));
    const a = outcome(
      () => {
        switch (call.via ?? "call") {
          case "typed": {
            let fn = typedFuncs.get(call.export);
            if (!fn) typedFuncs.set(call.export, fn = func.typed(target.params, target.results));
            return fn(...wtArgs);
          }
          case "callBits": {
            const bits = func.callBits(...wtArgs.map((v, i) => toBits(target.params[i], v)));
            const values = bits.map((b, i) => fromBits(target.results[i], b));
            return values.length === 1 ? values[0] : values;
          }
          default:
            return func.call(...wtArgs);
        }
      },
      target.results,
      true,
    );
    const b = outcome(() => v8Func(...v8Args), target.results, false);
    report.calls++;
    if ([...target.params, ...target.results].some((t) => GC_REF.test(t))) {
      report.gcCalls = (report.gcCalls ?? 0) + 1;
    }
    const ended = a.ok ? "returned" : a.kind;
    report.outcomes[ended] = (report.outcomes[ended] ?? 0) + 1;
    const where = `call ${made.length} ${call.export}(${
      call.args.map((x) => x.value).join(", ")
    }) via ${call.via ?? "call"}`;
    if (!a.ok || !b.ok) {
      if (isOverflow(a) || isOverflow(b)) {
        // Stack depths differ between engines: what ran before an overflow differs too, and a
        // recursion may fit in one engine's stack but not the other's.
        report.stackLimited = true;
        return report;
      }
      if (a.ok || b.ok || !sameKind(a.kind, b.kind)) {
        return diverge(
          `call:${kindOf(a)}/${kindOf(b)}`,
          `${where}: wasmtime ${describeOutcome(a)}; v8 ${describeOutcome(b)}`,
          made,
        );
      }
    } else if (a.values.join() !== b.values.join()) {
      return diverge(
        `call:results`,
        `${where}: wasmtime ${describeOutcome(a)}; v8 ${describeOutcome(b)}`,
        made,
      );
    } else {
      // GC objects both engines returned feed later calls' `#k` arguments.
      target.results.forEach((type, i) => {
        if (GC_REF.test(type) && a.values[i] === "ref") {
          pools.wt.push(a.raw[i]);
          pools.v8.push(b.raw[i]);
        }
      });
    }
    const state = compareState(sides, names);
    if (state.length > 0) return diverge(`state:${state[0]}`, `after ${where}: ${state[1]}`, made);
  }
  return report;
}

// ---- shrinking and repro files ----------------------------------------------------------------

/** A divergence of module `seed`, shrunk, with the files written for it. */
export interface Finding {
  seed: number;
  divergence: Divergence;
  /** Directory holding input.bin, module.wasm, module.wat, calls.json, report.txt. */
  dir?: string;
}

/**
 * Shrinks smith's input while the module still diverges with the same key: smaller inputs make
 * smith choose fewer, smaller items. Bounded by `deadline` (ms since epoch).
 */
async function shrinkInput(
  engine: Engine,
  smith: readonly string[],
  input: Uint8Array,
  seed: number,
  key: string,
  deadline: number,
): Promise<{ input: Uint8Array; wasm: Uint8Array<ArrayBuffer>; divergence: Divergence } | null> {
  let best: { input: Uint8Array; wasm: Uint8Array<ArrayBuffer>; divergence: Divergence } | null =
    null;
  const attempt = async (candidate: Uint8Array): Promise<boolean> => {
    const wasm = await generate(candidate, smith);
    if (wasm === null) return false;
    const report = runModule(engine, wasm as Uint8Array<ArrayBuffer>, prng(seed ^ 0x9e3779b9));
    if (report.divergence?.key !== key) return false;
    best = {
      input: candidate,
      wasm: wasm as Uint8Array<ArrayBuffer>,
      divergence: report.divergence,
    };
    return true;
  };
  if (!await attempt(input)) return null;
  let current = input;
  for (let chunk = current.length >> 1; chunk >= 1 && Date.now() < deadline; chunk >>= 1) {
    for (let at = 0; at < current.length && Date.now() < deadline;) {
      const candidate = new Uint8Array([
        ...current.subarray(0, at),
        ...current.subarray(at + chunk),
      ]);
      if (await attempt(candidate)) current = candidate;
      else at += chunk;
    }
  }
  return best;
}

/** Drops calls (one at a time, from the front) that the divergence does not need. */
function shrinkCalls(
  engine: Engine,
  wasm: Uint8Array<ArrayBuffer>,
  divergence: Divergence,
): Divergence {
  let best = divergence;
  for (let i = best.calls.length - 2; i >= 0; i--) {
    const calls = [...best.calls.slice(0, i), ...best.calls.slice(i + 1)];
    const report = runModule(engine, wasm, calls);
    if (report.divergence?.key === best.key) best = report.divergence;
  }
  return best;
}

/** Writes a finding's repro files under `out`. */
async function writeRepro(
  out: string,
  seed: number,
  input: Uint8Array,
  wasm: Uint8Array,
  divergence: Divergence,
): Promise<string> {
  const dir = join(out, `divergence-${seed}`);
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeFile(join(dir, "input.bin"), input);
  await Deno.writeFile(join(dir, "module.wasm"), wasm);
  await Deno.writeTextFile(join(dir, "module.wat"), await print(wasm));
  await Deno.writeTextFile(
    join(dir, "calls.json"),
    JSON.stringify(divergence.calls, null, 2) + "\n",
  );
  await Deno.writeTextFile(
    join(dir, "report.txt"),
    `seed ${seed} (wasm-tools ${WASM_TOOLS_VERSION}: deno task fuzz --seed ${seed} --count 1)\n` +
      `${divergence.key}\n${divergence.detail}\n` +
      `replay the shrunk module and calls: deno task fuzz --replay ${dir}\n`,
  );
  return dir;
}

// ---- the fuzzing loop ----------------------------------------------------------------------------

/** Options of {@linkcode fuzz}. */
export interface FuzzOptions {
  /** First module seed; module i uses seed + i. */
  seed: number;
  /** Stop after this many modules... */
  count?: number;
  /** ...or after this many seconds, whichever comes first. */
  seconds?: number;
  /** Where repro directories go; none are written when undefined. */
  out?: string;
  /** Shrink divergences before reporting them (default true)... */
  minimize?: boolean;
  /** ...spending at most this long on each (default 60 000 ms). */
  shrinkMs?: number;
  /** Options of the Wasmtime engine (default: Wasmtime's defaults). */
  engine?: EngineOptions;
  /** The smith flags (default {@linkcode SMITH_ARGS}; {@linkcode SMITH_GC_ARGS} for `--gc`). */
  smith?: readonly string[];
  /** Called with each finding as soon as it is known. */
  onFinding?: (finding: Finding) => void;
}

/** Totals of a {@linkcode fuzz} run. */
export interface FuzzSummary {
  modules: number;
  /** Modules whose instantiation succeeded in both engines. */
  instantiated: number;
  /** Inputs smith could not turn into a module. */
  rejected: number;
  calls: number;
  /** Modules cut short by a stack overflow or an allocation limit (not comparable past it). */
  stackLimited: number;
  /** Calls with a GC-typed parameter or result. */
  gcCalls: number;
  /** Modules that export a shared memory. */
  sharedModules: number;
  /** How the calls ended ("returned" or the trap kind), as counts. */
  outcomes: Record<string, number>;
  elapsedMs: number;
  findings: Finding[];
}

/** Runs modules `seed`, `seed + 1`, ... through both engines and collects divergences. */
export async function fuzz(options: FuzzOptions): Promise<FuzzSummary> {
  const started = Date.now();
  const end = options.seconds === undefined ? Infinity : started + options.seconds * 1000;
  const count = options.count ?? Infinity;
  const summary: FuzzSummary = {
    modules: 0,
    instantiated: 0,
    rejected: 0,
    calls: 0,
    stackLimited: 0,
    gcCalls: 0,
    sharedModules: 0,
    outcomes: {},
    elapsedMs: 0,
    findings: [],
  };
  using engine = new Engine(options.engine);
  // Smith runs one module ahead, so its process overlaps with the comparison of the last one.
  const smith = options.smith ?? SMITH_ARGS;
  let next = generate(smithInput(options.seed), smith);
  for (let i = 0; i < count && Date.now() < end; i++) {
    const seed = (options.seed + i) >>> 0;
    const wasm = await next;
    if (i + 1 < count) next = generate(smithInput((seed + 1) >>> 0), smith);
    if (wasm === null) {
      summary.rejected++;
      continue;
    }
    const report = runModule(engine, wasm as Uint8Array<ArrayBuffer>, prng(seed ^ 0x9e3779b9));
    summary.modules++;
    summary.calls += report.calls;
    summary.gcCalls += report.gcCalls ?? 0;
    if (report.shared) summary.sharedModules++;
    if (report.instantiated) summary.instantiated++;
    if (report.stackLimited) summary.stackLimited++;
    for (const [kind, n] of Object.entries(report.outcomes)) {
      summary.outcomes[kind] = (summary.outcomes[kind] ?? 0) + n;
    }
    if (report.divergence) {
      const finding: Finding = { seed, divergence: report.divergence };
      if (options.minimize ?? true) {
        const input = smithInput(seed);
        const shrunk = await shrinkInput(
          engine,
          smith,
          input,
          seed,
          report.divergence.key,
          Date.now() + (options.shrinkMs ?? 60_000),
        );
        if (shrunk) {
          finding.divergence = shrinkCalls(engine, shrunk.wasm, shrunk.divergence);
          if (options.out) {
            finding.dir = await writeRepro(
              options.out,
              seed,
              shrunk.input,
              shrunk.wasm,
              finding.divergence,
            );
          }
        }
      } else if (options.out) {
        finding.dir = await writeRepro(
          options.out,
          seed,
          smithInput(seed),
          wasm,
          report.divergence,
        );
      }
      summary.findings.push(finding);
      options.onFinding?.(finding);
    }
  }
  await next.catch(() => null);
  summary.elapsedMs = Date.now() - started;
  return summary;
}

/** Re-runs a repro directory written by the fuzzer. */
export async function replay(dir: string, options?: EngineOptions): Promise<ModuleReport> {
  const wasm = await Deno.readFile(join(dir, "module.wasm"));
  const calls = JSON.parse(await Deno.readTextFile(join(dir, "calls.json"))) as Call[];
  using engine = new Engine(options);
  return runModule(engine, wasm, calls);
}

function flag(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

async function main(args: string[]): Promise<number> {
  if (!await hasWasmTools()) {
    console.error(
      `fuzz: wasm-tools is not on PATH; install it with ` +
        `\`cargo install --locked wasm-tools --version ${WASM_TOOLS_VERSION}\``,
    );
    return 2;
  }
  const gc = args.includes("--gc");
  const threads = args.includes("--threads");
  if (gc && threads) {
    console.error("fuzz: --gc and --threads are separate runs; give one of them");
    return 2;
  }
  const replayDir = flag(args, "--replay");
  if (replayDir !== undefined) {
    const report = await replay(
      replayDir,
      gc ? GC_ENGINE : threads ? THREADS_ENGINE : undefined,
    );
    console.log(
      report.divergence
        ? `fuzz: still diverges: ${report.divergence.key}\n  ${report.divergence.detail}`
        : `fuzz: no divergence (${report.calls} calls)`,
    );
    return report.divergence ? 1 : 0;
  }
  const seconds = Number(flag(args, "--time") ?? (flag(args, "--count") ? Infinity : 60));
  const count = flag(args, "--count") === undefined ? undefined : Number(flag(args, "--count"));
  const seed = Number(flag(args, "--seed") ?? (Date.now() % 1_000_000_000));
  const out = flag(args, "--out") ?? "tmp/fuzz";
  console.log(
    `fuzz: seeds ${seed}.. for ${
      Number.isFinite(seconds) ? `${seconds} s` : `${count} modules`
    }, wasm-tools smith ${WASM_TOOLS_VERSION}${
      gc ? " (+ GC, exceptions)" : threads ? " (+ threads: shared memory, atomics)" : ""
    }, repros in ${out}/`,
  );
  const summary = await fuzz({
    seed,
    count,
    seconds: Number.isFinite(seconds) ? seconds : undefined,
    out,
    minimize: !args.includes("--no-minimize"),
    ...(gc ? { smith: SMITH_GC_ARGS, engine: GC_ENGINE } : {}),
    ...(threads ? { smith: SMITH_THREADS_ARGS, engine: THREADS_ENGINE } : {}),
    onFinding: (f) =>
      console.log(
        `DIVERGENCE seed ${f.seed}: ${f.divergence.key}\n  ${f.divergence.detail}` +
          (f.dir ? `\n  repro: ${f.dir}` : ""),
      ),
  });
  const minutes = summary.elapsedMs / 60_000;
  console.log(
    `fuzz: ${summary.modules} modules (${summary.instantiated} instantiated, ` +
      `${summary.stackLimited} cut short by stack overflow or allocation limit, ${summary.rejected} inputs ` +
      `rejected by smith), ${summary.calls} calls (${summary.gcCalls} with GC-typed parameters or ` +
      `results) in ${(summary.elapsedMs / 1000).toFixed(1)} s` +
      (threads ? `; ${summary.sharedModules} modules with a shared memory` : ""),
  );
  const outcomes = Object.entries(summary.outcomes).sort((a, b) => b[1] - a[1]);
  console.log(`fuzz: calls ended: ${outcomes.map(([k, n]) => `${k} ${n}`).join(", ")}`);
  console.log(
    `fuzz: ${(summary.modules / minutes).toFixed(0)} modules/minute, ` +
      `${(summary.calls / minutes).toFixed(0)} calls/minute, ` +
      `${summary.findings.length} divergence(s)`,
  );
  return summary.findings.length > 0 ? 1 : 0;
}

if (import.meta.main) {
  Deno.exit(
    await main(Deno.args).catch((error) => {
      console.error(`fuzz: ${error instanceof Error ? error.message : error}`);
      return 2;
    }),
  );
}
