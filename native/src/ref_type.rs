//! Concrete reference types on the unchecked paths. `wasmtime_func_call_unchecked` and the
//! results of unchecked host functions take raw references that Wasmtime trusts to be of the
//! declared type; a struct of the wrong concrete type there is memory-unsafe. The C API has no
//! way to ask whether a GC object, function or exception is of a concrete type (or a subtype),
//! so these answer it from Wasmtime's own subtyping, and guard the engine assertions that would
//! otherwise panic (an abort: this crate builds with `panic = "abort"`).
use wasmtime_c_api::wasmtime::{Engine, Func, HeapType, ValType};
use wasmtime_c_api::{
    wasm_valtype_t, wasmtime_anyref_t, wasmtime_exnref_t, WasmtimeStoreContextMut,
};

/// What `wasmtime_deno_ref_matches` answers.
pub const REF_MATCH_NO: u8 = 0;
pub const REF_MATCH_YES: u8 = 1;
/// The value or the type belongs to another store or engine, or the value was unrooted.
pub const REF_MATCH_FOREIGN: u8 = 2;

/// The value kinds `wasmtime_deno_ref_matches` takes (`wasmtime_valkind_t`).
const KIND_FUNCREF: u8 = 5;
const KIND_ANYREF: u8 = 7;
const KIND_EXNREF: u8 = 8;

fn heap_engine(heap: &HeapType) -> Option<&Engine> {
    match heap {
        HeapType::ConcreteFunc(f) => Some(f.engine()),
        HeapType::ConcreteStruct(s) => Some(s.engine()),
        HeapType::ConcreteArray(a) => Some(a.engine()),
        HeapType::ConcreteExn(e) => Some(e.engine()),
        _ => None,
    }
}

fn same_engine(heap: &HeapType, engine: &Engine) -> bool {
    heap_engine(heap).is_none_or(|e| Engine::same(e, engine))
}

/// Whether the non-null reference at `value` (a `wasmtime_func_t`, `wasmtime_anyref_t` or
/// `wasmtime_exnref_t`, by `kind`) of the store `context` is of the reference type `ty`.
///
/// # Safety
/// `value` points to a valid, rooted value of `kind` that belongs to this store: Wasmtime's
/// own check of that is crate-private and asserts, so the JS side checks the value's Store
/// first (as it does before every unchecked use of a reference).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_ref_matches(
    context: WasmtimeStoreContextMut<'_>,
    kind: u8,
    value: *const u8,
    ty: &wasm_valtype_t,
) -> u8 {
    let ValType::Ref(ref_type) = ty else { return REF_MATCH_NO };
    let heap = ref_type.heap_type();
    if !same_engine(heap, context.engine()) {
        return REF_MATCH_FOREIGN;
    }
    let answer = match kind {
        KIND_FUNCREF => {
            // SAFETY: a non-null wasmtime_func_t is a union whose live field is the Func.
            let func = unsafe { *value.cast::<Func>() };
            match heap {
                HeapType::Func => Ok(true),
                HeapType::ConcreteFunc(f) => Ok(func.matches_ty(&context, f)),
                _ => Ok(false),
            }
        }
        KIND_ANYREF => {
            // SAFETY: the caller passes a valid wasmtime_anyref_t.
            let Some(any) = (unsafe { (*value.cast::<wasmtime_anyref_t>()).as_wasmtime() }) else {
                return REF_MATCH_FOREIGN;
            };
            any.matches_ty(&context, heap)
        }
        KIND_EXNREF => {
            // SAFETY: the caller passes a valid wasmtime_exnref_t.
            let Some(exn) = (unsafe { (*value.cast::<wasmtime_exnref_t>()).as_wasmtime() }) else {
                return REF_MATCH_FOREIGN;
            };
            exn.matches_ty(&context, heap)
        }
        _ => Ok(false),
    };
    match answer {
        Ok(true) => REF_MATCH_YES,
        Ok(false) => REF_MATCH_NO,
        // An unrooted reference (the JS side disposes before it gets here; kept for safety).
        Err(_) => REF_MATCH_FOREIGN,
    }
}

/// Whether value type `a` is a subtype of `b` (`exact`: the same type). 2 if their concrete
/// types belong to different engines (Wasmtime's own comparison panics then).
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_valtype_matches(
    a: &wasm_valtype_t,
    b: &wasm_valtype_t,
    exact: bool,
) -> u8 {
    if let (ValType::Ref(ra), ValType::Ref(rb)) = (a, b) {
        if let (Some(ea), Some(eb)) = (heap_engine(ra.heap_type()), heap_engine(rb.heap_type())) {
            if !Engine::same(ea, eb) {
                return REF_MATCH_FOREIGN;
            }
        }
    }
    let matches = if exact { ValType::eq(a, b) } else { a.matches(b) };
    if matches { REF_MATCH_YES } else { REF_MATCH_NO }
}
