import { assert, describe, layer } from "@effect/vitest"
import { parseLsn } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import { readReplicationProgress, writeReplicationProgress } from "../../src/store/ReplicationProgress.ts"
import { engineFixture } from "../support/EngineFixture.ts"

describe("the replication progress", () => {
  layer(engineFixture())((it) => {
    it.effect("records a slot's applied position, per slot, and never moves it back", () =>
      Effect.gen(function* () {
        assert.isNull(yield* readReplicationProgress("enrich_sync"))
        yield* writeReplicationProgress("enrich_sync", parseLsn("0/16B3748"))
        assert.strictEqual(yield* readReplicationProgress("enrich_sync"), parseLsn("0/16B3748"))
        yield* writeReplicationProgress("enrich_sync", parseLsn("1/00000010"))
        assert.strictEqual(yield* readReplicationProgress("enrich_sync"), parseLsn("1/10"))
        // an older position (a step that finished late) leaves the recorded one
        yield* writeReplicationProgress("enrich_sync", parseLsn("0/16B3748"))
        assert.strictEqual(yield* readReplicationProgress("enrich_sync"), parseLsn("1/10"))
        // another slot has its own
        assert.isNull(yield* readReplicationProgress("other"))
        yield* writeReplicationProgress("other", parseLsn("0/1"))
        assert.strictEqual(yield* readReplicationProgress("other"), parseLsn("0/1"))
        assert.strictEqual(yield* readReplicationProgress("enrich_sync"), parseLsn("1/10"))
      })
    )
  })
})
