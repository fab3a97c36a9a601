// stdin { file } through a symlink (inside the read grant) to /proc/<pid>/fd/0 of another
// process: the kernel reports the opened pipe as "pipe:[N]", a relative path that Deno's
// permission query resolves against the cwd, so the check passes whenever the cwd is granted.
import { runWasi } from "../../wasi.ts";
const [probe, link] = Deno.args;
try {
  console.log("Deno itself:", Deno.readTextFileSync(link).slice(0, 40));
} catch (e) {
  console.log("Deno itself refuses:", (e as Error).message.slice(0, 90));
}
try {
  const r = await runWasi(probe, { args: ["p", "cat"], stdin: { file: link }, timeoutMs: 1000 });
  console.log("guest read:", JSON.stringify(r.stdoutText));
} catch (e) {
  console.log(
    "guest:",
    (e as Error).constructor.name,
    (e as Error).message.slice(0, 120),
    JSON.stringify(new TextDecoder().decode((e as any).stdout ?? new Uint8Array())),
  );
}
