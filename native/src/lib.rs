//! libwasmtime for wasmtime-deno.
//!
//! Wasmtime's C API is re-exported unchanged, so every `wasm_*` / `wasmtime_*` symbol ends up
//! in the cdylib's dynamic symbol table. The `wasmtime_deno_*` functions in the modules below
//! exist only where the C API cannot be driven safely or fast enough from JavaScript; each
//! module's header says why it exists:
//!
//! * [`version`]: which Wasmtime release and headers this library was built from;
//! * [`engine`]: engine creation that reports a rejected configuration instead of aborting,
//!   and precompilation for another target;
//! * [`compile`]: compiling on Deno's blocking thread pool, from native copies only;
//! * [`epoch`]: the native epoch ticker and the per-store deadline callback;
//! * [`dropped`]: ids of JS objects that Wasmtime has dropped, queued for JS to collect;
//! * [`externref`]: externref values that carry a JS object's id;
//! * [`copy`]: raw copies into memory JS did not allocate;
//! * [`demangle`]: readable Rust and C++ names for trap frames;
//! * [`capture`]: the in-memory stdout/stderr stream for WASI guests;
//! * [`table_type`]: table limits of the full 64-bit range (the C API's panic on table64);
//! * [`thread`]: the thread-local state (fiber depth, current caller, pending async call);
//! * [`call`]: the packed call frame behind the fast call path;
//! * [`host`]: the trampoline of synchronous JS host functions;
//! * [`async_host`]: hand-off of async host calls from the fiber to the event loop;
//! * [`future`]: polling call futures with a real waker, and waiting for it without spinning;
//! * [`wasi`]: WASI preview 1 linked asynchronously, so deadlines can drop blocking calls;
//! * [`fs`]: files and directories opened once, checked by what was opened, then handed over;
//! * [`component_host`]: the trampoline of JS component host functions;
//! * [`component_resource`]: host-defined resources, and the queue of those the guest dropped;
//! * [`component_call`]: the packed frame behind the fast component call path;
//! * [`component_async`]: component calls as call futures, and component host functions
//!   performed by JS between polls (sync ones too, so call futures can import them);
//! * [`component_compile`]: compiling components on Deno's blocking thread pool;
//! * [`wasip2`]: WASI 0.2 for components, linked asynchronously;
//! * [`net`]: WASI 0.2 network (`wasi:sockets`, `wasi:http` outgoing) behind Deno's
//!   `--allow-net`, every address asked of JS when it is used;
//! * [`handoff`]: engines, shared memories and captures handed to other Workers by one-use token;
//! * [`shared_memory`]: host-side `memory.atomic.wait` / `notify` on shared memories;
//! * [`collector`]: the choice of garbage collector;
//! * [`ref_type`]: whether a reference is of a concrete type, for the unchecked call paths.
pub use wasmtime_c_api::*;

pub mod async_host;
pub mod call;
pub mod capture;
pub mod collector;
pub mod compile;
pub mod component_async;
pub mod component_call;
pub mod component_compile;
pub mod component_host;
pub mod component_resource;
pub mod copy;
pub mod demangle;
pub mod dropped;
pub mod engine;
pub mod epoch;
pub mod externref;
pub mod fs;
pub mod future;
pub mod handoff;
pub mod host;
pub mod net;
pub mod ref_type;
pub mod shared_memory;
pub mod table_type;
pub mod thread;
pub mod version;
pub mod wasi;
pub mod wasip2;
