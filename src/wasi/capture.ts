/**
 * Captured guest output. WASI writes happen in native code (where JS cannot run), so bytes are
 * buffered natively and copied into JS-owned memory when read; the native buffer is freed at
 * once, so nothing handed to JS ever points at native memory.
 *
 * @module
 */
import { WasmtimeError } from "../errors.ts";
import { ffi } from "../ffi/symbols.ts";
import { OutCell } from "../ffi/raw.ts";
import { Handle } from "../ffi/handle.ts";
import { type HandoffToken, issueToken } from "../core/handoff.ts";

/**
 * Default cap on captured bytes per stream; writes beyond it fail with EIO in the guest.
 *
 * @example
 * ```ts
 * import { DEFAULT_CAPTURE_LIMIT, WasiConfig } from "@wasmtime-deno/wasmtime/wasi";
 * const wasi = new WasiConfig().captureLimit(DEFAULT_CAPTURE_LIMIT / 4);
 * ```
 */
export const DEFAULT_CAPTURE_LIMIT = 1 << 30;

/** Package-private: the native capture (borrowed); throws if it was disposed. */
export let capturePointer: (capture: CapturedOutput, action: string) => Deno.PointerObject;
/**
 * Package-private: a token for the native capture, so the WASI contexts of a threaded run's
 * Workers write into one stream (see `adoptCapture` in config.ts).
 */
export let shareCapture: (capture: CapturedOutput) => HandoffToken<"CapturedOutput">;

/**
 * Output captured from a guest stream. Bytes are buffered natively and moved to JS when read.
 *
 * @example
 * ```ts
 * import { runWasi, instantiateWasi } from "@wasmtime-deno/wasmtime/wasi";
 * using guest = await instantiateWasi("reactor.wasm", { stdout: "capture" });
 * guest.instance.getFunc("greet")!.call();
 * console.log(guest.wasi.stdout.text());
 * ```
 */
export class CapturedOutput {
  readonly #handle: Handle;
  readonly #chunks: Uint8Array<ArrayBuffer>[] = [];
  #length = 0;
  readonly #size = new OutCell();

  /** Creates a capture that buffers at most `limit` bytes. */
  constructor(limit: number = DEFAULT_CAPTURE_LIMIT) {
    this.#handle = new Handle(
      this,
      "CapturedOutput",
      ffi().wasmtime_deno_capture_new(BigInt(limit)),
      (p) => ffi().wasmtime_deno_capture_delete(p),
    );
  }

  static {
    capturePointer = (capture, action) => capture.#handle.pointer(action);
    shareCapture = (capture) => {
      const pointer = capture.#handle.pointer("share");
      return issueToken(
        "CapturedOutput",
        (token) => ffi().wasmtime_deno_handoff_put_capture(pointer, token),
      );
    };
  }

  #drain(): void {
    const pointer = this.#handle.raw;
    if (pointer === null) return;
    const data = ffi().wasmtime_deno_capture_take_all(pointer, this.#size.cleared());
    const size = Number(this.#size.takeU64());
    if (data === null) return;
    // One copy into JS-owned memory: a zero-copy ArrayBuffer over the native buffer could be
    // transferred to a copy that outlives the buffer's free.
    const chunk = new Uint8Array(size);
    try {
      if (size > 0) ffi().wasmtime_deno_read(chunk, data, BigInt(size));
    } finally {
      ffi().wasmtime_deno_buffer_free(data, BigInt(size));
    }
    this.#chunks.push(chunk);
    this.#length += size;
  }

  /**
   * All bytes captured so far. The same array is returned until more output arrives: copy it
   * before transferring or changing it.
   */
  bytes(): Uint8Array<ArrayBuffer> {
    this.#drain();
    if (this.#chunks.some((chunk) => chunk.buffer.detached)) {
      throw new WasmtimeError(
        "CapturedOutput.bytes: the captured bytes were transferred away (transfer(), " +
          "structuredClone or postMessage with a transfer list); copy them (slice()) before " +
          "transferring",
      );
    }
    if (this.#chunks.length !== 1) {
      const all = new Uint8Array(this.#length);
      let offset = 0;
      for (const chunk of this.#chunks) {
        all.set(chunk, offset);
        offset += chunk.length;
      }
      this.#chunks.length = 0;
      this.#chunks.push(all);
    }
    return this.#chunks[0];
  }

  /** All text captured so far, decoded as UTF-8. */
  text(): string {
    return new TextDecoder("utf-8", { ignoreBOM: true }).decode(this.bytes());
  }

  /** Frees the native buffer (captured bytes already read stay available). Idempotent. */
  [Symbol.dispose](): void {
    this.#drain();
    this.#handle.dispose();
  }
}
