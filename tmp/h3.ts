import { runWasi } from "../wasi.ts";
import { compileC } from "../tests/wasi_fixtures.ts";
const wasm = await compileC("blocking");
for (const nonBlocking of [false, true]) {
  for (const cmd of ["sleep", "poll", "read", "spin"]) {
    const t0 = performance.now();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    try {
      const r = await runWasi(wasm, {
        args: ["b", cmd],
        timeoutMs: 300,
        nonBlocking,
        stdin: cmd === "sleep" ? undefined : "inherit",
      });
      console.log(cmd, nonBlocking, "returned", r.exitCode, r.stdoutText);
    } catch (e) {
      console.log(
        cmd,
        "nonBlocking:",
        nonBlocking,
        "stopped after",
        Math.round(performance.now() - t0),
        "ms; ticks",
        ticks,
        (e as Error).message.slice(0, 80),
      );
    }
    clearInterval(timer);
  }
}
