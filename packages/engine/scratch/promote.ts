import { Company } from "@enrich-sync/core"
import { seedDemoData, startPostgresServer } from "@enrich-sync/testing"
import { Effect, Layer, Redacted } from "effect"
import {
  applyMigrations,
  backfillEntity,
  promoteEntity,
  SourceDatabase,
  WorkspaceDatabase
} from "../src/index.ts"

const [neon, ws] = await Promise.all([
  startPostgresServer({ name: "pn" }),
  startPostgresServer({ name: "pw" })
])
try {
  const layer = Layer.mergeAll(
    SourceDatabase.layer(Redacted.make(neon.url())),
    WorkspaceDatabase.layer(Redacted.make(ws.url()))
  )
  await Effect.runPromise(
    Effect.gen(function* () {
      yield* applyMigrations(yield* SourceDatabase)
      yield* applyMigrations(yield* WorkspaceDatabase)
    }).pipe(Effect.scoped, Effect.provide(layer))
  )
  await seedDemoData(neon.url(), { companies: 100000, people: 0 })
  const r = await Effect.runPromise(
    Effect.gen(function* () {
      yield* backfillEntity(Company)
      const db = yield* SourceDatabase
      yield* db.query("UPDATE marketing.company_invalid SET validation_status = 'PASSED'")
      yield* db.query("VACUUM ANALYZE marketing.company_invalid")
      const t = Date.now()
      const report = yield* promoteEntity(Company, { backupDir: "/tmp/promote-backups" })
      return { ms: Date.now() - t, promoted: report.promoted, marked: report.workspaceMarked }
    }).pipe(Effect.scoped, Effect.provide(layer))
  )
  console.log(r, Math.round(r.promoted / (r.ms / 1000)), "rows/s")
} finally {
  await neon.stop()
  await ws.stop()
}
