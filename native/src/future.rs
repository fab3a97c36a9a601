//! Call futures polled with a real waker.
//!
//! The C API polls a call future with a no-op waker, which is fine while the guest only
//! computes (it yields on epoch ticks and is polled again) but not when it waits: a WASI sleep,
//! a read from an idle pipe. Such waits are futures of Wasmtime's WASI implementation, driven
//! by the tokio runtime below; they wake our waker when they can make progress. JS therefore
//! polls, and when the future is pending without having asked to be polled again, waits for
//! the waker (or its own deadline) instead of spinning: synchronously for `callWith`, on
//! Deno's blocking pool for `callAsync` so that the event loop keeps running.
use crate::thread;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::task::{Context, Wake, Waker};
use std::time::{Duration, Instant};
use wasmtime_c_api::wasmtime_call_future_t;

/// The C API's call future is a struct whose only field is this boxed future.
type BoxedCallFuture<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;
const _: () = assert!(
    std::mem::size_of::<wasmtime_call_future_t<'static>>()
        == std::mem::size_of::<BoxedCallFuture<'static>>()
);

/// Set when the future asks to be polled again; JS waits on it.
pub struct WakeState {
    woken: Mutex<bool>,
    signal: Condvar,
}

impl Wake for WakeState {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        *self.woken.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.signal.notify_all();
    }
}

/// A waker for one call, owned by JS (futures may keep clones of the waker beyond it).
pub struct FutureWaker {
    state: Arc<WakeState>,
    waker: Waker,
}

/// The runtime whose timers and I/O drive WASI's futures (one worker thread), if it started.
fn runtime() -> Option<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<Option<tokio::runtime::Runtime>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("wasmtime-deno-io")
                .enable_all()
                .build()
                .ok()
        })
        .as_ref()
}

/// Creates a waker for one call.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_waker_new() -> *mut FutureWaker {
    let state = Arc::new(WakeState {
        woken: Mutex::new(false),
        signal: Condvar::new(),
    });
    let waker = Waker::from(state.clone());
    Box::into_raw(Box::new(FutureWaker { state, waker }))
}

/// Frees a waker made by `wasmtime_deno_waker_new` (no wait on it may be in progress).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_waker_delete(waker: *mut FutureWaker) {
    if !waker.is_null() {
        // SAFETY: made by waker_new and freed once by its JS owner.
        drop(unsafe { Box::from_raw(waker) });
    }
}

/// Wakes `waker` (JS calls this to end a wait early: a deadline, an abort).
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_waker_wake(waker: &FutureWaker) {
    waker.waker.wake_by_ref();
}

/// Blocks until `waker` is woken or `timeout_us` passed; returns whether it was woken.
/// JS calls it synchronously (`callWith`) or on Deno's blocking pool (`callAsync`).
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_waker_wait(waker: &FutureWaker, timeout_us: u64) -> bool {
    let end = Instant::now().checked_add(Duration::from_micros(timeout_us));
    let mut woken = waker.state.woken.lock().unwrap_or_else(|e| e.into_inner());
    while !*woken {
        let wait = match end {
            Some(end) => match end.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => left,
                _ => break,
            },
            None => Duration::from_secs(3600),
        };
        woken = waker
            .state
            .signal
            .wait_timeout(woken, wait)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
    *woken
}

/// Poll results: pending (wait for the waker), ready, pending but already woken (poll again
/// soon), or no runtime for WASI's futures (the I/O thread could not start).
pub const POLL_PENDING: u32 = 0;
pub const POLL_READY: u32 = 1;
pub const POLL_AGAIN: u32 = 2;
pub const POLL_NO_RUNTIME: u32 = 3;

/// Polls `future` once with `waker` (null: a no-op waker), on this thread, inside the WASI
/// runtime. The thread counts as running a fiber meanwhile (see `thread`).
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_future_poll(
    future: &mut wasmtime_call_future_t<'_>,
    waker: *const FutureWaker,
) -> u32 {
    let Some(runtime) = runtime() else {
        return POLL_NO_RUNTIME;
    };
    // SAFETY: `wasmtime_call_future_t` has the boxed future as its only field (size checked).
    let future =
        unsafe { &mut *(future as *mut wasmtime_call_future_t<'_>).cast::<BoxedCallFuture<'_>>() };
    // SAFETY: a live waker owned by the caller, or null.
    let waker = unsafe { waker.as_ref() };
    if let Some(waker) = waker {
        *waker.state.woken.lock().unwrap_or_else(|e| e.into_inner()) = false;
    }
    let noop = Waker::noop();
    let mut context = Context::from_waker(waker.map_or(noop, |w| &w.waker));
    let _runtime = runtime.enter();
    let ready = thread::polling(|| future.as_mut().poll(&mut context).is_ready());
    if ready {
        POLL_READY
    } else if waker.is_some_and(|w| *w.state.woken.lock().unwrap_or_else(|e| e.into_inner())) {
        POLL_AGAIN
    } else {
        POLL_PENDING
    }
}
