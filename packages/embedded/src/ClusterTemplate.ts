/**
 * Creating PostgreSQL clusters (data directories): `initdb`, or a copy of a cached, already initialised
 * template (a copy takes a fraction of an `initdb`).
 *
 * Invariant: a template is only ever visible complete. It is built in a private folder and renamed into
 * place in one step, so parallel test processes either see a whole template or none (and then build their
 * own; the loser of the rename throws its copy away). A template is keyed by the binaries (path, size and
 * modification time of `postgres`) and the `initdb` options, so a different PostgreSQL never reuses it.
 */
import { execFile } from "node:child_process"
import { createHash, randomBytes } from "node:crypto"
import { existsSync } from "node:fs"
import { chmod, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import type { PostgresBinaries, RunAs } from "./PostgresBinaries.ts"
import { giveTo } from "./PostgresBinaries.ts"

const run = promisify(execFile)

/** The superuser every cluster is created with. */
export const superuser = "postgres"

/** A fresh random password, URL-safe. */
export const randomPassword = (): string => randomBytes(18).toString("base64url")

/**
 * Runs `initdb` for an empty (or missing) `dataDir`, with `password` for the `postgres` superuser and
 * scram-sha-256 authentication. `durable: false` skips the final fsync. The locale is `C.UTF-8` for
 * character classes (Unicode-aware `lower()`/`upper()`, like Neon's and Supabase's UTF-8 locales) with the
 * `C` collation (code point order, which `C.UTF-8` sorts in too, but compared with memcmp and abbreviated
 * keys: text indexes build several times faster); plain `C` where the system has no `C.UTF-8`. A
 * non-durable (test) cluster also gets 1 MB WAL segments instead of 16 MB: a fresh cluster is then 23 MB
 * instead of 39 MB, which is most of the cost of copying one.
 */
export const initCluster = async (options: {
  readonly binaries: PostgresBinaries
  readonly runAs: RunAs | undefined
  readonly dataDir: string
  readonly password: string
  readonly durable: boolean
}): Promise<void> => {
  const { binaries, runAs, dataDir, password, durable } = options
  const scratch = await mkdtemp(join(tmpdir(), "enrich-sync-initdb-"))
  try {
    await giveTo(runAs, scratch)
    const pwfile = join(scratch, "pwfile")
    await writeFile(pwfile, `${password}\n`, { mode: 0o600 })
    await giveTo(runAs, pwfile)
    await mkdir(dataDir, { recursive: true, mode: 0o700 })
    await giveTo(runAs, dataDir)
    const base = [
      `--pgdata=${dataDir}`,
      `--username=${superuser}`,
      "--auth=scram-sha-256",
      `--pwfile=${pwfile}`,
      "--encoding=UTF8",
      "--no-instructions",
      ...(durable ? [] : ["--no-sync", "--wal-segsize=1"])
    ]
    const initdb = (locale: string, ...more: ReadonlyArray<string>) =>
      run(binaries.initdb, [...base, `--locale=${locale}`, ...more], {
        ...(runAs ?? {}),
        env: { ...process.env, LC_ALL: "C" },
        cwd: scratch
      })
    try {
      await initdb("C.UTF-8", "--lc-collate=C")
    } catch {
      // initdb leaves nothing behind on failure (it removes what it created); retry with plain C
      await initdb("C")
    }
  } catch (cause) {
    const stderr = (cause as { stderr?: unknown }).stderr
    const detail = typeof stderr === "string" ? `: ${stderr.trim()}` : ""
    const hint =
      runAs !== undefined && detail.includes("Permission denied")
        ? " (the postgres user must be able to enter every parent folder of the data directory)"
        : ""
    throw new Error(`initdb failed for ${dataDir}${detail}${hint}`, { cause })
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
}

/** Where templates are cached: the package's `node_modules/.cache`, else the temp folder. */
const cacheRoot = async (): Promise<string> => {
  const preferred = fileURLToPath(new URL("../node_modules/.cache/enrich-sync-postgres", import.meta.url))
  try {
    await mkdir(preferred, { recursive: true })
    return preferred
  } catch {
    const fallback = join(tmpdir(), "enrich-sync-postgres-templates")
    await mkdir(fallback, { recursive: true })
    return fallback
  }
}

const templateKey = async (binaries: PostgresBinaries): Promise<string> => {
  const info = await stat(binaries.postgres)
  return createHash("sha256")
    .update(
      JSON.stringify([
        binaries.postgres,
        info.size,
        info.mtimeMs,
        "scram-sha-256",
        "UTF8",
        "C.UTF-8",
        "collate=C",
        "wal-segsize=1"
      ])
    )
    .digest("hex")
    .slice(0, 16)
}

/** A cached template: its data directory and the superuser password it was created with. */
export interface ClusterTemplate {
  readonly dataDir: string
  readonly password: string
  /** the template's folder, removed by `discard` */
  readonly root: string
}

/** The template for these binaries, built (once, by whichever process gets there first) when missing. */
export const clusterTemplate = async (
  binaries: PostgresBinaries,
  runAs: RunAs | undefined
): Promise<ClusterTemplate> => {
  const root = join(await cacheRoot(), `${binaries.kind}-${await templateKey(binaries)}`)
  const read = async (): Promise<ClusterTemplate> => ({
    root,
    dataDir: join(root, "data"),
    password: (await readFile(join(root, "password"), "utf8")).trim()
  })
  if (existsSync(join(root, "password"))) return read()
  const building = await mkdtemp(`${root}.building-`)
  try {
    await chmod(building, 0o755)
    const password = randomPassword()
    await initCluster({ binaries, runAs, dataDir: join(building, "data"), password, durable: false })
    await writeFile(join(building, "password"), `${password}\n`, { mode: 0o600 })
    try {
      await rename(building, root)
    } catch (cause) {
      // another process renamed its template into place first: use that one
      if (!existsSync(join(root, "password"))) throw cause
    }
    return await read()
  } finally {
    await rm(building, { recursive: true, force: true })
  }
}

/** Removes a template that turned out to be unusable, so the next start builds a fresh one. */
export const discardTemplate = (template: ClusterTemplate): Promise<void> =>
  rm(template.root, { recursive: true, force: true })

/** Copies a template's data directory to `dataDir` (which must not exist), keeping owners and modes. */
export const cloneTemplate = async (template: ClusterTemplate, dataDir: string): Promise<void> => {
  await run("cp", ["-a", template.dataDir, dataDir])
}
