/**
 * `wasmtime-deno`: a command line like `wasmtime run` for Deno. Runs a WASI preview 1 module
 * with exactly the directories, environment and budgets given on the command line, each
 * within Deno's grant. Options come before the module; every argument after the module goes
 * to the guest unchanged (`--` and flags such as `--env` included); `--` before the module
 * ends the options. The guest's argv[0] is the module's file name (or `--argv0`).
 *
 * Exit status, as `wasmtime run`: the guest's `proc_exit` status (0 when `_start` returns);
 * 134 on Unix (128 + SIGABRT) or 3 on Windows when the guest traps, runs out of fuel or times
 * out, printed as `Error: failed to run main module …` with the wasm backtrace; 1 for any
 * other failure (unreadable module, missing permission, a `proc_exit` status outside
 * `[0, 126)`); 2 for a usage error.
 *
 * Options:
 * ```text
 * --dir HOST[::GUEST]     preopen a host directory, read-write, as GUEST (default: HOST)
 * --dir-ro HOST[::GUEST]  preopen a host directory read-only (wasmtime run has no such flag)
 * --tmp                   preopen a fresh, empty, private directory as /tmp (removed after)
 * --env NAME=VALUE        set an environment variable for the guest (repeatable)
 * --env NAME              pass the host's NAME through, if set (needs --allow-env=NAME)
 * --inherit-env           pass the whole host environment (needs --allow-env)
 * --inherit-network       let a WASI 0.2 guest use the network (sockets, name lookup, HTTP),
 *                         each address checked against Deno's --allow-net when it is used
 * --argv0 NAME            the guest's argv[0] (default: the module's file name)
 * --invoke NAME           call export NAME (after `_initialize`) instead of `_start`; the
 *                         arguments after the module are its parameters, each result is
 *                         printed on its own line
 * --fuel N                fuel budget (instructions, roughly)
 * --timeout DURATION      wall-clock limit, e.g. 500ms, 5s, 2m (a bare number is seconds)
 * --max-memory SIZE       cap on each linear memory, e.g. 64MiB, 1G
 * --max-table-elements N  cap on the elements of any one table (default 1000000)
 * --max-instances N       cap on instances; --max-tables N, --max-memories N likewise (default 10)
 * --cache DIR             keep compiled code in DIR (needs --allow-read=DIR --allow-write=DIR)
 * -S threads[=y|n]        wasi-threads (also --wasi threads; -W threads is accepted): each
 *                         wasi.thread-spawn starts a thread on a Worker, as wasmtime run does
 * -h, --help / -V, --version
 * ```
 *
 * Installed as a command (the library flags are those of the README's Permissions section;
 * each module and directory is then asked for at a terminal):
 * ```sh
 * FLAGS="$(deno run -A jsr:@wasmtime-deno/wasmtime/build-native --print-flags)"
 * deno install -g -n wasmtime-deno $FLAGS jsr:@wasmtime-deno/wasmtime/cli
 * ```
 *
 * @example Run a module with a read-only directory, a private /tmp, a variable and budgets
 * ```sh
 * deno run --allow-ffi --allow-env=WASMTIME_LIB,WASMTIME_DENO_CACHE,DENO_DIR,XDG_CACHE_HOME,HOME \
 *   --allow-read --allow-write=/tmp \
 *   jsr:@wasmtime-deno/wasmtime/cli --dir-ro ./data::/data --tmp --env K=V \
 *   --fuel 100000000 --timeout 5s --max-memory 64MiB app.wasm --guest-flag input.txt
 * ```
 *
 * @module
 */
import { runCli } from "./command_line.ts";

if (import.meta.main) Deno.exit(await runCli(Deno.args));
