import { Engine, Func, FuncType, Instance, Module, Store } from "../mod.ts";
const engine = new Engine();
const store = new Store(engine);
let rec: (n: number) => number;
const h = new Func(store, new FuncType(["i32"], ["i32"]), (_c, n: number) => rec(n));
const inst = new Instance(store, new Module(engine, `(module (import "" "h" (func $h (param i32) (result i32)))
  (func $f (export "f") (param i32) (result i32) (local i64 i64 i64 i64 i64 i64 i64 i64)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
      (else (i32.add (call $h (i32.sub (local.get 0) (i32.const 1))) (i32.const 1))))))`), [h]);
const f = inst.getFunc("f")!;
rec = (n) => f.call(n) as number;
let depthMax = 0;
const probe = (d: number): void => { depthMax = d; probe(d + 1); };
try { probe(0); } catch { /* measured */ }
const outcomes: Record<string, number> = {};
function at(jsDepth: number, n: number): void {
  if (jsDepth > 0) return at(jsDepth - 1, n);
  let key: string;
  try { key = f.call(n) === n ? "ok" : "WRONG"; } catch (e) { key = (e as Error).constructor.name; }
  outcomes[key] = (outcomes[key] ?? 0) + 1;
}
for (const fraction of [0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9]) {
  for (const n of [10, 100, 300, 1000, 3000, 10000]) {
    try { at(Math.floor(depthMax * fraction), n); } catch (e) { const k = "outer " + (e as Error).constructor.name; outcomes[k] = (outcomes[k] ?? 0) + 1; }
  }
}
console.log(JSON.stringify(outcomes));
