/**
 * Release archives of libwasmtime, and the sha256 manifest the package ships.
 *
 * - `deno task package-native [--entry DIR] [--out DIR]` packs a built cache entry (default:
 *   this target's entry in the cache build-native uses) into `DIR/<archive>.tar.gz` (default
 *   `dist/`) with the library, its C headers and a manifest (version, target, features, crate
 *   hash, sha256), plus `<archive>.tar.gz.json` describing it. Same entry, same bytes.
 * - `deno task package-native --write-manifest DIR [--base-url URL]` reads every
 *   `*.tar.gz.json` in DIR (one per target, from the release jobs), re-hashes the archives
 *   next to them, writes `DIR/SHA256SUMS` and regenerates `src/package/prebuilt.ts`, the
 *   manifest downloads are verified against. Targets without an archive are written as `null`.
 *
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";
import { type ArchiveFile, packArchive } from "../src/package/archive.ts";
import {
  cacheEntryName,
  type CacheManifest,
  cacheRoot,
  untrustedEntry,
} from "../src/package/cache.ts";
import { sha256Hex } from "../src/package/download.ts";
import { NATIVE_CRATE } from "../src/package/native_crate.ts";
import {
  archiveName,
  defaultBaseUrl,
  type PrebuiltArchive,
  type PrebuiltManifest,
  RELEASE_TARGETS,
  renderPrebuiltModule,
  targetLibraryName,
} from "../src/package/release.ts";

/** What `<archive>.tar.gz.json` holds: the archive's pin, and what it was built from. */
export interface ArchiveDescription extends PrebuiltArchive {
  target: string;
  wasmtimeVersion: string;
  crateHash: string;
}

/** A failure meant for the user (printed without a stack trace). */
export class PackageError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "PackageError";
  }
}

async function collect(dir: string, prefix: string, out: ArchiveFile[]): Promise<void> {
  for await (const item of Deno.readDir(dir)) {
    const path = join(dir, item.name);
    const info = await Deno.lstat(path);
    if (info.isSymlink) throw new PackageError(`${path} is a symlink; archives hold no links`);
    if (info.isDirectory) await collect(path, `${prefix}${item.name}/`, out);
    else if (info.isFile) {
      out.push({
        path: `${prefix}${item.name}`,
        bytes: await Deno.readFile(path),
        executable: false,
      });
    } else throw new PackageError(`${path} is not a regular file`);
  }
}

/**
 * The release archive of the cache entry `entry` and its description. The entry must be
 * trusted, built from this package's native crate, and hold a library whose sha256 matches its
 * manifest. The archive's manifest leaves out the build time, so that it depends only on the
 * library, the headers and the crate identity.
 */
export async function packEntry(
  entry: string,
): Promise<{ archive: Uint8Array<ArrayBuffer>; description: ArchiveDescription }> {
  entry = resolve(entry);
  let manifest: CacheManifest;
  try {
    manifest = JSON.parse(await Deno.readTextFile(join(entry, "manifest.json")));
  } catch (error) {
    throw new PackageError(
      `cannot read ${join(entry, "manifest.json")}: ${(error as Error).message}`,
    );
  }
  const target = manifest.target;
  const library = targetLibraryName(target);
  const name = cacheEntryName(target);
  if (basename(entry) !== name || manifest.library !== library) {
    throw new PackageError(`${entry} is not the cache entry ${name} (with ${library})`);
  }
  if (manifest.crateHash !== NATIVE_CRATE.hash) {
    throw new PackageError(
      `${entry} was built from native crate ${manifest.crateHash.slice(0, 16)}, not this ` +
        `package's ${NATIVE_CRATE.hash.slice(0, 16)}; build it again`,
    );
  }
  const untrusted = untrustedEntry(dirname(entry), entry, ["manifest.json", library]);
  if (untrusted) throw new PackageError(`refusing ${entry}: ${untrusted}`);
  const libraryBytes = await Deno.readFile(join(entry, library));
  const librarySha256 = sha256Hex(libraryBytes);
  if (librarySha256 !== manifest.sha256 || libraryBytes.length !== manifest.size) {
    throw new PackageError(`${join(entry, library)} does not match its manifest; rebuild it`);
  }
  const archived: CacheManifest = {
    wasmtimeVersion: manifest.wasmtimeVersion,
    upstreamTag: manifest.upstreamTag,
    features: manifest.features,
    crateHash: manifest.crateHash,
    target,
    library,
    size: libraryBytes.length,
    sha256: librarySha256,
    rustc: manifest.rustc,
  };
  const files: ArchiveFile[] = [
    {
      path: `${name}/manifest.json`,
      bytes: new TextEncoder().encode(JSON.stringify(archived, null, 2) + "\n"),
      executable: false,
    },
    { path: `${name}/${library}`, bytes: libraryBytes, executable: true },
  ];
  await collect(join(entry, "include"), `${name}/include/`, files);
  const archive = packArchive(files);
  return {
    archive,
    description: {
      target,
      wasmtimeVersion: manifest.wasmtimeVersion,
      crateHash: manifest.crateHash,
      archive: archiveName(target),
      size: archive.length,
      sha256: sha256Hex(archive),
      librarySize: libraryBytes.length,
      librarySha256,
      rustc: manifest.rustc,
    },
  };
}

/** The package version in deno.json (the release tag without `v`). */
async function packageVersion(): Promise<string> {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  return config.version;
}

/**
 * The manifest for the archives described in `dir` (see the module documentation); every
 * description must be for this package's crate and match the archive next to it.
 */
export async function manifestFromDirectory(
  dir: string,
  baseUrl?: string,
): Promise<PrebuiltManifest> {
  const version = await packageVersion();
  const targets: Record<string, PrebuiltArchive | null> = Object.fromEntries(
    RELEASE_TARGETS.map((t) => [t, null]),
  );
  for await (const item of Deno.readDir(dir)) {
    if (!item.name.endsWith(".tar.gz.json")) continue;
    const d: ArchiveDescription = JSON.parse(await Deno.readTextFile(join(dir, item.name)));
    if (!(RELEASE_TARGETS as readonly string[]).includes(d.target)) {
      throw new PackageError(`${item.name}: ${d.target} is not a release target`);
    }
    if (d.crateHash !== NATIVE_CRATE.hash || d.wasmtimeVersion !== NATIVE_CRATE.wasmtimeVersion) {
      throw new PackageError(`${item.name} was built from another native crate`);
    }
    if (d.archive !== archiveName(d.target)) {
      throw new PackageError(`${item.name} names ${d.archive}, expected ${archiveName(d.target)}`);
    }
    const bytes = await Deno.readFile(join(dir, d.archive));
    if (bytes.length !== d.size || sha256Hex(bytes) !== d.sha256) {
      throw new PackageError(`${d.archive} does not match ${item.name}`);
    }
    targets[d.target] = {
      archive: d.archive,
      size: d.size,
      sha256: d.sha256,
      librarySize: d.librarySize,
      librarySha256: d.librarySha256,
      rustc: d.rustc,
    };
  }
  return {
    packageVersion: version,
    wasmtimeVersion: NATIVE_CRATE.wasmtimeVersion,
    crateHash: NATIVE_CRATE.hash,
    baseUrl: baseUrl ?? defaultBaseUrl(version),
    targets,
  };
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i === -1) return undefined;
  const value = args[i + 1];
  if (value === undefined || value.startsWith("--")) {
    throw new PackageError(`${name} needs a value`);
  }
  return value;
}

async function main(args: string[]): Promise<number> {
  const known = ["--entry", "--out", "--write-manifest", "--base-url"];
  for (let i = 0; i < args.length; i += 2) {
    if (!known.includes(args[i])) {
      console.error(`package-native: unknown argument ${args[i]}; use ${known.join(", ")}`);
      return 2;
    }
  }
  try {
    const manifestDir = option(args, "--write-manifest");
    if (manifestDir) {
      const manifest = await manifestFromDirectory(manifestDir, option(args, "--base-url"));
      const built = Object.keys(manifest.targets).filter((t) => manifest.targets[t]);
      const absent = Object.keys(manifest.targets).filter((t) => !manifest.targets[t]);
      const note = `Archives: ${built.join(", ") || "none"}` +
        (absent.length > 0 ? `; none for ${absent.join(", ")} (they build from source).` : ".");
      const module = new URL("../src/package/prebuilt.ts", import.meta.url);
      await Deno.writeTextFile(module, renderPrebuiltModule(manifest, note));
      const sums = built.map((t) =>
        `${manifest.targets[t]!.sha256}  ${manifest.targets[t]!.archive}\n`
      );
      await Deno.writeTextFile(join(manifestDir, "SHA256SUMS"), sums.join(""));
      console.error(`package-native: wrote src/package/prebuilt.ts (${note})`);
      return 0;
    }
    const entry = option(args, "--entry") ?? join(cacheRoot(), cacheEntryName());
    const out = resolve(option(args, "--out") ?? "dist");
    const { archive, description } = await packEntry(entry);
    await Deno.mkdir(out, { recursive: true });
    await Deno.writeFile(join(out, description.archive), archive);
    await Deno.writeTextFile(
      join(out, `${description.archive}.json`),
      JSON.stringify(description, null, 2) + "\n",
    );
    console.log(`${description.sha256}  ${description.archive}`);
    console.error(
      `package-native: wrote ${join(out, description.archive)} (${description.size} bytes; ` +
        `library sha256 ${description.librarySha256})`,
    );
    return 0;
  } catch (error) {
    if (error instanceof PackageError || error instanceof Deno.errors.NotFound) {
      console.error(`package-native: ${(error as Error).message}`);
      return 1;
    }
    throw error;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
