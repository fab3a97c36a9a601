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
 * const instance = new Instance<{ add(a: number, b: number): number }>(store, module);
 * console.log(instance.exports.add(40, 2)); // 42
 * ```
 *
 * @module
 */
export {
  type Collector,
  Engine,
  type EngineOptions,
  type FeatureSet,
  MAX_WASM_STACK,
  type OptLevel,
  type PoolingOptions,
  type Profiler,
  type Strategy,
} from "./src/core/engine.ts";
export { Store, type StoreLimits, type StoreOptions } from "./src/core/store.ts";
export { Module } from "./src/core/module.ts";
export { Linker } from "./src/core/linker.ts";
export { type Exports, type ExportValue, Instance } from "./src/core/instance.ts";
export type { Imports, ImportValue } from "./src/core/imports.ts";
export { InstancePre } from "./src/core/instance_pre.ts";
export { Caller } from "./src/core/caller.ts";
export type { HostFunction, PlainHostFunction } from "./src/core/host.ts";
export {
  type ExportFunction,
  Func,
  type JsValueOf,
  type TypedParams,
  type TypedResult,
} from "./src/core/func.ts";
export type { CallOptions } from "./src/core/async.ts";
export { Memory } from "./src/core/memory.ts";
export { SharedMemory, type WaitResult } from "./src/core/shared_memory.ts";
export { type HandoffKind, type HandoffToken, revokeToken } from "./src/core/handoff.ts";
export { Table } from "./src/core/table.ts";
export { Global } from "./src/core/global.ts";
export { AnyRef, ArrayRef, ExnRef, ExternalizedRef, StructRef } from "./src/core/gc.ts";
export { ArrayType, type FieldType, type StorageType, StructType } from "./src/core/gc_types.ts";
export { Tag } from "./src/core/tag.ts";
export { WasmException } from "./src/core/exception.ts";
export type { Extern } from "./src/core/extern.ts";
export {
  type ExportType,
  type ExternType,
  FuncType,
  type GlobalType,
  type ImportType,
  type MemoryType,
  type TableType,
  type TagType,
  type ValType,
} from "./src/core/types.ts";
export {
  type Frame,
  LibraryError,
  LinkError,
  PermissionError,
  Trap,
  TrapCode,
  WasiExit,
  WasmtimeError,
} from "./src/errors.ts";
export { wat2wasm } from "./src/core/wat.ts";
// The component model.
export { Component } from "./src/component/component.ts";
export {
  type ComponentAsyncHostFunction,
  type ComponentHostFunction,
  ComponentLinker,
} from "./src/component/linker.ts";
export { type ComponentExports, ComponentInstance } from "./src/component/instance.ts";
export { ComponentFunc } from "./src/component/func.ts";
export { ComponentResource } from "./src/component/resource.ts";
export {
  type ComponentFuncType,
  type ComponentItem,
  type ComponentPrimitive,
  type ComponentResourceType,
  type ComponentValType,
  witFunc,
  witType,
} from "./src/component/types.ts";
export { ComponentError } from "./src/errors.ts";
export { version } from "./src/version.ts";
