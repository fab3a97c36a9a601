import assert from "node:assert/strict";
import { Engine, FuncType, Instance, Linker, Memory, Module, Store } from "../mod.ts";

Deno.test("memory: pages, byteLength, grow, copies and typed helpers", () => {
  using engine = new Engine();
  using store = new Store(engine);
  const memory = new Memory(store, { minimum: 1, maximum: 3 });
  assert.equal(memory.pages, 1);
  assert.equal(memory.byteLength, 65536);
  assert.deepEqual(memory.type, {
    minimum: 1,
    maximum: 3,
    memory64: false,
    shared: false,
    pageSizeLog2: 16,
  });
  memory.write(10, new Uint8Array([1, 2, 3]));
  const copy = memory.read(10, 3);
  assert.deepEqual([...copy], [1, 2, 3]);
  copy[0] = 9;
  assert.equal(memory.getUint8(10), 1, "read returns a copy");
  assert.equal(memory.writeString(100, "héllo"), 6);
  assert.equal(memory.readString(100, 6), "héllo");
  memory.setFloat64(200, Math.E);
  assert.equal(memory.getFloat64(200), Math.E);
  memory.setBigInt64(208, -5n);
  assert.equal(memory.getBigInt64(208), -5n);
  memory.setUint32(216, 0xdeadbeef);
  assert.equal(memory.getUint32(216), 0xdeadbeef);
  assert.equal(memory.getInt32(216), 0xdeadbeef | 0);
  memory.setUint16(220, 0xffff);
  assert.equal(memory.getUint16(220), 0xffff);
  memory.setFloat32(224, 1.5);
  assert.equal(memory.getFloat32(224), 1.5);
  assert.equal(memory.grow(2), 1);
  assert.equal(memory.pages, 3);
  assert.equal(memory.getUint8(10), 1, "contents survive growth");
});

Deno.test("zero-copy buffer: shared with wasm, detached when stale", () => {
  using engine = new Engine();
  using store = new Store(engine);
  using module = new Module(
    engine,
    `(module (memory (export "m") 1)
    (func (export "get") (param i32) (result i32) local.get 0 i32.load8_u)
    (func (export "set") (param i32 i32) local.get 0 local.get 1 i32.store8)
    (func (export "grow") (param i32) (result i32) local.get 0 memory.grow))`,
  );
  const instance = new Instance(store, module, []);
  const memory = instance.getMemory("m")!;
  const bytes = new Uint8Array(memory.buffer);
  assert.equal(bytes.length, 65536);
  bytes[5] = 77;
  assert.equal(instance.getFunc("get")!.call(5), 77, "wasm sees host writes");
  instance.getFunc("set")!.call(6, 88);
  assert.equal(bytes[6], 88, "the host sees wasm writes without copying");
  assert.equal(memory.buffer, memory.buffer, "the buffer is cached while valid");

  instance.getFunc("grow")!.call(1);
  assert.equal(bytes.length, 0, "growth inside wasm detached the old view");
  assert.equal(bytes[6], undefined);
  const fresh = new Uint8Array(memory.buffer);
  assert.equal(fresh.length, 2 * 65536);
  assert.equal(fresh[6], 88);
  memory.grow(1);
  assert.equal(fresh.length, 0, "host-side growth detaches too");
});

Deno.test("host functions see memory grown by the guest earlier in the same call", () => {
  using engine = new Engine();
  using store = new Store(engine);
  using linker = new Linker(engine);
  let seen = -1;
  linker.defineFunc("", "peek", new FuncType(["i32"], []), (caller, address) => {
    seen = (caller.getExport("m") as Memory).getUint8(address);
  });
  using module = new Module(
    engine,
    `(module (import "" "peek" (func $peek (param i32))) (memory (export "m") 1)
    (func (export "run")
      (drop (memory.grow (i32.const 1)))
      (i32.store8 (i32.const 70000) (i32.const 9))
      (call $peek (i32.const 70000))))`,
  );
  const instance = linker.instantiate(store, module);
  const before = new Uint8Array(instance.getMemory("m")!.buffer);
  assert.equal(before.length, 65536);
  instance.getFunc("run")!.call();
  assert.equal(seen, 9);
  assert.equal(before.length, 0);
});
