// Native floor for the benchmarks: the same libwasmtime and the same wasm, driven from C.
// usage: harness <kernels.wasm> <calls> <sha256_bytes> <nbody_steps> <matmul_n> <matmul_reps>
//                <interp_iterations>
// Prints one JSON object per line: {"case": ..., "value": ..., "unit": ...}.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wasmtime.h>

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static void check(wasmtime_error_t *error, wasm_trap_t *trap, const char *what) {
  if (!error && !trap) return;
  wasm_byte_vec_t message;
  if (error) wasmtime_error_message(error, &message);
  else wasm_trap_message(trap, &message);
  fprintf(stderr, "%s: %.*s\n", what, (int)message.size, message.data);
  exit(1);
}

static wasm_trap_t *inc(void *env, wasmtime_caller_t *caller, wasmtime_val_raw_t *values,
                        size_t n) {
  (void)env; (void)caller; (void)n;
  values[0].i32 += 1;
  return NULL;
}

static void emit(const char *name, double value, const char *unit) {
  printf("{\"case\":\"%s\",\"value\":%.3f,\"unit\":\"%s\"}\n", name, value, unit);
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

#define RUNS 5
static double median(double *v) {
  qsort(v, RUNS, sizeof *v, cmp);
  return v[RUNS / 2];
}

int main(int argc, char **argv) {
  if (argc < 8) return 2;
  long calls = atol(argv[2]);
  wasm_engine_t *engine = wasm_engine_new();
  wasmtime_store_t *store = wasmtime_store_new(engine, NULL, NULL);
  wasmtime_context_t *cx = wasmtime_store_context(store);

  const char *wat =
      "(module (import \"env\" \"inc\" (func $inc (param i32) (result i32)))"
      " (func (export \"add\") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)"
      " (func (export \"call_host\") (param i32) (result i32) local.get 0 call $inc))";
  wasm_byte_vec_t bytes;
  check(wasmtime_wat2wasm(wat, strlen(wat), &bytes), NULL, "wat2wasm");
  wasmtime_module_t *module;
  check(wasmtime_module_new(engine, (uint8_t *)bytes.data, bytes.size, &module), NULL, "compile");
  wasm_valtype_vec_t params, results;
  wasm_valtype_t *p[1] = {wasm_valtype_new_i32()}, *r[1] = {wasm_valtype_new_i32()};
  wasm_valtype_vec_new(&params, 1, p);
  wasm_valtype_vec_new(&results, 1, r);
  wasm_functype_t *type = wasm_functype_new(&params, &results);
  wasmtime_extern_t import;
  import.kind = WASMTIME_EXTERN_FUNC;
  wasmtime_func_new_unchecked(cx, type, inc, NULL, NULL, &import.of.func);
  wasmtime_instance_t instance;
  wasm_trap_t *trap = NULL;
  check(wasmtime_instance_new(cx, module, &import, 1, &instance, &trap), trap, "instantiate");
  wasmtime_extern_t add, call_host;
  wasmtime_instance_export_get(cx, &instance, "add", 3, &add);
  wasmtime_instance_export_get(cx, &instance, "call_host", 9, &call_host);

  double runs[RUNS];
  volatile int sink = 0;
  for (int k = 0; k < RUNS; k++) {
    wasmtime_val_t args[2] = {{.kind = WASMTIME_I32}, {.kind = WASMTIME_I32}}, out;
    double t = now_ns();
    for (long i = 0; i < calls; i++) {
      args[0].of.i32 = (int)(i & 0xff);
      args[1].of.i32 = 2;
      check(wasmtime_func_call(cx, &add.of.func, args, 2, &out, 1, &trap), trap, "call");
      sink += out.of.i32;
    }
    runs[k] = (now_ns() - t) / calls;
  }
  emit("add: native checked", median(runs), "ns");
  for (int k = 0; k < RUNS; k++) {
    wasmtime_val_raw_t raw[2];
    double t = now_ns();
    for (long i = 0; i < calls; i++) {
      raw[0].i32 = (int)(i & 0xff);
      raw[1].i32 = 2;
      check(wasmtime_func_call_unchecked(cx, &add.of.func, raw, 2, &trap), trap, "call");
      sink += raw[0].i32;
    }
    runs[k] = (now_ns() - t) / calls;
  }
  emit("add: native unchecked", median(runs), "ns");
  for (int k = 0; k < RUNS; k++) {
    wasmtime_val_raw_t raw[1];
    double t = now_ns();
    for (long i = 0; i < calls; i++) {
      raw[0].i32 = (int)(i & 0xff);
      check(wasmtime_func_call_unchecked(cx, &call_host.of.func, raw, 1, &trap), trap, "call");
      sink += raw[0].i32;
    }
    runs[k] = (now_ns() - t) / calls;
  }
  emit("host round trip: native", median(runs), "ns");

  // Compute kernels.
  FILE *f = fopen(argv[1], "rb");
  if (!f) return 3;
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *wasm = malloc(size);
  if (fread(wasm, 1, size, f) != (size_t)size) return 3;
  fclose(f);
  wasmtime_module_t *kernels;
  check(wasmtime_module_new(engine, wasm, size, &kernels), NULL, "compile kernels");
  wasmtime_instance_t ki;
  check(wasmtime_instance_new(cx, kernels, NULL, 0, &ki, &trap), trap, "instantiate kernels");
  wasmtime_extern_t memory, buffer;
  wasmtime_instance_export_get(cx, &ki, "memory", 6, &memory);
  wasmtime_instance_export_get(cx, &ki, "buffer", 6, &buffer);
  wasmtime_val_t address;
  check(wasmtime_func_call(cx, &buffer.of.func, NULL, 0, &address, 1, &trap), trap, "buffer");
  uint8_t *data = wasmtime_memory_data(cx, &memory.of.memory) + address.of.i32;
  for (long i = 0; i < atol(argv[3]); i++) data[i] = (uint8_t)(i * 31);

  struct { const char *name; int nargs; wasmtime_val_t args[2]; } cases[] = {
      {"sha256", 1, {{.kind = WASMTIME_I32, .of.i32 = atoi(argv[3])}}},
      {"nbody", 1, {{.kind = WASMTIME_I32, .of.i32 = atoi(argv[4])}}},
      {"matmul", 2, {{.kind = WASMTIME_I32, .of.i32 = atoi(argv[5])},
                     {.kind = WASMTIME_I32, .of.i32 = atoi(argv[6])}}},
      {"interp", 1, {{.kind = WASMTIME_I32, .of.i32 = atoi(argv[7])}}},
  };
  for (int c = 0; c < 4; c++) {
    wasmtime_extern_t fn;
    wasmtime_instance_export_get(cx, &ki, cases[c].name, strlen(cases[c].name), &fn);
    for (int k = 0; k < RUNS; k++) {
      wasmtime_val_t out;
      double t = now_ns();
      check(wasmtime_func_call(cx, &fn.of.func, cases[c].args, cases[c].nargs, &out, 1, &trap),
            trap, cases[c].name);
      runs[k] = (now_ns() - t) / 1e6;
    }
    char name[64];
    snprintf(name, sizeof name, "%s: native", cases[c].name);
    emit(name, median(runs), "ms");
  }
  return sink == 42 ? 1 : 0;
}
