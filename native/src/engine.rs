//! Engine creation and precompilation. `wasm_engine_new_with_config` aborts the process when
//! Wasmtime rejects a configuration, so engines are made by a variant that returns the error
//! instead. The C API serializes only modules it has loaded, and a module can only be loaded
//! for the host, so compiling for another target (`Config::target`) needs
//! `Engine::precompile_module`, which the C API lacks.
use wasmtime_c_api::wasmtime;
use wasmtime_c_api::{wasm_byte_vec_t, wasm_config_t, wasm_engine_t, wasmtime_error_t};

/// Like `wasm_engine_new_with_config` (and like it, takes ownership of `config`), but reports a
/// configuration Wasmtime rejects as an error instead of aborting the process.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_engine_new(
    config: Box<wasm_config_t>,
    engine_out: &mut *mut wasm_engine_t,
) -> Option<Box<wasmtime_error_t>> {
    // SAFETY: wasm_config_t is #[repr(C)] with a `wasmtime::Config` as its only field, so the
    // two have the same layout and the allocation can be reinterpreted.
    let config: Box<wasmtime::Config> = unsafe { Box::from_raw(Box::into_raw(config).cast()) };
    match wasmtime::Engine::new(&config) {
        Ok(engine) => {
            // SAFETY: likewise, wasm_engine_t is #[repr(C)] around a single `wasmtime::Engine`,
            // so wasm_engine_delete frees this allocation correctly.
            *engine_out = Box::into_raw(Box::new(engine)).cast();
            None
        }
        Err(error) => Some(Box::new(wasmtime_error_t::from(error))),
    }
}

/// Compiles the wasm binary `wasm[..len]` for `engine`'s target and stores the serialized code in
/// `out` (which the caller frees with `wasm_byte_vec_delete`), as `Module::serialize` of the
/// compiled module would, but without loading it: this works for an engine configured for another
/// target, whose code cannot be loaded on this host.
///
/// # Safety
///
/// `wasm` must point to `len` readable bytes (or `len` be 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_engine_precompile(
    engine: &wasm_engine_t,
    wasm: *const u8,
    len: usize,
    out: &mut wasm_byte_vec_t,
) -> Option<Box<wasmtime_error_t>> {
    // SAFETY: wasm_engine_t is #[repr(C)] around a single `wasmtime::Engine` (see above).
    let engine: &wasmtime::Engine = unsafe { &*(engine as *const wasm_engine_t).cast() };
    let bytes: &[u8] = if len == 0 {
        &[]
    } else {
        // SAFETY: the caller passes `len` readable bytes.
        unsafe { std::slice::from_raw_parts(wasm, len) }
    };
    match engine.precompile_module(bytes) {
        Ok(code) => {
            out.set_buffer(code);
            None
        }
        Err(error) => Some(Box::new(wasmtime_error_t::from(error))),
    }
}
