//! The Wasmtime release this library was built from. The loader compares it with the version
//! the TypeScript package pins, so a stale or foreign library is refused with a clear error.
use std::ffi::c_char;

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
