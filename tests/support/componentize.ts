/**
 * Components made from JS at test time with componentize-js (npm
 * `@bytecodealliance/componentize-js`: a StarlingMonkey engine with the guest's JS snapshotted
 * in by Wizer, about 13 MB), and the same component transpiled to JS by jco, so that a test can
 * call one component through the binding and through jco in the same process.
 *
 * Both are cached in the library cache (`cacheRoot()`, beside the bench's jco transpile) under a
 * hash of every input and the tool's version: a warm run neither builds nor transpiles. The
 * packages come through Deno's npm support (pinned below; `.ci/run` fetches them with
 * `deno run -A tests/support/componentize.ts`, which imports both once).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { cacheRoot } from "../../src/package/cache.ts";
import { JCO_VERSION } from "../../bench/component_bench.ts";

/** The componentize-js release the fixtures are built with (the one jco 1.35 depends on). */
export const COMPONENTIZE_JS_VERSION = "0.22.0";
export { JCO_VERSION };

/**
 * WASI features of StarlingMonkey left out, so the component imports nothing but its world
 * (console, clocks, random and fetch would import WASI 0.2 interfaces).
 */
const NO_WASI = ["stdio", "random", "clocks", "http", "fetch-event"];

/** What a componentize-js component is made of. */
export interface ComponentizeInput {
  /** Name of the cache entry (a readable prefix; the hash decides). */
  name: string;
  /** WIT text of the package holding `world`. */
  wit: string;
  /** The world the component targets. */
  world: string;
  /** The guest: an ES module implementing the world's exports. */
  source: string;
}

/** A built component: its bytes' path and its cache directory (for transpiles and compiles). */
export interface BuiltComponent {
  path: string;
  dir: string;
  /** Milliseconds spent building (0 when the cache had it). */
  buildMs: number;
}

// Computed specifiers: `deno check` does not resolve them, the first run fetches them once.
const COMPONENTIZE_SPECIFIER = `npm:@bytecodealliance/componentize-js@${COMPONENTIZE_JS_VERSION}`;
const JCO_SPECIFIER = `npm:@bytecodealliance/jco@${JCO_VERSION}`;

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Writes `files` into `dir` through a staging directory renamed into place (never torn). */
async function publish(dir: string, files: [string, Uint8Array][]): Promise<void> {
  const staging = `${dir}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  for (const [name, bytes] of files) {
    await Deno.mkdir(dirname(join(staging, name)), { recursive: true });
    await Deno.writeFile(join(staging, name), bytes);
  }
  try {
    await Deno.rename(staging, dir);
  } catch (error) {
    // Another process published the same entry first: theirs is as good.
    await Deno.remove(staging, { recursive: true });
    if (!(await exists(dir))) throw error;
  }
}

/** The component componentize-js makes of `input`, built once per input and version. */
export async function componentizeJs(input: ComponentizeInput): Promise<BuiltComponent> {
  const hash = createHash("sha256")
    .update(
      JSON.stringify([COMPONENTIZE_JS_VERSION, NO_WASI, input.world, input.wit, input.source]),
    )
    .digest("hex");
  const dir = join(cacheRoot(), "componentize-js", `${input.name}-${hash.slice(0, 16)}`);
  const path = join(dir, "component.wasm");
  if (await exists(path)) return { path, dir, buildMs: 0 };
  let componentize: (options: Record<string, unknown>) => Promise<{ component: Uint8Array }>;
  try {
    ({ componentize } = await import(COMPONENTIZE_SPECIFIER));
  } catch (error) {
    throw new Error(
      `cannot load ${COMPONENTIZE_SPECIFIER} (Deno fetches it from npm on first use): ${
        (error as Error).message
      }`,
    );
  }
  // componentize-js reads the source from a file; its WIT reader (WASI in jco's JS) cannot
  // open absolute paths, so the WIT goes in as text.
  const work = await Deno.makeTempDir({ prefix: "wasmtime-deno-componentize-" });
  try {
    const sourcePath = join(work, `${input.name}.js`);
    await Deno.writeTextFile(sourcePath, input.source);
    const started = performance.now();
    const { component } = await componentize({
      sourcePath,
      witWorld: input.wit,
      worldName: input.world,
      disableFeatures: NO_WASI,
    });
    const buildMs = performance.now() - started;
    await publish(dir, [["component.wasm", component]]);
    return { path, dir, buildMs };
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}

const coreModules = new Map<string, Promise<WebAssembly.Module>>();

/** The root object of jco's transpiled JS (exports by lowerCamelCase and interface name). */
export type JcoExports = Record<string, unknown>;

/**
 * Instantiates `built` through jco's transpiled JS (transpiled once into its cache directory)
 * with `imports` in jco's shape (`{ "local:x/host": { fn }, "root-fn": { default: fn } }`).
 */
export async function jcoInstantiate(
  built: BuiltComponent,
  imports: Record<string, Record<string, unknown>>,
): Promise<{ exports: JcoExports; transpileMs: number }> {
  const out = join(built.dir, `jco-${JCO_VERSION}`);
  const entry = join(out, "component.js");
  let transpileMs = 0;
  if (!(await exists(entry))) {
    const { transpile } = await import(JCO_SPECIFIER) as {
      transpile(bytes: Uint8Array, options: Record<string, unknown>): Promise<{
        files: Record<string, Uint8Array> | [string, Uint8Array][];
      }>;
    };
    const started = performance.now();
    const { files } = await transpile(await Deno.readFile(built.path), {
      name: "component",
      instantiation: { tag: "async" },
      noTypescript: true,
    });
    transpileMs = performance.now() - started;
    await publish(out, Array.isArray(files) ? files : Object.entries(files));
  }
  const glue = await import(new URL(`file://${entry}`).href);
  const exports = await glue.instantiate((path: string) => {
    // Each core module is compiled once per process (V8 takes seconds for StarlingMonkey).
    const file = join(out, path);
    let module = coreModules.get(file);
    if (module === undefined) {
      module = Deno.readFile(file).then((bytes) => WebAssembly.compile(bytes));
      coreModules.set(file, module);
    }
    return module;
  }, imports);
  return { exports, transpileMs };
}

if (import.meta.main) {
  // .ci/run: fetch both packages into Deno's npm cache before the tests need them.
  await import(COMPONENTIZE_SPECIFIER);
  await import(JCO_SPECIFIER);
  console.log(`componentize-js ${COMPONENTIZE_JS_VERSION} and jco ${JCO_VERSION}: ready`);
}
