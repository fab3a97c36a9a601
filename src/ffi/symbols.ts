/**
 * The one FFI symbol table of the binding, and the lazily opened library.
 *
 * Nothing else in the code base spells an FFI type. Each entry carries the C declaration it
 * stands for. Conventions:
 * - `"pointer"` is a native object owned by Wasmtime (engine, store, module, ...);
 * - `"buffer"` is JS-owned memory passed by address (struct values, out-parameters, strings);
 * - `size_t` is `"usize"`; strings are passed as bytes plus a length, NUL-terminated only where
 *   the C signature takes a bare `const char *`.
 *
 * @module
 */
import { openLibrary } from "./library.ts";

/** The symbol table; see the comment on each entry for its C signature. */
export const symbols = {
  // ---- wasmtime-deno shims (native/src/) --------------------------------------------
  // const char *wasmtime_deno_version(void)
  wasmtime_deno_version: { parameters: [], result: "pointer" },
  // const char *wasmtime_deno_include_dir(void)
  wasmtime_deno_include_dir: { parameters: [], result: "pointer" },
  // Ticker *wasmtime_deno_epoch_ticker_start(const wasm_engine_t *engine, uint64_t interval_us)
  wasmtime_deno_epoch_ticker_start: { parameters: ["pointer", "u64"], result: "pointer" },
  // void wasmtime_deno_epoch_ticker_stop(Ticker *ticker)
  wasmtime_deno_epoch_ticker_stop: { parameters: ["pointer"], result: "void" },
  // bool wasmtime_deno_externref_new(wasmtime_context_t *cx, uint64_t owner, uint64_t id,
  //                                  wasmtime_externref_t *out)
  wasmtime_deno_externref_new: {
    parameters: ["pointer", "u64", "u64", "buffer"],
    result: "bool",
  },
  // uint64_t wasmtime_deno_externref_id(wasmtime_context_t *cx, const wasmtime_externref_t *r)
  wasmtime_deno_externref_id: { parameters: ["pointer", "buffer"], result: "u64" },
  // size_t wasmtime_deno_take_dropped(uint64_t owner, uint64_t *out, size_t capacity)
  wasmtime_deno_take_dropped: {
    parameters: ["u64", "buffer", "usize"],
    result: "usize",
  },
  // HostEnv *wasmtime_deno_host_env_new(wasm_trap_t *(*cb)(void), wasmtime_val_raw_t *scratch,
  //                                     size_t slots, uint64_t owner, uint64_t id)
  wasmtime_deno_host_env_new: {
    parameters: ["function", "buffer", "usize", "u64", "u64"],
    result: "pointer",
  },
  // void wasmtime_deno_call_frame_layout(size_t out[7])
  wasmtime_deno_call_frame_layout: { parameters: ["buffer"], result: "void" },
  // bool wasmtime_deno_call(CallFrame *frame)  (frame: a JS buffer's stable address, which
  //   measured ~2.5 ns cheaper per call than passing the buffer itself)
  wasmtime_deno_call: { parameters: ["pointer"], result: "bool" },
  // wasmtime_caller_t *wasmtime_deno_current_caller(void)
  wasmtime_deno_current_caller: { parameters: [], result: "pointer" },
  // wasmtime_func_unchecked_callback_t wasmtime_deno_host_trampoline(void)
  wasmtime_deno_host_trampoline: { parameters: [], result: "function" },
  // void (*wasmtime_deno_host_env_finalizer(void))(void *)
  wasmtime_deno_host_env_finalizer: { parameters: [], result: "function" },
  // wasmtime_error_t *wasmtime_deno_linker_define_async_func(wasmtime_linker_t *,
  //     const char *module, size_t, const char *name, size_t, const wasm_functype_t *ty,
  //     uint64_t owner, uint64_t id)
  wasmtime_deno_linker_define_async_func: {
    parameters: ["pointer", "buffer", "usize", "buffer", "usize", "pointer", "u64", "u64"],
    result: "pointer",
  },
  // uint32_t wasmtime_deno_future_poll(wasmtime_call_future_t *future, const FutureWaker *waker)
  //   (0 pending, 1 ready, 2 pending but woken, 3 no runtime for WASI's futures)
  wasmtime_deno_future_poll: { parameters: ["pointer", "pointer"], result: "u32" },
  // FutureWaker *wasmtime_deno_waker_new(void)
  wasmtime_deno_waker_new: { parameters: [], result: "pointer" },
  // void wasmtime_deno_waker_delete(FutureWaker *)
  wasmtime_deno_waker_delete: { parameters: ["pointer"], result: "void" },
  // void wasmtime_deno_waker_wake(const FutureWaker *)
  wasmtime_deno_waker_wake: { parameters: ["pointer"], result: "void" },
  // bool wasmtime_deno_waker_wait(const FutureWaker *, uint64_t timeout_us)  (blocks the thread)
  wasmtime_deno_waker_wait: { parameters: ["pointer", "u64"], result: "bool" },
  // the same, on Deno's blocking pool: the event loop keeps running while the guest waits
  wasmtime_deno_waker_wait_nonblocking: {
    name: "wasmtime_deno_waker_wait",
    parameters: ["pointer", "u64"],
    result: "bool",
    nonblocking: true,
  },
  // uintptr_t wasmtime_deno_stack_here(void)  (an address in the current stack frame)
  wasmtime_deno_stack_here: { parameters: [], result: "usize" },
  // void wasmtime_deno_set_js_stack_floor(uintptr_t floor)  (lowest address JS reached)
  wasmtime_deno_set_js_stack_floor: { parameters: ["usize"], result: "void" },
  // const void *wasmtime_deno_host_ok(void)  (what a JS host callback returns on success)
  wasmtime_deno_host_ok: { parameters: [], result: "pointer" },
  // wasmtime_error_t *wasmtime_deno_linker_define_wasi_async(wasmtime_linker_t *)
  wasmtime_deno_linker_define_wasi_async: { parameters: ["pointer"], result: "pointer" },
  // int wasmtime_deno_fs_open(const char *path, size_t len, uint32_t mode, int *fd_out)
  //   (mode 0 directory, 1 read, 2 write an existing file; returns 0 or errno)
  wasmtime_deno_fs_open: { parameters: ["buffer", "usize", "u32", "buffer"], result: "i32" },
  // int wasmtime_deno_fs_create_at(int dir_fd, const char *name, size_t len, int *fd_out)
  wasmtime_deno_fs_create_at: { parameters: ["i32", "buffer", "usize", "buffer"], result: "i32" },
  // ssize_t wasmtime_deno_fs_path(int fd, char *buf, size_t capacity)  (length or -errno)
  wasmtime_deno_fs_path: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  // int64_t wasmtime_deno_fs_kind(int fd)  (1 regular file, 2 directory, 0 other, or -errno)
  wasmtime_deno_fs_kind: { parameters: ["i32"], result: "i64" },
  // int wasmtime_deno_fs_truncate(int fd)
  wasmtime_deno_fs_truncate: { parameters: ["i32"], result: "i32" },
  // void wasmtime_deno_fs_close(int fd)
  wasmtime_deno_fs_close: { parameters: ["i32"], result: "void" },
  // bool wasmtime_deno_wasi_preopen_fd(wasi_config_t *, int fd, const char *guest, size_t,
  //     bool mutable)
  wasmtime_deno_wasi_preopen_fd: {
    parameters: ["pointer", "i32", "buffer", "usize", "bool"],
    result: "bool",
  },
  // void wasmtime_deno_wasi_stdio_fd(wasi_config_t *, int fd, uint32_t stream)  (takes fd)
  wasmtime_deno_wasi_stdio_fd: { parameters: ["pointer", "i32", "u32"], result: "void" },
  // AsyncCall *wasmtime_deno_async_take_pending(uint64_t info[6])
  wasmtime_deno_async_take_pending: { parameters: ["buffer"], result: "pointer" },
  // void wasmtime_deno_async_finish(AsyncCall *call, wasm_trap_t *trap)
  wasmtime_deno_async_finish: { parameters: ["pointer", "pointer"], result: "void" },
  // EpochControl *wasmtime_deno_epoch_control_install(wasmtime_store_t *store)
  wasmtime_deno_epoch_control_install: { parameters: ["pointer"], result: "pointer" },
  // void wasmtime_deno_epoch_control_set(EpochControl *, bool active, uint64_t timeout_us)
  wasmtime_deno_epoch_control_set: { parameters: ["pointer", "bool", "u64"], result: "void" },
  // void wasmtime_deno_memcpy(uint8_t *dst, const uint8_t *src, size_t len)  (native <- JS)
  wasmtime_deno_write: {
    name: "wasmtime_deno_memcpy",
    parameters: ["pointer", "buffer", "usize"],
    result: "void",
  },
  // void wasmtime_deno_memcpy(uint8_t *dst, const uint8_t *src, size_t len)  (JS <- native)
  wasmtime_deno_read: {
    name: "wasmtime_deno_memcpy",
    parameters: ["buffer", "pointer", "usize"],
    result: "void",
  },
  // const Capture *wasmtime_deno_capture_new(size_t limit)
  wasmtime_deno_capture_new: { parameters: ["usize"], result: "pointer" },
  // void wasmtime_deno_capture_delete(const Capture *capture)
  wasmtime_deno_capture_delete: { parameters: ["pointer"], result: "void" },
  // void wasmtime_deno_capture_attach(wasi_config_t *config, const Capture *c, uint32_t stream)
  wasmtime_deno_capture_attach: { parameters: ["pointer", "pointer", "u32"], result: "void" },
  // uint8_t *wasmtime_deno_capture_take_all(const Capture *capture, size_t *len)
  wasmtime_deno_capture_take_all: { parameters: ["pointer", "buffer"], result: "pointer" },
  // void wasmtime_deno_buffer_free(uint8_t *data, size_t len)
  wasmtime_deno_buffer_free: { parameters: ["pointer", "usize"], result: "void" },

  // ---- config and engine ------------------------------------------------------------------
  // wasm_config_t *wasm_config_new(void)
  wasm_config_new: { parameters: [], result: "pointer" },
  // void wasm_config_delete(wasm_config_t *)
  wasm_config_delete: { parameters: ["pointer"], result: "void" },
  // void wasmtime_config_debug_info_set(wasm_config_t *, bool)
  wasmtime_config_debug_info_set: { parameters: ["pointer", "bool"], result: "void" },
  // void wasmtime_config_consume_fuel_set(wasm_config_t *, bool)
  wasmtime_config_consume_fuel_set: { parameters: ["pointer", "bool"], result: "void" },
  // void wasmtime_config_epoch_interruption_set(wasm_config_t *, bool)
  wasmtime_config_epoch_interruption_set: { parameters: ["pointer", "bool"], result: "void" },
  // void wasmtime_config_max_wasm_stack_set(wasm_config_t *, size_t)
  wasmtime_config_max_wasm_stack_set: { parameters: ["pointer", "usize"], result: "void" },
  // void wasmtime_config_wasm_threads_set(wasm_config_t *, bool)
  wasmtime_config_wasm_threads_set: { parameters: ["pointer", "bool"], result: "void" },
  // void wasmtime_config_shared_memory_set(wasm_config_t *, bool)
  wasmtime_config_shared_memory_set: { parameters: ["pointer", "bool"], result: "void" },
  // void wasmtime_config_wasm_tail_call_set(wasm_config_t *, bool)
  wasmtime_config_wasm_tail_call_set: { parameters: ["pointer", "bool"], result: "void" },
  // void wasmtime_config_wasm_reference_types_set(wasm_config_t *, bool)
  wasmtime_config_wasm_reference_types_set: { parameters: ["pointer", "bool"], result: "void" },
  // void wasmtime_config_wasm_function_references_set(wasm_config_t *, bool)
  wasmtime_config_wasm_function_references_set: {
    parameters: ["pointer", "bool"],
    result: "void",
  },
  // void wasmtime_config_wasm_gc_set(wasm_config_t *, bool)
  wasmtime_config_wasm_gc_set: { parameters: ["pointer", "bool"], result: "void" },
  // void wasmtime_config_wasm_simd_set(wasm_config_t *, bool)
  wasmtime_config_wasm_simd_set: { parameters: ["pointer", "bool"], result: "void" },
  // void wasmtime_config_wasm_relaxed_simd_set(wasm_config_t *, bool)
  wasmtime_config_wasm_relaxed_simd_set: { parameters: ["pointer", "bool"], result: "void" },
  // void wasmtime_config_wasm_relaxed_simd_deterministic_set(wasm_config_t *, bool)
  wasmtime_config_wasm_relaxed_simd_deterministic_set: {
    parameters: ["pointer", "bool"],
    result: "void",
  },
  // void wasmtime_config_wasm_bulk_memory_set(wasm_config_t *, bool)
  wasmtime_config_wasm_bulk_memory_set: { parameters: ["pointer", "bool"], result: "void" },
  // void wasmtime_config_wasm_multi_value_set(wasm_config_t *, bool)
  wasmtime_config_wasm_multi_value_set: { parameters: ["pointer", "bool"], result: "void" },
  // void wasmtime_config_wasm_multi_memory_set(wasm_config_t *, bool)
  wasmtime_config_wasm_multi_memory_set: { parameters: ["pointer", "bool"], result: "void" },
  // void wasmtime_config_wasm_memory64_set(wasm_config_t *, bool)
  wasmtime_config_wasm_memory64_set: { parameters: ["pointer", "bool"], result: "void" },
  // void wasmtime_config_wasm_wide_arithmetic_set(wasm_config_t *, bool)
  wasmtime_config_wasm_wide_arithmetic_set: { parameters: ["pointer", "bool"], result: "void" },
  // void wasmtime_config_wasm_exceptions_set(wasm_config_t *, bool)
  wasmtime_config_wasm_exceptions_set: { parameters: ["pointer", "bool"], result: "void" },
  // void wasmtime_config_wasm_stack_switching_set(wasm_config_t *, bool)
  wasmtime_config_wasm_stack_switching_set: { parameters: ["pointer", "bool"], result: "void" },
  // void wasmtime_config_wasm_branch_hinting_set(wasm_config_t *, bool)
  wasmtime_config_wasm_branch_hinting_set: { parameters: ["pointer", "bool"], result: "void" },
  // void wasmtime_config_wasm_custom_page_sizes_set(wasm_config_t *, bool)
  wasmtime_config_wasm_custom_page_sizes_set: {
    parameters: ["pointer", "bool"],
    result: "void",
  },
  // void wasmtime_config_parallel_compilation_set(wasm_config_t *, bool)
  wasmtime_config_parallel_compilation_set: { parameters: ["pointer", "bool"], result: "void" },
  // void wasmtime_config_cranelift_nan_canonicalization_set(wasm_config_t *, bool)
  wasmtime_config_cranelift_nan_canonicalization_set: {
    parameters: ["pointer", "bool"],
    result: "void",
  },
  // void wasmtime_config_cranelift_opt_level_set(wasm_config_t *, wasmtime_opt_level_t)
  wasmtime_config_cranelift_opt_level_set: { parameters: ["pointer", "u8"], result: "void" },
  // void wasmtime_config_profiler_set(wasm_config_t *, wasmtime_profiling_strategy_t)
  wasmtime_config_profiler_set: { parameters: ["pointer", "u8"], result: "void" },
  // void wasmtime_config_strategy_set(wasm_config_t *, wasmtime_strategy_t)
  wasmtime_config_strategy_set: { parameters: ["pointer", "u8"], result: "void" },
  // void wasmtime_config_cranelift_flag_enable(wasm_config_t *, const char *flag)
  wasmtime_config_cranelift_flag_enable: { parameters: ["pointer", "buffer"], result: "void" },
  // void wasmtime_config_cranelift_flag_set(wasm_config_t *, const char *flag, const char *value)
  wasmtime_config_cranelift_flag_set: {
    parameters: ["pointer", "buffer", "buffer"],
    result: "void",
  },
  // wasmtime_error_t *wasmtime_config_target_set(wasm_config_t *, const char *target)
  wasmtime_config_target_set: { parameters: ["pointer", "buffer"], result: "pointer" },
  // void wasmtime_config_memory_may_move_set(wasm_config_t *, bool)
  wasmtime_config_memory_may_move_set: { parameters: ["pointer", "bool"], result: "void" },
  // void wasmtime_config_memory_reservation_set(wasm_config_t *, uint64_t)
  wasmtime_config_memory_reservation_set: { parameters: ["pointer", "u64"], result: "void" },
  // void wasmtime_config_memory_guard_size_set(wasm_config_t *, uint64_t)
  wasmtime_config_memory_guard_size_set: { parameters: ["pointer", "u64"], result: "void" },
  // void wasmtime_config_memory_reservation_for_growth_set(wasm_config_t *, uint64_t)
  wasmtime_config_memory_reservation_for_growth_set: {
    parameters: ["pointer", "u64"],
    result: "void",
  },
  // void wasmtime_config_signals_based_traps_set(wasm_config_t *, bool)
  wasmtime_config_signals_based_traps_set: { parameters: ["pointer", "bool"], result: "void" },
  // void wasmtime_config_memory_init_cow_set(wasm_config_t *, bool)
  wasmtime_config_memory_init_cow_set: { parameters: ["pointer", "bool"], result: "void" },
  // void wasmtime_config_async_stack_size_set(wasm_config_t *, size_t)
  wasmtime_config_async_stack_size_set: { parameters: ["pointer", "usize"], result: "void" },
  // wasmtime_error_t *wasmtime_config_cache_config_load(wasm_config_t *, const char *path)
  wasmtime_config_cache_config_load: { parameters: ["pointer", "buffer"], result: "pointer" },
  // wasmtime_pooling_allocation_config_t *wasmtime_pooling_allocation_config_new(void)
  wasmtime_pooling_allocation_config_new: { parameters: [], result: "pointer" },
  // void wasmtime_pooling_allocation_config_delete(wasmtime_pooling_allocation_config_t *)
  wasmtime_pooling_allocation_config_delete: { parameters: ["pointer"], result: "void" },
  // void wasmtime_pooling_allocation_config_total_core_instances_set(..._config_t *, uint32_t)
  wasmtime_pooling_allocation_config_total_core_instances_set: {
    parameters: ["pointer", "u32"],
    result: "void",
  },
  // void wasmtime_pooling_allocation_config_total_memories_set(..._config_t *, uint32_t)
  wasmtime_pooling_allocation_config_total_memories_set: {
    parameters: ["pointer", "u32"],
    result: "void",
  },
  // void wasmtime_pooling_allocation_config_total_tables_set(..._config_t *, uint32_t)
  wasmtime_pooling_allocation_config_total_tables_set: {
    parameters: ["pointer", "u32"],
    result: "void",
  },
  // void wasmtime_pooling_allocation_config_max_memory_size_set(..._config_t *, size_t)
  wasmtime_pooling_allocation_config_max_memory_size_set: {
    parameters: ["pointer", "usize"],
    result: "void",
  },
  // void wasmtime_pooling_allocation_strategy_set(wasm_config_t *,
  //                                             const wasmtime_pooling_allocation_config_t *)
  wasmtime_pooling_allocation_strategy_set: { parameters: ["pointer", "pointer"], result: "void" },
  // wasmtime_error_t *wasmtime_deno_engine_new(wasm_config_t *config, wasm_engine_t **out)
  //   (takes the config; an error instead of wasm_engine_new_with_config's abort)
  wasmtime_deno_engine_new: { parameters: ["pointer", "buffer"], result: "pointer" },
  // wasmtime_error_t *wasmtime_deno_engine_precompile(const wasm_engine_t *, const uint8_t *wasm,
  //                                                  size_t len, wasm_byte_vec_t *out)
  //   (Engine::precompile_module: also for an engine that targets another platform)
  wasmtime_deno_engine_precompile: {
    parameters: ["pointer", "buffer", "usize", "buffer"],
    result: "pointer",
  },
  // void wasm_engine_delete(wasm_engine_t *)
  wasm_engine_delete: { parameters: ["pointer"], result: "void" },
  // wasm_engine_t *wasmtime_engine_clone(const wasm_engine_t *)
  wasmtime_engine_clone: { parameters: ["pointer"], result: "pointer" },
  // void wasmtime_engine_increment_epoch(const wasm_engine_t *)
  wasmtime_engine_increment_epoch: { parameters: ["pointer"], result: "void" },
  // bool wasmtime_deno_config_collector_set(wasm_config_t *, uint8_t collector)
  //   (0 Wasmtime's choice, 1 deferred reference counting, 2 null; false for another code)
  wasmtime_deno_config_collector_set: { parameters: ["pointer", "u8"], result: "bool" },

  // ---- shared memories and hand-off between Workers (native/src/shared_memory.rs, handoff.rs)
  // wasmtime_error_t *wasmtime_sharedmemory_new(const wasm_engine_t *, const wasm_memorytype_t *,
  //                                             wasmtime_sharedmemory_t **ret)
  wasmtime_sharedmemory_new: { parameters: ["pointer", "pointer", "buffer"], result: "pointer" },
  // void wasmtime_sharedmemory_delete(wasmtime_sharedmemory_t *)
  wasmtime_sharedmemory_delete: { parameters: ["pointer"], result: "void" },
  // wasmtime_sharedmemory_t *wasmtime_sharedmemory_clone(const wasmtime_sharedmemory_t *)
  wasmtime_sharedmemory_clone: { parameters: ["pointer"], result: "pointer" },
  // wasm_memorytype_t *wasmtime_sharedmemory_type(const wasmtime_sharedmemory_t *)
  wasmtime_sharedmemory_type: { parameters: ["pointer"], result: "pointer" },
  // uint8_t *wasmtime_sharedmemory_data(const wasmtime_sharedmemory_t *)
  wasmtime_sharedmemory_data: { parameters: ["pointer"], result: "pointer" },
  // size_t wasmtime_sharedmemory_data_size(const wasmtime_sharedmemory_t *)
  wasmtime_sharedmemory_data_size: { parameters: ["pointer"], result: "usize" },
  // uint64_t wasmtime_sharedmemory_size(const wasmtime_sharedmemory_t *)
  wasmtime_sharedmemory_size: { parameters: ["pointer"], result: "u64" },
  // wasmtime_error_t *wasmtime_sharedmemory_grow(const wasmtime_sharedmemory_t *, uint64_t delta,
  //                                              uint64_t *prev_size)
  wasmtime_sharedmemory_grow: { parameters: ["pointer", "u64", "buffer"], result: "pointer" },
  // int64_t wasmtime_deno_sharedmemory_wait32(const wasmtime_sharedmemory_t *, uint64_t addr,
  //     uint32_t expected, int64_t timeout_ns)  (0 woken, 1 not equal, 2 timed out, < 0 failed;
  //     blocks the thread)
  wasmtime_deno_sharedmemory_wait32: {
    parameters: ["pointer", "u64", "u32", "i64"],
    result: "i64",
  },
  // the same on Deno's blocking pool, for waitAsync
  wasmtime_deno_sharedmemory_wait32_nonblocking: {
    name: "wasmtime_deno_sharedmemory_wait32",
    parameters: ["pointer", "u64", "u32", "i64"],
    result: "i64",
    nonblocking: true,
  },
  // int64_t wasmtime_deno_sharedmemory_wait64(const wasmtime_sharedmemory_t *, uint64_t addr,
  //     uint64_t expected, int64_t timeout_ns)
  wasmtime_deno_sharedmemory_wait64: {
    parameters: ["pointer", "u64", "u64", "i64"],
    result: "i64",
  },
  wasmtime_deno_sharedmemory_wait64_nonblocking: {
    name: "wasmtime_deno_sharedmemory_wait64",
    parameters: ["pointer", "u64", "u64", "i64"],
    result: "i64",
    nonblocking: true,
  },
  // int64_t wasmtime_deno_sharedmemory_notify(const wasmtime_sharedmemory_t *, uint64_t addr,
  //                                           uint32_t count)  (woken waiters, < 0 failed)
  wasmtime_deno_sharedmemory_notify: {
    parameters: ["pointer", "u64", "u32"],
    result: "i64",
  },
  // uint64_t wasmtime_deno_sharedmemory_notify_all(const wasmtime_sharedmemory_t *)
  //   (notifies every aligned address; on Deno's blocking pool: ~14 ns per address)
  wasmtime_deno_sharedmemory_notify_all_nonblocking: {
    name: "wasmtime_deno_sharedmemory_notify_all",
    parameters: ["pointer"],
    result: "u64",
    nonblocking: true,
  },
  // bool wasmtime_deno_handoff_put_engine(const wasm_engine_t *, const uint8_t token[16],
  //                                       const uint8_t *meta, size_t meta_len)
  wasmtime_deno_handoff_put_engine: {
    parameters: ["pointer", "buffer", "buffer", "usize"],
    result: "bool",
  },
  // bool wasmtime_deno_handoff_put_sharedmemory(const wasmtime_sharedmemory_t *,
  //                                             const uint8_t token[16])
  wasmtime_deno_handoff_put_sharedmemory: { parameters: ["pointer", "buffer"], result: "bool" },
  // bool wasmtime_deno_handoff_put_capture(const Capture *, const uint8_t token[16])
  wasmtime_deno_handoff_put_capture: { parameters: ["pointer", "buffer"], result: "bool" },
  // wasm_engine_t *wasmtime_deno_handoff_take_engine(const uint8_t token[16],
  //                                                   wasm_byte_vec_t *meta)
  wasmtime_deno_handoff_take_engine: { parameters: ["buffer", "buffer"], result: "pointer" },
  // wasmtime_sharedmemory_t *wasmtime_deno_handoff_take_sharedmemory(const uint8_t token[16])
  wasmtime_deno_handoff_take_sharedmemory: { parameters: ["buffer"], result: "pointer" },
  // const Capture *wasmtime_deno_handoff_take_capture(const uint8_t token[16])
  wasmtime_deno_handoff_take_capture: { parameters: ["buffer"], result: "pointer" },
  // bool wasmtime_deno_handoff_revoke(const uint8_t token[16])
  wasmtime_deno_handoff_revoke: { parameters: ["buffer"], result: "bool" },
  // size_t wasmtime_deno_handoff_pending(void)
  wasmtime_deno_handoff_pending: { parameters: [], result: "usize" },

  // ---- store ------------------------------------------------------------------------------
  // wasmtime_store_t *wasmtime_store_new(wasm_engine_t *, void *data, void (*finalizer)(void *))
  wasmtime_store_new: { parameters: ["pointer", "pointer", "pointer"], result: "pointer" },
  // wasmtime_context_t *wasmtime_store_context(wasmtime_store_t *)
  wasmtime_store_context: { parameters: ["pointer"], result: "pointer" },
  // void wasmtime_store_delete(wasmtime_store_t *)
  wasmtime_store_delete: { parameters: ["pointer"], result: "void" },
  // void wasmtime_store_limiter(wasmtime_store_t *, int64_t memory_size, int64_t table_elements,
  //                             int64_t instances, int64_t tables, int64_t memories)
  wasmtime_store_limiter: {
    parameters: ["pointer", "i64", "i64", "i64", "i64", "i64"],
    result: "void",
  },
  // void *wasmtime_context_get_data(const wasmtime_context_t *)
  wasmtime_context_get_data: { parameters: ["pointer"], result: "pointer" },
  // wasmtime_error_t *wasmtime_context_gc(wasmtime_context_t *)
  wasmtime_context_gc: { parameters: ["pointer"], result: "pointer" },
  // wasmtime_error_t *wasmtime_context_set_fuel(wasmtime_context_t *, uint64_t fuel)
  wasmtime_context_set_fuel: { parameters: ["pointer", "u64"], result: "pointer" },
  // wasmtime_error_t *wasmtime_context_get_fuel(const wasmtime_context_t *, uint64_t *fuel)
  wasmtime_context_get_fuel: { parameters: ["pointer", "buffer"], result: "pointer" },
  // wasmtime_error_t *wasmtime_context_set_wasi(wasmtime_context_t *, wasi_config_t *) (takes it)
  wasmtime_context_set_wasi: { parameters: ["pointer", "pointer"], result: "pointer" },
  // void wasmtime_context_set_epoch_deadline(wasmtime_context_t *, uint64_t ticks_beyond_current)
  wasmtime_context_set_epoch_deadline: { parameters: ["pointer", "u64"], result: "void" },
  // wasmtime_error_t *wasmtime_context_fuel_async_yield_interval(wasmtime_context_t *, uint64_t)
  wasmtime_context_fuel_async_yield_interval: {
    parameters: ["pointer", "u64"],
    result: "pointer",
  },
  // wasmtime_error_t *wasmtime_context_epoch_deadline_async_yield_and_update(
  //     wasmtime_context_t *, uint64_t delta)
  wasmtime_context_epoch_deadline_async_yield_and_update: {
    parameters: ["pointer", "u64"],
    result: "pointer",
  },

  // ---- errors and traps -------------------------------------------------------------------
  // wasmtime_error_t *wasmtime_error_new(const char *msg)
  wasmtime_error_new: { parameters: ["buffer"], result: "pointer" },
  // void wasmtime_error_delete(wasmtime_error_t *)
  wasmtime_error_delete: { parameters: ["pointer"], result: "void" },
  // void wasmtime_error_message(const wasmtime_error_t *, wasm_name_t *message)
  wasmtime_error_message: { parameters: ["pointer", "buffer"], result: "void" },
  // bool wasmtime_error_exit_status(const wasmtime_error_t *, int *status)
  wasmtime_error_exit_status: { parameters: ["pointer", "buffer"], result: "bool" },
  // void wasmtime_error_wasm_trace(const wasmtime_error_t *, wasm_frame_vec_t *out)
  wasmtime_error_wasm_trace: { parameters: ["pointer", "buffer"], result: "void" },
  // wasm_trap_t *wasmtime_trap_new(const char *msg, size_t msg_len)
  wasmtime_trap_new: { parameters: ["buffer", "usize"], result: "pointer" },
  // wasm_trap_t *wasmtime_trap_new_code(wasmtime_trap_code_t code)
  wasmtime_trap_new_code: { parameters: ["u8"], result: "pointer" },
  // bool wasmtime_trap_code(const wasm_trap_t *, wasmtime_trap_code_t *code)
  wasmtime_trap_code: { parameters: ["pointer", "buffer"], result: "bool" },
  // void wasm_trap_message(const wasm_trap_t *, wasm_message_t *out)
  wasm_trap_message: { parameters: ["pointer", "buffer"], result: "void" },
  // void wasm_trap_trace(const wasm_trap_t *, wasm_frame_vec_t *out)
  wasm_trap_trace: { parameters: ["pointer", "buffer"], result: "void" },
  // void wasm_trap_delete(wasm_trap_t *)
  wasm_trap_delete: { parameters: ["pointer"], result: "void" },
  // uint32_t wasm_frame_func_index(const wasm_frame_t *)
  wasm_frame_func_index: { parameters: ["pointer"], result: "u32" },
  // size_t wasm_frame_func_offset(const wasm_frame_t *)
  wasm_frame_func_offset: { parameters: ["pointer"], result: "usize" },
  // size_t wasm_frame_module_offset(const wasm_frame_t *)
  wasm_frame_module_offset: { parameters: ["pointer"], result: "usize" },
  // const wasm_name_t *wasmtime_frame_func_name(const wasm_frame_t *)
  wasmtime_frame_func_name: { parameters: ["pointer"], result: "pointer" },
  // bool wasmtime_deno_demangle(const uint8_t *name, size_t len, wasm_byte_vec_t *out)
  wasmtime_deno_demangle: { parameters: ["pointer", "usize", "buffer"], result: "bool" },
  // const wasm_name_t *wasmtime_frame_module_name(const wasm_frame_t *)
  wasmtime_frame_module_name: { parameters: ["pointer"], result: "pointer" },
  // void wasm_frame_vec_delete(wasm_frame_vec_t *)
  wasm_frame_vec_delete: { parameters: ["buffer"], result: "void" },
  // void wasm_byte_vec_delete(wasm_byte_vec_t *)
  wasm_byte_vec_delete: { parameters: ["buffer"], result: "void" },
  // void wasm_byte_vec_new(wasm_byte_vec_t *out, size_t, const wasm_byte_t *)
  wasm_byte_vec_new: { parameters: ["buffer", "usize", "buffer"], result: "void" },

  // ---- types ------------------------------------------------------------------------------
  // wasm_valtype_t *wasmtime_wasm_valtype_v128(void)
  wasmtime_wasm_valtype_v128: { parameters: [], result: "pointer" },
  // void wasmtime_valtype_new(const wasm_valtype_t *ty, wasmtime_valtype_t *out)
  wasmtime_valtype_new: { parameters: ["pointer", "buffer"], result: "void" },
  // void wasmtime_valtype_delete(wasmtime_valtype_t *ty)
  wasmtime_valtype_delete: { parameters: ["buffer"], result: "void" },
  // void wasmtime_valtype_clone(const wasmtime_valtype_t *ty, wasmtime_valtype_t *out)
  wasmtime_valtype_clone: { parameters: ["buffer", "buffer"], result: "void" },
  // void wasm_valtype_vec_delete(wasm_valtype_vec_t *)
  wasm_valtype_vec_delete: { parameters: ["buffer"], result: "void" },
  // void wasm_valtype_delete(wasm_valtype_t *)
  wasm_valtype_delete: { parameters: ["pointer"], result: "void" },
  // wasm_valtype_t *wasm_valtype_copy(const wasm_valtype_t *)
  wasm_valtype_copy: { parameters: ["pointer"], result: "pointer" },
  // wasm_valtype_t *wasm_valtype_new(wasm_valkind_t)  (aborts for v128: use the one above)
  wasm_valtype_new: { parameters: ["u8"], result: "pointer" },
  // void wasm_valtype_vec_new(wasm_valtype_vec_t *out, size_t, wasm_valtype_t *const data[])
  wasm_valtype_vec_new: { parameters: ["buffer", "usize", "buffer"], result: "void" },
  // wasm_functype_t *wasm_functype_new(wasm_valtype_vec_t *params, wasm_valtype_vec_t *results)
  wasm_functype_new: { parameters: ["buffer", "buffer"], result: "pointer" },
  // const wasm_valtype_vec_t *wasm_functype_params(const wasm_functype_t *)
  wasm_functype_params: { parameters: ["pointer"], result: "pointer" },
  // const wasm_valtype_vec_t *wasm_functype_results(const wasm_functype_t *)
  wasm_functype_results: { parameters: ["pointer"], result: "pointer" },
  // void wasm_functype_delete(wasm_functype_t *)
  wasm_functype_delete: { parameters: ["pointer"], result: "void" },
  // wasm_globaltype_t *wasm_globaltype_new(wasm_valtype_t *, wasm_mutability_t)
  wasm_globaltype_new: { parameters: ["pointer", "u8"], result: "pointer" },
  // const wasm_valtype_t *wasm_globaltype_content(const wasm_globaltype_t *)
  wasm_globaltype_content: { parameters: ["pointer"], result: "pointer" },
  // wasm_mutability_t wasm_globaltype_mutability(const wasm_globaltype_t *)
  wasm_globaltype_mutability: { parameters: ["pointer"], result: "u8" },
  // void wasm_globaltype_delete(wasm_globaltype_t *)
  wasm_globaltype_delete: { parameters: ["pointer"], result: "void" },
  // wasm_tabletype_t *wasm_tabletype_new(wasm_valtype_t *, const wasm_limits_t *)
  wasm_tabletype_new: { parameters: ["pointer", "buffer"], result: "pointer" },
  // const wasm_valtype_t *wasm_tabletype_element(const wasm_tabletype_t *)
  wasm_tabletype_element: { parameters: ["pointer"], result: "pointer" },
  // (wasm_tabletype_limits is not declared: it aborts the process on a table64 limit above
  // u32::MAX; the binding reads limits with the two shims below instead.)
  // bool wasmtime_deno_module_table_limits(const wasmtime_module_t *, bool import, size_t index,
  //                                        TableLimits *out)
  wasmtime_deno_module_table_limits: {
    parameters: ["pointer", "bool", "usize", "buffer"],
    result: "bool",
  },
  // void wasmtime_deno_table_limits(const wasmtime_context_t *, const wasmtime_table_t *,
  //                                 TableLimits *out)
  wasmtime_deno_table_limits: { parameters: ["pointer", "buffer", "buffer"], result: "void" },
  // uint8_t wasmtime_deno_ref_matches(wasmtime_context_t *, uint8_t kind, const void *value,
  //     const wasm_valtype_t *)   (kind: WASMTIME_FUNCREF / ANYREF / EXNREF; see REF_MATCH_*)
  wasmtime_deno_ref_matches: { parameters: ["pointer", "u8", "buffer", "pointer"], result: "u8" },
  // uint8_t wasmtime_deno_valtype_matches(const wasm_valtype_t *a, const wasm_valtype_t *b,
  //     bool exact)   (a subtype of b, or equal when exact; REF_MATCH_FOREIGN across engines)
  wasmtime_deno_valtype_matches: { parameters: ["pointer", "pointer", "bool"], result: "u8" },
  // void wasm_tabletype_delete(wasm_tabletype_t *)
  wasm_tabletype_delete: { parameters: ["pointer"], result: "void" },
  // wasmtime_error_t *wasmtime_memorytype_new(uint64_t min, bool max_present, uint64_t max,
  //     bool is_64, bool shared, uint8_t page_size_log2, wasm_memorytype_t **ret)
  wasmtime_memorytype_new: {
    parameters: ["u64", "bool", "u64", "bool", "bool", "u8", "buffer"],
    result: "pointer",
  },
  // uint64_t wasmtime_memorytype_minimum(const wasm_memorytype_t *)
  wasmtime_memorytype_minimum: { parameters: ["pointer"], result: "u64" },
  // bool wasmtime_memorytype_maximum(const wasm_memorytype_t *, uint64_t *max)
  wasmtime_memorytype_maximum: { parameters: ["pointer", "buffer"], result: "bool" },
  // bool wasmtime_memorytype_is64(const wasm_memorytype_t *)
  wasmtime_memorytype_is64: { parameters: ["pointer"], result: "bool" },
  // bool wasmtime_memorytype_isshared(const wasm_memorytype_t *)
  wasmtime_memorytype_isshared: { parameters: ["pointer"], result: "bool" },
  // uint8_t wasmtime_memorytype_page_size_log2(const wasm_memorytype_t *)
  wasmtime_memorytype_page_size_log2: { parameters: ["pointer"], result: "u8" },
  // void wasm_memorytype_delete(wasm_memorytype_t *)
  wasm_memorytype_delete: { parameters: ["pointer"], result: "void" },
  // wasm_externkind_t wasm_externtype_kind(const wasm_externtype_t *)
  wasm_externtype_kind: { parameters: ["pointer"], result: "u8" },
  // const wasm_functype_t *wasm_externtype_as_functype_const(const wasm_externtype_t *)
  wasm_externtype_as_functype_const: { parameters: ["pointer"], result: "pointer" },
  // const wasm_globaltype_t *wasm_externtype_as_globaltype_const(const wasm_externtype_t *)
  wasm_externtype_as_globaltype_const: { parameters: ["pointer"], result: "pointer" },
  // const wasm_tabletype_t *wasm_externtype_as_tabletype_const(const wasm_externtype_t *)
  wasm_externtype_as_tabletype_const: { parameters: ["pointer"], result: "pointer" },
  // const wasm_memorytype_t *wasm_externtype_as_memorytype_const(const wasm_externtype_t *)
  wasm_externtype_as_memorytype_const: { parameters: ["pointer"], result: "pointer" },
  // void wasm_externtype_delete(wasm_externtype_t *)
  wasm_externtype_delete: { parameters: ["pointer"], result: "void" },
  // const wasm_name_t *wasm_importtype_module(const wasm_importtype_t *)
  wasm_importtype_module: { parameters: ["pointer"], result: "pointer" },
  // const wasm_name_t *wasm_importtype_name(const wasm_importtype_t *)
  wasm_importtype_name: { parameters: ["pointer"], result: "pointer" },
  // const wasm_externtype_t *wasm_importtype_type(const wasm_importtype_t *)
  wasm_importtype_type: { parameters: ["pointer"], result: "pointer" },
  // void wasm_importtype_vec_delete(wasm_importtype_vec_t *)
  wasm_importtype_vec_delete: { parameters: ["buffer"], result: "void" },
  // const wasm_name_t *wasm_exporttype_name(const wasm_exporttype_t *)
  wasm_exporttype_name: { parameters: ["pointer"], result: "pointer" },
  // const wasm_externtype_t *wasm_exporttype_type(const wasm_exporttype_t *)
  wasm_exporttype_type: { parameters: ["pointer"], result: "pointer" },
  // void wasm_exporttype_vec_delete(wasm_exporttype_vec_t *)
  wasm_exporttype_vec_delete: { parameters: ["buffer"], result: "void" },

  // ---- modules ----------------------------------------------------------------------------
  // wasmtime_error_t *wasmtime_wat2wasm(const char *wat, size_t wat_len, wasm_byte_vec_t *ret)
  wasmtime_wat2wasm: { parameters: ["buffer", "usize", "buffer"], result: "pointer" },
  // wasmtime_error_t *wasmtime_module_new(wasm_engine_t *, const uint8_t *wasm, size_t len,
  //                                       wasmtime_module_t **ret)
  wasmtime_module_new: { parameters: ["pointer", "buffer", "usize", "buffer"], result: "pointer" },
  // wasmtime_deno_compile_job_t *wasmtime_deno_compile_new(const wasm_engine_t *,
  //                                                        const uint8_t *wasm, size_t len)
  //   (copies the bytes and clones the engine)
  wasmtime_deno_compile_new: { parameters: ["pointer", "buffer", "usize"], result: "pointer" },
  // void wasmtime_deno_compile_run(wasmtime_deno_compile_job_t *): on Deno's blocking pool, so
  // the event loop keeps running while Wasmtime compiles
  wasmtime_deno_compile_run: { parameters: ["pointer"], result: "void", nonblocking: true },
  // wasmtime_error_t *wasmtime_deno_compile_finish(wasmtime_deno_compile_job_t *,
  //                                                wasmtime_module_t **out)   (frees the job)
  wasmtime_deno_compile_finish: { parameters: ["pointer", "buffer"], result: "pointer" },
  // void wasmtime_module_delete(wasmtime_module_t *)
  wasmtime_module_delete: { parameters: ["pointer"], result: "void" },
  // wasmtime_error_t *wasmtime_module_validate(wasm_engine_t *, const uint8_t *wasm, size_t len)
  wasmtime_module_validate: { parameters: ["pointer", "buffer", "usize"], result: "pointer" },
  // void wasmtime_module_imports(const wasmtime_module_t *, wasm_importtype_vec_t *out)
  wasmtime_module_imports: { parameters: ["pointer", "buffer"], result: "void" },
  // void wasmtime_module_exports(const wasmtime_module_t *, wasm_exporttype_vec_t *out)
  wasmtime_module_exports: { parameters: ["pointer", "buffer"], result: "void" },
  // wasmtime_error_t *wasmtime_module_serialize(const wasmtime_module_t *, wasm_byte_vec_t *ret)
  wasmtime_module_serialize: { parameters: ["pointer", "buffer"], result: "pointer" },
  // wasmtime_error_t *wasmtime_module_deserialize(wasm_engine_t *, const uint8_t *bytes,
  //                                               size_t len, wasmtime_module_t **ret)
  wasmtime_module_deserialize: {
    parameters: ["pointer", "buffer", "usize", "buffer"],
    result: "pointer",
  },
  // wasmtime_error_t *wasmtime_module_deserialize_file(wasm_engine_t *, const char *path,
  //                                                    wasmtime_module_t **ret)
  wasmtime_module_deserialize_file: {
    parameters: ["pointer", "buffer", "buffer"],
    result: "pointer",
  },

  // ---- linker and instances ---------------------------------------------------------------
  // wasmtime_linker_t *wasmtime_linker_new(wasm_engine_t *)
  wasmtime_linker_new: { parameters: ["pointer"], result: "pointer" },
  // void wasmtime_linker_delete(wasmtime_linker_t *)
  wasmtime_linker_delete: { parameters: ["pointer"], result: "void" },
  // void wasmtime_linker_allow_shadowing(wasmtime_linker_t *, bool)
  wasmtime_linker_allow_shadowing: { parameters: ["pointer", "bool"], result: "void" },
  // wasmtime_error_t *wasmtime_linker_define_unknown_imports_as_traps(wasmtime_linker_t *,
  //                                                                  const wasmtime_module_t *)
  wasmtime_linker_define_unknown_imports_as_traps: {
    parameters: ["pointer", "pointer"],
    result: "pointer",
  },
  // wasmtime_error_t *wasmtime_linker_define(wasmtime_linker_t *, wasmtime_context_t *,
  //     const char *module, size_t, const char *name, size_t, const wasmtime_extern_t *item)
  wasmtime_linker_define: {
    parameters: ["pointer", "pointer", "buffer", "usize", "buffer", "usize", "buffer"],
    result: "pointer",
  },
  // wasmtime_error_t *wasmtime_linker_define_func_unchecked(wasmtime_linker_t *,
  //     const char *module, size_t, const char *name, size_t, const wasm_functype_t *ty,
  //     wasmtime_func_unchecked_callback_t cb, void *data, void (*finalizer)(void *))
  wasmtime_linker_define_func_unchecked: {
    parameters: [
      "pointer",
      "buffer",
      "usize",
      "buffer",
      "usize",
      "pointer",
      "function",
      "pointer",
      "pointer",
    ],
    result: "pointer",
  },
  // wasmtime_error_t *wasmtime_linker_define_wasi(wasmtime_linker_t *)
  wasmtime_linker_define_wasi: { parameters: ["pointer"], result: "pointer" },
  // wasmtime_error_t *wasmtime_linker_define_instance(wasmtime_linker_t *, wasmtime_context_t *,
  //     const char *name, size_t, const wasmtime_instance_t *)
  wasmtime_linker_define_instance: {
    parameters: ["pointer", "pointer", "buffer", "usize", "buffer"],
    result: "pointer",
  },
  // wasmtime_error_t *wasmtime_linker_module(wasmtime_linker_t *, wasmtime_context_t *,
  //     const char *name, size_t, const wasmtime_module_t *)
  wasmtime_linker_module: {
    parameters: ["pointer", "pointer", "buffer", "usize", "pointer"],
    result: "pointer",
  },
  // wasmtime_error_t *wasmtime_linker_instantiate(const wasmtime_linker_t *, wasmtime_context_t *,
  //     const wasmtime_module_t *, wasmtime_instance_t *instance, wasm_trap_t **trap)
  wasmtime_linker_instantiate: {
    parameters: ["pointer", "pointer", "pointer", "buffer", "buffer"],
    result: "pointer",
  },
  // bool wasmtime_linker_get(const wasmtime_linker_t *, wasmtime_context_t *,
  //     const char *module, size_t, const char *name, size_t, wasmtime_extern_t *item)
  wasmtime_linker_get: {
    parameters: ["pointer", "pointer", "buffer", "usize", "buffer", "usize", "buffer"],
    result: "bool",
  },
  // wasmtime_error_t *wasmtime_linker_get_default(const wasmtime_linker_t *, wasmtime_context_t *,
  //     const char *name, size_t, wasmtime_func_t *func)
  wasmtime_linker_get_default: {
    parameters: ["pointer", "pointer", "buffer", "usize", "buffer"],
    result: "pointer",
  },
  // wasmtime_error_t *wasmtime_linker_instantiate_pre(const wasmtime_linker_t *,
  //     const wasmtime_module_t *, wasmtime_instance_pre_t **instance_pre)
  wasmtime_linker_instantiate_pre: {
    parameters: ["pointer", "pointer", "buffer"],
    result: "pointer",
  },
  // void wasmtime_instance_pre_delete(wasmtime_instance_pre_t *)
  wasmtime_instance_pre_delete: { parameters: ["pointer"], result: "void" },
  // wasmtime_error_t *wasmtime_instance_pre_instantiate(const wasmtime_instance_pre_t *,
  //     wasmtime_context_t *, wasmtime_instance_t *instance, wasm_trap_t **trap)
  wasmtime_instance_pre_instantiate: {
    parameters: ["pointer", "pointer", "buffer", "buffer"],
    result: "pointer",
  },
  // wasmtime_error_t *wasmtime_instance_new(wasmtime_context_t *, const wasmtime_module_t *,
  //     const wasmtime_extern_t *imports, size_t n, wasmtime_instance_t *, wasm_trap_t **trap)
  wasmtime_instance_new: {
    parameters: ["pointer", "pointer", "buffer", "usize", "buffer", "buffer"],
    result: "pointer",
  },
  // bool wasmtime_instance_export_get(wasmtime_context_t *, const wasmtime_instance_t *,
  //     const char *name, size_t, wasmtime_extern_t *item)
  wasmtime_instance_export_get: {
    parameters: ["pointer", "buffer", "buffer", "usize", "buffer"],
    result: "bool",
  },
  // bool wasmtime_instance_export_nth(wasmtime_context_t *, const wasmtime_instance_t *,
  //     size_t index, char **name, size_t *name_len, wasmtime_extern_t *item)
  wasmtime_instance_export_nth: {
    parameters: ["pointer", "buffer", "usize", "buffer", "buffer", "buffer"],
    result: "bool",
  },
  // void wasmtime_extern_delete(wasmtime_extern_t *val)
  wasmtime_extern_delete: { parameters: ["buffer"], result: "void" },
  // wasm_externtype_t *wasmtime_extern_type(wasmtime_context_t *, const wasmtime_extern_t *)
  wasmtime_extern_type: { parameters: ["pointer", "buffer"], result: "pointer" },

  // ---- functions --------------------------------------------------------------------------
  // void wasmtime_func_new_unchecked(wasmtime_context_t *, const wasm_functype_t *,
  //     wasmtime_func_unchecked_callback_t cb, void *env, void (*finalizer)(void *),
  //     wasmtime_func_t *ret)
  wasmtime_func_new_unchecked: {
    parameters: ["pointer", "pointer", "function", "pointer", "pointer", "buffer"],
    result: "void",
  },
  // wasm_functype_t *wasmtime_func_type(const wasmtime_context_t *, const wasmtime_func_t *)
  wasmtime_func_type: { parameters: ["pointer", "buffer"], result: "pointer" },
  // wasmtime_error_t *wasmtime_func_call(wasmtime_context_t *, const wasmtime_func_t *,
  //     const wasmtime_val_t *args, size_t nargs, wasmtime_val_t *results, size_t nresults,
  //     wasm_trap_t **trap)  (checked: used when a concrete GC reference is passed)
  wasmtime_func_call: {
    parameters: ["pointer", "buffer", "buffer", "usize", "buffer", "usize", "buffer"],
    result: "pointer",
  },
  // wasmtime_error_t *wasmtime_func_call_unchecked(wasmtime_context_t *, const wasmtime_func_t *,
  //     wasmtime_val_raw_t *args_and_results, size_t len, wasm_trap_t **trap)
  wasmtime_func_call_unchecked: {
    parameters: ["pointer", "buffer", "buffer", "usize", "buffer"],
    result: "pointer",
  },
  // bool wasmtime_caller_export_get(wasmtime_caller_t *, const char *name, size_t,
  //                                 wasmtime_extern_t *item)
  wasmtime_caller_export_get: {
    parameters: ["pointer", "buffer", "usize", "buffer"],
    result: "bool",
  },
  // wasmtime_context_t *wasmtime_caller_context(wasmtime_caller_t *)
  wasmtime_caller_context: { parameters: ["pointer"], result: "pointer" },
  // void wasmtime_func_from_raw(wasmtime_context_t *, void *raw, wasmtime_func_t *ret)
  wasmtime_func_from_raw: { parameters: ["pointer", "pointer", "buffer"], result: "void" },
  // void *wasmtime_func_to_raw(wasmtime_context_t *, const wasmtime_func_t *)
  wasmtime_func_to_raw: { parameters: ["pointer", "buffer"], result: "pointer" },
  // void wasmtime_externref_from_raw(wasmtime_context_t *, uint32_t raw, wasmtime_externref_t *)
  wasmtime_externref_from_raw: { parameters: ["pointer", "u32", "buffer"], result: "void" },
  // uint32_t wasmtime_externref_to_raw(wasmtime_context_t *, const wasmtime_externref_t *)
  wasmtime_externref_to_raw: { parameters: ["pointer", "buffer"], result: "u32" },
  // void wasmtime_externref_unroot(wasmtime_externref_t *)
  wasmtime_externref_unroot: { parameters: ["buffer"], result: "void" },
  // void wasmtime_val_unroot(wasmtime_val_t *)
  wasmtime_val_unroot: { parameters: ["buffer"], result: "void" },
  // void wasmtime_externref_clone(const wasmtime_externref_t *, wasmtime_externref_t *out)
  wasmtime_externref_clone: { parameters: ["buffer", "buffer"], result: "void" },
  // void wasmtime_anyref_from_raw(wasmtime_context_t *, uint32_t raw, wasmtime_anyref_t *out)
  wasmtime_anyref_from_raw: { parameters: ["pointer", "u32", "buffer"], result: "void" },
  // uint32_t wasmtime_anyref_to_raw(wasmtime_context_t *, const wasmtime_anyref_t *)
  wasmtime_anyref_to_raw: { parameters: ["pointer", "buffer"], result: "u32" },
  // void wasmtime_anyref_clone(const wasmtime_anyref_t *, wasmtime_anyref_t *out)
  wasmtime_anyref_clone: { parameters: ["buffer", "buffer"], result: "void" },
  // void wasmtime_anyref_unroot(wasmtime_anyref_t *)
  wasmtime_anyref_unroot: { parameters: ["buffer"], result: "void" },
  // void wasmtime_anyref_from_i31(wasmtime_context_t *, uint32_t i31val, wasmtime_anyref_t *out)
  wasmtime_anyref_from_i31: { parameters: ["pointer", "u32", "buffer"], result: "void" },
  // bool wasmtime_anyref_i31_get_s(wasmtime_context_t *, const wasmtime_anyref_t *, int32_t *dst)
  wasmtime_anyref_i31_get_s: { parameters: ["pointer", "buffer", "buffer"], result: "bool" },
  // bool wasmtime_anyref_is_eqref(wasmtime_context_t *, const wasmtime_anyref_t *)
  wasmtime_anyref_is_eqref: { parameters: ["pointer", "buffer"], result: "bool" },
  // bool wasmtime_anyref_as_struct(wasmtime_context_t *, const wasmtime_anyref_t *,
  //                                wasmtime_structref_t *out)
  wasmtime_anyref_as_struct: { parameters: ["pointer", "buffer", "buffer"], result: "bool" },
  // bool wasmtime_anyref_as_array(wasmtime_context_t *, const wasmtime_anyref_t *,
  //                               wasmtime_arrayref_t *out)
  wasmtime_anyref_as_array: { parameters: ["pointer", "buffer", "buffer"], result: "bool" },
  // void wasmtime_structref_unroot(wasmtime_structref_t *)
  wasmtime_structref_unroot: { parameters: ["buffer"], result: "void" },
  // wasmtime_error_t *wasmtime_structref_field(wasmtime_context_t *,
  //     const wasmtime_structref_t *, size_t index, wasmtime_val_t *out)
  wasmtime_structref_field: {
    parameters: ["pointer", "buffer", "usize", "buffer"],
    result: "pointer",
  },
  // wasmtime_error_t *wasmtime_structref_set_field(wasmtime_context_t *,
  //     const wasmtime_structref_t *, size_t index, const wasmtime_val_t *val)
  wasmtime_structref_set_field: {
    parameters: ["pointer", "buffer", "usize", "buffer"],
    result: "pointer",
  },
  // wasmtime_struct_type_t *wasmtime_structref_type(wasmtime_context_t *,
  //     const wasmtime_structref_t *)
  wasmtime_structref_type: { parameters: ["pointer", "buffer"], result: "pointer" },
  // wasmtime_array_type_t *wasmtime_arrayref_type(wasmtime_context_t *,
  //     const wasmtime_arrayref_t *)
  wasmtime_arrayref_type: { parameters: ["pointer", "buffer"], result: "pointer" },
  // size_t wasmtime_struct_type_num_fields(const wasmtime_struct_type_t *)
  wasmtime_struct_type_num_fields: { parameters: ["pointer"], result: "usize" },
  // void wasmtime_struct_type_delete(wasmtime_struct_type_t *)
  wasmtime_struct_type_delete: { parameters: ["pointer"], result: "void" },
  // wasmtime_struct_type_t *wasmtime_struct_type_new(const wasm_engine_t *,
  //     const wasmtime_field_type_t *fields, size_t nfields)  (aborts on a field type of
  //     another engine: checked in JS)
  wasmtime_struct_type_new: { parameters: ["pointer", "buffer", "usize"], result: "pointer" },
  // bool wasmtime_struct_type_field(const wasmtime_struct_type_t *, size_t,
  //     wasmtime_field_type_t *out)
  wasmtime_struct_type_field: { parameters: ["pointer", "usize", "buffer"], result: "bool" },
  // void wasmtime_field_type_delete(wasmtime_field_type_t *)
  wasmtime_field_type_delete: { parameters: ["buffer"], result: "void" },
  // wasmtime_array_type_t *wasmtime_array_type_new(const wasm_engine_t *,
  //     const wasmtime_field_type_t *)
  wasmtime_array_type_new: { parameters: ["pointer", "buffer"], result: "pointer" },
  // void wasmtime_array_type_delete(wasmtime_array_type_t *)
  wasmtime_array_type_delete: { parameters: ["pointer"], result: "void" },
  // void wasmtime_array_type_element(const wasmtime_array_type_t *, wasmtime_field_type_t *out)
  wasmtime_array_type_element: { parameters: ["pointer", "buffer"], result: "void" },
  // wasmtime_struct_ref_pre_t *wasmtime_struct_ref_pre_new(wasmtime_context_t *,
  //     const wasmtime_struct_type_t *)  (aborts for a type of another engine: checked in JS)
  wasmtime_struct_ref_pre_new: { parameters: ["pointer", "pointer"], result: "pointer" },
  // void wasmtime_struct_ref_pre_delete(wasmtime_struct_ref_pre_t *)
  wasmtime_struct_ref_pre_delete: { parameters: ["pointer"], result: "void" },
  // wasmtime_error_t *wasmtime_structref_new(wasmtime_context_t *,
  //     const wasmtime_struct_ref_pre_t *, const wasmtime_val_t *fields, size_t nfields,
  //     wasmtime_structref_t *out)
  wasmtime_structref_new: {
    parameters: ["pointer", "pointer", "buffer", "usize", "buffer"],
    result: "pointer",
  },
  // wasmtime_array_ref_pre_t *wasmtime_array_ref_pre_new(wasmtime_context_t *,
  //     const wasmtime_array_type_t *)  (aborts for a type of another engine: checked in JS)
  wasmtime_array_ref_pre_new: { parameters: ["pointer", "pointer"], result: "pointer" },
  // void wasmtime_array_ref_pre_delete(wasmtime_array_ref_pre_t *)
  wasmtime_array_ref_pre_delete: { parameters: ["pointer"], result: "void" },
  // wasmtime_error_t *wasmtime_arrayref_new(wasmtime_context_t *,
  //     const wasmtime_array_ref_pre_t *, const wasmtime_val_t *elem, uint32_t len,
  //     wasmtime_arrayref_t *out)
  wasmtime_arrayref_new: {
    parameters: ["pointer", "pointer", "buffer", "u32", "buffer"],
    result: "pointer",
  },
  // void wasmtime_structref_to_anyref(const wasmtime_structref_t *, wasmtime_anyref_t *out)
  wasmtime_structref_to_anyref: { parameters: ["buffer", "buffer"], result: "void" },
  // void wasmtime_arrayref_to_anyref(const wasmtime_arrayref_t *, wasmtime_anyref_t *out)
  wasmtime_arrayref_to_anyref: { parameters: ["buffer", "buffer"], result: "void" },
  // void wasmtime_arrayref_unroot(wasmtime_arrayref_t *)
  wasmtime_arrayref_unroot: { parameters: ["buffer"], result: "void" },
  // wasmtime_error_t *wasmtime_arrayref_len(wasmtime_context_t *, const wasmtime_arrayref_t *,
  //     uint32_t *out)
  wasmtime_arrayref_len: { parameters: ["pointer", "buffer", "buffer"], result: "pointer" },
  // wasmtime_error_t *wasmtime_arrayref_get(wasmtime_context_t *, const wasmtime_arrayref_t *,
  //     uint32_t index, wasmtime_val_t *out)
  wasmtime_arrayref_get: { parameters: ["pointer", "buffer", "u32", "buffer"], result: "pointer" },
  // wasmtime_error_t *wasmtime_arrayref_set(wasmtime_context_t *, const wasmtime_arrayref_t *,
  //     uint32_t index, const wasmtime_val_t *val)
  wasmtime_arrayref_set: { parameters: ["pointer", "buffer", "u32", "buffer"], result: "pointer" },
  // void wasmtime_exnref_from_raw(wasmtime_context_t *, uint32_t raw, wasmtime_exnref_t *out)
  wasmtime_exnref_from_raw: { parameters: ["pointer", "u32", "buffer"], result: "void" },
  // uint32_t wasmtime_exnref_to_raw(wasmtime_context_t *, const wasmtime_exnref_t *)
  wasmtime_exnref_to_raw: { parameters: ["pointer", "buffer"], result: "u32" },
  // void wasmtime_exnref_clone(const wasmtime_exnref_t *, wasmtime_exnref_t *out)
  wasmtime_exnref_clone: { parameters: ["buffer", "buffer"], result: "void" },
  // void wasmtime_exnref_unroot(wasmtime_exnref_t *)
  wasmtime_exnref_unroot: { parameters: ["buffer"], result: "void" },
  // size_t wasmtime_exnref_field_count(wasmtime_context_t *, const wasmtime_exnref_t *)
  wasmtime_exnref_field_count: { parameters: ["pointer", "buffer"], result: "usize" },
  // wasmtime_error_t *wasmtime_exnref_field(wasmtime_context_t *, const wasmtime_exnref_t *,
  //     size_t index, wasmtime_val_t *val_ret)
  wasmtime_exnref_field: {
    parameters: ["pointer", "buffer", "usize", "buffer"],
    result: "pointer",
  },
  // bool wasmtime_context_take_exception(wasmtime_context_t *, wasmtime_exnref_t *exn_ret)
  wasmtime_context_take_exception: { parameters: ["pointer", "buffer"], result: "bool" },
  // wasmtime_error_t *wasmtime_exnref_new(wasmtime_context_t *, const wasmtime_tag_t *,
  //     const wasmtime_val_t *fields, size_t nfields, wasmtime_exnref_t *exn_ret)
  wasmtime_exnref_new: {
    parameters: ["pointer", "buffer", "buffer", "usize", "buffer"],
    result: "pointer",
  },
  // wasmtime_error_t *wasmtime_exnref_tag(wasmtime_context_t *, const wasmtime_exnref_t *,
  //     wasmtime_tag_t *tag_ret)
  wasmtime_exnref_tag: { parameters: ["pointer", "buffer", "buffer"], result: "pointer" },
  // bool wasmtime_context_has_exception(wasmtime_context_t *)
  wasmtime_context_has_exception: { parameters: ["pointer"], result: "bool" },
  // wasm_trap_t *wasmtime_context_set_exception(wasmtime_context_t *, const wasmtime_exnref_t *)
  wasmtime_context_set_exception: { parameters: ["pointer", "buffer"], result: "pointer" },
  // wasm_tagtype_t *wasm_tagtype_new(wasm_functype_t *)  (takes the function type)
  wasm_tagtype_new: { parameters: ["pointer"], result: "pointer" },
  // const wasm_functype_t *wasm_tagtype_functype(const wasm_tagtype_t *)
  wasm_tagtype_functype: { parameters: ["pointer"], result: "pointer" },
  // void wasm_tagtype_delete(wasm_tagtype_t *)
  wasm_tagtype_delete: { parameters: ["pointer"], result: "void" },
  // const wasm_tagtype_t *wasm_externtype_as_tagtype_const(const wasm_externtype_t *)
  wasm_externtype_as_tagtype_const: { parameters: ["pointer"], result: "pointer" },
  // wasmtime_error_t *wasmtime_tag_new(wasmtime_context_t *, const wasm_tagtype_t *,
  //     wasmtime_tag_t *ret)
  wasmtime_tag_new: { parameters: ["pointer", "pointer", "buffer"], result: "pointer" },
  // wasm_tagtype_t *wasmtime_tag_type(const wasmtime_context_t *, const wasmtime_tag_t *)
  wasmtime_tag_type: { parameters: ["pointer", "buffer"], result: "pointer" },
  // bool wasmtime_tag_eq(const wasmtime_context_t *, const wasmtime_tag_t *,
  //     const wasmtime_tag_t *)
  wasmtime_tag_eq: { parameters: ["pointer", "buffer", "buffer"], result: "bool" },
  // wasm_valtype_t *wasmtime_valtype_to_wasm(const wasm_engine_t *, const wasmtime_valtype_t *)
  //     (the engine may be null unless the type is a concrete function type)
  wasmtime_valtype_to_wasm: { parameters: ["pointer", "buffer"], result: "pointer" },

  // wasmtime_call_future_t *wasmtime_func_call_async(wasmtime_context_t *,
  //     const wasmtime_func_t *, const wasmtime_val_t *args, size_t nargs,
  //     wasmtime_val_t *results, size_t nresults, wasm_trap_t **trap_ret,
  //     wasmtime_error_t **error_ret)
  wasmtime_func_call_async: {
    parameters: ["pointer", "buffer", "buffer", "usize", "buffer", "usize", "buffer", "buffer"],
    result: "pointer",
  },
  // wasmtime_call_future_t *wasmtime_linker_instantiate_async(const wasmtime_linker_t *,
  //     wasmtime_context_t *, const wasmtime_module_t *, wasmtime_instance_t *instance,
  //     wasm_trap_t **trap_ret, wasmtime_error_t **error_ret)
  wasmtime_linker_instantiate_async: {
    parameters: ["pointer", "pointer", "pointer", "buffer", "buffer", "buffer"],
    result: "pointer",
  },
  // wasmtime_call_future_t *wasmtime_instance_pre_instantiate_async(
  //     const wasmtime_instance_pre_t *, wasmtime_context_t *, wasmtime_instance_t *instance,
  //     wasm_trap_t **trap_ret, wasmtime_error_t **error_ret)
  wasmtime_instance_pre_instantiate_async: {
    parameters: ["pointer", "pointer", "buffer", "buffer", "buffer"],
    result: "pointer",
  },
  // void wasmtime_call_future_delete(wasmtime_call_future_t *future)
  wasmtime_call_future_delete: { parameters: ["pointer"], result: "void" },

  // ---- memories, tables, globals ----------------------------------------------------------
  // wasmtime_error_t *wasmtime_memory_new(wasmtime_context_t *, const wasm_memorytype_t *,
  //                                       wasmtime_memory_t *ret)
  wasmtime_memory_new: { parameters: ["pointer", "pointer", "buffer"], result: "pointer" },
  // wasm_memorytype_t *wasmtime_memory_type(const wasmtime_context_t *, const wasmtime_memory_t *)
  wasmtime_memory_type: { parameters: ["pointer", "buffer"], result: "pointer" },
  // uint8_t *wasmtime_memory_data(wasmtime_context_t *, const wasmtime_memory_t *)
  wasmtime_memory_data: { parameters: ["pointer", "buffer"], result: "pointer" },
  // size_t wasmtime_memory_data_size(const wasmtime_context_t *, const wasmtime_memory_t *)
  wasmtime_memory_data_size: { parameters: ["pointer", "buffer"], result: "usize" },
  // uint64_t wasmtime_memory_size(const wasmtime_context_t *, const wasmtime_memory_t *)
  wasmtime_memory_size: { parameters: ["pointer", "buffer"], result: "u64" },
  // wasmtime_error_t *wasmtime_memory_grow(wasmtime_context_t *, const wasmtime_memory_t *,
  //                                        uint64_t delta, uint64_t *prev_size)
  wasmtime_memory_grow: {
    parameters: ["pointer", "buffer", "u64", "buffer"],
    result: "pointer",
  },
  // wasmtime_error_t *wasmtime_table_new(wasmtime_context_t *, const wasm_tabletype_t *,
  //     const wasmtime_val_t *init, wasmtime_table_t *table)
  wasmtime_table_new: {
    parameters: ["pointer", "pointer", "buffer", "buffer"],
    result: "pointer",
  },
  // wasm_tabletype_t *wasmtime_table_type(const wasmtime_context_t *, const wasmtime_table_t *)
  wasmtime_table_type: { parameters: ["pointer", "buffer"], result: "pointer" },
  // bool wasmtime_table_get(wasmtime_context_t *, const wasmtime_table_t *, uint64_t index,
  //                         wasmtime_val_t *val)
  wasmtime_table_get: { parameters: ["pointer", "buffer", "u64", "buffer"], result: "bool" },
  // wasmtime_error_t *wasmtime_table_set(wasmtime_context_t *, const wasmtime_table_t *,
  //                                      uint64_t index, const wasmtime_val_t *value)
  wasmtime_table_set: {
    parameters: ["pointer", "buffer", "u64", "buffer"],
    result: "pointer",
  },
  // uint64_t wasmtime_table_size(const wasmtime_context_t *, const wasmtime_table_t *)
  wasmtime_table_size: { parameters: ["pointer", "buffer"], result: "u64" },
  // wasmtime_error_t *wasmtime_table_grow(wasmtime_context_t *, const wasmtime_table_t *,
  //     uint64_t delta, const wasmtime_val_t *init, uint64_t *prev_size)
  wasmtime_table_grow: {
    parameters: ["pointer", "buffer", "u64", "buffer", "buffer"],
    result: "pointer",
  },
  // wasmtime_error_t *wasmtime_global_new(wasmtime_context_t *, const wasm_globaltype_t *,
  //     const wasmtime_val_t *val, wasmtime_global_t *ret)
  wasmtime_global_new: {
    parameters: ["pointer", "pointer", "buffer", "buffer"],
    result: "pointer",
  },
  // wasm_globaltype_t *wasmtime_global_type(const wasmtime_context_t *, const wasmtime_global_t *)
  wasmtime_global_type: { parameters: ["pointer", "buffer"], result: "pointer" },
  // void wasmtime_global_get(wasmtime_context_t *, const wasmtime_global_t *, wasmtime_val_t *out)
  wasmtime_global_get: { parameters: ["pointer", "buffer", "buffer"], result: "void" },
  // wasmtime_error_t *wasmtime_global_set(wasmtime_context_t *, const wasmtime_global_t *,
  //                                       const wasmtime_val_t *val)
  wasmtime_global_set: { parameters: ["pointer", "buffer", "buffer"], result: "pointer" },

  // ---- WASI -------------------------------------------------------------------------------
  // wasi_config_t *wasi_config_new(void)
  wasi_config_new: { parameters: [], result: "pointer" },
  // void wasi_config_delete(wasi_config_t *)
  wasi_config_delete: { parameters: ["pointer"], result: "void" },
  // bool wasi_config_set_argv(wasi_config_t *, size_t argc, const char *argv[])
  wasi_config_set_argv: { parameters: ["pointer", "usize", "buffer"], result: "bool" },
  // bool wasi_config_set_env(wasi_config_t *, size_t envc, const char *names[],
  //                          const char *values[])
  wasi_config_set_env: {
    parameters: ["pointer", "usize", "buffer", "buffer"],
    result: "bool",
  },
  // void wasi_config_inherit_env(wasi_config_t *)
  wasi_config_inherit_env: { parameters: ["pointer"], result: "void" },
  // bool wasi_config_set_stdin_file(wasi_config_t *, const char *path)
  wasi_config_set_stdin_file: { parameters: ["pointer", "buffer"], result: "bool" },
  // void wasi_config_set_stdin_bytes(wasi_config_t *, wasm_byte_vec_t *binary)  (takes the vec)
  wasi_config_set_stdin_bytes: { parameters: ["pointer", "buffer"], result: "void" },
  // void wasi_config_inherit_stdin(wasi_config_t *)
  wasi_config_inherit_stdin: { parameters: ["pointer"], result: "void" },
  // bool wasi_config_set_stdout_file(wasi_config_t *, const char *path)
  wasi_config_set_stdout_file: { parameters: ["pointer", "buffer"], result: "bool" },
  // void wasi_config_inherit_stdout(wasi_config_t *)
  wasi_config_inherit_stdout: { parameters: ["pointer"], result: "void" },
  // bool wasi_config_set_stderr_file(wasi_config_t *, const char *path)
  wasi_config_set_stderr_file: { parameters: ["pointer", "buffer"], result: "bool" },
  // void wasi_config_inherit_stderr(wasi_config_t *)
  wasi_config_inherit_stderr: { parameters: ["pointer"], result: "void" },
  // bool wasi_config_preopen_dir(wasi_config_t *, const char *host_path,
  //                              const char *guest_path, bool fs_mutable)
  wasi_config_preopen_dir: {
    parameters: ["pointer", "buffer", "buffer", "bool"],
    result: "bool",
  },
  // ---- the component model (wasmtime/component/*.h) ----------------------------------------
  // wasmtime_error_t *wasmtime_component_new(const wasm_engine_t *, const uint8_t *buf,
  //                                          size_t len, wasmtime_component_t **out)
  wasmtime_component_new: {
    parameters: ["pointer", "buffer", "usize", "buffer"],
    result: "pointer",
  },
  // wasmtime_error_t *wasmtime_component_serialize(const wasmtime_component_t *,
  //                                                wasm_byte_vec_t *ret)
  wasmtime_component_serialize: { parameters: ["pointer", "buffer"], result: "pointer" },
  // wasmtime_error_t *wasmtime_component_deserialize(const wasm_engine_t *, const uint8_t *buf,
  //                                                  size_t len, wasmtime_component_t **out)
  wasmtime_component_deserialize: {
    parameters: ["pointer", "buffer", "usize", "buffer"],
    result: "pointer",
  },
  // void wasmtime_component_delete(wasmtime_component_t *)
  wasmtime_component_delete: { parameters: ["pointer"], result: "void" },
  // wasmtime_component_type_t *wasmtime_component_type(const wasmtime_component_t *)
  wasmtime_component_type: { parameters: ["pointer"], result: "pointer" },
  // void wasmtime_component_type_delete(wasmtime_component_type_t *)
  wasmtime_component_type_delete: { parameters: ["pointer"], result: "void" },
  // size_t wasmtime_component_type_import_count(const wasmtime_component_type_t *,
  //                                             const wasm_engine_t *)
  wasmtime_component_type_import_count: { parameters: ["pointer", "pointer"], result: "usize" },
  // bool wasmtime_component_type_import_nth(const wasmtime_component_type_t *,
  //   const wasm_engine_t *, size_t nth, const char **name, size_t *name_len,
  //   wasmtime_component_item_t *type_ret)
  wasmtime_component_type_import_nth: {
    parameters: ["pointer", "pointer", "usize", "buffer", "buffer", "buffer"],
    result: "bool",
  },
  // size_t wasmtime_component_type_export_count(const wasmtime_component_type_t *,
  //                                             const wasm_engine_t *)
  wasmtime_component_type_export_count: { parameters: ["pointer", "pointer"], result: "usize" },
  // bool wasmtime_component_type_export_nth(...)  (as import_nth)
  wasmtime_component_type_export_nth: {
    parameters: ["pointer", "pointer", "usize", "buffer", "buffer", "buffer"],
    result: "bool",
  },
  // void wasmtime_component_item_delete(wasmtime_component_item_t *)
  wasmtime_component_item_delete: { parameters: ["buffer"], result: "void" },
  // size_t wasmtime_component_instance_type_export_count(
  //   const wasmtime_component_instance_type_t *, const wasm_engine_t *)
  wasmtime_component_instance_type_export_count: {
    parameters: ["pointer", "pointer"],
    result: "usize",
  },
  // bool wasmtime_component_instance_type_export_nth(const wasmtime_component_instance_type_t *,
  //   const wasm_engine_t *, size_t nth, const char **name, size_t *name_len,
  //   wasmtime_component_item_t *type_ret)
  wasmtime_component_instance_type_export_nth: {
    parameters: ["pointer", "pointer", "usize", "buffer", "buffer", "buffer"],
    result: "bool",
  },
  // size_t wasmtime_component_func_type_param_count(const wasmtime_component_func_type_t *)
  wasmtime_component_func_type_param_count: { parameters: ["pointer"], result: "usize" },
  // bool wasmtime_component_func_type_param_nth(const wasmtime_component_func_type_t *,
  //   size_t nth, const char **name, size_t *name_len, wasmtime_component_valtype_t *type_ret)
  wasmtime_component_func_type_param_nth: {
    parameters: ["pointer", "usize", "buffer", "buffer", "buffer"],
    result: "bool",
  },
  // bool wasmtime_component_func_type_result(const wasmtime_component_func_type_t *,
  //                                          wasmtime_component_valtype_t *type_ret)
  wasmtime_component_func_type_result: { parameters: ["pointer", "buffer"], result: "bool" },
  // void wasmtime_component_valtype_delete(wasmtime_component_valtype_t *)
  wasmtime_component_valtype_delete: { parameters: ["buffer"], result: "void" },
  // void wasmtime_component_list_type_element(const wasmtime_component_list_type_t *,
  //                                           wasmtime_component_valtype_t *type_ret)
  wasmtime_component_list_type_element: { parameters: ["pointer", "buffer"], result: "void" },
  // size_t wasmtime_component_record_type_field_count(const wasmtime_component_record_type_t *)
  wasmtime_component_record_type_field_count: { parameters: ["pointer"], result: "usize" },
  // bool wasmtime_component_record_type_field_nth(const wasmtime_component_record_type_t *,
  //   size_t nth, const char **name, size_t *name_len, wasmtime_component_valtype_t *type_ret)
  wasmtime_component_record_type_field_nth: {
    parameters: ["pointer", "usize", "buffer", "buffer", "buffer"],
    result: "bool",
  },
  // size_t wasmtime_component_tuple_type_types_count(const wasmtime_component_tuple_type_t *)
  wasmtime_component_tuple_type_types_count: { parameters: ["pointer"], result: "usize" },
  // bool wasmtime_component_tuple_type_types_nth(const wasmtime_component_tuple_type_t *,
  //   size_t nth, wasmtime_component_valtype_t *type_ret)
  wasmtime_component_tuple_type_types_nth: {
    parameters: ["pointer", "usize", "buffer"],
    result: "bool",
  },
  // size_t wasmtime_component_variant_type_case_count(const wasmtime_component_variant_type_t *)
  wasmtime_component_variant_type_case_count: { parameters: ["pointer"], result: "usize" },
  // bool wasmtime_component_variant_type_case_nth(const wasmtime_component_variant_type_t *,
  //   size_t nth, const char **name, size_t *name_len, bool *has_payload,
  //   wasmtime_component_valtype_t *payload_ret)
  wasmtime_component_variant_type_case_nth: {
    parameters: ["pointer", "usize", "buffer", "buffer", "buffer", "buffer"],
    result: "bool",
  },
  // size_t wasmtime_component_enum_type_names_count(const wasmtime_component_enum_type_t *)
  wasmtime_component_enum_type_names_count: { parameters: ["pointer"], result: "usize" },
  // bool wasmtime_component_enum_type_names_nth(const wasmtime_component_enum_type_t *,
  //   size_t nth, const char **name, size_t *name_len)
  wasmtime_component_enum_type_names_nth: {
    parameters: ["pointer", "usize", "buffer", "buffer"],
    result: "bool",
  },
  // void wasmtime_component_option_type_ty(const wasmtime_component_option_type_t *,
  //                                        wasmtime_component_valtype_t *type_ret)
  wasmtime_component_option_type_ty: { parameters: ["pointer", "buffer"], result: "void" },
  // bool wasmtime_component_result_type_ok(const wasmtime_component_result_type_t *,
  //                                        wasmtime_component_valtype_t *type_ret)
  wasmtime_component_result_type_ok: { parameters: ["pointer", "buffer"], result: "bool" },
  // bool wasmtime_component_result_type_err(const wasmtime_component_result_type_t *,
  //                                         wasmtime_component_valtype_t *type_ret)
  wasmtime_component_result_type_err: { parameters: ["pointer", "buffer"], result: "bool" },
  // size_t wasmtime_component_flags_type_names_count(const wasmtime_component_flags_type_t *)
  wasmtime_component_flags_type_names_count: { parameters: ["pointer"], result: "usize" },
  // bool wasmtime_component_flags_type_names_nth(const wasmtime_component_flags_type_t *,
  //   size_t nth, const char **name, size_t *name_len)
  wasmtime_component_flags_type_names_nth: {
    parameters: ["pointer", "usize", "buffer", "buffer"],
    result: "bool",
  },
  // wasmtime_component_linker_t *wasmtime_component_linker_new(const wasm_engine_t *)
  wasmtime_component_linker_new: { parameters: ["pointer"], result: "pointer" },
  // void wasmtime_component_linker_delete(wasmtime_component_linker_t *)
  wasmtime_component_linker_delete: { parameters: ["pointer"], result: "void" },
  // void wasmtime_component_linker_allow_shadowing(wasmtime_component_linker_t *, bool)
  wasmtime_component_linker_allow_shadowing: { parameters: ["pointer", "bool"], result: "void" },
  // wasmtime_component_linker_instance_t *wasmtime_component_linker_root(
  //   wasmtime_component_linker_t *)
  wasmtime_component_linker_root: { parameters: ["pointer"], result: "pointer" },
  // wasmtime_error_t *wasmtime_component_linker_instance_add_instance(
  //   wasmtime_component_linker_instance_t *, const char *name, size_t len,
  //   wasmtime_component_linker_instance_t **out)
  wasmtime_component_linker_instance_add_instance: {
    parameters: ["pointer", "buffer", "usize", "buffer"],
    result: "pointer",
  },
  // wasmtime_error_t *wasmtime_component_linker_instance_add_func(
  //   wasmtime_component_linker_instance_t *, const char *name, size_t len,
  //   wasmtime_component_func_callback_t cb, void *data, void (*finalizer)(void *))
  wasmtime_component_linker_instance_add_func: {
    parameters: ["pointer", "buffer", "usize", "function", "pointer", "function"],
    result: "pointer",
  },
  // void wasmtime_component_linker_instance_delete(wasmtime_component_linker_instance_t *)
  wasmtime_component_linker_instance_delete: { parameters: ["pointer"], result: "void" },
  // wasmtime_error_t *wasmtime_component_linker_instantiate(const wasmtime_component_linker_t *,
  //   wasmtime_context_t *, const wasmtime_component_t *, wasmtime_component_instance_t *out)
  wasmtime_component_linker_instantiate: {
    parameters: ["pointer", "pointer", "pointer", "buffer"],
    result: "pointer",
  },
  // wasmtime_error_t *wasmtime_component_linker_define_unknown_imports_as_traps(
  //   wasmtime_component_linker_t *, const wasmtime_component_t *)
  wasmtime_component_linker_define_unknown_imports_as_traps: {
    parameters: ["pointer", "pointer"],
    result: "pointer",
  },
  // wasmtime_component_export_index_t *wasmtime_component_instance_get_export_index(
  //   const wasmtime_component_instance_t *, wasmtime_context_t *,
  //   const wasmtime_component_export_index_t *parent, const char *name, size_t len)
  wasmtime_component_instance_get_export_index: {
    parameters: ["buffer", "pointer", "pointer", "buffer", "usize"],
    result: "pointer",
  },
  // bool wasmtime_component_instance_get_func(const wasmtime_component_instance_t *,
  //   wasmtime_context_t *, const wasmtime_component_export_index_t *,
  //   wasmtime_component_func_t *out)
  wasmtime_component_instance_get_func: {
    parameters: ["buffer", "pointer", "pointer", "buffer"],
    result: "bool",
  },
  // void wasmtime_component_export_index_delete(wasmtime_component_export_index_t *)
  wasmtime_component_export_index_delete: { parameters: ["pointer"], result: "void" },
  // wasmtime_error_t *wasmtime_component_func_call(const wasmtime_component_func_t *,
  //   wasmtime_context_t *, const wasmtime_component_val_t *args, size_t nargs,
  //   wasmtime_component_val_t *results, size_t nresults)
  wasmtime_component_func_call: {
    parameters: ["buffer", "pointer", "pointer", "usize", "pointer", "usize"],
    result: "pointer",
  },
  // void wasmtime_component_val_delete(wasmtime_component_val_t *)
  wasmtime_component_val_delete: { parameters: ["pointer"], result: "void" },
  // void wasmtime_component_val_clone(const wasmtime_component_val_t *src,
  //                                   wasmtime_component_val_t *dst)
  wasmtime_component_val_clone: { parameters: ["pointer", "pointer"], result: "void" },
  // ComponentCompileJob *wasmtime_deno_component_compile_new(const wasm_engine_t *,
  //   const uint8_t *wasm, size_t len)   (copies the bytes and clones the engine)
  wasmtime_deno_component_compile_new: {
    parameters: ["pointer", "buffer", "usize"],
    result: "pointer",
  },
  // void wasmtime_deno_component_compile_run(ComponentCompileJob *): on Deno's blocking pool
  wasmtime_deno_component_compile_run: {
    parameters: ["pointer"],
    result: "void",
    nonblocking: true,
  },
  // wasmtime_error_t *wasmtime_deno_component_compile_finish(ComponentCompileJob *,
  //   wasmtime_component_t **out)   (frees the job)
  wasmtime_deno_component_compile_finish: { parameters: ["pointer", "buffer"], result: "pointer" },
  // ComponentHostEnv *wasmtime_deno_component_host_env_new(
  //   wasmtime_error_t *(*cb)(const wasmtime_component_func_type_t *, wasmtime_component_val_t
  //   *args, uint32_t nargs, wasmtime_component_val_t *results, uint32_t nresults),
  //   uint32_t *done, uint64_t owner, uint64_t id)
  wasmtime_deno_component_host_env_new: {
    parameters: ["function", "buffer", "u64", "u64"],
    result: "pointer",
  },
  // Callee *wasmtime_deno_component_callee_new(const wasmtime_component_func_t *,
  //   wasmtime_context_t *)  (null if a type is not a scalar, string or list<u8>)
  wasmtime_deno_component_callee_new: { parameters: ["buffer", "pointer"], result: "pointer" },
  // void wasmtime_deno_component_callee_delete(Callee *)
  wasmtime_deno_component_callee_delete: { parameters: ["pointer"], result: "void" },
  // bool wasmtime_deno_component_call(ComponentCallFrame *frame)
  wasmtime_deno_component_call: { parameters: ["pointer"], result: "bool" },
  // wasmtime_component_func_callback_t wasmtime_deno_component_host_trampoline(void)
  wasmtime_deno_component_host_trampoline: { parameters: [], result: "function" },
  // void (*wasmtime_deno_component_host_env_finalizer(void))(void *)
  wasmtime_deno_component_host_env_finalizer: { parameters: [], result: "function" },
  // wasmtime_error_t *wasmtime_deno_component_linker_add_wasip2(wasmtime_component_linker_t *,
  //   bool asynchronous)
  wasmtime_deno_component_linker_add_wasip2: { parameters: ["pointer", "bool"], result: "pointer" },
  // Gate *wasmtime_deno_wasi_config_network(wasi_config_t *, bool tcp, bool udp, bool lookup)
  wasmtime_deno_wasi_config_network: {
    parameters: ["pointer", "bool", "bool", "bool"],
    result: "pointer",
  },
  // void wasmtime_deno_net_gate_free(Gate *)
  wasmtime_deno_net_gate_free: { parameters: ["pointer"], result: "void" },
  // void wasmtime_deno_net_attach(wasmtime_context_t *, Gate *) (takes the gate)
  wasmtime_deno_net_attach: { parameters: ["pointer", "pointer"], result: "void" },
  // void wasmtime_deno_net_detach(wasmtime_context_t *)
  wasmtime_deno_net_detach: { parameters: ["pointer"], result: "void" },
  // const Ask *wasmtime_deno_net_take(wasmtime_context_t *, uint64_t info[4])
  wasmtime_deno_net_take: { parameters: ["pointer", "buffer"], result: "pointer" },
  // void wasmtime_deno_net_answer(const Ask *, bool allowed) (consumes the question)
  wasmtime_deno_net_answer: { parameters: ["pointer", "bool"], result: "void" },
  // wasmtime_error_t *wasmtime_deno_component_linker_add_network(wasmtime_component_linker_t *,
  //   bool http)
  wasmtime_deno_component_linker_add_network: {
    parameters: ["pointer", "bool"],
    result: "pointer",
  },
  // wasmtime_call_future_t *wasmtime_deno_component_instantiate_async(
  //   const wasmtime_component_linker_t *, wasmtime_context_t *, const wasmtime_component_t *,
  //   wasmtime_component_instance_t *out, wasmtime_error_t **error_ret)
  wasmtime_deno_component_instantiate_async: {
    parameters: ["pointer", "pointer", "pointer", "buffer", "buffer"],
    result: "pointer",
  },
  // wasmtime_call_future_t *wasmtime_deno_wasip2_run_async(const wasmtime_component_func_t *,
  //   wasmtime_context_t *, uint32_t *status_out, wasmtime_error_t **error_ret)
  wasmtime_deno_wasip2_run_async: {
    parameters: ["buffer", "pointer", "buffer", "buffer"],
    result: "pointer",
  },
  // ---- component resources (val.h, types/resource.h, linker.h; native/src/component_resource.rs)
  // wasmtime_component_resource_type_t *wasmtime_component_resource_type_new_host(uint32_t ty)
  wasmtime_component_resource_type_new_host: { parameters: ["u32"], result: "pointer" },
  // bool wasmtime_component_resource_type_equal(const wasmtime_component_resource_type_t *,
  //   const wasmtime_component_resource_type_t *)
  wasmtime_component_resource_type_equal: { parameters: ["pointer", "pointer"], result: "bool" },
  // wasmtime_component_resource_type_t *wasmtime_component_resource_type_clone(
  //   const wasmtime_component_resource_type_t *)
  wasmtime_component_resource_type_clone: { parameters: ["pointer"], result: "pointer" },
  // void wasmtime_component_resource_type_delete(wasmtime_component_resource_type_t *)
  wasmtime_component_resource_type_delete: { parameters: ["pointer"], result: "void" },
  // wasmtime_component_resource_any_t *wasmtime_component_resource_any_clone(
  //   const wasmtime_component_resource_any_t *)
  wasmtime_component_resource_any_clone: { parameters: ["pointer"], result: "pointer" },
  // wasmtime_error_t *wasmtime_component_resource_any_drop(wasmtime_context_t *,
  //   const wasmtime_component_resource_any_t *)
  wasmtime_component_resource_any_drop: { parameters: ["pointer", "pointer"], result: "pointer" },
  // void wasmtime_component_resource_any_delete(wasmtime_component_resource_any_t *)
  wasmtime_component_resource_any_delete: { parameters: ["pointer"], result: "void" },
  // wasmtime_component_resource_host_t *wasmtime_component_resource_host_new(bool owned,
  //   uint32_t rep, uint32_t ty)
  wasmtime_component_resource_host_new: { parameters: ["bool", "u32", "u32"], result: "pointer" },
  // uint32_t wasmtime_component_resource_host_rep(const wasmtime_component_resource_host_t *)
  wasmtime_component_resource_host_rep: { parameters: ["pointer"], result: "u32" },
  // uint32_t wasmtime_component_resource_host_type(const wasmtime_component_resource_host_t *)
  wasmtime_component_resource_host_type: { parameters: ["pointer"], result: "u32" },
  // void wasmtime_component_resource_host_delete(wasmtime_component_resource_host_t *)
  wasmtime_component_resource_host_delete: { parameters: ["pointer"], result: "void" },
  // wasmtime_error_t *wasmtime_component_resource_any_to_host(wasmtime_context_t *,
  //   const wasmtime_component_resource_any_t *, wasmtime_component_resource_host_t **ret)
  wasmtime_component_resource_any_to_host: {
    parameters: ["pointer", "pointer", "buffer"],
    result: "pointer",
  },
  // wasmtime_error_t *wasmtime_component_resource_host_to_any(wasmtime_context_t *,
  //   const wasmtime_component_resource_host_t *, wasmtime_component_resource_any_t **ret)
  wasmtime_component_resource_host_to_any: {
    parameters: ["pointer", "pointer", "buffer"],
    result: "pointer",
  },
  // wasmtime_error_t *wasmtime_component_linker_instance_add_resource(
  //   wasmtime_component_linker_instance_t *, const char *name, size_t len,
  //   const wasmtime_component_resource_type_t *, wasmtime_component_resource_destructor_t,
  //   void *data, void (*finalizer)(void *))
  wasmtime_component_linker_instance_add_resource: {
    parameters: ["pointer", "buffer", "usize", "pointer", "function", "pointer", "function"],
    result: "pointer",
  },
  // void *wasmtime_deno_component_resource_data_new(uint64_t owner, uint32_t ty)
  wasmtime_deno_component_resource_data_new: { parameters: ["u64", "u32"], result: "pointer" },
  // wasmtime_component_resource_destructor_t wasmtime_deno_component_resource_destructor(void)
  wasmtime_deno_component_resource_destructor: { parameters: [], result: "function" },
  // void (*wasmtime_deno_component_resource_finalizer(void))(void *)
  wasmtime_deno_component_resource_finalizer: { parameters: [], result: "function" },
  // const uint32_t *wasmtime_deno_component_resource_drops(void)   (lives for the process)
  wasmtime_deno_component_resource_drops: { parameters: [], result: "pointer" },
  // size_t wasmtime_deno_component_resource_take_dropped(uint64_t owner, uint64_t *out,
  //   size_t capacity)   (three words per entry: store id, type, rep)
  wasmtime_deno_component_resource_take_dropped: {
    parameters: ["u64", "buffer", "usize"],
    result: "usize",
  },
  // wasmtime_context_t *wasmtime_deno_component_current_context(void)
  wasmtime_deno_component_current_context: { parameters: [], result: "pointer" },
  // wasmtime_error_t *wasmtime_deno_component_linker_instance_add_async_func(
  //   wasmtime_component_linker_instance_t *, const char *name, size_t len, uint64_t owner,
  //   uint64_t id)
  wasmtime_deno_component_linker_instance_add_async_func: {
    parameters: ["pointer", "buffer", "usize", "u64", "u64"],
    result: "pointer",
  },
  // wasmtime_call_future_t *wasmtime_deno_component_func_call_async(
  //   const wasmtime_component_func_t *, wasmtime_context_t *,
  //   const wasmtime_component_val_t *args, size_t nargs, wasmtime_component_val_t *results,
  //   size_t nresults, wasmtime_error_t **error_ret)
  wasmtime_deno_component_func_call_async: {
    parameters: ["buffer", "pointer", "pointer", "usize", "pointer", "usize", "buffer"],
    result: "pointer",
  },
} as const satisfies Deno.ForeignLibraryInterface;

/**
 * The JS side of a synchronous host function, `wasm_trap_t *(*)(void)`: the native trampoline
 * copies arguments into and results out of the function's scratch buffer and keeps the caller
 * in a thread-local, so nothing crosses the boundary per call but the returned trap. Success is
 * the `wasmtime_deno_host_ok()` pointer, not null: Deno returns null from a callback that
 * failed beyond JS's reach (stack exhausted, worker terminating), and the guest must trap then
 * rather than continue with stale results.
 */
export const HOST_CALLBACK = {
  parameters: [],
  result: "pointer",
} as const satisfies Deno.UnsafeCallbackDefinition;

/** A host function's JS body, callable from native code; `close()` it once Wasmtime dropped it. */
export type HostCallbackHandle = Deno.UnsafeCallback<typeof HOST_CALLBACK>;

/** Makes `body` callable from native code as a {@linkcode HOST_CALLBACK}. */
export function newHostCallback(body: () => Deno.PointerValue): HostCallbackHandle {
  return new Deno.UnsafeCallback(HOST_CALLBACK, body);
}

/**
 * The JS side of a component host function, called by the native trampoline
 * (native/src/component_host.rs): `(type, args, nargs, results, nresults) -> wasmtime_error_t *`
 * (null on success), counts as `u32` (a `usize` costs a BigInt per call). Wasmtime owns `args`
 * and `results`; results must be filled with values Wasmtime allocated
 * (`wasmtime_component_val_clone`). The body must set its done word last: without it the
 * trampoline traps the guest, whatever the callback returned.
 */
export const COMPONENT_HOST_CALLBACK = {
  parameters: ["pointer", "pointer", "u32", "pointer", "u32"],
  result: "pointer",
} as const satisfies Deno.UnsafeCallbackDefinition;

/** A component host function's JS body, callable from native code. */
export type ComponentHostCallbackHandle = Deno.UnsafeCallback<typeof COMPONENT_HOST_CALLBACK>;

/** The symbols of the opened library. */
export type Symbols = Deno.DynamicLibrary<typeof symbols>["symbols"];

let opened: Deno.DynamicLibrary<typeof symbols> | undefined;

/**
 * The opened library's symbols. Opens libwasmtime on first use, so importing the package
 * needs no permission.
 */
export function ffi(): Symbols {
  return (opened ??= openLibrary(symbols)).symbols;
}
