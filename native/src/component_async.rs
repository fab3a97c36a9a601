//! Component calls as call futures, and component host functions performed by JS between polls.
//!
//! The C API's async component entry points (`wasmtime_component_func_call_async`,
//! `wasmtime_component_linker_instance_add_func_async`) exist only with Wasmtime's
//! `component-model-async` feature (the p3 async ABI), which fiber-based async does not need.
//! Here the same is done with Wasmtime's Rust API: an exported function called as a call future
//! (polled by JS through `future`), and host functions defined with `func_new_async` whose calls
//! are recorded like core async host calls (`async_host`): the guest waits on its fiber while JS
//! takes the call, performs it on the main stack (awaiting a Promise, or not) and finishes it.
//! A sync JS host function defined this way is what lets a component run as a call future (an
//! async call, or WASI 0.2 linked asynchronously) and still import the user's own functions.
use crate::async_host::{self, AsyncCall};
use crate::dropped::push_dropped;
use std::future::{poll_fn, Future};
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::Poll;
use wasmtime_c_api::wasmtime;
use wasmtime::component::{Func, LinkerInstance, Val};
use wasmtime_c_api::{
    wasm_byte_vec_new_empty, wasm_byte_vec_t, wasm_trap_message, wasm_trap_t,
    wasmtime_call_future_t, wasmtime_component_func_type_t, wasmtime_component_linker_instance_t,
    wasmtime_component_val_t, wasmtime_error_t, wasmtime_trap_code, WasmtimeStoreContextMut,
    WasmtimeStoreData,
};

/// The C API's call future is a `#[repr(transparent)]` struct around this boxed future.
type BoxedCallFuture<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;
const _: () = assert!(
    std::mem::size_of::<wasmtime_call_future_t<'static>>()
        == std::mem::size_of::<BoxedCallFuture<'static>>()
);

/// Queues the host function's id as dropped (for JS to close its side) once Wasmtime drops it.
struct DropNotice {
    owner: u64,
    id: u64,
}

impl Drop for DropNotice {
    fn drop(&mut self) {
        push_dropped(self.owner, self.id);
    }
}

/// A recorded call, released when its future completes or is dropped (a deadline unwinding the
/// guest): JS can then no longer take it.
struct Recorded(*mut AsyncCall);

// SAFETY: the call is only touched on the thread polling the future (the fiber runs there).
unsafe impl Send for Recorded {}

impl Drop for Recorded {
    fn drop(&mut self) {
        async_host::release(self.0);
    }
}

/// A pointer carried across the host future's await (the data it points to lives in the same
/// future).
struct SendPtr<T>(*mut T);
// SAFETY: see `Recorded`.
unsafe impl<T> Send for SendPtr<T> {}

impl<T> SendPtr<T> {
    /// The pointer (a method, so closures capture the whole wrapper rather than its field).
    fn get(&self) -> *mut T {
        self.0
    }
}

/// The error a JS-made trap stands for (JS finishes calls with a trap, as for core functions):
/// an interrupt stays an interrupt (a deadline, an abort), anything else keeps its message (the
/// JS error itself is rethrown to the caller by the binding).
fn trap_error(trap: &wasm_trap_t) -> wasmtime::Error {
    let mut code = 0u8;
    if wasmtime_trap_code(trap, &mut code) {
        if let Some(trap) = wasmtime::Trap::from_u8(code) {
            return wasmtime::Error::from(trap);
        }
    }
    let mut message = MaybeUninit::<wasm_byte_vec_t>::uninit();
    // SAFETY: initializes the vector, which wasm_trap_message then replaces (it is empty).
    let mut message = unsafe {
        wasm_byte_vec_new_empty(&mut *message.as_mut_ptr());
        message.assume_init()
    };
    wasm_trap_message(trap, &mut message);
    let mut bytes = message.take();
    if bytes.last() == Some(&0) {
        bytes.pop();
    }
    wasmtime::Error::msg(String::from_utf8_lossy(&bytes).into_owned())
}

/// Defines the function `name` in `linker_instance` as a JS host function performed between
/// polls: each call is recorded for `wasmtime_deno_async_take_pending` as
/// `[id, type, args, nargs, results, nresults]` (`type` a `wasmtime_component_func_type_t *`,
/// `args` and `results` arrays of `wasmtime_component_val_t`, the results preset to `false`).
/// `id` is queued as dropped (owner `owner`) once Wasmtime drops the function. Instances using
/// it need the async entry points (Wasmtime then refuses synchronous calls into their store).
///
/// # Safety
///
/// `name` points to `name_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_component_linker_instance_add_async_func(
    linker_instance: &mut wasmtime_component_linker_instance_t<'_>,
    name: *const u8,
    name_len: usize,
    owner: u64,
    id: u64,
) -> Option<Box<wasmtime_error_t>> {
    let notice = DropNotice { owner, id };
    // SAFETY: see above (a zero length may come with a dangling pointer).
    let name = if name_len == 0 {
        &[][..]
    } else {
        unsafe { std::slice::from_raw_parts(name, name_len) }
    };
    let Ok(name) = std::str::from_utf8(name) else {
        return Some(Box::new(wasmtime_error_t::from(wasmtime::Error::msg(
            "a host function name must be UTF-8",
        ))));
    };
    // SAFETY: #[repr(transparent)] over a LinkerInstance<WasmtimeStoreData>.
    let instance = unsafe {
        &mut *(linker_instance as *mut wasmtime_component_linker_instance_t<'_>)
            .cast::<LinkerInstance<'_, WasmtimeStoreData>>()
    };
    let result = instance.func_new_async(name, move |_store, ty, args, results| {
        let id = notice.id;
        Box::new(async move {
            let mut c_args: Vec<wasmtime_component_val_t> =
                args.iter().map(wasmtime_component_val_t::from).collect();
            let mut c_results = vec![wasmtime_component_val_t::Bool(false); results.len()];
            let mut c_type: Box<wasmtime_component_func_type_t> = Box::new(ty.into());
            let mut trap: Box<Option<Box<wasm_trap_t>>> = Box::new(None);
            let call = Recorded(async_host::record(
                id,
                (&mut *c_type as *mut wasmtime_component_func_type_t).cast(),
                c_args.as_mut_ptr().cast(),
                c_args.len(),
                c_results.as_mut_ptr().cast(),
                c_results.len(),
                &mut *trap,
            ));
            let pointer = SendPtr(call.0);
            poll_fn(move |_| {
                if async_host::is_done(pointer.get()) {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            })
            .await;
            drop(call);
            drop(c_args);
            drop(c_type);
            if let Some(trap) = trap.take() {
                return Err(trap_error(&trap));
            }
            for (result, c_result) in results.iter_mut().zip(&c_results) {
                *result = Val::from(c_result);
            }
            Ok(())
        })
    });
    match result {
        Ok(()) => None,
        Err(error) => Some(Box::new(wasmtime_error_t::from(error))),
    }
}

/// Starts calling `func` with `args` as a call future (drive it with `wasmtime_deno_future_poll`,
/// free it with `wasmtime_call_future_delete`). The arguments are converted before this
/// returns; when the future is ready, either `*error_out` holds the error or `results` the
/// results (written over the `false` values JS preset).
///
/// # Safety
///
/// `args` holds `nargs` values; the context, `results` (`nresults` values) and the out-pointer
/// stay valid until the future is ready or freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_component_func_call_async(
    func: &Func,
    context: WasmtimeStoreContextMut<'static>,
    args: *const wasmtime_component_val_t,
    nargs: usize,
    results: *mut wasmtime_component_val_t,
    nresults: usize,
    error_out: *mut Option<Box<wasmtime_error_t>>,
) -> *mut wasmtime_call_future_t<'static> {
    let func = *func;
    let c_args: &[wasmtime_component_val_t] = if nargs == 0 {
        &[]
    } else {
        // SAFETY: see above.
        unsafe { std::slice::from_raw_parts(args, nargs) }
    };
    let args: Vec<Val> = c_args.iter().map(Val::from).collect();
    let results = SendPtr(results);
    let mut context = context;
    let future: BoxedCallFuture<'static> = Box::pin(async move {
        let results = results;
        let mut values = vec![Val::Bool(false); nresults];
        match func.call_async(&mut context, &args, &mut values).await {
            Ok(()) => {
                for (i, value) in values.iter().enumerate() {
                    // SAFETY: `results` holds `nresults` values, valid until now (see above).
                    unsafe { *results.get().add(i) = wasmtime_component_val_t::from(value) };
                }
            }
            // SAFETY: valid until the future is ready (see above).
            Err(error) => unsafe { error_out.write(Some(Box::new(wasmtime_error_t::from(error)))) },
        }
    });
    // SAFETY: wasmtime_call_future_t is #[repr(transparent)] over BoxedCallFuture (size checked
    // above), so the C API's wasmtime_call_future_delete frees it like one of its own.
    Box::into_raw(Box::new(future)).cast()
}
