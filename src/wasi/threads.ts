/**
 * wasi-threads: `runWasi(..., { threads: true })`. As in Wasmtime's CLI, every thread is a new
 * instance of the module in a store of its own, importing the one shared memory; here each runs
 * on a Worker (thread_worker.ts), the main thread's `_start` included, so this thread's event
 * loop stays free to start Workers when a guest calls `wasi.thread-spawn`, and to end the run.
 *
 * The run ends when `_start` returns, when any thread calls `proc_exit` or traps, or at the
 * deadline. Threads still computing are then stopped through the epoch of the run's own engine
 * (every thread's store has a deadline one tick ahead, and nothing else advances it); threads
 * waiting in WASI (WASI is linked asynchronously, so such a wait is a call future its Worker
 * polls) see the run's end in the shared state within 10 ms and drop the call; a thread parked
 * in `memory.atomic.wait` cannot be woken but by a notify of its address (Wasmtime 48 has no
 * other way: wasmtime#12809), which the reaper sends until every Worker has closed.
 *
 * @module
 */
import { Engine } from "../core/engine.ts";
import { Module } from "../core/module.ts";
import { notifyAllWaiters, SharedMemory } from "../core/shared_memory.ts";
import { type HandoffToken, revokeToken } from "../core/handoff.ts";
import { type Frame, Trap, TrapCode, WasiTrap, WasmtimeError } from "../errors.ts";
import { CapturedOutput, DEFAULT_CAPTURE_LIMIT, shareCapture } from "./capture.ts";
import type { RunWasiOptions, WasiResult } from "./run.ts";
import { fileURLToPath } from "node:url";

/** Default cap on threads a guest may have running at once (`RunWasiOptions.maxThreads`). */
export const DEFAULT_MAX_THREADS = 16;

/** Slots of the run's state, an Int32Array over a SharedArrayBuffer every Worker sees. */
export const STATE_NEXT_TID = 0;
export const STATE_LIVE = 1;
export const STATE_ENDED = 2;
export const STATE_RUNNING = 3;
export const STATE_SLOTS = 4;

/** What a thread's Worker is told to do. */
export interface ThreadStart {
  engine: HandoffToken<"Engine">;
  memory: HandoffToken<"SharedMemory">;
  memoryImport: { module: string; name: string };
  module: Uint8Array;
  state: SharedArrayBuffer;
  maxThreads: number;
  /** The thread id and start argument, or undefined for the main thread (`_start`). */
  thread?: { tid: number; startArg: number };
  args: readonly string[];
  env?: Record<string, string>;
  inheritEnv?: boolean;
  preopens: RunWasiOptions["preopens"];
  stdin?: RunWasiOptions["stdin"];
  stdout: "inherit" | HandoffToken<"CapturedOutput">;
  stderr: "inherit" | HandoffToken<"CapturedOutput">;
  fuel?: number;
  limits: {
    maxTableElements?: number;
    maxInstances?: number;
    maxTables?: number;
    maxMemories?: number;
  };
}

/** What a thread's Worker reports. */
export type ThreadReport =
  | { type: "spawn"; tid: number; startArg: number }
  | { type: "done" }
  | { type: "exit"; status: number }
  | { type: "trap"; message: string; code: number | undefined; frames: Frame[]; details: string }
  | { type: "error"; message: string };

const WORKER_URL = new URL("./thread_worker.ts", import.meta.url);

function refuse(message: string): never {
  throw new WasmtimeError(`runWasi (threads): ${message}`);
}

function checkOptions(options: RunWasiOptions): number {
  if (options.link !== undefined || options.imports !== undefined) {
    refuse(
      "link and imports cannot be used: every thread runs in its own Worker, where JS " +
        "functions of this thread cannot run",
    );
  }
  for (const stream of ["stdout", "stderr"] as const) {
    const target = options[stream] ?? "capture";
    if (target !== "capture" && target !== "inherit") {
      refuse(`${stream} must be "capture" or "inherit" (the threads share one stream)`);
    }
  }
  if (options.cacheDir !== undefined) refuse("cacheDir is not supported; pass a compiled Module");
  const maxThreads = options.maxThreads ?? DEFAULT_MAX_THREADS;
  if (!Number.isSafeInteger(maxThreads) || maxThreads < 1) {
    refuse(`maxThreads must be a positive integer, got ${String(maxThreads)}`);
  }
  if (
    options.timeoutMs !== undefined &&
    (typeof options.timeoutMs !== "number" || !(options.timeoutMs >= 0))
  ) {
    refuse("timeoutMs must be a non-negative number of milliseconds");
  }
  return maxThreads;
}

/**
 * Refuses a run whose Workers could not load: Deno checks a Worker's module against the
 * permissions (read for a local one, net for a remote one), and without the grant every thread
 * failed with Deno's own "Requires read access to …/thread_worker.ts".
 */
function checkWorkerGrant(): void {
  // The Worker's module and everything it imports: the package's src/ directory.
  const sources = new URL("../", WORKER_URL);
  const local = sources.protocol === "file:";
  const descriptor: Deno.PermissionDescriptor = local
    ? { name: "read", path: sources }
    : { name: "net", host: sources.host };
  if (Deno.permissions.querySync(descriptor).state === "granted") return;
  const flag = local ? `--allow-read=${fileURLToPath(sources)}` : `--allow-net=${sources.host}`;
  refuse(
    `each thread runs on a Worker that loads ${WORKER_URL.href} and the modules it imports, ` +
      `and Deno checks a Worker's modules against the permissions: grant ${flag}`,
  );
}

/** The engine of a threaded run: threads, shared memory and epochs to stop threads with. */
function engineFor(source: unknown, options: RunWasiOptions): { engine: Engine; owned: boolean } {
  const given = options.engine ?? (source instanceof Module ? source.engine : undefined);
  if (given === undefined) {
    return {
      engine: new Engine({
        threads: true,
        sharedMemory: true,
        epochInterruption: true,
        consumeFuel: options.fuel !== undefined,
      }),
      owned: true,
    };
  }
  const { epochInterruption, sharedMemory, threads, consumeFuel } = given.options;
  if (!epochInterruption || sharedMemory === false || threads === false) {
    refuse(
      "the engine needs epochInterruption: true (to stop the other threads when the run ends) " +
        "and threads and sharedMemory not turned off; compile the module with new Engine({ " +
        "threads: true, sharedMemory: true, epochInterruption: true }) or pass a path or bytes",
    );
  }
  if (options.fuel !== undefined && !consumeFuel) {
    refuse("`fuel` needs an engine with consumeFuel: true");
  }
  return { engine: given, owned: false };
}

/** How long a run's end waits for its Workers to close before terminating the rest. */
const REAP_MS = 10_000;

/**
 * After a run ended: wakes parked threads until every Worker has closed itself (a thread may
 * park again before its next epoch check), then terminates what remains, and frees the memory
 * reference. Runs in the background, on unref'd timers. (`terminate()` cannot stop a Worker
 * inside a native call; threads waiting in WASI leave it on their own, see thread_worker.ts.)
 */
async function reap(memory: SharedMemory, flags: Int32Array, workers: Set<Worker>) {
  const until = performance.now() + REAP_MS;
  try {
    for (let round = 0; Atomics.load(flags, STATE_RUNNING) > 0; round++) {
      if (performance.now() > until) break;
      if (round > 0) {
        await new Promise((done) => Deno.unrefTimer(setTimeout(done, Math.min(2 ** round, 200))));
      }
      await notifyAllWaiters(memory);
    }
  } finally {
    for (const worker of workers) worker.terminate();
    workers.clear();
    memory[Symbol.dispose]();
  }
}

/** Runs a wasi-threads command: see `RunWasiOptions.threads`. */
export async function runThreaded(
  source: string | URL | Uint8Array | Module,
  options: RunWasiOptions,
): Promise<WasiResult> {
  const maxThreads = checkOptions(options);
  checkWorkerGrant();
  const { engine, owned } = engineFor(source, options);
  const disposers: (() => void)[] = [];
  if (owned) disposers.push(() => engine[Symbol.dispose]());
  // The threads run on an engine of this run alone (same options, so the module's code loads
  // there): the run's end advances its epoch, which must stop only this run's threads, not
  // those of another run of the same module, nor a timed call on the caller's engine (whose
  // ticker advances that engine's epoch and so trapped these threads).
  const threadEngine = owned ? engine : new Engine({ ...engine.options });
  if (!owned) disposers.push(() => threadEngine[Symbol.dispose]());
  try {
    let module: Module;
    if (source instanceof Module) {
      module = source;
    } else {
      const bytes = source instanceof Uint8Array ? source : await Deno.readFile(source);
      module = await Module.compile(engine, bytes);
      disposers.push(() => module[Symbol.dispose]());
    }
    const memories = module.imports.filter((item) => item.type.kind === "memory");
    const imported = memories[0];
    if (memories.length !== 1 || imported.type.kind !== "memory" || !imported.type.shared) {
      refuse(
        "a wasi-threads module imports exactly one shared memory (usually env.memory; link " +
          "with --import-memory --shared-memory)",
      );
    }
    const type = { ...imported.type };
    if (options.maxMemoryBytes !== undefined) {
      const pages = Math.floor(options.maxMemoryBytes / 2 ** (type.pageSizeLog2 ?? 16));
      if (pages < type.minimum) {
        refuse(
          `the module needs ${type.minimum} pages of memory at least, more than maxMemoryBytes`,
        );
      }
      type.maximum = Math.min(type.maximum ?? pages, pages);
    }
    const memory = new SharedMemory(threadEngine, { ...type, shared: true });
    disposers.push(() => memory[Symbol.dispose]());
    const code = module.serialize();
    const captures: { stdout?: CapturedOutput; stderr?: CapturedOutput } = {};
    for (const stream of ["stdout", "stderr"] as const) {
      if ((options[stream] ?? "capture") === "capture") {
        const capture = new CapturedOutput(options.maxCaptureBytes ?? DEFAULT_CAPTURE_LIMIT);
        captures[stream] = capture;
        disposers.push(() => capture[Symbol.dispose]());
      }
    }
    // The reference reap() uses after this function disposed `memory`.
    const reaper = SharedMemory.claim(memory.share());
    const state = new SharedArrayBuffer(STATE_SLOTS * 4);
    const flags = new Int32Array(state);
    return await new Promise<WasiResult>((resolve, reject) => {
      const workers = new Set<Worker>();
      // Tokens of Workers that may end before claiming them (revoking a claimed one is a no-op).
      const issued: HandoffToken[] = [];
      let timer: ReturnType<typeof setTimeout> | undefined;
      const output = () => ({
        stdout: captures.stdout?.bytes().slice() ?? new Uint8Array(0),
        stderr: captures.stderr?.bytes().slice() ?? new Uint8Array(0),
      });
      const finish = (outcome: { exitCode: number } | { trap: Trap } | { error: Error }) => {
        if (Atomics.exchange(flags, STATE_ENDED, 1) === 1) return;
        if (timer !== undefined) clearTimeout(timer);
        // Every thread's store is now past its deadline: a computing thread traps at its next
        // epoch check, a parked one once reap() wakes it; then its Worker closes itself.
        threadEngine.incrementEpoch();
        for (const token of issued) revokeToken(token);
        reap(reaper, flags, workers);
        const { stdout, stderr } = output();
        if ("trap" in outcome) reject(new WasiTrap(outcome.trap, stdout, stderr));
        else if ("error" in outcome) reject(outcome.error);
        else {
          resolve({
            exitCode: outcome.exitCode,
            stdout,
            stderr,
            get stdoutText() {
              return new TextDecoder("utf-8", { ignoreBOM: true }).decode(stdout);
            },
            get stderrText() {
              return new TextDecoder("utf-8", { ignoreBOM: true }).decode(stderr);
            },
          });
        }
      };
      const start = (thread: ThreadStart["thread"]) => {
        if (Atomics.load(flags, STATE_ENDED) === 1) return;
        let message: ThreadStart;
        try {
          message = {
            engine: threadEngine.share(),
            memory: memory.share(),
            memoryImport: { module: imported.module, name: imported.name },
            module: code,
            state,
            maxThreads,
            thread,
            args: options.args ?? ["main.wasm"],
            env: options.env,
            inheritEnv: options.inheritEnv,
            preopens: options.preopens,
            // One reader: the main thread gets standard input, the others an empty one.
            stdin: thread === undefined ? options.stdin : undefined,
            stdout: captures.stdout ? shareCapture(captures.stdout) : "inherit",
            stderr: captures.stderr ? shareCapture(captures.stderr) : "inherit",
            fuel: options.fuel,
            limits: {
              maxTableElements: options.maxTableElements,
              maxInstances: options.maxInstances,
              maxTables: options.maxTables,
              maxMemories: options.maxMemories,
            },
          };
        } catch (error) {
          finish({ error: error as Error });
          return;
        }
        issued.push(message.engine, message.memory);
        if (typeof message.stdout === "object") issued.push(message.stdout);
        if (typeof message.stderr === "object") issued.push(message.stderr);
        // Counted before it exists; the Worker uncounts itself as it closes.
        Atomics.add(flags, STATE_RUNNING, 1);
        const worker = new Worker(WORKER_URL, { type: "module" });
        workers.add(worker);
        worker.onmessage = ({ data }: MessageEvent<ThreadReport>) => {
          switch (data.type) {
            case "spawn":
              start({ tid: data.tid, startArg: data.startArg });
              return;
            case "done":
              if (thread === undefined) finish({ exitCode: 0 });
              return;
            case "exit":
              finish({ exitCode: data.status });
              return;
            case "trap":
              finish({
                trap: new Trap(
                  data.message,
                  data.code as TrapCode | undefined,
                  data.frames,
                  data.details,
                ),
              });
              return;
            case "error":
              finish({ error: new WasmtimeError(`runWasi (threads): ${data.message}`) });
              return;
          }
        };
        worker.onerror = (event) => {
          event.preventDefault();
          finish({
            error: new WasmtimeError(`runWasi (threads): a thread failed: ${event.message}`),
          });
        };
        try {
          worker.postMessage(message);
        } catch (error) {
          // An option that cannot be posted (a Symbol, a function): the Worker would wait for
          // its message forever, keeping the process alive.
          worker.terminate();
          workers.delete(worker);
          Atomics.sub(flags, STATE_RUNNING, 1);
          finish({
            error: new WasmtimeError(
              `runWasi (threads): the run's options cannot be posted to the threads' Workers ` +
                `(${(error as Error)?.message}); pass strings, numbers and bytes`,
            ),
          });
        }
      };
      if (options.timeoutMs !== undefined && options.timeoutMs !== Infinity) {
        timer = setTimeout(() => {
          finish({
            trap: new Trap(
              `runWasi (threads): the run reached its timeoutMs of ${options.timeoutMs} ms ` +
                "(wasm trap: interrupt)",
              TrapCode.Interrupt,
              [],
            ),
          });
        }, options.timeoutMs);
      }
      start(undefined);
    });
  } finally {
    for (const dispose of disposers.reverse()) dispose();
  }
}
