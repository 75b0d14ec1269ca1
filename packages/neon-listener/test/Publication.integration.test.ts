/**
 * The publication against a real server, through `ensureSlot`: what it repairs on its own (a missing
 * table or kind of change), and the key-only column lists of a publication it creates.
 */

import { assert, describe, it } from "@effect/vitest"
import { injectedServers } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import { ensureSlot } from "../src/Slot.ts"
import { freshSource } from "./support/Source.ts"

describe("the publication", () => {
  it.live("a publication missing a table or a kind of change is repaired and reported", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const source = yield* freshSource(injectedServers().neon, "nl_pub")
        const pub = source.publication
        yield* source.sql.query(
          `CREATE PUBLICATION ${pub} FOR TABLE marketing.company_invalid WITH (publish = 'insert, update')`
        )
        const ensured = yield* ensureSlot(source.config)
        assert.isTrue(ensured.publicationChanged)
        const [row] = yield* source.sql.query<{ pubdelete: boolean; pubtruncate: boolean; tables: string }>(
          `SELECT pubdelete, pubtruncate, (SELECT string_agg(tablename::text, ',' ORDER BY tablename) FROM pg_publication_tables WHERE pubname = $1) AS tables
             FROM pg_publication WHERE pubname = $1`,
          [pub]
        )
        assert.deepStrictEqual(row, {
          pubdelete: true,
          pubtruncate: true,
          tables: "company_invalid,people_invalid"
        })
      })
    )
  )

  it.live("a publication it creates sends only each table's key (PostgreSQL 15 and later)", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const source = yield* freshSource(injectedServers().neon, "nl_keyonly")
        const ensured = yield* ensureSlot(source.config)
        assert.isTrue(ensured.publicationChanged)
        const [version] = yield* source.sql.query<{ n: number }>(
          "SELECT current_setting('server_version_num')::int AS n"
        )
        const rows = yield* source.sql.query<{ t: string; columns: Array<string> | null }>(
          `SELECT tablename::text AS t, attnames::text[] AS columns FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1`,
          [source.publication]
        )
        if (Number(version?.n) >= 150000) {
          assert.deepStrictEqual(rows, [
            { t: "company_invalid", columns: ["company_unique_id"] },
            { t: "people_invalid", columns: ["unique_id"] }
          ])
        } else {
          assert.deepStrictEqual(
            rows.map((r) => r.t),
            ["company_invalid", "people_invalid"]
          )
        }
      })
    )
  )
})
