/**
 * The call-path fixture shared by the benchmark driver (bench/run.ts) and the `Deno.bench` micro
 * cases (bench/call_bench.ts): bench/call.wat instantiated through the binding with a JS `inc`
 * import, and the same bytes through V8's `WebAssembly`, so both measure the same calls.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { Engine, type Func, FuncType, Linker, Module, Store, wat2wasm } from "../mod.ts";

/** Path of the call-path module, also read by bench/wasmtime_py.py. */
export const CALL_WAT_PATH: string = fileURLToPath(new URL("./call.wat", import.meta.url));

/** The call-path module as text: `add(i32, i32)` and `call_host(i32)` calling import `inc`. */
export const CALL_WAT: string = Deno.readTextFileSync(CALL_WAT_PATH);

/** The call-path module as a binary. */
export const CALL_BYTES: Uint8Array<ArrayBuffer> = wat2wasm(CALL_WAT);

/** The call-path exports of V8's `WebAssembly` instance. */
export interface V8CallExports {
  add: (a: number, b: number) => number;
  call_host: (x: number) => number;
}

/** Everything the call-path cases call; disposing it frees the binding's objects. */
export interface CallFixture extends Disposable {
  /** `add` as a `Func`, for `call()`. */
  add: Func;
  /** `add` through `typed()`. */
  typedAdd: (a: number, b: number) => number;
  /** `call_host` through `typed()`: one wasm→JS round trip per call. */
  callHost: (x: number) => number;
  /** The same module in V8's `WebAssembly`. */
  v8: V8CallExports;
}

/** Instantiates the call-path module in a fresh engine and store, and in V8. */
export function callFixture(): CallFixture {
  const engine = new Engine();
  const store = new Store(engine);
  const linker = new Linker(engine);
  linker.defineFunc("env", "inc", new FuncType(["i32"], ["i32"]), (_c, x: number) => x + 1);
  const module = new Module(engine, CALL_BYTES);
  const instance = linker.instantiate(store, module);
  const add = instance.getFunc("add")!;
  const v8 = new WebAssembly.Instance(new WebAssembly.Module(CALL_BYTES), {
    env: { inc: (x: number) => x + 1 },
  }).exports as unknown as V8CallExports;
  return {
    add,
    typedAdd: add.typed(["i32", "i32"], ["i32"]) as (a: number, b: number) => number,
    callHost: instance.getFunc("call_host")!.typed(["i32"], ["i32"]) as (x: number) => number,
    v8,
    [Symbol.dispose]() {
      module[Symbol.dispose]();
      linker[Symbol.dispose]();
      store[Symbol.dispose]();
      engine[Symbol.dispose]();
    },
  };
}
