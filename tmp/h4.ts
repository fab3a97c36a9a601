import { Engine, Instance, Module, Store } from "../mod.ts";
const engine = new Engine({ epochInterruption: true, sharedMemory: true });
const store = new Store(engine);
try {
  const m = new Module(engine, `(module (memory 1 1 shared) (func (export "w") (result i32) (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const -1))))`);
  const inst = new Instance(store, m, []);
  const t0 = performance.now();
  try { inst.getFunc("w")!.callWith({ timeoutMs: 200 }); } catch (e) { console.log("stopped", performance.now() - t0, String(e).slice(0, 80)); }
} catch (e) { console.log("compile:", String(e).slice(0, 200)); }
