/**
 * Sizes and field offsets of the C structs the binding reads and writes (for the 64-bit
 * targets Wasmtime supports), and every C enum code it passes or compares. Nothing else in the
 * code base writes a struct offset or a C code as a number. `tests/layout_test.ts` compiles a C
 * program against the crate's headers and checks every constant here; the few codes the
 * wasmtime-deno shims define in Rust are checked against native/src/.
 *
 * Codes keep their C names, so a reader can grep the headers for them.
 *
 * @module
 */

// ---- struct sizes and offsets ---------------------------------------------------------------

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
/** `sizeof(wasmtime_tag_t)` */
export const TAG_SIZE = 24;
/** `sizeof(wasmtime_externref_t)` */
export const EXTERNREF_SIZE = 24;
/** `sizeof(wasmtime_anyref_t)`; `wasmtime_eqref_t`, `_structref_t`, `_arrayref_t` alike. */
export const ANYREF_SIZE = 24;
/** `sizeof(wasmtime_exnref_t)` */
export const EXNREF_SIZE = 24;
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
/** `offsetof(wasmtime_valtype_t, reftype.heaptype.of)`: the concrete type's pointer */
export const VALTYPE_HEAP_OF_OFFSET = 24;
/** `sizeof(wasmtime_field_type_t)` */
export const FIELD_TYPE_SIZE = 24;
/** `offsetof(wasmtime_field_type_t, mutable_)` */
export const FIELD_TYPE_MUTABLE_OFFSET = 0;
/** `offsetof(wasmtime_field_type_t, storage.kind)` */
export const FIELD_TYPE_STORAGE_KIND_OFFSET = 8;
/** `offsetof(wasmtime_field_type_t, storage.valtype)` */
export const FIELD_TYPE_VALTYPE_OFFSET = 16;
/** `WASMTIME_STORAGE_TYPE_KIND_I8` */
export const WASMTIME_STORAGE_TYPE_KIND_I8 = 0;
/** `WASMTIME_STORAGE_TYPE_KIND_I16` */
export const WASMTIME_STORAGE_TYPE_KIND_I16 = 1;
/** `WASMTIME_STORAGE_TYPE_KIND_VALTYPE` */
export const WASMTIME_STORAGE_TYPE_KIND_VALTYPE = 2;

// ---- wasmtime_valkind_t (wasmtime/val.h): the kind byte of a wasmtime_val_t -------------------

/** `WASMTIME_I32` */
export const WASMTIME_I32 = 0;
/** `WASMTIME_I64` */
export const WASMTIME_I64 = 1;
/** `WASMTIME_F32` */
export const WASMTIME_F32 = 2;
/** `WASMTIME_F64` */
export const WASMTIME_F64 = 3;
/** `WASMTIME_V128` */
export const WASMTIME_V128 = 4;
/** `WASMTIME_FUNCREF` */
export const WASMTIME_FUNCREF = 5;
/** `WASMTIME_EXTERNREF` */
export const WASMTIME_EXTERNREF = 6;
/** `WASMTIME_ANYREF` */
export const WASMTIME_ANYREF = 7;
/** `WASMTIME_EXNREF` */
export const WASMTIME_EXNREF = 8;

// ---- wasm_valkind_t (wasm.h): what wasm_valtype_new takes ---------------------------------------

/** `WASM_I32` */
export const WASM_I32 = 0;
/** `WASM_I64` */
export const WASM_I64 = 1;
/** `WASM_F32` */
export const WASM_F32 = 2;
/** `WASM_F64` */
export const WASM_F64 = 3;
/** `WASM_EXTERNREF` */
export const WASM_EXTERNREF = 128;
/** `WASM_FUNCREF` */
export const WASM_FUNCREF = 129;

// ---- wasmtime_valtype_kind_t and wasmtime_heaptype_kind_t (wasmtime/types/val.h) ----------------

/** `WASMTIME_VALTYPE_KIND_I32` */
export const WASMTIME_VALTYPE_KIND_I32 = 0;
/** `WASMTIME_VALTYPE_KIND_I64` */
export const WASMTIME_VALTYPE_KIND_I64 = 1;
/** `WASMTIME_VALTYPE_KIND_F32` */
export const WASMTIME_VALTYPE_KIND_F32 = 2;
/** `WASMTIME_VALTYPE_KIND_F64` */
export const WASMTIME_VALTYPE_KIND_F64 = 3;
/** `WASMTIME_VALTYPE_KIND_V128` */
export const WASMTIME_VALTYPE_KIND_V128 = 4;
/** `WASMTIME_VALTYPE_KIND_REF`: a reference; nullability and heap type follow in the struct. */
export const WASMTIME_VALTYPE_KIND_REF = 5;
/** `WASMTIME_HEAPTYPE_KIND_EXTERN` */
export const WASMTIME_HEAPTYPE_KIND_EXTERN = 0;
/** `WASMTIME_HEAPTYPE_KIND_NOEXTERN` */
export const WASMTIME_HEAPTYPE_KIND_NOEXTERN = 1;
/** `WASMTIME_HEAPTYPE_KIND_FUNC` */
export const WASMTIME_HEAPTYPE_KIND_FUNC = 2;
/** `WASMTIME_HEAPTYPE_KIND_CONCRETE_FUNC` */
export const WASMTIME_HEAPTYPE_KIND_CONCRETE_FUNC = 3;
/** `WASMTIME_HEAPTYPE_KIND_NOFUNC` */
export const WASMTIME_HEAPTYPE_KIND_NOFUNC = 4;
/** `WASMTIME_HEAPTYPE_KIND_ANY` */
export const WASMTIME_HEAPTYPE_KIND_ANY = 5;
/** `WASMTIME_HEAPTYPE_KIND_NONE` */
export const WASMTIME_HEAPTYPE_KIND_NONE = 6;
/** `WASMTIME_HEAPTYPE_KIND_EQ` */
export const WASMTIME_HEAPTYPE_KIND_EQ = 7;
/** `WASMTIME_HEAPTYPE_KIND_I31` */
export const WASMTIME_HEAPTYPE_KIND_I31 = 8;
/** `WASMTIME_HEAPTYPE_KIND_ARRAY` */
export const WASMTIME_HEAPTYPE_KIND_ARRAY = 9;
/** `WASMTIME_HEAPTYPE_KIND_CONCRETE_ARRAY` */
export const WASMTIME_HEAPTYPE_KIND_CONCRETE_ARRAY = 10;
/** `WASMTIME_HEAPTYPE_KIND_STRUCT` */
export const WASMTIME_HEAPTYPE_KIND_STRUCT = 11;
/** `WASMTIME_HEAPTYPE_KIND_CONCRETE_STRUCT` */
export const WASMTIME_HEAPTYPE_KIND_CONCRETE_STRUCT = 12;
/** `WASMTIME_HEAPTYPE_KIND_EXN` */
export const WASMTIME_HEAPTYPE_KIND_EXN = 13;
/** `WASMTIME_HEAPTYPE_KIND_CONCRETE_EXN` */
export const WASMTIME_HEAPTYPE_KIND_CONCRETE_EXN = 14;
/** `WASMTIME_HEAPTYPE_KIND_NOEXN` */
export const WASMTIME_HEAPTYPE_KIND_NOEXN = 15;

// ---- extern kinds: wasmtime_extern_kind_t (wasmtime/extern.h), wasm_externkind_t (wasm.h) ------

/** `WASMTIME_EXTERN_FUNC` */
export const WASMTIME_EXTERN_FUNC = 0;
/** `WASMTIME_EXTERN_GLOBAL` */
export const WASMTIME_EXTERN_GLOBAL = 1;
/** `WASMTIME_EXTERN_TABLE` */
export const WASMTIME_EXTERN_TABLE = 2;
/** `WASMTIME_EXTERN_MEMORY` */
export const WASMTIME_EXTERN_MEMORY = 3;
/** `WASMTIME_EXTERN_SHAREDMEMORY` (`of` holds a `wasmtime_sharedmemory_t *` the struct owns) */
export const WASMTIME_EXTERN_SHAREDMEMORY = 4;
/** `WASMTIME_EXTERN_TAG` */
export const WASMTIME_EXTERN_TAG = 5;
/** `WASM_EXTERN_FUNC` */
export const WASM_EXTERN_FUNC = 0;
/** `WASM_EXTERN_GLOBAL` */
export const WASM_EXTERN_GLOBAL = 1;
/** `WASM_EXTERN_TABLE` */
export const WASM_EXTERN_TABLE = 2;
/** `WASM_EXTERN_MEMORY` */
export const WASM_EXTERN_MEMORY = 3;
/** `WASM_EXTERN_TAG` */
export const WASM_EXTERN_TAG = 4;

// ---- wasm_mutability_t and wasm_limits_t (wasm.h) -----------------------------------------------

/** `WASM_CONST` */
export const WASM_CONST = 0;
/** `WASM_VAR` */
export const WASM_VAR = 1;
/** `wasm_limits_max_default`: the u32 maximum that means "no maximum". */
export const WASM_LIMITS_MAX_DEFAULT = 0xffff_ffff;

// ---- engine configuration (wasmtime/config.h) --------------------------------------------------

/** `WASMTIME_OPT_LEVEL_NONE` */
export const WASMTIME_OPT_LEVEL_NONE = 0;
/** `WASMTIME_OPT_LEVEL_SPEED` */
export const WASMTIME_OPT_LEVEL_SPEED = 1;
/** `WASMTIME_OPT_LEVEL_SPEED_AND_SIZE` */
export const WASMTIME_OPT_LEVEL_SPEED_AND_SIZE = 2;
/** `WASMTIME_STRATEGY_CRANELIFT` */
export const WASMTIME_STRATEGY_CRANELIFT = 1;
/** `WASMTIME_STRATEGY_WINCH` */
export const WASMTIME_STRATEGY_WINCH = 2;
/** `WASMTIME_PROFILING_STRATEGY_NONE` */
export const WASMTIME_PROFILING_STRATEGY_NONE = 0;
/** `WASMTIME_PROFILING_STRATEGY_JITDUMP` */
export const WASMTIME_PROFILING_STRATEGY_JITDUMP = 1;
/** `WASMTIME_PROFILING_STRATEGY_VTUNE` */
export const WASMTIME_PROFILING_STRATEGY_VTUNE = 2;
/** `WASMTIME_PROFILING_STRATEGY_PERFMAP` */
export const WASMTIME_PROFILING_STRATEGY_PERFMAP = 3;

// ---- wasmtime_trap_code_t (wasmtime/trap.h) ----------------------------------------------------

/**
 * The trap codes by their public names (`TrapCode` in src/errors.ts is this object); each
 * `Name` stands for `WASMTIME_TRAP_CODE_NAME` in the header.
 */
export const WASMTIME_TRAP_CODE = {
  StackOverflow: 0,
  MemoryOutOfBounds: 1,
  HeapMisaligned: 2,
  TableOutOfBounds: 3,
  IndirectCallToNull: 4,
  BadSignature: 5,
  IntegerOverflow: 6,
  IntegerDivisionByZero: 7,
  BadConversionToInteger: 8,
  UnreachableCodeReached: 9,
  Interrupt: 10,
  OutOfFuel: 11,
  AtomicWaitNonSharedMemory: 12,
  NullReference: 13,
  ArrayOutOfBounds: 14,
  AllocationTooLarge: 15,
  CastFailure: 16,
  CannotEnterComponent: 17,
  NoAsyncResult: 18,
  UnhandledTag: 19,
  ContinuationAlreadyConsumed: 20,
  DisabledOpcode: 21,
  AsyncDeadlock: 22,
} as const;

// ---- errno values returned by the file shims (native/src/fs.rs), from <errno.h> ---------------

const DARWIN = Deno.build.os === "darwin";
/** `EPERM` */
export const EPERM = 1;
/** `ENOENT` */
export const ENOENT = 2;
/** `EACCES` */
export const EACCES = 13;
/** `EEXIST` */
export const EEXIST = 17;
/** `ENOTDIR` */
export const ENOTDIR = 20;
/** `EISDIR` */
export const EISDIR = 21;
/** `ENAMETOOLONG` (the BSD and Linux numbers differ from here on) */
export const ENAMETOOLONG: number = DARWIN ? 63 : 36;
/** `ENOSYS`: returned where the shim has no way to locate an open file. */
export const ENOSYS: number = DARWIN ? 78 : 38;
/** `ELOOP` */
export const ELOOP: number = DARWIN ? 62 : 40;
/** `ENXIO`: a FIFO opened for writing (without blocking) that nobody reads. */
export const ENXIO = 6;

// ---- codes defined by the wasmtime-deno shims in Rust (checked against native/src/) ------------

/** `POLL_PENDING` of `wasmtime_deno_future_poll` (native/src/future.rs): wait for the waker. */
export const POLL_PENDING = 0;
/** `POLL_READY`: the future finished. */
export const POLL_READY = 1;
/** `struct TableLimits` of native/src/table_type.rs: a table type's limits, 64-bit. */
export const TABLE_LIMITS_MINIMUM = 0;
/** Offset of `maximum` (u64; valid when `has_maximum`). */
export const TABLE_LIMITS_MAXIMUM = 8;
/** Offset of `has_maximum` (u8). */
export const TABLE_LIMITS_HAS_MAXIMUM = 16;
/** Offset of `is_64` (u8: a table64). */
export const TABLE_LIMITS_IS_64 = 17;
/** Size of `struct TableLimits`. */
export const TABLE_LIMITS_SIZE = 24;
/** `REF_MATCH_NO` of `wasmtime_deno_ref_matches` (native/src/ref_type.rs): not of the type. */
export const REF_MATCH_NO = 0;
/** `REF_MATCH_YES`: the reference is of the type (or a subtype). */
export const REF_MATCH_YES = 1;
/** `REF_MATCH_FOREIGN`: the value or the type belongs to another store or engine. */
export const REF_MATCH_FOREIGN = 2;

// The component call frame of `wasmtime_deno_component_call` (native/src/component_call.rs).
/** `COMPONENT_FRAME_CALLEE`: the callee made by `wasmtime_deno_component_callee_new`. */
export const COMPONENT_FRAME_CALLEE = 0;
/** `COMPONENT_FRAME_CONTEXT`: the store's `wasmtime_context_t *`. */
export const COMPONENT_FRAME_CONTEXT = 8;
/** `COMPONENT_FRAME_ERROR`: the `wasmtime_error_t *` of a failed call (the binding clears it). */
export const COMPONENT_FRAME_ERROR = 16;
/** `COMPONENT_FRAME_SLOTS`: the result slot, then one slot per parameter. */
export const COMPONENT_FRAME_SLOTS = 32;
/** `COMPONENT_SLOT_SIZE`: a slot has the layout of a `wasmtime_component_val_t`. */
export const COMPONENT_SLOT_SIZE = 32;

/** `POLL_AGAIN`: still pending but already woken; poll again soon. */
export const POLL_AGAIN = 2;
/** `POLL_NO_RUNTIME`: WASI's I/O thread could not be started. */
export const POLL_NO_RUNTIME = 3;

/** What a network question of native/src/net.rs asks (`wasmtime_deno_net_take`): a connection or datagram to `ip:port`. */
export const NET_ASK_CONNECT = 0;
/** An explicit bind of `ip:port`. */
export const NET_ASK_BIND = 1;
/** Listening on `ip:port`. */
export const NET_ASK_LISTEN = 2;
/** A name lookup (port 0). */
export const NET_ASK_LOOKUP = 3;
/** A `wasi:http` request to `host:port`. */
export const NET_ASK_HTTP = 4;
/** `OPEN_DIRECTORY` of `wasmtime_deno_fs_open` (native/src/fs.rs). */
export const OPEN_DIRECTORY = 0;
/** `OPEN_READ`: a file for reading. */
export const OPEN_READ = 1;
/** `OPEN_WRITE_EXISTING`: an existing file for writing, not truncated. */
export const OPEN_WRITE_EXISTING = 2;
/** `FS_KIND_FILE` of `wasmtime_deno_fs_kind` (native/src/fs.rs): a regular file. */
export const FS_KIND_FILE = 1;
/** `FS_KIND_DIRECTORY`: a directory. */
export const FS_KIND_DIRECTORY = 2;

// ---- the component model (wasmtime/component/*.h) ----------------------------------------------

/** `sizeof(wasmtime_component_val_t)`: a kind byte, padding, then a 24-byte union. */
export const COMPONENT_VAL_SIZE = 32;
/** `offsetof(wasmtime_component_val_t, of)` */
export const COMPONENT_VAL_OF_OFFSET = 8;
/** `offsetof(wasmtime_component_val_t, of.variant.val)`: the payload pointer of a variant. */
export const COMPONENT_VARIANT_VAL_OFFSET = 24;
/** `offsetof(wasmtime_component_val_t, of.result.val)`: the payload pointer of a result. */
export const COMPONENT_RESULT_VAL_OFFSET = 16;
/** `sizeof(wasmtime_component_valrecord_entry_t)`: a name vec, then a value. */
export const COMPONENT_RECORD_ENTRY_SIZE = 48;
/** `offsetof(wasmtime_component_valrecord_entry_t, val)` */
export const COMPONENT_RECORD_ENTRY_VAL_OFFSET = 16;
/** `sizeof(wasmtime_component_valtype_t)` */
export const COMPONENT_VALTYPE_SIZE = 16;
/** `offsetof(wasmtime_component_valtype_t, of)` */
export const COMPONENT_VALTYPE_OF_OFFSET = 8;
/** `sizeof(wasmtime_component_item_t)` */
export const COMPONENT_ITEM_SIZE = 24;
/** `offsetof(wasmtime_component_item_t, of)` */
export const COMPONENT_ITEM_OF_OFFSET = 8;
/** `sizeof(wasmtime_component_func_t)` */
export const COMPONENT_FUNC_SIZE = 24;
/** `sizeof(wasmtime_component_instance_t)` */
export const COMPONENT_INSTANCE_SIZE = 16;

/** `WASMTIME_COMPONENT_BOOL`: the kind byte of a `wasmtime_component_val_t` (val.h). */
export const WASMTIME_COMPONENT_BOOL = 0;
/** `WASMTIME_COMPONENT_S8` */
export const WASMTIME_COMPONENT_S8 = 1;
/** `WASMTIME_COMPONENT_U8` */
export const WASMTIME_COMPONENT_U8 = 2;
/** `WASMTIME_COMPONENT_S16` */
export const WASMTIME_COMPONENT_S16 = 3;
/** `WASMTIME_COMPONENT_U16` */
export const WASMTIME_COMPONENT_U16 = 4;
/** `WASMTIME_COMPONENT_S32` */
export const WASMTIME_COMPONENT_S32 = 5;
/** `WASMTIME_COMPONENT_U32` */
export const WASMTIME_COMPONENT_U32 = 6;
/** `WASMTIME_COMPONENT_S64` */
export const WASMTIME_COMPONENT_S64 = 7;
/** `WASMTIME_COMPONENT_U64` */
export const WASMTIME_COMPONENT_U64 = 8;
/** `WASMTIME_COMPONENT_F32` */
export const WASMTIME_COMPONENT_F32 = 9;
/** `WASMTIME_COMPONENT_F64` */
export const WASMTIME_COMPONENT_F64 = 10;
/** `WASMTIME_COMPONENT_CHAR` */
export const WASMTIME_COMPONENT_CHAR = 11;
/** `WASMTIME_COMPONENT_STRING` */
export const WASMTIME_COMPONENT_STRING = 12;
/** `WASMTIME_COMPONENT_LIST` */
export const WASMTIME_COMPONENT_LIST = 13;
/** `WASMTIME_COMPONENT_RECORD` */
export const WASMTIME_COMPONENT_RECORD = 14;
/** `WASMTIME_COMPONENT_TUPLE` */
export const WASMTIME_COMPONENT_TUPLE = 15;
/** `WASMTIME_COMPONENT_VARIANT` */
export const WASMTIME_COMPONENT_VARIANT = 16;
/** `WASMTIME_COMPONENT_ENUM` */
export const WASMTIME_COMPONENT_ENUM = 17;
/** `WASMTIME_COMPONENT_OPTION` */
export const WASMTIME_COMPONENT_OPTION = 18;
/** `WASMTIME_COMPONENT_RESULT` */
export const WASMTIME_COMPONENT_RESULT = 19;
/** `WASMTIME_COMPONENT_FLAGS` */
export const WASMTIME_COMPONENT_FLAGS = 20;
/** `WASMTIME_COMPONENT_RESOURCE`: `of.resource` is a `wasmtime_component_resource_any_t *`. */
export const WASMTIME_COMPONENT_RESOURCE = 21;

/** `WASMTIME_COMPONENT_VALTYPE_BOOL`: the kind byte of a `wasmtime_component_valtype_t`. */
export const WASMTIME_COMPONENT_VALTYPE_BOOL = 0;
/** `WASMTIME_COMPONENT_VALTYPE_S8` */
export const WASMTIME_COMPONENT_VALTYPE_S8 = 1;
/** `WASMTIME_COMPONENT_VALTYPE_S16` */
export const WASMTIME_COMPONENT_VALTYPE_S16 = 2;
/** `WASMTIME_COMPONENT_VALTYPE_S32` */
export const WASMTIME_COMPONENT_VALTYPE_S32 = 3;
/** `WASMTIME_COMPONENT_VALTYPE_S64` */
export const WASMTIME_COMPONENT_VALTYPE_S64 = 4;
/** `WASMTIME_COMPONENT_VALTYPE_U8` */
export const WASMTIME_COMPONENT_VALTYPE_U8 = 5;
/** `WASMTIME_COMPONENT_VALTYPE_U16` */
export const WASMTIME_COMPONENT_VALTYPE_U16 = 6;
/** `WASMTIME_COMPONENT_VALTYPE_U32` */
export const WASMTIME_COMPONENT_VALTYPE_U32 = 7;
/** `WASMTIME_COMPONENT_VALTYPE_U64` */
export const WASMTIME_COMPONENT_VALTYPE_U64 = 8;
/** `WASMTIME_COMPONENT_VALTYPE_F32` */
export const WASMTIME_COMPONENT_VALTYPE_F32 = 9;
/** `WASMTIME_COMPONENT_VALTYPE_F64` */
export const WASMTIME_COMPONENT_VALTYPE_F64 = 10;
/** `WASMTIME_COMPONENT_VALTYPE_CHAR` */
export const WASMTIME_COMPONENT_VALTYPE_CHAR = 11;
/** `WASMTIME_COMPONENT_VALTYPE_STRING` */
export const WASMTIME_COMPONENT_VALTYPE_STRING = 12;
/** `WASMTIME_COMPONENT_VALTYPE_LIST` */
export const WASMTIME_COMPONENT_VALTYPE_LIST = 13;
/** `WASMTIME_COMPONENT_VALTYPE_RECORD` */
export const WASMTIME_COMPONENT_VALTYPE_RECORD = 14;
/** `WASMTIME_COMPONENT_VALTYPE_TUPLE` */
export const WASMTIME_COMPONENT_VALTYPE_TUPLE = 15;
/** `WASMTIME_COMPONENT_VALTYPE_VARIANT` */
export const WASMTIME_COMPONENT_VALTYPE_VARIANT = 16;
/** `WASMTIME_COMPONENT_VALTYPE_ENUM` */
export const WASMTIME_COMPONENT_VALTYPE_ENUM = 17;
/** `WASMTIME_COMPONENT_VALTYPE_OPTION` */
export const WASMTIME_COMPONENT_VALTYPE_OPTION = 18;
/** `WASMTIME_COMPONENT_VALTYPE_RESULT` */
export const WASMTIME_COMPONENT_VALTYPE_RESULT = 19;
/** `WASMTIME_COMPONENT_VALTYPE_FLAGS` */
export const WASMTIME_COMPONENT_VALTYPE_FLAGS = 20;
/** `WASMTIME_COMPONENT_VALTYPE_OWN` */
export const WASMTIME_COMPONENT_VALTYPE_OWN = 21;
/** `WASMTIME_COMPONENT_VALTYPE_BORROW` */
export const WASMTIME_COMPONENT_VALTYPE_BORROW = 22;
/** `WASMTIME_COMPONENT_VALTYPE_FUTURE` */
export const WASMTIME_COMPONENT_VALTYPE_FUTURE = 23;
/** `WASMTIME_COMPONENT_VALTYPE_STREAM` */
export const WASMTIME_COMPONENT_VALTYPE_STREAM = 24;
/** `WASMTIME_COMPONENT_VALTYPE_ERROR_CONTEXT` */
export const WASMTIME_COMPONENT_VALTYPE_ERROR_CONTEXT = 25;
/** `WASMTIME_COMPONENT_VALTYPE_MAP` */
export const WASMTIME_COMPONENT_VALTYPE_MAP = 26;

/** `WASMTIME_COMPONENT_ITEM_COMPONENT`: the kind byte of a `wasmtime_component_item_t`. */
export const WASMTIME_COMPONENT_ITEM_COMPONENT = 0;
/** `WASMTIME_COMPONENT_ITEM_COMPONENT_INSTANCE` */
export const WASMTIME_COMPONENT_ITEM_COMPONENT_INSTANCE = 1;
/** `WASMTIME_COMPONENT_ITEM_MODULE` */
export const WASMTIME_COMPONENT_ITEM_MODULE = 2;
/** `WASMTIME_COMPONENT_ITEM_COMPONENT_FUNC` */
export const WASMTIME_COMPONENT_ITEM_COMPONENT_FUNC = 3;
/** `WASMTIME_COMPONENT_ITEM_RESOURCE` */
export const WASMTIME_COMPONENT_ITEM_RESOURCE = 4;
/** `WASMTIME_COMPONENT_ITEM_CORE_FUNC` */
export const WASMTIME_COMPONENT_ITEM_CORE_FUNC = 5;
/** `WASMTIME_COMPONENT_ITEM_TYPE` */
export const WASMTIME_COMPONENT_ITEM_TYPE = 6;
