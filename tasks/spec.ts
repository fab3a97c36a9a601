/**
 * `deno task spec`: the WebAssembly core spec testsuite through the binding (the runner is
 * tests/support/wast.ts).
 *
 * ```sh
 * deno task spec [dir] [--filter name] [--json report.json] [--quiet]
 * ```
 *
 * The suite is read from `dir`, else `$WASMTIME_DENO_SPEC_DIR`, else `../shared/spec-testsuite`
 * beside the clone. Prints one line per file (unless `--quiet`) and
 * `spec: N passed, M failed, K skipped`, writes a JSON report (default `.spec-out/report.json`),
 * and exits with 1 if anything failed or the suite (or `wast2json`) is missing, saying where it
 * looked and how to get it.
 *
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  missingConverter,
  missingSuite,
  runSpec,
  suiteDir,
  summarize,
} from "../tests/support/wast.ts";

async function main(args: string[]): Promise<number> {
  const root = dirname(dirname(fileURLToPath(import.meta.url)));
  let dir: string | undefined;
  let filter: string | undefined;
  let jsonPath = join(root, ".spec-out", "report.json");
  let quiet = false;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--filter") filter = args[++i];
    else if (args[i] === "--json") jsonPath = resolve(args[++i]);
    else if (args[i] === "--quiet") quiet = true;
    else dir = resolve(args[i]);
  }
  dir ??= suiteDir();
  const missing = missingSuite(dir) ?? missingConverter();
  if (missing) {
    console.error(`spec: ${missing}`);
    return 1;
  }
  const started = performance.now();
  const reports = await runSpec(dir, { filter, log: quiet ? undefined : console.log });
  const seconds = (performance.now() - started) / 1000;
  if (reports.length === 0) {
    console.error(`spec: no .wast file in ${dir} matches --filter ${filter}`);
    return 1;
  }
  const { passed, failed, skipped, skipReasons } = summarize(reports);
  for (const [reason, n] of Object.entries(skipReasons)) console.log(`skipped ${n}: ${reason}`);
  await Deno.mkdir(dirname(jsonPath), { recursive: true });
  await Deno.writeTextFile(
    jsonPath,
    JSON.stringify({ dir, seconds, skipReasons, files: reports }, null, 2),
  );
  console.log(`spec: ran ${reports.length} files in ${seconds.toFixed(1)} s; report ${jsonPath}`);
  console.log(`spec: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  return failed > 0 ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
