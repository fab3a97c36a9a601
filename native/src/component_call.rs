//! The component call fast path: an exported component function called through Wasmtime's Rust
//! API with its arguments in one packed frame. `wasmtime_component_func_call` builds argument and
//! result vectors and converts every value to and from `wasmtime_component_val_t` on each call
//! (a `list<u8>` is one 32-byte value per byte); here the vectors belong to the function and are
//! reused, scalars are read from the frame where the binding's lowerers wrote them, and strings
//! and `list<u8>` are copied straight between JS buffers and Wasmtime's values.
//!
//! Only functions whose parameters and result are scalars, `string` or `list<u8>` get a callee;
//! every other function keeps the C API path. Wasmtime still typechecks every call
//! (`Func::call` checks the values against the function's type), and traps come back as the
//! same `wasmtime_error_t` the C API returns, so the binding's call bracket is unchanged.
use std::cell::Cell;
use std::ffi::c_void;
use wasmtime_c_api::wasmtime::component::{
    ComponentNamedList, Func, Lift, Lower, Type, TypedFunc, Val,
};
use wasmtime_c_api::wasmtime::Error;
use wasmtime_c_api::{wasmtime_error_t, WasmtimeStoreContextMut};

/// The kinds a callee handles, one per parameter and result.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Bool,
    S8,
    U8,
    S16,
    U16,
    S32,
    U32,
    S64,
    U64,
    F32,
    F64,
    Char,
    String,
    Bytes,
}

fn kind_of(ty: &Type) -> Option<Kind> {
    Some(match ty {
        Type::Bool => Kind::Bool,
        Type::S8 => Kind::S8,
        Type::U8 => Kind::U8,
        Type::S16 => Kind::S16,
        Type::U16 => Kind::U16,
        Type::S32 => Kind::S32,
        Type::U32 => Kind::U32,
        Type::S64 => Kind::S64,
        Type::U64 => Kind::U64,
        Type::Float32 => Kind::F32,
        Type::Float64 => Kind::F64,
        Type::Char => Kind::Char,
        Type::String => Kind::String,
        Type::List(list) if matches!(list.ty(), Type::U8) => Kind::Bytes,
        _ => return None,
    })
}

/// One exported function with its reusable vectors. The vectors are taken out of their cells
/// for the duration of a call, so a nested call of the same function (from a host function)
/// finds them empty and uses its own; nothing is ever borrowed across the guest's code.
pub struct Callee {
    func: Func,
    /// A typed call for the signatures with a `list<u8>` that have one (see [`typed_call`]).
    typed: Option<TypedCall>,
    params: Box<[Kind]>,
    result: Option<Kind>,
    args: Cell<Vec<Val>>,
    results: Cell<Vec<Val>>,
    bytes: Cell<Vec<u8>>,
}

/// One value slot of the frame: the layout of a `wasmtime_component_val_t` (a kind byte, the
/// payload at 8), so the binding's scalar lowerers write it unchanged. A `string` or `list<u8>`
/// is `{ size, data }` at 8, like the C API's `wasm_byte_vec_t`.
#[repr(C)]
pub struct Slot {
    kind: u64,
    payload: [u8; 8],
    data: *const u8,
    _reserved: u64,
}

/// The packed frame of [`wasmtime_deno_component_call`]: `[0]` callee, `[8]` context, `[16]`
/// error out, `[32..]` the result slot (if the function has a result), then one slot per
/// parameter.
#[repr(C)]
pub struct ComponentCallFrame {
    callee: *const Callee,
    context: *mut c_void,
    error: Option<Box<wasmtime_error_t>>,
    _reserved: u64,
    slots: [Slot; 0],
}

pub const COMPONENT_FRAME_CALLEE: usize = 0;
pub const COMPONENT_FRAME_CONTEXT: usize = 8;
pub const COMPONENT_FRAME_ERROR: usize = 16;
pub const COMPONENT_FRAME_SLOTS: usize = 32;
pub const COMPONENT_SLOT_SIZE: usize = 32;
const _: () = assert!(
    std::mem::offset_of!(ComponentCallFrame, callee) == COMPONENT_FRAME_CALLEE
        && std::mem::offset_of!(ComponentCallFrame, context) == COMPONENT_FRAME_CONTEXT
        && std::mem::offset_of!(ComponentCallFrame, error) == COMPONENT_FRAME_ERROR
        && std::mem::offset_of!(ComponentCallFrame, slots) == COMPONENT_FRAME_SLOTS
        && std::mem::size_of::<Slot>() == COMPONENT_SLOT_SIZE
        && std::mem::offset_of!(Slot, payload) == 8
        && std::mem::offset_of!(Slot, data) == 16
);

/// A callee for `func` of the store `context`, or null if a parameter or the result is not a
/// scalar, `string` or `list<u8>` (those functions keep the C API path). Free it with
/// [`wasmtime_deno_component_callee_delete`]; it holds no reference to the store.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_component_callee_new(
    func: &Func,
    context: WasmtimeStoreContextMut<'_>,
) -> *mut Callee {
    let ty = func.ty(&context);
    let mut params = Vec::new();
    for (_, param) in ty.params() {
        match kind_of(&param) {
            Some(kind) => params.push(kind),
            None => return std::ptr::null_mut(),
        }
    }
    let mut results = ty.results();
    let result = match results.next() {
        None => None,
        Some(result) => match kind_of(&result) {
            Some(kind) => Some(kind),
            None => return std::ptr::null_mut(),
        },
    };
    if results.next().is_some() {
        return std::ptr::null_mut();
    }
    let args = Vec::with_capacity(params.len());
    let typed = typed_call(func, &context, &params, result);
    Box::into_raw(Box::new(Callee {
        func: *func,
        typed,
        params: params.into_boxed_slice(),
        result,
        args: Cell::new(args),
        results: Cell::new(vec![Val::Bool(false); result.is_some() as usize]),
        bytes: Cell::new(Vec::new()),
    }))
}

/// Frees a callee made by [`wasmtime_deno_component_callee_new`].
///
/// # Safety
/// `callee` came from `wasmtime_deno_component_callee_new` and no call is running on it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_component_callee_delete(callee: *mut Callee) {
    if !callee.is_null() {
        // SAFETY: see the contract above.
        drop(unsafe { Box::from_raw(callee) });
    }
}

fn payload<const N: usize>(slot: &Slot) -> [u8; N] {
    let mut out = [0; N];
    out.copy_from_slice(&slot.payload[..N]);
    out
}

/// The bytes of a `{ size, data }` slot.
///
/// # Safety
/// The binding wrote a pointer to `size` live bytes (or size 0).
unsafe fn bytes_of(slot: &Slot) -> &[u8] {
    let size = u64::from_le_bytes(slot.payload) as usize;
    if size == 0 {
        &[]
    } else {
        // SAFETY: see the contract above.
        unsafe { std::slice::from_raw_parts(slot.data, size) }
    }
}

/// The argument in `slot` as a value of `kind`.
///
/// # Safety
/// As [`bytes_of`] for strings and lists.
unsafe fn read(kind: Kind, slot: &Slot) -> Result<Val, Error> {
    Ok(match kind {
        Kind::Bool => Val::Bool(slot.payload[0] != 0),
        Kind::S8 => Val::S8(slot.payload[0] as i8),
        Kind::U8 => Val::U8(slot.payload[0]),
        Kind::S16 => Val::S16(i16::from_le_bytes(payload(slot))),
        Kind::U16 => Val::U16(u16::from_le_bytes(payload(slot))),
        Kind::S32 => Val::S32(i32::from_le_bytes(payload(slot))),
        Kind::U32 => Val::U32(u32::from_le_bytes(payload(slot))),
        Kind::S64 => Val::S64(i64::from_le_bytes(slot.payload)),
        Kind::U64 => Val::U64(u64::from_le_bytes(slot.payload)),
        Kind::F32 => Val::Float32(f32::from_le_bytes(payload(slot))),
        Kind::F64 => Val::Float64(f64::from_le_bytes(slot.payload)),
        Kind::Char => {
            let code = u32::from_le_bytes(payload(slot));
            Val::Char(
                char::from_u32(code)
                    .ok_or_else(|| Error::msg(format!("{code:#x} is not a Unicode scalar value")))?,
            )
        }
        // SAFETY: see the contract above.
        Kind::String => match std::str::from_utf8(unsafe { bytes_of(slot) }) {
            Ok(text) => Val::String(text.to_owned()),
            Err(_) => return Err(Error::msg("string argument is not valid UTF-8")),
        },
        // SAFETY: see the contract above.
        Kind::Bytes => Val::List(unsafe { bytes_of(slot) }.iter().map(|&b| Val::U8(b)).collect()),
    })
}

/// Writes `value` into `slot`; strings point into `value`, byte lists into `bytes`.
fn write(value: &Val, slot: &mut Slot, bytes: &mut Vec<u8>) -> Result<(), Error> {
    let mut put = |raw: u64| slot.payload = raw.to_le_bytes();
    match value {
        Val::Bool(v) => put(*v as u64),
        Val::S8(v) => put(*v as u8 as u64),
        Val::U8(v) => put(*v as u64),
        Val::S16(v) => put(*v as u16 as u64),
        Val::U16(v) => put(*v as u64),
        Val::S32(v) => put(*v as u32 as u64),
        Val::U32(v) => put(*v as u64),
        Val::S64(v) => put(*v as u64),
        Val::U64(v) => put(*v),
        Val::Float32(v) => put(v.to_bits() as u64),
        Val::Float64(v) => put(v.to_bits()),
        Val::Char(v) => put(*v as u64),
        Val::String(text) => {
            put(text.len() as u64);
            slot.data = text.as_ptr();
        }
        Val::List(items) => {
            bytes.clear();
            bytes.reserve(items.len());
            for item in items {
                match item {
                    Val::U8(b) => bytes.push(*b),
                    _ => return Err(Error::msg("list<u8> result holds a non-u8 value")),
                }
            }
            put(bytes.len() as u64);
            slot.data = bytes.as_ptr();
        }
        _ => return Err(Error::msg("unexpected component result kind")),
    }
    Ok(())
}

/// Calls the frame's callee with the arguments in its slots and writes the result into the
/// result slot (a string or byte list stays valid until the next call of this callee).
/// Returns true on success; on failure the error (a trap, a type mismatch) is left in the
/// frame for the binding to take.
///
/// # Safety
/// The binding filled the frame for a live callee of the store `context`, with one slot per
/// parameter after the result slot, and pointers to live bytes in string and list slots.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_component_call(frame: &mut ComponentCallFrame) -> bool {
    // SAFETY: see the contract above.
    let (callee, mut context): (&Callee, WasmtimeStoreContextMut<'_>) =
        unsafe { (&*frame.callee, std::mem::transmute(frame.context)) };
    let has_result = callee.result.is_some() as usize;
    let slots = frame.slots.as_mut_ptr();
    if let Some(typed) = &callee.typed {
        return match typed(callee, &mut context, slots) {
            Ok(()) => true,
            Err(error) => {
                std::mem::forget(frame.error.replace(Box::new(wasmtime_error_t::from(error))));
                false
            }
        };
    }
    let mut args = callee.args.take();
    let mut results = callee.results.take();
    args.clear();
    results.resize(has_result, Val::Bool(false));
    let mut outcome = Ok(());
    for (i, &kind) in callee.params.iter().enumerate() {
        // SAFETY: the frame has a slot per parameter after the result slot.
        match unsafe { read(kind, &*slots.add(has_result + i)) } {
            Ok(value) => args.push(value),
            Err(error) => {
                outcome = Err(error);
                break;
            }
        }
    }
    if outcome.is_ok() {
        outcome = callee.func.call(&mut context, &args, &mut results);
    }
    // Arguments may own memory (strings, lists); dropped now rather than at the next call.
    args.clear();
    if outcome.is_ok() && has_result == 1 {
        let mut bytes = callee.bytes.take();
        // SAFETY: the result slot is the frame's first.
        outcome = write(&results[0], unsafe { &mut *slots }, &mut bytes);
        callee.bytes.set(bytes);
    }
    callee.args.set(args);
    callee.results.set(results);
    match outcome {
        Ok(()) => true,
        Err(error) => {
            // The binding takes and clears the error after each failure; one it did not take
            // is leaked rather than freed twice.
            std::mem::forget(frame.error.replace(Box::new(wasmtime_error_t::from(error))));
            false
        }
    }
}

// ---- typed calls for `list<u8>` ------------------------------------------------------------------
//
// Wasmtime's dynamic values hold a `list<u8>` as one `Val` per byte (32 bytes each, lowered and
// lifted one by one: ~75 ms for 1 MiB here), while its typed API copies `&[u8]` / `Vec<u8>` as
// bytes. Typed calls need the signature at compile time, so the common shapes with a `list<u8>`
// are instantiated here: one parameter and a result, either of which is the byte list. Other
// signatures with a `list<u8>` stay on the dynamic path (correct, slower for big lists).

/// A typed call: reads the arguments from the slots, calls, writes the result slot.
type TypedCall =
    Box<dyn Fn(&Callee, &mut WasmtimeStoreContextMut<'_>, *mut Slot) -> Result<(), Error>>;

/// A parameter type of a typed call, read from its slot.
trait FromSlot: Sized {
    /// # Safety
    /// As [`bytes_of`] for strings and lists; the value does not outlive the call.
    unsafe fn from_slot(slot: &Slot) -> Result<Self, Error>;
}

/// A result type of a typed call, written into the result slot.
trait ToSlot {
    fn to_slot(self, slot: &mut Slot, callee: &Callee);
}

macro_rules! scalar_slot {
    ($($t:ty),*) => {$(
        impl FromSlot for $t {
            unsafe fn from_slot(slot: &Slot) -> Result<Self, Error> {
                Ok(<$t>::from_le_bytes(payload(slot)))
            }
        }
        impl ToSlot for $t {
            fn to_slot(self, slot: &mut Slot, _: &Callee) {
                let mut raw = [0; 8];
                raw[..size_of::<$t>()].copy_from_slice(&self.to_le_bytes());
                slot.payload = raw;
            }
        }
    )*};
}
use std::mem::size_of;
scalar_slot!(u32, i32, u64, i64);

impl FromSlot for bool {
    unsafe fn from_slot(slot: &Slot) -> Result<Self, Error> {
        Ok(slot.payload[0] != 0)
    }
}
impl ToSlot for bool {
    fn to_slot(self, slot: &mut Slot, _: &Callee) {
        slot.payload = (self as u64).to_le_bytes();
    }
}

impl FromSlot for &'static [u8] {
    unsafe fn from_slot(slot: &Slot) -> Result<Self, Error> {
        // SAFETY: see the trait; 'static only stands for "this call" (Wasmtime copies it).
        Ok(unsafe { std::slice::from_raw_parts(bytes_of(slot).as_ptr(), bytes_of(slot).len()) })
    }
}

impl FromSlot for &'static str {
    unsafe fn from_slot(slot: &Slot) -> Result<Self, Error> {
        // SAFETY: as for `&[u8]`.
        let bytes: &'static [u8] = unsafe { FromSlot::from_slot(slot)? };
        std::str::from_utf8(bytes).map_err(|_| Error::msg("string argument is not valid UTF-8"))
    }
}

impl ToSlot for Vec<u8> {
    fn to_slot(self, slot: &mut Slot, callee: &Callee) {
        // Copied into the callee's buffer (kept until its next call; the binding copies it out
        // first) and freed at once: the allocator then reuses the same block on the next call
        // instead of mapping fresh pages, which measured slower than the extra copy.
        let mut bytes = callee.bytes.take();
        bytes.clear();
        bytes.extend_from_slice(&self);
        drop(self);
        slot.payload = (bytes.len() as u64).to_le_bytes();
        slot.data = bytes.as_ptr();
        callee.bytes.set(bytes);
    }
}

impl ToSlot for String {
    fn to_slot(self, slot: &mut Slot, callee: &Callee) {
        self.into_bytes().to_slot(slot, callee);
    }
}

impl ToSlot for () {
    fn to_slot(self, _: &mut Slot, _: &Callee) {}
}

/// The typed call of one parameter `P` and result `R` (`()` for none).
fn unary<P, R>(func: &Func, context: &WasmtimeStoreContextMut<'_>) -> Option<TypedCall>
where
    P: FromSlot + Lower + Send + Sync + 'static,
    R: ToSlot + Lift + Send + Sync + 'static,
    (P,): ComponentNamedList + Lower,
{
    if R::is_unit() {
        let typed: TypedFunc<(P,), ()> = func.typed(context).ok()?;
        Some(Box::new(move |_, context, slots| {
            // SAFETY: the one parameter's slot (no result slot).
            let arg = unsafe { P::from_slot(&*slots)? };
            typed.call(&mut *context, (arg,))?;
            Ok(())
        }))
    } else {
        let typed: TypedFunc<(P,), (R,)> = func.typed(context).ok()?;
        Some(Box::new(move |callee, context, slots| {
            // SAFETY: the result slot, then the parameter's.
            let arg = unsafe { P::from_slot(&*slots.add(1))? };
            let (result,) = typed.call(&mut *context, (arg,))?;
            // SAFETY: the result slot.
            result.to_slot(unsafe { &mut *slots }, callee);
            Ok(())
        }))
    }
}

/// Whether a result type is `()` (no result).
trait Unit {
    fn is_unit() -> bool;
}
impl<T: 'static> Unit for T {
    fn is_unit() -> bool {
        std::any::TypeId::of::<T>() == std::any::TypeId::of::<()>()
    }
}

/// The typed call of a signature with a `list<u8>`, if it is one of the shapes above.
fn typed_call(
    func: &Func,
    context: &WasmtimeStoreContextMut<'_>,
    params: &[Kind],
    result: Option<Kind>,
) -> Option<TypedCall> {
    use Kind::*;
    match (params, result) {
        ([Bytes], None) => unary::<&'static [u8], ()>(func, context),
        ([Bytes], Some(Bytes)) => unary::<&'static [u8], Vec<u8>>(func, context),
        ([Bytes], Some(String)) => unary::<&'static [u8], std::string::String>(func, context),
        ([Bytes], Some(U32)) => unary::<&'static [u8], u32>(func, context),
        ([Bytes], Some(S32)) => unary::<&'static [u8], i32>(func, context),
        ([Bytes], Some(U64)) => unary::<&'static [u8], u64>(func, context),
        ([Bytes], Some(S64)) => unary::<&'static [u8], i64>(func, context),
        ([Bytes], Some(Bool)) => unary::<&'static [u8], bool>(func, context),
        ([String], Some(Bytes)) => unary::<&'static str, Vec<u8>>(func, context),
        ([U32], Some(Bytes)) => unary::<u32, Vec<u8>>(func, context),
        ([S32], Some(Bytes)) => unary::<i32, Vec<u8>>(func, context),
        ([U64], Some(Bytes)) => unary::<u64, Vec<u8>>(func, context),
        ([S64], Some(Bytes)) => unary::<i64, Vec<u8>>(func, context),
        ([], Some(Bytes)) => {
            let typed: TypedFunc<(), (Vec<u8>,)> = func.typed(context).ok()?;
            Some(Box::new(move |callee, context, slots| {
                let (result,) = typed.call(&mut *context, ())?;
                // SAFETY: the result slot.
                result.to_slot(unsafe { &mut *slots }, callee);
                Ok(())
            }))
        }
        _ => None,
    }
}
