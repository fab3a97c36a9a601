//! Compilation off the JS thread. `Module.compile` runs the compile on Deno's blocking thread
//! pool (a `nonblocking` FFI call), so the event loop keeps running meanwhile. Everything that
//! pool thread touches is native and owned by the job: a copy of the wasm bytes, a clone of the
//! engine, and the result. Handing the pool thread JS buffers instead would let it read the wasm
//! and write the module pointer into JS memory that its owner may change, transfer or, when a
//! Worker is terminated mid-compile, free.
use wasmtime_c_api::{
    wasm_engine_t, wasmtime_engine_clone, wasmtime_error_t, wasmtime_module_new,
    wasmtime_module_t,
};

/// One compile: its inputs, then its outcome.
pub struct CompileJob {
    engine: Box<wasm_engine_t>,
    wasm: Vec<u8>,
    module: *mut wasmtime_module_t,
    error: Option<Box<wasmtime_error_t>>,
}

/// Starts a job that compiles a copy of `wasm[..len]` with a clone of `engine` (so neither the
/// bytes nor the engine may be freed or changed under it). Call `wasmtime_deno_compile_run`,
/// then `wasmtime_deno_compile_finish`, which frees the job.
///
/// # Safety
///
/// `wasm` must point to `len` readable bytes (or `len` be 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_compile_new(
    engine: &wasm_engine_t,
    wasm: *const u8,
    len: usize,
) -> *mut CompileJob {
    let wasm = if len == 0 {
        Vec::new()
    } else {
        // SAFETY: the caller passes `len` readable bytes.
        unsafe { std::slice::from_raw_parts(wasm, len) }.to_vec()
    };
    Box::into_raw(Box::new(CompileJob {
        engine: wasmtime_engine_clone(engine),
        wasm,
        module: std::ptr::null_mut(),
        error: None,
    }))
}

/// Compiles the job's module (on any thread; meant for Deno's blocking pool).
///
/// # Safety
///
/// `job` comes from `wasmtime_deno_compile_new`, is run once and not finished yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_compile_run(job: *mut CompileJob) {
    // SAFETY: the caller owns the job and touches it only after this returns.
    let job = unsafe { &mut *job };
    // SAFETY: the bytes are the job's own vector.
    job.error = unsafe {
        wasmtime_module_new(&job.engine, job.wasm.as_ptr(), job.wasm.len(), &mut job.module)
    };
    // The copy is no longer needed; free it now rather than when JS gets to finish the job.
    job.wasm = Vec::new();
}

/// Frees `job` and hands over its outcome: the compile error, or null and the module in
/// `module_out` (which the caller then owns).
///
/// # Safety
///
/// `job` comes from `wasmtime_deno_compile_new` and has been run; it is invalid afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_compile_finish(
    job: *mut CompileJob,
    module_out: &mut *mut wasmtime_module_t,
) -> Option<Box<wasmtime_error_t>> {
    // SAFETY: the caller gives the job back exactly once.
    let job = unsafe { *Box::from_raw(job) };
    *module_out = job.module;
    job.error
}
