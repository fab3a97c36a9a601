//! externref values that stand for JS objects. The host data of each is the pair (owner, id);
//! the JS side keeps the object in a table under that id until Wasmtime drops the reference.
use crate::dropped::push_dropped;
use std::ffi::c_void;
use wasmtime_c_api::{
    wasmtime_externref_data, wasmtime_externref_new, wasmtime_externref_t, WasmtimeStoreContextMut,
};

struct ExternrefId {
    owner: u64,
    id: u64,
}

extern "C" fn externref_finalize(data: *mut c_void) {
    // SAFETY: data is the Box made in wasmtime_deno_externref_new, finalized exactly once.
    let entry = unsafe { Box::from_raw(data.cast::<ExternrefId>()) };
    push_dropped(entry.owner, entry.id);
}

/// Creates an externref whose host data is the pair (`owner`, `id`). When Wasmtime drops it,
/// `id` is queued for `wasmtime_deno_take_dropped(owner, ...)`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_externref_new(
    context: WasmtimeStoreContextMut<'_>,
    owner: u64,
    id: u64,
    out: &mut std::mem::MaybeUninit<wasmtime_externref_t>,
) -> bool {
    let data = Box::into_raw(Box::new(ExternrefId { owner, id })).cast::<c_void>();
    // On failure Wasmtime drops `data` through the finalizer, which queues `id` as dropped.
    wasmtime_externref_new(context, data, Some(externref_finalize), out)
}

/// Reads the id of an externref made by `wasmtime_deno_externref_new`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_externref_id(
    context: WasmtimeStoreContextMut<'_>,
    externref: &wasmtime_externref_t,
) -> u64 {
    // SAFETY: `externref` is a valid, rooted externref of this store.
    let data = unsafe { wasmtime_externref_data(context, Some(externref)) };
    if data.is_null() {
        return 0;
    }
    // SAFETY: every externref this binding makes carries an ExternrefId.
    unsafe { (*data.cast::<ExternrefId>()).id }
}
