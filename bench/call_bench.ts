// Micro benchmarks of the call paths, side by side with V8's built-in WebAssembly.
import { Engine, FuncType, type Instance, Linker, Module, Store, wat2wasm } from "../mod.ts";

const WAT = `(module
  (import "env" "inc" (func $inc (param i32) (result i32)))
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "call_host") (param i32) (result i32) local.get 0 call $inc))`;
const bytes = wat2wasm(WAT);

const engine = new Engine();
const store = new Store(engine);
const linker = new Linker(engine);
linker.defineFunc("env", "inc", new FuncType(["i32"], ["i32"]), (_c, x: number) => x + 1);
const module = new Module(engine, bytes);
const instance: Instance = linker.instantiate(store, module);
const add = instance.getFunc("add")!;
const typedAdd = add.typed(["i32", "i32"], ["i32"]);
const callHost = instance.getFunc("call_host")!.typed(["i32"], ["i32"]);

const v8 = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
  env: { inc: (x: number) => x + 1 },
}).exports as { add: (a: number, b: number) => number; call_host: (x: number) => number };

let sink = 0;
Deno.bench({ name: "add: V8 WebAssembly", group: "add", baseline: true }, () => {
  sink += v8.add(sink & 0xff, 2);
});
Deno.bench({ name: "add: typed()", group: "add" }, () => {
  sink += typedAdd(sink & 0xff, 2) as number;
});
Deno.bench({ name: "add: call()", group: "add" }, () => {
  sink += add.call(sink & 0xff, 2) as number;
});
Deno.bench({ name: "host round trip: V8 WebAssembly", group: "host", baseline: true }, () => {
  sink += v8.call_host(sink & 0xff);
});
Deno.bench({ name: "host round trip: typed()", group: "host" }, () => {
  sink += callHost(sink & 0xff) as number;
});
