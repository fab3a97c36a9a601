// A few representative files of the core spec testsuite through the same runner as
// `deno task spec` (the full suite runs in CI through the task itself).
import assert from "node:assert/strict";
import { join } from "node:path";
import { Engine } from "../mod.ts";
import { runWast, SPEC_2_0_ENGINE } from "../tasks/spec.ts";
import { ROOT } from "./helpers.ts";

const SUITE = join(ROOT, "..", "shared", "spec-testsuite");
let present = false;
try {
  present = Deno.statSync(SUITE).isDirectory;
} catch {
  console.log(`spec testsuite not found at ${SUITE}: skipping`);
}

for (const file of ["i32", "f32", "f64_bitwise", "simd_lane", "linking", "exports", "ref_func"]) {
  Deno.test({
    name: `spec testsuite: ${file}.wast passes every assertion`,
    ignore: !present,
    async fn() {
      using engine = new Engine(SPEC_2_0_ENGINE);
      const report = await runWast(engine, join(SUITE, `${file}.wast`));
      assert.equal(report.failed, 0, report.firstFailure);
      assert.equal(report.skipped, 0);
      assert.ok(report.passed > 0);
    },
  });
}
