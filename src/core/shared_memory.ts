/**
 * Shared linear memories (the threads proposal): one memory used by instances in several stores,
 * threads and Workers at once.
 *
 * The bytes live as long as any reference to the native memory (each SharedMemory object owns
 * one, each Worker claims its own) and never move: Wasmtime reserves a shared memory whole up
 * front and grows it in place (`SharedMemory::data`: "The base pointer of a shared memory does
 * not change"). So a zero-copy buffer over it stays valid while its owner's reference lives, even
 * across growth (it then covers the old length); it is detached when that reference is freed.
 * Deno cannot make a SharedArrayBuffer over native memory, so `buffer` is an ArrayBuffer:
 * `Atomics.load/store/add/compareExchange/...` work on it (V8 uses the same atomic instructions
 * for shared and unshared buffers), `Atomics.wait` throws and `Atomics.notify` wakes nobody;
 * waiting and waking go through Wasmtime (`atomicWait32`, `atomicNotify`), the same parking lot
 * as the guests' `memory.atomic.wait` / `notify`.
 *
 * @module
 */
import { WasmtimeError } from "../errors.ts";
import { nativeBuffer, OutCell } from "../ffi/raw.ts";
import { ffi } from "../ffi/symbols.ts";
import { Handle } from "../ffi/handle.ts";
import { fromRaw, takeRaw } from "../internal.ts";
import { type Engine, enginePointer } from "./engine.ts";
import { check } from "./failure.ts";
import { type HandoffToken, issueToken, tokenBytes, unclaimable } from "./handoff.ts";
import { type MemoryType, newMemoryType, readMemoryType } from "./types.ts";

/** Internal: wraps an owned `wasmtime_sharedmemory_t *` (e.g. from an extern). */
export let sharedMemoryFromPointer: (pointer: Deno.PointerObject) => SharedMemory;
/** Internal: the native pointer of a SharedMemory (borrowed). */
export let sharedMemoryPointer: (memory: SharedMemory, action: string) => Deno.PointerObject;
/**
 * Internal: notifies every address of the memory once, off this thread, and resolves to how
 * many waiters woke (see `wasmtime_deno_sharedmemory_notify_all`: how a threaded run wakes its
 * parked threads once their stores are past the deadline).
 */
export let notifyAllWaiters: (memory: SharedMemory) => Promise<number>;

/**
 * What `Atomics.wait` would say: `"ok"` (woken by a notify), `"not-equal"` (the value differed,
 * no wait) or `"timed-out"`.
 *
 * @example
 * ```ts
 * import type { WaitResult } from "@wasmtime-deno/wasmtime";
 * const result: WaitResult = "timed-out";
 * ```
 */
export type WaitResult = "ok" | "not-equal" | "timed-out";

const WAIT_RESULTS: readonly WaitResult[] = ["ok", "not-equal", "timed-out"];

let aliasWarned = false;

/**
 * The zero-copy buffers handed out over one reference, consulted before it is freed: one we
 * did not detach that is detached was transferred (`transfer()`, structuredClone, postMessage
 * with a transfer list), so an alias we cannot detach exists and the reference is kept for the
 * rest of the process. Holds no reference to the SharedMemory object, so its finalizer can use
 * it.
 */
class ExposedBuffers {
  readonly buffers = new Set<ArrayBuffer>();
  aliased = false;

  /** Detaches every buffer; true if the native reference may be freed. */
  release(): boolean {
    for (const buffer of this.buffers) {
      if (!buffer.detached) buffer.transfer(0);
      else this.aliased = true;
    }
    this.buffers.clear();
    if (this.aliased && !aliasWarned) {
      aliasWarned = true;
      console.warn(
        "wasmtime-deno: a SharedMemory.buffer was transferred (transfer(), structuredClone or " +
          "postMessage with a transfer list), so a copy of it exists that the binding cannot " +
          "detach. That shared memory is kept for the rest of the process instead of being " +
          "freed. Hand shared memories to Workers with share() / SharedMemory.claim instead.",
      );
    }
    return !this.aliased;
  }
}

function checkAddress(address: number, action: string): bigint {
  if (!Number.isSafeInteger(address) || address < 0) {
    throw new WasmtimeError(`SharedMemory.${action}: address must be a non-negative integer`);
  }
  return BigInt(address);
}

function timeoutNs(timeoutMs: number, action: string): bigint {
  if (typeof timeoutMs !== "number" || !(timeoutMs >= 0)) {
    throw new WasmtimeError(
      `SharedMemory.${action}: timeoutMs must be a non-negative number (Infinity: no limit)`,
    );
  }
  return timeoutMs === Infinity ? -1n : BigInt(Math.min(Math.round(timeoutMs * 1e6), 2 ** 62));
}

/** A wait or notify result, or the error for its negative failure code. */
function outcome(code: bigint, address: number, alignment: number, memory: SharedMemory): number {
  if (code >= 0n) return Number(code);
  if (code === -2n) {
    throw new WasmtimeError(
      `SharedMemory: address ${address} is not ${alignment}-byte aligned (as memory.atomic.* ` +
        "needs)",
    );
  }
  throw new WasmtimeError(
    `SharedMemory: address ${address} is outside the memory (${memory.byteLength} bytes)`,
  );
}

function expected32(value: number, action: string): number {
  if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 32) {
    throw new WasmtimeError(`SharedMemory.${action}: expected must be an i32 or u32 number`);
  }
  return value >>> 0;
}

function expected64(value: bigint, action: string): bigint {
  if (typeof value !== "bigint") {
    throw new WasmtimeError(`SharedMemory.${action}: expected must be a bigint`);
  }
  return BigInt.asUintN(64, value);
}

/**
 * A shared linear memory, usable by instances in any store of its engine, on any thread. Create
 * it (or get it from an instance that exports one), import it into instances like a Memory, and
 * hand it to Workers with {@linkcode SharedMemory.share}: each Worker claims its own reference,
 * so one Worker ending (or disposing its object) never frees the memory the others use.
 *
 * @example
 * ```ts
 * import { Engine, Instance, Module, SharedMemory, Store } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine({ threads: true, sharedMemory: true });
 * using memory = new SharedMemory(engine, { minimum: 1, maximum: 16, shared: true });
 * using module = new Module(engine, `(module (import "env" "memory" (memory 1 16 shared))
 *   (func (export "add") (param i32 i32) (result i32)
 *     (i32.atomic.rmw.add (local.get 0) (local.get 1))))`);
 * using store = new Store(engine);
 * const instance = new Instance(store, module, [memory]);
 * const counter = new Int32Array(memory.buffer, 0, 1);
 * instance.getFunc("add")!.call(0, 5);
 * console.log(Atomics.load(counter, 0)); // 5
 * // In a Worker: worker.postMessage({ engine: engine.share(), memory: memory.share() }), then
 * // SharedMemory.claim(message.memory) there.
 * ```
 */
export class SharedMemory {
  readonly #handle: Handle;
  readonly #exposed = new ExposedBuffers();
  #buffer: ArrayBuffer | null = null;

  static {
    sharedMemoryFromPointer = (pointer) => fromRaw(SharedMemory, { pointer });
    sharedMemoryPointer = (memory, action) => memory.#handle.pointer(action);
    notifyAllWaiters = async (memory) => {
      // The sweep holds its own reference, so disposing `memory` meanwhile is safe.
      const clone = ffi().wasmtime_sharedmemory_clone(memory.#handle.pointer("notifyAll"))!;
      try {
        return Number(await ffi().wasmtime_deno_sharedmemory_notify_all_nonblocking(clone));
      } finally {
        ffi().wasmtime_sharedmemory_delete(clone);
      }
    };
  }

  /**
   * Creates a shared memory of `type`, which must say `shared: true` and have a `maximum` (the
   * whole maximum is reserved up front). The engine needs `sharedMemory: true`.
   */
  constructor(engine: Engine, type: MemoryType) {
    const raw = takeRaw<{ pointer: Deno.PointerObject }>();
    let pointer: Deno.PointerObject;
    if (raw !== undefined) {
      pointer = raw.pointer;
    } else {
      if (type?.shared !== true || type.maximum === undefined) {
        throw new WasmtimeError(
          "new SharedMemory: the type must be shared and bounded, e.g. " +
            "{ minimum: 1, maximum: 16, shared: true }",
        );
      }
      const native = newMemoryType(type);
      const out = new OutCell();
      try {
        check(
          ffi().wasmtime_sharedmemory_new(
            enginePointer(engine, "new SharedMemory"),
            native,
            out.bytes,
          ),
          "new SharedMemory",
        );
      } finally {
        ffi().wasm_memorytype_delete(native);
      }
      pointer = out.takePointer()!;
    }
    const exposed = this.#exposed;
    this.#handle = new Handle(this, "SharedMemory", pointer, (p) => {
      // A transferred buffer still shows these bytes: keep them rather than free under it.
      if (exposed.release()) ffi().wasmtime_sharedmemory_delete(p);
    });
  }

  /**
   * Takes the reference a token from {@linkcode SharedMemory.share} holds, typically in the
   * Worker the token was posted to. Throws a {@linkcode WasmtimeError} for a token that was
   * already claimed, revoked, forged, or issued in another process. Instances importing it
   * must live in stores of the engine it was made with (share the engine the same way:
   * {@linkcode Engine.claim}).
   *
   * @example
   * ```ts
   * import { Engine, SharedMemory } from "@wasmtime-deno/wasmtime";
   * using engine = new Engine();
   * using memory = new SharedMemory(engine, { minimum: 1, maximum: 1, shared: true });
   * using same = SharedMemory.claim(memory.share()); // the same bytes, another reference
   * ```
   */
  static claim(token: HandoffToken<"SharedMemory">): SharedMemory {
    const bytes = tokenBytes(token, "SharedMemory", "SharedMemory.claim");
    const pointer = ffi().wasmtime_deno_handoff_take_sharedmemory(bytes);
    if (pointer === null) throw unclaimable("SharedMemory", "SharedMemory.claim");
    return sharedMemoryFromPointer(pointer);
  }

  /**
   * A one-use token that another Worker turns into its own reference to this memory with
   * {@linkcode SharedMemory.claim}; post it with `postMessage`. The token holds a reference
   * until it is claimed or revoked ({@linkcode revokeToken}), so this object may be disposed
   * before the receiver claims it.
   *
   * @example
   * ```ts
   * import { Engine, SharedMemory } from "@wasmtime-deno/wasmtime";
   * using engine = new Engine();
   * using memory = new SharedMemory(engine, { minimum: 1, maximum: 1, shared: true });
   * const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
   * worker.postMessage({ engine: engine.share(), memory: memory.share() });
   * ```
   */
  share(): HandoffToken<"SharedMemory"> {
    const pointer = this.#handle.pointer("share");
    return issueToken(
      "SharedMemory",
      (token) => ffi().wasmtime_deno_handoff_put_sharedmemory(pointer, token),
    );
  }

  /** The memory's type (limits, 64-bit, shared, page size). */
  get type(): MemoryType {
    const native = ffi().wasmtime_sharedmemory_type(this.#handle.pointer("type"))!;
    try {
      return readMemoryType(native);
    } finally {
      ffi().wasm_memorytype_delete(native);
    }
  }

  /** Current size in pages (any thread may grow it). */
  get pages(): number {
    return Number(ffi().wasmtime_sharedmemory_size(this.#handle.pointer("pages")));
  }

  /** Current size in bytes (any thread may grow it). */
  get byteLength(): number {
    return Number(ffi().wasmtime_sharedmemory_data_size(this.#handle.pointer("byteLength")));
  }

  /**
   * Grows the memory by `deltaPages` and returns the previous size in pages; throws a
   * {@linkcode WasmtimeError} beyond the maximum. The memory grows in place: buffers taken
   * before stay valid over the bytes they cover; read `buffer` again for the new ones.
   */
  grow(deltaPages: number): number {
    if (!Number.isSafeInteger(deltaPages) || deltaPages < 0) {
      throw new WasmtimeError("SharedMemory.grow: delta must be a non-negative integer");
    }
    const previous = new OutCell();
    check(
      ffi().wasmtime_sharedmemory_grow(
        this.#handle.pointer("grow"),
        BigInt(deltaPages),
        previous.bytes,
      ),
      "SharedMemory.grow",
    );
    return Number(previous.takeU64());
  }

  /**
   * The memory's bytes without copying, as long as they are now (a new buffer once the memory
   * grew; earlier ones stay valid over the bytes they cover). Other threads write these bytes
   * concurrently: use `Atomics` on an `Int32Array` / `BigInt64Array` over it to read and write
   * shared words (`Atomics.load`, `store`, `add`, `compareExchange`, ... work on it; a plain
   * read in a loop may be optimized into one read). `Atomics.wait` throws on it and
   * `Atomics.notify` wakes nobody: use {@linkcode SharedMemory.atomicWait32} and
   * {@linkcode SharedMemory.atomicNotify}, which guests' `memory.atomic.wait` / `notify` pair
   * with. Detached once this object is disposed or collected; the memory itself lives on while
   * other references (instances, Workers) use it. Do not transfer it: post `share()` instead.
   */
  get buffer(): ArrayBuffer {
    const pointer = this.#handle.pointer("buffer");
    const length = Number(ffi().wasmtime_sharedmemory_data_size(pointer));
    const current = this.#buffer;
    if (current !== null && !current.detached && current.byteLength === length) return current;
    // A detached `current` was transferred (only release detaches): it stays in the set, so
    // release sees the alias.
    const data = ffi().wasmtime_sharedmemory_data(pointer);
    const buffer = length === 0 || data === null ? new ArrayBuffer(0) : nativeBuffer(data, length);
    if (buffer.byteLength > 0) this.#exposed.buffers.add(buffer);
    this.#buffer = buffer;
    return buffer;
  }

  /**
   * `memory.atomic.wait32` from the host: if the i32 at byte `address` (4-byte aligned) equals
   * `expected`, blocks this thread until a guest or host notifies that address, or until
   * `timeoutMs` passes. Blocks the event loop too: in a Worker, or use
   * {@linkcode SharedMemory.atomicWait32Async}.
   */
  atomicWait32(address: number, expected: number, timeoutMs: number = Infinity): WaitResult {
    const at = checkAddress(address, "atomicWait32");
    const code = ffi().wasmtime_deno_sharedmemory_wait32(
      this.#handle.pointer("atomicWait32"),
      at,
      expected32(expected, "atomicWait32"),
      timeoutNs(timeoutMs, "atomicWait32"),
    );
    return WAIT_RESULTS[outcome(code, address, 4, this)];
  }

  /** `memory.atomic.wait64` from the host (8-byte aligned `address`; see `atomicWait32`). */
  atomicWait64(address: number, expected: bigint, timeoutMs: number = Infinity): WaitResult {
    const at = checkAddress(address, "atomicWait64");
    const code = ffi().wasmtime_deno_sharedmemory_wait64(
      this.#handle.pointer("atomicWait64"),
      at,
      expected64(expected, "atomicWait64"),
      timeoutNs(timeoutMs, "atomicWait64"),
    );
    return WAIT_RESULTS[outcome(code, address, 8, this)];
  }

  /**
   * Like {@linkcode SharedMemory.atomicWait32}, on Deno's blocking thread pool: the event loop
   * keeps running (like `Atomics.waitAsync`). The wait holds its own reference to the memory,
   * so disposing this object meanwhile is safe.
   */
  async atomicWait32Async(
    address: number,
    expected: number,
    timeoutMs: number = Infinity,
  ): Promise<WaitResult> {
    const at = checkAddress(address, "atomicWait32Async");
    const value = expected32(expected, "atomicWait32Async");
    const timeout = timeoutNs(timeoutMs, "atomicWait32Async");
    const clone = ffi().wasmtime_sharedmemory_clone(this.#handle.pointer("atomicWait32Async"))!;
    try {
      const code = await ffi().wasmtime_deno_sharedmemory_wait32_nonblocking(
        clone,
        at,
        value,
        timeout,
      );
      return WAIT_RESULTS[outcome(code, address, 4, this)];
    } finally {
      ffi().wasmtime_sharedmemory_delete(clone);
    }
  }

  /**
   * `memory.atomic.notify` from the host: wakes up to `count` waiters (guests in
   * `memory.atomic.wait`, hosts in `atomicWait*`) parked on byte `address` (4-byte aligned) and
   * returns how many woke.
   */
  atomicNotify(address: number, count: number = Infinity): number {
    const at = checkAddress(address, "atomicNotify");
    if (typeof count !== "number" || !(count >= 0)) {
      throw new WasmtimeError("SharedMemory.atomicNotify: count must be a non-negative number");
    }
    const code = ffi().wasmtime_deno_sharedmemory_notify(
      this.#handle.pointer("atomicNotify"),
      at,
      Math.min(Math.floor(count), 2 ** 32 - 1),
    );
    return outcome(code, address, 4, this);
  }

  /** True once disposed. */
  get disposed(): boolean {
    return this.#handle.disposed;
  }

  /**
   * Frees this object's reference and detaches its buffers. The memory lives on while
   * instances, other SharedMemory objects (in any Worker) or unclaimed tokens reference it.
   * Idempotent.
   */
  [Symbol.dispose](): void {
    this.#buffer = null;
    this.#handle.dispose();
  }
}
