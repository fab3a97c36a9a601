/**
 * WASI preview 1 configuration with capabilities checked against Deno's permissions: the guest
 * never gets a directory, file or environment variable the Deno process could not access.
 *
 * @module
 */
import { resolve } from "node:path";
import { cString, plainBytes, pointerArray, utf8 } from "../ffi/raw.ts";
import { WasmtimeError } from "../errors.ts";
import { realTarget, requirePermission } from "../permissions.ts";
import { ffi } from "../ffi/symbols.ts";
import { wasiBridge } from "../internal.ts";
import { VEC_SIZE } from "../ffi/layout.ts";
import { openForGuest } from "./open.ts";
import { CapturedOutput, capturePointer, DEFAULT_CAPTURE_LIMIT } from "./capture.ts";
import { type HandoffToken, tokenBytes, unclaimable } from "../core/handoff.ts";

/**
 * Package-private: makes `config` write `stream` (1 stdout, 2 stderr) into the capture a
 * token from `shareCapture` stands for, instead of a capture of its own (the threads of one
 * run share their output streams).
 */
export let adoptCapture: (
  config: WasiConfig,
  stream: 1 | 2,
  token: HandoffToken<"CapturedOutput">,
) => void;

/**
 * Where a guest's standard input comes from.
 *
 * @example
 * ```ts
 * import { type StdinSource, WasiConfig } from "@wasmtime-deno/wasmtime/wasi";
 * const input: StdinSource = new TextEncoder().encode("line 1\nline 2\n");
 * const wasi = new WasiConfig().stdin(input);
 * ```
 */
export type StdinSource = Uint8Array | string | { file: string } | "inherit";
/**
 * Where a guest's standard output or error goes.
 *
 * @example
 * ```ts
 * import { type OutputTarget, WasiConfig } from "@wasmtime-deno/wasmtime/wasi";
 * const target: OutputTarget = { file: "./guest.log" };
 * const wasi = new WasiConfig().stdoutTo(target);
 * ```
 */
export type OutputTarget = "capture" | "inherit" | { file: string };

/**
 * Options of a preopened directory.
 *
 * @example
 * ```ts
 * import { WasiConfig } from "@wasmtime-deno/wasmtime/wasi";
 * const wasi = new WasiConfig().preopen("./out", "/out", { mutable: true });
 * ```
 */
export interface PreopenOptions {
  /** Allow creating, writing, renaming and deleting (default: read-only). */
  mutable?: boolean;
}

/**
 * Network access of a WASI 0.2 guest (`WasiConfig.network`, `runWasi`'s `network`): which
 * protocols it may use. Every address (and name) is still checked against Deno's
 * `--allow-net` when the guest uses it.
 *
 * @example
 * ```ts
 * import { type NetworkOptions, WasiConfig } from "@wasmtime-deno/wasmtime/wasi";
 * const onlyHttp: NetworkOptions = { tcp: false, udp: false, lookup: false, http: true };
 * const wasi = new WasiConfig().network(onlyHttp);
 * ```
 */
export interface NetworkOptions {
  /** `wasi:sockets` TCP (default true). */
  tcp?: boolean;
  /** `wasi:sockets` UDP (default true). */
  udp?: boolean;
  /** `wasi:sockets/ip-name-lookup` (default true). */
  lookup?: boolean;
  /** `wasi:http/outgoing-handler` (default true). */
  http?: boolean;
}

/**
 * Package-private: `WasiConfig.network`'s argument with every protocol spelled out, or
 * undefined for no network. Throws for anything but a boolean or an object of booleans.
 */
export function networkOptions(
  options: boolean | NetworkOptions,
  action: string,
): Required<NetworkOptions> | undefined {
  if (options === false) return undefined;
  if (options !== true && (typeof options !== "object" || options === null)) {
    throw new WasmtimeError(
      `${action}: expected true, false or { tcp, udp, lookup, http } (booleans)`,
    );
  }
  const given: NetworkOptions = options === true ? {} : options;
  const flag = (key: keyof NetworkOptions): boolean => {
    const value = given[key];
    if (value !== undefined && typeof value !== "boolean") {
      throw new WasmtimeError(`${action}: ${key} must be a boolean`);
    }
    return value !== false;
  };
  return { tcp: flag("tcp"), udp: flag("udp"), lookup: flag("lookup"), http: flag("http") };
}

export { CapturedOutput, DEFAULT_CAPTURE_LIMIT } from "./capture.ts";

// Only a directory can be granted in part (a deny rule inside it): that is a preopen.
const NARROWER = "Preopen a narrower directory that contains no denied path";

function requireRead(path: string, why: string): void {
  requirePermission({ name: "read", path }, `WASI: ${why} needs read access to ${path}`, {
    narrower: NARROWER,
  });
}

function requireWrite(path: string, why: string): void {
  requirePermission({ name: "write", path }, `WASI: ${why} needs write access to ${path}`, {
    narrower: NARROWER,
  });
}

/** Checks that `value` is a usable host path: a string without NUL bytes. */
function hostPath(value: unknown, what: string): string {
  if (typeof value !== "string" || value.length === 0 || value.includes("\0")) {
    throw new WasmtimeError(`WasiConfig: ${what} must be a non-empty path without NUL bytes`);
  }
  return value;
}

/** Checks an {@linkcode OutputTarget}; a bare path is refused (it belongs in `{ file }`). */
function outputTarget(target: OutputTarget, action: string): OutputTarget {
  if (target === "capture" || target === "inherit") return target;
  if (typeof target === "object" && target !== null) {
    hostPath(target.file, `${action}({ file })`);
    return { file: target.file };
  }
  throw new WasmtimeError(
    `WasiConfig.${action}: expected "capture", "inherit" or { file: path }, got ` +
      `${JSON.stringify(target)}${
        typeof target === "string" ? ` (write { file: ${JSON.stringify(target)} })` : ""
      }`,
  );
}

/** C strings and the array of pointers to them, kept alive together. */
function cStringArray(values: readonly string[]): {
  strings: Uint8Array[];
  pointers: Uint8Array<ArrayBuffer>;
} {
  const strings = values.map((v) => cString(v));
  return { strings, pointers: pointerArray(strings) };
}

interface Preopen {
  host: string;
  guest: string;
  mutable: boolean;
}

/**
 * What a WASI guest may see: arguments, environment, standard streams and preopened
 * directories. Every host resource is checked against Deno's permissions when the
 * configuration is handed to a store, and refused with a {@linkcode PermissionError} naming
 * the missing flag.
 *
 * Standard output and error are captured unless redirected (`stdoutTo`, `stderrTo`), as in
 * `runWasi`: a guest's output is data by default, and a sandboxed guest does not write to the
 * host's terminal unless told to. Read it from {@linkcode stdout} / {@linkcode stderr}.
 *
 * Calling a command's `_start` yourself: a guest that calls `proc_exit(n)` ends the call with
 * a {@linkcode WasiExit} (`status` n, also for n = 0); a trap is a `Trap`. `runWasi` turns
 * the first into its `exitCode`.
 *
 * @example
 * ```ts
 * import { Engine, Linker, Module, Store } from "@wasmtime-deno/wasmtime";
 * import { WasiConfig, WasiExit } from "@wasmtime-deno/wasmtime/wasi";
 * using engine = new Engine();
 * using wasi = new WasiConfig().args(["app"]).preopen("./data", "/data");
 * using store = new Store(engine, { wasi });
 * using linker = new Linker(engine).defineWasi();
 * using module = await Module.fromFile(engine, "app.wasm");
 * let exitCode = 0;
 * try {
 *   linker.instantiate(store, module).getFunc("_start")!.call();
 * } catch (error) {
 *   if (!(error instanceof WasiExit)) throw error;
 *   exitCode = error.status;
 * }
 * console.log(exitCode, wasi.stdout.text());
 * ```
 */
export class WasiConfig {
  #args: string[] = [];
  #env: Record<string, string> = {};
  #inheritEnv = false;
  #stdin: StdinSource | undefined;
  #stdout: OutputTarget = "capture";
  #stderr: OutputTarget = "capture";
  #captureLimit = DEFAULT_CAPTURE_LIMIT;
  #preopens: Preopen[] = [];
  #network: Required<NetworkOptions> | undefined;
  /** The native gate of the network's checks, from building until a store takes it. */
  #gate: Deno.PointerObject | null = null;
  #consumed = false;
  /** Native captures taken from tokens (`adoptCapture`), attached in place of our own. */
  readonly #adopted: { 1?: Deno.PointerObject; 2?: Deno.PointerObject } = {};
  /** The captures of standard output and error, made on first use. */
  readonly #captures: { 1?: CapturedOutput; 2?: CapturedOutput } = {};

  /**
   * Captured standard output (empty until the guest writes). Throws if standard output goes
   * elsewhere (`stdoutTo("inherit")` or `{ file }`).
   */
  get stdout(): CapturedOutput {
    return this.#capture(1, this.#stdout, "stdout");
  }

  /** Captured standard error, likewise (throws after `stderrTo("inherit")` or `{ file }`). */
  get stderr(): CapturedOutput {
    return this.#capture(2, this.#stderr, "stderr");
  }

  #capture(stream: 1 | 2, target: OutputTarget, name: string): CapturedOutput {
    if (target !== "capture") {
      const where = target === "inherit" ? "is inherited" : `goes to ${target.file}`;
      throw new WasmtimeError(
        `WasiConfig.${name}: the guest's ${name} ${where}, so nothing is captured; ` +
          `capture it with ${name}To("capture") (the default)`,
      );
    }
    return this.#captures[stream] ??= new CapturedOutput(this.#captureLimit);
  }

  #mutate(action: string): void {
    if (this.#consumed) {
      throw new WasmtimeError(
        `WasiConfig.${action}: the configuration was already given to a store; create a new one`,
      );
    }
  }

  /** Sets the program arguments (argv, including argv[0]). */
  args(args: readonly string[]): this {
    this.#mutate("args");
    if (!Array.isArray(args) || args.some((a) => typeof a !== "string")) {
      throw new WasmtimeError("WasiConfig.args: expected an array of strings");
    }
    this.#args = [...args];
    return this;
  }

  /** Sets environment variables explicitly (no permission needed: the values are yours). */
  env(env: Record<string, string>): this {
    this.#mutate("env");
    for (const [k, v] of Object.entries(env)) {
      if (typeof v !== "string" || k.includes("=")) {
        throw new WasmtimeError(`WasiConfig.env: invalid variable ${JSON.stringify(k)}`);
      }
    }
    this.#env = { ...this.#env, ...env };
    return this;
  }

  /** Passes the whole host environment (needs unrestricted `--allow-env`). */
  inheritEnv(): this {
    this.#mutate("inheritEnv");
    this.#inheritEnv = true;
    return this;
  }

  /**
   * Standard input: bytes, a string, `{ file }` or "inherit". A `{ file }` must be a regular
   * file readable under Deno's grant, also where it really leads (symlinks followed); it is
   * read whole into memory when the configuration is given to a store (so later changes to
   * the file are not seen, and a pipe or device is refused: use "inherit" or bytes).
   */
  stdin(source: StdinSource): this {
    this.#mutate("stdin");
    if (typeof source === "object" && source !== null && "file" in source) {
      hostPath(source.file, "stdin({ file })");
    }
    this.#stdin = source;
    return this;
  }

  /**
   * Caps captured bytes per stream (default 1 GiB); the guest gets EIO beyond it. Set it before
   * reading {@linkcode stdout} or {@linkcode stderr}, which make the captures.
   */
  captureLimit(bytes: number): this {
    this.#mutate("captureLimit");
    if (this.#captures[1] !== undefined || this.#captures[2] !== undefined) {
      throw new WasmtimeError(
        "WasiConfig.captureLimit: stdout or stderr was already read, which made its capture " +
          "with the old limit; set the limit first",
      );
    }
    this.#captureLimit = bytes;
    return this;
  }

  /**
   * Where standard output goes: "capture" (the default; read {@linkcode stdout}), "inherit" or
   * `{ file }` (needs write permission).
   */
  stdoutTo(target: OutputTarget): this {
    this.#mutate("stdoutTo");
    this.#stdout = outputTarget(target, "stdoutTo");
    return this;
  }

  /**
   * Where standard error goes: "capture" (the default; read {@linkcode stderr}), "inherit" or
   * `{ file }` (needs write permission).
   */
  stderrTo(target: OutputTarget): this {
    this.#mutate("stderrTo");
    this.#stderr = outputTarget(target, "stderrTo");
    return this;
  }

  /**
   * Makes host directory `hostDir` visible to the guest as `guestPath`. Read-only unless
   * `mutable`; needs read (and, when mutable, write) permission for the directory.
   */
  preopen(hostDir: string, guestPath: string, options: PreopenOptions = {}): this {
    this.#mutate("preopen");
    if (typeof hostDir !== "string" || typeof guestPath !== "string") {
      throw new WasmtimeError("WasiConfig.preopen(hostDir, guestPath): expected two strings");
    }
    hostPath(hostDir, "preopen's hostDir");
    hostPath(guestPath, "preopen's guestPath");
    this.#preopens.push({ host: hostDir, guest: guestPath, mutable: options.mutable === true });
    return this;
  }

  /**
   * Lets a WASI 0.2 guest use the network (off by default): `wasi:sockets` TCP and UDP,
   * `wasi:sockets/ip-name-lookup` and `wasi:http` outgoing, or those `options` enable. Nothing
   * is granted up front: each address is checked against Deno's `--allow-net` when the guest
   * uses it (a connection or datagram: `ip:port`, or `name:port` for an address the guest
   * resolved from that name; a bind or listen: `ip:port`; an HTTP request: its `host:port`;
   * a name lookup: the name, on any port), deny rules included; a refusal is the guest's
   * `access-denied` (`HTTP-request-denied` for wasi:http). Needs WASI linked asynchronously
   * (not `syncWasi`).
   *
   * @example
   * ```ts
   * import { WasiConfig } from "@wasmtime-deno/wasmtime/wasi";
   * // Run with: deno run --allow-net=127.0.0.1:8080 ...
   * const wasi = new WasiConfig().args(["client", "127.0.0.1:8080"]).network();
   * ```
   */
  network(options: boolean | NetworkOptions = true): this {
    this.#mutate("network");
    this.#network = networkOptions(options, "WasiConfig.network");
    return this;
  }

  /** Checks every host resource against Deno's permissions; throws PermissionError. */
  checkPermissions(): void {
    if (this.#inheritEnv) {
      // Native code copies every variable, so a --deny-env rule (a partial grant) refuses it.
      requirePermission({ name: "env" }, "WASI: inheriting the environment needs env access", {
        narrower: "Pass the variables the guest needs with env({ NAME: value })",
      });
    }
    for (const preopen of this.#preopens) {
      const requested = resolve(preopen.host);
      const why = `preopening ${requested} as ${preopen.guest}`;
      requireRead(requested, why);
      if (preopen.mutable) requireWrite(requested, `${why} (mutable)`);
      // A symlink must not widen access: check where it really points, too.
      let real: string;
      try {
        real = Deno.realPathSync(requested);
      } catch (error) {
        throw new WasmtimeError(`WASI: cannot preopen ${requested}: ${(error as Error).message}`);
      }
      requireRead(real, why);
      if (preopen.mutable) requireWrite(real, `${why} (mutable)`);
      if (!Deno.statSync(real).isDirectory) {
        throw new WasmtimeError(`WASI: cannot preopen ${requested}: not a directory`);
      }
    }
    const stdin = this.#stdin;
    if (typeof stdin === "object" && stdin !== null && "file" in stdin) {
      // A preflight by path; the file itself is opened once and checked by what was opened
      // (see open.ts).
      const path = resolve(stdin.file);
      requireRead(path, "standard input from a file");
      requireRead(realTarget(path), "standard input from a file");
    }
    for (
      const [name, target] of [["standard output", this.#stdout], [
        "standard error",
        this.#stderr,
      ]] as const
    ) {
      if (typeof target === "object") {
        const path = resolve(target.file);
        requireWrite(path, `${name} to a file`);
        requireWrite(realTarget(path), `${name} to a file`);
      }
    }
  }

  static {
    wasiBridge.intoNative = (config) =>
      config instanceof WasiConfig ? config.#intoNative() : undefined;
    wasiBridge.attachNetwork = (config, context) => {
      if (!(config instanceof WasiConfig) || config.#gate === null) return false;
      const gate = config.#gate;
      config.#gate = null;
      if (context === null) {
        ffi().wasmtime_deno_net_gate_free(gate);
        return false;
      }
      ffi().wasmtime_deno_net_attach(context, gate);
      return true;
    };
    adoptCapture = (config, stream, token) => {
      const action = "runWasi (threads)";
      const pointer = ffi().wasmtime_deno_handoff_take_capture(
        tokenBytes(token, "CapturedOutput", action),
      );
      if (pointer === null) throw unclaimable("CapturedOutput", action);
      const previous = config.#adopted[stream];
      config.#adopted[stream] = pointer;
      if (previous !== undefined) ffi().wasmtime_deno_capture_delete(previous);
    };
  }

  /** Checks permissions and builds the native `wasi_config_t *` (once). */
  #intoNative(): Deno.PointerObject {
    this.#mutate("use");
    this.checkPermissions();
    const config = ffi().wasi_config_new()!;
    try {
      this.#configure(config);
    } catch (error) {
      ffi().wasi_config_delete(config);
      if (this.#gate !== null) ffi().wasmtime_deno_net_gate_free(this.#gate);
      this.#gate = null;
      throw error;
    }
    this.#consumed = true;
    return config;
  }

  #configure(config: Deno.PointerObject): void {
    const args = cStringArray(this.#args);
    if (!ffi().wasi_config_set_argv(config, BigInt(this.#args.length), args.pointers)) {
      throw new WasmtimeError("WASI: invalid arguments");
    }
    if (this.#inheritEnv) {
      ffi().wasi_config_inherit_env(config);
    } else {
      const names = cStringArray(Object.keys(this.#env));
      const values = cStringArray(Object.values(this.#env));
      if (
        !ffi().wasi_config_set_env(
          config,
          BigInt(names.strings.length),
          names.pointers,
          values.pointers,
        )
      ) {
        throw new WasmtimeError("WASI: invalid environment");
      }
    }
    const stdin = this.#stdin;
    if (stdin === "inherit") {
      ffi().wasi_config_inherit_stdin(config);
    } else if (typeof stdin === "string" || stdin instanceof Uint8Array) {
      const bytes = typeof stdin === "string" ? new TextEncoder().encode(stdin) : plainBytes(stdin);
      if (bytes === undefined) {
        throw new WasmtimeError("WasiConfig.stdin: bytes must be a Uint8Array");
      }
      const vec = new Uint8Array(VEC_SIZE);
      ffi().wasm_byte_vec_new(vec, BigInt(bytes.length), bytes as Uint8Array<ArrayBuffer>);
      ffi().wasi_config_set_stdin_bytes(config, vec);
    } else if (stdin !== undefined) {
      const fd = openForGuest(stdin.file, "read", "standard input from a file");
      ffi().wasmtime_deno_wasi_stdio_fd(config, fd, 0);
    }
    this.#output(config, this.#stdout, 1);
    this.#output(config, this.#stderr, 2);
    const network = this.#network;
    if (network !== undefined) {
      this.#gate = ffi().wasmtime_deno_wasi_config_network(
        config,
        network.tcp,
        network.udp,
        network.lookup,
      );
    }
    for (const preopen of this.#preopens) {
      const why = `preopening ${resolve(preopen.host)} as ${preopen.guest}`;
      const fd = openForGuest(preopen.host, "directory", why, preopen.mutable);
      try {
        const guest = utf8(preopen.guest);
        if (
          !ffi().wasmtime_deno_wasi_preopen_fd(
            config,
            fd,
            guest,
            BigInt(guest.length),
            preopen.mutable,
          )
        ) {
          throw new WasmtimeError(`WASI: cannot preopen ${preopen.host}`);
        }
      } finally {
        ffi().wasmtime_deno_fs_close(fd);
      }
    }
  }

  #output(config: Deno.PointerObject, target: OutputTarget, stream: 1 | 2): void {
    if (target === "inherit") {
      if (stream === 1) ffi().wasi_config_inherit_stdout(config);
      else ffi().wasi_config_inherit_stderr(config);
    } else if (target === "capture" && this.#adopted[stream] !== undefined) {
      const adopted = this.#adopted[stream];
      ffi().wasmtime_deno_capture_attach(config, adopted, stream);
      delete this.#adopted[stream];
      ffi().wasmtime_deno_capture_delete(adopted); // the stream holds its own reference
    } else if (target === "capture") {
      const capture = this.#capture(stream, target, stream === 1 ? "stdout" : "stderr");
      ffi().wasmtime_deno_capture_attach(config, capturePointer(capture, "attach"), stream);
    } else {
      const why = `${stream === 1 ? "standard output" : "standard error"} to a file`;
      ffi().wasmtime_deno_wasi_stdio_fd(config, openForGuest(target.file, "write", why), stream);
    }
  }

  /** Frees captured output buffers (bytes already read stay readable). Idempotent. */
  [Symbol.dispose](): void {
    for (const stream of [1, 2] as const) {
      const adopted = this.#adopted[stream];
      delete this.#adopted[stream];
      if (adopted !== undefined) ffi().wasmtime_deno_capture_delete(adopted);
    }
    this.#captures[1]?.[Symbol.dispose]();
    this.#captures[2]?.[Symbol.dispose]();
  }
}
