/**
 * Exception tags.
 *
 * @module
 */
import { WasmtimeError } from "../errors.ts";
import { ffi } from "../ffi/symbols.ts";
import { TAG_SIZE } from "../ffi/layout.ts";
import { fromRaw, takeRaw } from "../internal.ts";
import { check } from "./failure.ts";
import { contextOf, type Store, type StructFields } from "./store.ts";
import { newTagType, readTagType, type TagType } from "./types.ts";

/** Internal: wraps a `wasmtime_tag_t` of `store`. */
export let tagFromStruct: (store: Store, struct: Uint8Array<ArrayBuffer>) => Tag;
/** Internal: the `wasmtime_tag_t` bytes of a Tag. */
export let tagStruct: (tag: Tag) => Uint8Array<ArrayBuffer>;

/**
 * An exception tag (exception-handling proposal): the identity of a kind of wasm exception and
 * the types of its payload. Wasm code catches an exception by its tag; a host function throws
 * one with `throw new WasmException(tag, payload)`. Like a Global, a Tag belongs to one store;
 * two Tag objects may stand for the same tag (compare with {@linkcode Tag.equals}).
 *
 * @example
 * ```ts
 * import { Engine, Store, Tag } from "@wasmtime-deno/wasmtime";
 * using engine = new Engine({ exceptions: true });
 * using store = new Store(engine);
 * const oops = new Tag(store, { params: ["i32", "i64"] });
 * console.log(oops.type); // { params: ["i32", "i64"] }
 * ```
 */
export class Tag {
  readonly #store: Store;
  readonly #struct: Uint8Array<ArrayBuffer>;
  #type: TagType | undefined;

  static {
    tagFromStruct = (store, struct) => fromRaw(Tag, { store, struct });
    tagStruct = (tag) => tag.#struct;
  }

  /** Creates a new tag in `store` whose exceptions carry values of `type.params`. */
  constructor(store: Store, type: TagType) {
    const raw = takeRaw<StructFields>();
    if (raw !== undefined) {
      this.#store = raw.store;
      this.#struct = raw.struct;
      return;
    }
    this.#store = store;
    const context = contextOf(store, "new Tag");
    // A fresh native type per tag: Wasmtime binds a native type to the first engine it meets.
    const native = newTagType(type, store.engine);
    this.#struct = new Uint8Array(TAG_SIZE);
    try {
      check(ffi().wasmtime_tag_new(context, native, this.#struct), "new Tag");
    } finally {
      ffi().wasm_tagtype_delete(native);
    }
    this.#type = { params: Object.freeze([...type.params]) };
  }

  /** The store this tag belongs to. */
  get store(): Store {
    return this.#store;
  }

  /** The types of the payload of this tag's exceptions. */
  get type(): TagType {
    if (this.#type === undefined) {
      const native = ffi().wasmtime_tag_type(contextOf(this.#store, "Tag.type"), this.#struct)!;
      try {
        this.#type = readTagType(native, this.#store.engine);
      } finally {
        ffi().wasm_tagtype_delete(native);
      }
    }
    return { params: this.#type.params };
  }

  /**
   * Whether `other` is the same tag (the same definition, whichever object stands for it). Tags
   * of different stores are never equal.
   */
  equals(other: Tag): boolean {
    if (!(other instanceof Tag)) {
      throw new WasmtimeError(`Tag.equals: expected a Tag, got ${typeof other}`);
    }
    if (other.#store !== this.#store) return false;
    return ffi().wasmtime_tag_eq(contextOf(this.#store, "Tag.equals"), this.#struct, other.#struct);
  }
}
