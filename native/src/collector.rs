//! The garbage collector of an engine's GC heaps. The C API has no setter for
//! `Config::collector`.
use wasmtime_c_api::wasm_config_t;
use wasmtime_c_api::wasmtime;

/// Sets `config`'s collector: 0 Wasmtime's choice (DRC in this build), 1 deferred reference
/// counting, 2 the null collector (never collects; allocation traps once the heap is full).
/// Returns false for another code.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_config_collector_set(config: &mut wasm_config_t, collector: u8) -> bool {
    // SAFETY: wasm_config_t is #[repr(C)] with a `wasmtime::Config` as its only field (see
    // engine.rs), so the reference can be reinterpreted.
    let config: &mut wasmtime::Config = unsafe { &mut *(config as *mut wasm_config_t).cast() };
    let collector = match collector {
        0 => wasmtime::Collector::Auto,
        1 => wasmtime::Collector::DeferredReferenceCounting,
        2 => wasmtime::Collector::Null,
        _ => return false,
    };
    config.collector(collector);
    true
}
