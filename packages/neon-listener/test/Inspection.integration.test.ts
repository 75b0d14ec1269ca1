/**
 * What `inspectSource` (the Neon part of `syncd check`) reports, on a real server: one finding per check, in
 * order (the direct host, logical replication and the role, the tables' replica identity, the publication,
 * the slot and who holds it), each saying what it found and, for a problem, its fix; a problem does not stop
 * the other checks; a server that cannot be reached is one finding; nothing is created, altered or ended;
 * the password never appears.
 */

import { assert, describe, it } from "@effect/vitest"
import { redactUrl } from "@enrich-sync/core"
import { injectedServers } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type { Finding } from "../src/Inspection.ts"
import { inspectSource } from "../src/Inspection.ts"
import { ensureSlot } from "../src/Slot.ts"
import {
  freshSource,
  roleWithoutReplication,
  type Source,
  startListener,
  streaming,
  walsenderPid
} from "./support/Source.ts"

const names = [
  "neon replication host",
  "neon logical replication",
  "neon tables",
  "neon publication",
  "neon slot"
]

/** The findings by name (every finding named once). */
const byName = (findings: ReadonlyArray<Finding>) => {
  assert.strictEqual(new Set(findings.map((f) => f.name)).size, findings.length, "each finding once")
  return Object.fromEntries(findings.map((f) => [f.name, f]))
}

/** No finding shows `secret`. */
const noSecret = (findings: ReadonlyArray<Finding>, secret: string) => {
  for (const f of findings) assert.notInclude(f.detail, secret, f.name)
}

/** What the server holds of the source's slot and publication (to see that an inspection changed nothing). */
const serverState = ({ sql, slot, publication }: Source) =>
  Effect.all({
    slot: sql.query(
      "SELECT slot_type, plugin, active_pid, confirmed_flush_lsn::text AS confirmed FROM pg_replication_slots WHERE slot_name = $1",
      [slot]
    ),
    publication: sql.query(
      "SELECT schemaname::text, tablename::text FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1, 2",
      [publication]
    ),
    publicationExists: sql.query("SELECT 1 FROM pg_publication WHERE pubname = $1", [publication])
  })

describe("inspectSource", () => {
  it.live(
    "a source syncd has not run on: every check passes, the publication and the slot are still to come",
    () =>
      Effect.gen(function* () {
        const source = yield* freshSource(injectedServers().neon, "nl_insp_new")
        const findings = yield* inspectSource(source.config)
        assert.deepStrictEqual(
          findings.map((f) => f.name),
          names
        )
        assert.deepStrictEqual(
          findings.map((f) => [f.ok, f.detail]),
          [
            [true, `${redactUrl(source.url)} (the direct host)`],
            [true, "wal_level is logical and the role may replicate"],
            [
              true,
              "marketing.company_invalid, marketing.people_invalid name their key in the replica identity"
            ],
            [true, `${source.publication} does not exist yet: syncd creates it when it starts`],
            [true, `${source.slot} does not exist yet: syncd creates it when it starts`]
          ]
        )
        noSecret(findings, new URL(source.url).password)
        // it only looked
        const state = yield* serverState(source)
        assert.deepStrictEqual(state, { slot: [], publication: [], publicationExists: [] })
      })
  )

  it.live(
    "once syncd made them: the publication publishes the tables, the slot is free at its position",
    () =>
      Effect.gen(function* () {
        const source = yield* freshSource(injectedServers().neon, "nl_insp_made")
        yield* ensureSlot(source.config)
        const before = yield* serverState(source)
        const confirmed = before.slot[0]?.confirmed
        assert.isString(confirmed)
        const found = byName(yield* inspectSource(source.config))
        assert.deepStrictEqual(found["neon publication"], {
          name: "neon publication",
          ok: true,
          detail: `${source.publication} publishes marketing.company_invalid, marketing.people_invalid`
        })
        assert.deepStrictEqual(found["neon slot"], {
          name: "neon slot",
          ok: true,
          detail: `${source.slot} exists, confirmed at ${confirmed}, free`
        })
        assert.deepStrictEqual(yield* serverState(source), before)
      })
  )

  it.live("a publication without every table: says which, and that syncd adds them", () =>
    Effect.gen(function* () {
      const source = yield* freshSource(injectedServers().neon, "nl_insp_pub")
      yield* source.sql.query(`CREATE PUBLICATION ${source.publication} FOR TABLE marketing.company_invalid`)
      const before = yield* serverState(source)
      const found = byName(yield* inspectSource(source.config))
      assert.deepStrictEqual(found["neon publication"], {
        name: "neon publication",
        ok: true,
        detail: `${source.publication} lacks marketing.people_invalid: syncd adds them when it starts`
      })
      assert.deepStrictEqual(yield* serverState(source), before)
    })
  )

  it.live("a slot held by a running listener: its PID and who it is, and the holder is left alone", () =>
    Effect.gen(function* () {
      const source = yield* freshSource(injectedServers().neon, "nl_insp_held")
      const { slot } = source
      const running = yield* startListener(source.config)
      yield* streaming(running)
      const pid = yield* walsenderPid(source.sql, slot)
      const found = byName(yield* inspectSource(source.config))
      assert.isTrue(found["neon slot"]?.ok)
      assert.match(
        found["neon slot"]!.detail,
        new RegExp(
          `^${slot} exists, confirmed at [0-9A-F]+/[0-9A-F]+, held now by PID ${pid} \\(enrich-sync from (127\\.0\\.0\\.1|::1)\\): a running syncd leads it; another one would stand by$`
        )
      )
      // the listener still streams, on the same walsender
      assert.strictEqual(yield* walsenderPid(source.sql, slot), pid)
      assert.strictEqual((yield* running.listener.status).state, "streaming")
      assert.isUndefined(running.failure())
    })
  )

  it.live("a slot of that name that is not syncd's: fails with the fix", () =>
    Effect.gen(function* () {
      const source = yield* freshSource(injectedServers().neon, "nl_insp_other")
      const { slot } = source
      // a logical slot for another plugin
      yield* source.sql.query("SELECT pg_create_logical_replication_slot($1, 'test_decoding')", [slot])
      const logical = byName(yield* inspectSource(source.config))["neon slot"]
      assert.deepStrictEqual(logical, {
        name: "neon slot",
        ok: false,
        detail: `a replication slot named ${slot} exists but is a logical slot for test_decoding in database ${source.name}; drop it (SELECT pg_drop_replication_slot('${slot}')) or set ENRICH_SYNC_SLOT to another name`
      })
      assert.lengthOf(
        yield* source.sql.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [slot]),
        1
      )
      // a pgoutput slot, of another database
      yield* source.sql.query("SELECT pg_drop_replication_slot($1)", [slot])
      const other = yield* freshSource(injectedServers().neon, "nl_insp_elsewhere")
      yield* other.sql.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [slot])
      const elsewhere = byName(yield* inspectSource(source.config))["neon slot"]
      assert.isFalse(elsewhere?.ok)
      assert.strictEqual(
        elsewhere?.detail,
        `a replication slot named ${slot} exists but is a logical slot for pgoutput in database ${other.name}; drop it (SELECT pg_drop_replication_slot('${slot}')) or set ENRICH_SYNC_SLOT to another name`
      )
      // a physical slot
      yield* other.sql.query("SELECT pg_drop_replication_slot($1)", [slot])
      yield* source.sql.query("SELECT pg_create_physical_replication_slot($1)", [slot])
      yield* Effect.addFinalizer(() =>
        source.sql.query(
          "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1",
          [slot]
        )
      )
      const physical = byName(yield* inspectSource(source.config))["neon slot"]
      assert.isFalse(physical?.ok)
      assert.strictEqual(
        physical?.detail,
        `a replication slot named ${slot} exists but is a physical slot; drop it (SELECT pg_drop_replication_slot('${slot}')) or set ENRICH_SYNC_SLOT to another name`
      )
    })
  )

  it.live(
    "a role that may not replicate and a replica identity without the key: each fails with its fix, the rest is still checked",
    () =>
      Effect.gen(function* () {
        const source = yield* freshSource(injectedServers().neon, "nl_insp_bad", { identity: false })
        const password = "Pw-inspection-7731"
        const { role, url } = yield* roleWithoutReplication(source, password)
        const findings = yield* inspectSource({ ...source.config, url: Redacted.make(url) })
        assert.deepStrictEqual(
          findings.map((f) => [f.name, f.ok]),
          [
            ["neon replication host", true],
            ["neon logical replication", false],
            ["neon tables", false],
            ["neon publication", true],
            ["neon slot", true]
          ]
        )
        const found = byName(findings)
        assert.match(
          found["neon logical replication"]!.detail,
          new RegExp(`role ${role} lacks the REPLICATION attribute`)
        )
        assert.match(found["neon logical replication"]!.detail, /WITH REPLICATION/)
        assert.match(
          found["neon tables"]!.detail,
          /replica identity of marketing\.company_invalid does not include its key company_unique_id/
        )
        assert.match(
          found["neon tables"]!.detail,
          /REPLICA IDENTITY USING INDEX "company_invalid_company_unique_id_key"/
        )
        noSecret(findings, password)
      })
  )

  it.live("Neon cannot be reached: the host, then one finding that says so, without the password", () =>
    Effect.gen(function* () {
      const password = "Pw-unreachable-5512"
      const url = `postgresql://owner:${password}@127.0.0.1:1/neondb`
      const findings = yield* inspectSource({
        url: Redacted.make(url),
        tables: [{ schema: "marketing", name: "company_invalid", key: "company_unique_id" }]
      })
      assert.deepStrictEqual(
        findings.map((f) => [f.name, f.ok]),
        [
          ["neon replication host", true],
          ["neon replication", false]
        ]
      )
      assert.match(findings[1]!.detail, /ECONNREFUSED/)
      noSecret(findings, password)
    })
  )

  it.live("a -pooler URL: the host finding names the direct host to use", () =>
    Effect.gen(function* () {
      const password = "Pw-pooler-2290"
      const findings = yield* inspectSource({
        url: Redacted.make(`postgresql://owner:${password}@ep-cool-1-pooler.localhost:1/neondb`),
        tables: [{ schema: "marketing", name: "company_invalid", key: "company_unique_id" }]
      })
      const host = findings[0]
      assert.strictEqual(host?.name, "neon replication host")
      assert.isFalse(host?.ok)
      assert.include(host!.detail, "Neon's connection pooler")
      assert.include(host!.detail, "set NEON_REPLICATION_URL to the direct host: postgresql://owner:")
      assert.include(host!.detail, "@ep-cool-1.localhost:1/neondb")
      noSecret(findings, password)
    })
  )

  it.live("a configuration that is not valid: one finding that names the problem", () =>
    Effect.gen(function* () {
      const findings = yield* inspectSource({
        url: Redacted.make(`postgresql://owner:pw@127.0.0.1:1/neondb`),
        slot: "Not-A-Slot",
        tables: [{ schema: "marketing", name: "company_invalid", key: "company_unique_id" }]
      })
      assert.deepStrictEqual(findings, [
        {
          name: "neon replication",
          ok: false,
          detail:
            'the replication slot name "Not-A-Slot" is not valid: use lower-case letters, digits and underscores (at most 63)'
        }
      ])
    })
  )
})
