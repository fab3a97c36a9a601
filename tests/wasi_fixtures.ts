/**
 * Compiles the C test programs in tests/fixtures/wasi/ to WASI modules with Debian's clang-16
 * and wasi-libc, once per source version (cached in the OS temp directory).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { ROOT } from "./helpers.ts";

const CACHE = join(Deno.env.get("TMPDIR") ?? "/tmp", "wasmtime-deno-fixtures");

/** Path of the compiled module for `tests/fixtures/wasi/<name>.c`. */
export async function compileC(name: string, extraFlags: string[] = []): Promise<string> {
  const source = join(ROOT, "tests/fixtures/wasi", `${name}.c`);
  const text = await Deno.readFile(source);
  const hash = createHash("sha256").update(text).update(extraFlags.join(" ")).digest("hex");
  const output = join(CACHE, `${name}-${hash.slice(0, 16)}.wasm`);
  try {
    await Deno.stat(output);
    return output;
  } catch {
    // not compiled yet
  }
  await Deno.mkdir(CACHE, { recursive: true });
  let result: Deno.CommandOutput;
  try {
    result = await new Deno.Command("clang-16", {
      args: ["--target=wasm32-wasi", "-O2", ...extraFlags, "-o", `${output}.tmp`, source],
      stderr: "piped",
    }).output();
  } catch (error) {
    throw new Error(
      "clang-16 is needed to build the WASI test programs: sudo apt-get install clang-16 " +
        `lld-16 wasi-libc libclang-rt-16-dev-wasm32 (${(error as Error).message})`,
    );
  }
  if (!result.success) {
    throw new Error(`clang-16 failed on ${source}:\n${new TextDecoder().decode(result.stderr)}`);
  }
  await Deno.rename(`${output}.tmp`, output);
  return output;
}
