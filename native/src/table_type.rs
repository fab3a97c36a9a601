//! Table limits of the full 64-bit range. The C API's `wasm_tabletype_limits` converts a table's
//! limits to `u32` with `unwrap()`, so a table64 with a limit above `u32::MAX` — which any module
//! may declare in an import or export — panics, and the panic aborts the process (this crate
//! builds with `panic = "abort"`; a panic cannot unwind out of an `extern "C"` function anyway).
//! These read the limits from Wasmtime's own types instead, for a module's imports and exports
//! and for a table of a store, so the binding never calls `wasm_tabletype_limits`.
use std::mem::{align_of, offset_of, size_of};
use wasmtime_c_api::wasmtime::{ExternType, Module, Table, TableType};
use wasmtime_c_api::{WasmtimeStoreContext, wasmtime_module_t};

/// What the binding reads of a table type (see `TABLE_LIMITS_*` in src/ffi/layout.ts).
#[repr(C)]
pub struct TableLimits {
    pub minimum: u64,
    pub maximum: u64,
    pub has_maximum: u8,
    pub is_64: u8,
}

// The offsets src/ffi/layout.ts uses (tests/layout_test.ts compares the two files).
pub const TABLE_LIMITS_MINIMUM: usize = 0;
pub const TABLE_LIMITS_MAXIMUM: usize = 8;
pub const TABLE_LIMITS_HAS_MAXIMUM: usize = 16;
pub const TABLE_LIMITS_IS_64: usize = 17;
pub const TABLE_LIMITS_SIZE: usize = 24;
const _: () = assert!(
    offset_of!(TableLimits, minimum) == TABLE_LIMITS_MINIMUM
        && offset_of!(TableLimits, maximum) == TABLE_LIMITS_MAXIMUM
        && offset_of!(TableLimits, has_maximum) == TABLE_LIMITS_HAS_MAXIMUM
        && offset_of!(TableLimits, is_64) == TABLE_LIMITS_IS_64
        && size_of::<TableLimits>() == TABLE_LIMITS_SIZE
);

// `wasmtime_module_t` is a struct with the one field `module: Module`, private to the C API
// crate. A struct of one field without padding lies at offset 0, so the same size and alignment
// mean a `&wasmtime_module_t` is a `&Module`; checked at compile time for the pinned release.
const _: () = assert!(
    size_of::<wasmtime_module_t>() == size_of::<Module>()
        && align_of::<wasmtime_module_t>() == align_of::<Module>()
);

fn module_of(module: &wasmtime_module_t) -> &Module {
    // SAFETY: same size and alignment as its only field (asserted above).
    unsafe { &*(module as *const wasmtime_module_t).cast::<Module>() }
}

fn write(ty: &TableType, out: &mut TableLimits) {
    out.minimum = ty.minimum();
    out.maximum = ty.maximum().unwrap_or(0);
    out.has_maximum = ty.maximum().is_some() as u8;
    out.is_64 = ty.is_64() as u8;
}

/// The limits of import (`import` true) or export number `index` of `module`, in
/// `wasmtime_module_imports` / `wasmtime_module_exports` order. False if it is not a table.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_module_table_limits(
    module: &wasmtime_module_t,
    import: bool,
    index: usize,
    out: &mut TableLimits,
) -> bool {
    let module = module_of(module);
    let ty = if import {
        module.imports().nth(index).map(|item| item.ty())
    } else {
        module.exports().nth(index).map(|item| item.ty())
    };
    match ty {
        Some(ExternType::Table(table)) => {
            write(&table, out);
            true
        }
        _ => false,
    }
}

/// The limits of `table`, a table of `store`.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_table_limits(
    store: WasmtimeStoreContext<'_>,
    table: &Table,
    out: &mut TableLimits,
) {
    write(&table.ty(store), out);
}
