/**
 * The positions the listener handles agree with Postgres' own `pg_lsn`: for random positions, Postgres
 * prints what `formatLsn` prints, reads back what `parseLsn` reads (padded or not), and orders pairs the
 * way the bigints order.
 */

import { assert, describe, it } from "@effect/vitest"
import { formatLsn, type Lsn, maxLsn, parseLsn } from "@enrich-sync/core"
import { connectionUrl, injectedServers } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import * as fc from "fast-check"
import { connect } from "./support/Source.ts"

const edge = fc.constantFrom(0n, 1n, 0xffff_ffffn, 0x1_0000_0000n, 0x1_0000_0001n, maxLsn - 1n, maxLsn)
const lsn: fc.Arbitrary<Lsn> = fc.oneof(
  edge,
  fc.bigInt({ min: 0n, max: maxLsn }),
  fc.bigInt({ min: 0n, max: 0xff_ffff_ffffn })
)

describe("Lsn against Postgres' pg_lsn", () => {
  it.live("prints, parses and orders like pg_lsn", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const sql = yield* connect(connectionUrl(injectedServers().neon))
        const pairs = fc.sample(fc.tuple(lsn, lsn), { numRuns: 300, seed: 42 })
        const padded = (x: Lsn) => {
          const [hi, lo] = formatLsn(x).split("/")
          return `${hi!.padStart(8, "0")}/${lo!.padStart(8, "0")}`
        }
        const rows = yield* sql.query<{ a: string; b: string; cmp: number; ap: string }>(
          `SELECT a::text AS a, b::text AS b, (CASE WHEN a < b THEN -1 WHEN a > b THEN 1 ELSE 0 END) AS cmp, ap::text AS ap
             FROM unnest($1::pg_lsn[], $2::pg_lsn[], $3::pg_lsn[]) AS t(a, b, ap)`,
          [
            pairs.map(([a]) => formatLsn(a)),
            pairs.map(([, b]) => formatLsn(b)),
            pairs.map(([a]) => padded(a))
          ]
        )
        assert.strictEqual(rows.length, pairs.length)
        for (const [i, [a, b]] of pairs.entries()) {
          const row = rows[i]!
          assert.strictEqual(row.a, formatLsn(a), "Postgres prints what formatLsn prints")
          assert.strictEqual(parseLsn(row.a), a)
          assert.strictEqual(parseLsn(row.ap), a, "a padded position reads back the same")
          assert.strictEqual(row.cmp, a < b ? -1 : a > b ? 1 : 0, `${row.a} vs ${row.b}`)
        }
      })
    )
  )
})
