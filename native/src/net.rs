//! WASI 0.2 network (`wasi:sockets`, `wasi:http` outgoing) behind Deno's `--allow-net`.
//!
//! Native code opens these sockets, so Deno never sees them: every address a guest uses is
//! asked of JS, which answers with `Deno.permissions.querySync` for the address actually used
//! (deny rules included), at the time of use. Wasmtime's checks are futures; ours stay pending
//! in a per-store [`Gate`] until JS, between two polls of the call future, takes the question
//! (`wasmtime_deno_net_take`) and answers it (`wasmtime_deno_net_answer`), which wakes the
//! future. Names: `wasi:sockets/ip-name-lookup` is wrapped so that the store remembers which
//! names resolved to which addresses (a grant on `example.com:443` then covers the addresses
//! the guest resolved from it, and nothing else), and a lookup is itself a question (DNS
//! traffic to a name Deno does not grant is not sent). `wasi:http`: each request's
//! `host:port` is asked before it is sent, as Deno's `fetch` does; a refusal is the guest's
//! `HTTP-request-denied`.
//!
//! The store's gate lives in a registry keyed by the address of the store's data (stable for
//! the store's life), because the C API's store data has no room for it; JS removes the entry
//! before it frees the store (`wasmtime_deno_net_detach`).
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Waker};
use wasmtime_c_api::wasmtime;
use wasmtime_c_api::{
    wasi_config_t, wasmtime_component_linker_t, wasmtime_error_t, WasmtimeStoreContextMut,
    WasmtimeStoreData,
};
use wasmtime::component::{Linker, Resource};
use wasmtime::StoreContextMut;
use wasmtime_wasi::p2::bindings::sockets::ip_name_lookup::{
    Host as LookupHost, HostResolveAddressStream, ResolveAddressStream,
};
use wasmtime_wasi::p2::bindings::sockets::network::{ErrorCode, IpAddress, Network};
use wasmtime_wasi::sockets::{SocketAddrUse, WasiSocketsView};
use wasmtime_wasi::WasiView;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks};

/// What a question is about (the `kind` JS reads).
const ASK_CONNECT: u64 = 0;
const ASK_BIND: u64 = 1;
const ASK_LISTEN: u64 = 2;
const ASK_LOOKUP: u64 = 3;
const ASK_HTTP: u64 = 4;

/// Bounds on what a store remembers of its lookups (a hostile guest may resolve without end).
const MAX_REMEMBERED_ADDRESSES: usize = 4096;
const MAX_NAMES_PER_ADDRESS: usize = 16;
const MAX_OPEN_STREAMS: usize = 4096;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// One question for JS: may the guest use this address (or name) now?
pub struct Ask {
    kind: u64,
    port: u16,
    /// The address or name; for connections also the names it was resolved from, one a line.
    text: String,
    state: Mutex<(Option<bool>, Option<Waker>)>,
}

/// The answer to an [`Ask`], as a future (pending until JS answered).
struct Answer(Arc<Ask>);

impl Future for Answer {
    type Output = bool;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<bool> {
        let mut state = lock(&self.0.state);
        match state.0 {
            Some(allowed) => Poll::Ready(allowed),
            None => {
                // The latest waker: a check may first be polled with a no-op one (a guest's
                // `finish-connect` before it polls), then by `wasi:io/poll` with the call's.
                state.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

#[derive(Default)]
struct Names {
    /// Each address the store's lookups returned, with the names it came from.
    by_address: HashMap<IpAddr, Vec<String>>,
    /// The name each open lookup stream (by resource rep) resolves.
    streams: HashMap<u32, String>,
}

/// A store's questions, waiting for JS, and what its lookups returned.
#[derive(Default)]
pub struct Gate {
    queue: Mutex<VecDeque<Arc<Ask>>>,
    names: Mutex<Names>,
}

impl Gate {
    /// Queues a question right away (JS takes it after the poll that made it) and returns the
    /// future of its answer.
    fn ask(&self, kind: u64, text: String, port: u16) -> Answer {
        let ask = Arc::new(Ask {
            kind,
            port,
            text,
            state: Mutex::new((None, None)),
        });
        lock(&self.queue).push_back(ask.clone());
        Answer(ask)
    }

    fn ask_address(&self, kind: u64, addr: SocketAddr) -> Answer {
        let ip = addr.ip().to_canonical();
        let mut text = ip.to_string();
        if kind == ASK_CONNECT {
            if let Some(names) = lock(&self.names).by_address.get(&ip) {
                for name in names {
                    text.push('\n');
                    text.push_str(name);
                }
            }
        }
        self.ask(kind, text, addr.port())
    }

    fn check(self: &Arc<Self>, addr: SocketAddr, usage: SocketAddrUse) -> CheckFuture {
        let unspecified_any_port = addr.ip().is_unspecified() && addr.port() == 0;
        let kind = match usage {
            // As in Deno, the grant to listen (or bind) is the grant to hear from anyone.
            SocketAddrUse::TcpAccept | SocketAddrUse::UdpReceive => {
                return Box::pin(std::future::ready(true));
            }
            // An ephemeral TCP port on the wildcard address: what a connect binds implicitly.
            // Reaching anyone through it is checked on its own; listening on it is checked at
            // the bound address. A UDP bind has no listen step after it (a bound socket hears
            // anyone), so it is asked like any bind, the implicit one of a send included, as
            // Deno asks for `Deno.listenDatagram({ hostname: "0.0.0.0", port: 0 })`.
            SocketAddrUse::TcpBind if unspecified_any_port => {
                return Box::pin(std::future::ready(true));
            }
            SocketAddrUse::TcpBind | SocketAddrUse::UdpBind => ASK_BIND,
            SocketAddrUse::TcpListen => ASK_LISTEN,
            SocketAddrUse::TcpConnect | SocketAddrUse::UdpSend => ASK_CONNECT,
            #[allow(unreachable_patterns)]
            _ => return Box::pin(std::future::ready(false)),
        };
        Box::pin(self.ask_address(kind, addr))
    }

    fn remember_stream(&self, rep: u32, name: String) {
        let mut names = lock(&self.names);
        if names.streams.len() >= MAX_OPEN_STREAMS {
            names.streams.clear();
        }
        names.streams.insert(rep, name);
    }

    fn remember_address(&self, rep: u32, ip: IpAddr) {
        let mut names = lock(&self.names);
        let Some(name) = names.streams.get(&rep).cloned() else {
            return;
        };
        if names.by_address.len() >= MAX_REMEMBERED_ADDRESSES
            && !names.by_address.contains_key(&ip)
        {
            return; // an address not remembered is only refused, never wrongly allowed
        }
        let list = names.by_address.entry(ip.to_canonical()).or_default();
        if list.len() < MAX_NAMES_PER_ADDRESS && !list.contains(&name) {
            list.push(name);
        }
    }
}

type CheckFuture = Pin<Box<dyn Future<Output = bool> + Send + Sync>>;

/// Per-store network state, owned by the registry.
struct StoreNet {
    gate: Arc<Gate>,
    http: WasiHttpCtx,
    hooks: Hooks,
}

fn registry() -> MutexGuard<'static, HashMap<usize, Box<StoreNet>>> {
    static REGISTRY: OnceLock<Mutex<HashMap<usize, Box<StoreNet>>>> = OnceLock::new();
    lock(REGISTRY.get_or_init(Default::default))
}

fn key_of(data: &WasmtimeStoreData) -> usize {
    data as *const WasmtimeStoreData as usize
}

fn gate_of(data: &WasmtimeStoreData) -> Option<Arc<Gate>> {
    registry().get(&key_of(data)).map(|entry| entry.gate.clone())
}

/// Gives `config` network access whose every use is asked of JS through the returned gate
/// (an owned reference: pass it to `wasmtime_deno_net_attach`, or free it with
/// `wasmtime_deno_net_gate_free`). `tcp`, `udp` and `lookup` enable those protocols.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_wasi_config_network(
    config: &mut wasi_config_t,
    tcp: bool,
    udp: bool,
    lookup: bool,
) -> *const Gate {
    let gate = Arc::new(Gate::default());
    let checked = gate.clone();
    crate::wasi::builder_of(config)
        .allow_tcp(tcp)
        .allow_udp(udp)
        .allow_ip_name_lookup(lookup)
        .socket_addr_check(move |addr, usage| checked.check(addr, usage));
    Arc::into_raw(gate)
}

/// Frees a gate reference that was not attached.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_net_gate_free(gate: *const Gate) {
    if !gate.is_null() {
        // SAFETY: an owned reference from wasmtime_deno_wasi_config_network.
        drop(unsafe { Arc::from_raw(gate) });
    }
}

/// Attaches `gate` (taking the reference) to the store whose WASI context was built from its
/// config, so that JS finds its questions and `wasi:http` its state.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_net_attach(
    mut context: WasmtimeStoreContextMut<'_>,
    gate: *const Gate,
) {
    // SAFETY: an owned reference from wasmtime_deno_wasi_config_network.
    let gate = unsafe { Arc::from_raw(gate) };
    let entry = Box::new(StoreNet {
        gate: gate.clone(),
        http: WasiHttpCtx::new(),
        hooks: Hooks { gate },
    });
    registry().insert(key_of(context.data_mut()), entry);
}

/// Forgets the store's network state (JS calls it before freeing the store).
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_net_detach(mut context: WasmtimeStoreContextMut<'_>) {
    let entry = registry().remove(&key_of(context.data_mut()));
    drop(entry);
}

/// Takes the store's next question, writing `[kind, port, text pointer, text length]` into
/// `info` (the text stays valid until the question is answered); null if there is none.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_net_take(
    mut context: WasmtimeStoreContextMut<'_>,
    info: *mut u64,
) -> *const Ask {
    let Some(gate) = gate_of(context.data_mut()) else {
        return std::ptr::null();
    };
    let Some(ask) = lock(&gate.queue).pop_front() else {
        return std::ptr::null();
    };
    let fields = [
        ask.kind,
        u64::from(ask.port),
        ask.text.as_ptr() as u64,
        ask.text.len() as u64,
    ];
    // SAFETY: info has 4 slots.
    unsafe { std::ptr::copy_nonoverlapping(fields.as_ptr(), info, fields.len()) };
    Arc::into_raw(ask)
}

/// Answers a question taken with `wasmtime_deno_net_take` (consumes it) and wakes its future.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmtime_deno_net_answer(ask: *const Ask, allowed: bool) {
    // SAFETY: a reference handed out by wasmtime_deno_net_take, answered once.
    let ask = unsafe { Arc::from_raw(ask) };
    let waker = {
        let mut state = lock(&ask.state);
        state.0 = Some(allowed);
        state.1.take()
    };
    if let Some(waker) = waker {
        waker.wake();
    }
}

fn ip_of(address: &IpAddress) -> IpAddr {
    match *address {
        IpAddress::Ipv4((a, b, c, d)) => IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
        IpAddress::Ipv6((a, b, c, d, e, f, g, h)) => {
            IpAddr::V6(Ipv6Addr::new(a, b, c, d, e, f, g, h))
        }
    }
}

/// A name that needs no DNS query: an IP address, with or without IPv6 brackets.
fn is_address_literal(name: &str) -> bool {
    let bare = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')).unwrap_or(name);
    bare.parse::<IpAddr>().is_ok()
}

fn lookup_error(error: wasmtime_wasi::p2::SocketError) -> wasmtime::Result<ErrorCode> {
    error.downcast()
}

/// Wraps `wasi:sockets/ip-name-lookup` (Wasmtime's implementation underneath): a lookup of a
/// name is asked of JS first, and the addresses it returns are remembered with their name.
fn link_lookup(linker: &mut Linker<WasmtimeStoreData>) -> wasmtime::Result<()> {
    // The interface's name as wasmtime-wasi 48 defines it (its WIT is 0.2.12): re-opened, not
    // created. If a new Wasmtime renamed it, this would define a second instance and leave
    // lookups unchecked; tests/wasip2_net_test.ts ("a grant on a name …") fails then.
    let mut lookup = linker.instance("wasi:sockets/ip-name-lookup@0.2.12")?;
    lookup.func_wrap_async(
        "resolve-addresses",
        |mut store: StoreContextMut<'_, WasmtimeStoreData>,
         (network, name): (Resource<Network>, String)| {
            Box::new(async move {
                let gate = gate_of(store.data_mut());
                if let Some(gate) = &gate {
                    if !is_address_literal(&name)
                        && !gate.ask(ASK_LOOKUP, name.clone(), 0).await
                    {
                        return Ok((Err(ErrorCode::AccessDenied),));
                    }
                }
                let mut view = store.data_mut().sockets();
                match LookupHost::resolve_addresses(&mut view, network, name.clone()) {
                    Ok(stream) => {
                        if let Some(gate) = &gate {
                            gate.remember_stream(stream.rep(), name);
                        }
                        Ok((Ok(stream),))
                    }
                    Err(error) => Ok((Err(lookup_error(error)?),)),
                }
            })
        },
    )?;
    lookup.func_wrap(
        "[method]resolve-address-stream.resolve-next-address",
        |mut store: StoreContextMut<'_, WasmtimeStoreData>,
         (stream,): (Resource<ResolveAddressStream>,)| {
            let rep = stream.rep();
            let gate = gate_of(store.data_mut());
            let mut view = store.data_mut().sockets();
            match HostResolveAddressStream::resolve_next_address(&mut view, stream) {
                Ok(Some(address)) => {
                    if let Some(gate) = &gate {
                        gate.remember_address(rep, ip_of(&address));
                    }
                    Ok((Ok(Some(address)),))
                }
                Ok(None) => Ok((Ok(None),)),
                Err(error) => Ok((Err(lookup_error(error)?),)),
            }
        },
    )?;
    Ok(())
}

/// `wasi:http` hooks of a store: each request's destination is asked before it is sent.
struct Hooks {
    gate: Arc<Gate>,
}

/// Hooks that refuse every request (a store without network state; not reached: JS links
/// `wasi:http` only for stores it attached).
struct Refuse;

type SendResult = wasmtime_wasi_http::Result<(
    http::Response<wasmtime_wasi_http::WasiBody>,
    Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
)>;

impl WasiHttpHooks for Refuse {
    fn send_request(
        &mut self,
        _request: http::Request<wasmtime_wasi_http::WasiBody>,
        _options: Option<wasmtime_wasi_http::RequestOptions>,
        _fut: Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) })
    }
}

impl WasiHttpHooks for Hooks {
    fn send_request(
        &mut self,
        request: http::Request<wasmtime_wasi_http::WasiBody>,
        options: Option<wasmtime_wasi_http::RequestOptions>,
        _fut: Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        let uri = request.uri();
        // The connection is made to the whole authority: one with userinfo (`user@host`) is
        // refused rather than checked by a host part that is not what gets resolved.
        if uri.authority().is_some_and(|authority| authority.as_str().contains('@')) {
            return Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) });
        }
        let default_port = if uri.scheme() == Some(&http::uri::Scheme::HTTP) { 80 } else { 443 };
        let port = uri.port_u16().unwrap_or(default_port);
        let host = uri.host().unwrap_or("").to_string();
        // Asked now, inside the guest's call (JS takes it after this poll); sent only once
        // allowed.
        let answer = self.gate.ask(ASK_HTTP, host, port);
        Box::new(async move {
            if !answer.await {
                return Err(wasmtime_wasi_http::Error::HttpRequestDenied);
            }
            use http_body_util::BodyExt;
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }
}

fn http_view(data: &mut WasmtimeStoreData) -> WasiHttpCtxView<'_> {
    let entry: *mut StoreNet = registry()
        .get_mut(&key_of(data))
        .map_or(std::ptr::null_mut(), |entry| &mut **entry as *mut StoreNet);
    let table = WasiView::ctx(data).table;
    if entry.is_null() {
        return WasiHttpCtxView {
            ctx: Box::leak(Box::new(WasiHttpCtx::new())),
            hooks: Box::leak(Box::new(Refuse)),
            table,
        };
    }
    // SAFETY: the boxed entry stays in the registry until JS detaches the store, which it does
    // only when freeing it, never while the store runs (this view borrows the store's data).
    let entry = unsafe { &mut *entry };
    WasiHttpCtxView {
        ctx: &mut entry.http,
        hooks: &mut entry.hooks,
        table,
    }
}

/// Links the network of a store made with `wasmtime_deno_wasi_config_network` into a linker
/// that has WASI 0.2 (asynchronously): the lookup wrapper, and `wasi:http` outgoing when
/// `http`.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_component_linker_add_network(
    linker: &mut wasmtime_component_linker_t,
    http: bool,
) -> Option<Box<wasmtime_error_t>> {
    // SAFETY: #[repr(transparent)] with a Linker<WasmtimeStoreData> as its only field.
    let linker = unsafe {
        &mut *(linker as *mut wasmtime_component_linker_t).cast::<Linker<WasmtimeStoreData>>()
    };
    linker.allow_shadowing(true);
    let mut result = link_lookup(linker);
    linker.allow_shadowing(false);
    if result.is_ok() && http {
        use wasmtime_wasi_http::p2::bindings;
        let options = bindings::LinkOptions::default();
        result = bindings::http::outgoing_handler::add_to_linker::<_, wasmtime_wasi_http::WasiHttp>(
            linker, http_view,
        )
        .and_then(|()| {
            bindings::http::types::add_to_linker::<_, wasmtime_wasi_http::WasiHttp>(
                linker,
                &options.into(),
                http_view,
            )
        });
    }
    match result {
        Ok(()) => None,
        Err(error) => Some(Box::new(wasmtime_error_t::from(error))),
    }
}
