import assert from "node:assert/strict";
import { join } from "node:path";
import * as layout from "../src/ffi/layout.ts";
import { cacheEntry } from "./helpers.ts";
import { ffi } from "../src/ffi/symbols.ts";
import { TrapCode } from "../mod.ts";

type Name = keyof typeof layout;

/** Each struct constant of src/ffi/layout.ts and the C expression that must equal it. */
const STRUCTS: Partial<Record<Name, string>> = {
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
  ANYREF_SIZE: "sizeof(wasmtime_anyref_t)",
  EXNREF_SIZE: "sizeof(wasmtime_exnref_t)",
  TAG_SIZE: "sizeof(wasmtime_tag_t)",
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
  VALTYPE_HEAP_OF_OFFSET: "offsetof(wasmtime_valtype_t, reftype.heaptype.of)",
  FIELD_TYPE_SIZE: "sizeof(wasmtime_field_type_t)",
  FIELD_TYPE_MUTABLE_OFFSET: "offsetof(wasmtime_field_type_t, mutable_)",
  FIELD_TYPE_STORAGE_KIND_OFFSET: "offsetof(wasmtime_field_type_t, storage.kind)",
  FIELD_TYPE_VALTYPE_OFFSET: "offsetof(wasmtime_field_type_t, storage.valtype)",
  COMPONENT_VAL_SIZE: "sizeof(wasmtime_component_val_t)",
  COMPONENT_VAL_OF_OFFSET: "offsetof(wasmtime_component_val_t, of)",
  COMPONENT_VARIANT_VAL_OFFSET: "offsetof(wasmtime_component_val_t, of.variant.val)",
  COMPONENT_RESULT_VAL_OFFSET: "offsetof(wasmtime_component_val_t, of.result.val)",
  COMPONENT_RECORD_ENTRY_SIZE: "sizeof(wasmtime_component_valrecord_entry_t)",
  COMPONENT_RECORD_ENTRY_VAL_OFFSET: "offsetof(wasmtime_component_valrecord_entry_t, val)",
  COMPONENT_VALTYPE_SIZE: "sizeof(wasmtime_component_valtype_t)",
  COMPONENT_VALTYPE_OF_OFFSET: "offsetof(wasmtime_component_valtype_t, of)",
  COMPONENT_ITEM_SIZE: "sizeof(wasmtime_component_item_t)",
  COMPONENT_ITEM_OF_OFFSET: "offsetof(wasmtime_component_item_t, of)",
  COMPONENT_FUNC_SIZE: "sizeof(wasmtime_component_func_t)",
  COMPONENT_INSTANCE_SIZE: "sizeof(wasmtime_component_instance_t)",
};

/** errno values the binding names, checked against <errno.h> of the machine running the test. */
const ERRNO = [
  "EPERM",
  "ENOENT",
  "EACCES",
  "EEXIST",
  "ENOTDIR",
  "EISDIR",
  "ENAMETOOLONG",
  "ENOSYS",
  "ELOOP",
  "ENXIO",
] as const satisfies readonly Name[];

/** Codes the wasmtime-deno shims define in Rust, and the file that defines each. */
const RUST_CODES: Partial<Record<Name, string>> = {
  // "file:RUST_NAME" where the Rust constant has another name.
  NET_ASK_CONNECT: "net.rs:ASK_CONNECT",
  NET_ASK_BIND: "net.rs:ASK_BIND",
  NET_ASK_LISTEN: "net.rs:ASK_LISTEN",
  NET_ASK_LOOKUP: "net.rs:ASK_LOOKUP",
  NET_ASK_HTTP: "net.rs:ASK_HTTP",
  POLL_PENDING: "future.rs",
  POLL_READY: "future.rs",
  POLL_AGAIN: "future.rs",
  POLL_NO_RUNTIME: "future.rs",
  OPEN_DIRECTORY: "fs.rs",
  OPEN_READ: "fs.rs",
  OPEN_WRITE_EXISTING: "fs.rs",
  FS_KIND_FILE: "fs.rs",
  FS_KIND_DIRECTORY: "fs.rs",
  TABLE_LIMITS_MINIMUM: "table_type.rs",
  TABLE_LIMITS_MAXIMUM: "table_type.rs",
  TABLE_LIMITS_HAS_MAXIMUM: "table_type.rs",
  TABLE_LIMITS_IS_64: "table_type.rs",
  TABLE_LIMITS_SIZE: "table_type.rs",
  REF_MATCH_NO: "ref_type.rs",
  REF_MATCH_YES: "ref_type.rs",
  REF_MATCH_FOREIGN: "ref_type.rs",
  COMPONENT_FRAME_CALLEE: "component_call.rs",
  COMPONENT_FRAME_CONTEXT: "component_call.rs",
  COMPONENT_FRAME_ERROR: "component_call.rs",
  COMPONENT_FRAME_SLOTS: "component_call.rs",
  COMPONENT_SLOT_SIZE: "component_call.rs",
};

/** `IntegerDivisionByZero` -> `WASMTIME_TRAP_CODE_INTEGER_DIVISION_BY_ZERO` */
function trapCodeMacro(name: string): string {
  return `WASMTIME_TRAP_CODE_${name.replace(/(?<=[a-z0-9])(?=[A-Z])/g, "_").toUpperCase()}`;
}

/**
 * Every numeric constant of layout.ts that a C header defines, with the C expression that must
 * equal it: struct sizes and offsets, codes named after their C macro or enumerator, errno
 * values, and each trap code.
 */
function headerChecks(): [string, number, string][] {
  const checks: [string, number, string][] = [];
  for (const [name, value] of Object.entries(layout) as [Name, unknown][]) {
    if (typeof value !== "number") continue;
    const struct = STRUCTS[name];
    if (struct !== undefined) checks.push([name, value, struct]);
    else if (name === "WASM_LIMITS_MAX_DEFAULT") {
      checks.push([name, value, "wasm_limits_max_default"]);
    } else if (/^WASM(TIME)?_/.test(name) || (ERRNO as readonly string[]).includes(name)) {
      checks.push([name, value, name]);
    }
  }
  for (const [name, code] of Object.entries(layout.WASMTIME_TRAP_CODE)) {
    checks.push([`TrapCode.${name}`, code, trapCodeMacro(name)]);
  }
  return checks;
}

/** Other layout facts the binding relies on (vectors of every element type share a shape). */
const INVARIANTS: string[] = [
  "sizeof(wasm_valtype_vec_t) == sizeof(wasm_byte_vec_t)",
  "sizeof(wasm_frame_vec_t) == sizeof(wasm_byte_vec_t)",
  "sizeof(wasm_importtype_vec_t) == sizeof(wasm_byte_vec_t)",
  "sizeof(wasm_exporttype_vec_t) == sizeof(wasm_byte_vec_t)",
  "offsetof(wasmtime_val_t, of.i32) == offsetof(wasmtime_val_t, of)",
  "offsetof(wasmtime_val_raw_t, funcref) == 0",
  // readValType tells numbers from references by `kind < WASMTIME_VALTYPE_KIND_REF`.
  "WASMTIME_VALTYPE_KIND_V128 + 1 == WASMTIME_VALTYPE_KIND_REF",
];

Deno.test("every constant in src/ffi/layout.ts is checked by this file", () => {
  const checked = new Set(headerChecks().map(([name]) => name));
  const unchecked = Object.entries(layout).filter(([name, value]) =>
    typeof value === "number" && !checked.has(name) && !name.startsWith("FRAME_") &&
    RUST_CODES[name as Name] === undefined
  ).map(([name]) => name);
  assert.deepEqual(unchecked, [], "add these constants to tests/layout_test.ts");
});

Deno.test("struct layouts and C codes in src/ffi/layout.ts match the crate's headers", async () => {
  const include = join(await cacheEntry(), "include");
  const dir = await Deno.makeTempDir({ prefix: "wasmtime-deno-layout-" });
  const checks = headerChecks();
  const source = `#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <wasmtime.h>
#include <wasmtime/component.h>
int main(void) {
${checks.map(([name, , expr]) => `  printf("${name} %lld\\n", (long long)(${expr}));`).join("\n")}
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
  await Deno.remove(dir, { recursive: true });
  const measured = new Map(
    new TextDecoder().decode(run.stdout).trim().split("\n").map((line) => {
      const [name, value] = line.split(" ");
      return [name, Number(value)] as const;
    }),
  );
  const wrong = checks.filter(([name, value]) => measured.get(name) !== value)
    .map(([name, value, expr]) => `${name} is ${value}, ${expr} is ${measured.get(name)}`);
  assert.deepEqual(wrong, []);
  INVARIANTS.forEach((expr, i) => assert.equal(measured.get(`INVARIANT_${i}`), 1, expr));
});

Deno.test("the public TrapCode is the checked table of src/ffi/layout.ts", () => {
  // The spelled-out type of TrapCode (src/errors.ts) and the table's type are the same: each is
  // assignable to the other, so a code added to or changed in one fails `deno check` here
  // (before the assertion, which would narrow TrapCode to the table's type).
  const _sameType: typeof layout.WASMTIME_TRAP_CODE = TrapCode;
  assert.equal(TrapCode, layout.WASMTIME_TRAP_CODE);
});

Deno.test("codes the shims define in Rust match native/src/", async () => {
  for (const [name, where] of Object.entries(RUST_CODES) as [Name, string][]) {
    const [file, rustName = name] = where.split(":");
    const source = await Deno.readTextFile(new URL(`../native/src/${file}`, import.meta.url));
    const match = source.match(new RegExp(`(?:pub )?const ${rustName}: \\w+ = (\\d+);`));
    assert.ok(match, `native/src/${file} defines ${name}`);
    assert.equal(layout[name], Number(match[1]), `${name} (native/src/${file})`);
  }
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
