/**
 * WASI 0.2 command components for the tests: the C programs of tests/fixtures/wasi/ compiled to
 * preview 1 (tests/wasi_fixtures.ts) and adapted with `wasm-tools component new --adapt`. The
 * adapter is Wasmtime's own (the crates.io crate `wasi-preview1-component-adapter-provider`, at
 * the Wasmtime version the library links), fetched once with `cargo fetch` (a 40 KB download)
 * and cached with the compiled fixtures in the OS temp directory.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { compileC } from "./wasi_fixtures.ts";

const CACHE = join(Deno.env.get("TMPDIR") ?? "/tmp", "wasmtime-deno-fixtures");
/** The Wasmtime release whose WASI 0.2 the library links (see native/Cargo.toml). */
const ADAPTER_VERSION = "48.0.8";
const ADAPTER_CRATE = "wasi-preview1-component-adapter-provider";

async function run(command: string, args: string[], what: string, cwd?: string): Promise<void> {
  let result: Deno.CommandOutput;
  try {
    result = await new Deno.Command(command, { args, cwd, stdout: "piped", stderr: "piped" })
      .output();
  } catch (error) {
    throw new Error(`${what}: cannot run ${command} (${(error as Error).message})`);
  }
  if (!result.success) {
    throw new Error(`${what}: ${command} failed:\n${new TextDecoder().decode(result.stderr)}`);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Path of Wasmtime's preview 1 → 0.2 adapter for commands, fetched with cargo once. */
export async function commandAdapter(): Promise<string> {
  const dir = join(CACHE, `adapter-${ADAPTER_VERSION}`);
  const adapter = join(dir, "wasi_snapshot_preview1.command.wasm");
  if (await exists(adapter)) return adapter;
  await Deno.mkdir(dir, { recursive: true });
  // A throwaway manifest whose only dependency is the adapter crate: `cargo fetch` downloads
  // its .crate into cargo's registry cache, which is a gzipped tar of the crate's files.
  const project = await Deno.makeTempDir({ prefix: "wasmtime-deno-adapter-" });
  await Deno.mkdir(join(project, "src"));
  await Deno.writeTextFile(join(project, "src/lib.rs"), "");
  await Deno.writeTextFile(
    join(project, "Cargo.toml"),
    `[package]\nname = "adapter-fetch"\nversion = "0.0.0"\nedition = "2021"\n\n` +
      `[dependencies]\n${ADAPTER_CRATE} = "=${ADAPTER_VERSION}"\n`,
  );
  const what = `fetching ${ADAPTER_CRATE} ${ADAPTER_VERSION}`;
  await run("cargo", ["fetch", "--manifest-path", join(project, "Cargo.toml")], what);
  const home = Deno.env.get("CARGO_HOME") ?? join(Deno.env.get("HOME") ?? "/root", ".cargo");
  const crate = `${ADAPTER_CRATE}-${ADAPTER_VERSION}`;
  let archive: string | undefined;
  for await (const registry of Deno.readDir(join(home, "registry/cache"))) {
    const candidate = join(home, "registry/cache", registry.name, `${crate}.crate`);
    if (await exists(candidate)) archive = candidate;
  }
  if (archive === undefined) throw new Error(`${what}: no ${crate}.crate in ${home}/registry`);
  await run("tar", ["-xzf", archive, "-C", project], what);
  await Deno.rename(
    join(project, crate, "artefacts/wasi_snapshot_preview1.command.wasm"),
    `${adapter}.tmp`,
  );
  await Deno.rename(`${adapter}.tmp`, adapter);
  await Deno.remove(project, { recursive: true });
  return adapter;
}

/** Path of the WASI 0.2 command component made from `tests/fixtures/wasi/<name>.c`. */
export async function componentC(name: string): Promise<string> {
  const core = await compileC(name);
  const adapter = await commandAdapter();
  const hash = createHash("sha256").update(await Deno.readFile(core))
    .update(await Deno.readFile(adapter)).digest("hex");
  const output = join(CACHE, `${name}-p2-${hash.slice(0, 16)}.wasm`);
  if (await exists(output)) return output;
  await run(
    "wasm-tools",
    [
      "component",
      "new",
      core,
      "--adapt",
      `wasi_snapshot_preview1=${adapter}`,
      "-o",
      `${output}.tmp`,
    ],
    `adapting ${name} to a component (wasm-tools: cargo install wasm-tools)`,
  );
  await Deno.rename(`${output}.tmp`, output);
  return output;
}
