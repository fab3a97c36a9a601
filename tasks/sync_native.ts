/**
 * Regenerates `src/package/native_crate.ts` from `native/`: the Wasmtime version, the feature list and
 * the content hash that keys the library cache. Run `deno task sync-native` after editing
 * anything in `native/`; a test fails while the two disagree.
 *
 * @module
 */
import { describeCrate, renderNativeCrateModule } from "../src/package/native_source.ts";

const nativeDir = new URL("../native/", import.meta.url);
const description = await describeCrate((file) => Deno.readFile(new URL(file, nativeDir)));
const target = new URL("../src/package/native_crate.ts", import.meta.url);
await Deno.writeTextFile(target, renderNativeCrateModule(description));
console.log(
  `src/package/native_crate.ts: wasmtime ${description.wasmtimeVersion}, hash ${description.hash}`,
);
