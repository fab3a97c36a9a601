/**
 * Tokens that hand a native object to another Worker (native/src/handoff.rs): the sender parks
 * a reference under 16 random bytes and posts the token, a plain object that survives
 * `postMessage`; the receiver takes the reference out, once. A raw pointer is never posted, so a
 * forged, replayed or stale token finds nothing and is reported as an error instead of reaching
 * freed memory.
 *
 * @module
 */
import { WasmtimeError } from "../errors.ts";
import { ffi } from "../ffi/symbols.ts";

/** Kinds of object a token can stand for. */
export type HandoffKind = "Engine" | "SharedMemory" | "CapturedOutput";

/**
 * A one-use token for a native object handed to another Worker: post it with `postMessage`
 * and claim it there ({@linkcode Engine.claim}, {@linkcode SharedMemory.claim}). Claiming
 * takes the reference it holds, so each receiver needs its own token.
 *
 * @example
 * ```ts
 * import { Engine, type HandoffToken } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine({ threads: true });
 * const token: HandoffToken<"Engine"> = engine.share();
 * using again = Engine.claim(token); // usually in a Worker, after postMessage(token)
 * ```
 */
export interface HandoffToken<K extends HandoffKind = HandoffKind> {
  /** What the token stands for. */
  readonly kind: K;
  /** 32 hex digits naming the parked reference. */
  readonly id: string;
}

/** Parks an object with `put(bytes)` under a new random token and returns the token. */
export function issueToken<K extends HandoffKind>(
  kind: K,
  put: (token: Uint8Array<ArrayBuffer>) => boolean,
): HandoffToken<K> {
  for (;;) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    // false only if these 128 random bits are already in use: draw again.
    if (put(bytes)) {
      const id = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
      return Object.freeze({ kind, id });
    }
  }
}

/** The token's bytes, after checking it names an object of `kind`. */
export function tokenBytes(
  token: unknown,
  kind: HandoffKind,
  action: string,
): Uint8Array<ArrayBuffer> {
  const id = (token as HandoffToken | null)?.id;
  if (
    typeof token !== "object" || token === null || (token as HandoffToken).kind !== kind ||
    typeof id !== "string" || !/^[0-9a-f]{32}$/.test(id)
  ) {
    throw new WasmtimeError(
      `${action}: expected a token from ${kind[0].toLowerCase()}${kind.slice(1)}.share(), got ` +
        describe(token),
    );
  }
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 16; i++) bytes[i] = parseInt(id.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** The error for a token that names nothing (any more). */
export function unclaimable(kind: HandoffKind, action: string): WasmtimeError {
  return new WasmtimeError(
    `${action}: this ${kind} token was already claimed, was revoked, or was not issued in this ` +
      "process; each token can be claimed once, so call share() once per receiver",
  );
}

/**
 * Drops the reference a token holds, if it was not claimed yet (a token that was never
 * delivered would otherwise keep its object until the process exits). Returns whether there
 * was one.
 *
 * @example
 * ```ts
 * import { Engine, revokeToken } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine();
 * const token = engine.share();
 * console.log(revokeToken(token)); // true: nobody claimed it
 * ```
 */
export function revokeToken(token: HandoffToken): boolean {
  const kind = (token as HandoffToken | null)?.kind;
  if (kind !== "Engine" && kind !== "SharedMemory" && kind !== "CapturedOutput") {
    throw new WasmtimeError(`revokeToken: expected a token from share(), got ${describe(token)}`);
  }
  return ffi().wasmtime_deno_handoff_revoke(tokenBytes(token, kind, "revokeToken"));
}
