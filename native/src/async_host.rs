//! Async host functions. During `callAsync` the guest runs on a Wasmtime fiber, where JS must
//! not run, so an async host function only records the call here; `callAsync` takes it between
//! polls, performs it on the main stack (awaiting its Promise), and completes it before the next
//! poll.
use crate::host::{host_env_free, wasmtime_deno_host_env_new, HostEnv};
use crate::thread;
use std::ffi::c_void;
use wasmtime_c_api::{
    wasm_functype_t, wasm_trap_t, wasmtime_async_continuation_t, wasmtime_caller_t,
    wasmtime_error_t, wasmtime_linker_define_async_func, wasmtime_linker_t, wasmtime_val_t,
};

/// A host call of an async host function, waiting for JS to perform it.
pub struct AsyncCall {
    id: u64,
    caller: *mut c_void,
    args: *const wasmtime_val_t,
    nargs: usize,
    results: *mut wasmtime_val_t,
    nresults: usize,
    trap_ret: *mut Option<Box<wasm_trap_t>>,
    done: bool,
}

extern "C" fn async_call_poll(env: *mut c_void) -> bool {
    // SAFETY: env is the AsyncCall owned by this continuation.
    unsafe { (*env.cast::<AsyncCall>()).done }
}

extern "C" fn async_call_free(env: *mut c_void) {
    let call = env.cast::<AsyncCall>();
    thread::forget_pending(call);
    // SAFETY: made in async_host_callback, freed once by the continuation's finalizer.
    drop(unsafe { Box::from_raw(call) });
}

extern "C" fn async_host_callback(
    env: *mut c_void,
    caller: *mut wasmtime_caller_t,
    args: *const wasmtime_val_t,
    nargs: usize,
    results: *mut wasmtime_val_t,
    nresults: usize,
    trap_ret: &mut Option<Box<wasm_trap_t>>,
    continuation: &mut wasmtime_async_continuation_t,
) {
    // SAFETY: env is a live HostEnv.
    let id = unsafe { (*env.cast::<HostEnv>()).id() };
    let call = Box::into_raw(Box::new(AsyncCall {
        id,
        caller: caller.cast(),
        args,
        nargs,
        results,
        nresults,
        trap_ret,
        done: false,
    }));
    thread::set_pending(call);
    continuation.callback = async_call_poll;
    continuation.env = call.cast();
    continuation.finalizer = Some(async_call_free);
}

/// Defines an async host function: calls are recorded for `wasmtime_deno_async_take_pending`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_linker_define_async_func(
    linker: &mut wasmtime_linker_t,
    module: *const u8,
    module_len: usize,
    name: *const u8,
    name_len: usize,
    ty: &wasm_functype_t,
    owner: u64,
    id: u64,
) -> Option<Box<wasmtime_error_t>> {
    let env = wasmtime_deno_host_env_new(None, std::ptr::null_mut(), 0, owner, id);
    // SAFETY: forwards valid arguments; the finalizer frees `env`.
    unsafe {
        wasmtime_linker_define_async_func(
            linker,
            module,
            module_len,
            name,
            name_len,
            ty,
            async_host_callback,
            env.cast(),
            Some(host_env_free),
        )
    }
}

/// Records a host call made from a future other than the C API's (the component host functions
/// of `component_async`): it waits for JS exactly like a core async host call, and is finished
/// with `wasmtime_deno_async_finish`. `caller` is whatever JS needs to perform the call (there:
/// the function's type). Free it with [`release`] once [`is_done`] or when the call is dropped.
#[allow(clippy::too_many_arguments)]
pub(crate) fn record(
    id: u64,
    caller: *mut c_void,
    args: *const c_void,
    nargs: usize,
    results: *mut c_void,
    nresults: usize,
    trap_ret: *mut Option<Box<wasm_trap_t>>,
) -> *mut AsyncCall {
    let call = Box::into_raw(Box::new(AsyncCall {
        id,
        caller,
        args: args.cast(),
        nargs,
        results: results.cast(),
        nresults,
        trap_ret,
        done: false,
    }));
    thread::set_pending(call);
    call
}

/// True once JS finished a call made by [`record`].
pub(crate) fn is_done(call: *mut AsyncCall) -> bool {
    async_call_poll(call.cast())
}

/// Frees a call made by [`record`] (forgetting it if JS has not taken it yet).
pub(crate) fn release(call: *mut AsyncCall) {
    async_call_free(call.cast());
}

/// Takes the host call recorded during the last poll, writing
/// `[id, caller, args, nargs, results, nresults]` into `info`; null if there is none.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_async_take_pending(info: *mut u64) -> *mut AsyncCall {
    let call = thread::take_pending();
    if !call.is_null() {
        // SAFETY: `call` is alive until its continuation is dropped; info has 6 slots.
        unsafe {
            let c = &*call;
            let fields = [
                c.id,
                c.caller as u64,
                c.args as u64,
                c.nargs as u64,
                c.results as u64,
                c.nresults as u64,
            ];
            std::ptr::copy_nonoverlapping(fields.as_ptr(), info, fields.len());
        }
    }
    call
}

/// Completes a pending host call; `trap` (owned, may be null) fails the call with it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_async_finish(call: *mut AsyncCall, trap: *mut wasm_trap_t) {
    // SAFETY: the caller passes a call taken from take_pending whose future is still alive.
    unsafe {
        if !trap.is_null() {
            *(*call).trap_ret = Some(Box::from_raw(trap));
        }
        (*call).done = true;
    }
}
