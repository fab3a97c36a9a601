//! Raw copies. Deno's FFI can read native memory without copying but has no fast way to write
//! to a pointer it did not allocate (a host function's result slots, for instance).

/// `memcpy` for Deno; exposed to JS twice, as a write (native <- JS) and a read (JS <- native).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_memcpy(dst: *mut u8, src: *const u8, len: usize) {
    if len != 0 {
        // SAFETY: the caller guarantees both ranges are valid and do not overlap.
        unsafe { std::ptr::copy_nonoverlapping(src, dst, len) };
    }
}
