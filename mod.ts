/**
 * Wasmtime for Deno: run WebAssembly sandboxed, metered and fast.
 *
 * Everything native is `Disposable`: use `using` (or call `[Symbol.dispose]()`); what you
 * forget is freed by the garbage collector.
 *
 * @example
 * ```ts
 * import { Engine, Instance, Module, Store } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine({ consumeFuel: true });
 * using store = new Store(engine, { fuel: 1_000_000 });
 * using module = new Module(engine, `(module
 *   (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))`);
 * const instance = new Instance(store, module, []);
 * console.log(instance.getFunc("add")!.call(40, 2)); // 42
 * ```
 *
 * @module
 */
export {
  Engine,
  type EngineOptions,
  MAX_WASM_STACK,
  type OptLevel,
  type PoolingOptions,
  type Profiler,
} from "./src/core/engine.ts";
export { Store, type StoreLimits, type StoreOptions } from "./src/core/store.ts";
export { WASI_INTO_NATIVE, type WasiSource } from "./src/internal.ts";
export { Module } from "./src/core/module.ts";
export { Linker } from "./src/core/linker.ts";
export { Instance } from "./src/core/instance.ts";
export { InstancePre } from "./src/core/instance_pre.ts";
export { Caller } from "./src/core/caller.ts";
export type { HostFunction } from "./src/core/host.ts";
export { Func, type JsValueOf, type TypedParams, type TypedResult } from "./src/core/func.ts";
export type { CallOptions } from "./src/core/async.ts";
export { Memory } from "./src/core/memory.ts";
export { Table } from "./src/core/table.ts";
export { Global } from "./src/core/global.ts";
export type { Extern } from "./src/core/extern.ts";
export {
  type ExportType,
  type ExternType,
  FuncType,
  type GlobalType,
  type ImportType,
  type MemoryType,
  type TableType,
  type ValType,
} from "./src/core/types.ts";
export {
  type Frame,
  LibraryError,
  PermissionError,
  Trap,
  TrapCode,
  WasiExit,
  WasmtimeError,
} from "./src/errors.ts";
export { wat2wasm } from "./src/core/wat.ts";
// The component model.
export { Component } from "./src/component/component.ts";
export { type ComponentHostFunction, ComponentLinker } from "./src/component/linker.ts";
export { type ComponentExports, ComponentInstance } from "./src/component/instance.ts";
export { ComponentFunc } from "./src/component/func.ts";
export {
  type ComponentFuncType,
  type ComponentItem,
  type ComponentPrimitive,
  type ComponentValType,
  witFunc,
  witType,
} from "./src/component/types.ts";
export { ComponentError } from "./src/errors.ts";
export { version } from "./src/version.ts";
