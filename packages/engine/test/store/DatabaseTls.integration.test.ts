/**
 * TLS as a connection string says it, the libpq way: against a server whose certificate no public
 * authority signed (as Supabase's direct connections are), `sslmode=require` connects encrypted, and
 * `sslmode=verify-full` refuses the unknown authority, unless `sslrootcert` names it.
 */
import { execFileSync } from "node:child_process"
import { chmodSync, chownSync, copyFileSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { type PostgresServer, startPostgresServer } from "@enrich-sync/testing"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { SourceDatabase } from "../../src/store/Database.ts"

describe("TLS, read from the connection string as libpq reads it", () => {
  let server: PostgresServer
  let folder: string

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), "engine-tls-"))
    chmodSync(folder, 0o755)
    const key = join(folder, "server.key")
    const cert = join(folder, "server.crt")
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-keyout",
        key,
        "-out",
        cert
      ],
      { stdio: "ignore" }
    )
    chmodSync(key, 0o600)
    // the server runs as the postgres user when this process is root, and insists on owning its key
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim())
      const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim())
      chownSync(key, uid, gid)
      chownSync(cert, uid, gid)
    }
    // self-signed: the certificate is its own authority
    copyFileSync(cert, join(folder, "ca.crt"))
    server = await startPostgresServer({
      name: "tls",
      flags: ["-c", "ssl=on", "-c", `ssl_cert_file=${cert}`, "-c", `ssl_key_file=${key}`]
    })
  }, 90_000)

  afterAll(async () => {
    await server?.stop()
    rmSync(folder, { recursive: true, force: true })
  })

  const encrypted = (query: string) =>
    Effect.gen(function* () {
      const context = yield* Layer.build(
        SourceDatabase.layer(Redacted.make(`${server.url()}${query}`), { max: 1 })
      )
      const db = Context.get(context, SourceDatabase)
      const [row] = yield* db.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
      return row?.ssl === true
    }).pipe(Effect.scoped)

  it.live("sslmode=require connects, encrypted, to a server no public authority vouches for", () =>
    Effect.gen(function* () {
      assert.isTrue(yield* encrypted("?sslmode=require"))
    })
  )

  it.live("sslmode=verify-full refuses that server, and accepts it with its authority as sslrootcert", () =>
    Effect.gen(function* () {
      const refused = yield* Effect.flip(encrypted("?sslmode=verify-full"))
      assert.match(refused.message, /certificate could not be verified.*sslrootcert/)
      assert.isTrue(yield* encrypted(`?sslmode=verify-full&sslrootcert=${join(folder, "ca.crt")}`))
    })
  )
})
