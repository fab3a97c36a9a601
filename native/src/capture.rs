//! Captured WASI output: an in-memory sink for a guest's stdout/stderr. Writes can happen on an
//! async fiber, where JS must not run, so the bytes are buffered natively and JS drains them.
//! The stream is a synchronous WASIp2 output stream: the C API's custom streams go through an
//! async adapter with a background task per write, measured at under 100 MB/s.
use std::sync::{Arc, Mutex};
use wasmtime_c_api::wasi_config_t;
use wasmtime_c_api::wasmtime;

/// The buffered bytes of one captured stream and their cap.
pub struct Capture {
    bytes: Mutex<Vec<u8>>,
    limit: usize,
}
impl Capture {
    /// Bytes that may still be buffered before the limit.
    fn room(&self) -> usize {
        let bytes = self.bytes.lock().unwrap_or_else(|e| e.into_inner());
        self.limit.saturating_sub(bytes.len())
    }

    /// Buffers as much of `data` as the limit allows and returns how much that was; once the
    /// limit is reached, fails, so the guest sees an I/O error instead of the host running out of
    /// memory (a write that crosses the limit is cut there, like a short write to a full disk).
    fn append(&self, data: &[u8]) -> Result<usize, ()> {
        let mut bytes = self.bytes.lock().unwrap_or_else(|e| e.into_inner());
        let room = self.limit.saturating_sub(bytes.len());
        if room == 0 && !data.is_empty() {
            return Err(());
        }
        let taken = room.min(data.len());
        bytes.extend_from_slice(&data[..taken]);
        Ok(taken)
    }
}

fn limit_reached() -> wasmtime_wasi::p2::StreamError {
    wasmtime_wasi::p2::StreamError::LastOperationFailed(wasmtime::format_err!(
        "captured output reached its limit"
    ))
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
        // Callers write at most what check_write permitted; anything beyond the limit is cut.
        self.0
            .append(&bytes)
            .map(|_| ())
            .map_err(|()| limit_reached())
    }
    fn flush(&mut self) -> wasmtime_wasi::p2::StreamResult<()> {
        Ok(())
    }
    fn check_write(&mut self) -> wasmtime_wasi::p2::StreamResult<usize> {
        match self.0.room() {
            0 => Err(limit_reached()),
            room => Ok(room.min(1 << 20)),
        }
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
                .map_err(|()| std::io::Error::other("captured output reached its limit")),
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
    let builder = crate::wasi::builder_of(config);
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
