/**
 * Deno permission checks made on behalf of native code, which Deno's own checks never see, and
 * the one way the binding reads a file for native code: open it once, check where it really
 * is, read from the open file.
 *
 * The rule everywhere: **a partial grant is not a grant.** Deno reports `granted` with
 * `partial: true` for a directory that holds a `--deny-*` path (or for `--allow-env` next to a
 * `--deny-env`), and native code given that directory would never see the deny rule.
 *
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";
import { PermissionError, WasmtimeError } from "./errors.ts";

/** True if Deno has granted `descriptor` wholly (not in part, without prompting). */
export function isGranted(descriptor: Deno.PermissionDescriptor): boolean {
  const status = Deno.permissions.querySync(descriptor);
  return status.state === "granted" && !status.partial;
}

/** True if Deno grants net access to `host` (a name, IPv4 or bracketed IPv6) on `port`. */
export function netHostGranted(host: string, port: number): boolean {
  try {
    return isGranted({ name: "net", host: `${host}:${port}` });
  } catch {
    return false; // a host Deno cannot parse is never granted
  }
}

/** True if a `--deny-net` rule covers `host` on `port`. */
export function netHostDenied(host: string, port: number): boolean {
  try {
    return Deno.permissions.querySync({ name: "net", host: `${host}:${port}` }).state === "denied";
  } catch {
    return true;
  }
}

/** Ports tried first by {@linkcode netNameGrantedOnAnyPort} (a grant on one ends the search early). */
const COMMON_PORTS = [443, 80, 8080, 8000, 8443, 3000, 5000, 5432, 6379, 3306, 27017, 53];

/**
 * True if Deno grants net access to the name `host` on some port: Deno reports a grant only
 * per port (`--allow-net=localhost:8080` does not grant `localhost`), so, unless the name is
 * granted as a whole, ports are tried one by one (common ones first). A name granted on no
 * port costs 65,536 queries (measured: about 250 ms); callers remember answers and bound how
 * many names they try.
 */
export function netNameGrantedOnAnyPort(host: string): boolean {
  try {
    if (isGranted({ name: "net", host })) return true;
    for (const port of COMMON_PORTS) {
      if (isGranted({ name: "net", host: `${host}:${port}` })) return true;
    }
    for (let port = 0; port <= 65_535; port++) {
      if (isGranted({ name: "net", host: `${host}:${port}` })) return true;
    }
  } catch {
    // a name Deno cannot parse is never granted
  }
  return false;
}

/** True if Deno grants net access to the name `host` on every port (one query). */
export function netNameGranted(host: string): boolean {
  try {
    return isGranted({ name: "net", host });
  } catch {
    return false;
  }
}

/** The command-line flag that grants `descriptor`. */
export function flagFor(descriptor: Deno.PermissionDescriptor): string {
  switch (descriptor.name) {
    case "read":
    case "write":
    case "ffi":
      return `--allow-${descriptor.name}${descriptor.path ? `=${descriptor.path}` : ""}`;
    case "env":
      return `--allow-env${descriptor.variable ? `=${descriptor.variable}` : ""}`;
    default:
      return `--allow-${descriptor.name}`;
  }
}

/** How {@linkcode requirePermission} words its advice. */
export interface RequireOptions {
  /** The path to suggest in `--allow-*=` when it is wider than the one checked. */
  suggest?: string;
  /** What to do instead when the grant is partial, e.g. "preopen a narrower directory". */
  narrower?: string;
  /**
   * Accept a partial grant. Only where no native code uses the grant (JS does the work and
   * Deno checks each access itself), or where the check mirrors one Deno makes with partial
   * semantics (its FFI pointer APIs accept `--allow-ffi` next to a `--deny-ffi=<path>`).
   */
  partialIsEnough?: boolean;
}

const WALK_LIMIT = 1000;

/**
 * A path inside `root` that `descriptor`'s permission denies, for error messages: deny rules
 * are not exposed by Deno, so the tree is walked (bounded, links not followed). Undefined when
 * none is found (a deny rule may name a path that does not exist).
 */
function deniedInside(name: "read" | "write", root: string): string | undefined {
  const pending = [root];
  let budget = WALK_LIMIT;
  while (pending.length > 0 && budget > 0) {
    const dir = pending.shift()!;
    // Listing needs read access to the directory itself; never prompt for it.
    if (Deno.permissions.querySync({ name: "read", path: dir }).state !== "granted") continue;
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (--budget < 0) break;
      const path = join(dir, entry.name);
      const status = Deno.permissions.querySync({ name, path });
      if (status.state === "denied") return path;
      if (status.partial && entry.isDirectory) pending.push(path);
    }
  }
  return undefined;
}

/**
 * Throws a {@linkcode PermissionError} unless Deno grants `descriptor` wholly. The message
 * says whether a flag is missing, a deny rule covers the path, or a deny rule covers something
 * inside it, and what to do about it.
 */
export function requirePermission(
  descriptor: Deno.PermissionDescriptor,
  why: string,
  options: RequireOptions = {},
): void {
  const status = Deno.permissions.querySync(descriptor);
  if (status.state === "granted" && (!status.partial || options.partialIsEnough)) return;
  const suggested = options.suggest === undefined
    ? flagFor(descriptor)
    : flagFor({ ...descriptor, path: options.suggest } as Deno.PermissionDescriptor);
  const deny = `--deny-${descriptor.name}`;
  const subject = "path" in descriptor && descriptor.path
    ? String(descriptor.path)
    : "variable" in descriptor && descriptor.variable
    ? descriptor.variable
    : undefined;
  if (status.state === "prompt") throw new PermissionError(why, suggested);
  if (status.state === "denied") {
    throw new PermissionError(
      `${why}, but Deno denies it (a ${deny} rule covers ${
        subject ?? "it"
      }, or a permission prompt was refused)`,
      `${suggested} and no ${deny} rule covering ${subject ?? "it"}`,
    );
  }
  // Granted in part: a deny rule covers something inside.
  const example = (descriptor.name === "read" || descriptor.name === "write") && subject
    ? deniedInside(descriptor.name, subject)
    : undefined;
  const inside = example === undefined
    ? `a ${deny} rule covers something inside ${subject ?? "the grant"}`
    : `a ${deny} rule covers ${example}`;
  throw new PermissionError(
    `${why}, but Deno grants it only in part: ${inside}, and native code would not honour ` +
      `that rule. ${
        options.narrower ?? "Use a narrower path that contains no denied path"
      }, or drop the deny rule`,
    `${suggested} and no ${deny} rule inside ${subject ?? "it"}`,
  );
}

/**
 * Where `path` (read access to it granted) really leads once symlinks are followed; for a file
 * that does not exist (or a dangling link), its directory's real path joined with its name
 * when the directory may be read, else `path`. Never prompts.
 */
export function realTarget(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch (error) {
    // Anything but a missing file (a name too long, a loop): the open that follows fails with
    // the operating system's reason.
    if (!(error instanceof Deno.errors.NotFound)) return path;
    if (Deno.permissions.querySync({ name: "read", path: dirname(path) }).state !== "granted") {
      return path;
    }
    try {
      return join(Deno.realPathSync(dirname(path)), basename(path));
    } catch {
      return path; // the directory is missing too: opening will fail with a clear error
    }
  }
}

/** A file read by {@linkcode readChecked}. */
export interface CheckedFile {
  /** The file's whole content, read from the descriptor that was checked. */
  bytes: Uint8Array<ArrayBuffer>;
  /** `fstat` of the open file. */
  info: Deno.FileInfo;
  /** The real path the permission was checked for (the opened file is the file there). */
  realPath: string;
}

function readAll(file: Deno.FsFile, sizeHint: number): Uint8Array<ArrayBuffer> {
  let buffer = new Uint8Array(Math.max(sizeHint, 0) + 1);
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      const grown = new Uint8Array(buffer.length * 2);
      grown.set(buffer);
      buffer = grown;
    }
    const n = file.readSync(buffer.subarray(length));
    if (n === null) break;
    length += n;
  }
  return buffer.slice(0, length);
}

/**
 * Reads the regular file at `path` for native code, so that what is checked is what is read:
 * the file is opened once; its real path (symlinks followed) must be readable under Deno's
 * grant, wholly; the file at the real path must be the opened one (same device and inode, the
 * last component not a link); the bytes come from the open descriptor, never from a second
 * open by path. A symlink swapped between the steps fails the identity check.
 */
export function readChecked(path: string, why: string): CheckedFile {
  const requested = resolve(path);
  requirePermission({ name: "read", path: requested }, `${why} needs read access to ${requested}`);
  // A preflight for a clear error (Deno's open would refuse a denied link target with its own
  // words); the check that counts is made below, on the opened file.
  const target = realTarget(requested);
  requirePermission(
    { name: "read", path: target },
    `${why} needs read access to ${target} (where ${requested} leads)`,
  );
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(requested, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(
        `${why}: ${requested} does not exist (or is a symlink to nothing)`,
        { cause: error },
      );
    }
    throw error;
  }
  try {
    const info = file.statSync();
    let realPath: string;
    try {
      realPath = Deno.realPathSync(requested);
    } catch (error) {
      throw new WasmtimeError(
        `${why}: ${requested} changed while it was opened (${(error as Error).message})`,
        { cause: error },
      );
    }
    requirePermission(
      { name: "read", path: realPath },
      `${why} needs read access to ${realPath} (where ${requested} leads)`,
    );
    let there: Deno.FileInfo;
    try {
      there = Deno.lstatSync(realPath);
    } catch (error) {
      throw new WasmtimeError(`${why}: ${requested} changed while it was opened`, {
        cause: error,
      });
    }
    if (there.dev !== info.dev || there.ino !== info.ino || there.isSymlink) {
      throw new WasmtimeError(
        `${why}: ${requested} changed while it was opened (a symlink was swapped?); refusing it`,
      );
    }
    if (!info.isFile) {
      throw new WasmtimeError(`${why}: ${requested} is not a regular file`);
    }
    return { bytes: readAll(file, info.size), info, realPath };
  } finally {
    file.close();
  }
}

/**
 * Checks a file that native code will open by path to write (profiler output): write (and,
 * when `read`, read) permission for the path and for where it really leads, and, if something
 * is already there, that it is a regular file and not a symlink, since the native side follows
 * links and would create or append to the link's target. Read access to the path is required
 * even for a write-only file: without it Deno does not let us look (`lstat`) before native
 * code leaps. Advice names the directory, since such names often hold the process id.
 */
export function requireOutputFile(path: string, why: string, read = false): void {
  const requested = resolve(path);
  const suggest = dirname(requested);
  const check = (target: string) => {
    requirePermission({ name: "write", path: target }, `${why} needs write access to ${target}`, {
      suggest,
    });
    requirePermission(
      { name: "read", path: target },
      read
        ? `${why} needs read access to ${target}`
        : `${why} needs read access to ${target}, to check what is there before native code opens it`,
      { suggest },
    );
  };
  check(requested);
  let info: Deno.FileInfo | undefined;
  try {
    info = Deno.lstatSync(requested);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  if (info !== undefined && (info.isSymlink || !info.isFile)) {
    throw new WasmtimeError(
      `${why}: ${requested} already exists and is ${
        info.isSymlink ? "a symlink" : "not a regular file"
      }; native code would follow it, so it is refused. Remove it and try again`,
    );
  }
  // A directory on the way may itself be a link (/tmp -> /private/tmp): check where the file
  // really lands when Deno lets us resolve it; without read access to the directory the
  // path-based check above is all Deno itself would make.
  let real: string | undefined;
  if (info !== undefined) {
    real = Deno.realPathSync(requested);
  } else if (Deno.permissions.querySync({ name: "read", path: suggest }).state === "granted") {
    try {
      real = join(Deno.realPathSync(suggest), basename(requested));
    } catch {
      real = undefined; // the directory is missing: native code fails to create the file
    }
  }
  if (real !== undefined && real !== requested) check(real);
}
