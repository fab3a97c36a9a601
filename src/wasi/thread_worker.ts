/**
 * The Worker of one wasi-threads thread (see threads.ts): claims the run's engine, shared memory
 * and output streams, instantiates the module in a store of its own and runs `_start` (the main
 * thread) or `wasi_thread_start(tid, start_arg)`, then reports how that ended.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { stopWhen } from "../core/async.ts";
import { Engine } from "../core/engine.ts";
import { FuncType } from "../core/types.ts";
import { defineBlockingFunc, Linker } from "../core/linker.ts";
import { Module } from "../core/module.ts";
import { SharedMemory } from "../core/shared_memory.ts";
import { Store } from "../core/store.ts";
import { Trap, WasiExit } from "../errors.ts";
import { adoptCapture } from "./config.ts";
import { wasiConfigFrom } from "./run.ts";
import {
  STATE_ENDED,
  STATE_LIVE,
  STATE_NEXT_TID,
  STATE_RUNNING,
  type ThreadReport,
  type ThreadStart,
} from "./threads.ts";

/** The largest thread id wasi-threads allows (ids are positive and fit in 29 bits). */
const MAX_TID = 0x1fffffff;
/** WASI's EAGAIN, negated: what `thread-spawn` returns when no thread can be started. */
const SPAWN_FAILED = -6;
/**
 * The store's epoch deadline: nothing advances a threaded run's engine but the run's end, whose
 * one `incrementEpoch` then stops every thread still computing.
 */
const END_OF_RUN_TICKS = 1;

function report(message: ThreadReport): void {
  self.postMessage(message);
}

function run(start: ThreadStart): void {
  const state = new Int32Array(start.state);
  using engine = Engine.claim(start.engine);
  using memory = SharedMemory.claim(start.memory);
  using module = Module.deserialize(engine, start.module);
  const wasi = wasiConfigFrom({
    args: start.args,
    env: start.env,
    inheritEnv: start.inheritEnv,
    preopens: start.preopens,
    stdin: start.stdin,
    stdout: start.stdout === "inherit" ? "inherit" : "capture",
    stderr: start.stderr === "inherit" ? "inherit" : "capture",
  });
  if (start.stdout !== "inherit") adoptCapture(wasi, 1, start.stdout);
  if (start.stderr !== "inherit") adoptCapture(wasi, 2, start.stderr);
  using _wasi = wasi;
  using store = new Store(engine, {
    wasi,
    fuel: start.fuel ?? (engine.options.consumeFuel ? 2n ** 63n - 1n : undefined),
    limits: {
      tableElements: start.limits.maxTableElements ?? 1_000_000,
      instances: start.limits.maxInstances ?? 10,
      tables: start.limits.maxTables ?? 10,
      memories: start.limits.maxMemories ?? 10,
    },
  });
  store.setEpochDeadline(END_OF_RUN_TICKS);
  // After the deadline was set: a run that ended before then is seen here, one that ends later
  // advances the epoch past it.
  if (Atomics.load(state, STATE_ENDED) === 1) return;
  // WASI linked asynchronously: a thread waiting in WASI (a sleep, an idle pipe) then waits in
  // a call future this Worker polls, which the run's end can drop; a synchronous WASI call
  // could not be left, and neither terminate() nor the epoch reaches into it.
  stopWhen(store, () => Atomics.load(state, STATE_ENDED) === 1);
  using linker = new Linker(engine);
  linker.defineWasi({ async: true });
  linker.define(store, start.memoryImport.module, start.memoryImport.name, memory);
  using spawnType = new FuncType(["i32"], ["i32"]);
  // A plain host function cannot run on the fiber of an async-WASI store's call future.
  defineBlockingFunc(linker, "wasi", "thread-spawn", spawnType, (_caller, startArg: number) => {
    if (Atomics.load(state, STATE_ENDED) === 1) return SPAWN_FAILED;
    if (Atomics.add(state, STATE_LIVE, 1) >= start.maxThreads) {
      Atomics.sub(state, STATE_LIVE, 1);
      return SPAWN_FAILED;
    }
    const tid = Atomics.add(state, STATE_NEXT_TID, 1) + 1;
    if (tid > MAX_TID) {
      Atomics.sub(state, STATE_LIVE, 1);
      return SPAWN_FAILED;
    }
    report({ type: "spawn", tid, startArg });
    return tid;
  });
  const instance = linker.instantiate(store, module);
  if (start.thread === undefined) {
    const main = instance.getFunc("_start");
    if (main === undefined) throw new Error("the module has no _start export");
    main.call();
  } else {
    const entry = instance.getFunc("wasi_thread_start");
    if (entry === undefined) {
      throw new Error("the module spawned a thread but exports no wasi_thread_start");
    }
    entry.call(start.thread.tid, start.thread.startArg);
  }
}

self.onmessage = ({ data }: MessageEvent<ThreadStart>) => {
  const state = new Int32Array(data.state);
  try {
    if (Atomics.load(state, STATE_ENDED) === 1) return;
    run(data);
    report({ type: "done" });
  } catch (error) {
    if (error instanceof WasiExit) report({ type: "exit", status: error.status });
    else if (error instanceof Trap) {
      report({
        type: "trap",
        message: error.message,
        code: error.code,
        frames: error.frames,
        details: error.details,
      });
    } else report({ type: "error", message: (error as Error)?.message ?? String(error) });
  } finally {
    if (data.thread !== undefined) Atomics.sub(state, STATE_LIVE, 1);
    Atomics.sub(state, STATE_RUNNING, 1);
    self.close();
  }
};
