/**
 * The Store: owner of all instances, functions, memories, tables and globals made in it, plus
 * the per-store budget (fuel, epoch deadline, resource limits).
 *
 * @module
 */
import { WasmtimeError } from "../errors.ts";
import { check, takeErrorMessage } from "./failure.ts";
import { ffi } from "../ffi/symbols.ts";
import { OutCell, pointerBits, pointerFromBits } from "../ffi/raw.ts";
import { disposedError, Handle } from "../ffi/handle.ts";
import { type Engine, enginePointer } from "./engine.ts";
import { wasiBridge } from "../internal.ts";
// Type only (erased): StoreOptions names the class users pass; core never loads src/wasi.
import type { WasiConfig } from "../wasi/config.ts";

/**
 * Resource limits enforced by Wasmtime for one store.
 *
 * @example
 * ```ts
 * import { Engine, Store } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine();
 * using store = new Store(engine, { limits: { memorySize: 16 << 20, instances: 1 } });
 * ```
 */
export interface StoreLimits {
  /** Maximum bytes of any one linear memory; `memory.grow` beyond it fails (returns -1). */
  memorySize?: number;
  /** Maximum elements of any one table. */
  tableElements?: number;
  /** Maximum number of instances (default 10,000). */
  instances?: number;
  /** Maximum number of tables (default 10,000). */
  tables?: number;
  /** Maximum number of memories (default 10,000). */
  memories?: number;
}

/**
 * Options of a {@linkcode Store}.
 *
 * @example
 * ```ts
 * import { Engine, Store } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine({ consumeFuel: true });
 * using store = new Store(engine, { fuel: 1_000_000, limits: { memorySize: 1 << 20 } });
 * ```
 */
export interface StoreOptions {
  /** Initial fuel; needs `new Engine({ consumeFuel: true })`. */
  fuel?: number | bigint;
  /** Resource limits. */
  limits?: StoreLimits;
  /**
   * Epoch ticks until guests are interrupted; needs `epochInterruption`. Without it, a store
   * of such an engine starts with a deadline far in the future, so calls do not trap at once.
   */
  epochDeadline?: number;
  /** WASI context for guests that import WASI (see `@wasmtime-deno/wasmtime/wasi`). */
  wasi?: WasiConfig;
}

/**
 * The raw fields of a store-owned object (Func, Global, Table, Memory, Instance), given to
 * `fromRaw`: its store and the Wasmtime struct (`wasmtime_func_t`, ...) that names it there.
 */
export interface StructFields {
  store: Store;
  struct: Uint8Array<ArrayBuffer>;
}

/** An object that must revalidate (or detach) zero-copy views after guest code ran. */
export interface ViewOwner {
  revalidateView(): void;
  detachView(): void;
}

/**
 * Effectively "never", in epoch ticks: the deadline of a store of an epoch-interruption engine
 * outside timed and async calls, so that calls do not trap at once.
 */
export const FAR_DEADLINE = 2 ** 53 - 1;

let nextStoreId = 1;
/**
 * Stores that are inside a call and have zero-copy views: the only views a host call may find
 * stale. Holding a store only while it runs keeps this from pinning stores and keeps the cost
 * of a host call independent of how many stores exist.
 */
const storesInCall: Store[] = []; // an array: push/pop on every call cost less than a Set

/** Counters for tests: how many views revalidation visited. */
export const viewStats = { revalidated: 0 };

/**
 * Revalidates the zero-copy views of every store inside a call. Host functions run in the
 * middle of a guest call, after the guest may have grown (and, with some configurations,
 * moved) a memory.
 */
export function revalidateAllViews(): void {
  for (let i = 0; i < storesInCall.length; i++) revalidateViews(storesInCall[i]);
}

/** Revalidates the zero-copy views of `store` (after a poll of an async call, for example). */
export let revalidateViews: (store: Store) => void;

let aliasWarned = false;

/**
 * The zero-copy buffers a store's memories handed out (`Memory.buffer`). Consulted before the
 * native store is freed: a buffer we did not detach ourselves that is detached was transferred
 * (`transfer()`, structuredClone, postMessage), so an untracked alias of the memory exists and
 * the native store must stay mapped for the rest of the process (quarantine). Holds no
 * reference to the Store, so it can be consulted from the store's finalizer.
 */
class ExposedBuffers {
  readonly #buffers = new Set<ArrayBuffer>();
  #quarantined = false;

  get quarantined(): boolean {
    return this.#quarantined;
  }

  add(buffer: ArrayBuffer): void {
    this.#buffers.add(buffer);
  }

  /** Detaches `buffer`; quarantines the store if someone else already did. */
  retire(buffer: ArrayBuffer): void {
    this.#buffers.delete(buffer);
    if (!buffer.detached) {
      buffer.transfer(0);
      return;
    }
    if (this.#quarantined) return;
    this.#quarantined = true;
    if (!aliasWarned) {
      aliasWarned = true;
      console.warn(
        "wasmtime-deno: a Memory.buffer was transferred (transfer(), structuredClone or " +
          "postMessage with a transfer list), so a copy of it exists that the binding cannot " +
          "detach. Its store's native memory is kept for the rest of the process instead of " +
          "being freed. Pass new Uint8Array(memory.buffer) copies or use Memory.read instead.",
      );
    }
  }

  /** Retires every buffer; true if the native store may be freed. */
  release(): boolean {
    for (const buffer of this.#buffers) this.retire(buffer);
    return !this.#quarantined;
  }
}

/** Records a zero-copy buffer handed out over one of `store`'s memories. */
export let exposeBuffer: (store: Store, buffer: ArrayBuffer) => void;
/** Detaches a buffer from {@linkcode exposeBuffer}, quarantining the store if it was aliased. */
export let retireBuffer: (store: Store, buffer: ArrayBuffer) => void;
/** Whether `store` keeps its native memory forever because a buffer was transferred. */
export let isQuarantined: (store: Store) => boolean;
const storesById = new Map<number, WeakRef<Store>>();
/** The `uint64_t *fuel` out-parameter of `wasmtime_context_get_fuel` (no guest code runs). */
const fuelOut = new OutCell();

/** The Store whose context is `context` (from a host call's caller). */
export function storeFromContext(context: Deno.PointerObject): Store | undefined {
  const data = ffi().wasmtime_context_get_data(context);
  return storeFromId(Number(pointerBits(data)));
}

/** The Store whose context data is `id` (what `wasmtime_context_get_data` returns). */
export function storeFromId(id: number): Store | undefined {
  return storesById.get(id)?.deref();
}

/** Internal access to a store's native context (throws once the store is disposed). */
export let contextOf: (store: Store, action: string) => Deno.PointerObject;
/** A store's native context, or null once it is disposed (never throws). */
export let liveContext: (store: Store) => Deno.PointerObject | null;
/** Marks a call into the store as running (a store is not freed while calls run). */
export let enterStore: (store: Store, viaFuture?: boolean) => void;
/** Marks a call as finished and revalidates zero-copy memory views. */
export let leaveStore: (store: Store) => void;

/**
 * Internal: runs `body` while a call future of `store` is driven on this thread. The suspended
 * future holds the store, so nothing may enter it meanwhile (a host function performed between
 * polls calling back into its own store would make Wasmtime run two calls on one store at
 * once); such an entry throws instead.
 */
export let whileDrivingFuture: <T>(store: Store, body: () => T) => T;
/** Registers a memory whose zero-copy view must be revalidated after calls. */
export let trackView: (store: Store, owner: ViewOwner, live: boolean) => void;
/** Whether a WASI context was given to the store. */
export let storeHasWasi: (store: Store) => boolean;
/** Whether the store's WASI context lets the guest use the network (see src/core/net.ts). */
export let storeHasNetwork: (store: Store) => boolean;
/**
 * Marks the store as using async host functions: synchronous calls into it would make
 * Wasmtime abort the process, so they are refused from now on.
 */
export let requireAsync: (store: Store) => void;
/**
 * Marks the store as using WASI linked asynchronously: plain synchronous calls would make
 * Wasmtime abort the process, so only call futures may enter it (callAsync, or the blocking
 * future driver that runWasi uses).
 */
export let requireFutures: (store: Store) => void;
/**
 * Whether synchronous calls into the store run as call futures driven on this thread (async
 * WASI and no JS async host functions; see `driveFutureBlocking`).
 */
export let futureDriven: (store: Store) => boolean;
/** The store's native epoch control (null unless the engine has epoch interruption). */
export let epochControlOf: (store: Store) => Deno.PointerObject | null;
/**
 * Waits until no other async call runs on the store, then marks it busy. Returns the release
 * function, or null if `abandon` settled first (the call then leaves the queue; later calls
 * keep their order). `cancel` is invoked if the store is disposed while the call runs.
 */
export let acquireAsync: (
  store: Store,
  cancel: () => void,
  abandon: Promise<void>,
) => Promise<(() => void) | null>;

/**
 * A store owns every wasm object made in it and carries its fuel, epoch deadline and limits.
 * Disposing a store frees them all at once: later use of its instances, functions or memories
 * throws instead of crashing. A store belongs to the thread (worker) that made it.
 *
 * @example
 * ```ts
 * import { Engine, Store } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine({ consumeFuel: true });
 * using store = new Store(engine, { fuel: 1_000_000, limits: { memorySize: 16 << 20 } });
 * console.log(store.fuel); // 1000000
 * ```
 */
export class Store {
  readonly #handle: Handle;
  readonly #engine: Engine;
  readonly #id: number;
  #context: Deno.PointerObject | null;
  #depth = 0;
  #disposeRequested = false;
  #hasWasi = false;
  /** Whether the store's WASI context has a network gate (detached before the store is freed). */
  readonly #network = { attached: false };
  readonly #views = new Set<ViewOwner>();
  readonly #exposed = new ExposedBuffers();
  /** Whether the store is in `storesInCall`. */
  #inCall = false;
  /** A call future of this store is being driven synchronously (see whileDrivingFuture). */
  #driving = false;
  #epochControl: Deno.PointerObject | null = null;
  #asyncTail: Promise<void> = Promise.resolve();
  #asyncCancel: (() => void) | null = null;
  #asyncOnly = false;
  #futuresOnly = false;
  /** Why synchronous calls are refused right now (null: they are allowed). */
  #syncBlocked: (() => string) | null = null;
  /** Why a call future driven synchronously is refused right now (null: it is allowed). */
  #futureBlocked: (() => string) | null = null;

  #updateSyncBlocked(): void {
    if (this.#asyncCancel !== null) {
      this.#syncBlocked = () =>
        "the store is running a callAsync; await it before calling into the store again";
    } else if (this.#asyncOnly) {
      this.#syncBlocked = () =>
        "the store uses async host functions (Linker.defineAsyncFunc), so calls into it must " +
        "be async: use callAsync / instantiateAsync (for a function of instance.exports: " +
        "instance.getFunc(name)!.callAsync(...args))";
    } else if (this.#futuresOnly) {
      this.#syncBlocked = () =>
        "the store uses WASI linked with defineWasi({ async: true }), so only call futures may " +
        "enter it: use call / callWith / callAsync (or the functions of instance.exports) and " +
        "Linker.instantiate / instantiateAsync " +
        "(typed(), callBits, new Instance, defineModule and InstancePre.instantiate need a store " +
        "whose linker uses defineWasi() or instantiateWasi's syncWasi: true)";
    } else {
      this.#syncBlocked = null;
    }
    this.#futureBlocked = this.#futuresOnly && this.#asyncCancel === null && !this.#asyncOnly
      ? null
      : this.#syncBlocked;
  }

  static {
    contextOf = (store, action) => {
      const context = store.#context;
      if (context === null) throw disposedError("Store", action);
      return context;
    };
    liveContext = (store) => store.#context;
    enterStore = (store, viaFuture = false) => {
      const blocked = viaFuture ? store.#futureBlocked : store.#syncBlocked;
      if (blocked !== null) throw new WasmtimeError(blocked());
      if (store.#driving) {
        throw new WasmtimeError(
          "re-entrant call: a host function running between polls of this store's call future " +
            "called into the same store, which the suspended guest holds; call into another " +
            "Store, or define the host function for inline calls (instantiate, not " +
            "instantiateAsync or async WASI)",
        );
      }
      if (store.#context === null) throw disposedError("Store", "a call into wasm");
      if (store.#depth++ === 0 && store.#views.size > 0 && !store.#inCall) {
        store.#inCall = true;
        storesInCall.push(store);
      }
    };
    requireAsync = (store) => {
      store.#asyncOnly = true;
      store.#updateSyncBlocked();
    };
    requireFutures = (store) => {
      store.#futuresOnly = true;
      store.#updateSyncBlocked();
    };
    futureDriven = (store) => store.#futuresOnly && !store.#asyncOnly;
    whileDrivingFuture = (store, body) => {
      const outer = store.#driving;
      store.#driving = true;
      try {
        return body();
      } finally {
        store.#driving = outer;
      }
    };
    leaveStore = (store) => {
      store.#depth--;
      if (store.#views.size > 0) revalidateViews(store);
      if (store.#inCall && store.#depth === 0) {
        // Calls nest, so the store is usually the last one listed.
        if (storesInCall[storesInCall.length - 1] === store) {
          store.#inCall = false;
          storesInCall.pop();
        } else {
          store.#unlistInCall();
        }
      }
      if (store.#depth === 0 && store.#disposeRequested) store.#free();
    };
    revalidateViews = (store) => {
      for (const view of store.#views) {
        viewStats.revalidated++;
        view.revalidateView();
      }
    };
    trackView = (store, owner, live) => {
      if (live) {
        store.#views.add(owner);
        if (store.#depth > 0) store.#listInCall();
      } else {
        store.#views.delete(owner);
      }
    };
    exposeBuffer = (store, buffer) => store.#exposed.add(buffer);
    retireBuffer = (store, buffer) => store.#exposed.retire(buffer);
    isQuarantined = (store) => store.#exposed.quarantined;
    storeHasWasi = (store) => store.#hasWasi;
    storeHasNetwork = (store) => store.#network.attached;
    epochControlOf = (store) => store.#epochControl;
    acquireAsync = async (store, cancel, abandon) => {
      const previous = store.#asyncTail;
      let done!: () => void;
      store.#asyncTail = new Promise<void>((resolve) => (done = resolve));
      const abandoned = await Promise.race([previous.then(() => false), abandon.then(() => true)]);
      if (abandoned) {
        // Our place in the queue passes to the next call once the calls ahead have finished.
        previous.then(done);
        return null;
      }
      try {
        contextOf(store, "Func.callAsync");
      } catch (error) {
        done(); // let later waiters see the disposal too
        throw error;
      }
      if (store.#depth++ === 0 && store.#views.size > 0) store.#listInCall();
      store.#asyncCancel = cancel;
      store.#updateSyncBlocked();
      return () => {
        store.#asyncCancel = null;
        store.#updateSyncBlocked();
        if (!store.#disposeRequested) revalidateViews(store);
        if (--store.#depth === 0 && store.#inCall) store.#unlistInCall();
        if (store.#depth === 0 && store.#disposeRequested) store.#free();
        done();
      };
    };
  }

  /** Creates a store for `engine`. */
  constructor(engine: Engine, options: StoreOptions = {}) {
    const id = nextStoreId++;
    const pointer = ffi().wasmtime_store_new(
      enginePointer(engine, "new Store"),
      pointerFromBits(BigInt(id)),
      null,
    );
    const exposed = this.#exposed;
    const network = this.#network;
    this.#handle = new Handle(this, "Store", pointer, (p) => {
      storesById.delete(id);
      // A quarantined store is never deleted: a transferred buffer still shows its memory
      // (and, with pooling, deleting it would hand that memory to the next store).
      if (exposed.release()) {
        if (network.attached) ffi().wasmtime_deno_net_detach(ffi().wasmtime_store_context(p));
        ffi().wasmtime_store_delete(p);
      }
    });
    this.#engine = engine;
    this.#id = id;
    this.#context = ffi().wasmtime_store_context(this.#handle.pointer("new Store"));
    storesById.set(id, new WeakRef(this));
    try {
      this.#configure(options);
    } catch (error) {
      this[Symbol.dispose]();
      throw error;
    }
  }

  #configure(options: StoreOptions): void {
    const engineOptions = this.#engine.options;
    if (engineOptions.epochInterruption) {
      // Deadlines of timed and async calls are decided natively (see native/src/lib.rs); a
      // deadline the user sets still traps with TrapCode.Interrupt.
      this.#epochControl = ffi().wasmtime_deno_epoch_control_install(
        this.#handle.pointer("new Store"),
      );
    }
    if (options.limits) this.#setLimits(options.limits);
    if (options.fuel !== undefined) this.fuel = options.fuel;
    if (options.epochDeadline !== undefined) {
      this.setEpochDeadline(options.epochDeadline);
    } else if (engineOptions.epochInterruption) {
      this.setEpochDeadline(FAR_DEADLINE);
    }
    if (options.wasi !== undefined) {
      const config = wasiBridge.intoNative?.(options.wasi);
      if (config === undefined) {
        throw new WasmtimeError(
          "new Store: options.wasi must be a WasiConfig from @wasmtime-deno/wasmtime/wasi",
        );
      }
      try {
        check(
          ffi().wasmtime_context_set_wasi(this.#context!, config),
          "cannot attach the WASI configuration",
        );
      } catch (error) {
        wasiBridge.attachNetwork?.(options.wasi, null);
        throw error;
      }
      this.#hasWasi = true;
      this.#network.attached = wasiBridge.attachNetwork?.(options.wasi, this.#context!) ?? false;
    }
  }

  #setLimits(limits: StoreLimits): void {
    const value = (key: keyof StoreLimits): bigint => {
      const v = limits[key];
      if (v === undefined) return -1n;
      if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
        const got = typeof v === "number" ? String(v) : `a ${typeof v}`;
        throw new WasmtimeError(`Store limit ${key} must be a non-negative integer, got ${got}`);
      }
      return BigInt(v);
    };
    ffi().wasmtime_store_limiter(
      this.#handle.pointer("limits"),
      value("memorySize"),
      value("tableElements"),
      value("instances"),
      value("tables"),
      value("memories"),
    );
  }

  /** The engine this store was made with. */
  get engine(): Engine {
    return this.#engine;
  }

  /** True once disposed. */
  get disposed(): boolean {
    return this.#context === null;
  }

  /**
   * Remaining fuel; needs `new Engine({ consumeFuel: true })`. Throws above
   * `Number.MAX_SAFE_INTEGER`, where a number would be inexact: use {@linkcode getFuel} then.
   */
  get fuel(): number {
    const fuel = this.getFuel();
    if (fuel > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new WasmtimeError(
        `Store.fuel: the remaining fuel (${fuel}) is above Number.MAX_SAFE_INTEGER and cannot be ` +
          "represented exactly as a number; use store.getFuel() for the exact bigint",
      );
    }
    return Number(fuel);
  }

  /** Sets the remaining fuel. */
  set fuel(fuel: number | bigint) {
    const amount = typeof fuel === "bigint"
      ? fuel
      : Number.isSafeInteger(fuel)
      ? BigInt(fuel)
      : -1n;
    if (amount < 0n || amount > 0xffff_ffff_ffff_ffffn) {
      const got = typeof fuel === "number" || typeof fuel === "bigint"
        ? String(fuel)
        : `a ${typeof fuel}`;
      throw new WasmtimeError(`Store.fuel must be a non-negative integer, got ${got}`);
    }
    const error = ffi().wasmtime_context_set_fuel(contextOf(this, "fuel"), amount);
    if (error !== null) throw this.#fuelError(error);
  }

  /**
   * Remaining fuel as an exact bigint (fuel is a 64-bit count); needs
   * `new Engine({ consumeFuel: true })`.
   *
   * @example
   * ```ts
   * import { Engine, Store } from "@wasmtime-deno/wasmtime";
   * using engine = new Engine({ consumeFuel: true });
   * using store = new Store(engine, { fuel: 2n ** 60n });
   * console.log(store.getFuel()); // 1152921504606846976n
   * ```
   */
  getFuel(): bigint {
    const error = ffi().wasmtime_context_get_fuel(contextOf(this, "fuel"), fuelOut.bytes);
    if (error !== null) throw this.#fuelError(error);
    return fuelOut.takeU64();
  }

  #fuelError(error: Deno.PointerObject): WasmtimeError {
    const message = takeErrorMessage(error);
    return new WasmtimeError(
      `Store.fuel: ${message}; create the engine with new Engine({ consumeFuel: true })`,
    );
  }

  /**
   * Guests trap with `TrapCode.Interrupt` once the engine's epoch advances `ticks` beyond its
   * current value (needs `epochInterruption`).
   */
  setEpochDeadline(ticks: number): void {
    if (!Number.isSafeInteger(ticks) || ticks < 0) {
      throw new WasmtimeError(`setEpochDeadline(ticks): ticks must be a non-negative integer`);
    }
    ffi().wasmtime_context_set_epoch_deadline(contextOf(this, "setEpochDeadline"), BigInt(ticks));
  }

  /**
   * Runs Wasmtime's garbage collector for this store's GC references (externref, structs,
   * arrays). Throws while an async call (`callAsync`, `instantiateAsync`) runs on the store:
   * its guest is suspended on another stack, whose live references the collector cannot see.
   * Call it from a synchronous host function, or after the async call.
   */
  gc(): void {
    const context = contextOf(this, "gc");
    if (this.#asyncCancel !== null) {
      throw new WasmtimeError(
        "Store.gc: an async call is running on this store; its suspended guest holds GC " +
          "references the collector cannot see, so collecting now would free live objects. " +
          "Call gc() after the call has settled.",
      );
    }
    check(ffi().wasmtime_context_gc(context), "Store.gc failed");
  }

  /** Identifier of this store within the process (for diagnostics). */
  get id(): number {
    return this.#id;
  }

  #listInCall(): void {
    if (this.#inCall) return;
    this.#inCall = true;
    storesInCall.push(this);
  }

  #unlistInCall(): void {
    this.#inCall = false;
    // Async calls can end out of order.
    const index = storesInCall.lastIndexOf(this);
    if (index === storesInCall.length - 1) storesInCall.pop();
    else if (index >= 0) storesInCall.splice(index, 1);
  }

  #free(): void {
    if (this.#inCall) this.#unlistInCall();
    for (const view of this.#views) view.detachView();
    this.#views.clear();
    this.#handle.dispose();
  }

  /**
   * Frees the store and everything in it. Objects made in it throw on later use. Disposing
   * while a call into the store is running defers the free until the call returns. Idempotent.
   */
  [Symbol.dispose](): void {
    if (this.#context === null) return;
    this.#context = null;
    if (this.#depth > 0) {
      this.#disposeRequested = true;
      this.#asyncCancel?.();
    } else {
      this.#free();
    }
  }
}
