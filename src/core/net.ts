/**
 * The JS side of a WASI 0.2 guest's network checks (native/src/net.rs): between two polls of a
 * call future, the questions the guest's sockets, lookups and HTTP requests asked are taken
 * and answered with Deno's permissions for the address actually used, so that native code
 * never reaches past `--allow-net` (deny rules included). Stores without a network never get
 * here (one flag test per poll).
 *
 * @module
 */
import { ffi } from "../ffi/symbols.ts";
import { copyBytes, decodeUtf8, pointerFromBits } from "../ffi/raw.ts";
import {
  NET_ASK_BIND,
  NET_ASK_CONNECT,
  NET_ASK_HTTP,
  NET_ASK_LISTEN,
  NET_ASK_LOOKUP,
} from "../ffi/layout.ts";
import {
  netHostDenied,
  netHostGranted,
  netNameGranted,
  netNameGrantedOnAnyPort,
} from "../permissions.ts";
import type { Store } from "./store.ts";

/** `[kind, port, text pointer, text length]` of the question taken last. */
const info = new BigUint64Array(4);
const infoBytes = new Uint8Array(info.buffer);

/**
 * Whether each name may be looked up: a name granted only on some ports is found by trying
 * ports (up to about 250 ms for a name granted on none), so answers are kept for the process
 * (bounded; a later revoke still stops every connection, which is checked on its own) and each
 * store tries at most {@linkcode MAX_PROBES} names not granted as a whole.
 */
const lookups = new Map<string, boolean>();
const MAX_REMEMBERED_LOOKUPS = 1024;
const MAX_PROBES = 8;
const probes = new WeakMap<Store, number>();

/** An IP address as Deno's net descriptors spell a host (IPv6 in brackets). */
function hostOf(address: string): string {
  return address.includes(":") ? `[${address}]` : address;
}

/** `host` as the WHATWG URL parser reads it (lowercased, IPv4 forms canonical); undefined if invalid. */
function urlHost(host: string): string | undefined {
  try {
    return new URL(`http://${host}/`).hostname;
  } catch {
    return undefined;
  }
}

/** Decides one question; see `WasiConfig.network` for the rules. */
function decide(store: Store, kind: number, port: number, text: string): boolean {
  switch (kind) {
    case NET_ASK_CONNECT: {
      // An address, then the names it was resolved from by this store's lookups: a grant on
      // the address itself, or on one of the names (the address not denied), as Deno's fetch
      // checks a name and then the addresses it resolved to.
      const [address, ...names] = text.split("\n");
      const host = hostOf(address);
      if (netHostGranted(host, port)) return true;
      return names.some((name) => netHostGranted(name, port)) && !netHostDenied(host, port);
    }
    case NET_ASK_BIND:
    case NET_ASK_LISTEN:
      return netHostGranted(hostOf(text), port);
    case NET_ASK_HTTP: {
      // The request is sent to what the system resolver makes of the host, which reads IPv4
      // shorthand ("127.1", "2130706433", "0x7f.1") as an address where Deno's descriptors
      // see a name: the host is checked as Deno's fetch checks it, as the URL parser reads
      // it, so that a deny rule on the address holds for every spelling of it (and the
      // spelling itself must not be denied).
      const read = urlHost(text);
      if (read === undefined) return false;
      return netHostGranted(read, port) && (read === text || !netHostDenied(text, port));
    }
    case NET_ASK_LOOKUP: {
      if (netNameGranted(text)) return true;
      let allowed = lookups.get(text);
      if (allowed !== undefined) return allowed;
      // A hostile guest could make the host try ports for name after name.
      const tried = probes.get(store) ?? 0;
      if (tried >= MAX_PROBES) return false;
      probes.set(store, tried + 1);
      allowed = netNameGrantedOnAnyPort(text);
      if (lookups.size >= MAX_REMEMBERED_LOOKUPS) lookups.clear();
      lookups.set(text, allowed);
      return allowed;
    }
    default:
      return false;
  }
}

/**
 * Answers every question `store`'s guest has asked since the last poll; returns how many (the
 * caller polls again at once when there were some: each answer woke the future).
 */
export function answerNetQuestions(store: Store, context: Deno.PointerObject): number {
  let answered = 0;
  for (;;) {
    const ask = ffi().wasmtime_deno_net_take(context, infoBytes);
    if (ask === null) return answered;
    let allowed = false;
    try {
      const text = decodeUtf8(copyBytes(Number(info[3]), pointerFromBits(info[2])));
      allowed = decide(store, Number(info[0]), Number(info[1]), text);
    } finally {
      // Always answered (a refusal if deciding threw): an unanswered question would leave
      // the guest waiting for ever.
      ffi().wasmtime_deno_net_answer(ask, allowed);
      answered++;
    }
  }
}
