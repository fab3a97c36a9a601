//! Handing native objects to other Workers. A Worker has its own JS heap, so an Engine, a
//! SharedMemory or a WASI output capture can only reach it as data; a raw pointer in a message
//! could be forged, replayed after the object was freed, or outlive it. Instead the sender puts a
//! clone of the object (a reference count, never the only one) here under a random 128-bit token
//! and posts the token; the receiver takes the clone out, once. An unknown, forged or replayed
//! token finds nothing and the taker reports a clean error. What a Worker took is its own
//! reference: a Worker dying mid-use frees only that reference, never memory others use.
use crate::capture::Capture;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use wasmtime_c_api::wasmtime;
use wasmtime_c_api::{wasm_byte_vec_t, wasm_engine_t};

/// The length of a token in bytes.
const TOKEN_LEN: usize = 16;
type Token = [u8; TOKEN_LEN];

enum Item {
    /// An engine and the options the JS side created it with (UTF-8 JSON, opaque here).
    Engine(wasmtime::Engine, Vec<u8>),
    SharedMemory(wasmtime::SharedMemory),
    Capture(Arc<Capture>),
}

static ITEMS: Mutex<BTreeMap<Token, Item>> = Mutex::new(BTreeMap::new());

fn items() -> MutexGuard<'static, BTreeMap<Token, Item>> {
    ITEMS.lock().unwrap_or_else(|e| e.into_inner())
}

/// # Safety
/// `token` points to `TOKEN_LEN` readable bytes.
unsafe fn token_of(token: *const u8) -> Option<Token> {
    if token.is_null() {
        return None;
    }
    let mut out = [0u8; TOKEN_LEN];
    // SAFETY: the caller passes TOKEN_LEN readable bytes.
    unsafe { std::ptr::copy_nonoverlapping(token, out.as_mut_ptr(), TOKEN_LEN) };
    Some(out)
}

/// Stores `item` under `token`; false (and `item` dropped) if the token is already in use.
unsafe fn put(token: *const u8, item: Item) -> bool {
    // SAFETY: forwarded from the caller.
    let Some(token) = (unsafe { token_of(token) }) else {
        return false;
    };
    let mut items = items();
    if items.contains_key(&token) {
        return false;
    }
    items.insert(token, item);
    true
}

/// Removes and returns the item under `token` if `pick` accepts its kind (else leaves it).
unsafe fn take<T>(token: *const u8, pick: impl FnOnce(Item) -> Result<T, Item>) -> Option<T> {
    // SAFETY: forwarded from the caller.
    let token = unsafe { token_of(token) }?;
    let mut items = items();
    let item = items.remove(&token)?;
    match pick(item) {
        Ok(value) => Some(value),
        Err(item) => {
            items.insert(token, item);
            None
        }
    }
}

/// Puts a clone of `engine` and its options `meta[..meta_len]` under the 16-byte `token`.
/// Returns false if the token is already in use.
///
/// # Safety
/// `token` points to 16 bytes, `meta` to `meta_len` bytes (or `meta_len` is 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_handoff_put_engine(
    engine: &wasm_engine_t,
    token: *const u8,
    meta: *const u8,
    meta_len: usize,
) -> bool {
    // SAFETY: wasm_engine_t is #[repr(C)] around a single `wasmtime::Engine` (see engine.rs).
    let engine: &wasmtime::Engine = unsafe { &*(engine as *const wasm_engine_t).cast() };
    let meta = if meta_len == 0 {
        Vec::new()
    } else {
        // SAFETY: the caller passes meta_len readable bytes.
        unsafe { std::slice::from_raw_parts(meta, meta_len) }.to_vec()
    };
    // SAFETY: forwarded from the caller.
    unsafe { put(token, Item::Engine(engine.clone(), meta)) }
}

/// Puts a clone of `memory` under `token`. Returns false if the token is already in use.
///
/// # Safety
/// `token` points to 16 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_handoff_put_sharedmemory(
    memory: &wasmtime::SharedMemory,
    token: *const u8,
) -> bool {
    // SAFETY: forwarded from the caller.
    unsafe { put(token, Item::SharedMemory(memory.clone())) }
}

/// Puts a reference to `capture` under `token`. Returns false if the token is already in use.
///
/// # Safety
/// `capture` is a live capture from `wasmtime_deno_capture_new`; `token` points to 16 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_handoff_put_capture(
    capture: *const Capture,
    token: *const u8,
) -> bool {
    // SAFETY: the caller's reference is alive; this takes one more.
    let capture = unsafe {
        Arc::increment_strong_count(capture);
        Arc::from_raw(capture)
    };
    // SAFETY: forwarded from the caller.
    unsafe { put(token, Item::Capture(capture)) }
}

/// Takes the engine under `token` (the caller owns it: `wasm_engine_delete`) and its options
/// into `meta` (the caller frees it with `wasm_byte_vec_delete`). Null if there is none.
///
/// # Safety
/// `token` points to 16 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_handoff_take_engine(
    token: *const u8,
    meta: &mut wasm_byte_vec_t,
) -> *mut wasm_engine_t {
    // SAFETY: forwarded from the caller.
    let taken = unsafe {
        take(token, |item| match item {
            Item::Engine(engine, options) => Ok((engine, options)),
            other => Err(other),
        })
    };
    match taken {
        Some((engine, options)) => {
            meta.set_buffer(options);
            // SAFETY: wasm_engine_t is #[repr(C)] around a single `wasmtime::Engine`, so
            // wasm_engine_delete frees this allocation correctly.
            Box::into_raw(Box::new(engine)).cast()
        }
        None => std::ptr::null_mut(),
    }
}

/// Takes the shared memory under `token` (the caller owns it: `wasmtime_sharedmemory_delete`).
/// Null if there is none.
///
/// # Safety
/// `token` points to 16 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_handoff_take_sharedmemory(
    token: *const u8,
) -> *mut wasmtime::SharedMemory {
    // SAFETY: forwarded from the caller.
    let taken = unsafe {
        take(token, |item| match item {
            Item::SharedMemory(memory) => Ok(memory),
            other => Err(other),
        })
    };
    taken.map_or(std::ptr::null_mut(), |memory| Box::into_raw(Box::new(memory)))
}

/// Takes the capture under `token` (the caller owns one reference:
/// `wasmtime_deno_capture_delete`). Null if there is none.
///
/// # Safety
/// `token` points to 16 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_handoff_take_capture(token: *const u8) -> *const Capture {
    // SAFETY: forwarded from the caller.
    let taken = unsafe {
        take(token, |item| match item {
            Item::Capture(capture) => Ok(capture),
            other => Err(other),
        })
    };
    taken.map_or(std::ptr::null(), Arc::into_raw)
}

/// Drops whatever is under `token`; false if there was nothing.
///
/// # Safety
/// `token` points to 16 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_handoff_revoke(token: *const u8) -> bool {
    // SAFETY: forwarded from the caller.
    let Some(token) = (unsafe { token_of(token) }) else {
        return false;
    };
    let item = items().remove(&token);
    // Dropped outside the lock: freeing an engine or memory may take a while.
    item.is_some()
}

/// How many handed-off objects wait to be taken.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_handoff_pending() -> usize {
    items().len()
}
