import { Engine, Func, FuncType, Instance, Module, Store } from "../../mod.ts";
self.onmessage = (e) => {
  const counter = new Int32Array(e.data);
  const engine = new Engine();
  const store = new Store(engine);
  const h = new Func(store, new FuncType([], []), () => { Atomics.add(counter, 0, 1); });
  const inst = new Instance(store, new Module(engine, `(module (import "" "h" (func $h))
    (func (export "loop") (loop $l (call $h) (br $l))))`), [h]);
  postMessage("running");
  try { inst.getFunc("loop")!.call(); } catch (e) { Atomics.store(counter, 1, 1); }
};
