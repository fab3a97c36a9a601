/**
 * Compiled components: compile (from component binaries or component WAT), serialize,
 * deserialize, and the import/export types as JS descriptions and WIT-like text.
 *
 * @module
 */
import { newVec, OutCell, plainBytes, takeByteVec } from "../ffi/raw.ts";
import { WasmtimeError } from "../errors.ts";
import { check, takeError } from "../core/failure.ts";
import { ffi } from "../ffi/symbols.ts";
import { Handle } from "../ffi/handle.ts";
import { type Engine, enginePointer } from "../core/engine.ts";
import { moduleBytes } from "../core/wat.ts";
import { fromRaw, takeRaw } from "../internal.ts";
import { loadCached, loadCachedAsync } from "../core/module_cache.ts";
import { type ComponentItem, readComponentType, witItems } from "./types.ts";

/** The `wasmtime_component_t **` out-parameter of compile and deserialize. */
const componentOut = new OutCell();

/** Internal: a component's native pointer (throws once it is disposed). */
export let componentPointer: (component: Component, action: string) => Deno.PointerObject;

/**
 * A compiled WebAssembly component (what `wasm32-wasip2`, componentize-js, componentize-py,
 * TinyGo and `wasm-tools component new` produce), ready to be instantiated with a
 * {@linkcode ComponentLinker} in any store of its engine.
 *
 * @example
 * ```ts
 * import { Component, Engine } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine();
 * using component = new Component(engine, `(component
 *   (core module $m (func (export "f") (result i32) i32.const 42))
 *   (core instance $i (instantiate $m))
 *   (func (export "answer") (result u32) (canon lift (core func $i "f"))))`);
 * console.log(component.toString()); // export answer: func() -> u32;
 * ```
 */
export class Component {
  readonly #handle: Handle;
  readonly #engine: Engine;
  #types: { imports: ComponentItem[]; exports: ComponentItem[] } | undefined;

  static {
    componentPointer = (component, action) => component.#handle.pointer(action);
  }

  /**
   * Compiles a component from component WAT text (a string) or a component binary. Throws a
   * {@linkcode WasmtimeError} for malformed or invalid input (a core module included: use
   * `Module` for those).
   */
  constructor(engine: Engine, source: string | Uint8Array | ArrayBuffer) {
    const raw = takeRaw<{ engine: Engine; pointer: Deno.PointerObject }>();
    let pointer: Deno.PointerObject;
    if (raw !== undefined) {
      // A component made by deserialization: own its pointer.
      this.#engine = raw.engine;
      pointer = raw.pointer;
    } else {
      this.#engine = engine;
      const bytes = moduleBytes(source, "new Component");
      const error = ffi().wasmtime_component_new(
        enginePointer(engine, "new Component"),
        bytes as Uint8Array<ArrayBuffer>,
        BigInt(bytes.length),
        componentOut.bytes,
      );
      if (error !== null) throw takeError(error, "cannot compile the component");
      pointer = componentOut.takePointer()!;
    }
    this.#handle = new Handle(
      this,
      "Component",
      pointer,
      (p) => ffi().wasmtime_component_delete(p),
    );
  }

  /**
   * Compiles a component like `new Component`, but off the JS thread (Deno's blocking pool),
   * so the event loop keeps running meanwhile. The bytes are copied before the promise is
   * returned, and the compile holds its own reference to the engine.
   *
   * @example
   * ```ts
   * import { Component, Engine } from "@wasmtime-deno/wasmtime";
   * using engine = new Engine();
   * using component = await Component.compile(engine, "(component)");
   * ```
   */
  static async compile(
    engine: Engine,
    source: string | Uint8Array | ArrayBuffer,
  ): Promise<Component> {
    const bytes = moduleBytes(source, "Component.compile");
    const job = ffi().wasmtime_deno_component_compile_new(
      enginePointer(engine, "Component.compile"),
      bytes as Uint8Array<ArrayBuffer>,
      BigInt(bytes.length),
    );
    await ffi().wasmtime_deno_component_compile_run(job);
    const out = new OutCell();
    const error = ffi().wasmtime_deno_component_compile_finish(job, out.bytes);
    if (error !== null) throw takeError(error, "cannot compile the component");
    return fromRaw(Component, { engine, pointer: out.takePointer()! });
  }

  /**
   * Compiles `source` once and caches the compiled code in `options.dir`, exactly as
   * `Module.cached` does for modules (same directory checks, same binding of each entry to its
   * source and engine; entries are native code). Needs read and write permission for `dir`.
   *
   * @example
   * ```ts
   * import { Component, Engine } from "@wasmtime-deno/wasmtime";
   * using engine = new Engine();
   * using component = Component.cached(engine, "(component)", { dir: "./.wasm-cache" });
   * ```
   */
  static cached(
    engine: Engine,
    source: string | Uint8Array | ArrayBuffer,
    options: { dir: string },
  ): Component {
    return loadCached(Component, engine, moduleBytes(source, "Component.cached"), options?.dir);
  }

  /**
   * {@linkcode Component.cached}, compiling off the JS thread (as {@linkcode Component.compile})
   * when the cache has no valid entry.
   *
   * @example
   * ```ts
   * import { Component, Engine } from "@wasmtime-deno/wasmtime";
   * using engine = new Engine();
   * using component = await Component.cachedAsync(engine, "(component)", { dir: "./.wasm-cache" });
   * ```
   */
  static async cachedAsync(
    engine: Engine,
    source: string | Uint8Array | ArrayBuffer,
    options: { dir: string },
  ): Promise<Component> {
    // No await before the lookup hashes the bytes and Component.compile copies them.
    return await loadCachedAsync(
      Component,
      engine,
      moduleBytes(source, "Component.cachedAsync"),
      options?.dir,
    );
  }

  /**
   * Loads a component serialized by {@linkcode serialize} with an engine of the same Wasmtime
   * version and compatible options.
   *
   * **The bytes are native code**, as for `Module.deserialize`: only deserialize bytes you
   * produced yourself.
   *
   * @example
   * ```ts
   * import { Component, Engine } from "@wasmtime-deno/wasmtime";
   * using engine = new Engine();
   * using original = new Component(engine, "(component)");
   * using copy = Component.deserialize(engine, original.serialize());
   * ```
   */
  static deserialize(engine: Engine, source: Uint8Array): Component {
    const bytes = source instanceof Uint8Array ? plainBytes(source) : undefined;
    if (bytes === undefined) {
      throw new WasmtimeError("Component.deserialize(engine, bytes): bytes must be a Uint8Array");
    }
    const error = ffi().wasmtime_component_deserialize(
      enginePointer(engine, "Component.deserialize"),
      bytes as Uint8Array<ArrayBuffer>,
      BigInt(bytes.length),
      componentOut.bytes,
    );
    if (error !== null) throw takeError(error, "cannot deserialize the component");
    return fromRaw(Component, { engine, pointer: componentOut.takePointer()! });
  }

  /** The engine the component was compiled for. */
  get engine(): Engine {
    return this.#engine;
  }

  #readTypes(): { imports: ComponentItem[]; exports: ComponentItem[] } {
    if (this.#types === undefined) {
      const ty = ffi().wasmtime_component_type(this.#handle.pointer("imports"))!;
      try {
        this.#types = readComponentType(ty, enginePointer(this.#engine, "Component.imports"));
      } finally {
        ffi().wasmtime_component_type_delete(ty);
      }
    }
    return this.#types;
  }

  /** What the component imports: functions and instances (interfaces), with their types. */
  get imports(): ComponentItem[] {
    return this.#readTypes().imports;
  }

  /** What the component exports: functions and instances (interfaces), with their types. */
  get exports(): ComponentItem[] {
    return this.#readTypes().exports;
  }

  /**
   * The imports and exports as WIT-like text, one item per line:
   * `import local:hello/host: interface { log: func(msg: string); }`.
   */
  toString(): string {
    const { imports, exports } = this.#readTypes();
    return [...witItems(imports, "import"), ...witItems(exports, "export")].join("\n");
  }

  /** The compiled component as bytes for {@linkcode Component.deserialize}. */
  serialize(): Uint8Array<ArrayBuffer> {
    const vec = newVec();
    check(
      ffi().wasmtime_component_serialize(this.#handle.pointer("serialize"), vec),
      "Component.serialize",
    );
    return takeByteVec(vec);
  }

  /** True once disposed. */
  get disposed(): boolean {
    return this.#handle.disposed;
  }

  /** Frees the compiled component; instances made from it keep working. Idempotent. */
  [Symbol.dispose](): void {
    this.#handle.dispose();
  }
}
