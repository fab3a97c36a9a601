/**
 * WASI 0.2 network behind Deno's `--allow-net`: guests that connect with `wasi:sockets` (a
 * component written in WAT against a subset of the WASI 0.2 WIT, made with
 * `wasm-tools component embed` / `new`) run in subprocesses under narrow flags, against
 * servers of this process that count the connections they see.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { appFlags, runDeno, tempScript } from "./helpers.ts";

const WASI_URL = new URL("../wasi.ts", import.meta.url).href;
const CACHE = join(Deno.env.get("TMPDIR") ?? "/tmp", "wasmtime-deno-fixtures");

/** The WASI 0.2.0 interfaces the client uses (a subset: the host's are wider, which is fine). */
const WIT = `package local:net-test;

world client {
  import wasi:sockets/instance-network@0.2.0;
  import wasi:sockets/tcp-create-socket@0.2.0;
  import wasi:sockets/tcp@0.2.0;
  import wasi:sockets/ip-name-lookup@0.2.0;
  import wasi:cli/stdout@0.2.0;
  export wasi:cli/run@0.2.0;
}

package wasi:io@0.2.0 {
  interface error {
    resource error;
  }
  interface poll {
    resource pollable {
      block: func();
    }
  }
  interface streams {
    use error.{error};
    variant stream-error {
      last-operation-failed(error),
      closed,
    }
    resource input-stream {
      blocking-read: func(len: u64) -> result<list<u8>, stream-error>;
    }
    resource output-stream {
      blocking-write-and-flush: func(contents: list<u8>) -> result<_, stream-error>;
    }
  }
}

package wasi:cli@0.2.0 {
  interface stdout {
    use wasi:io/streams@0.2.0.{output-stream};
    get-stdout: func() -> output-stream;
  }
  interface run {
    run: func() -> result;
  }
}

package wasi:sockets@0.2.0 {
  interface network {
    resource network;
    enum error-code {
      unknown, access-denied, not-supported, invalid-argument, out-of-memory, timeout,
      concurrency-conflict, not-in-progress, would-block, invalid-state, new-socket-limit,
      address-not-bindable, address-in-use, remote-unreachable, connection-refused,
      connection-reset, connection-aborted, datagram-too-large, name-unresolvable,
      temporary-resolver-failure, permanent-resolver-failure,
    }
    enum ip-address-family { ipv4, ipv6 }
    type ipv4-address = tuple<u8, u8, u8, u8>;
    type ipv6-address = tuple<u16, u16, u16, u16, u16, u16, u16, u16>;
    variant ip-address { ipv4(ipv4-address), ipv6(ipv6-address) }
    record ipv4-socket-address { port: u16, address: ipv4-address }
    record ipv6-socket-address { port: u16, flow-info: u32, address: ipv6-address, scope-id: u32 }
    variant ip-socket-address { ipv4(ipv4-socket-address), ipv6(ipv6-socket-address) }
  }
  interface instance-network {
    use network.{network};
    instance-network: func() -> network;
  }
  interface tcp {
    use wasi:io/streams@0.2.0.{input-stream, output-stream};
    use wasi:io/poll@0.2.0.{pollable};
    use network.{network, error-code, ip-socket-address};
    resource tcp-socket {
      start-connect: func(network: borrow<network>, remote-address: ip-socket-address) -> result<_, error-code>;
      finish-connect: func() -> result<tuple<input-stream, output-stream>, error-code>;
      subscribe: func() -> pollable;
    }
  }
  interface tcp-create-socket {
    use network.{error-code, ip-address-family};
    use tcp.{tcp-socket};
    create-tcp-socket: func(address-family: ip-address-family) -> result<tcp-socket, error-code>;
  }
  interface ip-name-lookup {
    use wasi:io/poll@0.2.0.{pollable};
    use network.{network, error-code, ip-address};
    resource resolve-address-stream {
      resolve-next-address: func() -> result<option<ip-address>, error-code>;
      subscribe: func() -> pollable;
    }
    resolve-addresses: func(network: borrow<network>, name: string) -> result<resolve-address-stream, error-code>;
  }
}
`;

/** The `wasi:http` 0.2.0 interfaces the HTTP client uses (again a subset, over the same io WIT). */
const HTTP_WIT = WIT.replace(
  "world client {",
  `world http-client {
  import wasi:http/outgoing-handler@0.2.0;
  import wasi:cli/stdout@0.2.0;
  export wasi:cli/run@0.2.0;
}

world client {`,
) + `
package wasi:http@0.2.0 {
  interface types {
    use wasi:io/poll@0.2.0.{pollable};
    variant scheme { HTTP, HTTPS, other(string) }
    record DNS-error-payload { rcode: option<string>, info-code: option<u16> }
    record TLS-alert-received-payload { alert-id: option<u8>, alert-message: option<string> }
    record field-size-payload { field-name: option<string>, field-size: option<u32> }
    variant error-code {
      DNS-timeout, DNS-error(DNS-error-payload), destination-not-found, destination-unavailable,
      destination-IP-prohibited, destination-IP-unroutable, connection-refused,
      connection-terminated, connection-timeout, connection-read-timeout,
      connection-write-timeout, connection-limit-reached, TLS-protocol-error,
      TLS-certificate-error, TLS-alert-received(TLS-alert-received-payload), HTTP-request-denied,
      HTTP-request-length-required, HTTP-request-body-size(option<u64>),
      HTTP-request-method-invalid, HTTP-request-URI-invalid, HTTP-request-URI-too-long,
      HTTP-request-header-section-size(option<u32>),
      HTTP-request-header-size(option<field-size-payload>),
      HTTP-request-trailer-section-size(option<u32>), HTTP-request-trailer-size(field-size-payload),
      HTTP-response-incomplete, HTTP-response-header-section-size(option<u32>),
      HTTP-response-header-size(field-size-payload), HTTP-response-body-size(option<u64>),
      HTTP-response-trailer-section-size(option<u32>),
      HTTP-response-trailer-size(field-size-payload), HTTP-response-transfer-coding(option<string>),
      HTTP-response-content-coding(option<string>), HTTP-response-timeout, HTTP-upgrade-failed,
      HTTP-protocol-error, loop-detected, configuration-error, internal-error(option<string>),
    }
    resource fields {
      constructor();
    }
    type headers = fields;
    resource outgoing-request {
      constructor(headers: headers);
      set-scheme: func(scheme: option<scheme>) -> result;
      set-authority: func(authority: option<string>) -> result;
      set-path-with-query: func(path-with-query: option<string>) -> result;
    }
    resource request-options;
    resource incoming-response {
      status: func() -> u16;
    }
    resource future-incoming-response {
      subscribe: func() -> pollable;
      get: func() -> option<result<result<incoming-response, error-code>>>;
    }
  }
  interface outgoing-handler {
    use types.{outgoing-request, request-options, future-incoming-response, error-code};
    handle: func(request: outgoing-request, options: option<request-options>) -> result<future-incoming-response, error-code>;
  }
}
`;

/**
 * The core module of the HTTP client: GET http://<authority>/ and print `status:<code>`, or
 * `http-error:<c>` with the letter of the wasi:http error code ('a' + its index: `p` is
 * HTTP-request-denied).
 */
function httpClientWat(authority: string): string {
  return `(module
  (import "wasi:http/types@0.2.0" "[constructor]fields" (func $fields (result i32)))
  (import "wasi:http/types@0.2.0" "[constructor]outgoing-request" (func $request (param i32) (result i32)))
  (import "wasi:http/types@0.2.0" "[method]outgoing-request.set-scheme"
    (func $scheme (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi:http/types@0.2.0" "[method]outgoing-request.set-authority"
    (func $authority (param i32 i32 i32 i32) (result i32)))
  (import "wasi:http/types@0.2.0" "[method]outgoing-request.set-path-with-query"
    (func $path (param i32 i32 i32 i32) (result i32)))
  (import "wasi:http/types@0.2.0" "[method]future-incoming-response.subscribe"
    (func $subscribe (param i32) (result i32)))
  (import "wasi:http/types@0.2.0" "[method]future-incoming-response.get" (func $get (param i32 i32)))
  (import "wasi:http/types@0.2.0" "[method]incoming-response.status" (func $status (param i32) (result i32)))
  (import "wasi:http/outgoing-handler@0.2.0" "handle" (func $handle (param i32 i32 i32 i32)))
  (import "wasi:io/poll@0.2.0" "[method]pollable.block" (func $block (param i32)))
  (import "wasi:io/streams@0.2.0" "[method]output-stream.blocking-write-and-flush"
    (func $write (param i32 i32 i32 i32)))
  (import "wasi:cli/stdout@0.2.0" "get-stdout" (func $get-stdout (result i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 8192))
  (data (i32.const 2048) "status:???")
  (data (i32.const 2064) "http-error:?")
  (data (i32.const 3000) "${authority}")
  (data (i32.const 3100) "/")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
      (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $p) (local.get 3)))
    (local.get $p))
  (func $fail (param $code i32) (result i32)
    (i32.store8 (i32.const 2075) (i32.add (i32.const 97) (local.get $code)))
    (call $write (call $get-stdout) (i32.const 2064) (i32.const 12) (i32.const 1024))
    (i32.const 0))
  (func (export "wasi:cli/run@0.2.0#run") (result i32)
    (local $req i32) (local $future i32) (local $ready i32) (local $code i32)
    (local.set $req (call $request (call $fields)))
    (drop (call $scheme (local.get $req) (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 0)))
    (drop (call $authority (local.get $req) (i32.const 1) (i32.const 3000) (i32.const ${authority.length})))
    (drop (call $path (local.get $req) (i32.const 1) (i32.const 3100) (i32.const 1)))
    (call $handle (local.get $req) (i32.const 0) (i32.const 0) (i32.const 1024))
    (if (i32.load8_u (i32.const 1024))
      (then (return (call $fail (i32.load8_u (i32.const 1032))))))
    (local.set $future (i32.load (i32.const 1032)))
    (local.set $ready (call $subscribe (local.get $future)))
    (loop $wait
      (call $get (local.get $future) (i32.const 1024))
      (if (i32.eqz (i32.load8_u (i32.const 1024)))
        (then (call $block (local.get $ready)) (br $wait))))
    (if (i32.load8_u (i32.const 1032)) (then (return (call $fail (i32.const 25)))))
    (if (i32.load8_u (i32.const 1040)) (then (return (call $fail (i32.load8_u (i32.const 1048))))))
    (local.set $code (call $status (i32.load (i32.const 1048))))
    (i32.store8 (i32.const 2055) (i32.add (i32.const 48) (i32.div_u (local.get $code) (i32.const 100))))
    (i32.store8 (i32.const 2056)
      (i32.add (i32.const 48) (i32.rem_u (i32.div_u (local.get $code) (i32.const 10)) (i32.const 10))))
    (i32.store8 (i32.const 2057) (i32.add (i32.const 48) (i32.rem_u (local.get $code) (i32.const 10))))
    (call $write (call $get-stdout) (i32.const 2048) (i32.const 10) (i32.const 1024))
    (i32.const 0)))
`;
}

/** Where the client connects: an IPv4 address, or a name it resolves first (its first IPv4). */
type Target = { ip: [number, number, number, number]; port: number } | {
  name: string;
  port: number;
};

/**
 * The core module of the client: connects, writes "ping", reads the reply and prints
 * `connected:<reply>`; or prints `error:<c>` / `lookup-error:<c>`, `<c>` being the letter of
 * the WASI error code ('a' + its index: `b` is access-denied).
 */
function clientWat(target: Target): string {
  const name = "name" in target ? target.name : "";
  const [a, b, c, d] = "ip" in target ? target.ip : [0, 0, 0, 0];
  // Return areas at 1024 (canonical ABI layouts: a result's payload follows its one-byte
  // discriminant at the payload's alignment).
  return `(module
  (import "wasi:sockets/instance-network@0.2.0" "instance-network" (func $network (result i32)))
  (import "wasi:sockets/tcp-create-socket@0.2.0" "create-tcp-socket" (func $create (param i32 i32)))
  (import "wasi:sockets/tcp@0.2.0" "[method]tcp-socket.start-connect"
    (func $start (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "wasi:sockets/tcp@0.2.0" "[method]tcp-socket.finish-connect" (func $finish (param i32 i32)))
  (import "wasi:sockets/tcp@0.2.0" "[method]tcp-socket.subscribe" (func $subscribe (param i32) (result i32)))
  (import "wasi:sockets/ip-name-lookup@0.2.0" "resolve-addresses" (func $resolve (param i32 i32 i32 i32)))
  (import "wasi:sockets/ip-name-lookup@0.2.0" "[method]resolve-address-stream.resolve-next-address"
    (func $next (param i32 i32)))
  (import "wasi:sockets/ip-name-lookup@0.2.0" "[method]resolve-address-stream.subscribe"
    (func $resolving (param i32) (result i32)))
  (import "wasi:io/poll@0.2.0" "[method]pollable.block" (func $block (param i32)))
  (import "wasi:io/streams@0.2.0" "[method]output-stream.blocking-write-and-flush"
    (func $write (param i32 i32 i32 i32)))
  (import "wasi:io/streams@0.2.0" "[method]input-stream.blocking-read" (func $read (param i32 i64 i32)))
  (import "wasi:cli/stdout@0.2.0" "get-stdout" (func $get-stdout (result i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 8192))
  (global $stdout (mut i32) (i32.const 0))
  (data (i32.const 2048) "connected:")
  (data (i32.const 2064) "error:?")
  (data (i32.const 2080) "lookup-error:?")
  (data (i32.const 2100) "ping")
  (data (i32.const 3000) "${name}")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
      (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $p) (local.get 3)))
    (local.get $p))
  (func $print (param $ptr i32) (param $len i32)
    (call $write (global.get $stdout) (local.get $ptr) (local.get $len) (i32.const 1024)))
  (func $fail (param $at i32) (param $len i32) (param $code i32) (result i32)
    (i32.store8 (i32.add (local.get $at) (i32.sub (local.get $len) (i32.const 1)))
      (i32.add (i32.const 97) (local.get $code)))
    (call $print (local.get $at) (local.get $len))
    (i32.const 0))
  (func (export "wasi:cli/run@0.2.0#run") (result i32)
    (local $net i32) (local $sock i32) (local $p i32) (local $in i32) (local $out i32)
    (local $a i32) (local $b i32) (local $c i32) (local $d i32) (local $stream i32)
    (global.set $stdout (call $get-stdout))
    (local.set $net (call $network))
    (local.set $a (i32.const ${a})) (local.set $b (i32.const ${b}))
    (local.set $c (i32.const ${c})) (local.set $d (i32.const ${d}))
    (if (i32.const ${name.length})
      (then
        (call $resolve (local.get $net) (i32.const 3000) (i32.const ${name.length}) (i32.const 1024))
        (if (i32.load8_u (i32.const 1024))
          (then (return (call $fail (i32.const 2080) (i32.const 14) (i32.load8_u (i32.const 1028))))))
        (local.set $stream (i32.load (i32.const 1028)))
        (block $found
          (loop $more
            (call $next (local.get $stream) (i32.const 1024))
            (if (i32.load8_u (i32.const 1024))
              (then
                (if (i32.eq (i32.load8_u (i32.const 1026)) (i32.const 8))
                  (then (call $block (call $resolving (local.get $stream))) (br $more)))
                (return (call $fail (i32.const 2080) (i32.const 14) (i32.load8_u (i32.const 1026))))))
            ;; none left: no IPv4 address (reported as name-unresolvable, 's')
            (if (i32.eqz (i32.load8_u (i32.const 1026)))
              (then (return (call $fail (i32.const 2080) (i32.const 14) (i32.const 18)))))
            (br_if $more (i32.load8_u (i32.const 1028)))
            (local.set $a (i32.load8_u (i32.const 1030))) (local.set $b (i32.load8_u (i32.const 1031)))
            (local.set $c (i32.load8_u (i32.const 1032))) (local.set $d (i32.load8_u (i32.const 1033)))))))
    (call $create (i32.const 0) (i32.const 1024))
    (if (i32.load8_u (i32.const 1024))
      (then (return (call $fail (i32.const 2064) (i32.const 7) (i32.load8_u (i32.const 1028))))))
    (local.set $sock (i32.load (i32.const 1028)))
    (call $start (local.get $sock) (local.get $net) (i32.const 0) (i32.const ${target.port})
      (local.get $a) (local.get $b) (local.get $c) (local.get $d)
      (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
      (i32.const 1024))
    (if (i32.load8_u (i32.const 1024))
      (then (return (call $fail (i32.const 2064) (i32.const 7) (i32.load8_u (i32.const 1025))))))
    (local.set $p (call $subscribe (local.get $sock)))
    (loop $wait
      (call $block (local.get $p))
      (call $finish (local.get $sock) (i32.const 1024))
      (if (i32.load8_u (i32.const 1024))
        (then
          (br_if $wait (i32.eq (i32.load8_u (i32.const 1028)) (i32.const 8)))
          (return (call $fail (i32.const 2064) (i32.const 7) (i32.load8_u (i32.const 1028)))))))
    (local.set $in (i32.load (i32.const 1028)))
    (local.set $out (i32.load (i32.const 1032)))
    (call $write (local.get $out) (i32.const 2100) (i32.const 4) (i32.const 1024))
    (call $read (local.get $in) (i64.const 64) (i32.const 1024))
    (if (i32.load8_u (i32.const 1024))
      (then (return (call $fail (i32.const 2064) (i32.const 7) (i32.const 25)))))
    (local.set $p (i32.load (i32.const 1028)))
    (local.set $in (i32.load (i32.const 1032)))
    (call $print (i32.const 2048) (i32.const 10))
    (call $print (local.get $p) (local.get $in))
    (i32.const 0)))
`;
}

async function wasmTools(args: string[]): Promise<void> {
  const result = await new Deno.Command("wasm-tools", { args, stdout: "piped", stderr: "piped" })
    .output();
  if (!result.success) {
    throw new Error(`wasm-tools ${args[0]} ${args[1]}: ${new TextDecoder().decode(result.stderr)}`);
  }
}

/** Path of the component made of `wit` (its world `world`) and the core module `wat`, cached. */
async function buildComponent(wit: string, world: string, wat: string): Promise<string> {
  const hash = createHash("sha256").update(wit).update(world).update(wat).digest("hex");
  const output = join(CACHE, `net-${world}-${hash.slice(0, 16)}.wasm`);
  try {
    await Deno.stat(output);
    return output;
  } catch {
    // built below
  }
  await Deno.mkdir(CACHE, { recursive: true });
  const work = await Deno.makeTempDir({ prefix: "wasmtime-deno-net-" });
  try {
    await Deno.writeTextFile(join(work, "world.wit"), wit);
    await Deno.writeTextFile(join(work, "core.wat"), wat);
    const embedded = join(work, "embedded.wasm");
    await wasmTools([
      "component",
      "embed",
      join(work, "world.wit"),
      join(work, "core.wat"),
      "--world",
      world,
      "-o",
      embedded,
    ]);
    await wasmTools(["component", "new", embedded, "-o", `${output}.${Deno.pid}.tmp`]);
    await Deno.rename(`${output}.${Deno.pid}.tmp`, output);
  } finally {
    await Deno.remove(work, { recursive: true });
  }
  return output;
}

/** The `wasi:sockets` client component for `target`. */
function client(target: Target): Promise<string> {
  return buildComponent(WIT, "client", clientWat(target));
}

/** The `wasi:http` client component for `authority`. */
function httpClient(authority: string): Promise<string> {
  return buildComponent(HTTP_WIT, "http-client", httpClientWat(authority));
}

/** An HTTP server on 127.0.0.1 that counts requests. */
function httpServer(): { port: number; requests: () => number; close: () => Promise<void> } {
  let requests = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => {
      requests++;
      return new Response("hi");
    },
  );
  return {
    port: server.addr.port,
    requests: () => requests,
    close: () => server.shutdown(),
  };
}

/** A TCP server on 127.0.0.1 that answers "ping" with "pong" and counts connections. */
function pingServer(): { port: number; connections: () => number; close: () => void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let connections = 0;
  (async () => {
    for await (const conn of listener) {
      connections++;
      (async () => {
        const buffer = new Uint8Array(4);
        try {
          let read = 0;
          while (read < 4) {
            const n = await conn.read(buffer.subarray(read));
            if (n === null) break;
            read += n;
          }
          await conn.write(new TextEncoder().encode("pong"));
        } catch {
          // the guest went away
        } finally {
          try {
            conn.close();
          } catch {
            // already closed
          }
        }
      })();
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    connections: () => connections,
    close: () => listener.close(),
  };
}

const library = Deno.env.get("WASMTIME_LIB");

/**
 * Runs `component` with `runWasi` in a subprocess with the library's flags plus `flags` and
 * `options` (a JS object literal); returns its stdout, or "<name>: <message>" if it threw.
 */
async function runGuest(component: string, options: string, flags: string[]): Promise<string> {
  const script = await tempScript(`import { runWasi } from ${JSON.stringify(WASI_URL)};
try {
  const started = performance.now();
  const result = await runWasi(${JSON.stringify(component)}, ${options});
  console.log(result.stdoutText);
  console.error("ms", performance.now() - started);
} catch (e) { console.log(e.name + ": " + e.message); }`);
  const read = [component, ...(library === undefined ? [] : [library])];
  // -A cannot be combined with other --allow flags.
  const base = flags.includes("-A") ? [] : await appFlags(read);
  const result = await runDeno(
    ["run", "--no-prompt", ...base, ...flags, script],
    { env: library === undefined ? {} : { WASMTIME_LIB: library } },
  );
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim();
}

const ACCESS_DENIED = "error:b";

Deno.test("WASI 0.2 network: a connection granted by --allow-net=ip:port round-trips data", async () => {
  const server = pingServer();
  try {
    const guest = await client({ ip: [127, 0, 0, 1], port: server.port });
    const out = await runGuest(guest, "{ network: true, timeoutMs: 5_000 }", [
      `--allow-net=127.0.0.1:${server.port}`,
    ]);
    assert.equal(out, "connected:pong");
    assert.equal(server.connections(), 1);
  } finally {
    server.close();
  }
});

Deno.test("WASI 0.2 network: another port is refused, and the server sees no connection", async () => {
  const granted = pingServer();
  const other = pingServer();
  try {
    const guest = await client({ ip: [127, 0, 0, 1], port: other.port });
    const out = await runGuest(guest, "{ network: true, timeoutMs: 5_000 }", [
      `--allow-net=127.0.0.1:${granted.port}`,
    ]);
    assert.equal(out, ACCESS_DENIED);
    assert.equal(other.connections(), 0);
    assert.equal(granted.connections(), 0);
  } finally {
    granted.close();
    other.close();
  }
});

Deno.test("WASI 0.2 network: --deny-net wins over an allow", async () => {
  const server = pingServer();
  try {
    const guest = await client({ ip: [127, 0, 0, 1], port: server.port });
    for (const deny of [`127.0.0.1:${server.port}`, "127.0.0.1"]) {
      const out = await runGuest(guest, "{ network: true, timeoutMs: 5_000 }", [
        "--allow-net",
        `--deny-net=${deny}`,
      ]);
      assert.equal(out, ACCESS_DENIED, deny);
    }
    assert.equal(server.connections(), 0);
  } finally {
    server.close();
  }
});

Deno.test("WASI 0.2 network: off by default, refused even with -A", async () => {
  const server = pingServer();
  try {
    const guest = await client({ ip: [127, 0, 0, 1], port: server.port });
    for (const options of ["{ timeoutMs: 5_000 }", "{ network: false, timeoutMs: 5_000 }"]) {
      assert.equal(await runGuest(guest, options, ["-A"]), ACCESS_DENIED, options);
    }
    // And with { tcp: false }, TCP sockets are refused outright.
    assert.equal(
      await runGuest(guest, "{ network: { tcp: false }, timeoutMs: 5_000 }", ["-A"]),
      ACCESS_DENIED,
    );
    assert.equal(server.connections(), 0);
  } finally {
    server.close();
  }
});

Deno.test("WASI 0.2 network: a grant on a name covers the addresses the guest resolved from it", async () => {
  const server = pingServer();
  try {
    const byName = await client({ name: "localhost", port: server.port });
    const byAddress = await client({ ip: [127, 0, 0, 1], port: server.port });
    const flags = [`--allow-net=localhost:${server.port}`];
    const options = "{ network: true, timeoutMs: 10_000 }";
    assert.equal(await runGuest(byName, options, flags), "connected:pong");
    assert.equal(server.connections(), 1);
    // Without the lookup, 127.0.0.1 is just an address the grant does not name.
    assert.equal(await runGuest(byAddress, options, flags), ACCESS_DENIED);
    // A grant on the address itself works too, but the lookup of an ungranted name does not
    // happen (access-denied before any DNS query).
    assert.equal(
      await runGuest(byName, options, [`--allow-net=127.0.0.1:${server.port}`]),
      "lookup-error:b",
    );
    assert.equal(
      await runGuest(byAddress, options, [`--allow-net=127.0.0.1:${server.port}`]),
      "connected:pong",
    );
    // The name granted, the address it resolves to denied: refused.
    assert.equal(
      await runGuest(byName, options, [`--allow-net=localhost`, `--deny-net=127.0.0.1`]),
      ACCESS_DENIED,
    );
    assert.equal(server.connections(), 2);
  } finally {
    server.close();
  }
});

Deno.test("WASI 0.2 network: syncWasi refuses network with advice", async () => {
  const guest = await client({ ip: [127, 0, 0, 1], port: 9 });
  const out = await runGuest(guest, "{ network: true, syncWasi: true }", ["--allow-net"]);
  assert.match(
    out,
    /^WasmtimeError: .*network access needs WASI linked asynchronously.*drop syncWasi: true/,
  );
});

Deno.test("WASI 0.2 network: wasi:http requests are checked by host:port before they are sent", async () => {
  const server = httpServer();
  const other = httpServer();
  try {
    const guest = await httpClient(`127.0.0.1:${server.port}`);
    const options = "{ network: true, timeoutMs: 10_000 }";
    assert.equal(
      await runGuest(guest, options, [`--allow-net=127.0.0.1:${server.port}`]),
      "status:200",
    );
    assert.equal(server.requests(), 1);
    const denied = "http-error:p"; // HTTP-request-denied
    assert.equal(await runGuest(guest, options, [`--allow-net=127.0.0.1:${other.port}`]), denied);
    assert.equal(
      await runGuest(guest, options, ["--allow-net", `--deny-net=127.0.0.1:${server.port}`]),
      denied,
    );
    assert.equal(server.requests(), 1);
    // Off by default, and with { http: false }: wasi:http is not linked at all.
    for (const off of ["{ timeoutMs: 5_000 }", "{ network: { http: false }, timeoutMs: 5_000 }"]) {
      assert.match(
        await runGuest(guest, off, ["-A"]),
        /imports wasi:http .*pass network: true/,
        off,
      );
    }
    assert.equal(server.requests(), 1);
    assert.equal(other.requests(), 0);
  } finally {
    await server.close();
    await other.close();
  }
});

Deno.test("WASI 0.2 network: the CLI's --inherit-network, checked by --allow-net", async () => {
  const server = pingServer();
  try {
    const guest = await client({ ip: [127, 0, 0, 1], port: server.port });
    const cli = new URL("../src/wasi/cli.ts", import.meta.url).pathname;
    const run = async (args: string[], net: string) => {
      const read = [guest, cli, ...(library === undefined ? [] : [library])];
      const result = await runDeno(
        ["run", "--no-prompt", ...await appFlags(read), `--allow-net=${net}`, cli, ...args, guest],
        { env: library === undefined ? {} : { WASMTIME_LIB: library } },
      );
      assert.equal(result.code, 0, result.stderr);
      return result.stdout.trim();
    };
    assert.equal(await run(["--inherit-network"], `127.0.0.1:${server.port}`), "connected:pong");
    assert.equal(await run([], `127.0.0.1:${server.port}`), ACCESS_DENIED);
    assert.equal(await run(["--inherit-network"], `127.0.0.1:${server.port + 1}`), ACCESS_DENIED);
    assert.equal(server.connections(), 1);
  } finally {
    server.close();
  }
});

Deno.test("WASI 0.2 network: wasi:http hosts in IPv4 shorthand are checked as the address they reach", async () => {
  // Deno's net descriptors take "127.1" or "2130706433" for names, while the resolver that
  // sends the request reads them as 127.0.0.1 (as Deno's fetch, through the URL parser, does):
  // a deny rule on the address must hold for every spelling of it.
  const server = httpServer();
  try {
    const options = "{ network: true, timeoutMs: 10_000 }";
    const flags = ["--allow-net", "--deny-net=127.0.0.1"];
    for (
      const host of [
        "127.1",
        "2130706433",
        "0x7f.0.0.1",
        "0177.0.0.1",
        "127.0.1",
        "[::ffff:127.0.0.1]",
        "[::FFFF:7f00:1]",
      ]
    ) {
      const guest = await httpClient(`${host}:${server.port}`);
      assert.equal(await runGuest(guest, options, flags), "http-error:p", host);
    }
    assert.equal(server.requests(), 0);
    // An authority with userinfo is refused whatever it names: the connection is made to the
    // whole authority, which is not the host that would be checked.
    const userinfo = await httpClient(`x@127.0.0.1:${server.port}`);
    assert.equal(
      await runGuest(userinfo, options, [`--allow-net=127.0.0.1:${server.port}`]),
      "http-error:p",
    );
    assert.equal(server.requests(), 0);
    // The same spellings are allowed where the address is granted.
    const guest = await httpClient(`127.1:${server.port}`);
    assert.equal(
      await runGuest(guest, options, [`--allow-net=127.0.0.1:${server.port}`]),
      "status:200",
    );
    assert.equal(server.requests(), 1);
  } finally {
    await server.close();
  }
});

Deno.test("WASI 0.2 network: a deadline stops a guest waiting on a silent server", async () => {
  // The server accepts and never answers: the guest waits in blocking-read, off the JS thread.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })().catch(() => {});
  try {
    const guest = await client({ ip: [127, 0, 0, 1], port });
    for (
      const options of [
        "{ network: true, timeoutMs: 500 }",
        "{ network: true, timeoutMs: 500, nonBlocking: true }",
      ]
    ) {
      const out = await runGuest(guest, options, [`--allow-net=127.0.0.1:${port}`]);
      assert.match(out, /^\w*Trap: .*\binterrupt\b/, options);
    }
    assert.equal(held.length, 2);
  } finally {
    listener.close();
    for (const conn of held) conn.close();
    await accepting;
  }
});

Deno.test("WASI 0.2 network: a deadline stops a guest that retries a refused connection for ever", async () => {
  // Every retry asks a question, answered at once: the waits between polls never come, so the
  // deadline must still be seen while questions keep coming.
  const looping = clientWat({ ip: [127, 0, 0, 1], port: 9 })
    .replace(
      `(import "wasi:cli/stdout@0.2.0"`,
      `(import "wasi:sockets/tcp@0.2.0" "[resource-drop]tcp-socket" (func $drop (param i32)))
  (import "wasi:io/poll@0.2.0" "[resource-drop]pollable" (func $unpoll (param i32)))
  (import "wasi:cli/stdout@0.2.0"`,
    )
    .replace(
      "    (call $create (i32.const 0) (i32.const 1024))",
      "    (loop $again\n    (call $create (i32.const 0) (i32.const 1024))",
    )
    .replace(
      "(then (return (call $fail (i32.const 2064) (i32.const 7) (i32.load8_u (i32.const 1025))))))",
      "(then (call $drop (local.get $sock)) (br $again))))", // the last paren closes $again
    )
    .replace(
      "(return (call $fail (i32.const 2064) (i32.const 7) (i32.load8_u (i32.const 1028)))))))",
      // refused by finish-connect: drop the pollable and the socket, and try again
      "(call $unpoll (local.get $p)) (call $drop (local.get $sock)) (br $again)))))",
    )
    .replace("(loop $again\n", "(loop $again (loop $start\n")
    .replace(
      "(then (call $drop (local.get $sock)) (br $again))))",
      "(then (call $drop (local.get $sock)) (br $start))))",
    );
  const guest = await buildComponent(WIT, "client", looping);
  for (
    const options of [
      "{ network: true, timeoutMs: 500 }",
      "{ network: true, timeoutMs: 500, nonBlocking: true }",
    ]
  ) {
    const out = await runGuest(guest, options, ["--allow-net=127.0.0.1:1"]);
    assert.match(out, /^\w*Trap: .*\binterrupt\b/, options);
  }
});

/** `wasi:sockets/udp` (a subset of 0.2.0), for the UDP listener test. */
const UDP_WIT = WIT.replace(
  "world client {",
  `world udp-listener {
  import wasi:sockets/instance-network@0.2.0;
  import wasi:sockets/udp-create-socket@0.2.0;
  import wasi:sockets/udp@0.2.0;
  import wasi:cli/stdout@0.2.0;
  export wasi:cli/run@0.2.0;
}

world client {`,
).replace(
  "  interface tcp-create-socket {",
  `  interface udp {
    use wasi:io/poll@0.2.0.{pollable};
    use network.{network, error-code, ip-socket-address};
    record incoming-datagram { data: list<u8>, remote-address: ip-socket-address }
    resource udp-socket {
      start-bind: func(network: borrow<network>, local-address: ip-socket-address) -> result<_, error-code>;
      finish-bind: func() -> result<_, error-code>;
      %stream: func(remote-address: option<ip-socket-address>) -> result<tuple<incoming-datagram-stream, outgoing-datagram-stream>, error-code>;
      local-address: func() -> result<ip-socket-address, error-code>;
    }
    resource incoming-datagram-stream {
      receive: func(max-results: u64) -> result<list<incoming-datagram>, error-code>;
      subscribe: func() -> pollable;
    }
    resource outgoing-datagram-stream;
  }
  interface udp-create-socket {
    use network.{error-code, ip-address-family};
    use udp.{udp-socket};
    create-udp-socket: func(address-family: ip-address-family) -> result<udp-socket, error-code>;
  }
  interface tcp-create-socket {`,
);

/**
 * Binds a UDP socket to 0.0.0.0:0 (what a send binds implicitly), prints `port:<n>\n`, waits for
 * one datagram and prints `got:<bytes>`; or `error:<c>` as the client does.
 */
const UDP_LISTENER_WAT = `(module
  (import "wasi:sockets/instance-network@0.2.0" "instance-network" (func $network (result i32)))
  (import "wasi:sockets/udp-create-socket@0.2.0" "create-udp-socket" (func $create (param i32 i32)))
  (import "wasi:sockets/udp@0.2.0" "[method]udp-socket.start-bind"
    (func $bind (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "wasi:sockets/udp@0.2.0" "[method]udp-socket.finish-bind" (func $finish (param i32 i32)))
  (import "wasi:sockets/udp@0.2.0" "[method]udp-socket.stream"
    (func $stream (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "wasi:sockets/udp@0.2.0" "[method]udp-socket.local-address" (func $local (param i32 i32)))
  (import "wasi:sockets/udp@0.2.0" "[method]incoming-datagram-stream.receive"
    (func $receive (param i32 i64 i32)))
  (import "wasi:sockets/udp@0.2.0" "[method]incoming-datagram-stream.subscribe"
    (func $subscribe (param i32) (result i32)))
  (import "wasi:io/poll@0.2.0" "[method]pollable.block" (func $block (param i32)))
  (import "wasi:io/streams@0.2.0" "[method]output-stream.blocking-write-and-flush"
    (func $write (param i32 i32 i32 i32)))
  (import "wasi:cli/stdout@0.2.0" "get-stdout" (func $get-stdout (result i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 8192))
  (global $stdout (mut i32) (i32.const 0))
  (data (i32.const 2048) "port:?????\\n")
  (data (i32.const 2064) "error:?")
  (data (i32.const 2080) "got:")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
      (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $p) (local.get 3)))
    (local.get $p))
  (func $print (param $ptr i32) (param $len i32)
    (call $write (global.get $stdout) (local.get $ptr) (local.get $len) (i32.const 1024)))
  (func $fail (param $code i32) (result i32)
    (i32.store8 (i32.const 2070) (i32.add (i32.const 97) (local.get $code)))
    (call $print (i32.const 2064) (i32.const 7))
    (i32.const 0))
  (func (export "wasi:cli/run@0.2.0#run") (result i32)
    (local $net i32) (local $sock i32) (local $in i32) (local $port i32) (local $i i32)
    (global.set $stdout (call $get-stdout))
    (local.set $net (call $network))
    (call $create (i32.const 0) (i32.const 1024))
    (if (i32.load8_u (i32.const 1024)) (then (return (call $fail (i32.load8_u (i32.const 1028))))))
    (local.set $sock (i32.load (i32.const 1028)))
    (call $bind (local.get $sock) (local.get $net) (i32.const 0) (i32.const 0)
      (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
      (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
      (i32.const 1024))
    (if (i32.load8_u (i32.const 1024)) (then (return (call $fail (i32.load8_u (i32.const 1025))))))
    (call $finish (local.get $sock) (i32.const 1024))
    (if (i32.load8_u (i32.const 1024)) (then (return (call $fail (i32.load8_u (i32.const 1025))))))
    (call $stream (local.get $sock) (i32.const 0)
      (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
      (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
      (i32.const 1024))
    (if (i32.load8_u (i32.const 1024)) (then (return (call $fail (i32.load8_u (i32.const 1028))))))
    (local.set $in (i32.load (i32.const 1028)))
    (call $local (local.get $sock) (i32.const 1024))
    (if (i32.load8_u (i32.const 1024)) (then (return (call $fail (i32.load8_u (i32.const 1028))))))
    (local.set $port (i32.load16_u (i32.const 1032)))
    (local.set $i (i32.const 5))
    (loop $digits
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (i32.store8 (i32.add (i32.const 2053) (local.get $i))
        (i32.add (i32.const 48) (i32.rem_u (local.get $port) (i32.const 10))))
      (local.set $port (i32.div_u (local.get $port) (i32.const 10)))
      (br_if $digits (local.get $i)))
    (call $print (i32.const 2048) (i32.const 11))
    (loop $wait
      (call $block (call $subscribe (local.get $in)))
      (call $receive (local.get $in) (i64.const 1) (i32.const 1024))
      (if (i32.load8_u (i32.const 1024)) (then (return (call $fail (i32.load8_u (i32.const 1028))))))
      (br_if $wait (i32.eqz (i32.load (i32.const 1032)))))
    ;; the first datagram: its data list is the record's first field
    (call $print (i32.const 2080) (i32.const 4))
    (call $print (i32.load (i32.load (i32.const 1028))) (i32.load offset=4 (i32.load (i32.const 1028))))
    (i32.const 0)))
`;

Deno.test({
  name: "WASI 0.2 network: a UDP socket on 0.0.0.0:0 hears nobody without a grant",
  // A bind to the wildcard address on port 0 is free (it is also what a send binds
  // implicitly); before the fix received datagrams were never checked, so a guest granted
  // nothing to listen on (here only 127.0.0.1:1) heard anyone on every interface. Now a
  // datagram is heard only from an address the guest may send to.
  async fn() {
    const guest = await buildComponent(UDP_WIT, "udp-listener", UDP_LISTENER_WAT);
    const script = await tempScript(`import { runWasi } from ${JSON.stringify(WASI_URL)};
try {
  const result = await runWasi(${
      JSON.stringify(guest)
    }, { network: true, stdout: "inherit", timeoutMs: 2_000 });
  console.log("exit", result.exitCode);
} catch (e) { console.log(e.name + ": " + e.message); }`);
    const read = [guest, ...(library === undefined ? [] : [library])];
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", ...await appFlags(read), "--allow-net=127.0.0.1:1", script],
      env: library === undefined ? {} : { WASMTIME_LIB: library },
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = child.stdout.getReader();
    let out = "";
    while (!/port:\d+\n|error:.|Error/.test(out)) {
      const { value, done } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
    }
    const port = Number(out.match(/port:(\d+)\n/)?.[1]);
    assert.ok(port > 0, `the guest bound no port: ${out}`);
    {
      const { createSocket } = await import("node:dgram");
      const socket = createSocket("udp4");
      await new Promise<void>((resolve, reject) =>
        socket.send("hello", port, "127.0.0.1", (error) => error ? reject(error) : resolve())
      );
      socket.close();
    }
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
    }
    await child.status;
    assert.doesNotMatch(out, /got:hello/, "the guest heard a datagram without any grant");
  },
});
