import { Engine, Func, FuncType, Instance, Module, Store } from "../../mod.ts";
const engine = new Engine();
const store = new Store(engine);
let n = 0;
const h = new Func(store, new FuncType([], []), () => { n++; });
const inst = new Instance(store, new Module(engine, `(module (import "" "h" (func $h))
  (func (export "loop") (loop $l (call $h) (br $l))))`), [h]);
postMessage("running");
try { inst.getFunc("loop")!.call(); } catch (e) { console.error("worker call ended:", String(e).slice(0, 200)); }
