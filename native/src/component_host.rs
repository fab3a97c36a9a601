//! Component host functions written in JS. Each is registered with [`component_host_trampoline`]
//! rather than as a bare `Deno.UnsafeCallback`, because what Deno's callback returns cannot be
//! trusted on its own: it is null (the C API's "success") when the JS side failed in a way JS
//! could not catch (its stack exhausted), and in a terminating worker the callback does not run
//! at all and the return register holds garbage, which Wasmtime would free as an error.
//!
//! The trampoline refuses to enter JS on a Wasmtime fiber or too close to V8's stack floor (the
//! same rules as [`crate::host`]), then calls the JS body. A call succeeded only if the body
//! also set its done word (a JS-owned `u32` that outlives the env): without it the guest traps,
//! whatever the callback returned.
use crate::dropped::push_dropped;
use crate::thread;
use std::ffi::c_void;
use wasmtime_c_api::wasmtime;
use wasmtime_c_api::{
    wasmtime_component_func_type_t, wasmtime_component_val_t, wasmtime_error_t,
    WasmtimeStoreContextMut,
};

/// The JS side of a component host function: the function's type, the arguments and the
/// result slots (counts as `u32`: a `usize` parameter costs Deno a BigInt per call). Returns
/// null on success or a `wasmtime_error_t` made by JS, and sets the done word either way.
type JsComponentCallback = extern "C" fn(
    *const wasmtime_component_func_type_t,
    *mut wasmtime_component_val_t,
    u32,
    *mut wasmtime_component_val_t,
    u32,
) -> *mut wasmtime_error_t;

/// Native state of one component host function.
pub struct ComponentHostEnv {
    callback: JsComponentCallback,
    /// JS-owned, alive until this env's id is reported dropped; JS writes 1 at the end of a
    /// call whose body ran to the end.
    done: *mut u32,
    owner: u64,
    id: u64,
}

/// Allocates the environment of a component host function, to be registered with
/// [`wasmtime_deno_component_host_env_finalizer`]; `done` must stay valid until the env's id is
/// reported dropped.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_component_host_env_new(
    callback: JsComponentCallback,
    done: *mut u32,
    owner: u64,
    id: u64,
) -> *mut ComponentHostEnv {
    Box::into_raw(Box::new(ComponentHostEnv {
        callback,
        done,
        owner,
        id,
    }))
}

extern "C" fn component_host_env_free(env: *mut c_void) {
    // SAFETY: made by component_host_env_new; Wasmtime calls the finalizer exactly once.
    let env = unsafe { Box::from_raw(env.cast::<ComponentHostEnv>()) };
    push_dropped(env.owner, env.id);
}

fn error(message: &str) -> Option<Box<wasmtime_error_t>> {
    Some(Box::new(wasmtime_error_t::from(wasmtime::Error::msg(
        message.to_owned(),
    ))))
}

extern "C" fn component_host_trampoline(
    env: *mut c_void,
    context: WasmtimeStoreContextMut<'_>,
    ty: &wasmtime_component_func_type_t,
    args: *mut wasmtime_component_val_t,
    nargs: usize,
    results: *mut wasmtime_component_val_t,
    nresults: usize,
) -> Option<Box<wasmtime_error_t>> {
    if thread::on_fiber() {
        return error(
            "a JS component host function was called while the guest runs as a call future \
             (an async call), where JS cannot run: instantiate the component with \
             ComponentLinker.instantiateAsync, whose host functions run between polls",
        );
    }
    if !thread::js_stack_left() {
        // Deep wasm recursion (or a call made from deep JS) left too little stack to enter JS:
        // this is the guest's stack overflow, reported as one.
        return Some(Box::new(wasmtime_error_t::from(wasmtime::Error::from(
            wasmtime::Trap::StackOverflow,
        ))));
    }
    let (Ok(nargs), Ok(nresults)) = (u32::try_from(nargs), u32::try_from(nresults)) else {
        return error("component host function: too many arguments or results");
    };
    // SAFETY: env is a live ComponentHostEnv (Wasmtime frees it only after the function is
    // gone), and its done word stays valid as long as the env.
    let env = unsafe { &*env.cast::<ComponentHostEnv>() };
    let done = env.done;
    // SAFETY: as above. Cleared first, so a stale mark (of an earlier or an inner call of the
    // same function) cannot pass for this call's.
    unsafe { done.write_volatile(0) };
    // Resources in the arguments or the result are converted with the store's context.
    // SAFETY: a StoreContextMut is a transparent `&mut` (what C calls `wasmtime_context_t *`).
    let context: *mut c_void = unsafe { std::mem::transmute(context) };
    let outer = thread::replace_component_context(context);
    let result = (env.callback)(ty, args, nargs, results, nresults);
    thread::replace_component_context(outer);
    // SAFETY: as above; reset so that an outer call of the same function sees only its own mark.
    let finished = unsafe { done.read_volatile() } == 1;
    unsafe { done.write_volatile(0) };
    if !finished {
        // Whatever `result` holds was not made by the JS body: never free it.
        return error(
            "component host function failed in JS without a catchable exception (the JS stack \
             was exhausted, or the worker is terminating)",
        );
    }
    if result.is_null() {
        None
    } else {
        // SAFETY: a body that ran to the end returned null or an error made by wasmtime_error_new.
        Some(unsafe { Box::from_raw(result) })
    }
}

/// The trampoline to pass as `wasmtime_component_func_callback_t` with a ComponentHostEnv.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_component_host_trampoline() -> *const c_void {
    component_host_trampoline as *const c_void
}

/// The finalizer to pass with a ComponentHostEnv: frees it and queues its id as dropped.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_component_host_env_finalizer() -> extern "C" fn(*mut c_void) {
    component_host_env_free
}
