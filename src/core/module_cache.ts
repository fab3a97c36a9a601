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
 * Binding. Each entry holds a digest of (its key text, the compiled bytes); the key text names
 * the SHA-256 of the wasm bytes, the Wasmtime version, the target and the engine options. An
 * entry made for another module, copied under this module's name, has another key text and
 * fails the digest, so it is recompiled, never loaded.
 *
 * @module
 */
import { createHash, randomUUID } from "node:crypto";
import { join, resolve } from "node:path";
import type { Engine } from "./engine.ts";
import { WasmtimeError } from "../errors.ts";
import type { Module } from "./module.ts";
import { readChecked, requirePermission } from "../permissions.ts";
import { version } from "../version.ts";

/** Entry layout: MAGIC, 32-byte SHA-256 of (key text, 0, compiled bytes), compiled bytes. */
const MAGIC = new TextEncoder().encode("wasmtime-deno module cache v2\n");
const DIGEST_SIZE = 32;
const GROUP_OR_OTHER_WRITE = 0o022;
const STICKY = 0o1000;

function sha256(...parts: Uint8Array[]): Uint8Array {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
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
function currentUid(dir: string): number {
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
  if (processUid === undefined) throw new WasmtimeError("Module.cached: cannot tell the user id");
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
function requireTrustedDirectory(root: string, real: string): number | undefined {
  const info = Deno.statSync(real);
  if (info.uid === null || info.mode === null) return undefined; // Windows: no ACL checks
  const uid = currentUid(real);
  if (!info.isDirectory) {
    throw new WasmtimeError(`Module.cached: ${real} is not a directory`);
  }
  if (info.uid !== uid) {
    throw new WasmtimeError(
      `Module.cached: the cache directory ${real} belongs to user ${info.uid}, not to this ` +
        `process (user ${uid}); its entries are native code this process would run. Use a ` +
        "directory you own",
    );
  }
  if ((info.mode & GROUP_OR_OTHER_WRITE) !== 0) {
    throw new WasmtimeError(
      `Module.cached: the cache directory ${real} is writable by other users (mode ` +
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
          `Module.cached: the cache directory ${real} lies inside ${dir}, which ${
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

/**
 * Loads `bytes` compiled for `engine` from the cache in `dir`, or compiles and stores it.
 * Modules are made through `modules` (the Module class, passed by `Module.cached`), so this
 * file sits below module.ts instead of in an import circle with it.
 */
export function loadCached(
  modules: typeof Module,
  engine: Engine,
  bytes: Uint8Array,
  dir: string,
): Module {
  if (typeof dir !== "string" || dir.length === 0) {
    throw new WasmtimeError("Module.cached: options.dir must name a directory");
  }
  const root = resolve(dir);
  // Only JS touches the directory (Deno checks each file itself, deny rules included), so a
  // grant with a denied path inside is enough; these checks name the flag up front.
  const partialIsEnough = true;
  for (const name of ["read", "write"] as const) {
    requirePermission({ name, path: root }, `Module.cached: using the cache ${root}`, {
      partialIsEnough,
    });
  }
  Deno.mkdirSync(root, { recursive: true, mode: 0o700 });
  const real = Deno.realPathSync(root);
  if (real !== root) {
    for (const name of ["read", "write"] as const) {
      requirePermission(
        { name, path: real },
        `Module.cached: using the cache ${real} (where ${root} leads)`,
        { partialIsEnough },
      );
    }
  }
  const uid = requireTrustedDirectory(root, real);

  const keyText = new TextEncoder().encode(JSON.stringify({
    format: 2,
    source: hex(sha256(bytes)),
    wasmtime: version,
    target: Deno.build.target,
    engine: engine.options,
  }));
  const name = `${hex(sha256(keyText)).slice(0, 32)}.cwasm`;
  const path = join(real, name);
  const separator = new Uint8Array(1);

  let entry;
  try {
    entry = readChecked(path, "Module.cached: reading a cache entry");
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound) && !(error instanceof WasmtimeError)) {
      throw error;
    }
    // Missing, or swapped while it was opened: compile afresh and replace it.
  }
  if (
    entry !== undefined && entry.realPath === path &&
    trustedEntry(entry.info, uid) && entry.bytes.length > MAGIC.length + DIGEST_SIZE &&
    sameBytes(entry.bytes.subarray(0, MAGIC.length), MAGIC)
  ) {
    const digest = entry.bytes.subarray(MAGIC.length, MAGIC.length + DIGEST_SIZE);
    const compiled = entry.bytes.subarray(MAGIC.length + DIGEST_SIZE);
    if (sameBytes(digest, sha256(keyText, separator, compiled))) {
      try {
        return modules.deserialize(engine, compiled);
      } catch {
        // Incompatible with this engine after all: fall through and recompile.
      }
    }
  }

  const module = new modules(engine, bytes);
  try {
    const compiled = module.serialize();
    const partial = `${path}.${randomUUID()}.partial`;
    // createNew: never follow something placed under the temporary name.
    const file = Deno.openSync(partial, { write: true, createNew: true, mode: 0o644 });
    try {
      for (const part of [MAGIC, sha256(keyText, separator, compiled), compiled]) {
        for (let offset = 0; offset < part.length;) {
          offset += file.writeSync(part.subarray(offset));
        }
      }
    } catch (error) {
      file.close();
      Deno.removeSync(partial);
      throw error;
    }
    file.close();
    // rename replaces whatever is at `path` (even a link) without following it.
    Deno.renameSync(partial, path);
  } catch (error) {
    module[Symbol.dispose]();
    throw error;
  }
  return module;
}
