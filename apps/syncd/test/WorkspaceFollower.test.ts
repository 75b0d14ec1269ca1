/**
 * The workspace followers' options: a merge of a person's edits takes at most `fullMergeBatch` keys (it
 * holds both rows of each, its plan and the push's statements), however large ENRICH_SYNC_BATCH_SIZE is.
 */
import { assert, describe, it } from "@effect/vitest"
import { Company } from "@enrich-sync/core"
import * as Duration from "effect/Duration"
import { fullMergeBatch, workspaceFollowerOptions } from "../src/WorkspaceFollower.ts"

const settings = (batchSize: number) => ({
  entities: [Company],
  policy: { pushOn: ["complete"] as const },
  batchSize,
  workspacePoll: Duration.seconds(30)
})

describe("workspaceFollowerOptions", () => {
  it("caps a merge of workspace edits at fullMergeBatch keys, and keeps a smaller batch size", () => {
    assert.strictEqual(fullMergeBatch, 2000)
    assert.strictEqual(workspaceFollowerOptions(settings(5000)).batchSize, 2000)
    assert.strictEqual(workspaceFollowerOptions(settings(500)).batchSize, 500)
    const options = workspaceFollowerOptions(settings(5000))
    assert.strictEqual(options.direction, "workspace->neon")
    assert.strictEqual(Duration.toMillis(options.poll), 30_000)
  })
})
