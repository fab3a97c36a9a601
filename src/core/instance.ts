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
import { Func } from "./func.ts";
import { Global } from "./global.ts";
import { EXTERN_SIZE, INSTANCE_SIZE } from "../ffi/layout.ts";
import { Memory } from "./memory.ts";
import { type Module, modulePointer } from "./module.ts";
import { fromRaw, takeRaw } from "../internal.ts";
import { contextOf, type Store, type StructFields } from "./store.ts";
import { Table } from "./table.ts";

/** Internal: wraps a `wasmtime_instance_t` of `store`. */
export let instanceFromStruct: (store: Store, struct: Uint8Array<ArrayBuffer>) => Instance;
/** Internal: the `wasmtime_instance_t` bytes of an Instance. */
export let instanceStruct: (instance: Instance) => Uint8Array<ArrayBuffer>;

/**
 * An instantiated module. Its exports are live objects of its store.
 *
 * @example
 * ```ts
 * import { Engine, Instance, Module, Store } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine();
 * using store = new Store(engine);
 * using module = new Module(engine, `(module (global (export "answer") i32 (i32.const 42)))`);
 * const instance = new Instance(store, module, []);
 * console.log(instance.getGlobal("answer")!.value); // 42
 * ```
 */
export class Instance {
  readonly #store: Store;
  readonly #struct: Uint8Array<ArrayBuffer>;
  #exports: Record<string, Extern> | undefined;

  static {
    instanceFromStruct = (store, struct) => fromRaw(Instance, { store, struct });
    instanceStruct = (instance) => instance.#struct;
  }

  /**
   * Instantiates `module` in `store` with `imports` given in the order of `module.imports`.
   * Runs the start function; throws a {@linkcode Trap} if it traps.
   */
  constructor(store: Store, module: Module, imports: readonly Extern[] = []) {
    const raw = takeRaw<StructFields>();
    if (raw !== undefined) {
      this.#store = raw.store;
      this.#struct = raw.struct;
      return;
    }
    this.#store = store;
    const context = contextOf(store, "new Instance");
    const expected = module.imports;
    if (!Array.isArray(imports) || imports.length !== expected.length) {
      const list = expected.map((i) => `${i.module}.${i.name} (${i.type.kind})`).join(", ");
      throw new WasmtimeError(
        `new Instance: the module needs ${expected.length} import(s)${
          list ? `: ${list}` : ""
        }; got ${Array.isArray(imports) ? imports.length : String(imports)}. ` +
          "Use a Linker to resolve imports by name.",
      );
    }
    const items = new Uint8Array(Math.max(1, imports.length) * EXTERN_SIZE);
    imports.forEach((item, i) => {
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
        BigInt(imports.length),
        this.#struct,
        trap,
      ));
  }

  /** The store this instance belongs to. */
  get store(): Store {
    return this.#store;
  }

  /** The export called `name`, or undefined. */
  getExport(name: string): Extern | undefined {
    const context = contextOf(this.#store, "Instance.getExport");
    const bytes = utf8(name);
    const item = new Uint8Array(EXTERN_SIZE);
    if (
      !ffi().wasmtime_instance_export_get(context, this.#struct, bytes, BigInt(bytes.length), item)
    ) {
      return undefined;
    }
    return externFromStruct(this.#store, item);
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

  /** All exports by name. */
  get exports(): Record<string, Extern> {
    if (this.#exports === undefined) {
      const context = contextOf(this.#store, "Instance.exports");
      const exports: Record<string, Extern> = {};
      const namePointer = new OutCell();
      const nameLength = new OutCell();
      const item = new Uint8Array(EXTERN_SIZE);
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
        if (value !== undefined) exports[decodeUtf8(name)] = value;
      }
      this.#exports = exports;
    }
    return this.#exports;
  }
}
