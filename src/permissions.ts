/**
 * Deno permission checks made on behalf of native code, which Deno's own checks never see.
 *
 * @module
 */
import { PermissionError } from "./error_types.ts";

/** True if Deno has granted `descriptor` (without prompting). */
export function isGranted(descriptor: Deno.PermissionDescriptor): boolean {
  return Deno.permissions.querySync(descriptor).state === "granted";
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

/** Throws a {@linkcode PermissionError} naming the flag unless `descriptor` is granted. */
export function requirePermission(descriptor: Deno.PermissionDescriptor, why: string): void {
  if (!isGranted(descriptor)) throw new PermissionError(why, flagFor(descriptor));
}
