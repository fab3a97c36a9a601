/**
 * SharedMemory: creation, import and export, growth, zero-copy buffers and their lifetime,
 * one-use hand-off tokens, host-side wait/notify, and instances in several Workers computing on
 * one memory.
 */
import assert from "node:assert/strict";
import {
  Engine,
  Instance,
  Linker,
  Memory,
  Module,
  revokeToken,
  SharedMemory,
  Store,
  WasmtimeError,
} from "../mod.ts";
import { assertClean, MOD_URL, runIsolated } from "./helpers.ts";
import type { Job } from "./fixtures/shared_memory_worker.ts";

const WAT = `(module
  (import "env" "memory" (memory 1 16 shared))
  (func (export "add") (param i32 i32) (result i32)
    (i32.atomic.rmw.add (local.get 0) (local.get 1)))
  ;; Adds 1 to the i32 at $at, $n times, atomically.
  (func (export "add_loop") (param $at i32) (param $n i32)
    (block $done (loop $next
      (br_if $done (i32.eqz (local.get $n)))
      (drop (i32.atomic.rmw.add (local.get $at) (i32.const 1)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $next))))
  (func (export "wait") (param i32 i32 i64) (result i32)
    (memory.atomic.wait32 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "notify") (param i32 i32) (result i32)
    (memory.atomic.notify (local.get 0) (local.get 1)))
  (func (export "size") (result i32) (memory.size))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`;

const TYPE = { minimum: 1, maximum: 16, shared: true } as const;
const WORKER = new URL("./fixtures/shared_memory_worker.ts", import.meta.url);

function threadsEngine(): Engine {
  return new Engine({ threads: true, sharedMemory: true });
}

/** Starts a Worker on `job` and collects its messages until `until` says stop. */
function worker(job: Job): { messages: AsyncGenerator<Record<string, unknown>>; stop(): void } {
  const w = new Worker(WORKER, { type: "module" });
  const queue: Record<string, unknown>[] = [];
  let wake: (() => void) | undefined;
  w.onmessage = ({ data }) => {
    queue.push(data);
    wake?.();
  };
  w.postMessage(job);
  async function* messages() {
    for (;;) {
      while (queue.length === 0) await new Promise<void>((r) => (wake = r));
      const message = queue.shift()!;
      if ("error" in message) throw new Error(String(message.error));
      yield message;
    }
  }
  return { messages: messages(), stop: () => w.terminate() };
}

async function next(messages: AsyncGenerator<Record<string, unknown>>) {
  const { value } = await messages.next();
  return value as Record<string, unknown>;
}

Deno.test("SharedMemory: create, type, grow in place, pages and bytes", () => {
  using engine = threadsEngine();
  using memory = new SharedMemory(engine, TYPE);
  assert.deepEqual(memory.type, {
    minimum: 1,
    maximum: 16,
    shared: true,
    memory64: false,
    pageSizeLog2: 16,
  });
  assert.equal(memory.pages, 1);
  assert.equal(memory.byteLength, 65536);
  const before = memory.buffer;
  new Uint8Array(before)[65535] = 9;
  assert.equal(memory.grow(2), 1);
  assert.equal(memory.pages, 3);
  // The old buffer stays valid over the bytes it covers; a new one shows all of them.
  assert.equal(before.byteLength, 65536);
  const after = memory.buffer;
  assertNotSame(before, after);
  assert.equal(after.byteLength, 3 * 65536);
  assert.equal(new Uint8Array(after)[65535], 9);
  assert.equal(memory.buffer, after, "the same buffer until the memory grows again");
  assert.throws(() => memory.grow(14), WasmtimeError, "beyond the maximum");
  assert.throws(() => memory.grow(-1), /non-negative integer/);
});

function assertNotSame(a: unknown, b: unknown) {
  assert.notEqual(a, b);
}

Deno.test("SharedMemory: the type must be shared and bounded", () => {
  using engine = threadsEngine();
  assert.throws(() => new SharedMemory(engine, { minimum: 1, maximum: 2 }), /must be shared/);
  assert.throws(() => new SharedMemory(engine, { minimum: 1, shared: true }), /bounded/);
});

Deno.test("SharedMemory: imported by instances of two stores, which see each other's writes", () => {
  using engine = threadsEngine();
  using memory = new SharedMemory(engine, TYPE);
  using module = new Module(engine, WAT);
  using a = new Store(engine);
  using b = new Store(engine);
  const first = new Instance(a, module, [memory]);
  const second = new Instance(b, module, { env: { memory } });
  first.getFunc("add")!.call(0, 5);
  assert.equal(second.getFunc("add")!.call(0, 2), 5);
  assert.equal(Atomics.load(new Int32Array(memory.buffer), 0), 7);
  // Growth by a guest shows in every view of the memory.
  assert.equal(second.getFunc("grow")!.call(1), 1);
  assert.equal(memory.pages, 2);
  assert.equal(first.getFunc("size")!.call(), 2);
  // Through a linker too.
  using linker = new Linker(engine);
  linker.define(a, "env", "memory", memory);
  assert.equal(linker.instantiate(a, module).getFunc("add")!.call(0, 0), 7);
});

Deno.test("SharedMemory: an exported shared memory is a SharedMemory, not a Memory", () => {
  using engine = threadsEngine();
  using module = new Module(
    engine,
    `(module (memory (export "m") 1 2 shared)
    (func (export "poke") (i32.atomic.store (i32.const 4) (i32.const 77))))`,
  );
  using store = new Store(engine);
  const instance = new Instance(store, module, []);
  const exported = instance.getExport("m");
  assert.ok(exported instanceof SharedMemory);
  assert.ok(instance.exports.m instanceof SharedMemory);
  assert.ok(!(exported instanceof Memory));
  instance.getFunc("poke")!.call();
  assert.equal(new Int32Array(exported.buffer)[1], 77);
  assert.equal(exported.type.maximum, 2);
});

Deno.test("SharedMemory: a memory of another engine is refused at instantiation", () => {
  using engine = threadsEngine();
  using other = threadsEngine();
  using memory = new SharedMemory(engine, TYPE);
  using module = new Module(other, WAT);
  using store = new Store(other);
  assert.throws(() => new Instance(store, module, [memory]), WasmtimeError);
});

Deno.test("SharedMemory: Atomics work on its buffer; Atomics.wait does not, atomicWait32 does", () => {
  using engine = threadsEngine();
  using memory = new SharedMemory(engine, TYPE);
  const words = new Int32Array(memory.buffer);
  assert.equal(Atomics.add(words, 0, 3), 0);
  assert.equal(Atomics.compareExchange(words, 0, 3, 4), 3);
  assert.equal(Atomics.load(words, 0), 4);
  assert.throws(() => Atomics.wait(words, 0, 4, 1), TypeError);
  assert.equal(Atomics.notify(words, 0, 1), 0);
  assert.equal(memory.atomicWait32(0, 5, 0), "not-equal");
  assert.equal(memory.atomicWait32(0, 4, 1), "timed-out");
  assert.equal(memory.atomicWait64(8, 1n, 0), "not-equal");
  assert.equal(memory.atomicWait64(8, 0n, 1), "timed-out");
  assert.equal(memory.atomicNotify(0), 0);
  assert.throws(() => memory.atomicWait32(2, 0, 0), /not 4-byte aligned/);
  assert.throws(() => memory.atomicWait64(4, 0n, 0), /not 8-byte aligned/);
  assert.throws(() => memory.atomicNotify(65536), /outside the memory/);
  assert.throws(() => memory.atomicWait32(0, 0, -1), /timeoutMs/);
  assert.throws(() => memory.atomicWait32(0, 2 ** 32, 0), /i32 or u32/);
});

Deno.test("SharedMemory: atomicWait32Async is woken by a guest's memory.atomic.notify", async () => {
  using engine = threadsEngine();
  using memory = new SharedMemory(engine, TYPE);
  using module = new Module(engine, WAT);
  using store = new Store(engine);
  const instance = new Instance(store, module, [memory]);
  const waiting = memory.atomicWait32Async(16, 0, 5_000);
  let woken = 0;
  for (let i = 0; i < 200 && woken === 0; i++) {
    await new Promise((r) => setTimeout(r, 5));
    woken = instance.getFunc("notify")!.call(16, 1) as number;
  }
  assert.equal(woken, 1);
  assert.equal(await waiting, "ok");
  // A wait in flight holds its own reference: disposing the object meanwhile is safe.
  const pending = memory.atomicWait32Async(16, 0, 50);
  memory[Symbol.dispose]();
  assert.equal(await pending, "timed-out");
});

Deno.test("SharedMemory: tokens are one-use; forged, replayed, revoked and wrong-kind ones are refused", () => {
  using engine = threadsEngine();
  using memory = new SharedMemory(engine, TYPE);
  new Uint8Array(memory.buffer)[3] = 33;
  const token = memory.share();
  assert.deepEqual(Object.keys(token).sort(), ["id", "kind"]);
  assert.equal(structuredClone(token).id, token.id);
  using same = SharedMemory.claim(structuredClone(token));
  assert.equal(new Uint8Array(same.buffer)[3], 33);
  assert.throws(() => SharedMemory.claim(token), /already claimed, was revoked/);
  assert.throws(
    () => SharedMemory.claim({ kind: "SharedMemory", id: "0".repeat(32) }),
    /already claimed, was revoked, or was not issued/,
  );
  assert.throws(() => SharedMemory.claim({ kind: "SharedMemory", id: "12" }), /expected a token/);
  // deno-lint-ignore no-explicit-any
  assert.throws(() => SharedMemory.claim(null as any), /expected a token/);
  // deno-lint-ignore no-explicit-any
  assert.throws(() => SharedMemory.claim(engine.share() as any), /expected a token/);
  const revoked = memory.share();
  assert.equal(revokeToken(revoked), true);
  assert.equal(revokeToken(revoked), false);
  assert.throws(() => SharedMemory.claim(revoked), /already claimed, was revoked/);
  // A token of the wrong kind with the right id finds nothing and leaves the entry alone.
  const kept = memory.share();
  // deno-lint-ignore no-explicit-any
  assert.throws(() => Engine.claim({ kind: "Engine", id: kept.id } as any), /already claimed/);
  using claimed = SharedMemory.claim(kept);
  assert.equal(claimed.pages, 1);
});

Deno.test("SharedMemory: the memory outlives the object that made it; its buffers do not", () => {
  using engine = threadsEngine();
  const memory = new SharedMemory(engine, TYPE);
  const buffer = memory.buffer;
  const token = memory.share();
  new Uint8Array(buffer)[0] = 5;
  memory[Symbol.dispose]();
  memory[Symbol.dispose](); // idempotent
  assert.equal(buffer.byteLength, 0, "detached with its object");
  assert.throws(() => memory.buffer, /SharedMemory.buffer: the SharedMemory was disposed/);
  assert.throws(() => memory.share(), /disposed/);
  using later = SharedMemory.claim(token); // the token held its own reference
  assert.equal(new Uint8Array(later.buffer)[0], 5);
});

Deno.test("Engine: share and claim give the same native engine with the same options", () => {
  using engine = new Engine({ threads: true, sharedMemory: true, consumeFuel: true });
  using module = new Module(engine, WAT);
  using memory = new SharedMemory(engine, TYPE);
  using claimed = Engine.claim(engine.share());
  assert.deepEqual(claimed.options, engine.options);
  assert.ok(Object.isFrozen(claimed.options));
  // The same native engine: its stores instantiate the other's module and memory.
  using store = new Store(claimed, { fuel: 1000 });
  new Instance(store, module, [memory]).getFunc("add")!.call(0, 1);
  const token = engine.share();
  using _once = Engine.claim(token);
  assert.throws(() => Engine.claim(token), /already claimed/);
});

Deno.test("SharedMemory: 4 Workers add to one counter in parallel with guest and JS atomics", async () => {
  using engine = threadsEngine();
  using memory = new SharedMemory(engine, TYPE);
  const count = 200_000;
  const ops = ["guest-add", "guest-add", "js-add", "guest-add"] as const;
  const workers = ops.map((op) =>
    worker({ engine: engine.share(), memory: memory.share(), wat: WAT, op, count })
  );
  try {
    // This thread adds too, through its own instance.
    using module = new Module(engine, WAT);
    using store = new Store(engine);
    new Instance(store, module, [memory]).getFunc("add_loop")!.call(0, count);
    for (const w of workers) assert.deepEqual(await next(w.messages), { done: true });
    assert.equal(Atomics.load(new Int32Array(memory.buffer), 0), count * (ops.length + 1));
  } finally {
    for (const w of workers) w.stop();
  }
});

Deno.test("SharedMemory: a guest parked in memory.atomic.wait in a Worker is woken from here", async () => {
  using engine = threadsEngine();
  using memory = new SharedMemory(engine, TYPE);
  const w = worker({ engine: engine.share(), memory: memory.share(), wat: WAT, op: "guest-wait" });
  try {
    assert.deepEqual(await next(w.messages), { waiting: true });
    const words = new Int32Array(memory.buffer);
    let woken = 0;
    for (let i = 0; i < 400 && woken === 0; i++) {
      Atomics.store(words, 3, 1234);
      woken = memory.atomicNotify(8, 1);
      if (woken === 0) await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(woken, 1);
    assert.deepEqual(await next(w.messages), { woke: 0, value: 1234 });
  } finally {
    w.stop();
  }
});

Deno.test("SharedMemory: a Worker ending mid-use frees only its own reference; replays fail cleanly", async () => {
  using engine = threadsEngine();
  using memory = new SharedMemory(engine, TYPE);
  const token = memory.share();
  const w = worker({ engine: engine.share(), memory: token, wat: WAT, op: "claim-and-hold" });
  assert.deepEqual(await next(w.messages), { claimed: true });
  w.stop(); // terminated while it holds its reference and a buffer
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(new Uint8Array(memory.buffer)[100], 42);
  new Uint8Array(memory.buffer)[101] = 1; // still mapped and ours
  const replay = worker({ engine: engine.share(), memory: token, wat: WAT, op: "replay" });
  try {
    const message = await next(replay.messages);
    assert.match(String(message.refused), /already claimed/);
  } finally {
    replay.stop();
  }
});

Deno.test("SharedMemory: collected objects detach their buffers, a transferred buffer keeps the memory (subprocess)", async () => {
  const result = await runIsolated(`
const { Engine, SharedMemory } = await import(${JSON.stringify(MOD_URL)});
const collect = async () => { for (let i = 0; i < 6; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 10)); } };
const engine = new Engine({ threads: true, sharedMemory: true });
let buffer = (() => new SharedMemory(engine, { minimum: 1, maximum: 1, shared: true }).buffer)();
new Uint8Array(buffer)[0] = 1;
await collect();
console.log("collected", buffer.byteLength);
const kept = new SharedMemory(engine, { minimum: 1, maximum: 1, shared: true });
const moved = new Uint8Array(kept.buffer.transfer());
kept[Symbol.dispose]();
await collect();
moved[5] = 7; // the memory was kept, not freed under the alias
console.log("moved", moved[5], moved.length);
`);
  assertClean(result);
  assert.equal(result.stdout, "collected 0\nmoved 7 65536\n");
  assert.match(result.stderr, /SharedMemory.buffer was transferred/);
});

Deno.test("an exported memory is one object per instance: a buffer taken from a temporary lives on", () => {
  // `new Int32Array(instance.getExport("memory").buffer)` used to hold the only reference to a
  // temporary SharedMemory; once it was collected, the view was detached and writes were lost.
  using engine = new Engine({ threads: true, sharedMemory: true });
  using store = new Store(engine);
  using module = new Module(
    engine,
    `(module (memory (export "memory") 1 1 shared)
      (func (export "get") (result i32) (i32.atomic.load (i32.const 0))))`,
  );
  const instance = new Instance(store, module, []);
  assert.equal(instance.getExport("memory"), instance.getExport("memory"));
  const view = new Int32Array((instance.getExport("memory") as SharedMemory).buffer);
  for (let i = 0; i < 5; i++) (globalThis as { gc?: () => void }).gc?.();
  view[0] = 7;
  assert.equal(view.length, 65536 / 4);
  assert.equal(instance.getFunc("get")!.call(), 7);
});
