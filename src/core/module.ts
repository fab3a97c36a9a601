/**
 * Compiled modules: compile, validate, inspect, serialize and deserialize.
 *
 * @module
 */
import { newVec, OutCell, plainBytes, takeByteVec } from "../ffi/raw.ts";
import { WasmtimeError } from "../errors.ts";
import { readChecked } from "../permissions.ts";
import { loadCached, loadCachedAsync } from "./module_cache.ts";
import { check, takeError } from "./failure.ts";
import { ffi } from "../ffi/symbols.ts";
import { Handle } from "../ffi/handle.ts";
import { type Engine, enginePointer } from "./engine.ts";
import { fromRaw, takeRaw } from "../internal.ts";
import { type ExportType, type ImportType, takeExportTypes, takeImportTypes } from "./types.ts";
import { moduleBytes } from "./wat.ts";

/** Package-private: the native `wasmtime_module_t *` (borrowed); throws if the module was disposed. */
export let modulePointer: (module: Module, action: string) => Deno.PointerObject;

/** The `wasmtime_module_t **` out-parameter of compile and deserialize. */
const moduleOut = new OutCell();

/** Converts and frees a compile error; says what to do when the engine targets elsewhere. */
function compileError(error: Deno.PointerObject, engine: Engine): WasmtimeError {
  const converted = takeError(error, "cannot compile the module");
  const target = engine.options.target;
  // Wasmtime checks this before compiling anything, so nothing was wasted.
  if (target === undefined || !converted.message.includes("not compatible with the native host")) {
    return converted;
  }
  return new WasmtimeError(
    `cannot compile the module: the Engine compiles for ${JSON.stringify(target)}, not for this ` +
      "host, so its code cannot be loaded here. Use engine.precompile(wasm) and load the " +
      "result with Module.deserialize on a machine of that target",
    { details: converted.details ?? converted.message },
  );
}

/**
 * A compiled WebAssembly module, ready to be instantiated in any store of its engine.
 *
 * @example
 * ```ts
 * import { Engine, Module } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine();
 * using module = new Module(engine, `(module (func (export "run") (param i32) (result i64)
 *   i64.const 0))`);
 * console.log(module.exports); // [{ name: "run", type: { kind: "func", params: ["i32"], ... } }]
 * const bytes = module.serialize(); // precompiled; load with Module.deserialize
 * ```
 */
export class Module {
  readonly #handle: Handle;
  readonly #engine: Engine;
  #imports: ImportType[] | undefined;
  #exports: ExportType[] | undefined;

  /**
   * Compiles a module from WAT text (a string) or wasm bytes. Throws a
   * {@linkcode WasmtimeError} for malformed or invalid input.
   */
  constructor(engine: Engine, source: string | Uint8Array | ArrayBuffer) {
    const raw = takeRaw<{ engine: Engine; pointer: Deno.PointerObject }>();
    if (raw !== undefined) {
      // A module made by deserialization: own its pointer.
      this.#engine = raw.engine;
      this.#handle = new Handle(
        this,
        "Module",
        raw.pointer,
        (p) => ffi().wasmtime_module_delete(p),
      );
      return;
    }
    this.#engine = engine;
    const bytes = moduleBytes(source, "new Module");
    const error = ffi().wasmtime_module_new(
      enginePointer(engine, "new Module"),
      bytes as Uint8Array<ArrayBuffer>,
      BigInt(bytes.length),
      moduleOut.bytes,
    );
    if (error !== null) throw compileError(error, engine);
    this.#handle = new Handle(
      this,
      "Module",
      moduleOut.takePointer()!,
      (p) => ffi().wasmtime_module_delete(p),
    );
  }

  static {
    modulePointer = (module, action) => module.#handle.pointer(action);
  }

  static #fromPointer(engine: Engine, pointer: Deno.PointerObject): Module {
    return fromRaw(Module, { engine, pointer });
  }

  /**
   * Compiles a module like `new Module`, but off the JS thread: Wasmtime compiles on Deno's
   * blocking thread pool while the event loop keeps running (timers, I/O, other calls), and the
   * promise settles with the module or with the same {@linkcode WasmtimeError} `new Module`
   * would throw. The bytes are copied first, so the caller may reuse, change or transfer its
   * buffer at once; the compile holds its own reference to the engine, so disposing the Engine
   * meanwhile is safe (the module still arrives and works, as modules of a disposed engine do).
   * WAT text is converted to binary before the call returns.
   *
   * @example
   * ```ts
   * import { Engine, Module } from "@wasmtime-deno/wasmtime";
   * using engine = new Engine();
   * const wasm = await Deno.readFile("app.wasm");
   * using module = await Module.compile(engine, wasm); // timers keep firing meanwhile
   * ```
   */
  static async compile(engine: Engine, source: string | Uint8Array | ArrayBuffer): Promise<Module> {
    const bytes = moduleBytes(source, "Module.compile");
    const job = ffi().wasmtime_deno_compile_new(
      enginePointer(engine, "Module.compile"),
      bytes as Uint8Array<ArrayBuffer>,
      BigInt(bytes.length),
    )!;
    await ffi().wasmtime_deno_compile_run(job);
    const out = new OutCell();
    const error = ffi().wasmtime_deno_compile_finish(job, out.bytes);
    if (error !== null) throw compileError(error, engine);
    return Module.#fromPointer(engine, out.takePointer()!);
  }

  /**
   * Reads the file at `path` (with Deno's permissions) and compiles it off the JS thread, as
   * {@linkcode Module.compile} does.
   *
   * @example
   * ```ts
   * import { Engine, Module } from "@wasmtime-deno/wasmtime";
   * using engine = new Engine();
   * using module = await Module.fromFile(engine, "app.wasm");
   * ```
   */
  static async fromFile(engine: Engine, path: string | URL): Promise<Module> {
    return await Module.compile(engine, await Deno.readFile(path));
  }

  /**
   * Checks that `source` is a valid module for `engine` without compiling it; throws a
   * {@linkcode WasmtimeError} describing the first problem.
   */
  static validate(engine: Engine, source: string | Uint8Array | ArrayBuffer): void {
    const bytes = moduleBytes(source, "Module.validate");
    check(
      ffi().wasmtime_module_validate(
        enginePointer(engine, "Module.validate"),
        bytes as Uint8Array<ArrayBuffer>,
        BigInt(bytes.length),
      ),
      "invalid module",
    );
  }

  /**
   * Loads a module serialized by {@linkcode serialize} or `Engine.precompile` with an engine
   * of the same Wasmtime version and compatible options (others are rejected with an error).
   *
   * **The bytes are native code.** Wasmtime checks a header (version, engine settings) and
   * maps the rest as executable; nothing verifies that the code does what any wasm would.
   * Bytes crafted or altered by someone else can run anything with this process's rights,
   * Deno permissions notwithstanding. Only deserialize bytes you produced yourself (or got
   * over a channel as trusted as your own program).
   *
   * @example
   * ```ts
   * import { Engine, Module } from "@wasmtime-deno/wasmtime";
   * using engine = new Engine();
   * const compiled = engine.precompile(`(module (func (export "f")))`);
   * using module = Module.deserialize(engine, compiled);
   * ```
   */
  static deserialize(engine: Engine, source: Uint8Array): Module {
    const bytes = source instanceof Uint8Array ? plainBytes(source) : undefined;
    if (bytes === undefined) {
      throw new WasmtimeError("Module.deserialize(engine, bytes): bytes must be a Uint8Array");
    }
    const error = ffi().wasmtime_module_deserialize(
      enginePointer(engine, "Module.deserialize"),
      bytes as Uint8Array<ArrayBuffer>,
      BigInt(bytes.length),
      moduleOut.bytes,
    );
    if (error !== null) throw takeError(error, "cannot deserialize the module");
    return Module.#fromPointer(engine, moduleOut.takePointer()!);
  }

  /**
   * Loads a serialized module from the file at `path`. The file is opened once and must be a
   * regular file readable under Deno's grant also where it really leads (symlinks followed;
   * a link swapped while it is opened is refused); its bytes are read from that descriptor
   * and then deserialized as by {@linkcode deserialize}, whose warning applies: **only load
   * files you produced.**
   *
   * The file is copied into memory, not mapped: Wasmtime's own mapped mode would crash the
   * process (SIGBUS) if the file were truncated while the module is alive. Copying costs
   * about 0.7 ms per MB more than mapping (measured on Linux: 11.5 MB, 1.9 ms mapped, 9.4 ms
   * copied), still far below compiling.
   *
   * @example
   * ```ts
   * import { Engine, Module } from "@wasmtime-deno/wasmtime";
   * using engine = new Engine();
   * Deno.writeFileSync("app.cwasm", engine.precompile(await Deno.readFile("app.wasm")));
   * using module = Module.deserializeFile(engine, "app.cwasm");
   * ```
   */
  static deserializeFile(engine: Engine, path: string): Module {
    if (typeof path !== "string") {
      throw new WasmtimeError("Module.deserializeFile(engine, path): path must be a string");
    }
    enginePointer(engine, "Module.deserializeFile");
    const { bytes } = readChecked(path, "Module.deserializeFile");
    const error = ffi().wasmtime_module_deserialize(
      enginePointer(engine, "Module.deserializeFile"),
      bytes,
      BigInt(bytes.length),
      moduleOut.bytes,
    );
    if (error !== null) throw takeError(error, `cannot deserialize ${path}`);
    return Module.#fromPointer(engine, moduleOut.takePointer()!);
  }

  /**
   * Compiles `source` once and caches the compiled code in `options.dir`: later calls (in this
   * or another process) load it instead of compiling. Needs read and write permission for
   * `dir` (only JS touches it, so Deno's deny rules inside it apply as usual).
   *
   * Entries are native code, so the directory is trusted only if nobody else can write it:
   * it must belong to the current user and not be writable by group or others, and so must
   * its parents (owned by the user or root; world-writable only with the sticky bit, like
   * /tmp), as far as Deno lets the process inspect them; otherwise this throws a
   * {@linkcode WasmtimeError} that says what to chmod. A missing directory is created with
   * mode 0700. Each entry is bound to its source: its manifest (`<key>.json`, next to the
   * compiled `<key>.cwasm`) names the key (SHA-256 of the wasm bytes, Wasmtime version, target,
   * engine options) and records what `fstat` said of the `.cwasm` when it was written
   * (device, inode, size, mtime, ctime). A hit opens the `.cwasm` once and loads it only if
   * the opened file still matches, so it costs about a {@linkcode deserializeFile} (the
   * compiled bytes are not hashed). An entry rewritten, truncated, replaced or copied in
   * (even with its manifest), a foreign manifest, a link, a file that is not regular, owned
   * by another user or writable by others: each is recompiled and replaced, never loaded.
   *
   * @example
   * ```ts
   * import { Engine, Module } from "@wasmtime-deno/wasmtime";
   * using engine = new Engine();
   * const wasm = await Deno.readFile("app.wasm");
   * using module = Module.cached(engine, wasm, { dir: "./.wasm-cache" });
   * ```
   */
  static cached(
    engine: Engine,
    source: string | Uint8Array | ArrayBuffer,
    options: { dir: string },
  ): Module {
    return loadCached(Module, engine, moduleBytes(source, "Module.cached"), options?.dir);
  }

  /**
   * {@linkcode Module.cached}, compiling off the JS thread (as {@linkcode Module.compile}) when
   * the cache has no valid entry; the cache directory's checks and the entry's binding are
   * the same. The bytes are copied before the promise is returned.
   *
   * @example
   * ```ts
   * import { Engine, Module } from "@wasmtime-deno/wasmtime";
   * using engine = new Engine();
   * const wasm = await Deno.readFile("app.wasm");
   * using module = await Module.cachedAsync(engine, wasm, { dir: "./.wasm-cache" });
   * ```
   */
  static async cachedAsync(
    engine: Engine,
    source: string | Uint8Array | ArrayBuffer,
    options: { dir: string },
  ): Promise<Module> {
    // No await before loadCachedAsync hashes the bytes and Module.compile copies them.
    return await loadCachedAsync(
      Module,
      engine,
      moduleBytes(source, "Module.cachedAsync"),
      options?.dir,
    );
  }

  /** The engine the module was compiled for. */
  get engine(): Engine {
    return this.#engine;
  }

  /** What the module imports, in order. */
  get imports(): ImportType[] {
    if (this.#imports === undefined) {
      const vec = newVec();
      const module = this.#handle.pointer("Module.imports");
      ffi().wasmtime_module_imports(module, vec);
      this.#imports = takeImportTypes(vec, module, this.#engine);
    }
    return this.#imports;
  }

  /** What the module exports, in order. */
  get exports(): ExportType[] {
    if (this.#exports === undefined) {
      const vec = newVec();
      const module = this.#handle.pointer("Module.exports");
      ffi().wasmtime_module_exports(module, vec);
      this.#exports = takeExportTypes(vec, module, this.#engine);
    }
    return this.#exports;
  }

  /** The compiled module as bytes for {@linkcode Module.deserialize}. */
  serialize(): Uint8Array<ArrayBuffer> {
    const vec = newVec();
    check(
      ffi().wasmtime_module_serialize(this.#handle.pointer("serialize"), vec),
      "Module.serialize",
    );
    return takeByteVec(vec);
  }

  /** True once disposed. */
  get disposed(): boolean {
    return this.#handle.disposed;
  }

  /** Frees the compiled module; instances made from it keep working. Idempotent. */
  [Symbol.dispose](): void {
    this.#handle.dispose();
  }
}
