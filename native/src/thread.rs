//! What this thread is doing, for code that Wasmtime calls back into. JS must only run on the
//! thread's main stack (running it on a Wasmtime fiber aborts V8), so the trampolines need to
//! know whether a call future is being polled; a synchronous host function needs its caller;
//! an async host call waits here for JS to take it. All thread-local state lives in this module.
use crate::async_host::AsyncCall;
use std::cell::Cell;
use wasmtime_c_api::wasmtime_caller_t;

thread_local! {
    /// How many call futures this thread is polling (the guest then runs on a fiber).
    static FIBER_DEPTH: Cell<u32> = const { Cell::new(0) };
    /// The async host call recorded during the current poll, waiting for JS.
    static PENDING: Cell<*mut AsyncCall> = const { Cell::new(std::ptr::null_mut()) };
    /// The caller of the synchronous host function running on this thread.
    static CURRENT_CALLER: Cell<*mut wasmtime_caller_t<'static>> =
        const { Cell::new(std::ptr::null_mut()) };
    /// The lowest stack address JS reached on this thread (0: not measured): V8 aborts the
    /// process when JS is entered below its stack region, which deep wasm frames can reach.
    static JS_STACK_FLOOR: Cell<usize> = const { Cell::new(0) };
    /// The store context of the component host function running on this thread.
    static COMPONENT_CONTEXT: Cell<*mut std::ffi::c_void> =
        const { Cell::new(std::ptr::null_mut()) };
}

/// Stack that a JS host function needs above V8's floor (its own frames and V8's entry).
const JS_STACK_MARGIN: usize = 96 << 10;

/// An address in the current stack frame (the stack grows down on every supported target).
#[inline(never)]
pub fn stack_here() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// True if JS may be entered here: the stack left above V8's floor is large enough. Inlined
/// into the host trampoline, so the address of a local of the trampoline's frame is the probe
/// (no call per host call).
#[inline(always)]
pub fn js_stack_left() -> bool {
    let floor = JS_STACK_FLOOR.with(|f| f.get());
    let marker = 0u8;
    let here = std::hint::black_box(&marker) as *const u8 as usize;
    floor == 0 || here > floor.saturating_add(JS_STACK_MARGIN)
}

/// An address in the caller's stack frame; JS records the lowest one it reaches.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_stack_here() -> usize {
    stack_here()
}

/// Records the lowest stack address JS reached on this thread (see `JS_STACK_FLOOR`).
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_set_js_stack_floor(floor: usize) {
    JS_STACK_FLOOR.with(|f| f.set(floor));
}

/// True while a call future is being polled on this thread.
pub fn on_fiber() -> bool {
    FIBER_DEPTH.with(|d| d.get()) > 0
}

/// Runs `poll` marked as polling a call future.
pub fn polling<R>(poll: impl FnOnce() -> R) -> R {
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            FIBER_DEPTH.with(|d| d.set(d.get() - 1));
        }
    }
    FIBER_DEPTH.with(|d| d.set(d.get() + 1));
    let _leave = Leave;
    poll()
}

/// Records the async host call made during the current poll.
pub fn set_pending(call: *mut AsyncCall) {
    PENDING.with(|p| p.set(call));
}

/// Takes the recorded async host call (null if none).
pub fn take_pending() -> *mut AsyncCall {
    PENDING.with(|p| p.replace(std::ptr::null_mut()))
}

/// Forgets `call` if it is still recorded (it is being freed).
pub fn forget_pending(call: *mut AsyncCall) {
    PENDING.with(|p| {
        if p.get() == call {
            p.set(std::ptr::null_mut());
        }
    });
}

/// Makes `caller` the current caller and returns the previous one.
pub fn replace_caller(caller: *mut wasmtime_caller_t<'static>) -> *mut wasmtime_caller_t<'static> {
    CURRENT_CALLER.with(|c| c.replace(caller))
}

/// The caller of the synchronous host function running on this thread (null if none).
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_current_caller() -> *mut std::ffi::c_void {
    CURRENT_CALLER.with(|c| c.get()).cast()
}

/// Makes `context` the current component host call's context and returns the previous one.
pub fn replace_component_context(context: *mut std::ffi::c_void) -> *mut std::ffi::c_void {
    COMPONENT_CONTEXT.with(|c| c.replace(context))
}

/// The store context of the component host function running on this thread (null if none).
pub fn component_context() -> *mut std::ffi::c_void {
    COMPONENT_CONTEXT.with(|c| c.get())
}
