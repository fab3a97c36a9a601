import assert from "node:assert/strict";
import { join } from "node:path";
import * as layout from "../src/ffi/layout.ts";
import { cacheEntry } from "./helpers.ts";
import { ffi } from "../src/ffi/symbols.ts";

/** Each constant of src/ffi/layout.ts about C API structs and the C expression that must equal it. */
const EXPECTED: Record<Exclude<keyof typeof layout, `FRAME_${string}`>, string> = {
  VAL_SIZE: "sizeof(wasmtime_val_t)",
  VAL_KIND_OFFSET: "offsetof(wasmtime_val_t, kind)",
  VAL_OF_OFFSET: "offsetof(wasmtime_val_t, of)",
  VAL_RAW_SIZE: "sizeof(wasmtime_val_raw_t)",
  EXTERN_SIZE: "sizeof(wasmtime_extern_t)",
  EXTERN_KIND_OFFSET: "offsetof(wasmtime_extern_t, kind)",
  EXTERN_OF_OFFSET: "offsetof(wasmtime_extern_t, of)",
  FUNC_SIZE: "sizeof(wasmtime_func_t)",
  FUNC_STORE_ID_OFFSET: "offsetof(wasmtime_func_t, store_id)",
  INSTANCE_SIZE: "sizeof(wasmtime_instance_t)",
  MEMORY_SIZE: "sizeof(wasmtime_memory_t)",
  TABLE_SIZE: "sizeof(wasmtime_table_t)",
  GLOBAL_SIZE: "sizeof(wasmtime_global_t)",
  EXTERNREF_SIZE: "sizeof(wasmtime_externref_t)",
  VEC_SIZE: "sizeof(wasm_byte_vec_t)",
  VEC_SIZE_OFFSET: "offsetof(wasm_byte_vec_t, size)",
  VEC_DATA_OFFSET: "offsetof(wasm_byte_vec_t, data)",
  LIMITS_SIZE: "sizeof(wasm_limits_t)",
  LIMITS_MIN_OFFSET: "offsetof(wasm_limits_t, min)",
  LIMITS_MAX_OFFSET: "offsetof(wasm_limits_t, max)",
  POINTER_SIZE: "sizeof(void *)",
  VALTYPE_SIZE: "sizeof(wasmtime_valtype_t)",
  VALTYPE_NULLABLE_OFFSET: "offsetof(wasmtime_valtype_t, reftype.nullable)",
  VALTYPE_HEAP_KIND_OFFSET: "offsetof(wasmtime_valtype_t, reftype.heaptype.kind)",
};

/** Other layout facts the binding relies on (vectors of every element type share a shape). */
const INVARIANTS: string[] = [
  "sizeof(wasm_valtype_vec_t) == sizeof(wasm_byte_vec_t)",
  "sizeof(wasm_frame_vec_t) == sizeof(wasm_byte_vec_t)",
  "sizeof(wasm_importtype_vec_t) == sizeof(wasm_byte_vec_t)",
  "sizeof(wasm_exporttype_vec_t) == sizeof(wasm_byte_vec_t)",
  "offsetof(wasmtime_val_t, of.i32) == offsetof(wasmtime_val_t, of)",
  "offsetof(wasmtime_val_raw_t, funcref) == 0",
  "WASMTIME_I32 == 0 && WASMTIME_V128 == 4 && WASMTIME_FUNCREF == 5 && WASMTIME_EXTERNREF == 6",
  "WASMTIME_EXTERN_FUNC == 0 && WASMTIME_EXTERN_MEMORY == 3",
  "WASMTIME_VALTYPE_KIND_REF == 5 && WASMTIME_HEAPTYPE_KIND_EXTERN == 0",
  "WASMTIME_TRAP_CODE_INTERRUPT == 10 && WASMTIME_TRAP_CODE_OUT_OF_FUEL == 11",
];

Deno.test("struct layouts in src/ffi/layout.ts match the C headers of the built crate", async () => {
  const include = join(await cacheEntry(), "include");
  const dir = await Deno.makeTempDir({ prefix: "wasmtime-deno-layout-" });
  const source = `#include <stddef.h>
#include <stdio.h>
#include <wasmtime.h>
int main(void) {
${
    Object.entries(EXPECTED).map(([name, expr]) => `  printf("${name} %zu\\n", (size_t)(${expr}));`)
      .join("\n")
  }
${INVARIANTS.map((expr, i) => `  printf("INVARIANT_${i} %d\\n", (int)(${expr}));`).join("\n")}
  return 0;
}
`;
  await Deno.writeTextFile(join(dir, "layout.c"), source);
  const compile = await new Deno.Command("cc", {
    args: ["-std=c11", "-I", include, "-o", join(dir, "layout"), join(dir, "layout.c")],
    stderr: "piped",
  }).output();
  assert.equal(compile.code, 0, new TextDecoder().decode(compile.stderr));
  const run = await new Deno.Command(join(dir, "layout"), { stdout: "piped" }).output();
  const measured = new Map(
    new TextDecoder().decode(run.stdout).trim().split("\n").map((line) => {
      const [name, value] = line.split(" ");
      return [name, Number(value)] as const;
    }),
  );
  for (const name of Object.keys(EXPECTED) as (keyof typeof EXPECTED)[]) {
    assert.equal(layout[name], measured.get(name), `${name} (${EXPECTED[name]})`);
  }
  INVARIANTS.forEach((expr, i) => assert.equal(measured.get(`INVARIANT_${i}`), 1, expr));
});

Deno.test("the packed call frame constants match the Rust layout of CallFrame", () => {
  const out = new BigUint64Array(7);
  ffi().wasmtime_deno_call_frame_layout(new Uint8Array(out.buffer));
  const [size, context, func, slots, trap, error, values] = [...out].map(Number);
  assert.deepEqual(
    { size, context, func, slots, trap, error, values },
    {
      size: layout.FRAME_VALUES,
      context: layout.FRAME_CONTEXT,
      func: layout.FRAME_FUNC,
      slots: layout.FRAME_SLOTS,
      trap: layout.FRAME_TRAP,
      error: layout.FRAME_ERROR,
      values: layout.FRAME_VALUES,
    },
  );
  assert.equal(layout.FRAME_SLOTS - layout.FRAME_FUNC, layout.FUNC_SIZE);
});
