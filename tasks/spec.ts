/**
 * `deno task spec`: the WebAssembly core spec testsuite through the binding (the runner is
 * tests/support/wast.ts).
 *
 * ```sh
 * deno task spec [dir] [--suite 2.0|3.0] [--filter name] [--json report.json] [--quiet]
 * ```
 *
 * Without `dir` or `--suite`, runs the 2.0 suite and then the 3.0 suite. The 2.0 suite is read
 * from `dir`, else `$WASMTIME_DENO_SPEC_DIR`, else `../shared/spec-testsuite` beside the clone;
 * the 3.0 suite (converted with `wasm-tools json-from-wast`) from `dir` with `--suite 3.0`,
 * else `$WASMTIME_DENO_SPEC3_DIR`, else `../shared/spec-testsuite-3.0`. Prints one line per file (unless `--quiet`) and
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
  suite3Dir,
  suiteDir,
  type SuiteVersion,
  summarize,
} from "../tests/support/wast.ts";

async function main(args: string[]): Promise<number> {
  const root = dirname(dirname(fileURLToPath(import.meta.url)));
  let dir: string | undefined;
  let suite: SuiteVersion | undefined;
  let filter: string | undefined;
  let jsonPath: string | undefined;
  let quiet = false;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--filter") filter = args[++i];
    else if (args[i] === "--json") jsonPath = resolve(args[++i]);
    else if (args[i] === "--quiet") quiet = true;
    else if (args[i] === "--suite") {
      const value = args[++i];
      if (value !== "2.0" && value !== "3.0") {
        console.error(`spec: --suite takes 2.0 or 3.0, got ${value}`);
        return 1;
      }
      suite = value;
    } else dir = resolve(args[i]);
  }
  const versions: SuiteVersion[] = suite ? [suite] : dir ? ["2.0"] : ["2.0", "3.0"];
  let status = 0;
  for (const version of versions) {
    const suiteDirectory = dir ?? (version === "2.0" ? suiteDir() : suite3Dir());
    const suffix = version === "2.0" ? ".json" : "-3.0.json";
    const report = jsonPath && versions.length > 1
      ? jsonPath.replace(/(\.json)?$/, suffix)
      : jsonPath ?? join(root, ".spec-out", `report${suffix}`);
    if (versions.length > 1) console.log(`spec: WebAssembly ${version} testsuite`);
    const code = await runSuite(version, suiteDirectory, filter, report, quiet);
    status ||= code;
  }
  return status;
}

async function runSuite(
  version: SuiteVersion,
  dir: string,
  filter: string | undefined,
  jsonPath: string,
  quiet: boolean,
): Promise<number> {
  const missing = missingSuite(dir) ?? missingConverter(version);
  if (missing) {
    console.error(`spec: ${missing}`);
    return 1;
  }
  const started = performance.now();
  const reports = await runSpec(dir, { filter, version, log: quiet ? undefined : console.log });
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
    JSON.stringify({ version, dir, seconds, skipReasons, files: reports }, null, 2),
  );
  console.log(`spec: ran ${reports.length} files in ${seconds.toFixed(1)} s; report ${jsonPath}`);
  console.log(`spec: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  return failed > 0 ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
