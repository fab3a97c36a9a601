//! WASI preview 1 for the binding.
//!
//! The C API links WASI synchronously: a guest blocked in `poll_oneoff` or a read blocks the
//! thread inside Wasmtime, where no deadline can reach it. Linked asynchronously, every WASI
//! call is a future: a deadline drops it (unwinding the guest with an Interrupt trap), and
//! `callAsync` lets the event loop run while the guest waits (see `future`).
use std::sync::OnceLock;
use wasmtime_c_api::wasmtime;
use wasmtime_c_api::{wasi_config_t, wasmtime_error_t, wasmtime_linker_t, WasmtimeStoreData};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::{ResourceTable, WasiCtxBuilder, WasiView};

/// The builder inside a `wasi_config_t`.
pub fn builder_of(config: &mut wasi_config_t) -> &mut WasiCtxBuilder {
    // SAFETY: wasi_config_t is #[repr(C)] with a WasiCtxBuilder as its only field.
    unsafe { &mut *(config as *mut wasi_config_t).cast::<WasiCtxBuilder>() }
}

/// Offset of the resource table inside a `WasiP1Ctx`, measured on a sample context: the C API
/// keeps each store's context in a private field, but its public `WasiView` impl hands out the
/// table, and the same type has the same layout everywhere in this library.
fn table_offset() -> usize {
    static OFFSET: OnceLock<usize> = OnceLock::new();
    *OFFSET.get_or_init(|| {
        let mut sample = WasiCtxBuilder::new().build_p1();
        let base = (&raw mut sample) as usize;
        let table = (WasiView::ctx(&mut sample).table as *mut ResourceTable) as usize;
        table - base
    })
}

/// The store's WASI context (the binding refuses WASI calls in stores without one before they
/// reach this point, as the C API's own `expect` requires).
fn p1_context(data: &mut WasmtimeStoreData) -> &mut WasiP1Ctx {
    let table = (WasiView::ctx(data).table as *mut ResourceTable).cast::<u8>();
    // SAFETY: the table lives at `table_offset()` inside the store's WasiP1Ctx (see above); the
    // resulting reference borrows `data` exclusively, like the table reference it came from.
    unsafe { &mut *table.sub(table_offset()).cast::<WasiP1Ctx>() }
}

/// Defines WASI preview 1 in `linker` as async host functions (stores using it then need async
/// entry points: the binding drives their call futures, synchronously or not).
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_linker_define_wasi_async(
    linker: &mut wasmtime_linker_t,
) -> Option<Box<wasmtime_error_t>> {
    // SAFETY: wasmtime_linker_t is #[repr(C)] with a Linker<WasmtimeStoreData> as its only field.
    let linker = unsafe {
        &mut *(linker as *mut wasmtime_linker_t).cast::<wasmtime::Linker<WasmtimeStoreData>>()
    };
    match wasmtime_wasi::p1::add_to_linker_async(linker, p1_context) {
        Ok(()) => None,
        Err(error) => Some(Box::new(wasmtime_error_t::from(error))),
    }
}
