// A few representative files of the core spec testsuite through the same runner as
// `deno task spec` (the full suite runs in CI through the task itself).
import assert from "node:assert/strict";
import { join } from "node:path";
import { Engine } from "../mod.ts";
import { runDeno } from "./helpers.ts";
import {
  missingConverter,
  missingSuite,
  runWast,
  spec3Config,
  SPEC_2_0_ENGINE,
  suite3Dir,
  suiteDir,
} from "./support/wast.ts";

const SUITE = suiteDir();
const FILES = ["i32", "f32", "f64_bitwise", "simd_lane", "linking", "exports", "ref_func"];
const missing = missingSuite(SUITE) ?? missingConverter();

if (missing) {
  // One visible "ignored" line whose name says why, instead of passing without running anything.
  Deno.test({ name: `spec testsuite: ignored, ${missing}`, ignore: true, fn() {} });
} else {
  for (const file of FILES) {
    Deno.test(`spec testsuite: ${file}.wast passes every assertion`, async () => {
      using engine = new Engine(SPEC_2_0_ENGINE);
      const report = await runWast(engine, join(SUITE, `${file}.wast`));
      assert.equal(report.failed, 0, report.firstFailure);
      assert.equal(report.skipped, 0);
      assert.ok(report.passed > 0);
    });
  }
}

// 3.0 files that exercise GC references, exceptions and the 3.0 runner's commands.
const SUITE_3 = suite3Dir();
const FILES_3 = ["struct", "i31", "extern", "ref_null", "throw", "try_table", "instance"];
const missing3 = missingSuite(SUITE_3);
if (missing3) {
  Deno.test({ name: `spec testsuite 3.0: ignored, ${missing3}`, ignore: true, fn() {} });
} else {
  for (const file of FILES_3) {
    Deno.test(`spec testsuite 3.0: ${file}.wast passes every assertion`, async () => {
      const config = spec3Config(file);
      assert.ok("options" in config);
      using engine = new Engine(config.options);
      const report = await runWast(engine, join(SUITE_3, `${file}.wast`), "3.0", file);
      assert.equal(report.failed, 0, report.firstFailure);
      assert.equal(report.skipped, 0);
      assert.ok(report.passed > 0);
    });
  }
}

Deno.test("deno task spec fails with what to do when the testsuite is missing", async () => {
  const empty = await Deno.makeTempDir({ prefix: "wasmtime-deno-no-suite-" });
  try {
    for (const args of [[join(empty, "absent")], [empty]]) {
      const result = await runDeno(["run", "-A", "tasks/spec.ts", "--quiet", ...args]);
      assert.equal(result.code, 1, result.stdout + result.stderr);
      assert.match(result.stderr, /spec: no WebAssembly spec testsuite at .*clone https:\/\//);
      assert.doesNotMatch(result.stdout, /0 passed/);
    }
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
});

Deno.test("deno task spec fails with what to do when wast2json is missing", async () => {
  // A PATH holding only deno.
  const bin = await Deno.makeTempDir({ prefix: "wasmtime-deno-bin-" });
  try {
    await Deno.symlink(Deno.execPath(), join(bin, "deno"));
    const result = await runDeno(["run", "-A", "tasks/spec.ts", "--quiet", SUITE], {
      env: { PATH: bin },
    });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(
      result.stderr,
      missingSuite(SUITE)
        ? /spec: no WebAssembly spec testsuite at /
        : /spec: wast2json is not on PATH: install wabt/,
    );
    assert.doesNotMatch(result.stdout, /passed/);
  } finally {
    await Deno.remove(bin, { recursive: true });
  }
});
