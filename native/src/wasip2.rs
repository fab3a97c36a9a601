//! WASI 0.2 for components, linked asynchronously.
//!
//! The C API links WASI 0.2 only synchronously (its async variant needs Wasmtime's
//! `component-model-async`), and a guest blocked in a synchronous WASI call (a sleep, a read
//! from an idle pipe) blocks the thread inside Wasmtime, where no deadline reaches it. Linked
//! asynchronously, every WASI call is a future: the binding drives instantiation and the
//! command's `run` as call futures (see `future`), so a deadline drops a blocking call as it does
//! for preview 1 (see `wasi`). The WASI context is the store's own (`wasmtime_context_set_wasi`,
//! built from the same `wasi_config_t`, preopens and capture streams included): Wasmtime's
//! preview 1 context is the 0.2 context plus an adapter.
use std::future::Future;
use std::pin::Pin;
use wasmtime_c_api::wasmtime;
use wasmtime_c_api::{
    wasmtime_call_future_t, wasmtime_component_linker_t, wasmtime_component_t, wasmtime_error_t,
    WasmtimeStoreContextMut, WasmtimeStoreData,
};
use wasmtime::component::{Component, Func, Instance, Linker, Val};

/// The C API's call future is a `#[repr(transparent)]` struct around this boxed future.
type BoxedCallFuture<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;
const _: () = assert!(
    std::mem::size_of::<wasmtime_call_future_t<'static>>()
        == std::mem::size_of::<BoxedCallFuture<'static>>()
);

fn call_future(future: BoxedCallFuture<'static>) -> *mut wasmtime_call_future_t<'static> {
    // SAFETY: wasmtime_call_future_t is #[repr(transparent)] over BoxedCallFuture (size checked
    // above), so the C API's wasmtime_call_future_delete frees it like one of its own.
    Box::into_raw(Box::new(future)).cast()
}

fn linker_of(linker: &mut wasmtime_component_linker_t) -> &mut Linker<WasmtimeStoreData> {
    // SAFETY: #[repr(transparent)] with a Linker<WasmtimeStoreData> as its only field.
    unsafe {
        &mut *(linker as *mut wasmtime_component_linker_t).cast::<Linker<WasmtimeStoreData>>()
    }
}

fn component_of(component: &wasmtime_component_t) -> &Component {
    // SAFETY: #[repr(transparent)] with a Component as its only field.
    unsafe { &*(component as *const wasmtime_component_t).cast::<Component>() }
}

fn report(error: wasmtime::Error) -> Option<Box<wasmtime_error_t>> {
    Some(Box::new(wasmtime_error_t::from(error)))
}

/// Defines WASI 0.2 (without `wasi:http`; sockets refuse every address unless the WASI config
/// allowed them) in `linker`: as async host functions when `asynchronous` (stores then need the
/// async entry points below), else as the C API's `wasmtime_component_linker_add_wasip2` does.
/// Stores instantiating through it must have a WASI context (the C API's store data panics
/// without one).
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_component_linker_add_wasip2(
    linker: &mut wasmtime_component_linker_t,
    asynchronous: bool,
) -> Option<Box<wasmtime_error_t>> {
    let linker = linker_of(linker);
    let result = if asynchronous {
        wasmtime_wasi::p2::add_to_linker_async(linker)
    } else {
        wasmtime_wasi::p2::add_to_linker_sync(linker)
    };
    match result {
        Ok(()) => None,
        Err(error) => report(error),
    }
}

/// Starts instantiating `component` into the store as a call future (drive it with
/// `wasmtime_deno_future_poll`, free it with `wasmtime_call_future_delete`). When it is ready,
/// either `*error_out` holds the error or `*instance_out` the instance.
///
/// # Safety
///
/// The context, linker and component must outlive the future, and the out-pointers stay valid
/// until it is ready or freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_component_instantiate_async(
    linker: &wasmtime_component_linker_t,
    context: WasmtimeStoreContextMut<'static>,
    component: &wasmtime_component_t,
    instance_out: *mut Instance,
    error_out: *mut Option<Box<wasmtime_error_t>>,
) -> *mut wasmtime_call_future_t<'static> {
    // SAFETY: the caller keeps both alive for the future's life.
    let linker: &'static Linker<WasmtimeStoreData> =
        unsafe { &*(linker as *const wasmtime_component_linker_t).cast() };
    let component: &'static Component = unsafe { &*(component_of(component) as *const _) };
    let mut context = context;
    call_future(Box::pin(async move {
        match linker.instantiate_async(&mut context, component).await {
            // SAFETY: valid until the future is ready (see above).
            Ok(instance) => unsafe { instance_out.write(instance) },
            Err(error) => unsafe { error_out.write(report(error)) },
        }
    }))
}

/// Starts calling `func` (a command's `wasi:cli/run#run`: no parameters, one `result` with no
/// payloads) as a call future. When it is ready, either `*error_out` holds the error (a trap,
/// or `wasi:cli/exit` with its status) or `*status_out` is 0 for `ok` and 1 for `err`.
///
/// # Safety
///
/// The context must outlive the future, and the out-pointers stay valid until it is ready or
/// freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_wasip2_run_async(
    func: &Func,
    context: WasmtimeStoreContextMut<'static>,
    status_out: *mut u32,
    error_out: *mut Option<Box<wasmtime_error_t>>,
) -> *mut wasmtime_call_future_t<'static> {
    let func = *func;
    let mut context = context;
    call_future(Box::pin(async move {
        let ty = func.ty(&context);
        if ty.params().len() != 0 || ty.results().len() != 1 {
            let error = wasmtime::Error::msg("wasi:cli/run#run must take nothing and return a result");
            // SAFETY: valid until the future is ready (see above).
            unsafe { error_out.write(report(error)) };
            return;
        }
        let mut results = [Val::Bool(false)];
        let outcome = func.call_async(&mut context, &[], &mut results).await;
        // SAFETY: valid until the future is ready (see above).
        match outcome {
            Ok(()) => {
                let status = match &results[0] {
                    Val::Result(Ok(_)) => 0,
                    _ => 1,
                };
                unsafe { status_out.write(status) };
            }
            Err(error) => unsafe { error_out.write(report(error)) },
        }
    }))
}
