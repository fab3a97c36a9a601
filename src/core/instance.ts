/**
 * Instances: a module instantiated in a store, and access to its exports.
 *
 * @module
 */
import { copyBytes, decodeUtf8, OutCell, utf8 } from "../ffi/raw.ts";
import { WasmtimeError } from "../errors.ts";
import { type Extern, externFromStruct, externToStruct } from "./extern.ts";
import { ffi } from "../ffi/symbols.ts";
import { runGuest } from "./call.ts";
import { type ExportFunction, exportFunction, Func } from "./func.ts";
import { type Imports, resolveImports } from "./imports.ts";
import { Global } from "./global.ts";
import { EXTERN_SIZE, INSTANCE_SIZE } from "../ffi/layout.ts";
import { Memory } from "./memory.ts";
import { type Module, modulePointer } from "./module.ts";
import { fromRaw, takeRaw } from "../internal.ts";
import { contextOf, type Store, type StructFields } from "./store.ts";
import { Table } from "./table.ts";
import { Tag } from "./tag.ts";

/** Internal: wraps a `wasmtime_instance_t` of `store` made from `module`. */
export let instanceFromStruct: (
  store: Store,
  struct: Uint8Array<ArrayBuffer>,
  module: Module,
) => Instance;
/** Internal: the `wasmtime_instance_t` bytes of an Instance. */
export let instanceStruct: (instance: Instance) => Uint8Array<ArrayBuffer>;

/**
 * A value of `instance.exports`: a function (callable like any JS function) or the exported
 * Memory, Table, Global or Tag.
 *
 * @example
 * ```ts
 * import { type ExportValue, Memory } from "@wasmtime-deno/wasmtime";
 * function memoryOf(value: ExportValue): Memory | undefined {
 *   return value instanceof Memory ? value : undefined;
 * }
 * ```
 */
export type ExportValue = ExportFunction | Memory | Table | Global | Tag;

/**
 * The exports of an instance by name, as `instance.exports` gives them (the default shape;
 * name your own with `new Instance<{ add(a: number, b: number): number }>(...)`).
 *
 * @example
 * ```ts
 * import type { Exports } from "@wasmtime-deno/wasmtime";
 * function exportNames(exports: Exports): string[] {
 *   return Object.keys(exports);
 * }
 * ```
 */
export type Exports = { readonly [name: string]: ExportValue };

/** Internal: the names of an instance's exports (as the keys of `exports`), cheaply. */
export let exportNames: (instance: Instance) => string[];

/**
 * An instantiated module. Its exports are live objects of its store.
 *
 * `instance.exports` is V8's shape: functions are plain JS functions, memories, tables and
 * globals the Memory, Table and Global objects. Its TypeScript type is {@linkcode Exports}
 * unless you name the exports: `new Instance<{ add(a: number, b: number): number }>(...)`
 * (`linker.instantiate<E>(...)` likewise). That name is a claim the compiler cannot check
 * against the module; every call still checks its arguments, so a wrong claim throws a
 * {@linkcode WasmtimeError}, never a wrong value.
 *
 * @example
 * ```ts
 * import { Engine, Instance, Memory, Module, Store } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine();
 * using store = new Store(engine);
 * using module = new Module(engine, `(module
 *   (import "env" "log" (func $log (param i32)))
 *   (memory (export "memory") 1)
 *   (func (export "add") (param i32 i32) (result i32)
 *     (call $log (local.get 0))
 *     (i32.add (local.get 0) (local.get 1))))`);
 * const instance = new Instance<{ add(a: number, b: number): number; memory: Memory }>(
 *   store,
 *   module,
 *   { env: { log: (x: number) => console.log("log", x) } },
 * );
 * console.log(instance.exports.add(40, 2)); // log 40, then 42
 * console.log(instance.exports.memory.byteLength); // 65536
 * ```
 */
export class Instance<E extends { readonly [K in keyof E]: ExportValue } = Exports> {
  readonly #store: Store;
  readonly #struct: Uint8Array<ArrayBuffer>;
  /** For its export names: Wasmtime finds the nth export in O(n), an export by name in O(1). */
  readonly #module: Module;
  #externs: Map<string, Extern> | undefined;
  #exports: E | undefined;

  static {
    instanceFromStruct = (store, struct, module) => fromRaw(Instance, { store, struct, module });
    instanceStruct = (instance) => instance.#struct;
    exportNames = (instance) => [...instance.#externList().keys()];
  }

  /**
   * Instantiates `module` in `store` and runs its start function (a {@linkcode Trap} if it
   * traps). `imports` is V8's imports object, `{ module: { field: value } }`: a JS function
   * becomes a host function with the type the module declares for it (called with the wasm
   * arguments only; a throw traps the guest and the error is rethrown from the call), and
   * Func, Memory, Table, Global and functions of another instance's `exports` are used as
   * they are; a number or bigint stands for an immutable numeric global. Only own properties
   * are read; entries the module does not import are ignored. A missing import or a value of
   * the wrong kind is a {@linkcode LinkError} naming it (one whose type does not fit, a
   * {@linkcode WasmtimeError} from Wasmtime naming `module::field`). `imports` may also be an array of
   * externs in the order of `module.imports` (the explicit form).
   */
  constructor(store: Store, module: Module, imports?: Imports | readonly Extern[]) {
    const raw = takeRaw<StructFields & { module: Module }>();
    if (raw !== undefined) {
      this.#store = raw.store;
      this.#struct = raw.struct;
      this.#module = raw.module;
      return;
    }
    this.#store = store;
    this.#module = module;
    const context = contextOf(store, "new Instance");
    const expected = module.imports;
    const externs = Array.isArray(imports)
      ? imports
      : resolveImports(store, module, imports as Imports | undefined, "new Instance");
    if (externs.length !== expected.length) {
      const list = expected.map((i) => `${i.module}.${i.name} (${i.type.kind})`).join(", ");
      throw new WasmtimeError(
        `new Instance: the module needs ${expected.length} import(s)${
          list ? `: ${list}` : ""
        }; got ${externs.length}. Pass an imports object ({ module: { field: value } }) or ` +
          "use a Linker to resolve imports by name.",
      );
    }
    const items = new Uint8Array(Math.max(1, externs.length) * EXTERN_SIZE);
    externs.forEach((item, i) => {
      const what = `import ${i} (${expected[i].module}.${expected[i].name})`;
      items.set(externToStruct(item, store, what), i * EXTERN_SIZE);
    });
    this.#struct = new Uint8Array(INSTANCE_SIZE);
    const native = modulePointer(module, "new Instance");
    runGuest(store, "new Instance", (trap) =>
      ffi().wasmtime_instance_new(
        context,
        native,
        items,
        BigInt(externs.length),
        this.#struct,
        trap,
      ));
  }

  /** The store this instance belongs to. */
  get store(): Store {
    return this.#store;
  }

  /** The export called `name` (the same object on every call), or undefined. */
  getExport(name: string): Extern | undefined {
    contextOf(this.#store, "Instance.getExport");
    // The same object every time (as V8's exports): the instance keeps it, so a buffer taken
    // from `getExport("memory").buffer` lives as long as the instance, not as a temporary.
    return this.#externList().get(name);
  }

  #typed<T>(
    name: string,
    kind: abstract new (...args: never[]) => T,
    label: string,
  ): T | undefined {
    const item = this.getExport(name);
    if (item === undefined) return undefined;
    if (!(item instanceof kind)) {
      throw new WasmtimeError(
        `Instance.get${label}: export ${JSON.stringify(name)} is a ${item.constructor.name}, ` +
          `not a ${label}`,
      );
    }
    return item;
  }

  /** The exported function `name`, or undefined. */
  getFunc(name: string): Func | undefined {
    return this.#typed(name, Func, "Func");
  }

  /** The exported memory `name`, or undefined. */
  getMemory(name: string): Memory | undefined {
    return this.#typed(name, Memory, "Memory");
  }

  /** The exported table `name`, or undefined. */
  getTable(name: string): Table | undefined {
    return this.#typed(name, Table, "Table");
  }

  /** The exported global `name`, or undefined. */
  getGlobal(name: string): Global | undefined {
    return this.#typed(name, Global, "Global");
  }

  /** The exported exception tag `name`, or undefined. */
  getTag(name: string): Tag | undefined {
    return this.#typed(name, Tag, "Tag");
  }

  /** The instance's externs by export name, read once. */
  #externList(): Map<string, Extern> {
    if (this.#externs !== undefined) return this.#externs;
    const context = contextOf(this.#store, "Instance.exports");
    const externs = new Map<string, Extern>();
    let names: string[] | undefined;
    try {
      names = this.#module.exports.map((item) => item.name);
    } catch {
      // The module was disposed before its exports were read: enumerate them (O(n²)).
    }
    const item = new Uint8Array(EXTERN_SIZE);
    if (names !== undefined) {
      for (const name of names) {
        const bytes = utf8(name);
        if (
          ffi().wasmtime_instance_export_get(
            context,
            this.#struct,
            bytes,
            BigInt(bytes.length),
            item,
          )
        ) {
          const value = externFromStruct(this.#store, item.slice());
          if (value !== undefined) externs.set(name, value);
        }
      }
    } else {
      const namePointer = new OutCell();
      const nameLength = new OutCell();
      for (let i = 0;; i++) {
        const found = ffi().wasmtime_instance_export_nth(
          context,
          this.#struct,
          BigInt(i),
          namePointer.bytes,
          nameLength.bytes,
          item,
        );
        if (!found) break;
        const name = copyBytes(Number(nameLength.takeU64()), namePointer.takePointer());
        const value = externFromStruct(this.#store, item.slice());
        if (value !== undefined) externs.set(decodeUtf8(name), value);
      }
    }
    this.#externs = externs;
    return externs;
  }

  /**
   * The exports by name, made once per instance: a frozen object without prototype, as V8's.
   * Functions are plain JS functions on the fastest path for their type (the one of
   * {@linkcode Func.typed}; arguments and results as for {@linkcode Func.call}); memories,
   * tables and globals are Memory, Table and Global objects. In stores that accept only async
   * calls (async host functions), a function throws: call `instance.getFunc(name)!.callAsync()`.
   * After the store is disposed, a function throws a {@linkcode WasmtimeError}.
   */
  get exports(): Readonly<E> {
    if (this.#exports === undefined) {
      const exports = Object.create(null);
      for (const [name, item] of this.#externList()) {
        exports[name] = item instanceof Func ? exportFunction(item, name) : item;
      }
      this.#exports = Object.freeze(exports);
    }
    return this.#exports!;
  }
}
