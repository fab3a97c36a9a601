import { Engine, Func, FuncType, Instance, Module, Store } from "../mod.ts";
const engine = new Engine();
const store = new Store(engine);
let hostCalls = 0;
const h = new Func(store, new FuncType([], ["i32"]), () => ++hostCalls);
// deep(n): recurses n times in wasm (big frames), then calls the host function at the bottom.
const inst = new Instance(store, new Module(engine, `(module (import "" "h" (func $h (result i32)))
  (func $deep (export "deep") (param i32) (result i32) (local i64 i64 i64 i64 i64 i64 i64 i64)
    (if (result i32) (i32.eqz (local.get 0)) (then (call $h))
      (else (i32.add (call $deep (i32.sub (local.get 0) (i32.const 1))) (i32.const 0))))))`), [h]);
const deep = inst.getFunc("deep")!;
let depthMax = 0;
const probe = (d: number): void => { depthMax = d; probe(d + 1); };
try { probe(0); } catch { /* measured */ }
const outcomes: Record<string, number> = {};
function at(jsDepth: number, n: number): void {
  if (jsDepth > 0) return at(jsDepth - 1, n);
  let key: string;
  try { deep.call(n); key = "ok"; } catch (e) { key = (e as Error).constructor.name; }
  outcomes[key] = (outcomes[key] ?? 0) + 1;
}
for (const fraction of [0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]) {
  for (const n of [100, 1000, 3000, 5000, 8000]) {
    try { at(Math.floor(depthMax * fraction), n); } catch (e) { outcomes["outer " + (e as Error).constructor.name] = (outcomes["outer " + (e as Error).constructor.name] ?? 0) + 1; }
  }
}
console.log(JSON.stringify(outcomes));
