//! Component compilation off the JS thread, for `Component.compile`: the same rules as
//! [`crate::compile`] for modules. The pool thread touches only what the job owns (a copy of
//! the bytes, a clone of the engine, the result), never JS memory, which its owner may change,
//! transfer or (in a terminated Worker) free meanwhile.
use wasmtime_c_api::{
    wasm_engine_t, wasmtime_component_new, wasmtime_component_t, wasmtime_engine_clone,
    wasmtime_error_t,
};

/// One compile: its inputs, then its outcome.
pub struct ComponentCompileJob {
    engine: Box<wasm_engine_t>,
    wasm: Vec<u8>,
    component: *mut wasmtime_component_t,
    error: Option<Box<wasmtime_error_t>>,
}

/// Starts a job that compiles a copy of `wasm[..len]` with a clone of `engine`. Call
/// `wasmtime_deno_component_compile_run`, then `wasmtime_deno_component_compile_finish`.
///
/// # Safety
///
/// `wasm` must point to `len` readable bytes (or `len` be 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_component_compile_new(
    engine: &wasm_engine_t,
    wasm: *const u8,
    len: usize,
) -> *mut ComponentCompileJob {
    let wasm = if len == 0 {
        Vec::new()
    } else {
        // SAFETY: the caller passes `len` readable bytes.
        unsafe { std::slice::from_raw_parts(wasm, len) }.to_vec()
    };
    Box::into_raw(Box::new(ComponentCompileJob {
        engine: wasmtime_engine_clone(engine),
        wasm,
        component: std::ptr::null_mut(),
        error: None,
    }))
}

/// Compiles the job's component (on any thread; meant for Deno's blocking pool).
///
/// # Safety
///
/// `job` comes from `wasmtime_deno_component_compile_new`, is run once and not finished yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_component_compile_run(job: *mut ComponentCompileJob) {
    // SAFETY: the caller owns the job and touches it only after this returns.
    let job = unsafe { &mut *job };
    // SAFETY: the bytes are the job's own vector.
    job.error = unsafe {
        wasmtime_component_new(
            &job.engine,
            job.wasm.as_ptr(),
            job.wasm.len(),
            &mut job.component,
        )
    };
    job.wasm = Vec::new();
}

/// Frees `job` and hands over its outcome: the compile error, or null and the component in
/// `component_out` (which the caller then owns).
///
/// # Safety
///
/// `job` comes from `wasmtime_deno_component_compile_new` and has been run; it is invalid
/// afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_component_compile_finish(
    job: *mut ComponentCompileJob,
    component_out: &mut *mut wasmtime_component_t,
) -> Option<Box<wasmtime_error_t>> {
    // SAFETY: the caller gives the job back exactly once.
    let job = unsafe { *Box::from_raw(job) };
    *component_out = job.component;
    job.error
}
