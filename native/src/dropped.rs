//! Ids of JS objects (externref values, host functions) that Wasmtime has dropped. Wasmtime
//! drops them wherever it collects (including on an async fiber, where running JS aborts V8),
//! so the drop only queues the id, and JS collects the queue later on its own stack.
use std::collections::HashMap;
use std::sync::Mutex;

/// Dropped ids per owner (one owner per JS realm and kind: every worker that opens this
/// library shares its globals).
static DROPPED: Mutex<Option<HashMap<u64, Vec<u64>>>> = Mutex::new(None);

/// Queues `id` of `owner` as dropped.
pub fn push_dropped(owner: u64, id: u64) {
    let mut dropped = DROPPED.lock().unwrap_or_else(|e| e.into_inner());
    dropped
        .get_or_insert_with(HashMap::new)
        .entry(owner)
        .or_default()
        .push(id);
}

/// Moves up to `capacity` dropped ids of `owner` into `out`; returns how many were written.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_take_dropped(
    owner: u64,
    out: *mut u64,
    capacity: usize,
) -> usize {
    let mut dropped = DROPPED.lock().unwrap_or_else(|e| e.into_inner());
    let Some(ids) = dropped.as_mut().and_then(|map| map.get_mut(&owner)) else {
        return 0;
    };
    let count = ids.len().min(capacity);
    for (i, id) in ids.drain(ids.len() - count..).enumerate() {
        // SAFETY: the caller provides room for `capacity` ids.
        unsafe { out.add(i).write(id) };
    }
    count
}
