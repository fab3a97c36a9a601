/**
 * `Module.cached`: compiled modules kept in a directory, loaded only when the directory is
 * trustworthy and the entry was made for exactly this source and engine.
 *
 * Trust model. An entry is native code that is mapped executable, so whoever can write the
 * directory decides what this process runs. A digest cannot stop such a writer (they can
 * compute any digest), so the directory itself is checked, like ssh checks a private key: it
 * must be owned by the current user and not writable by group or others, and so must every
 * ancestor the process may read (owned by the user or root; group/world-writable only with
 * the sticky bit, like /tmp, where others cannot rename what is not theirs). Ancestors outside
 * Deno's read grant cannot be inspected and are not. The entry file must be a regular file,
 * not a link, owned by the user and not group/world-writable. On Windows, ACLs are not
 * inspected.
 *
 * Binding. An entry is two files: `<key>.cwasm` (a header with the SHA-256 of the key text,
 * then the compiled bytes) and `<key>.json`, its manifest: the key text (the SHA-256 of the
 * wasm bytes, the Wasmtime version, the target and the engine options) and what `fstat` said
 * of the `.cwasm` once it was written, synced and renamed into place (device, inode, size,
 * mtime, ctime). A hit opens the `.cwasm` once, compares `fstat` of that descriptor with the
 * manifest and deserializes the bytes read from it: no hash of the compiled bytes, so a hit
 * costs about a `deserializeFile`. Whoever can write the directory is the user (see the
 * trust model), so the check is against accidents, not attackers: a file rewritten in place
 * (mtime and ctime move), truncated (size), replaced or copied in from elsewhere, another
 * entry or a backup (inode), a manifest for another module (key text) all fail it and are
 * recompiled and replaced, never loaded. Entries are synced before they are renamed into
 * place, so a crash never leaves a named entry with unwritten blocks. A byte changed without
 * moving mtime or ctime (bit rot below the file system, or the owner restoring the times on
 * purpose) is not detected; Wasmtime still checks the header of what it loads.
 *
 * @module
 */
import { createHash, randomUUID } from "node:crypto";
import { join, resolve } from "node:path";
import type { Engine } from "./engine.ts";
import { WasmtimeError } from "../errors.ts";
/** What the cache stores: a `Module`, or a `Component` (which reuses this machinery). */
export interface Compiled {
  serialize(): Uint8Array;
  [Symbol.dispose](): void;
}

/** The class of what the cache stores: how to compile and deserialize one. */
export interface CompiledKind<T extends Compiled> {
  new (engine: Engine, bytes: Uint8Array): T;
  compile(engine: Engine, bytes: Uint8Array): Promise<T>;
  deserialize(engine: Engine, bytes: Uint8Array): T;
  /** "Module" or "Component": errors say `${name}.cached`. */
  readonly name: string;
}
import { type CheckedFile, readChecked, requirePermission } from "../permissions.ts";
import { version } from "../version.ts";

/** `.cwasm` layout: MAGIC, the 32-byte SHA-256 of the key text, the compiled bytes. */
const MAGIC = new TextEncoder().encode("wasmtime-deno module cache v3\n");
const HEADER_SIZE = MAGIC.length + 32;
const GROUP_OR_OTHER_WRITE = 0o022;
const STICKY = 0o1000;

/** What the manifest records of its `.cwasm`: the fields of `fstat` a rewrite changes. */
interface EntryStat {
  dev: number;
  ino: number | null;
  size: number;
  mtime: number | null;
  ctime: number | null;
}

function entryStat(info: Deno.FileInfo): EntryStat {
  return {
    dev: info.dev,
    ino: info.ino,
    size: info.size,
    mtime: info.mtime?.getTime() ?? null,
    ctime: info.ctime?.getTime() ?? null,
  };
}

function sameStat(a: EntryStat, b: unknown): boolean {
  if (typeof b !== "object" || b === null) return false;
  const record = b as Record<string, unknown>;
  return (Object.keys(a) as (keyof EntryStat)[]).every((key) => record[key] === a[key]);
}

function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(bytes).digest());
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

let processUid: number | undefined;

/**
 * The current user id. `Deno.uid()` needs `--allow-sys=uid`; without it, the owner of a file
 * this process creates in `dir` (which needs write access, required anyway) tells the same.
 */
function currentUid(dir: string, what: string): number {
  if (processUid !== undefined) return processUid;
  if (Deno.permissions.querySync({ name: "sys", kind: "uid" }).state === "granted") {
    processUid = Deno.uid() ?? undefined;
  }
  if (processUid === undefined) {
    const probe = Deno.makeTempFileSync({ dir, prefix: ".uid-probe-" });
    try {
      processUid = Deno.statSync(probe).uid ?? undefined;
    } finally {
      Deno.removeSync(probe);
    }
  }
  if (processUid === undefined) throw new WasmtimeError(`${what}: cannot tell the user id`);
  return processUid;
}

function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let dir = resolve(path, "..");; dir = resolve(dir, "..")) {
    out.push(dir);
    if (dir === resolve(dir, "..")) return out;
  }
}

function mode(info: Deno.FileInfo): string {
  return `0${((info.mode ?? 0) & 0o7777).toString(8)}`;
}

/**
 * Throws unless the cache directory `real` (a real path; `root` is how the caller named it)
 * can only be written by the current user (see the module documentation); returns that
 * user's id (undefined on Windows).
 */
function requireTrustedDirectory(root: string, real: string, what: string): number | undefined {
  const info = Deno.statSync(real);
  if (info.uid === null || info.mode === null) return undefined; // Windows: no ACL checks
  const uid = currentUid(real, what);
  if (!info.isDirectory) {
    throw new WasmtimeError(`${what}: ${real} is not a directory`);
  }
  if (info.uid !== uid) {
    throw new WasmtimeError(
      `${what}: the cache directory ${real} belongs to user ${info.uid}, not to this ` +
        `process (user ${uid}); its entries are native code this process would run. Use a ` +
        "directory you own",
    );
  }
  if ((info.mode & GROUP_OR_OTHER_WRITE) !== 0) {
    throw new WasmtimeError(
      `${what}: the cache directory ${real} is writable by other users (mode ` +
        `${mode(info)}); its entries are native code this process would run. Run ` +
        `chmod go-w ${real}, or use a directory only you can write`,
    );
  }
  const seen = new Set([real, root]);
  for (const chain of [ancestors(real), ancestors(root)]) {
    for (const dir of chain) {
      if (seen.has(dir)) continue;
      seen.add(dir);
      // Deno forbids the stat without read access to the ancestor; never prompt for it.
      if (Deno.permissions.querySync({ name: "read", path: dir }).state !== "granted") break;
      const parent = Deno.statSync(dir);
      const mine = parent.uid === uid || parent.uid === 0;
      const loose = ((parent.mode ?? 0) & GROUP_OR_OTHER_WRITE) !== 0 &&
        ((parent.mode ?? 0) & STICKY) === 0;
      if (!mine || loose) {
        throw new WasmtimeError(
          `${what}: the cache directory ${real} lies inside ${dir}, which ${
            mine ? `other users can write (mode ${mode(parent)})` : `belongs to user ${parent.uid}`
          }: they could replace the cache and have this process run their native code. Use a ` +
            `directory whose parents only you (or root) can write, or run chmod go-w ${dir}`,
        );
      }
    }
  }
  return uid;
}

/** Whether a stat'ed entry may be loaded: see the module documentation. */
function trustedEntry(info: Deno.FileInfo, uid: number | undefined): boolean {
  if (!info.isFile) return false;
  if (info.uid === null || info.mode === null) return true; // Windows
  return info.uid === uid && (info.mode & GROUP_OR_OTHER_WRITE) === 0;
}

/** Reads a file of the cache, or undefined when it is missing, swapped or not trusted. */
function readTrusted(
  path: string,
  uid: number | undefined,
  what: string,
): CheckedFile | undefined {
  let file;
  try {
    file = readChecked(path, `${what}: reading a cache entry`);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof WasmtimeError) return undefined;
    throw error;
  }
  return file.realPath === path && trustedEntry(file.info, uid) ? file : undefined;
}

/**
 * The compiled bytes of the entry at `path` if its manifest vouches for it (see the module
 * documentation), else undefined.
 */
function readEntry(
  path: string,
  manifestPath: string,
  keyText: string,
  keyDigest: Uint8Array,
  uid: number | undefined,
  what: string,
): Uint8Array | undefined {
  const manifestFile = readTrusted(manifestPath, uid, what);
  if (manifestFile === undefined) return undefined;
  let manifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(manifestFile.bytes));
  } catch {
    return undefined;
  }
  if (manifest?.key !== keyText) return undefined;
  const entry = readTrusted(path, uid, what);
  if (entry === undefined || !sameStat(entryStat(entry.info), manifest.entry)) return undefined;
  const { bytes } = entry;
  if (
    bytes.length <= HEADER_SIZE || !sameBytes(bytes.subarray(0, MAGIC.length), MAGIC) ||
    !sameBytes(bytes.subarray(MAGIC.length, HEADER_SIZE), keyDigest)
  ) {
    return undefined;
  }
  return bytes.subarray(HEADER_SIZE);
}

/** Writes `parts` to a new file beside `path`, syncs it and renames it to `path`. */
function writeEntryFile(path: string, parts: Uint8Array[]): Deno.FileInfo {
  const partial = `${path}.${randomUUID()}.partial`;
  // createNew: never follow something placed under the temporary name.
  const file = Deno.openSync(partial, { write: true, createNew: true, mode: 0o644 });
  try {
    for (const part of parts) {
      for (let offset = 0; offset < part.length;) offset += file.writeSync(part.subarray(offset));
    }
    // Durable before it is named: a crash must not leave a named entry with unwritten blocks,
    // which its manifest would vouch for.
    file.syncSync();
    // rename replaces whatever is at `path` (even a link) without following it.
    Deno.renameSync(partial, path);
    // fstat of the renamed file itself (rename moves its ctime), not of whatever `path` now is.
    return file.statSync();
  } catch (error) {
    try {
      Deno.removeSync(partial);
    } catch {
      // already renamed or never created
    }
    throw error;
  } finally {
    file.close();
  }
}

/** A cache lookup: the entry's module if it was valid, and how to store a fresh compile. */
interface Slot<T extends Compiled> {
  hit: T | undefined;
  /** Writes `module`'s code as the entry and returns `module` (disposed if writing fails). */
  save(module: T): T;
}

/**
 * Loads `bytes` compiled for `engine` from the cache in `dir`, or compiles and stores it.
 * Modules are made through `modules` (the Module class, passed by `Module.cached`), so this
 * file sits below module.ts instead of in an import circle with it.
 */
export function loadCached<T extends Compiled>(
  modules: CompiledKind<T>,
  engine: Engine,
  bytes: Uint8Array,
  dir: string,
): T {
  const slot = lookup(modules, engine, bytes, dir);
  return slot.hit ?? slot.save(new modules(engine, bytes));
}

/**
 * {@linkcode loadCached}, compiling off the JS thread. The lookup and `Module.compile`'s copy
 * of `bytes` happen before the first await, so the key and the compiled bytes agree even if
 * the caller changes its buffer afterwards.
 */
export async function loadCachedAsync<T extends Compiled>(
  modules: CompiledKind<T>,
  engine: Engine,
  bytes: Uint8Array,
  dir: string,
): Promise<T> {
  const slot = lookup(modules, engine, bytes, dir);
  return slot.hit ?? slot.save(await modules.compile(engine, bytes));
}

function lookup<T extends Compiled>(
  modules: CompiledKind<T>,
  engine: Engine,
  bytes: Uint8Array,
  dir: string,
): Slot<T> {
  // Module.cached or Component.cached: errors name what the user called.
  const what = `${modules.name}.cached`;
  if (typeof dir !== "string" || dir.length === 0) {
    throw new WasmtimeError(`${what}: options.dir must name a directory`);
  }
  const root = resolve(dir);
  // Only JS touches the directory (Deno checks each file itself, deny rules included), so a
  // grant with a denied path inside is enough; these checks name the flag up front.
  const partialIsEnough = true;
  for (const name of ["read", "write"] as const) {
    requirePermission({ name, path: root }, `${what}: using the cache ${root}`, {
      partialIsEnough,
    });
  }
  Deno.mkdirSync(root, { recursive: true, mode: 0o700 });
  const real = Deno.realPathSync(root);
  if (real !== root) {
    for (const name of ["read", "write"] as const) {
      requirePermission(
        { name, path: real },
        `${what}: using the cache ${real} (where ${root} leads)`,
        { partialIsEnough },
      );
    }
  }
  const uid = requireTrustedDirectory(root, real, what);

  const keyText = JSON.stringify({
    format: 3,
    source: hex(sha256(bytes)),
    wasmtime: version,
    target: Deno.build.target,
    engine: engine.options,
  });
  const keyDigest = sha256(new TextEncoder().encode(keyText));
  const name = hex(keyDigest).slice(0, 32);
  const path = join(real, `${name}.cwasm`);
  const manifestPath = join(real, `${name}.json`);

  const compiled = readEntry(path, manifestPath, keyText, keyDigest, uid, what);
  if (compiled !== undefined) {
    try {
      return { hit: modules.deserialize(engine, compiled), save: (module) => module };
    } catch {
      // Incompatible with this engine after all: fall through and recompile.
    }
  }
  return {
    hit: undefined,
    save: (module) => save(module, keyText, keyDigest, path, manifestPath),
  };
}

function save<T extends Compiled>(
  module: T,
  keyText: string,
  keyDigest: Uint8Array,
  path: string,
  manifestPath: string,
): T {
  try {
    const info = writeEntryFile(path, [MAGIC, keyDigest, module.serialize()]);
    const manifest = JSON.stringify({ key: keyText, entry: entryStat(info) });
    writeEntryFile(manifestPath, [new TextEncoder().encode(manifest)]);
  } catch (error) {
    module[Symbol.dispose]();
    throw error;
  }
  return module;
}
