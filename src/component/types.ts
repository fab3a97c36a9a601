/**
 * Component types as plain JS descriptions (what `Component.imports` / `exports` return and
 * what value marshalling is compiled from), read once from Wasmtime's type objects, which are
 * freed right after; and their WIT-like rendering.
 *
 * @module
 */
import { ffi } from "../ffi/symbols.ts";
import { nativeName, pointerIn } from "../ffi/component_raw.ts";
import {
  COMPONENT_ITEM_OF_OFFSET,
  COMPONENT_ITEM_SIZE,
  COMPONENT_VALTYPE_OF_OFFSET,
  COMPONENT_VALTYPE_SIZE,
  WASMTIME_COMPONENT_ITEM_COMPONENT,
  WASMTIME_COMPONENT_ITEM_COMPONENT_FUNC,
  WASMTIME_COMPONENT_ITEM_COMPONENT_INSTANCE,
  WASMTIME_COMPONENT_ITEM_CORE_FUNC,
  WASMTIME_COMPONENT_ITEM_MODULE,
  WASMTIME_COMPONENT_ITEM_RESOURCE,
  WASMTIME_COMPONENT_VALTYPE_BORROW,
  WASMTIME_COMPONENT_VALTYPE_ENUM,
  WASMTIME_COMPONENT_VALTYPE_ERROR_CONTEXT,
  WASMTIME_COMPONENT_VALTYPE_FLAGS,
  WASMTIME_COMPONENT_VALTYPE_FUTURE,
  WASMTIME_COMPONENT_VALTYPE_LIST,
  WASMTIME_COMPONENT_VALTYPE_MAP,
  WASMTIME_COMPONENT_VALTYPE_OPTION,
  WASMTIME_COMPONENT_VALTYPE_OWN,
  WASMTIME_COMPONENT_VALTYPE_RECORD,
  WASMTIME_COMPONENT_VALTYPE_RESULT,
  WASMTIME_COMPONENT_VALTYPE_STREAM,
  WASMTIME_COMPONENT_VALTYPE_TUPLE,
  WASMTIME_COMPONENT_VALTYPE_VARIANT,
} from "../ffi/layout.ts";
import { WasmtimeError } from "../errors.ts";

/** The WIT primitive types, by their WIT names. */
export type ComponentPrimitive =
  | "bool"
  | "s8"
  | "s16"
  | "s32"
  | "s64"
  | "u8"
  | "u16"
  | "u32"
  | "u64"
  | "f32"
  | "f64"
  | "char"
  | "string";

/** Valtype kind codes 0..12 in the order of wasmtime/component/types/val.h. */
const PRIMITIVES: readonly ComponentPrimitive[] = [
  "bool",
  "s8",
  "s16",
  "s32",
  "s64",
  "u8",
  "u16",
  "u32",
  "u64",
  "f32",
  "f64",
  "char",
  "string",
];

/**
 * A component value type, as a plain object named by WIT's keywords. Names are WIT's
 * (kebab-case); values use jco's JS spelling (see the README's value table).
 *
 * @example
 * ```ts
 * import type { ComponentValType } from "@wasmtime-deno/wasmtime";
 * const point: ComponentValType = {
 *   kind: "record",
 *   fields: [{ name: "x", type: { kind: "s32" } }, { name: "y", type: { kind: "s32" } }],
 * };
 * ```
 */
export type ComponentValType =
  | { kind: ComponentPrimitive }
  | { kind: "list"; element: ComponentValType }
  | { kind: "record"; fields: { name: string; type: ComponentValType }[] }
  | { kind: "tuple"; types: ComponentValType[] }
  | { kind: "variant"; cases: { name: string; type?: ComponentValType }[] }
  | { kind: "enum"; names: string[] }
  | { kind: "option"; type: ComponentValType }
  | { kind: "result"; ok?: ComponentValType; err?: ComponentValType }
  | { kind: "flags"; names: string[] }
  | ComponentResourceType
  | { kind: "future" | "stream" | "error-context" | "map" };

/**
 * A handle to a resource: `own<counter>` (the holder must drop it) or `borrow<counter>` (lent
 * for one call). `resource` is the resource's WIT name and `interface` the interface that
 * declares it (absent at the root); `imported` is true for a resource the host implements
 * (`ComponentLinker.defineResource`), false for one the component exports.
 *
 * @example
 * ```ts
 * import type { ComponentResourceType } from "@wasmtime-deno/wasmtime";
 * const self: ComponentResourceType = {
 *   kind: "borrow",
 *   resource: "counter",
 *   interface: "local:demo/api",
 *   imported: false,
 * };
 * ```
 */
export interface ComponentResourceType {
  /** `own` (the holder must drop it) or `borrow` (lent for one call). */
  kind: "own" | "borrow";
  /** The resource's WIT name (`""` when Wasmtime gave a type without its name). */
  resource: string;
  /** The interface that declares the resource; absent for a root-level resource. */
  interface?: string;
  /** Whether the resource is imported (host-defined) rather than exported by the component. */
  imported: boolean;
}

/**
 * The type of a component function: named parameters and an optional result.
 *
 * @example
 * ```ts
 * import type { ComponentFuncType } from "@wasmtime-deno/wasmtime";
 * const add: ComponentFuncType = {
 *   params: [{ name: "a", type: { kind: "u32" } }, { name: "b", type: { kind: "u32" } }],
 *   result: { kind: "u32" },
 * };
 * ```
 */
export interface ComponentFuncType {
  /** The parameters, in order, with their WIT names. */
  params: { name: string; type: ComponentValType }[];
  /** The result type; absent for a function without a result. */
  result?: ComponentValType;
}

/**
 * One import or export of a component: a function, an instance (an interface such as
 * `local:hello/api`, with its own exports), or another kind of item listed by name only.
 *
 * @example
 * ```ts
 * import type { ComponentItem } from "@wasmtime-deno/wasmtime";
 * function functions(item: ComponentItem): string[] {
 *   return item.kind === "instance" ? item.exports.map((e) => `${item.name}#${e.name}`) : [];
 * }
 * ```
 */
export type ComponentItem =
  | { name: string; kind: "func"; type: ComponentFuncType }
  | { name: string; kind: "instance"; exports: ComponentItem[] }
  | { name: string; kind: "component" | "module" | "resource" | "core-func" | "type" };

// ---- reading Wasmtime's types ----------------------------------------------------------------

const nameCell = new Uint8Array(8);
const lengthCell = new Uint8Array(8);
const flagCell = new Uint8Array(8);

/** Reads and frees the valtype Wasmtime wrote into `slot`. */
function takeValType(slot: Uint8Array<ArrayBuffer>): ComponentValType {
  try {
    return readValType(slot);
  } finally {
    ffi().wasmtime_component_valtype_delete(slot);
  }
}

function newSlot(): Uint8Array<ArrayBuffer> {
  return new Uint8Array(COMPONENT_VALTYPE_SIZE);
}

function readValType(slot: Uint8Array<ArrayBuffer>): ComponentValType {
  const kind = slot[0];
  if (kind < PRIMITIVES.length) return { kind: PRIMITIVES[kind] };
  const ty = pointerIn(slot, COMPONENT_VALTYPE_OF_OFFSET)!;
  const f = ffi();
  switch (kind) {
    case WASMTIME_COMPONENT_VALTYPE_LIST: {
      const element = newSlot();
      f.wasmtime_component_list_type_element(ty, element);
      return { kind: "list", element: takeValType(element) };
    }
    case WASMTIME_COMPONENT_VALTYPE_RECORD: {
      const count = Number(f.wasmtime_component_record_type_field_count(ty));
      const fields = [];
      for (let i = 0; i < count; i++) {
        const t = newSlot();
        f.wasmtime_component_record_type_field_nth(ty, BigInt(i), nameCell, lengthCell, t);
        const name = nativeName(nameCell, lengthCell);
        fields.push({ name, type: takeValType(t) });
      }
      return { kind: "record", fields };
    }
    case WASMTIME_COMPONENT_VALTYPE_TUPLE: {
      const count = Number(f.wasmtime_component_tuple_type_types_count(ty));
      const types = [];
      for (let i = 0; i < count; i++) {
        const t = newSlot();
        f.wasmtime_component_tuple_type_types_nth(ty, BigInt(i), t);
        types.push(takeValType(t));
      }
      return { kind: "tuple", types };
    }
    case WASMTIME_COMPONENT_VALTYPE_VARIANT: {
      const count = Number(f.wasmtime_component_variant_type_case_count(ty));
      const cases: { name: string; type?: ComponentValType }[] = [];
      for (let i = 0; i < count; i++) {
        const t = newSlot();
        flagCell[0] = 0;
        f.wasmtime_component_variant_type_case_nth(
          ty,
          BigInt(i),
          nameCell,
          lengthCell,
          flagCell,
          t,
        );
        const name = nativeName(nameCell, lengthCell);
        cases.push(flagCell[0] !== 0 ? { name, type: takeValType(t) } : { name });
      }
      return { kind: "variant", cases };
    }
    case WASMTIME_COMPONENT_VALTYPE_ENUM:
    case WASMTIME_COMPONENT_VALTYPE_FLAGS: {
      const isEnum = kind === WASMTIME_COMPONENT_VALTYPE_ENUM;
      const count = Number(
        isEnum
          ? f.wasmtime_component_enum_type_names_count(ty)
          : f.wasmtime_component_flags_type_names_count(ty),
      );
      const names = [];
      for (let i = 0; i < count; i++) {
        if (isEnum) f.wasmtime_component_enum_type_names_nth(ty, BigInt(i), nameCell, lengthCell);
        else f.wasmtime_component_flags_type_names_nth(ty, BigInt(i), nameCell, lengthCell);
        names.push(nativeName(nameCell, lengthCell));
      }
      return isEnum ? { kind: "enum", names } : { kind: "flags", names };
    }
    case WASMTIME_COMPONENT_VALTYPE_OPTION: {
      const t = newSlot();
      f.wasmtime_component_option_type_ty(ty, t);
      return { kind: "option", type: takeValType(t) };
    }
    case WASMTIME_COMPONENT_VALTYPE_RESULT: {
      const ok = newSlot();
      const err = newSlot();
      const out: { kind: "result"; ok?: ComponentValType; err?: ComponentValType } = {
        kind: "result",
      };
      if (f.wasmtime_component_result_type_ok(ty, ok)) out.ok = takeValType(ok);
      if (f.wasmtime_component_result_type_err(ty, err)) out.err = takeValType(err);
      return out;
    }
    case WASMTIME_COMPONENT_VALTYPE_OWN:
    case WASMTIME_COMPONENT_VALTYPE_BORROW:
      return resourceValType(kind === WASMTIME_COMPONENT_VALTYPE_OWN ? "own" : "borrow", ty);
    case WASMTIME_COMPONENT_VALTYPE_FUTURE:
      return { kind: "future" };
    case WASMTIME_COMPONENT_VALTYPE_STREAM:
      return { kind: "stream" };
    case WASMTIME_COMPONENT_VALTYPE_ERROR_CONTEXT:
      return { kind: "error-context" };
    case WASMTIME_COMPONENT_VALTYPE_MAP:
      return { kind: "map" };
    default:
      throw new WasmtimeError(`unknown component value type kind ${kind}`);
  }
}

// Resource types carry no name in Wasmtime's API: the name is that of the import or export item
// whose type is equal. The component's resource items are collected before its functions are
// read (a function may use a resource declared in another interface).

interface NamedResource {
  type: Deno.PointerObject;
  name: string;
  interface?: string;
  imported: boolean;
}

/** The resource items of the component being read (owned clones; null outside a read). */
let named: NamedResource[] | null = null;

function resourceValType(
  kind: "own" | "borrow",
  ty: Deno.PointerObject,
): ComponentResourceType {
  const f = ffi();
  for (const known of named ?? []) {
    if (f.wasmtime_component_resource_type_equal(known.type, ty)) {
      return known.interface === undefined
        ? { kind, resource: known.name, imported: known.imported }
        : { kind, resource: known.name, interface: known.interface, imported: known.imported };
    }
  }
  return { kind, resource: "", imported: false };
}

/** Collects the resource items among `count` items read by `nth` (instances one level down). */
function collectResources(
  count: number,
  nth: (i: number, item: Uint8Array<ArrayBuffer>) => boolean,
  engine: Deno.PointerObject,
  imported: boolean,
  iface: string | undefined,
  out: NamedResource[],
): void {
  const f = ffi();
  for (let i = 0; i < count; i++) {
    const item = new Uint8Array(COMPONENT_ITEM_SIZE);
    if (!nth(i, item)) continue;
    try {
      const name = nativeName(nameCell, lengthCell);
      const of = pointerIn(item, COMPONENT_ITEM_OF_OFFSET)!;
      if (item[0] === WASMTIME_COMPONENT_ITEM_RESOURCE) {
        const type = f.wasmtime_component_resource_type_clone(of)!;
        out.push(
          iface === undefined ? { type, name, imported } : {
            type,
            name,
            interface: iface,
            imported,
          },
        );
      } else if (item[0] === WASMTIME_COMPONENT_ITEM_COMPONENT_INSTANCE && iface === undefined) {
        collectResources(
          Number(f.wasmtime_component_instance_type_export_count(of, engine)),
          (j, inner) =>
            f.wasmtime_component_instance_type_export_nth(
              of,
              engine,
              BigInt(j),
              nameCell,
              lengthCell,
              inner,
            ),
          engine,
          imported,
          name,
          out,
        );
      }
    } finally {
      f.wasmtime_component_item_delete(item);
    }
  }
}

/** Reads a `wasmtime_component_func_type_t *` (borrowed). */
export function readFuncType(ty: Deno.PointerObject): ComponentFuncType {
  const f = ffi();
  const count = Number(f.wasmtime_component_func_type_param_count(ty));
  const params = [];
  for (let i = 0; i < count; i++) {
    const t = newSlot();
    f.wasmtime_component_func_type_param_nth(ty, BigInt(i), nameCell, lengthCell, t);
    const name = nativeName(nameCell, lengthCell);
    params.push({ name, type: takeValType(t) });
  }
  const out: ComponentFuncType = { params };
  const result = newSlot();
  if (f.wasmtime_component_func_type_result(ty, result)) out.result = takeValType(result);
  return out;
}

const ITEM_KINDS: Record<number, "component" | "module" | "resource" | "core-func" | "type"> = {
  [WASMTIME_COMPONENT_ITEM_COMPONENT]: "component",
  [WASMTIME_COMPONENT_ITEM_MODULE]: "module",
  [WASMTIME_COMPONENT_ITEM_RESOURCE]: "resource",
  [WASMTIME_COMPONENT_ITEM_CORE_FUNC]: "core-func",
};

/** Reads and frees the item Wasmtime wrote into `item`. */
function takeItem(
  name: string,
  item: Uint8Array<ArrayBuffer>,
  engine: Deno.PointerObject,
): ComponentItem {
  try {
    const kind = item[0];
    const of = pointerIn(item, COMPONENT_ITEM_OF_OFFSET)!;
    if (kind === WASMTIME_COMPONENT_ITEM_COMPONENT_FUNC) {
      return { name, kind: "func", type: readFuncType(of) };
    }
    if (kind === WASMTIME_COMPONENT_ITEM_COMPONENT_INSTANCE) {
      return { name, kind: "instance", exports: readInstanceExports(of, engine) };
    }
    return { name, kind: ITEM_KINDS[kind] ?? "type" };
  } finally {
    ffi().wasmtime_component_item_delete(item);
  }
}

function readInstanceExports(ty: Deno.PointerObject, engine: Deno.PointerObject): ComponentItem[] {
  const f = ffi();
  const count = Number(f.wasmtime_component_instance_type_export_count(ty, engine));
  const items = [];
  for (let i = 0; i < count; i++) {
    const item = new Uint8Array(COMPONENT_ITEM_SIZE);
    if (
      !f.wasmtime_component_instance_type_export_nth(
        ty,
        engine,
        BigInt(i),
        nameCell,
        lengthCell,
        item,
      )
    ) {
      continue;
    }
    items.push(takeItem(nativeName(nameCell, lengthCell), item, engine));
  }
  return items;
}

/** The imports and exports of a `wasmtime_component_type_t *` (borrowed). */
export function readComponentType(
  ty: Deno.PointerObject,
  engine: Deno.PointerObject,
): { imports: ComponentItem[]; exports: ComponentItem[] } {
  const f = ffi();
  const resources: NamedResource[] = [];
  for (const imported of [true, false]) {
    collectResources(
      Number(
        imported
          ? f.wasmtime_component_type_import_count(ty, engine)
          : f.wasmtime_component_type_export_count(ty, engine),
      ),
      (i, item) =>
        (imported ? f.wasmtime_component_type_import_nth : f.wasmtime_component_type_export_nth)(
          ty,
          engine,
          BigInt(i),
          nameCell,
          lengthCell,
          item,
        ),
      engine,
      imported,
      undefined,
      resources,
    );
  }
  const list = (imports: boolean): ComponentItem[] => {
    const count = Number(
      imports
        ? f.wasmtime_component_type_import_count(ty, engine)
        : f.wasmtime_component_type_export_count(ty, engine),
    );
    const items = [];
    for (let i = 0; i < count; i++) {
      const item = new Uint8Array(COMPONENT_ITEM_SIZE);
      const nth = imports
        ? f.wasmtime_component_type_import_nth
        : f.wasmtime_component_type_export_nth;
      if (!nth(ty, engine, BigInt(i), nameCell, lengthCell, item)) continue;
      items.push(takeItem(nativeName(nameCell, lengthCell), item, engine));
    }
    return items;
  };
  named = resources;
  try {
    return { imports: list(true), exports: list(false) };
  } finally {
    named = null;
    for (const r of resources) f.wasmtime_component_resource_type_delete(r.type);
  }
}

// ---- WIT-like rendering -------------------------------------------------------------------------

/**
 * A WIT-like rendering of a value type: `list<u8>`, `option<string>`,
 * `record { x: s32, y: s32 }`, `variant { circle(f64), none }`.
 *
 * @example
 * ```ts
 * import { witType } from "@wasmtime-deno/wasmtime";
 * console.log(witType({ kind: "list", element: { kind: "u8" } })); // list<u8>
 * ```
 */
export function witType(type: ComponentValType): string {
  switch (type.kind) {
    case "list":
      return `list<${witType(type.element)}>`;
    case "option":
      return `option<${witType(type.type)}>`;
    case "result":
      if (type.ok === undefined && type.err === undefined) return "result";
      return `result<${type.ok ? witType(type.ok) : "_"}${
        type.err ? `, ${witType(type.err)}` : ""
      }>`;
    case "tuple":
      return `tuple<${type.types.map(witType).join(", ")}>`;
    case "record":
      return `record { ${type.fields.map((f) => `${f.name}: ${witType(f.type)}`).join(", ")} }`;
    case "variant":
      return `variant { ${
        type.cases.map((c) => (c.type ? `${c.name}(${witType(c.type)})` : c.name)).join(", ")
      } }`;
    case "enum":
      return `enum { ${type.names.join(", ")} }`;
    case "flags":
      return `flags { ${type.names.join(", ")} }`;
    case "own":
    case "borrow":
      return type.resource === "" ? type.kind : `${type.kind}<${type.resource}>`;
    default:
      return type.kind;
  }
}

/**
 * A WIT-like rendering of a function type: `func(a: u32, b: u32) -> u32`.
 *
 * @example
 * ```ts
 * import { witFunc } from "@wasmtime-deno/wasmtime";
 * console.log(witFunc({ params: [{ name: "name", type: { kind: "string" } }] })); // func(name: string)
 * ```
 */
export function witFunc(type: ComponentFuncType): string {
  const params = type.params.map((p) => `${p.name}: ${witType(p.type)}`).join(", ");
  return `func(${params})${type.result ? ` -> ${witType(type.result)}` : ""}`;
}

/** WIT-like lines describing `items` (imports or exports), indented by `indent`. */
export function witItems(items: readonly ComponentItem[], verb: string, indent = ""): string[] {
  const lines: string[] = [];
  for (const item of items) {
    if (item.kind === "func") lines.push(`${indent}${verb} ${item.name}: ${witFunc(item.type)};`);
    else if (item.kind === "instance") {
      lines.push(`${indent}${verb} ${item.name}: interface {`);
      lines.push(
        ...witItems(item.exports, "", `${indent}  `).map((l) => l.replace(/^(\s*) /, "$1")),
      );
      lines.push(`${indent}}`);
    } else lines.push(`${indent}${verb} ${item.name}: ${item.kind};`);
  }
  return lines;
}
