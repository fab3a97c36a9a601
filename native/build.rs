//! Reads the Wasmtime version from the C API headers that `wasmtime-c-api-impl` installs, so
//! `wasmtime_deno_version()` reports the release that was really linked, not a copy of it.
//!
//! Nothing path-dependent goes into the library, so two builds of the same crate give the same
//! bytes wherever they ran: `wasmtime_deno_include_dir()` names the headers' place relative to
//! the library in a cache entry or release archive (`include`), not the build's `OUT_DIR`
//! (tasks/build_native.ts finds that one in cargo's `build-script-executed` message).
use std::{env, fs, path::PathBuf};

fn main() {
    let include = env::var("DEP_WASMTIME_C_API_INCLUDE")
        .expect("wasmtime-c-api-impl did not report its include directory");
    let header = PathBuf::from(&include).join("wasmtime.h");
    println!("cargo:rerun-if-changed={}", header.display());
    let text = fs::read_to_string(&header).expect("cannot read wasmtime.h");
    let version = text
        .lines()
        .find_map(|line| line.strip_prefix("#define WASMTIME_VERSION \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .expect("WASMTIME_VERSION not found in wasmtime.h");
    println!("cargo:rustc-env=WASMTIME_DENO_WASMTIME_VERSION={version}");
    println!("cargo:rustc-env=WASMTIME_DENO_INCLUDE_DIR=include");
}
