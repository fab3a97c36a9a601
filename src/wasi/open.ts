/**
 * Host files and directories a WASI guest gets, opened exactly once. Native code (Wasmtime's
 * WASI) never passes Deno's permission checks, so the binding makes them; a check on a path
 * followed by a second open of that path loses to whoever swaps a symlink in between. Here the
 * object is opened first, Deno's permission is checked for the path the kernel reports for the
 * open descriptor (where it really is), and that descriptor is what WASI receives.
 *
 * @module
 */
import { basename, dirname, resolve } from "node:path";
import { decodeUtf8, OutCell, utf8 } from "../ffi/raw.ts";
import { PermissionError, WasmtimeError } from "../errors.ts";
import { ffi } from "../ffi/symbols.ts";
import {
  EACCES,
  EEXIST,
  EISDIR,
  ELOOP,
  ENAMETOOLONG,
  ENOENT,
  ENOSYS,
  ENOTDIR,
  ENXIO,
  EPERM,
  FS_KIND_DIRECTORY,
  FS_KIND_FILE,
  OPEN_DIRECTORY,
  OPEN_READ,
  OPEN_WRITE_EXISTING,
} from "../ffi/layout.ts";
import { flagFor, isGranted } from "../permissions.ts";

/** What the guest may do with an opened host object. */
export type OpenPurpose = "directory" | "read" | "write";

const MODES: Record<OpenPurpose, number> = {
  directory: OPEN_DIRECTORY,
  read: OPEN_READ,
  write: OPEN_WRITE_EXISTING,
};
const ERRNO_NAMES: Record<number, string> = {
  [EPERM]: "operation not permitted",
  [ENOENT]: "no such file or directory",
  [EACCES]: "permission denied by the operating system",
  [EEXIST]: "something (a symlink?) already exists there",
  [ENOTDIR]: "a path component is not a directory",
  [EISDIR]: "is a directory",
  [ENAMETOOLONG]: "name too long",
  [ENOSYS]: "not supported on this operating system",
  [ELOOP]: "too many levels of symbolic links",
  [ENXIO]: "a FIFO that nobody reads (only regular files can be given to a guest)",
};

/** The `int *fd_out` of the open calls. */
const fdOut = new OutCell();
const pathBuffer = new Uint8Array(4096);

function osError(verb: string, path: string, errno: number, purpose = ""): WasmtimeError {
  const reason = ERRNO_NAMES[errno] ?? `errno ${errno}`;
  return new WasmtimeError(`WASI: cannot ${verb} ${path}${purpose}: ${reason}`);
}

/**
 * The path the kernel reports for `fd`: where the opened object really is. Only an absolute
 * path names something Deno's permissions can speak about: a pipe or socket reports
 * `pipe:[N]` (which a permission query would resolve against the working directory), and an
 * object deleted meanwhile reports `PATH (deleted)`; both are refused.
 */
function pathOf(fd: number, shown: string): string {
  const length = Number(ffi().wasmtime_deno_fs_path(fd, pathBuffer, BigInt(pathBuffer.length)));
  if (length < 0) throw osError("locate", shown, -length);
  const real = decodeUtf8(pathBuffer.subarray(0, length));
  if (!real.startsWith("/")) {
    throw new WasmtimeError(
      `WASI: ${shown} leads to ${real}, which is not a file or directory of the file system`,
    );
  }
  if (real.endsWith(" (deleted)")) {
    throw new WasmtimeError(`WASI: ${shown} was deleted while it was being opened`);
  }
  return real;
}

/**
 * Refuses anything but a directory for a preopen and a regular file for stdin/stdout/stderr:
 * a FIFO, socket or device could block the guest's read or write inside Wasmtime, where no
 * deadline reaches it (use `"inherit"` to connect the process's own streams).
 */
function requireKind(fd: number, purpose: OpenPurpose, shown: string): void {
  const kind = Number(ffi().wasmtime_deno_fs_kind(fd));
  if (kind < 0) throw osError("inspect", shown, -kind);
  const wanted = purpose === "directory" ? FS_KIND_DIRECTORY : FS_KIND_FILE;
  if (kind !== wanted) {
    throw new WasmtimeError(
      purpose === "directory"
        ? `WASI: cannot preopen ${shown}: not a directory`
        : `WASI: ${shown} is not a regular file (a FIFO, socket, device or directory could block ` +
          'the guest beyond any deadline); use "inherit" for the process\'s own streams',
    );
  }
}

function open(path: string, mode: number): { fd: number } | { errno: number } {
  const bytes = utf8(path);
  const errno = ffi().wasmtime_deno_fs_open(bytes, BigInt(bytes.length), mode, fdOut.bytes);
  return errno === 0 ? { fd: fdOut.takeI32() } : { errno };
}

/** Throws a PermissionError unless Deno grants `name` access to `real` (opened as `shown`). */
function requireAccess(name: "read" | "write", real: string, shown: string, why: string): void {
  const descriptor = { name, path: real } as const;
  const where = real === shown ? real : `${shown} (which is ${real})`;
  if (!isGranted(descriptor)) {
    throw new PermissionError(`WASI: ${why} needs ${name} access to ${where}`, flagFor(descriptor));
  }
  if (reachesKernelFiles(real) && !allGranted()) {
    throw new PermissionError(
      `WASI: ${why} reaches ${where}, where the kernel's /proc, /sys and /dev live; Deno itself ` +
        "reads and writes those only with every permission granted",
      "--allow-all",
    );
  }
}

/**
 * The kernel's pseudo file systems (Linux): Deno refuses access to them unless every permission
 * is granted (/proc/self/environ holds the whole environment, whatever --allow-env says), so the
 * binding refuses them too, and any directory that contains them (a preopen of `/`).
 */
const KERNEL_ROOTS = ["/proc", "/sys", "/dev"];

function reachesKernelFiles(real: string): boolean {
  if (Deno.build.os !== "linux") return false;
  const path = real.replace(/\/+$/, "") || "/";
  return path === "/" ||
    KERNEL_ROOTS.some((root) => path === root || path.startsWith(`${root}/`));
}

/** True if every permission is granted without restriction (`--allow-all`). */
function allGranted(): boolean {
  const names = ["read", "write", "net", "env", "run", "ffi", "sys", "import"] as const;
  return names.every((name) => {
    try {
      const status = Deno.permissions.querySync({ name } as Deno.PermissionDescriptor);
      return status.state === "granted" && !(status as { partial?: boolean }).partial;
    } catch {
      return false; // a permission name this Deno does not know
    }
  });
}

/**
 * Opens `path` for the guest and returns the descriptor (the caller owns it). Directories need
 * read access (and write access when `mutable`); files read for stdin need read access; files
 * written for stdout/stderr need write access, are created if missing (never through a
 * dangling symlink), and are truncated only once the check passed.
 */
export function openForGuest(
  path: string,
  purpose: OpenPurpose,
  why: string,
  mutable = false,
): number {
  if (path.includes("\0")) throw new WasmtimeError(`WASI: ${why}: the path contains a NUL byte`);
  const shown = resolve(path);
  let opened = open(shown, MODES[purpose]);
  if ("errno" in opened && purpose === "write" && opened.errno === ENOENT) {
    opened = createFile(shown, why);
  }
  if ("errno" in opened) {
    if (purpose === "directory") throw osError("preopen", shown, opened.errno);
    const what = purpose === "read" ? " for standard input" : " for writing";
    throw osError("open", shown, opened.errno, what);
  }
  const fd = opened.fd;
  try {
    const real = pathOf(fd, shown);
    requireKind(fd, purpose, shown);
    if (purpose === "write") {
      requireAccess("write", real, shown, why);
      const errno = ffi().wasmtime_deno_fs_truncate(fd);
      if (errno !== 0) throw osError("truncate", shown, errno);
    } else {
      requireAccess("read", real, shown, why);
      if (mutable) requireAccess("write", real, shown, why);
    }
    return fd;
  } catch (error) {
    ffi().wasmtime_deno_fs_close(fd);
    throw error;
  }
}

/** Creates a missing output file inside its (checked) directory, refusing anything already there. */
function createFile(shown: string, why: string): { fd: number } | { errno: number } {
  const parent = open(dirname(shown), MODES.directory);
  if ("errno" in parent) return parent;
  try {
    const name = basename(shown);
    const real = `${pathOf(parent.fd, dirname(shown)).replace(/\/$/, "")}/${name}`;
    requireAccess("write", real, shown, why);
    const bytes = utf8(name);
    const errno = ffi().wasmtime_deno_fs_create_at(
      parent.fd,
      bytes,
      BigInt(bytes.length),
      fdOut.bytes,
    );
    if (errno === EEXIST) {
      throw new WasmtimeError(
        `WASI: ${why}: ${shown} appeared while it was being created, or is a dangling symlink; ` +
          "refusing to follow it (remove it or choose another path)",
      );
    }
    return errno === 0 ? { fd: fdOut.takeI32() } : { errno };
  } finally {
    ffi().wasmtime_deno_fs_close(parent.fd);
  }
}
