/**
 * Putting a cache entry in place so that no reader ever sees half of one, and so that two
 * processes doing the first run at once do the work once.
 *
 * - A lock per entry (`<root>/.lock-<entry>`, an OS file lock that dies with its process, so a
 *   crash leaves no stale lock): the second process waits, then finds the first one's entry.
 * - Staging: the entry is assembled in `<root>/.staging-<entry>-…` and renamed into place in one
 *   step; the loader (which takes no lock) sees either no entry or a whole one. A crash leaves
 *   only a staging directory, removed by the next run under the lock.
 * - Release archives are unpacked only after their sha256 matched the package's pin, and then
 *   only the entry's own files are taken (see {@linkcode entryFromArchive}).
 *
 * @module
 */
import { dirname, join } from "node:path";
import { ArchiveError, type ArchiveFile } from "./archive.ts";
import type { CacheManifest } from "./cache.ts";
import { sha256Hex } from "./download.ts";
import { NATIVE_CRATE } from "./native_crate.ts";
import { type PrebuiltArchive, targetLibraryName } from "./release.ts";

/**
 * Runs `fn` holding the lock of entry `name` under `root`, after waiting for any other process
 * holding it (saying so through `log` when the wait is noticeable).
 */
export async function withEntryLock<T>(
  root: string,
  name: string,
  log: (line: string) => void,
  fn: () => Promise<T>,
): Promise<T> {
  const path = join(root, `.lock-${name}`);
  const file = await Deno.open(path, { read: true, write: true, create: true, mode: 0o644 });
  try {
    let held = false;
    const notice = setTimeout(() => {
      if (!held) log(`waiting for another process that is installing this entry (lock ${path})`);
    }, 250);
    try {
      await file.lock(true);
    } finally {
      held = true;
      clearTimeout(notice);
    }
    return await fn();
  } finally {
    file.close(); // releases the lock
  }
}

/** Removes what crashed runs left for entry `name`; call it holding the entry's lock. */
export async function removeLeftovers(root: string, name: string): Promise<void> {
  for await (const item of Deno.readDir(root)) {
    if (item.name.startsWith(`.staging-${name}-`) || item.name.startsWith(`.trash-${name}-`)) {
      await Deno.remove(join(root, item.name), { recursive: true }).catch(() => {});
    }
  }
}

/** A fresh staging directory for entry `name`, mode 0755 (the loader refuses other modes). */
export async function makeStaging(root: string, name: string): Promise<string> {
  const staging = await Deno.makeTempDir({ dir: root, prefix: `.staging-${name}-` });
  if (Deno.build.os !== "windows") await Deno.chmod(staging, 0o755);
  return staging;
}

/** Writes `files` (paths relative to `dir`) with modes 0644/0755 whatever the umask. */
export async function writeFiles(dir: string, files: ArchiveFile[]): Promise<void> {
  for (const file of files) {
    const path = join(dir, file.path);
    await Deno.mkdir(dirname(path), { recursive: true, mode: 0o755 });
    const mode = file.executable ? 0o755 : 0o644;
    await Deno.writeFile(path, file.bytes, { mode, createNew: true });
    if (Deno.build.os !== "windows") await Deno.chmod(path, mode);
  }
  if (Deno.build.os !== "windows") {
    // Directories made by mkdir above follow the umask too.
    for (const file of files) {
      for (let d = dirname(join(dir, file.path)); d.startsWith(dir) && d !== dir; d = dirname(d)) {
        await Deno.chmod(d, 0o755);
      }
    }
  }
}

/**
 * Moves `staging` to `entry` in one rename. When `entry` exists (an older run or a process
 * that took no lock), it is kept if `keep()` says it is valid; otherwise it is moved aside and
 * replaced. Returns whether `staging` was installed.
 */
export async function commitStaging(
  staging: string,
  entry: string,
  keep: () => Promise<boolean>,
): Promise<boolean> {
  try {
    await Deno.rename(staging, entry);
    return true;
  } catch (error) {
    let exists = false;
    try {
      await Deno.lstat(entry);
      exists = true;
    } catch {
      // fall through
    }
    if (!exists) throw error;
  }
  if (await keep()) {
    await Deno.remove(staging, { recursive: true });
    return false;
  }
  const name = entry.slice(dirname(entry).length + 1);
  const trash = join(dirname(entry), `.trash-${name}-${Deno.pid}-${crypto.randomUUID()}`);
  await Deno.rename(entry, trash);
  await Deno.rename(staging, entry);
  await Deno.remove(trash, { recursive: true });
  return true;
}

/**
 * The entry's files and manifest out of an unpacked release archive for `target`, checked
 * against `pinned` and this package's native crate: every member must lie under the `name/` top
 * directory and be the manifest, the library or a C header under `include/`; the library must
 * have the pinned size and sha256, and the manifest must describe exactly it.
 */
export function entryFromArchive(
  files: ArchiveFile[],
  name: string,
  target: string,
  pinned: PrebuiltArchive,
): { manifest: CacheManifest; files: ArchiveFile[] } {
  const library = targetLibraryName(target);
  const inner: ArchiveFile[] = [];
  for (const file of files) {
    const relative = file.path.startsWith(`${name}/`) ? file.path.slice(name.length + 1) : "";
    if (relative !== "manifest.json" && relative !== library && !relative.startsWith("include/")) {
      throw new ArchiveError(
        `the archive holds ${file.path}, which is not part of cache entry ${name}`,
      );
    }
    inner.push({ ...file, path: relative, executable: relative === library });
  }
  const libraryFile = inner.find((f) => f.path === library);
  const manifestFile = inner.find((f) => f.path === "manifest.json");
  if (!libraryFile || !manifestFile) {
    throw new ArchiveError(`the archive lacks ${name}/${libraryFile ? "manifest.json" : library}`);
  }
  const actual = sha256Hex(libraryFile.bytes);
  if (libraryFile.bytes.length !== pinned.librarySize || actual !== pinned.librarySha256) {
    throw new ArchiveError(
      `the library in the archive (${libraryFile.bytes.length} bytes, sha256 ${actual}) is not ` +
        `the pinned one (${pinned.librarySize} bytes, sha256 ${pinned.librarySha256})`,
    );
  }
  let manifest: CacheManifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(manifestFile.bytes));
  } catch (error) {
    throw new ArchiveError(`the archive's manifest.json is not JSON (${(error as Error).message})`);
  }
  const expected: Partial<CacheManifest> = {
    wasmtimeVersion: NATIVE_CRATE.wasmtimeVersion,
    crateHash: NATIVE_CRATE.hash,
    target,
    library,
    size: pinned.librarySize,
    sha256: pinned.librarySha256,
  };
  for (const [key, value] of Object.entries(expected)) {
    const found = (manifest as unknown as Record<string, unknown>)[key];
    if (found !== value) {
      throw new ArchiveError(
        `the archive's manifest.json says ${key} ${JSON.stringify(found)}, expected ${
          JSON.stringify(value)
        }`,
      );
    }
  }
  return { manifest, files: inner };
}
