//! libwasmtime for wasmtime-deno.
//!
//! Wasmtime's C API is re-exported unchanged, so every `wasm_*` / `wasmtime_*` symbol ends up
//! in the cdylib's dynamic symbol table. The few `wasmtime_deno_*` functions below exist only
//! where the C API cannot be driven safely from JavaScript:
//!
//! * the epoch ticker runs on a native thread, because a JS timer cannot fire while a
//!   synchronous wasm call blocks the event loop;
//! * `wasm_engine_new_with_config` aborts the process when Wasmtime rejects a configuration,
//!   so engines are made by a variant that returns the error instead;
//! * externref finalizers may run wherever Wasmtime collects garbage (including an async
//!   fiber stack, where running JS aborts V8), so they only queue the dropped id for JS to
//!   collect later.
pub use wasmtime_c_api::*;

use std::collections::HashMap;
use std::ffi::{c_char, c_void};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

static VERSION: &str = concat!(env!("WASMTIME_DENO_WASMTIME_VERSION"), "\0");
static INCLUDE_DIR: &str = concat!(env!("WASMTIME_DENO_INCLUDE_DIR"), "\0");

/// The Wasmtime release this library was built from, e.g. `"48.0.8"` (NUL-terminated).
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_version() -> *const c_char {
    VERSION.as_ptr().cast()
}

/// Where the build installed the C headers matching this library (NUL-terminated).
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_include_dir() -> *const c_char {
    INCLUDE_DIR.as_ptr().cast()
}

// ---------------------------------------------------------------------------------------------
// Engine creation

/// Like `wasm_engine_new_with_config` (and like it, takes ownership of `config`), but reports a
/// configuration Wasmtime rejects as an error instead of aborting the process.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_engine_new(
    config: Box<wasm_config_t>,
    engine_out: &mut *mut wasm_engine_t,
) -> Option<Box<wasmtime_error_t>> {
    // SAFETY: wasm_config_t is #[repr(C)] with a `wasmtime::Config` as its only field, so the
    // two have the same layout and the allocation can be reinterpreted.
    let config: Box<wasmtime::Config> = unsafe { Box::from_raw(Box::into_raw(config).cast()) };
    match wasmtime::Engine::new(&config) {
        Ok(engine) => {
            // SAFETY: likewise, wasm_engine_t is #[repr(C)] around a single `wasmtime::Engine`,
            // so wasm_engine_delete frees this allocation correctly.
            *engine_out = Box::into_raw(Box::new(engine)).cast();
            None
        }
        Err(error) => Some(Box::new(wasmtime_error_t::from(error))),
    }
}

// ---------------------------------------------------------------------------------------------
// Epoch ticker

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

// ---------------------------------------------------------------------------------------------
// externref ids

/// Ids of JS objects (externref values, host functions) that Wasmtime has dropped, per owner
/// (one owner per JS realm and kind: every worker that opens this library shares its globals).
static DROPPED: Mutex<Option<HashMap<u64, Vec<u64>>>> = Mutex::new(None);

fn push_dropped(owner: u64, id: u64) {
    let mut dropped = DROPPED.lock().unwrap_or_else(|e| e.into_inner());
    dropped
        .get_or_insert_with(HashMap::new)
        .entry(owner)
        .or_default()
        .push(id);
}

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

// ---------------------------------------------------------------------------------------------
// Raw copies

/// `memcpy` for Deno: FFI can read native memory without copying but has no fast way to write
/// to a pointer it did not allocate (a host function's result slots, for instance).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_memcpy(dst: *mut u8, src: *const u8, len: usize) {
    if len != 0 {
        // SAFETY: the caller guarantees both ranges are valid and do not overlap.
        unsafe { std::ptr::copy_nonoverlapping(src, dst, len) };
    }
}

// ---------------------------------------------------------------------------------------------
// Captured WASI output

/// An in-memory sink for a WASI stdout/stderr stream. Writes can happen on an async fiber,
/// where JS must not run, so the bytes are buffered natively and JS drains them. The stream is
/// a synchronous WASIp2 output stream: the C API's custom streams go through an async adapter
/// with a background task per write, measured at under 100 MB/s.
pub struct Capture {
    bytes: Mutex<Vec<u8>>,
    limit: usize,
}

impl Capture {
    fn append(&self, data: &[u8]) -> Result<(), ()> {
        let mut bytes = self.bytes.lock().unwrap_or_else(|e| e.into_inner());
        if bytes.len().saturating_add(data.len()) > self.limit {
            return Err(()); // the guest sees an I/O error instead of the host running out of memory
        }
        bytes.extend_from_slice(data);
        Ok(())
    }
}

#[derive(Clone)]
struct CaptureStream(Arc<Capture>);

impl wasmtime_wasi::cli::IsTerminal for CaptureStream {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl wasmtime_wasi::cli::StdoutStream for CaptureStream {
    fn p2_stream(&self) -> Box<dyn wasmtime_wasi::p2::OutputStream> {
        Box::new(self.clone())
    }
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl wasmtime_wasi::p2::Pollable for CaptureStream {
    async fn ready(&mut self) {}
}

impl wasmtime_wasi::p2::OutputStream for CaptureStream {
    fn write(&mut self, bytes: bytes::Bytes) -> wasmtime_wasi::p2::StreamResult<()> {
        self.0.append(&bytes).map_err(|()| {
            wasmtime_wasi::p2::StreamError::LastOperationFailed(wasmtime::format_err!(
                "captured output exceeds its limit"
            ))
        })
    }
    fn flush(&mut self) -> wasmtime_wasi::p2::StreamResult<()> {
        Ok(())
    }
    fn check_write(&mut self) -> wasmtime_wasi::p2::StreamResult<usize> {
        Ok(1 << 20)
    }
}

impl tokio::io::AsyncWrite for CaptureStream {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::task::Poll::Ready(
            self.0
                .append(buf)
                .map(|()| buf.len())
                .map_err(|()| std::io::Error::other("captured output exceeds its limit")),
        )
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

/// Creates a capture that accepts at most `limit` buffered bytes.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_capture_new(limit: usize) -> *const Capture {
    Arc::into_raw(Arc::new(Capture {
        bytes: Mutex::new(Vec::new()),
        limit,
    }))
}

/// Frees the JS side's reference to a capture (the WASI config may still hold its own).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_capture_delete(capture: *const Capture) {
    if !capture.is_null() {
        // SAFETY: the pointer came from capture_new and is released once by the owner.
        drop(unsafe { Arc::from_raw(capture) });
    }
}

/// Routes the WASI stdout (`stream == 1`) or stderr (`stream == 2`) of `config` into `capture`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_capture_attach(
    config: &mut wasi_config_t,
    capture: *const Capture,
    stream: u32,
) {
    // SAFETY: the caller's reference is alive; this takes one more for the stream.
    let capture = unsafe {
        Arc::increment_strong_count(capture);
        Arc::from_raw(capture)
    };
    // SAFETY: wasi_config_t is #[repr(C)] with a WasiCtxBuilder as its only field.
    let builder =
        unsafe { &mut *(config as *mut wasi_config_t).cast::<wasmtime_wasi::WasiCtxBuilder>() };
    if stream == 2 {
        builder.stderr(CaptureStream(capture));
    } else {
        builder.stdout(CaptureStream(capture));
    }
}

/// Moves every buffered byte out of `capture` into a new allocation that the caller owns
/// (zero-copy for JS: it wraps the memory in an ArrayBuffer and frees it with
/// `wasmtime_deno_buffer_free` once that buffer is garbage). Writes `len`; null if empty.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_capture_take_all(
    capture: &Capture,
    len: &mut usize,
) -> *mut u8 {
    let mut bytes = capture.bytes.lock().unwrap_or_else(|e| e.into_inner());
    let taken = std::mem::take(&mut *bytes).into_boxed_slice();
    *len = taken.len();
    if taken.is_empty() {
        return std::ptr::null_mut();
    }
    Box::into_raw(taken).cast()
}

/// Frees a buffer returned by `wasmtime_deno_capture_take_all`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_buffer_free(data: *mut u8, len: usize) {
    if !data.is_null() {
        // SAFETY: made by capture_take_all as a boxed slice of exactly `len` bytes.
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(data, len)) });
    }
}

// ---------------------------------------------------------------------------------------------
// Host functions and async calls
//
// JS must only run on the thread's main stack. During `wasmtime_call_future_poll` the guest runs
// on a Wasmtime fiber, so host functions are routed through native trampolines: a synchronous
// host function called from a fiber returns a trap instead of entering JS, and an asynchronous
// one only records the call for JS to perform between polls.

use std::cell::Cell;

thread_local! {
    static ASYNC_DEPTH: Cell<u32> = const { Cell::new(0) };
    static PENDING: Cell<*mut AsyncCall> = const { Cell::new(std::ptr::null_mut()) };
    static CURRENT_CALLER: Cell<*mut wasmtime_caller_t<'static>> =
        const { Cell::new(std::ptr::null_mut()) };
}

/// The caller of the synchronous host function running on this thread (null if none).
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_current_caller() -> *mut c_void {
    CURRENT_CALLER.with(|c| c.get()).cast()
}

/// A packed call frame: `[0]` context, `[8..24]` wasmtime_func_t, `[24]` slot count, `[32]`
/// trap out, `[40]` error out, `[48..]` wasmtime_val_raw_t slots (arguments, then results).
#[repr(C)]
pub struct CallFrame {
    context: *mut c_void,
    func: wasmtime::Func,
    slots: usize,
    trap: Option<Box<wasm_trap_t>>,
    error: Option<Box<wasmtime_error_t>>,
    values: [wasmtime::ValRaw; 0],
}

/// Writes the layout of [`CallFrame`] as `[size_of, context, func, slots, trap, error, values]`
/// offsets, so that a test can check the binding's constants against the real Rust layout.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_call_frame_layout(out: *mut usize) {
    let layout = [
        std::mem::size_of::<CallFrame>(),
        std::mem::offset_of!(CallFrame, context),
        std::mem::offset_of!(CallFrame, func),
        std::mem::offset_of!(CallFrame, slots),
        std::mem::offset_of!(CallFrame, trap),
        std::mem::offset_of!(CallFrame, error),
        std::mem::offset_of!(CallFrame, values),
    ];
    // SAFETY: the caller provides room for 7 values.
    unsafe { std::ptr::copy_nonoverlapping(layout.as_ptr(), out, layout.len()) };
}

/// `wasmtime_func_call_unchecked` with all its arguments in one buffer: Deno's FFI cost grows
/// with the number of parameters, and this halves the cost of a call (see bench/).
/// Returns true on success; on failure the trap or error is left in the frame.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_call(frame: &mut CallFrame) -> bool {
    // SAFETY: the frame was filled by the binding for a live store with room for `slots`.
    unsafe {
        let context: WasmtimeStoreContextMut<'_> = std::mem::transmute(frame.context);
        let values = frame.values.as_mut_ptr();
        let mut trap = std::ptr::null_mut::<wasm_trap_t>();
        let error =
            wasmtime_func_call_unchecked(context, &frame.func, values, frame.slots, &mut trap);
        frame.trap = if trap.is_null() {
            None
        } else {
            Some(Box::from_raw(trap))
        };
        let ok = error.is_none() && trap.is_null();
        frame.error = error;
        ok
    }
}

type UncheckedCallback = extern "C" fn(
    *mut c_void,
    *mut wasmtime_caller_t,
    *mut wasmtime::ValRaw,
    usize,
) -> Option<Box<wasm_trap_t>>;

/// The JS side of a synchronous host function. It reads its arguments from, and writes its
/// results to, the JS-owned scratch buffer registered with its HostEnv, so the callback crosses
/// the FFI boundary with no parameters at all and makes no FFI calls of its own; the caller is
/// kept in a thread-local for `wasmtime_deno_current_caller`.
type JsHostCallback = extern "C" fn() -> Option<Box<wasm_trap_t>>;

/// Native state of one host function: the JS callback, its scratch buffer (JS-owned, alive
/// until this env's id is reported dropped) and the ids that name it.
pub struct HostEnv {
    callback: Option<JsHostCallback>,
    scratch: *mut wasmtime::ValRaw,
    slots: usize,
    owner: u64,
    id: u64,
}

fn trap(message: &str) -> Box<wasm_trap_t> {
    // SAFETY: a valid UTF-8 buffer of the given length.
    unsafe { wasmtime_trap_new(message.as_ptr(), message.len()) }
}

/// Allocates the environment of a host function (`callback` may be null for async ones).
/// `scratch` must hold `slots` values and outlive the env.
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

extern "C" fn host_env_free(env: *mut c_void) {
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
    if ASYNC_DEPTH.with(|d| d.get()) > 0 {
        return Some(trap(
            "a synchronous host function was called during callAsync; define it with \
             Linker.defineAsyncFunc (JS cannot run on Wasmtime's async stack)",
        ));
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
    let previous = CURRENT_CALLER.with(|c| c.replace(caller.cast()));
    let result = callback();
    CURRENT_CALLER.with(|c| c.set(previous));
    if result.is_none() {
        // SAFETY: as above, in the other direction.
        unsafe { std::ptr::copy_nonoverlapping(env.scratch, values, count) };
    }
    result
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
    PENDING.with(|p| {
        if p.get() == call {
            p.set(std::ptr::null_mut());
        }
    });
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
    let id = unsafe { (*env.cast::<HostEnv>()).id };
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
    PENDING.with(|p| p.set(call));
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

/// `wasmtime_call_future_poll`, marking the thread as running a fiber while it polls.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_future_poll(future: &mut wasmtime_call_future_t) -> bool {
    ASYNC_DEPTH.with(|d| d.set(d.get() + 1));
    let ready = wasmtime_call_future_poll(future);
    ASYNC_DEPTH.with(|d| d.set(d.get() - 1));
    ready
}

/// Takes the host call recorded during the last poll, writing
/// `[id, caller, args, nargs, results, nresults]` into `info`; null if there is none.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_async_take_pending(info: *mut u64) -> *mut AsyncCall {
    let call = PENDING.with(|p| p.replace(std::ptr::null_mut()));
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

// ---------------------------------------------------------------------------------------------
// Epoch control: deadlines and async yielding for one store

/// Per-store state read by the epoch deadline callback.
pub struct EpochControl {
    /// A timed or async call is running.
    active: Cell<bool>,
    /// Wall-clock deadline of the running call, if any.
    deadline: Cell<Option<std::time::Instant>>,
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
        if std::time::Instant::now() >= deadline {
            return interrupt();
        }
    }
    // SAFETY: valid out-parameters from Wasmtime.
    unsafe {
        *delta = 1;
        *kind = if ASYNC_DEPTH.with(|d| d.get()) > 0 {
            1
        } else {
            0
        };
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
        Some(std::time::Instant::now() + Duration::from_micros(timeout_us))
    } else {
        None
    });
}
