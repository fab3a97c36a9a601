/**
 * Tables of references (funcref, externref).
 *
 * @module
 */
import { WasmtimeError } from "../errors.ts";
import { check } from "./failure.ts";
import { ffi } from "../ffi/symbols.ts";
import { OutCell } from "../ffi/raw.ts";
import { TABLE_SIZE, VAL_SIZE } from "../ffi/layout.ts";
import { fromRaw, takeRaw } from "../internal.ts";
import { contextOf, type Store, type StructFields } from "./store.ts";
import { newTableType, readTableType, type TableType } from "./types.ts";
import { readVal, withVal } from "./values.ts";

/** The previous-size out-parameter of `wasmtime_table_grow` (no guest code runs). */
const previousOut = new OutCell();

/** Internal: wraps a `wasmtime_table_t` of `store`. */
export let tableFromStruct: (store: Store, struct: Uint8Array<ArrayBuffer>) => Table;
/** Internal: the `wasmtime_table_t` bytes of a Table. */
export let tableStruct: (table: Table) => Uint8Array<ArrayBuffer>;

function index(value: number, action: string): bigint {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new WasmtimeError(`Table.${action}: ${value} is not a valid index`);
  }
  return BigInt(value);
}

/**
 * A WebAssembly table: a growable array of references.
 *
 * @example
 * ```ts
 * import { Engine, Store, Table } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine();
 * using store = new Store(engine);
 * const table = new Table(store, { element: "externref", minimum: 2 }, null);
 * table.set(0, { any: "js value" });
 * console.log(table.get(0), table.size); // { any: "js value" } 2
 * ```
 */
export class Table {
  readonly #store: Store;
  readonly #struct: Uint8Array<ArrayBuffer>;
  #element: TableType["element"] | undefined;

  static {
    tableFromStruct = (store, struct) => fromRaw(Table, { store, struct });
    tableStruct = (table) => table.#struct;
  }

  /** Creates a table of `type` in `store`, every element set to `init` (default null). */
  constructor(store: Store, type: TableType, init: unknown = null) {
    const raw = takeRaw<StructFields>();
    if (raw !== undefined) {
      this.#store = raw.store;
      this.#struct = raw.struct;
      return;
    }
    this.#store = store;
    const context = contextOf(store, "new Table");
    const nativeType = newTableType(type, store.engine);
    this.#struct = new Uint8Array(TABLE_SIZE);
    try {
      withVal(
        type.element,
        init,
        store,
        context,
        "new Table initial value",
        (val) =>
          check(ffi().wasmtime_table_new(context, nativeType, val, this.#struct), "new Table"),
      );
    } finally {
      ffi().wasm_tabletype_delete(nativeType);
    }
    this.#element = type.element;
  }

  /** The store this table belongs to. */
  get store(): Store {
    return this.#store;
  }

  /** The table's type. */
  get type(): TableType {
    const context = contextOf(this.#store, "Table.type");
    const native = ffi().wasmtime_table_type(context, this.#struct)!;
    try {
      return readTableType(native, (limits) => {
        ffi().wasmtime_deno_table_limits(context, this.#struct, limits);
      }, this.#store.engine);
    } finally {
      ffi().wasm_tabletype_delete(native);
    }
  }

  #elementType(): TableType["element"] {
    return this.#element ??= this.type.element;
  }

  /** Current number of elements. */
  get size(): number {
    return Number(ffi().wasmtime_table_size(contextOf(this.#store, "Table.size"), this.#struct));
  }

  /** The element at `i` (a Func or null for funcref tables, a JS value for externref). */
  get(i: number): unknown {
    const context = contextOf(this.#store, "Table.get");
    const val = new Uint8Array(VAL_SIZE);
    if (!ffi().wasmtime_table_get(context, this.#struct, index(i, "get"), val)) {
      throw new WasmtimeError(`Table.get: index ${i} is out of bounds (size ${this.size})`);
    }
    return readVal(val, this.#store, context);
  }

  /** Sets the element at `i`. */
  set(i: number, value: unknown): void {
    const context = contextOf(this.#store, "Table.set");
    withVal(
      this.#elementType(),
      value,
      this.#store,
      context,
      "Table.set",
      (val) =>
        check(ffi().wasmtime_table_set(context, this.#struct, index(i, "set"), val), "Table.set"),
    );
  }

  /** Grows by `delta` elements set to `init`; returns the previous size. */
  grow(delta: number, init: unknown = null): number {
    const context = contextOf(this.#store, "Table.grow");
    withVal(this.#elementType(), init, this.#store, context, "Table.grow", (val) =>
      check(
        ffi().wasmtime_table_grow(
          context,
          this.#struct,
          index(delta, "grow"),
          val,
          previousOut.bytes,
        ),
        "Table.grow",
      ));
    return Number(previousOut.takeU64());
  }
}
