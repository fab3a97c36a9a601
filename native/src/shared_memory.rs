//! Waiting on and notifying a shared memory from the host. JS's `Atomics.wait` cannot be used:
//! a buffer over native memory is not a SharedArrayBuffer, and V8's waiter list is not the one
//! Wasmtime parks `memory.atomic.wait` on. These call `SharedMemory::atomic_wait32/64` and
//! `atomic_notify`, which the C API lacks, so host threads and guests wake each other; and wake
//! every waiter of a memory when a threaded run ends.
use std::time::Duration;
use wasmtime_c_api::wasmtime;

/// Codes of a failed wait or notify (the guest instructions would trap instead).
const OUT_OF_BOUNDS: i64 = -1;
const MISALIGNED: i64 = -2;
const OTHER: i64 = -3;

fn failure(trap: wasmtime::Trap) -> i64 {
    match trap {
        wasmtime::Trap::MemoryOutOfBounds => OUT_OF_BOUNDS,
        wasmtime::Trap::HeapMisaligned => MISALIGNED,
        _ => OTHER,
    }
}

fn timeout(timeout_ns: i64) -> Option<Duration> {
    u64::try_from(timeout_ns).ok().map(Duration::from_nanos)
}

fn outcome(result: Result<wasmtime::WaitResult, wasmtime::Trap>) -> i64 {
    match result {
        Ok(wasmtime::WaitResult::Ok) => 0,
        Ok(wasmtime::WaitResult::Mismatch) => 1,
        Ok(wasmtime::WaitResult::TimedOut) => 2,
        Err(trap) => failure(trap),
    }
}

/// `memory.atomic.wait32` at byte `addr`: 0 woken, 1 the value was not `expected`, 2 timed out
/// (`timeout_ns` < 0: no timeout), or a negative failure code.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_sharedmemory_wait32(
    memory: &wasmtime::SharedMemory,
    addr: u64,
    expected: u32,
    timeout_ns: i64,
) -> i64 {
    outcome(memory.atomic_wait32(addr, expected, timeout(timeout_ns)))
}

/// `memory.atomic.wait64` at byte `addr`; results as for wait32.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_sharedmemory_wait64(
    memory: &wasmtime::SharedMemory,
    addr: u64,
    expected: u64,
    timeout_ns: i64,
) -> i64 {
    outcome(memory.atomic_wait64(addr, expected, timeout(timeout_ns)))
}

/// `memory.atomic.notify` at byte `addr`: the number of waiters woken, or a negative failure code.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_sharedmemory_notify(
    memory: &wasmtime::SharedMemory,
    addr: u64,
    count: u32,
) -> i64 {
    match memory.atomic_notify(addr, count) {
        Ok(woken) => i64::from(woken),
        Err(trap) => failure(trap),
    }
}

/// Notifies every 4-byte-aligned address of `memory` once, waking every waiter parked on it, and
/// returns how many woke. Wasmtime has no "wake all" and cannot interrupt a waiter
/// (wasmtime#12809); when a threaded run ends, its threads' stores are past their epoch
/// deadline, so each woken guest traps at its next check instead of parking again. Measured at
/// about 14 ns per address (57-59 ms for 16 MiB): the parking lot is a locked map, empty for most.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_deno_sharedmemory_notify_all(memory: &wasmtime::SharedMemory) -> u64 {
    let len = memory.data_size() as u64;
    let mut woken = 0u64;
    let mut addr = 0u64;
    while addr + 4 <= len {
        if let Ok(n) = memory.atomic_notify(addr, u32::MAX) {
            woken += u64::from(n);
        }
        addr += 4;
    }
    woken
}
