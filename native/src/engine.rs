//! Engine creation. `wasm_engine_new_with_config` aborts the process when Wasmtime rejects a
//! configuration, so engines are made by a variant that returns the error instead.
use wasmtime_c_api::wasmtime;
use wasmtime_c_api::{wasm_config_t, wasm_engine_t, wasmtime_error_t};

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
