/**
 * Release archives: a gzip-compressed ustar file holding one cache entry (`<entry>/manifest.json`,
 * `<entry>/<library>`, `<entry>/include/…`). Written and read here with `node:zlib` and a small
 * tar codec, so that installing one needs no external tool, and `tar -xzf` still unpacks it by
 * hand.
 *
 * Writing is deterministic (sorted paths, mtime 0, uid/gid 0, no user names, fixed gzip header),
 * so the same files give the same bytes and the same sha256. Reading accepts only what the
 * writer produces: regular files and directories with relative, normalized paths under one top
 * directory, no duplicates, no links, no device files, no pax or GNU extension headers, valid
 * header checksums and no data past the end. Callers verify the archive's sha256 before
 * unpacking it; the strict reader is a second line, not the first.
 *
 * @module
 */
import { gunzipSync, gzipSync } from "node:zlib";

/** A file to put into, or read out of, an archive. */
export interface ArchiveFile {
  /** Relative path with `/` separators, e.g. `48.0.8-…/libwasmtime.so`. */
  path: string;
  /** Contents. */
  bytes: Uint8Array;
  /** Whether the file is executable (mode 0755 instead of 0644). */
  executable: boolean;
}

/** An archive the reader refuses: malformed, truncated, or holding something other than files. */
export class ArchiveError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "ArchiveError";
  }
}

const BLOCK = 512;
/** Upper bound on the unpacked size (the library is ~30 MB): refuses a decompression bomb. */
const MAX_UNPACKED = 1 << 30;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Why `path` cannot be an archive member, or undefined when it can. */
export function unsafeMemberPath(path: string): string | undefined {
  if (path.length === 0) return "an empty path";
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path)) return "an absolute path";
  if (path.includes("\\")) return "a backslash (a Windows separator)";
  if ([...path].some((c) => c.charCodeAt(0) < 0x20)) return "a control character";
  const segments = path.split("/");
  // A directory member ends with `/`, which leaves one empty last segment.
  const inner = path.endsWith("/") ? segments.slice(0, -1) : segments;
  for (const segment of inner) {
    if (segment === "" || segment === "." || segment === "..") {
      return `a "${segment}" path segment`;
    }
  }
  return undefined;
}

function writeString(header: Uint8Array, offset: number, length: number, value: string): void {
  const bytes = encoder.encode(value);
  if (bytes.length > length) throw new ArchiveError(`"${value}" does not fit in a tar header`);
  header.set(bytes, offset);
}

function writeOctal(header: Uint8Array, offset: number, length: number, value: number): void {
  // length - 1 octal digits and a NUL, as ustar requires.
  const digits = value.toString(8).padStart(length - 1, "0");
  if (digits.length > length - 1) throw new ArchiveError(`${value} does not fit in a tar header`);
  writeString(header, offset, length, `${digits}\0`);
}

function checksum(header: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i];
  return sum;
}

function splitName(path: string): [prefix: string, name: string] {
  if (encoder.encode(path).length <= 100) return ["", path];
  // ustar keeps longer paths as prefix (up to 155 bytes) + "/" + name (up to 100 bytes).
  for (let cut = path.indexOf("/"); cut !== -1; cut = path.indexOf("/", cut + 1)) {
    const prefix = path.slice(0, cut);
    const name = path.slice(cut + 1);
    if (encoder.encode(prefix).length <= 155 && encoder.encode(name).length <= 100) {
      return [prefix, name];
    }
  }
  throw new ArchiveError(`${path} is too long for a ustar archive`);
}

function header(file: ArchiveFile): Uint8Array {
  const block = new Uint8Array(BLOCK);
  const [prefix, name] = splitName(file.path);
  writeString(block, 0, 100, name);
  writeOctal(block, 100, 8, file.executable ? 0o755 : 0o644);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, file.bytes.length);
  writeOctal(block, 136, 12, 0);
  block[156] = 0x30; // "0": regular file
  writeString(block, 257, 6, "ustar\0");
  writeString(block, 263, 2, "00");
  writeString(block, 345, 155, prefix);
  writeString(block, 148, 8, `${checksum(block).toString(8).padStart(6, "0")}\0 `);
  return block;
}

/** The gzip-compressed ustar archive of `files` (deterministic: see the module documentation). */
export function packArchive(files: ArchiveFile[]): Uint8Array<ArrayBuffer> {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const parts: Uint8Array[] = [];
  let seen = "";
  for (const file of sorted) {
    const unsafe = unsafeMemberPath(file.path);
    if (unsafe || file.path.endsWith("/")) {
      throw new ArchiveError(`cannot archive ${file.path}: ${unsafe ?? "a directory"}`);
    }
    if (file.path === seen) throw new ArchiveError(`${file.path} is listed twice`);
    seen = file.path;
    parts.push(header(file), file.bytes);
    const padding = (BLOCK - file.bytes.length % BLOCK) % BLOCK;
    if (padding > 0) parts.push(new Uint8Array(padding));
  }
  parts.push(new Uint8Array(2 * BLOCK));
  const tar = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    tar.set(part, offset);
    offset += part.length;
  }
  const gzip = new Uint8Array(gzipSync(tar, { level: 9 }));
  // The header's OS byte is whatever zlib was compiled for; fix it so that an archive made on
  // Windows and one made on Linux from the same files are the same bytes.
  gzip[9] = 3;
  return gzip;
}

function readString(block: Uint8Array, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  try {
    return decoder.decode(end === -1 ? field : field.subarray(0, end));
  } catch {
    throw new ArchiveError("a tar header holds a name that is not UTF-8");
  }
}

function readOctal(block: Uint8Array, offset: number, length: number, what: string): number {
  const text = readString(block, offset, length).trim();
  if (!/^[0-7]+$/.test(text)) throw new ArchiveError(`a tar header has a malformed ${what}`);
  return parseInt(text, 8);
}

/**
 * Unpacks a gzip-compressed ustar archive into its regular files (directories are implied by
 * the paths and not returned). Throws {@linkcode ArchiveError} for anything the writer would not
 * have produced (see the module documentation).
 */
export function unpackArchive(archive: Uint8Array): ArchiveFile[] {
  let tar: Uint8Array;
  try {
    tar = new Uint8Array(gunzipSync(archive, { maxOutputLength: MAX_UNPACKED }));
  } catch (error) {
    throw new ArchiveError(`the archive is not valid gzip data (${(error as Error).message})`);
  }
  const files: ArchiveFile[] = [];
  const seen = new Set<string>();
  let offset = 0;
  let ended = false;
  while (offset + BLOCK <= tar.length) {
    const block = tar.subarray(offset, offset + BLOCK);
    offset += BLOCK;
    if (block.every((b) => b === 0)) {
      ended = true;
      break;
    }
    if (readOctal(block, 148, 8, "checksum") !== checksum(block)) {
      throw new ArchiveError(`the tar header at byte ${offset - BLOCK} has a wrong checksum`);
    }
    if (readString(block, 257, 6) !== "ustar" || readString(block, 263, 2) !== "00") {
      throw new ArchiveError("the archive is not a POSIX ustar archive");
    }
    const prefix = readString(block, 345, 155);
    const name = readString(block, 0, 100);
    const path = prefix ? `${prefix}/${name}` : name;
    const type = String.fromCharCode(block[156] || 0x30);
    const size = readOctal(block, 124, 12, "size");
    if (type === "1" || type === "2") {
      throw new ArchiveError(
        `the archive holds a ${type === "1" ? "hard" : "symbolic"} link (${path} -> ${
          readString(block, 157, 100)
        }); links are refused`,
      );
    }
    if (type !== "0" && type !== "5") {
      throw new ArchiveError(
        `the archive holds ${path} of tar type "${type}"; only files are allowed`,
      );
    }
    const unsafe = unsafeMemberPath(path);
    if (unsafe) throw new ArchiveError(`the archive member ${path} has ${unsafe}; refused`);
    const key = path.replace(/\/$/, "");
    if (seen.has(key)) throw new ArchiveError(`the archive holds ${key} twice`);
    seen.add(key);
    if (type === "5") {
      if (size !== 0) throw new ArchiveError(`the directory member ${path} has data`);
      continue;
    }
    if (path.endsWith("/")) throw new ArchiveError(`the file member ${path} ends with "/"`);
    if (offset + size > tar.length) {
      throw new ArchiveError(`the archive is truncated inside ${path}`);
    }
    const mode = readOctal(block, 100, 8, "mode");
    files.push({ path, bytes: tar.slice(offset, offset + size), executable: (mode & 0o100) !== 0 });
    offset += Math.ceil(size / BLOCK) * BLOCK;
  }
  if (!ended) throw new ArchiveError("the archive is truncated (no end-of-archive marker)");
  return files;
}
