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
import { netHostDenied, netHostGranted, netNameGrantedOnAnyPort } from "../permissions.ts";
import type { Store } from "./store.ts";

/** `[kind, port, text pointer, text length]` of the question taken last. */
const info = new BigUint64Array(4);
const infoBytes = new Uint8Array(info.buffer);

/** Names each store's guest was allowed to look up (asked once per store and name). */
const lookups = new WeakMap<Store, Map<string, boolean>>();

/** An IP address as Deno's net descriptors spell a host (IPv6 in brackets). */
function hostOf(address: string): string {
  return address.includes(":") ? `[${address}]` : address;
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
    case NET_ASK_HTTP:
      return netHostGranted(text, port);
    case NET_ASK_LOOKUP: {
      let known = lookups.get(store);
      if (known === undefined) lookups.set(store, known = new Map());
      let allowed = known.get(text);
      if (allowed === undefined) {
        allowed = netNameGrantedOnAnyPort(text);
        known.set(text, allowed);
      }
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
