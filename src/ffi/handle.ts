/**
 * Ownership of native objects. Each owned pointer has exactly one {@linkcode Handle}: disposing
 * it frees the pointer once, a FinalizationRegistry frees what was never disposed, and any use
 * after disposal throws a {@linkcode WasmtimeError} naming the object and the call.
 *
 * @module
 */
import { WasmtimeError } from "../errors.ts";

interface Held {
  pointer: Deno.PointerObject;
  free: (pointer: Deno.PointerObject) => void;
}

const registry = new FinalizationRegistry<Held>(({ pointer, free }) => free(pointer));

/** Owner of one native pointer. */
export class Handle {
  #pointer: Deno.PointerObject | null;
  readonly #what: string;
  readonly #held: Held;

  /**
   * Takes ownership of `pointer`; `free` is called exactly once, on dispose or when `owner` is
   * garbage collected.
   */
  constructor(
    owner: object,
    what: string,
    pointer: Deno.PointerValue,
    free: (pointer: Deno.PointerObject) => void,
  ) {
    if (pointer === null) throw new WasmtimeError(`${what}: Wasmtime returned a null pointer`);
    this.#pointer = pointer;
    this.#what = what;
    this.#held = { pointer, free };
    registry.register(owner, this.#held, this);
  }

  /** The pointer; throws if the owner was disposed. `action` names the call for the error. */
  pointer(action: string): Deno.PointerObject {
    if (this.#pointer === null) throw disposedError(this.#what, action);
    return this.#pointer;
  }

  /** The pointer or null, without throwing. */
  get raw(): Deno.PointerObject | null {
    return this.#pointer;
  }

  /** True once disposed. */
  get disposed(): boolean {
    return this.#pointer === null;
  }

  /** Frees the pointer now; later calls do nothing. */
  dispose(): void {
    const pointer = this.#pointer;
    if (pointer === null) return;
    this.#pointer = null;
    registry.unregister(this);
    this.#held.free(pointer);
  }
}

/**
 * The error for using `what` after it was disposed. `action` is the operation the user called,
 * qualified by its class (`"Memory.grow"`, `"new Module"`); a bare method name is taken to be a
 * method of `what` itself (`"fuel"` on a Store is `"Store.fuel"`).
 */
export function disposedError(what: string, action: string): WasmtimeError {
  const operation = /^[A-Za-z_$][\w$]*$/.test(action) ? `${what}.${action}` : action;
  return new WasmtimeError(
    `${operation}: the ${what} was disposed; create a new ${what} instead of reusing it`,
  );
}
