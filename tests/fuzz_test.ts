// Feeds thousands of random and mutated modules to Module.validate and new Module: every input
// must either work or throw a WasmtimeError; none may crash the process.
import assert from "node:assert/strict";
import { Engine, Instance, Module, Store, WasmtimeError, wat2wasm } from "../mod.ts";

/** Deterministic xorshift32, so a failure can be replayed from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
}

const SEEDS = [
  `(module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))`,
  `(module (memory (export "m") 1 2) (data (i32.const 0) "hello")
    (func (export "load") (param i32) (result i32) local.get 0 i32.load8_u))`,
  `(module (table 2 funcref) (elem (i32.const 0) $a $b) (type $t (func (result i32)))
    (func $a (result i32) i32.const 1) (func $b (result i32) i32.const 2)
    (func (export "pick") (param i32) (result i32) local.get 0 call_indirect (type $t)))`,
  `(module (global $g (mut i64) (i64.const 5))
    (func (export "bump") (result i64) global.get $g i64.const 1 i64.add global.set $g global.get $g)
    (func (export "loop") (param i32) (result i32) (local i32)
      (block (loop (br_if 1 (i32.eqz (local.get 0)))
        (local.set 1 (i32.add (local.get 1) (local.get 0)))
        (local.set 0 (i32.sub (local.get 0) (i32.const 1))) (br 0))) local.get 1))`,
  `(module (func (export "v") (param v128) (result v128) local.get 0 local.get 0 i8x16.add)
    (func (export "f") (param f64) (result f64) local.get 0 f64.sqrt))`,
].map((wat) => wat2wasm(wat));

function mutate(bytes: Uint8Array, next: () => number): Uint8Array {
  const out = [...bytes];
  const edits = next() < 0.7 ? 1 : 1 + Math.floor(next() * 4);
  for (let i = 0; i < edits; i++) {
    // Bias edits toward the end, where the code section is.
    const at = Math.floor(Math.sqrt(next()) * out.length);
    switch (next() < 0.7 ? 0 : Math.floor(next() * 4)) {
      case 0:
        out[at] = Math.floor(next() * 256);
        break;
      case 1:
        out.splice(at, 1);
        break;
      case 2:
        out.splice(at, 0, Math.floor(next() * 256));
        break;
      default:
        out.length = Math.max(0, at);
    }
  }
  return new Uint8Array(out);
}

Deno.test("thousands of random and mutated modules never crash validate or compile", () => {
  using engine = new Engine({ consumeFuel: true });
  using store = new Store(engine, { fuel: 100_000, limits: { memorySize: 1 << 20 } });
  const next = random(0x5eed);
  let valid = 0;
  let invalid = 0;
  let instantiated = 0;
  for (let i = 0; i < 12_000; i++) {
    const input = i % 4 === 0
      ? crypto.getRandomValues(new Uint8Array(Math.floor(next() * 64)))
      : mutate(SEEDS[i % SEEDS.length], next);
    let validated = false;
    try {
      Module.validate(engine, input);
      validated = true;
    } catch (error) {
      assert.ok(error instanceof WasmtimeError, `input ${i}: ${error}`);
    }
    try {
      using module = new Module(engine, input);
      assert.ok(validated, `input ${i} compiled although validate rejected it`);
      valid++;
      if (module.imports.length === 0) {
        try {
          const instance = new Instance(store, module, []);
          instantiated++;
          for (const [name, item] of Object.entries(instance.exports)) {
            if (typeof item !== "function") continue;
            const params = instance.getFunc(name)!.type.params;
            if (params.every((p) => p === "i32")) {
              try {
                item(...params.map(() => Math.floor(next() * 100)));
              } catch (error) {
                assert.ok(error instanceof WasmtimeError, `${name}: ${error}`);
              }
            }
          }
        } catch (error) {
          assert.ok(error instanceof WasmtimeError, `input ${i}: ${error}`);
        }
        store.fuel = 100_000;
      }
    } catch (error) {
      assert.ok(error instanceof WasmtimeError, `input ${i}: ${error}`);
      assert.ok(!validated, `input ${i} validated but failed to compile: ${error}`);
      invalid++;
    }
  }
  console.log(`${valid} valid (${instantiated} instantiated and called), ${invalid} rejected`);
  assert.ok(valid > 100 && invalid > 1_000, "the corpus mixes valid and invalid modules");
});
