/**
 * Compiled modules: compile, validate, inspect, serialize and deserialize.
 *
 * @module
 */
import { cString, newVec, takeByteVec } from "./bytes.ts";
import { WasmtimeError } from "./error_types.ts";
import { requirePermission } from "./permissions.ts";
import { check, takeError } from "./errors.ts";
import { ffi } from "./ffi.ts";
import { Handle } from "./handle.ts";
import type { Engine } from "./engine.ts";
import { type ExportType, type ImportType, takeExportTypes, takeImportTypes } from "./types.ts";
import { moduleBytes } from "./wat.ts";
import { version } from "./version.ts";
import { createHash } from "node:crypto";
import { join, resolve } from "node:path";

const pointerOut = new BigUint64Array(1);
const pointerOutBytes = new Uint8Array(pointerOut.buffer);

function takePointerOut(): Deno.PointerObject {
  const pointer = Deno.UnsafePointer.create(pointerOut[0])!;
  pointerOut[0] = 0n;
  return pointer;
}

/** A module pointer made by deserialization, handed to the constructor to own. */
class Adopted {
  constructor(readonly pointer: Deno.PointerObject) {}
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
    this.#engine = engine;
    if (source instanceof Adopted) {
      this.#handle = new Handle(
        this,
        "Module",
        source.pointer,
        (p) => ffi().wasmtime_module_delete(p),
      );
      return;
    }
    const bytes = moduleBytes(source, "new Module");
    const error = ffi().wasmtime_module_new(
      engine.pointer("new Module"),
      bytes as Uint8Array<ArrayBuffer>,
      BigInt(bytes.length),
      pointerOutBytes,
    );
    if (error !== null) throw takeError(error, "cannot compile the module");
    this.#handle = new Handle(
      this,
      "Module",
      takePointerOut(),
      (p) => ffi().wasmtime_module_delete(p),
    );
  }

  static #adopt(engine: Engine, pointer: Deno.PointerObject): Module {
    return new Module(engine, new Adopted(pointer) as unknown as Uint8Array);
  }

  /** Compiles the module in the file at `path` (read with Deno's permissions). */
  static async fromFile(engine: Engine, path: string | URL): Promise<Module> {
    return new Module(engine, await Deno.readFile(path));
  }

  /**
   * Checks that `source` is a valid module for `engine` without compiling it; throws a
   * {@linkcode WasmtimeError} describing the first problem.
   */
  static validate(engine: Engine, source: string | Uint8Array | ArrayBuffer): void {
    const bytes = moduleBytes(source, "Module.validate");
    check(
      ffi().wasmtime_module_validate(
        engine.pointer("Module.validate"),
        bytes as Uint8Array<ArrayBuffer>,
        BigInt(bytes.length),
      ),
      "invalid module",
    );
  }

  /**
   * Loads a module serialized by {@linkcode serialize} or `Engine.precompile`.
   *
   * **Only deserialize bytes you trust**: they contain native code that Wasmtime maps as
   * executable after minimal checks. Bytes from an incompatible Wasmtime version or engine
   * configuration are rejected with an error.
   */
  static deserialize(engine: Engine, bytes: Uint8Array): Module {
    if (!(bytes instanceof Uint8Array)) {
      throw new WasmtimeError("Module.deserialize(engine, bytes): bytes must be a Uint8Array");
    }
    const error = ffi().wasmtime_module_deserialize(
      engine.pointer("Module.deserialize"),
      bytes as Uint8Array<ArrayBuffer>,
      BigInt(bytes.length),
      pointerOutBytes,
    );
    if (error !== null) throw takeError(error, "cannot deserialize the module");
    return Module.#adopt(engine, takePointerOut());
  }

  /**
   * Loads a serialized module from a file by memory-mapping it (fast for large modules).
   * Needs read permission for `path`. The same warning as {@linkcode deserialize} applies:
   * **only load files you trust.**
   */
  static deserializeFile(engine: Engine, path: string): Module {
    // Native code opens the file, so Deno's check is made here, also for where a link leads.
    for (const target of [path, realPathOr(path)]) {
      requirePermission(
        { name: "read", path: target },
        `Module.deserializeFile: reading ${target}`,
      );
    }
    const error = ffi().wasmtime_module_deserialize_file(
      engine.pointer("Module.deserializeFile"),
      cString(path),
      pointerOutBytes,
    );
    if (error !== null) throw takeError(error, `cannot deserialize ${path}`);
    return Module.#adopt(engine, takePointerOut());
  }

  /**
   * Compiles `source` once and caches the compiled code in `options.dir`: later calls (in this
   * or another process) load it with {@linkcode deserializeFile} instead of compiling. Entries
   * are keyed by the wasm bytes, the Wasmtime version and the engine's options, and carry a
   * SHA-256 of their content: a corrupt, truncated or foreign entry is detected and replaced
   * by a fresh compilation, never loaded blindly. Needs read and write permission for `dir`.
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
    return loadCached(engine, moduleBytes(source, "Module.cached"), options.dir);
  }

  /** The engine the module was compiled for. */
  get engine(): Engine {
    return this.#engine;
  }

  /** The native `wasmtime_module_t *` (borrowed). */
  pointer(action: string): Deno.PointerObject {
    return this.#handle.pointer(action);
  }

  /** What the module imports, in order. */
  get imports(): ImportType[] {
    if (this.#imports === undefined) {
      const vec = newVec();
      ffi().wasmtime_module_imports(this.pointer("imports"), vec);
      this.#imports = takeImportTypes(vec);
    }
    return this.#imports;
  }

  /** What the module exports, in order. */
  get exports(): ExportType[] {
    if (this.#exports === undefined) {
      const vec = newVec();
      ffi().wasmtime_module_exports(this.pointer("exports"), vec);
      this.#exports = takeExportTypes(vec);
    }
    return this.#exports;
  }

  /** The compiled module as bytes for {@linkcode Module.deserialize}. */
  serialize(): Uint8Array<ArrayBuffer> {
    const vec = newVec();
    check(ffi().wasmtime_module_serialize(this.pointer("serialize"), vec), "Module.serialize");
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

function realPathOr(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return path;
  }
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function loadCached(engine: Engine, bytes: Uint8Array, dir: string): Module {
  if (typeof dir !== "string" || dir.length === 0) {
    throw new WasmtimeError("Module.cached: options.dir must name a directory");
  }
  const root = resolve(dir);
  for (const name of ["read", "write"] as const) {
    requirePermission({ name, path: root }, `Module.cached: using the cache ${root}`);
  }
  const key = sha256Hex(
    new TextEncoder().encode(
      JSON.stringify([sha256Hex(bytes), version(), Deno.build.target, engine.options]),
    ),
  ).slice(0, 32);
  const path = join(root, `${key}.cwasm`);
  const digestPath = `${path}.sha256`;
  try {
    const expected = Deno.readTextFileSync(digestPath).trim();
    if (sha256Hex(Deno.readFileSync(path)) === expected) {
      try {
        return Module.deserializeFile(engine, path);
      } catch {
        // Incompatible with this engine after all: fall through and recompile.
      }
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const module = new Module(engine, bytes);
  const compiled = module.serialize();
  Deno.mkdirSync(root, { recursive: true });
  const partial = `${path}.${Deno.pid}.partial`;
  Deno.writeFileSync(partial, compiled);
  Deno.renameSync(partial, path);
  Deno.writeTextFileSync(digestPath, `${sha256Hex(compiled)}\n`);
  return module;
}
