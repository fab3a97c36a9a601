/**
 * Component resources both ways, with jco's conventions.
 *
 * Guest resources (exported by the component) are JS classes made per instance: an object owns
 * one handle (`own<R>`), passing it as `own<R>` moves it into the guest (the object is dead
 * after the call), passing it as `borrow<R>` lends it for the call. `[Symbol.dispose]` drops
 * the handle, which runs the guest's destructor.
 *
 * Host resources (`ComponentLinker.defineResource`) are JS objects of a class: an object handed
 * to the guest as `own<R>` gets a rep in a per-store table (rep → object); every handle the
 * guest gives back (own or borrow) is that same object; when the guest drops its last own
 * handle, Wasmtime's destructor only queues the rep natively (native/src/component_resource.rs)
 * and the queue is drained after calls, where the object's `[Symbol.dispose]` runs.
 *
 * A handle's JS value depends on the instance or linker a function is compiled for, so the
 * marshalling of `own`/`borrow` (hooked into values.ts) reads the scope of the compilation
 * running ({@linkcode withResourceScope}), and the store and context of the call running
 * ({@linkcode beginResources}).
 *
 * @module
 */
import { Trap, TrapCode, WasmtimeError } from "../errors.ts";
import { enterGuest } from "../core/call.ts";
import { failure, takeError } from "../core/failure.ts";
import { liveContext, type Store, storeFromContext, storeFromId } from "../core/store.ts";
import { ffi } from "../ffi/symbols.ts";
import {
  getAddress,
  pointerAddress,
  pointerAt,
  setAddress,
  staticWord,
} from "../ffi/component_raw.ts";
import { OutCell } from "../ffi/raw.ts";
import { COMPONENT_VAL_OF_OFFSET as OF, WASMTIME_COMPONENT_RESOURCE } from "../ffi/layout.ts";
import {
  camelCase,
  type Lift,
  type Lower,
  resourceMarshal,
  show,
  ValuePathError,
} from "./values.ts";
import type { ComponentResourceType, ComponentValType } from "./types.ts";

// ---- scopes: which JS class or definition a resource type stands for -------------------------

function keyOf(imported: boolean, iface: string | undefined, name: string): string {
  return `${imported ? "import" : "export"}\u0000${iface ?? ""}\u0000${name}`;
}

/** The resources a function is compiled for: an instance's classes, a linker's definitions. */
export interface ResourceScope {
  guest?: ReadonlyMap<string, GuestResource>;
  host?: ReadonlyMap<string, HostResource>;
}

let compiling: ResourceScope | null = null;

/** Runs `compile` (marshalling compiled from types) with the resources of `scope`. */
export function withResourceScope<T>(scope: ResourceScope, compile: () => T): T {
  const outer = compiling;
  compiling = scope;
  try {
    return compile();
  } finally {
    compiling = outer;
  }
}

function codecOf(type: ComponentResourceType): GuestResource | HostResource {
  const key = keyOf(type.imported, type.interface, type.resource);
  const found = type.imported ? compiling?.host?.get(key) : compiling?.guest?.get(key);
  if (found !== undefined) return found;
  const where = type.interface === undefined ? "" : ` of ${type.interface}`;
  throw new WasmtimeError(
    type.imported
      ? `component values: the imported resource ${type.resource}${where} has no JS class: ` +
        "define it with ComponentLinker.defineResource before instantiating"
      : `component values: the resource ${type.resource || "(unnamed)"}${where} is not ` +
        "exported by name, so it has no JS class",
  );
}

resourceMarshal.lower = (type) => {
  const codec = codecOf(type);
  return type.kind === "own" ? codec.lowerOwn : codec.lowerBorrow;
};
resourceMarshal.lift = (type) => {
  const codec = codecOf(type);
  return type.kind === "own" ? codec.liftOwn : codec.liftBorrow;
};

/** Whether values of `type` contain resource handles. */
export function mentionsResource(type: ComponentValType | undefined): boolean {
  if (type === undefined) return false;
  switch (type.kind) {
    case "own":
    case "borrow":
      return true;
    case "list":
      return mentionsResource(type.element);
    case "option":
      return mentionsResource(type.type);
    case "result":
      return mentionsResource(type.ok) || mentionsResource(type.err);
    case "record":
      return type.fields.some((f) => mentionsResource(f.type));
    case "tuple":
      return type.types.some(mentionsResource);
    case "variant":
      return type.cases.some((c) => mentionsResource(c.type));
    default:
      return false;
  }
}

// ---- activations: the call whose values are being lowered or lifted --------------------------

interface Activation {
  store: Store;
  context: Deno.PointerObject;
  /** Guest handles lowered as `own`: dead once the call was made. */
  moved: GuestHandle[];
  /** Handles made for host objects: freed after the call (borrows dropped first). */
  made: Deno.PointerObject[];
  borrows: Deno.PointerObject[];
  /** Host objects registered only to be lent: forgotten after the call unless owned meanwhile. */
  lent: { table: HostTable; rep: number }[];
  /** Guest handles lowered as `borrow`: lent until the call returns. */
  lentGuests: GuestHandle[];
}

let active: Activation | null = null;

/** Starts lowering and lifting the resources of a call into `store`; returns the outer state. */
export function beginResources(store: Store, context: Deno.PointerObject): Activation | null {
  const outer = active;
  active = { store, context, moved: [], made: [], borrows: [], lent: [], lentGuests: [] };
  return outer;
}

/**
 * The same inside a component host function: the store is the one whose context the native
 * trampoline recorded.
 */
export function beginHostResources(): Activation | null {
  const context = ffi().wasmtime_deno_component_current_context();
  const store = context === null ? undefined : storeFromContext(context);
  if (context === null || store === undefined) {
    throw new WasmtimeError("component host function: resources outside a host call");
  }
  return beginResources(store, context);
}

/** Ends the call's resource bookkeeping (`called`: the native call was made). */
export function endResources(outer: Activation | null, called: boolean): void {
  const a = active!;
  active = outer;
  const f = ffi();
  for (const handle of a.lentGuests) handle.lending--;
  for (const handle of a.moved) {
    handle.moving = false;
    if (called) killGuest(handle);
  }
  const context = liveContext(a.store);
  for (const borrow of a.borrows) {
    // A host borrow keeps a slot in the store's handle table until dropped (no guest code runs).
    const error = context === null ? null : f.wasmtime_component_resource_any_drop(context, borrow);
    if (error !== null) f.wasmtime_error_delete(error);
  }
  for (const handle of a.made) f.wasmtime_component_resource_any_delete(handle);
  for (const { table, rep } of a.lent) {
    if (table.reps.get(rep)?.owns === 0) table.forget(rep);
  }
  checkDrops();
}

function current(): Activation {
  if (active === null) {
    throw new WasmtimeError("component values: a resource handle outside a call");
  }
  return active;
}

// ---- guest resources: a JS class per exported resource and instance ---------------------------

interface GuestHandle {
  /** The owned `wasmtime_component_resource_any_t *`; null once dropped, moved or freed. */
  pointer: Deno.PointerObject | null;
  /** Lowered as `own` into a call being made. */
  moving: boolean;
  /**
   * How many calls being made lend it as `borrow` (a call may run inside a host function of
   * another): Wasmtime refuses to move it meanwhile, after lowering had begun.
   */
  lending: number;
  readonly resource: GuestResource;
}

/** Frees the handle memory of resource objects nobody disposed (never the guest's resource). */
const forgotten = new FinalizationRegistry<Deno.PointerObject>((pointer) =>
  ffi().wasmtime_component_resource_any_delete(pointer)
);

/** The handle {@linkcode mint} is giving to the object being constructed. */
let minting: GuestHandle | undefined;

function mint(resource: GuestResource, pointer: Deno.PointerObject): ComponentResource {
  minting = { pointer, moving: false, lending: 0, resource };
  try {
    return Reflect.construct(resource.cls, []) as ComponentResource;
  } finally {
    minting = undefined;
  }
}

let handleOf: (value: ComponentResource) => GuestHandle;

function killGuest(handle: GuestHandle): void {
  const pointer = handle.pointer;
  if (pointer === null) return;
  handle.pointer = null;
  forgotten.unregister(handle);
  ffi().wasmtime_component_resource_any_delete(pointer);
}

/**
 * A resource exported by a component instance, as a JS object that owns one handle to it.
 * Each exported resource is a subclass named in UpperCamelCase (`counter` → `Counter`) found
 * in `instance.exports` beside the interface's functions, as jco names them: `new Counter(5)`
 * calls `[constructor]counter`, `c.getValue()` calls `[method]counter.get-value`, and
 * `Counter.make()` calls `[static]counter.make`; functions returning `own<counter>` return
 * `Counter` objects.
 *
 * Passing an object as `own<counter>` moves the handle into the guest: the object is dead
 * afterwards, as after `[Symbol.dispose]()`. Passing it as `borrow<counter>` lends it for the
 * call. Using a dead object throws a TypeError. An object that is garbage collected without
 * being disposed frees its handle's memory only: the guest is never re-entered from a
 * finalizer, so the guest-side resource (and its destructor) stays in the store until the
 * store is disposed. Once the store is disposed every object is dead.
 *
 * @example
 * ```ts
 * import { Component, ComponentLinker, Engine, Store } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine();
 * using component = new Component(engine, `(component
 *   (type $r (resource (rep i32)))
 *   (export $c "cell" (type $r))
 *   (core func $new (canon resource.new $c))
 *   (core module $m
 *     (import "" "new" (func $new (param i32) (result i32)))
 *     (func (export "ctor") (param i32) (result i32) local.get 0 call $new)
 *     (func (export "get") (param i32) (result i32) local.get 0))
 *   (core instance $i (instantiate $m (with "" (instance (export "new" (func $new))))))
 *   (func (export "[constructor]cell") (param "v" s32) (result (own $c))
 *     (canon lift (core func $i "ctor")))
 *   (func (export "[method]cell.get") (param "self" (borrow $c)) (result s32)
 *     (canon lift (core func $i "get"))))`);
 * using linker = new ComponentLinker(engine);
 * using store = new Store(engine);
 * const { Cell } = linker.instantiate(store, component).exports;
 * using cell = new Cell(42);
 * console.log(cell.get()); // 42
 * ```
 */
export class ComponentResource {
  readonly #handle: GuestHandle;

  static {
    handleOf = (value) => value.#handle;
  }

  /** Not public: objects are made by calling the subclass an instance exports. */
  constructor() {
    const handle = minting;
    minting = undefined;
    if (handle === undefined) {
      throw new WasmtimeError(
        "ComponentResource has no public constructor: use the class an instance exports " +
          "(instance.exports[iface].Counter)",
      );
    }
    this.#handle = handle;
    forgotten.register(this, handle.pointer!, handle);
  }

  /** True once the handle was dropped, moved into the guest, or its store disposed. */
  get disposed(): boolean {
    const handle = this.#handle;
    return handle.pointer === null || liveContext(handle.resource.store) === null;
  }

  /**
   * Drops the handle: the guest's destructor runs (a `Trap` it raises is thrown). Idempotent;
   * after the store was disposed, or once the instance trapped (it can never run again), it
   * only frees the handle's memory.
   */
  [Symbol.dispose](): void {
    const handle = this.#handle;
    const pointer = handle.pointer;
    if (pointer === null) return;
    if (handle.moving || handle.lending > 0) {
      throw new TypeError(
        `${handle.resource.className}[Symbol.dispose]: the handle is being ` +
          `${handle.moving ? "moved into" : "lent to"} a call; dispose it after the call returned`,
      );
    }
    handle.pointer = null;
    forgotten.unregister(handle);
    const store = handle.resource.store;
    const context = liveContext(store);
    try {
      if (context === null) return;
      const f = ffi();
      const error = enterGuest(
        store,
        () => f.wasmtime_component_resource_any_drop(context, pointer),
      );
      if (error === null) return;
      const thrown = failure(error, null, `${handle.resource.className}[Symbol.dispose] failed`);
      // An instance that trapped can never run again, its destructors included: its resources
      // go with the store, and `using` blocks after such a trap should not fail again.
      if (thrown instanceof Trap && thrown.code === TrapCode.CannotEnterComponent) return;
      throw thrown;
    } finally {
      ffi().wasmtime_component_resource_any_delete(pointer);
      checkDrops();
    }
  }
}

/** jco's UpperCamelCase class name of a resource: `http-request` → `HttpRequest`. */
export function className(name: string): string {
  const camel = camelCase(name);
  return camel.charAt(0).toUpperCase() + camel.slice(1);
}

type PlainFunction = (...args: unknown[]) => unknown;

/** An exported resource of one instance: its class and the marshalling of its handles. */
export class GuestResource {
  readonly store: Store;
  readonly name: string;
  readonly className: string;
  readonly key: string;
  // deno-lint-ignore no-explicit-any
  readonly cls: new (...args: any[]) => ComponentResource;
  #make: PlainFunction | undefined;

  constructor(store: Store, name: string, iface: string | undefined) {
    this.store = store;
    this.name = name;
    this.className = className(name);
    this.key = keyOf(false, iface, name);
    // The class's constructor needs this resource's private constructor function.
    // deno-lint-ignore no-this-alias
    const resource = this;
    const holder = {
      [this.className]: class extends ComponentResource {
        constructor(...args: unknown[]) {
          if (minting !== undefined) {
            super();
            return;
          }
          const make = resource.#make;
          if (make === undefined) {
            throw new TypeError(
              `${resource.className} has no constructor: the component exports no ` +
                `[constructor]${name}`,
            );
          }
          return make(...args) as ComponentResource;
        }
      },
    };
    this.cls = holder[this.className];
  }

  /** Attaches the exported function `[constructor]R`, `[method]R.m` or `[static]R.s`. */
  attach(kind: "constructor" | "method" | "static", member: string, fn: PlainFunction): void {
    if (kind === "constructor") {
      this.#make = fn;
      return;
    }
    const key = camelCase(member);
    if (kind === "static") {
      Object.defineProperty(this.cls, key, { value: fn, configurable: true, writable: true });
      return;
    }
    const method = fn.length === 1
      ? function (this: ComponentResource) {
        if (arguments.length !== 0) return fn(this, ...arguments);
        return fn(this);
      }
      : fn.length === 2
      ? function (this: ComponentResource, a: unknown) {
        if (arguments.length !== 1) return fn(this, ...arguments);
        return fn(this, a);
      }
      : function (this: ComponentResource, ...args: unknown[]) {
        return fn(this, ...args);
      };
    Object.defineProperty(this.cls.prototype, key, {
      value: method,
      configurable: true,
      writable: true,
    });
  }

  #handleOf(value: unknown, kind: string): GuestHandle {
    const handle = value instanceof ComponentResource ? handleOf(value) : undefined;
    if (handle === undefined || handle.resource !== this) {
      const got = value instanceof ComponentResource
        ? `a ${value.constructor.name} of another type, instance or store`
        : show(value);
      throw new ValuePathError(
        `expected ${kind}<${this.name}> (a ${this.className} of this instance), got ${got}`,
      );
    }
    if (handle.pointer === null || liveContext(this.store) === null) {
      throw new ValuePathError(
        `expected ${kind}<${this.name}>, got a dead ${this.className} (disposed, moved by an ` +
          "own argument, or its store disposed)",
      );
    }
    return handle;
  }

  readonly lowerOwn: Lower = (v, _arena, view, o) => {
    const handle = this.#handleOf(v, "own");
    if (handle.moving) {
      throw new ValuePathError(`own<${this.name}>: the same ${this.className} is moved twice`);
    }
    // Refused here, before the call: Wasmtime would refuse it after moving the arguments
    // before it, and the object would look moved while its handle stayed with the host.
    if (handle.lending > 0) {
      throw new ValuePathError(
        `own<${this.name}>: the ${this.className} is lent as borrow to a call being made; ` +
          "it can be moved once that call returned",
      );
    }
    const a = current();
    handle.moving = true;
    a.moved.push(handle);
    view.setUint8(o, WASMTIME_COMPONENT_RESOURCE);
    setAddress(view, o + OF, pointerAddress(handle.pointer));
  };

  readonly lowerBorrow: Lower = (v, _arena, view, o) => {
    const handle = this.#handleOf(v, "borrow");
    if (handle.moving) {
      throw new ValuePathError(
        `borrow<${this.name}>: the same ${this.className} is moved by an own argument of this call`,
      );
    }
    handle.lending++;
    current().lentGuests.push(handle);
    view.setUint8(o, WASMTIME_COMPONENT_RESOURCE);
    setAddress(view, o + OF, pointerAddress(handle.pointer));
  };

  readonly liftOwn: Lift = (view, o) => {
    const pointer = pointerAt(getAddress(view, o + OF));
    return mint(this, ffi().wasmtime_component_resource_any_clone(pointer)!);
  };

  readonly liftBorrow: Lift = () => {
    // Only imports take borrows from the guest, and imported resources are host resources.
    throw new WasmtimeError(`component values: borrow<${this.name}> of an exported resource`);
  };
}

// ---- host resources: JS classes the guest imports ----------------------------------------------

/** The owner of this realm's queue of dropped host resources. */
const RESOURCE_OWNER: bigint = crypto.getRandomValues(new BigUint64Array(1))[0];

let nextType = 1;
let nextRep = 1;

interface HostEntry {
  object: object;
  resource: HostResource;
  /** Own handles the guest holds. */
  owns: number;
}

/** One store's host objects known to the guest, by rep. */
class HostTable {
  readonly reps = new Map<number, HostEntry>();
  readonly #objects = new Map<HostResource, Map<object, number>>();

  /** The rep of `object` in this store (made if new), counting an own handle if `own`. */
  register(resource: HostResource, object: object, own: boolean): number {
    let objects = this.#objects.get(resource);
    if (objects === undefined) this.#objects.set(resource, objects = new Map());
    let rep = objects.get(object);
    if (rep === undefined) {
      do {
        rep = nextRep;
        nextRep = nextRep >= 0xffff_ffff ? 1 : nextRep + 1;
      } while (this.reps.has(rep));
      objects.set(object, rep);
      this.reps.set(rep, { object, resource, owns: 0 });
    }
    if (own) this.reps.get(rep)!.owns++;
    return rep;
  }

  forget(rep: number): HostEntry | undefined {
    const entry = this.reps.get(rep);
    if (entry === undefined) return undefined;
    this.reps.delete(rep);
    this.#objects.get(entry.resource)?.delete(entry.object);
    return entry;
  }
}

const tables = new WeakMap<Store, HostTable>();

function tableOf(store: Store): HostTable {
  let table = tables.get(store);
  if (table === undefined) tables.set(store, table = new HostTable());
  return table;
}

const handleOut = new OutCell();

/** A class whose objects a host resource stands for (any constructor). */
export type ResourceClass = new (...args: never[]) => object;

/** A resource type defined by a linker from a JS class. */
export class HostResource {
  readonly name: string;
  readonly key: string;
  readonly typeId: number;
  readonly cls: ResourceClass;

  constructor(iface: string | undefined, name: string, cls: ResourceClass) {
    this.name = name;
    this.key = keyOf(true, iface, name);
    this.typeId = nextType++;
    this.cls = cls;
  }

  /** A new `wasmtime_component_resource_type_t *` of this resource (the caller frees it). */
  nativeType(): Deno.PointerObject {
    return ffi().wasmtime_component_resource_type_new_host(this.typeId)!;
  }

  /** The destructor's data (freed by Wasmtime with the resource definition). */
  destructorData(): Deno.PointerObject {
    return ffi().wasmtime_deno_component_resource_data_new(RESOURCE_OWNER, this.typeId)!;
  }

  #object(v: unknown, kind: string): object {
    if (!(v instanceof this.cls)) {
      throw new ValuePathError(
        `expected ${kind}<${this.name}> (a ${this.cls.name}), got ${show(v)}`,
      );
    }
    return v;
  }

  #handle(a: Activation, owned: boolean, rep: number): Deno.PointerObject {
    const f = ffi();
    const host = f.wasmtime_component_resource_host_new(owned, rep, this.typeId)!;
    try {
      const error = f.wasmtime_component_resource_host_to_any(a.context, host, handleOut.cleared());
      if (error !== null) {
        throw takeError(error, `${this.name}: cannot hand the object to the guest`);
      }
      const handle = handleOut.takePointer()!;
      a.made.push(handle);
      return handle;
    } finally {
      f.wasmtime_component_resource_host_delete(host);
    }
  }

  readonly lowerOwn: Lower = (v, _arena, view, o) => {
    const object = this.#object(v, "own");
    const a = current();
    const rep = tableOf(a.store).register(this, object, true);
    view.setUint8(o, WASMTIME_COMPONENT_RESOURCE);
    setAddress(view, o + OF, pointerAddress(this.#handle(a, true, rep)));
  };

  readonly lowerBorrow: Lower = (v, _arena, view, o) => {
    const object = this.#object(v, "borrow");
    const a = current();
    const table = tableOf(a.store);
    const rep = table.register(this, object, false);
    a.lent.push({ table, rep });
    // Lent through an own handle made for the call (a host borrow needs a host call's scope;
    // a handle made here has no destructor, so dropping it after the call only frees its slot).
    const handle = this.#handle(a, true, rep);
    a.borrows.push(handle);
    view.setUint8(o, WASMTIME_COMPONENT_RESOURCE);
    setAddress(view, o + OF, pointerAddress(handle));
  };

  #lift(view: DataView, o: number, own: boolean): object {
    const a = current();
    const f = ffi();
    const error = f.wasmtime_component_resource_any_to_host(
      a.context,
      pointerAt(getAddress(view, o + OF)),
      handleOut.cleared(),
    );
    if (error !== null) throw takeError(error, `${this.name}: cannot take the guest's handle`);
    const host = handleOut.takePointer()!;
    const rep = f.wasmtime_component_resource_host_rep(host);
    f.wasmtime_component_resource_host_delete(host);
    const table = tableOf(a.store);
    const entry = table.reps.get(rep);
    if (entry === undefined || entry.resource !== this) {
      throw new WasmtimeError(`${this.name}: the guest passed a handle this store does not know`);
    }
    // The guest gave an own handle back: it holds one fewer.
    if (own && --entry.owns <= 0) table.forget(rep);
    return entry.object;
  }

  readonly liftOwn: Lift = (view, o) => this.#lift(view, o, true);
  readonly liftBorrow: Lift = (view, o) => this.#lift(view, o, false);

  /**
   * The JS function for the import `[constructor]R`, `[method]R.m` or `[static]R.s` of this
   * resource (jco's mapping onto the class), or undefined for another name.
   */
  functionFor(importName: string): ((...args: unknown[]) => unknown) | undefined {
    const cls = this.cls as unknown as Record<string, unknown> & (new (...a: unknown[]) => object);
    const display = this.cls.name || className(this.name);
    if (importName === `[constructor]${this.name}`) {
      return (...args) => Reflect.construct(cls, args);
    }
    const method = importName.startsWith(`[method]${this.name}.`)
      ? camelCase(importName.slice(`[method]${this.name}.`.length))
      : undefined;
    if (method !== undefined) {
      return function (self: unknown, ...args: unknown[]) {
        const fn = (self as Record<string, unknown>)[method];
        if (typeof fn !== "function") {
          throw new WasmtimeError(`${display} has no method ${method} (for ${importName})`);
        }
        return fn.apply(self, args);
      };
    }
    const member = importName.startsWith(`[static]${this.name}.`)
      ? camelCase(importName.slice(`[static]${this.name}.`.length))
      : undefined;
    if (member !== undefined) {
      return (...args) => {
        const fn = cls[member];
        if (typeof fn !== "function") {
          throw new WasmtimeError(`${display} has no static method ${member} (for ${importName})`);
        }
        return fn.apply(cls, args);
      };
    }
    return undefined;
  }
}

// ---- drained drops ---------------------------------------------------------------------------

const DROP_BATCH = 64;
const dropBuffer = new BigUint64Array(DROP_BATCH * 3);
/** The native drop counter once a host resource exists (until then a word that stays 0). */
let dropWord: Uint32Array = new Uint32Array(1);
let seenDrops = 0;

let watching = false;

/** Starts watching the native drop counter (once a host resource type exists). */
export function watchDrops(): void {
  if (watching) return;
  watching = true;
  dropWord = staticWord(ffi().wasmtime_deno_component_resource_drops()!);
  seenDrops = dropWord[0];
}

/** Drains the queue of host resources the guest dropped, if anything was queued. */
export function checkDrops(): void {
  if (dropWord[0] !== seenDrops) drainDrops();
}

/** A drain is running: a dispose that calls into a guest leaves its drops to it (one buffer). */
let draining = false;

function drainDrops(): void {
  if (draining) return;
  draining = true;
  try {
    drainAll();
  } finally {
    draining = false;
  }
}

function drainAll(): void {
  const f = ffi();
  let count: number;
  do {
    seenDrops = dropWord[0];
    count = Number(
      f.wasmtime_deno_component_resource_take_dropped(
        RESOURCE_OWNER,
        dropBuffer,
        BigInt(DROP_BATCH),
      ),
    );
    for (let i = 0; i < count; i++) {
      const store = storeFromId(Number(dropBuffer[i * 3]));
      const table = store === undefined ? undefined : tables.get(store);
      const rep = Number(dropBuffer[i * 3 + 2]);
      const entry = table?.reps.get(rep);
      if (table === undefined || entry === undefined || --entry.owns > 0) continue;
      table.forget(rep);
      const dispose = (entry.object as { [Symbol.dispose]?: unknown })[Symbol.dispose];
      if (typeof dispose !== "function") continue;
      try {
        dispose.call(entry.object);
      } catch (error) {
        // No caller to throw to: the drop happened in the guest, maybe calls ago.
        reportError(error);
      }
    }
    // Again while the batch was full, or a dispose may have made the guest drop more meanwhile
    // (the counter is shared with other realms: an empty take ends it).
  } while (count === DROP_BATCH || (count > 0 && dropWord[0] !== seenDrops));
}
