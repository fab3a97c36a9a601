/**
 * Builds "echo" components in component WAT at test time: for each case, the component imports
 * `id-<name>: func(x: T) -> T` and exports `echo-<name>: func(x: T) -> T`, whose core code only
 * forwards to the import. A call therefore crosses every marshalling path twice (JS → guest
 * → JS host function → guest → JS) with Wasmtime doing the canonical ABI in between, and the
 * same component runs under jco for comparison.
 *
 * @module
 */

/** A WIT type in a small JS notation. */
export type T =
  | "bool"
  | "s8"
  | "u8"
  | "s16"
  | "u16"
  | "s32"
  | "u32"
  | "s64"
  | "u64"
  | "f32"
  | "f64"
  | "char"
  | "string"
  | { list: T }
  | { record: [string, T][] }
  | { tuple: T[] }
  | { variant: [string, T?][] }
  | { enum: string[] }
  | { flags: string[] }
  | { option: T }
  | { result: { ok?: T; err?: T } };

type Flat = "i32" | "i64" | "f32" | "f64";

function join(a: Flat, b: Flat): Flat {
  if (a === b) return a;
  if ((a === "i32" && b === "f32") || (a === "f32" && b === "i32")) return "i32";
  return "i64";
}

function flatVariant(cases: (T | undefined)[]): Flat[] {
  const joined: Flat[] = [];
  for (const c of cases) {
    if (c === undefined) continue;
    flat(c).forEach((f, i) => (joined[i] = joined[i] === undefined ? f : join(joined[i], f)));
  }
  return ["i32", ...joined];
}

/** The canonical ABI's flattening of `t`. */
export function flat(t: T): Flat[] {
  if (typeof t === "string") {
    if (t === "s64" || t === "u64") return ["i64"];
    if (t === "f32" || t === "f64") return [t];
    if (t === "string") return ["i32", "i32"];
    return ["i32"];
  }
  if ("list" in t) return ["i32", "i32"];
  if ("record" in t) return t.record.flatMap(([, f]) => flat(f));
  if ("tuple" in t) return t.tuple.flatMap(flat);
  if ("variant" in t) return flatVariant(t.variant.map(([, c]) => c));
  if ("enum" in t) return ["i32"];
  if ("flags" in t) return ["i32"];
  if ("option" in t) return flatVariant([undefined, t.option]);
  return flatVariant([t.result.ok, t.result.err]);
}

/** Component WAT type definitions for named types, and a reference to each type. */
class Types {
  /** Each named type's definition, then its import (later definitions use the import). */
  defs: string[] = [];
  exports: string[] = [];
  #count = 0;

  /** The type as used in import (`side = "i"`) or export (`"e"`) signatures. */
  ref(t: T, side: "i" | "e"): string {
    if (typeof t === "string") return t;
    if ("list" in t) return `(list ${this.ref(t.list, side)})`;
    if ("tuple" in t) return `(tuple ${t.tuple.map((x) => this.ref(x, side)).join(" ")})`;
    if ("option" in t) return `(option ${this.ref(t.option, side)})`;
    if ("result" in t) {
      const ok = t.result.ok ? ` ${this.ref(t.result.ok, side)}` : "";
      const err = t.result.err ? ` (error ${this.ref(t.result.err, side)})` : "";
      return `(result${ok}${err})`;
    }
    return this.named(t, side);
  }

  #named = new Map<string, number>();

  named(t: T, side: "i" | "e"): string {
    const key = JSON.stringify(t);
    let n = this.#named.get(key);
    if (n === undefined) {
      let body: string;
      // A definition refers to the imported names of inner types (imports may only use those).
      if (typeof t === "object" && "record" in t) {
        body = `(record ${
          t.record.map(([f, x]) => `(field "${f}" ${this.ref(x, "i")})`).join(" ")
        })`;
      } else if (typeof t === "object" && "variant" in t) {
        body = `(variant ${
          t.variant.map(([c, x]) => `(case "${c}"${x ? ` ${this.ref(x, "i")}` : ""})`).join(" ")
        })`;
      } else if (typeof t === "object" && "enum" in t) {
        body = `(enum ${t.enum.map((e) => `"${e}"`).join(" ")})`;
      } else if (typeof t === "object" && "flags" in t) {
        body = `(flags ${t.flags.map((e) => `"${e}"`).join(" ")})`;
      } else throw new Error("not a named type");
      n = this.#count++;
      this.#named.set(key, n);
      this.defs.push(`(type $t${n} ${body})`, `(import "t${n}" (type $t${n}i (eq $t${n})))`);
      this.exports.push(`(export $t${n}e "t${n}" (type $t${n}))`);
    }
    return side === "i" ? `$t${n}i` : side === "e" ? `$t${n}e` : `$t${n}`;
  }
}

/**
 * The WAT of an echo component for `cases` (name → type): imports `id-<name>`, exports
 * `echo-<name>`. Names must be WIT identifiers.
 */
export function echoComponent(cases: Record<string, T>): string {
  const types = new Types();
  const entries = Object.entries(cases);
  // Imports first need every named type defined; collect them by rendering all signatures.
  const sig = (t: T, side: "i" | "e") => {
    const r = types.ref(t, side);
    return `(param "x" ${r}) (result ${r})`;
  };
  const importSigs = entries.map(([, t]) => sig(t, "i"));
  const exportSigs = entries.map(([, t]) => sig(t, "e"));
  const coreImports: string[] = [];
  const coreFuncs: string[] = [];
  entries.forEach(([, t], i) => {
    const p = flat(t);
    const r = flat(t);
    const params = p.length > 16 ? ["i32"] : p;
    const retptr = r.length > 1;
    const lowerParams = retptr ? [...params, "i32"] : params;
    const lowerResults = retptr ? [] : r;
    const liftResults = retptr ? ["i32"] : r;
    coreImports.push(
      `(import "" "f${i}" (func $f${i} (param ${lowerParams.join(" ")}) (result ${
        lowerResults.join(" ")
      })))`,
    );
    const gets = params.map((_, k) => `local.get ${k}`).join(" ");
    const body = retptr
      ? `${gets} i32.const 1024 call $f${i} i32.const 1024`
      : `${gets} call $f${i}`;
    coreFuncs.push(
      `(func (export "e${i}") (param ${params.join(" ")}) (result ${
        liftResults.join(" ")
      }) ${body})`,
      `(func (export "pr${i}") (param ${liftResults.join(" ")}) call $reset)`,
    );
  });
  const mem = `(memory (core memory $mi "memory")) (realloc (core func $mi "realloc"))`;
  return `(component
  ${types.defs.join("\n  ")}
  ${
    entries.map(([name], i) => `(import "id-${name}" (func $id${i} ${importSigs[i]}))`).join("\n  ")
  }
  (core module $m
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 4096))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (local $p i32) (local $end i32)
      global.get $heap local.get 2 i32.add i32.const 1 i32.sub
      i32.const 0 local.get 2 i32.sub i32.and local.tee $p
      local.get 3 i32.add local.tee $end
      memory.size i32.const 16 i32.shl i32.gt_u
      if
        local.get $end memory.size i32.const 16 i32.shl i32.sub
        i32.const 65535 i32.add i32.const 16 i32.shr_u
        memory.grow i32.const -1 i32.eq if unreachable end
      end
      local.get $end global.set $heap
      local.get $p)
    (func (export "reset") i32.const 4096 global.set $heap))
  (core instance $mi (instantiate $m))
  ${entries.map((_, i) => `(core func $l${i} (canon lower (func $id${i}) ${mem}))`).join("\n  ")}
  (core module $w
    (import "m" "reset" (func $reset))
    ${coreImports.join("\n    ")}
    ${coreFuncs.join("\n    ")})
  (core instance $wi (instantiate $w
    (with "m" (instance $mi))
    (with "" (instance ${entries.map((_, i) => `(export "f${i}" (func $l${i}))`).join(" ")}))))
  ${types.exports.join("\n  ")}
  ${
    entries.map(([name], i) =>
      `(func (export "echo-${name}") ${
        exportSigs[i]
      } (canon lift (core func $wi "e${i}") ${mem} (post-return (core func $wi "pr${i}"))))`
    ).join("\n  ")
  }
)`;
}
