import assert from "node:assert/strict";
import { parseArgs, parseDuration, parseSize } from "../src/wasi/command_line.ts";

Deno.test("CLI durations and sizes", () => {
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("5s"), 5000);
  assert.equal(parseDuration("2m"), 120_000);
  assert.equal(parseDuration("1.5"), 1500);
  assert.throws(() => parseDuration("soon"), /invalid duration "soon"/);
  assert.equal(parseSize("64M"), 64 << 20);
  assert.equal(parseSize("1G"), 1 << 30);
  assert.equal(parseSize("512k"), 512 << 10);
  assert.equal(parseSize("4096"), 4096);
  assert.equal(parseSize("2MiB"), 2 << 20);
  assert.throws(() => parseSize("lots"), /invalid size/);
});

Deno.test("CLI arguments map to runWasi options", () => {
  const { module, options } = parseArgs([
    "run",
    "app.wasm",
    "--dir",
    "./data::/data",
    "--dir-rw",
    "./out",
    "--env",
    "A=1=2",
    "--fuel",
    "1000",
    "--timeout",
    "2s",
    "--max-memory",
    "16M",
    "--cache",
    "/tmp/c",
    "first",
    "--",
    "--not-an-option",
  ]);
  assert.equal(module, "app.wasm");
  assert.deepEqual(options.args, ["app.wasm", "first", "--not-an-option"]);
  assert.deepEqual(options.preopens, [
    ["./data", "/data", { mutable: false }],
    ["./out", "./out", { mutable: true }],
  ]);
  assert.deepEqual(options.env, { A: "1=2" });
  assert.equal(options.fuel, 1000);
  assert.equal(options.timeoutMs, 2000);
  assert.equal(options.maxMemoryBytes, 16 << 20);
  assert.equal(options.cacheDir, "/tmp/c");
  assert.equal(options.stdout, "inherit");
  assert.throws(() => parseArgs(["run", "a.wasm", "--fuel"]), /--fuel needs a value/);
  assert.throws(() => parseArgs(["run", "a.wasm", "--env", "NOVALUE"]), /NAME=VALUE/);
  assert.throws(() => parseArgs(["run", "a.wasm", "--bogus"]), /unknown option --bogus/);
  assert.throws(() => parseArgs(["exec", "a.wasm"]), /usage:/);
});
