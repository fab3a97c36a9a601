// Micro benchmarks of the call paths, side by side with V8's built-in WebAssembly. The fixture
// (bench/support.ts) is the one bench/run.ts measures, kept alive for the whole bench run.
import { callFixture } from "./support.ts";

const { add, typedAdd, callHost, v8 } = callFixture();

let sink = 0;
Deno.bench({ name: "add: V8 WebAssembly", group: "add", baseline: true }, () => {
  sink += v8.add(sink & 0xff, 2);
});
Deno.bench({ name: "add: typed()", group: "add" }, () => {
  sink += typedAdd(sink & 0xff, 2) as number;
});
Deno.bench({ name: "add: call()", group: "add" }, () => {
  sink += add.call(sink & 0xff, 2) as number;
});
Deno.bench({ name: "host round trip: V8 WebAssembly", group: "host", baseline: true }, () => {
  sink += v8.call_host(sink & 0xff);
});
Deno.bench({ name: "host round trip: typed()", group: "host" }, () => {
  sink += callHost(sink & 0xff) as number;
});
