//! Host-defined component resources (JS classes registered with `ComponentLinker.defineResource`)
//! and the queue of the ones the guest dropped. Wasmtime calls a resource's destructor wherever
//! the guest drops its last own handle: inside a guest call, on a fiber, or in a destructor run
//! by another drop, where entering JS is unsafe (V8 aborts on a fiber) or re-enters the store.
//! So the destructor only queues `(store, type, rep)` and bumps a word JS reads without an FFI
//! call after each component call; JS then drains the queue on its own stack and calls the
//! object's `[Symbol.dispose]`.
//!
//! The context of the component host function running on this thread is kept in
//! [`crate::thread`] by the trampoline: converting a resource handle from or to a host rep
//! needs the store's context, and the JS callback does not receive one.
use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use wasmtime_c_api::wasmtime::AsContext;
use wasmtime_c_api::{wasmtime_context_get_data, wasmtime_error_t, WasmtimeStoreContextMut};

/// One dropped host resource: the store's data word (its id), the resource type, its rep.
type Drop = [u64; 3];

/// Dropped host resources per owner (one owner per JS realm: every worker that opens this
/// library shares its globals).
static DROPPED: Mutex<Option<HashMap<u64, Vec<Drop>>>> = Mutex::new(None);

/// Bumped on every queued drop; JS compares it with the value it last saw (a plain load of a
/// static that lives as long as the process).
static DROPS: AtomicU32 = AtomicU32::new(0);

/// The destructor's data: who queues and which resource type.
struct ResourceData {
    owner: u64,
    ty: u32,
}

/// Allocates the data of a host resource type `ty` of `owner`, to pass to
/// `wasmtime_component_linker_instance_add_resource` with [`wasmtime_deno_component_resource_destructor`]
/// and [`wasmtime_deno_component_resource_finalizer`].
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_component_resource_data_new(owner: u64, ty: u32) -> *mut c_void {
    Box::into_raw(Box::new(ResourceData { owner, ty })).cast()
}

extern "C" fn resource_data_free(data: *mut c_void) {
    // SAFETY: made by wasmtime_deno_component_resource_data_new; Wasmtime calls the finalizer
    // exactly once.
    drop(unsafe { Box::from_raw(data.cast::<ResourceData>()) });
}

extern "C" fn resource_destructor(
    data: *mut c_void,
    context: WasmtimeStoreContextMut<'_>,
    rep: u32,
) -> Option<Box<wasmtime_error_t>> {
    // SAFETY: data lives until the finalizer runs, after the last destructor call.
    let data = unsafe { &*data.cast::<ResourceData>() };
    let store = wasmtime_context_get_data(context.as_context()) as u64;
    let mut dropped = DROPPED.lock().unwrap_or_else(|e| e.into_inner());
    dropped
        .get_or_insert_with(HashMap::new)
        .entry(data.owner)
        .or_default()
        .push([store, u64::from(data.ty), u64::from(rep)]);
    DROPS.fetch_add(1, Ordering::Release);
    None
}

/// The destructor to register with a host resource type (it only queues the drop).
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_component_resource_destructor() -> *const c_void {
    resource_destructor as *const c_void
}

/// The finalizer of the destructor's data.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_component_resource_finalizer() -> extern "C" fn(*mut c_void) {
    resource_data_free
}

/// The address of the drop counter (a `u32` that lives as long as the process).
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_component_resource_drops() -> *const u32 {
    DROPS.as_ptr()
}

/// Moves up to `capacity` dropped resources of `owner` into `out` (three `u64` each: store id,
/// type, rep), oldest first; returns how many were written.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_component_resource_take_dropped(
    owner: u64,
    out: *mut u64,
    capacity: usize,
) -> usize {
    let mut dropped = DROPPED.lock().unwrap_or_else(|e| e.into_inner());
    let Some(queue) = dropped.as_mut().and_then(|map| map.get_mut(&owner)) else {
        return 0;
    };
    let count = queue.len().min(capacity);
    for (i, entry) in queue.drain(..count).enumerate() {
        for (j, word) in entry.into_iter().enumerate() {
            // SAFETY: the caller provides room for `capacity` entries of three words.
            unsafe { out.add(i * 3 + j).write(word) };
        }
    }
    count
}

/// The store context of the component host function running on this thread (null if none).
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_component_current_context() -> *mut c_void {
    crate::thread::component_context()
}
