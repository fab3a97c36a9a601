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
import { createSocket } from "node:dgram";
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

/** The UDP and TCP-server interfaces of `wasi:sockets` 0.2.0 (a subset), added to {@linkcode WIT}. */
const SOCKETS_WIT = WIT.replace(
  "world client {",
  `world udp-client {
  import wasi:sockets/instance-network@0.2.0;
  import wasi:sockets/udp-create-socket@0.2.0;
  import wasi:sockets/udp@0.2.0;
  import wasi:cli/stdout@0.2.0;
  export wasi:cli/run@0.2.0;
}

world tcp-server {
  import wasi:sockets/instance-network@0.2.0;
  import wasi:sockets/tcp-create-socket@0.2.0;
  import wasi:sockets/tcp@0.2.0;
  import wasi:cli/stdout@0.2.0;
  export wasi:cli/run@0.2.0;
}

world client {`,
).replace(
  "      finish-connect: func() -> result<tuple<input-stream, output-stream>, error-code>;",
  `      finish-connect: func() -> result<tuple<input-stream, output-stream>, error-code>;
      start-bind: func(network: borrow<network>, local-address: ip-socket-address) -> result<_, error-code>;
      finish-bind: func() -> result<_, error-code>;
      start-listen: func() -> result<_, error-code>;
      finish-listen: func() -> result<_, error-code>;
      accept: func() -> result<tuple<tcp-socket, input-stream, output-stream>, error-code>;`,
).replace(
  "  interface instance-network {",
  `  interface udp {
    use wasi:io/poll@0.2.0.{pollable};
    use network.{network, error-code, ip-socket-address};
    record incoming-datagram { data: list<u8>, remote-address: ip-socket-address }
    record outgoing-datagram { data: list<u8>, remote-address: option<ip-socket-address> }
    resource udp-socket {
      start-bind: func(network: borrow<network>, local-address: ip-socket-address) -> result<_, error-code>;
      finish-bind: func() -> result<_, error-code>;
      %stream: func(remote-address: option<ip-socket-address>) -> result<tuple<incoming-datagram-stream, outgoing-datagram-stream>, error-code>;
      subscribe: func() -> pollable;
    }
    resource incoming-datagram-stream {
      receive: func(max-results: u64) -> result<list<incoming-datagram>, error-code>;
      subscribe: func() -> pollable;
    }
    resource outgoing-datagram-stream {
      check-send: func() -> result<u64, error-code>;
      send: func(datagrams: list<outgoing-datagram>) -> result<u64, error-code>;
      subscribe: func() -> pollable;
    }
  }
  interface udp-create-socket {
    use network.{error-code, ip-address-family};
    use udp.{udp-socket};
    create-udp-socket: func(address-family: ip-address-family) -> result<udp-socket, error-code>;
  }
  interface instance-network {`,
);

/** An IPv4 socket address. */
type Ipv4 = { ip: [number, number, number, number]; port: number };

/** The flat lowering of an `ip-socket-address` (variant case, then its 11 joined slots). */
function flatAddress({ ip: [a, b, c, d], port }: Ipv4): string {
  return `(i32.const 0) (i32.const ${port}) (i32.const ${a}) (i32.const ${b}) (i32.const ${c}) ` +
    `(i32.const ${d}) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) ` +
    `(i32.const 0)`;
}

/**
 * The core module of the UDP client: binds `bind`, makes its streams (connected to `to` when
 * `connect`), sends "ping" then "pong" to `to` (waiting for each send to finish), then prints
 * `sent`, or, when `reply`, waits for one datagram and prints `received:<data>`. A failure
 * prints `<step>:<c>`, `<c>` being the letter of the WASI error code (`b` is access-denied):
 * `bind`, `stream`, `send` (first datagram), `resend` (second datagram: a send whose permission
 * is pending is reported by the next one, so a refused first datagram fails here).
 */
function udpWat(bind: Ipv4, to: Ipv4, connect: boolean, reply: boolean): string {
  return `(module
  (import "wasi:sockets/instance-network@0.2.0" "instance-network" (func $network (result i32)))
  (import "wasi:sockets/udp-create-socket@0.2.0" "create-udp-socket" (func $create (param i32 i32)))
  (import "wasi:sockets/udp@0.2.0" "[method]udp-socket.start-bind"
    (func $bind (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "wasi:sockets/udp@0.2.0" "[method]udp-socket.finish-bind" (func $bound (param i32 i32)))
  (import "wasi:sockets/udp@0.2.0" "[method]udp-socket.subscribe" (func $sock-ready (param i32) (result i32)))
  (import "wasi:sockets/udp@0.2.0" "[method]udp-socket.stream"
    (func $stream (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "wasi:sockets/udp@0.2.0" "[method]incoming-datagram-stream.receive" (func $receive (param i32 i64 i32)))
  (import "wasi:sockets/udp@0.2.0" "[method]incoming-datagram-stream.subscribe" (func $in-ready (param i32) (result i32)))
  (import "wasi:sockets/udp@0.2.0" "[method]outgoing-datagram-stream.check-send" (func $check (param i32 i32)))
  (import "wasi:sockets/udp@0.2.0" "[method]outgoing-datagram-stream.send" (func $send (param i32 i32 i32 i32)))
  (import "wasi:sockets/udp@0.2.0" "[method]outgoing-datagram-stream.subscribe" (func $out-ready (param i32) (result i32)))
  (import "wasi:io/poll@0.2.0" "[method]pollable.block" (func $block (param i32)))
  (import "wasi:io/streams@0.2.0" "[method]output-stream.blocking-write-and-flush"
    (func $write (param i32 i32 i32 i32)))
  (import "wasi:cli/stdout@0.2.0" "get-stdout" (func $get-stdout (result i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 8192))
  (data (i32.const 2048) "sent")
  (data (i32.const 2064) "bind:?")
  (data (i32.const 2080) "stream:?")
  (data (i32.const 2096) "send:?")
  (data (i32.const 2112) "resend:?")
  (data (i32.const 2128) "receive:?")
  (data (i32.const 2144) "received:")
  (data (i32.const 2160) "pingpong")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
      (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $p) (local.get 3)))
    (local.get $p))
  (func $print (param $ptr i32) (param $len i32)
    (call $write (call $get-stdout) (local.get $ptr) (local.get $len) (i32.const 1024)))
  (func $fail (param $at i32) (param $len i32) (param $code i32) (result i32)
    (i32.store8 (i32.add (local.get $at) (i32.sub (local.get $len) (i32.const 1)))
      (i32.add (i32.const 97) (local.get $code)))
    (call $print (local.get $at) (local.get $len))
    (i32.const 0))
  ;; Sends the 4 bytes at $data (to \`to\` unless connected); the error code, or -1. Waits for
  ;; the send to finish (its permission is asked in the background).
  (func $send-one (param $out i32) (param $data i32) (result i32)
    (loop $permit
      (call $check (local.get $out) (i32.const 1024))
      (if (i32.load8_u (i32.const 1024)) (then (return (i32.load8_u (i32.const 1032)))))
      (if (i64.eqz (i64.load (i32.const 1032)))
        (then (call $block (call $out-ready (local.get $out))) (br $permit))))
    ;; outgoing-datagram at 4096: data (ptr, len), option<ip-socket-address> at 8 (its
    ;; variant at 12, the ipv4 record at 16: port, then 4 address bytes).
    (i32.store (i32.const 4096) (local.get $data))
    (i32.store (i32.const 4100) (i32.const 4))
    (i32.store8 (i32.const 4104) (i32.const ${connect ? 0 : 1}))
    (i32.store8 (i32.const 4108) (i32.const 0))
    (i32.store16 (i32.const 4112) (i32.const ${to.port}))
    (i32.store8 (i32.const 4114) (i32.const ${to.ip[0]}))
    (i32.store8 (i32.const 4115) (i32.const ${to.ip[1]}))
    (i32.store8 (i32.const 4116) (i32.const ${to.ip[2]}))
    (i32.store8 (i32.const 4117) (i32.const ${to.ip[3]}))
    (call $send (local.get $out) (i32.const 4096) (i32.const 1) (i32.const 1024))
    (if (i32.load8_u (i32.const 1024)) (then (return (i32.load8_u (i32.const 1032)))))
    (call $block (call $out-ready (local.get $out)))
    (i32.const -1))
  (func (export "wasi:cli/run@0.2.0#run") (result i32)
    (local $net i32) (local $sock i32) (local $in i32) (local $out i32) (local $code i32)
    (local.set $net (call $network))
    (call $create (i32.const 0) (i32.const 1024))
    (if (i32.load8_u (i32.const 1024))
      (then (return (call $fail (i32.const 2064) (i32.const 6) (i32.load8_u (i32.const 1028))))))
    (local.set $sock (i32.load (i32.const 1028)))
    (call $bind (local.get $sock) (local.get $net) ${flatAddress(bind)} (i32.const 1024))
    (if (i32.load8_u (i32.const 1024))
      (then (return (call $fail (i32.const 2064) (i32.const 6) (i32.load8_u (i32.const 1025))))))
    (loop $binding
      (call $bound (local.get $sock) (i32.const 1024))
      (if (i32.load8_u (i32.const 1024))
        (then
          (if (i32.eq (i32.load8_u (i32.const 1025)) (i32.const 8))
            (then (call $block (call $sock-ready (local.get $sock))) (br $binding)))
          (return (call $fail (i32.const 2064) (i32.const 6) (i32.load8_u (i32.const 1025)))))))
    (call $stream (local.get $sock) (i32.const ${connect ? 1 : 0}) ${flatAddress(to)}
      (i32.const 1024))
    (if (i32.load8_u (i32.const 1024))
      (then (return (call $fail (i32.const 2080) (i32.const 8) (i32.load8_u (i32.const 1028))))))
    (local.set $in (i32.load (i32.const 1028)))
    (local.set $out (i32.load (i32.const 1032)))
    (local.set $code (call $send-one (local.get $out) (i32.const 2160)))
    (if (i32.ge_s (local.get $code) (i32.const 0))
      (then (return (call $fail (i32.const 2096) (i32.const 6) (local.get $code)))))
    (local.set $code (call $send-one (local.get $out) (i32.const 2164)))
    (if (i32.ge_s (local.get $code) (i32.const 0))
      (then (return (call $fail (i32.const 2112) (i32.const 8) (local.get $code)))))
    (if (i32.eqz (i32.const ${reply ? 1 : 0}))
      (then (call $print (i32.const 2048) (i32.const 4)) (return (i32.const 0))))
    (loop $wait
      (call $block (call $in-ready (local.get $in)))
      (call $receive (local.get $in) (i64.const 1) (i32.const 1024))
      (if (i32.load8_u (i32.const 1024))
        (then (return (call $fail (i32.const 2128) (i32.const 9) (i32.load8_u (i32.const 1028))))))
      (br_if $wait (i32.eqz (i32.load (i32.const 1032)))))
    ;; the first incoming-datagram: its data list is (ptr, len)
    (local.set $code (i32.load (i32.const 1028)))
    (call $print (i32.const 2144) (i32.const 9))
    (call $print (i32.load (local.get $code)) (i32.load offset=4 (local.get $code)))
    (i32.const 0)))
`;
}

/**
 * The core module of the TCP server: binds `bind`, listens, accepts one connection, writes
 * "hi" to it and prints `accepted`; or prints `bind:<c>` / `listen:<c>` / `accept:<c>`.
 */
function tcpServerWat(bind: Ipv4): string {
  return `(module
  (import "wasi:sockets/instance-network@0.2.0" "instance-network" (func $network (result i32)))
  (import "wasi:sockets/tcp-create-socket@0.2.0" "create-tcp-socket" (func $create (param i32 i32)))
  (import "wasi:sockets/tcp@0.2.0" "[method]tcp-socket.start-bind"
    (func $bind (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "wasi:sockets/tcp@0.2.0" "[method]tcp-socket.finish-bind" (func $bound (param i32 i32)))
  (import "wasi:sockets/tcp@0.2.0" "[method]tcp-socket.start-listen" (func $listen (param i32 i32)))
  (import "wasi:sockets/tcp@0.2.0" "[method]tcp-socket.finish-listen" (func $listening (param i32 i32)))
  (import "wasi:sockets/tcp@0.2.0" "[method]tcp-socket.accept" (func $accept (param i32 i32)))
  (import "wasi:sockets/tcp@0.2.0" "[method]tcp-socket.subscribe" (func $subscribe (param i32) (result i32)))
  (import "wasi:io/poll@0.2.0" "[method]pollable.block" (func $block (param i32)))
  (import "wasi:io/streams@0.2.0" "[method]output-stream.blocking-write-and-flush"
    (func $write (param i32 i32 i32 i32)))
  (import "wasi:cli/stdout@0.2.0" "get-stdout" (func $get-stdout (result i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 8192))
  (data (i32.const 2048) "accepted")
  (data (i32.const 2064) "bind:?")
  (data (i32.const 2080) "listen:?")
  (data (i32.const 2096) "accept:?")
  (data (i32.const 2112) "hi")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
      (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $p) (local.get 3)))
    (local.get $p))
  (func $fail (param $at i32) (param $len i32) (param $code i32) (result i32)
    (i32.store8 (i32.add (local.get $at) (i32.sub (local.get $len) (i32.const 1)))
      (i32.add (i32.const 97) (local.get $code)))
    (call $write (call $get-stdout) (local.get $at) (local.get $len) (i32.const 1024))
    (i32.const 0))
  (func (export "wasi:cli/run@0.2.0#run") (result i32)
    (local $sock i32)
    (call $create (i32.const 0) (i32.const 1024))
    (if (i32.load8_u (i32.const 1024))
      (then (return (call $fail (i32.const 2064) (i32.const 6) (i32.load8_u (i32.const 1028))))))
    (local.set $sock (i32.load (i32.const 1028)))
    (call $bind (local.get $sock) (call $network) ${flatAddress(bind)} (i32.const 1024))
    (if (i32.load8_u (i32.const 1024))
      (then (return (call $fail (i32.const 2064) (i32.const 6) (i32.load8_u (i32.const 1025))))))
    (loop $binding
      (call $bound (local.get $sock) (i32.const 1024))
      (if (i32.load8_u (i32.const 1024))
        (then
          (if (i32.eq (i32.load8_u (i32.const 1025)) (i32.const 8))
            (then (call $block (call $subscribe (local.get $sock))) (br $binding)))
          (return (call $fail (i32.const 2064) (i32.const 6) (i32.load8_u (i32.const 1025)))))))
    (call $listen (local.get $sock) (i32.const 1024))
    (if (i32.load8_u (i32.const 1024))
      (then (return (call $fail (i32.const 2080) (i32.const 8) (i32.load8_u (i32.const 1025))))))
    (loop $listening
      (call $listening (local.get $sock) (i32.const 1024))
      (if (i32.load8_u (i32.const 1024))
        (then
          (if (i32.eq (i32.load8_u (i32.const 1025)) (i32.const 8))
            (then (call $block (call $subscribe (local.get $sock))) (br $listening)))
          (return (call $fail (i32.const 2080) (i32.const 8) (i32.load8_u (i32.const 1025)))))))
    (loop $accepting
      (call $accept (local.get $sock) (i32.const 1024))
      (if (i32.load8_u (i32.const 1024))
        (then
          (if (i32.eq (i32.load8_u (i32.const 1028)) (i32.const 8))
            (then (call $block (call $subscribe (local.get $sock))) (br $accepting)))
          (return (call $fail (i32.const 2096) (i32.const 8) (i32.load8_u (i32.const 1028)))))))
    (call $write (i32.load (i32.const 1036)) (i32.const 2112) (i32.const 2) (i32.const 1024))
    (call $write (call $get-stdout) (i32.const 2048) (i32.const 8) (i32.const 1024))
    (i32.const 0)))
`;
}

/** The UDP client component (see {@linkcode udpWat}). */
function udpClient(bind: Ipv4, to: Ipv4, connect: boolean, reply = false): Promise<string> {
  return buildComponent(SOCKETS_WIT, "udp-client", udpWat(bind, to, connect, reply));
}

/** The TCP server component (see {@linkcode tcpServerWat}). */
function tcpServer(bind: Ipv4): Promise<string> {
  return buildComponent(SOCKETS_WIT, "tcp-server", tcpServerWat(bind));
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

/** A UDP socket of this process on 127.0.0.1 (node:dgram: Deno.listenDatagram needs --unstable-net). */
async function udpServer(): Promise<{
  port: number;
  received: () => string[];
  /** The sender of the first datagram. */
  sender: () => Ipv4["port"] | undefined;
  send: (text: string, port: number) => Promise<void>;
  close: () => Promise<void>;
}> {
  const socket = createSocket("udp4");
  const received: string[] = [];
  let sender: number | undefined;
  socket.on("message", (message, from) => {
    received.push(new TextDecoder().decode(message));
    sender ??= from.port;
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return {
    port: socket.address().port,
    received: () => received,
    sender: () => sender,
    send: (text, port) =>
      new Promise((resolve, reject) =>
        socket.send(text, port, "127.0.0.1", (e) => e ? reject(e) : resolve())
      ),
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

/** Waits until `done()` (a datagram crosses the loopback in well under a millisecond). */
async function until(done: () => boolean, ms = 2_000): Promise<void> {
  const end = Date.now() + ms;
  while (!done() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

const WILDCARD: Ipv4 = { ip: [0, 0, 0, 0], port: 0 };
const UDP_OPTIONS = "{ network: true, timeoutMs: 10_000 }";

Deno.test("WASI 0.2 network: UDP datagrams granted by --allow-net=ip:port reach the server", async () => {
  const server = await udpServer();
  try {
    const to: Ipv4 = { ip: [127, 0, 0, 1], port: server.port };
    // The guest binds 0.0.0.0:0 first, which Deno's listenDatagram needs a grant for too.
    const flags = [`--allow-net=127.0.0.1:${server.port},0.0.0.0:0`];
    // Sent to an address (send-to), and on a connected socket.
    assert.equal(await runGuest(await udpClient(WILDCARD, to, false), UDP_OPTIONS, flags), "sent");
    assert.equal(await runGuest(await udpClient(WILDCARD, to, true), UDP_OPTIONS, flags), "sent");
    await until(() => server.received().length === 4);
    assert.deepEqual(server.received(), ["ping", "pong", "ping", "pong"]);
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

Deno.test("WASI 0.2 network: UDP to another port is refused, and the server gets nothing", async () => {
  const granted = await udpServer();
  const other = await udpServer();
  try {
    const to: Ipv4 = { ip: [127, 0, 0, 1], port: other.port };
    const flags = [`--allow-net=127.0.0.1:${granted.port},0.0.0.0:0`];
    // A connect is refused at once; a send-to is checked in the background, so the guest's
    // first send reports success and the refusal comes with its next send.
    assert.equal(
      await runGuest(await udpClient(WILDCARD, to, true), UDP_OPTIONS, flags),
      "stream:b",
    );
    assert.equal(
      await runGuest(await udpClient(WILDCARD, to, false), UDP_OPTIONS, flags),
      "resend:b",
    );
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(other.received(), []);
    assert.deepEqual(granted.received(), []);
  } finally {
    await granted.close();
    await other.close();
  }
});

Deno.test("WASI 0.2 network: UDP: --deny-net wins, and network off refuses even with -A", async () => {
  const server = await udpServer();
  try {
    const to: Ipv4 = { ip: [127, 0, 0, 1], port: server.port };
    const sendTo = await udpClient(WILDCARD, to, false);
    const connected = await udpClient(WILDCARD, to, true);
    for (const deny of [`127.0.0.1:${server.port}`, "127.0.0.1"]) {
      const flags = ["--allow-net", `--deny-net=${deny}`];
      assert.equal(await runGuest(connected, UDP_OPTIONS, flags), "stream:b", deny);
      assert.equal(await runGuest(sendTo, UDP_OPTIONS, flags), "resend:b", deny);
    }
    for (
      const options of ["{ timeoutMs: 5_000 }", "{ network: { udp: false }, timeoutMs: 5_000 }"]
    ) {
      assert.equal(await runGuest(sendTo, options, ["-A"]), "bind:b", options);
    }
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(server.received(), []);
  } finally {
    await server.close();
  }
});

Deno.test("WASI 0.2 network: a UDP bind on ip:port needs a grant for it", async () => {
  const server = await udpServer();
  const probe = await udpServer();
  const port = probe.port; // free once closed
  await probe.close();
  try {
    const bind: Ipv4 = { ip: [127, 0, 0, 1], port };
    const guest = await udpClient(bind, { ip: [127, 0, 0, 1], port: server.port }, true);
    const to = `127.0.0.1:${server.port}`;
    assert.equal(await runGuest(guest, UDP_OPTIONS, [`--allow-net=${to}`]), "bind:b");
    assert.equal(
      await runGuest(guest, UDP_OPTIONS, ["--allow-net", `--deny-net=127.0.0.1:${port}`]),
      "bind:b",
    );
    assert.equal(
      await runGuest(guest, UDP_OPTIONS, [`--allow-net=${to},127.0.0.1:${port}`]),
      "sent",
    );
    await until(() => server.received().length === 2);
    assert.deepEqual(server.received(), ["ping", "pong"]);
    assert.equal(server.sender(), port);
  } finally {
    await server.close();
  }
});

/** A TCP port free on 127.0.0.1 right now. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Connects to 127.0.0.1:`port` once something listens there (retrying), and reads its greeting. */
async function greeting(port: number, ms = 8_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    let conn: Deno.TcpConn;
    try {
      conn = await Deno.connect({ hostname: "127.0.0.1", port });
    } catch (e) {
      if (!(e instanceof Deno.errors.ConnectionRefused) || Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 20));
      continue;
    }
    try {
      const buffer = new Uint8Array(16);
      const n = await conn.read(buffer);
      return new TextDecoder().decode(buffer.subarray(0, n ?? 0));
    } finally {
      conn.close();
    }
  }
}

Deno.test("WASI 0.2 network: a TCP bind and listen on ip:port need a grant for it", async () => {
  const port = freePort();
  const guest = await tcpServer({ ip: [127, 0, 0, 1], port });
  const options = "{ network: true, timeoutMs: 10_000 }";
  assert.equal(await runGuest(guest, options, [`--allow-net=127.0.0.1:${port + 1}`]), "bind:b");
  assert.equal(
    await runGuest(guest, options, ["--allow-net", `--deny-net=127.0.0.1:${port}`]),
    "bind:b",
  );
  assert.equal(await runGuest(guest, "{ timeoutMs: 5_000 }", ["-A"]), "bind:b");
  // Granted: a client of this process is accepted and greeted.
  const [out, hello] = await Promise.all([
    runGuest(guest, options, [`--allow-net=127.0.0.1:${port}`]),
    greeting(port),
  ]);
  assert.equal(out, "accepted");
  assert.equal(hello, "hi");
});

Deno.test("WASI 0.2 network: listening on an ephemeral port needs a grant for the port it got", async () => {
  // The wildcard bind itself is free (it is what a connect binds implicitly, and the connect
  // tests above pass under a grant that names only the server); listen is checked at the
  // address the socket got.
  const guest = await tcpServer(WILDCARD);
  const options = "{ network: true, timeoutMs: 10_000 }";
  assert.equal(await runGuest(guest, options, [`--allow-net=127.0.0.1:${freePort()}`]), "listen:b");
  assert.equal(await runGuest(guest, options, ["--allow-net=127.0.0.1"]), "listen:b");
  // Granted on the wildcard address: the guest listens, and waits for a client until its
  // deadline (no one knows its port).
  assert.match(
    await runGuest(guest, "{ network: true, timeoutMs: 500 }", ["--allow-net=0.0.0.0"]),
    /^WasiTrap: .*deadline passed while the guest waited/,
  );
});

Deno.test("WASI 0.2 network: a UDP bind of the wildcard address needs a grant, as in Deno", async () => {
  // A bound UDP socket hears anyone (received datagrams are not checked, as in Deno), and UDP
  // has no listen step: were the ephemeral wildcard bind free (as a TCP connect's implicit bind
  // is), a guest granted only a destination would get a socket on every interface that
  // anyone can write to, where Deno's own listenDatagram needs a grant for "0.0.0.0:0".
  const server = await udpServer();
  try {
    const to: Ipv4 = { ip: [127, 0, 0, 1], port: server.port };
    const guest = await udpClient(WILDCARD, to, false, true);
    assert.equal(
      await runGuest(guest, UDP_OPTIONS, [`--allow-net=127.0.0.1:${server.port}`]),
      "bind:b",
    );
    // The implicit bind of a send on an unbound socket is asked the same way.
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(server.received(), []);
  } finally {
    await server.close();
  }
});
