"""wasmtime-py on the call paths of bench/run.ts: the same module (bench/call.wat), the same
calls, the same statistic (median of 5 runs of ns per call).

usage: python wasmtime_py.py <call.wat> <iterations>
Prints one JSON object: {"version": ..., "add": ns, "host": ns}.
"""
import importlib.metadata
import json
import statistics
import sys
import time

import wasmtime


def bench(f, n):
    runs = []
    for _ in range(5):
        t = time.perf_counter()
        for i in range(n):
            f(i)
        runs.append((time.perf_counter() - t) * 1e9 / n)
    return statistics.median(runs)


def main(wat_path, n):
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    with open(wat_path) as f:
        module = wasmtime.Module(engine, f.read())
    i32 = wasmtime.ValType.i32()
    inc = wasmtime.Func(store, wasmtime.FuncType([i32], [i32]), lambda x: x + 1)
    inst = wasmtime.Instance(store, module, [inc])
    add = inst.exports(store)["add"]
    host = inst.exports(store)["call_host"]
    print(json.dumps({
        "version": importlib.metadata.version("wasmtime"),
        "add": bench(lambda i: add(store, i & 0xFF, 2), n),
        "host": bench(lambda i: host(store, i & 0xFF), n),
    }))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
