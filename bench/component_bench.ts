/**
 * The component rows of `deno task bench`: one component (component WAT, built at bench time)
 * with an empty call, `add(u32, u32)`, string and `list<u8>` echoes and a 10-field record
 * echo, called through the binding and through jco's transpiled JS (npm
 * `@bytecodealliance/jco`, transpiled once into the library cache) in the same process.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { Component, ComponentLinker, Engine, Store, wat2wasm } from "../mod.ts";

const FIELDS = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
const RECORD = `(record ${FIELDS.map((f) => `(field "${f}" u32)`).join(" ")})`;

/** The bench component; its core code only forwards (the cost measured is the crossing). */
export const COMPONENT_WAT = `(component
  (core module $m
    (memory (export "memory") 100)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 1024)
    (func (export "empty"))
    (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
    (func (export "echo") (param i32 i32) (result i32)
      i32.const 8 local.get 0 i32.store
      i32.const 12 local.get 1 i32.store
      i32.const 8)
    (func (export "record") (param ${FIELDS.map(() => "i32").join(" ")}) (result i32)
      ${
  FIELDS.map((_, i) => `i32.const 0 local.get ${i} i32.store offset=${16 + 4 * i}`).join("\n      ")
}
      i32.const 16))
  (core instance $i (instantiate $m))
  (type $r0 ${RECORD})
  (func (export "empty") (canon lift (core func $i "empty")))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $i "add")))
  (func (export "echo-string") (param "s" string) (result string)
    (canon lift (core func $i "echo") (memory (core memory $i "memory"))
      (realloc (core func $i "realloc"))))
  (func (export "echo-bytes") (param "b" (list u8)) (result (list u8))
    (canon lift (core func $i "echo") (memory (core memory $i "memory"))
      (realloc (core func $i "realloc"))))
  (func $echo-record (param "r" $r0) (result $r0)
    (canon lift (core func $i "record") (memory (core memory $i "memory"))))
  (component $api
    (type $rr ${RECORD})
    (import "import-type-rec" (type $ri (eq $rr)))
    (import "import-func-echo-record" (func $f (param "r" $ri) (result $ri)))
    (export $re "rec" (type $ri))
    (export "echo-record" (func $f) (func (param "r" $re) (result $re))))
  (instance $records (instantiate $api
    (with "import-func-echo-record" (func $echo-record))
    (with "import-type-rec" (type $r0))))
  (export "local:bench/records" (instance $records)))`;

/** The exports of either runtime. */
export interface BenchExports {
  empty(): void;
  add(a: number, b: number): number;
  echoString(s: string): string;
  echoBytes(b: Uint8Array): Uint8Array;
  "local:bench/records": { echoRecord(r: Record<string, number>): Record<string, number> };
}

/** The bench component instantiated by the binding (dispose the returned stack). */
export function binding(): { exports: BenchExports; dispose(): void } {
  const engine = new Engine();
  const component = new Component(engine, COMPONENT_WAT);
  const linker = new ComponentLinker(engine);
  const store = new Store(engine);
  const instance = linker.instantiate(store, component);
  return {
    exports: instance.exports as unknown as BenchExports,
    dispose() {
      store[Symbol.dispose]();
      linker[Symbol.dispose]();
      component[Symbol.dispose]();
      engine[Symbol.dispose]();
    },
  };
}

/** The jco version the rows are measured against. */
export const JCO_VERSION = "1.35.0";

/**
 * The bench component through jco's transpiled JS, transpiled into `dir` once (jco from npm
 * through Deno's npm support). Returns the reason instead when jco cannot be had.
 */
export async function jco(dir: string): Promise<BenchExports | string> {
  try {
    return await loadJco(dir);
  } catch (error) {
    return `jco failed: ${String((error as Error).message ?? error).split("\n")[0]}`;
  }
}

async function loadJco(dir: string): Promise<BenchExports | string> {
  const out = join(dir, `jco-${JCO_VERSION}`);
  const entry = join(out, "bench.js");
  try {
    await Deno.stat(entry);
  } catch {
    let transpile: (bytes: Uint8Array, options: Record<string, unknown>) => Promise<{
      files: Record<string, Uint8Array> | [string, Uint8Array][];
    }>;
    try {
      // A computed specifier: `deno check` does not resolve it, a bench run fetches it once.
      const specifier = `npm:@bytecodealliance/jco@${JCO_VERSION}`;
      ({ transpile } = await import(specifier));
    } catch (error) {
      return `jco unavailable (npm @bytecodealliance/jco@${JCO_VERSION}: ${
        (error as Error).message.split("\n")[0]
      })`;
    }
    const { files } = await transpile(wat2wasm(COMPONENT_WAT), {
      name: "bench",
      instantiation: { tag: "async" },
      noTypescript: true,
    });
    // Written beside the entry and renamed into place, so a torn write is never taken as cached.
    const staging = `${out}.${Deno.pid}.tmp`;
    const list = Array.isArray(files) ? files : Object.entries(files);
    for (const [name, bytes] of list) {
      await Deno.mkdir(dirname(join(staging, name)), { recursive: true });
      await Deno.writeFile(join(staging, name), bytes);
    }
    await Deno.rename(staging, out);
  }
  const glue = await import(new URL(`file://${entry}`).href);
  const instance = await glue.instantiate(
    async (path: string) => await WebAssembly.compile(await Deno.readFile(join(out, path))),
    {},
  );
  return { ...instance, "local:bench/records": instance.records } as BenchExports;
}
