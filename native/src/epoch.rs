//! Epochs: the native ticker thread and the per-store deadline callback.
//!
//! A JS timer cannot fire while a synchronous wasm call blocks the event loop, so a native
//! thread advances the engine's epoch. Each store's callback then decides, natively and without
//! entering JS, whether the running call passed its wall-clock deadline (trap) or should yield
//! to the event loop (async calls) or simply continue.
use crate::thread;
use std::cell::Cell;
use std::ffi::c_void;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use wasmtime_c_api::wasmtime;
use wasmtime_c_api::{
    wasm_engine_delete, wasm_engine_t, wasmtime_engine_clone, wasmtime_engine_increment_epoch,
    wasmtime_error_t, wasmtime_store_epoch_deadline_callback, wasmtime_store_t,
    WasmtimeStoreContextMut,
};

struct EnginePtr(*mut wasm_engine_t);
// SAFETY: wasmtime::Engine is Send + Sync; the pointer is an owned clone freed by the thread.
unsafe impl Send for EnginePtr {}

/// A native thread that calls `wasmtime_engine_increment_epoch` every interval.
pub struct Ticker {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

/// Starts a thread that increments `engine`'s epoch every `interval_us` microseconds (at least
/// 100). The thread owns a clone of the engine, so the engine may be deleted first. Returns
/// null if the thread cannot be spawned.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_epoch_ticker_start(
    engine: &wasm_engine_t,
    interval_us: u64,
) -> *mut Ticker {
    let engine = EnginePtr(Box::into_raw(wasmtime_engine_clone(engine)));
    let interval = Duration::from_micros(interval_us.max(100));
    let stop = Arc::new((Mutex::new(false), Condvar::new()));
    let stop_in_thread = stop.clone();
    let spawned = std::thread::Builder::new()
        .name("wasmtime-deno-epoch".into())
        .spawn(move || {
            let engine = engine;
            let (lock, cvar) = &*stop_in_thread;
            let mut stopped = lock.lock().unwrap_or_else(|e| e.into_inner());
            while !*stopped {
                let (guard, timeout) = cvar
                    .wait_timeout(stopped, interval)
                    .unwrap_or_else(|e| e.into_inner());
                stopped = guard;
                if timeout.timed_out() && !*stopped {
                    // SAFETY: the clone is alive until it is deleted below.
                    wasmtime_engine_increment_epoch(unsafe { &*engine.0 });
                }
            }
            // SAFETY: the clone was made by Box::into_raw above and is freed exactly once.
            wasm_engine_delete(unsafe { Box::from_raw(engine.0) });
        });
    match spawned {
        Ok(thread) => Box::into_raw(Box::new(Ticker {
            stop,
            thread: Some(thread),
        })),
        Err(_) => std::ptr::null_mut(),
    }
}

/// Stops and joins a ticker made by `wasmtime_deno_epoch_ticker_start`, then frees it.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_epoch_ticker_stop(ticker: *mut Ticker) {
    if ticker.is_null() {
        return;
    }
    // SAFETY: the pointer came from Box::into_raw in ticker_start and is freed only here.
    let mut ticker = unsafe { Box::from_raw(ticker) };
    {
        let (lock, cvar) = &*ticker.stop;
        *lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
        cvar.notify_all();
    }
    if let Some(thread) = ticker.thread.take() {
        let _ = thread.join();
    }
}

/// Per-store state read by the epoch deadline callback.
pub struct EpochControl {
    /// A timed or async call is running.
    active: Cell<bool>,
    /// Wall-clock deadline of the running call, if any.
    deadline: Cell<Option<Instant>>,
}

extern "C" fn epoch_callback(
    _context: WasmtimeStoreContextMut<'_>,
    data: *mut c_void,
    delta: *mut u64,
    kind: *mut u8,
) -> Option<Box<wasmtime_error_t>> {
    // SAFETY: data is the store's EpochControl, freed only with the store.
    let control = unsafe { &*data.cast::<EpochControl>() };
    let interrupt = || {
        Some(Box::new(wasmtime_error_t::from(wasmtime::Error::new(
            wasmtime::Trap::Interrupt,
        ))))
    };
    if !control.active.get() {
        return interrupt(); // a deadline set by the user: trap, like Wasmtime's default
    }
    if let Some(deadline) = control.deadline.get() {
        if Instant::now() >= deadline {
            return interrupt();
        }
    }
    // SAFETY: valid out-parameters from Wasmtime.
    unsafe {
        *delta = 1;
        *kind = if thread::on_fiber() { 1 } else { 0 };
    }
    None
}

extern "C" fn epoch_control_free(data: *mut c_void) {
    // SAFETY: made by wasmtime_deno_epoch_control_install, freed once with the store.
    drop(unsafe { Box::from_raw(data.cast::<EpochControl>()) });
}

/// Installs the deadline callback on `store` and returns its control (owned by the store).
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_epoch_control_install(
    store: &mut wasmtime_store_t,
) -> *mut EpochControl {
    let control = Box::into_raw(Box::new(EpochControl {
        active: Cell::new(false),
        deadline: Cell::new(None),
    }));
    wasmtime_store_epoch_deadline_callback(
        store,
        epoch_callback,
        control.cast(),
        Some(epoch_control_free),
    );
    control
}

/// Starts (`active`) or ends a timed/async call; `timeout_us` of 0 means no wall-clock deadline.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_epoch_control_set(
    control: *mut EpochControl,
    active: bool,
    timeout_us: u64,
) {
    // SAFETY: a live control of a live store.
    let control = unsafe { &*control };
    control.active.set(active);
    control.deadline.set(if active && timeout_us > 0 {
        Instant::now().checked_add(Duration::from_micros(timeout_us))
    } else {
        None
    });
}
