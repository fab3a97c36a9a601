/**
 * Sizes and field offsets of the C structs the binding reads and writes, for the 64-bit
 * targets Wasmtime supports. `tests/layout_test.ts` compiles a C program against the crate's
 * headers and checks every constant here.
 *
 * @module
 */

/** `sizeof(wasmtime_val_t)`: a kind byte, padding, then the 24-byte `wasmtime_valunion_t`. */
export const VAL_SIZE = 32;
/** `offsetof(wasmtime_val_t, kind)` */
export const VAL_KIND_OFFSET = 0;
/** `offsetof(wasmtime_val_t, of)` */
export const VAL_OF_OFFSET = 8;
/** `sizeof(wasmtime_val_raw_t)`: one slot of an unchecked call's argument/result array. */
export const VAL_RAW_SIZE = 16;
/** `sizeof(wasmtime_extern_t)` */
export const EXTERN_SIZE = 32;
/** `offsetof(wasmtime_extern_t, kind)` */
export const EXTERN_KIND_OFFSET = 0;
/** `offsetof(wasmtime_extern_t, of)` */
export const EXTERN_OF_OFFSET = 8;
/** `sizeof(wasmtime_func_t)` */
export const FUNC_SIZE = 16;
/** `offsetof(wasmtime_func_t, store_id)`: zero means a null funcref. */
export const FUNC_STORE_ID_OFFSET = 0;
/** `sizeof(wasmtime_instance_t)` */
export const INSTANCE_SIZE = 16;
/** `sizeof(wasmtime_memory_t)` */
export const MEMORY_SIZE = 24;
/** `sizeof(wasmtime_table_t)` */
export const TABLE_SIZE = 24;
/** `sizeof(wasmtime_global_t)` */
export const GLOBAL_SIZE = 24;
/** `sizeof(wasmtime_externref_t)` */
export const EXTERNREF_SIZE = 24;
/** `sizeof(wasm_byte_vec_t)`; every `wasm_*_vec_t` has this shape. */
export const VEC_SIZE = 16;
/** `offsetof(wasm_byte_vec_t, size)` */
export const VEC_SIZE_OFFSET = 0;
/** `offsetof(wasm_byte_vec_t, data)` */
export const VEC_DATA_OFFSET = 8;
/** `sizeof(wasm_limits_t)` */
export const LIMITS_SIZE = 8;
/** `offsetof(wasm_limits_t, min)` */
export const LIMITS_MIN_OFFSET = 0;
/** `offsetof(wasm_limits_t, max)` */
export const LIMITS_MAX_OFFSET = 4;
/** Size of a pointer (`void *`, `size_t`). */
export const POINTER_SIZE = 8;
/** Offset of the context pointer in a packed call frame (`CallFrame` in native/src/lib.rs). */
export const FRAME_CONTEXT = 0;
/** Offset of the `wasmtime_func_t` in a packed call frame. */
export const FRAME_FUNC = 8;
/** Offset of the slot count in a packed call frame. */
export const FRAME_SLOTS = 24;
/** Offset of the trap out-parameter in a packed call frame. */
export const FRAME_TRAP = 32;
/** Offset of the error out-parameter in a packed call frame. */
export const FRAME_ERROR = 40;
/** Offset of the value slots in a packed call frame (also the frame's fixed size). */
export const FRAME_VALUES = 48;
/** `sizeof(wasmtime_valtype_t)` */
export const VALTYPE_SIZE = 32;
/** `offsetof(wasmtime_valtype_t, reftype.nullable)` */
export const VALTYPE_NULLABLE_OFFSET = 8;
/** `offsetof(wasmtime_valtype_t, reftype.heaptype.kind)` */
export const VALTYPE_HEAP_KIND_OFFSET = 16;
