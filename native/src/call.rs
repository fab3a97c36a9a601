//! The packed call frame: `wasmtime_func_call_unchecked` with all its arguments in one buffer.
//! Deno's FFI cost grows with the number of parameters, and this halves the cost of a call.
use std::ffi::c_void;
use wasmtime_c_api::wasmtime;
use wasmtime_c_api::{
    wasm_trap_t, wasmtime_error_t, wasmtime_func_call_unchecked, WasmtimeStoreContextMut,
};

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
