/**
 * Imports objects: a module's imports given as V8 takes them, `{ module: { field: value } }`,
 * resolved against the module's own import types, so a JS function needs no FuncType. The one
 * place this resolution happens: `new Instance` uses {@linkcode resolveImports}, linkers (and
 * runWasi) {@linkcode defineImports}.
 *
 * @module
 */
import { LinkError, WasmtimeError } from "../errors.ts";
import type { Extern } from "./extern.ts";
import { Func, funcOfExport, plainHostFunc } from "./func.ts";
import { Global } from "./global.ts";
import type { PlainHostFunction } from "./host.ts";
import type { Linker } from "./linker.ts";
import { Memory } from "./memory.ts";
import { SharedMemory } from "./shared_memory.ts";
import type { Module } from "./module.ts";
import type { Store } from "./store.ts";
import { Table } from "./table.ts";
import { Tag } from "./tag.ts";
import { type ExternType, FuncType, type ImportType } from "./types.ts";

/**
 * What an imports object may give for one import: a JS function (a host function with the
 * module's type for it), a Func, Memory, Table, Global or Tag of the store, or a number / bigint for
 * an immutable numeric global.
 *
 * @example
 * ```ts
 * import type { ImportValue } from "@wasmtime-deno/wasmtime";
 * const log: ImportValue = (ptr: number, len: number) => console.log(ptr, len);
 * const limit: ImportValue = 100;
 * ```
 */
export type ImportValue = PlainHostFunction | Extern | number | bigint;

/**
 * A module's imports by module name, then field name, as V8's `importObject`.
 *
 * @example
 * ```ts
 * import type { Imports } from "@wasmtime-deno/wasmtime";
 * const imports: Imports = { env: { log: (ptr: number, len: number) => console.log(ptr, len) } };
 * ```
 */
export type Imports = { readonly [module: string]: { readonly [field: string]: ImportValue } };

/** How an import's type reads in an error, e.g. `a function (i32, i32) -> ()`. */
function expected(type: ExternType): string {
  switch (type.kind) {
    case "func":
      return `a function (${type.params.join(", ")}) -> (${type.results.join(", ")})`;
    case "memory":
      return `a ${type.shared ? "SharedMemory" : "Memory"} of at least ${type.minimum} page(s)${
        type.maximum === undefined ? "" : ` and at most ${type.maximum}`
      }`;
    case "table":
      return `a Table of ${type.element} with at least ${type.minimum} element(s)`;
    case "global": {
      const global = `a Global of ${type.content}${type.mutable ? " (mutable)" : ""}`;
      if (type.mutable || !NUMERIC_GLOBALS.has(type.content)) return global;
      return `${global} or a ${
        type.content === "i64" || type.content === "v128" ? "bigint" : "number"
      }`;
    }
    case "tag":
      return `a Tag (${type.params.join(", ")})`;
  }
}

/** Content types of immutable globals an imports object may give as a plain number or bigint. */
const NUMERIC_GLOBALS = new Set(["i32", "i64", "f32", "f64", "v128"]);

function describe(value: unknown): string {
  if (value === undefined) return "undefined";
  if (value === null) return "null";
  if (typeof value === "bigint") return `bigint ${value}n`;
  if (typeof value === "string") return `string ${JSON.stringify(value)}`;
  if (typeof value === "function") return "a function";
  if (typeof value === "object") return `a ${value.constructor?.name ?? "object"}`;
  return `${typeof value} ${String(value)}`;
}

/** `holder[key]` if it is the holder's own property: inherited ones are never imports. */
function own(holder: object, key: string): unknown {
  return Object.hasOwn(holder, key) ? (holder as Record<string, unknown>)[key] : undefined;
}

/** The extern of `store` for one import, or throws a LinkError naming it. */
function resolveOne(
  store: Store,
  item: ImportType,
  value: unknown,
  action: string,
): Extern {
  const { module, name, type } = item;
  const fail = (why: string, cause?: unknown): never => {
    throw new LinkError(
      `${action}: import ${module}.${name} must be ${expected(type)}; ${why}`,
      module,
      name,
      cause === undefined ? undefined : { cause },
    );
  };
  let extern: Extern | undefined;
  switch (type.kind) {
    case "func": {
      if (value instanceof Func) extern = value;
      else if (typeof value === "function") {
        extern = funcOfExport(value);
        if (extern === undefined) {
          let funcType: FuncType;
          try {
            funcType = new FuncType(type.params, type.results);
          } catch (error) {
            return fail("a JS function cannot have this type (pass a Func)", error);
          }
          try {
            extern = plainHostFunc(
              store,
              funcType,
              value as PlainHostFunction,
              `${module}.${name}`,
            );
          } finally {
            funcType[Symbol.dispose]();
          }
        }
      }
      break;
    }
    case "memory":
      if (value instanceof Memory || value instanceof SharedMemory) extern = value;
      break;
    case "table":
      if (value instanceof Table) extern = value;
      break;
    case "tag":
      if (value instanceof Tag) extern = value;
      break;
    case "global":
      if (value instanceof Global) extern = value;
      else if (typeof value === "number" || typeof value === "bigint") {
        if (type.mutable) fail(`got ${describe(value)} (a mutable global must be a Global)`);
        if (!NUMERIC_GLOBALS.has(type.content)) fail(`got ${describe(value)}`);
        try {
          extern = new Global(store, { content: type.content, mutable: false }, value);
        } catch (error) {
          if (!(error instanceof WasmtimeError)) throw error;
          return fail(error.message.replace(/^new Global value: expected \S+, /, ""), error);
        }
      }
      break;
  }
  if (extern === undefined) return fail(`got ${describe(value)}`);
  if (!(extern instanceof SharedMemory) && extern.store !== store) {
    fail(
      `the ${extern.constructor.name} belongs to another Store (imports must come from the ` +
        "store being instantiated)",
    );
  }
  return extern;
}

/**
 * Resolves the imports object `imports` against `module`'s imports for instantiation in
 * `store`; returns one extern per import, in `module.imports` order. JS functions become host
 * functions of `store` typed by the module (called with the wasm arguments only, `this`
 * undefined; a throw traps the guest and the error is rethrown from the call, as for every
 * host function); a function of another instance's `exports` stands for its Func. Only own
 * properties are read, at both levels: the names come from the (possibly untrusted) module, so
 * inherited ones such as `constructor` or `toString` must never become imports. Entries the
 * module does not import are ignored, as V8 does.
 *
 * With `partial`, imports absent from the object come back as undefined (a linker may define
 * them, e.g. WASI); otherwise they are a {@linkcode LinkError}, as is a value of the wrong kind.
 */
export function resolveImports(
  store: Store,
  module: Module,
  imports: Imports | undefined,
  action: string,
  partial = false,
): (Extern | undefined)[] {
  if (imports !== undefined && (typeof imports !== "object" || imports === null)) {
    throw new WasmtimeError(
      `${action}: imports must be an object ({ module: { field: value } }) or an array of ` +
        `externs in module.imports order, got ${describe(imports)}`,
    );
  }
  return module.imports.map((item) => {
    const namespace = imports === undefined ? undefined : own(imports, item.module);
    if (namespace === undefined) {
      if (partial) return undefined;
      throw new LinkError(
        `${action}: the module imports ${item.module}.${item.name} (${expected(item.type)}), ` +
          `but the imports object has no ${JSON.stringify(item.module)} entry`,
        item.module,
        item.name,
      );
    }
    if ((typeof namespace !== "object" && typeof namespace !== "function") || namespace === null) {
      throw new LinkError(
        `${action}: imports[${JSON.stringify(item.module)}] must be an object of imports, got ` +
          describe(namespace),
        item.module,
        item.name,
      );
    }
    const value = own(namespace, item.name);
    if (value === undefined) {
      if (partial) return undefined;
      throw new LinkError(
        `${action}: the module imports ${item.module}.${item.name} (${expected(item.type)}), ` +
          "but the imports object does not have it",
        item.module,
        item.name,
      );
    }
    return resolveOne(store, item, value, action);
  });
}

/**
 * Defines on `linker`, for `store`, every import of `module` that the imports object `imports`
 * supplies (resolved as by {@linkcode resolveImports}); imports it does not supply are left to
 * the linker's other definitions (WASI, defineFunc, ...), so an import nobody defines is
 * reported by `linker.instantiate`. The definitions belong to `store`.
 */
export function defineImports(
  linker: Linker,
  store: Store,
  module: Module,
  imports: Imports,
  action: string,
): void {
  const items = module.imports;
  resolveImports(store, module, imports, action, true).forEach((extern, i) => {
    if (extern !== undefined) linker.define(store, items[i].module, items[i].name, extern);
  });
}
