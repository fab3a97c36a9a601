/**
 * Downloading a release archive and checking it against the size and sha256 the package pins,
 * before anything reads it. Redirects are followed by hand (at most five), so that each host is
 * checked against Deno's net grant first and a missing grant names the exact `--allow-net` list;
 * a stalled server is given up on after an idle timeout; a body longer than pinned is cut off at
 * the pinned size.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** Why a download did not produce the pinned bytes; `flag` is the grant to add, if that is it. */
export class DownloadError extends Error {
  /** The `--allow-net=…` flag that would let the download proceed, when a grant is missing. */
  readonly flag: string | undefined;
  /** Creates the error. */
  constructor(message: string, flag?: string) {
    super(message);
    this.name = "DownloadError";
    this.flag = flag;
  }
}

/** What the downloaded bytes must be. */
export interface Pinned {
  /** Exact size in bytes. */
  size: number;
  /** Hex sha256. */
  sha256: string;
}

/** Options of {@linkcode downloadPinned}. */
export interface DownloadOptions {
  /** Give up when no byte arrives for this long (milliseconds). */
  idleTimeout: number;
  /** Progress lines (start, every 10 %, done). */
  log: (line: string) => void;
}

const MAX_REDIRECTS = 5;

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** Hex sha256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Fetches `url` and returns its body when it is exactly `pinned` (size and sha256); otherwise
 * throws {@linkcode DownloadError} saying what went wrong. Needs `--allow-net` for the URL's host
 * and for every host it redirects to.
 */
export async function downloadPinned(
  url: URL,
  pinned: Pinned,
  options: DownloadOptions,
): Promise<Uint8Array> {
  const hosts: string[] = [];
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(), options.idleTimeout);
  };
  const stalled = (where: string) =>
    new DownloadError(
      `${url.host} sent nothing for ${options.idleTimeout / 1000} s ${where}; gave up`,
    );
  try {
    let response: Response | undefined;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      if (!hosts.includes(url.host)) hosts.push(url.host);
      const state = Deno.permissions.querySync({ name: "net", host: url.host }).state;
      if (state !== "granted") {
        throw new DownloadError(
          `downloading ${url.href} needs network access to ${url.host}`,
          `--allow-net=${hosts.join(",")}`,
        );
      }
      arm();
      try {
        response = await fetch(url, { redirect: "manual", signal: controller.signal });
      } catch (error) {
        if (controller.signal.aborted) throw stalled("before answering");
        throw new DownloadError(`cannot reach ${url.host}: ${(error as Error).message}`);
      }
      const location = response.headers.get("location");
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel();
        const next = new URL(location, url);
        if (next.protocol !== "https:" && next.protocol !== "http:") {
          // fetch would read a file: or data: URL from here, on the server's say-so.
          throw new DownloadError(
            `${url.host} redirected to ${next.protocol} URL ${next.href}; only http(s) ` +
              "redirects are followed",
          );
        }
        url = next;
        response = undefined;
        continue;
      }
      break;
    }
    if (!response) throw new DownloadError(`more than ${MAX_REDIRECTS} redirects`);
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      throw new DownloadError(
        `${url.href} answered HTTP ${response.status}${
          response.statusText ? ` ${response.statusText}` : ""
        }`,
      );
    }
    const announced = response.headers.get("content-length");
    if (announced !== null && Number(announced) !== pinned.size) {
      await response.body.cancel();
      throw new DownloadError(
        `${url.href} is ${announced} bytes, but this package pins ${pinned.size}`,
      );
    }
    options.log(`downloading ${url.href} (${megabytes(pinned.size)})`);
    const chunks: Uint8Array[] = [];
    const hash = createHash("sha256");
    let received = 0;
    let shown = 0;
    const reader = response.body.getReader();
    try {
      while (true) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (error) {
          if (controller.signal.aborted) throw stalled(`after ${received} bytes`);
          throw new DownloadError(
            `the download broke off after ${received} of ${pinned.size} bytes (${
              (error as Error).message
            })`,
          );
        }
        if (chunk.done) break;
        arm();
        received += chunk.value.length;
        if (received > pinned.size) {
          throw new DownloadError(`${url.href} sent more than the pinned ${pinned.size} bytes`);
        }
        hash.update(chunk.value);
        chunks.push(chunk.value);
        const percent = Math.floor(received * 10 / pinned.size) * 10;
        if (percent > shown) {
          shown = percent;
          options.log(`${percent}% (${megabytes(received)} of ${megabytes(pinned.size)})`);
        }
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
    if (received !== pinned.size) {
      throw new DownloadError(
        `the download is truncated: ${received} of ${pinned.size} bytes arrived`,
      );
    }
    const actual = hash.digest("hex");
    if (actual !== pinned.sha256) {
      throw new DownloadError(
        `the archive's sha256 is ${actual}, but this package pins ${pinned.sha256}; ` +
          "it was not used (a corrupted or tampered download, or a mirror of another release)",
      );
    }
    const bytes = new Uint8Array(received);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    return bytes;
  } finally {
    clearTimeout(timer);
  }
}
