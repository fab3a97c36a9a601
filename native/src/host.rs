//! Synchronous host functions written in JS. Each is registered with [`host_trampoline`],
//! which refuses to enter JS on a Wasmtime fiber, copies arguments into a JS-owned scratch
//! buffer, calls the JS callback with no parameters (Deno's FFI cost grows with each one), and
//! copies results back.
//!
//! A call succeeded only if the callback returned [`wasmtime_deno_host_ok`] *and* its JS body
//! set the done word that follows the value slots in the scratch buffer. Deno returns null
//! from a callback whose JS side failed in a way JS could not catch (its stack exhausted), and
//! does not run the callback at all once its worker is terminating (the result is then
//! whatever the call left in the return register): in both cases the guest traps instead of
//! continuing with whatever the scratch buffer held.
use crate::dropped::push_dropped;
use crate::thread;
use std::ffi::c_void;
use wasmtime_c_api::wasmtime;
use wasmtime_c_api::{wasm_trap_t, wasmtime_caller_t, wasmtime_trap_new, wasmtime_trap_new_code};

/// `WASMTIME_TRAP_CODE_STACK_OVERFLOW` in wasmtime/trap.h.
const TRAP_STACK_OVERFLOW: u8 = 0;

type UncheckedCallback = extern "C" fn(
    *mut c_void,
    *mut wasmtime_caller_t,
    *mut wasmtime::ValRaw,
    usize,
) -> Option<Box<wasm_trap_t>>;

/// The JS side of a synchronous host function: returns [`wasmtime_deno_host_ok`] or a trap.
type JsHostCallback = extern "C" fn() -> *mut wasm_trap_t;

/// What a JS host callback returns on success. Its address is all that matters.
static HOST_OK: u8 = 0;

/// The pointer a JS host callback returns on success (anything else is a failure).
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_host_ok() -> *const c_void {
    (&raw const HOST_OK).cast()
}

/// Native state of one host function: the JS callback, its scratch buffer (JS-owned, alive
/// until this env's id is reported dropped; `slots` values, then the done word) and the ids
/// that name it.
pub struct HostEnv {
    callback: Option<JsHostCallback>,
    scratch: *mut wasmtime::ValRaw,
    slots: usize,
    owner: u64,
    id: u64,
}

impl HostEnv {
    /// The id JS registered this host function under.
    pub fn id(&self) -> u64 {
        self.id
    }
}

/// A trap with `message`.
pub fn trap(message: &str) -> Box<wasm_trap_t> {
    // SAFETY: a valid UTF-8 buffer of the given length.
    unsafe { wasmtime_trap_new(message.as_ptr(), message.len()) }
}

/// Allocates the environment of a host function (`callback` may be null for async ones).
/// `scratch` must hold `slots + 1` values (the last one is the done word) and outlive the env.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_host_env_new(
    callback: Option<JsHostCallback>,
    scratch: *mut wasmtime::ValRaw,
    slots: usize,
    owner: u64,
    id: u64,
) -> *mut HostEnv {
    Box::into_raw(Box::new(HostEnv {
        callback,
        scratch,
        slots,
        owner,
        id,
    }))
}

/// Frees a HostEnv (Wasmtime calls this exactly once) and queues its id as dropped.
pub extern "C" fn host_env_free(env: *mut c_void) {
    // SAFETY: made by host_env_new; Wasmtime calls the finalizer exactly once.
    let env = unsafe { Box::from_raw(env.cast::<HostEnv>()) };
    push_dropped(env.owner, env.id);
}

extern "C" fn host_trampoline(
    env: *mut c_void,
    caller: *mut wasmtime_caller_t,
    values: *mut wasmtime::ValRaw,
    count: usize,
) -> Option<Box<wasm_trap_t>> {
    if thread::on_fiber() {
        return Some(trap(
            "a synchronous JS host function was called while the guest runs as a call future \
             (callAsync, or any call into a store with WASI linked by defineWasi({ async: true })), \
             where JS cannot run; define it with Linker.defineAsyncFunc and call with callAsync, \
             or link WASI with defineWasi() (synchronous)",
        ));
    }
    if !thread::js_stack_left() {
        // Deep wasm recursion (or a call made from deep JS) left too little stack to enter JS:
        // this is the guest's stack overflow, reported as one.
        // SAFETY: a valid trap code (Wasmtime's StackOverflow).
        return Some(unsafe { wasmtime_trap_new_code(TRAP_STACK_OVERFLOW) });
    }
    // SAFETY: env is a live HostEnv (Wasmtime frees it only after the function is gone).
    let env = unsafe { &*env.cast::<HostEnv>() };
    let Some(callback) = env.callback else {
        return Some(trap("host function has no callback"));
    };
    let count = count.min(env.slots);
    // SAFETY: Wasmtime passes `count` slots; the scratch buffer holds `env.slots`. A nested
    // call of the same function overwrites the scratch only while the outer JS body runs, after
    // it has read its arguments and before it writes its results.
    unsafe { std::ptr::copy_nonoverlapping(values, env.scratch, count) };
    // SAFETY: the done word follows the `slots` values in the scratch buffer.
    let done = unsafe { env.scratch.add(env.slots).cast::<u32>() };
    // SAFETY: as above; JS writes 1 here at the end of a successful call.
    unsafe { done.write_volatile(0) };
    let previous = thread::replace_caller(caller.cast());
    let result = callback();
    thread::replace_caller(previous);
    // SAFETY: as above. Reset, so that an outer call of the same function cannot see an inner
    // call's mark.
    let finished = unsafe { done.read_volatile() } == 1;
    unsafe { done.write_volatile(0) };
    if finished && result.cast_const().cast::<c_void>() == wasmtime_deno_host_ok() {
        // SAFETY: as above, in the other direction.
        unsafe { std::ptr::copy_nonoverlapping(env.scratch, values, count) };
        return None;
    }
    if !finished
        || result.is_null()
        || result.cast_const().cast::<c_void>() == wasmtime_deno_host_ok()
    {
        return Some(trap(
            "host function failed in JS without a catchable exception (the JS stack was \
             exhausted, or the worker is terminating)",
        ));
    }
    // SAFETY: a finished call that did not succeed returned a trap made with wasmtime_trap_new.
    Some(unsafe { Box::from_raw(result) })
}

/// The trampoline to pass as `wasmtime_func_unchecked_callback_t` with a HostEnv as data.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_host_trampoline() -> UncheckedCallback {
    host_trampoline
}

/// The finalizer to pass with a HostEnv: frees it and queues its id as dropped.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_host_env_finalizer() -> extern "C" fn(*mut c_void) {
    host_env_free
}
