/**
 * A `wasmtime run`-like command line for Deno: runs a WASI preview 1 command with exactly the
 * directories, environment and budgets given on the command line (each within Deno's grant).
 *
 * It exits with the guest's exit code. A trap is printed like the wasmtime CLI prints it
 * (`Error: failed to run main module` and the wasm backtrace) and exits with status 134 on
 * Unix (128 + SIGABRT, as the wasmtime CLI does) or 3 on Windows. A usage error exits with 2,
 * any other failure with 1.
 *
 * Options:
 * ```text
 * --dir HOST[::GUEST]     preopen a host directory (read-only), as GUEST (default: HOST)
 * --dir-rw HOST[::GUEST]  preopen a host directory with write access
 * --env NAME=VALUE        set an environment variable (repeatable)
 * --inherit-env           pass the whole host environment (needs --allow-env)
 * --fuel N                fuel budget (instructions, roughly)
 * --timeout DURATION      wall-clock limit, e.g. 500ms, 5s, 2m
 * --max-memory SIZE       cap on linear memory, e.g. 64M, 1G
 * --max-table-elements N  cap on the elements of any one table (default 1000000)
 * --max-instances N       cap on instances; --max-tables N, --max-memories N likewise (default 10)
 * --cache DIR             cache compiled code in DIR (needs read/write access to it)
 * ```
 *
 * @example Run a module with one read-only directory, an environment variable and budgets
 * ```sh
 * deno run --allow-ffi --allow-env=HOME --allow-read jsr:@wasmtime-deno/wasmtime/cli \
 *   run app.wasm --dir ./data::/data --env K=V --fuel 100000000 --timeout 5s --max-memory 64M -- args...
 * ```
 *
 * @module
 */
import { runCli } from "./command_line.ts";

if (import.meta.main) Deno.exit(await runCli(Deno.args));
