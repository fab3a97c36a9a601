//! Readable names for trap frames. Wasmtime's C API reports a frame's function name as the
//! name section spells it: a Rust guest's frames read `_RNvCs…` or `_ZN…E`, a C++ guest's
//! `_Z…`, while Wasmtime's own backtrace text (built with the `demangle` feature) shows them
//! demangled. The binding demangles `Trap.frames` the same way, here, because a Rust v0 and an
//! Itanium C++ demangler do not belong in TypeScript and these crates are already in the build.
use std::slice;
use wasmtime_c_api::wasm_byte_vec_t;

/// If `name[..len]` is a mangled Rust or C++ symbol, writes its demangled form (without the
/// Rust hash suffix, which `mangledFuncName` keeps) into `out` and returns true; `out`
/// is then owned by the caller (free it with `wasm_byte_vec_delete`). Returns false, writing
/// nothing, for a name that is not mangled or not UTF-8.
///
/// # Safety
/// `name` points to `len` readable bytes; `out` to a writable `wasm_byte_vec_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_demangle(
    name: *const u8,
    len: usize,
    out: *mut wasm_byte_vec_t,
) -> bool {
    if name.is_null() || len == 0 || out.is_null() {
        return false;
    }
    let Ok(name) = std::str::from_utf8(unsafe { slice::from_raw_parts(name, len) }) else {
        return false;
    };
    let Some(readable) = demangle(name) else { return false };
    unsafe { out.write(readable.into_bytes().into()) };
    true
}

fn demangle(name: &str) -> Option<String> {
    if let Ok(symbol) = rustc_demangle::try_demangle(name) {
        return Some(format!("{symbol:#}"));
    }
    let symbol = cpp_demangle::Symbol::new(name).ok()?;
    let readable = symbol.demangle().ok()?;
    (readable != name).then_some(readable)
}
