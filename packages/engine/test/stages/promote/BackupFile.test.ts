import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { basename, join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Company } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/testing/TestClock"
import {
  appendBackup,
  closeBackup,
  createBackup,
  removeBackup
} from "../../../src/stages/promote/BackupFile.ts"

/** A temporary folder, removed with the scope. */
const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "enrich-sync-backup-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

describe("the promotion backup file", () => {
  it.effect("is named by the Clock's time, never overwrites one, and is its owner's alone", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const dir = join(yield* tempDir, "nested", "backups")
        yield* TestClock.setTime(Date.UTC(2025, 10, 7, 16, 32, 9, 123))
        const first = yield* createBackup(Company, dir)
        const second = yield* createBackup(Company, dir)
        assert.strictEqual(basename(first.path), "company-promote-20251107T163209-123Z.jsonl")
        assert.strictEqual(basename(second.path), "company-promote-20251107T163209-123Z-1.jsonl")
        assert.strictEqual(statSync(first.path).mode & 0o777, 0o600)
        yield* closeBackup(first)
        yield* removeBackup(second)
        assert.deepStrictEqual(readdirSync(dir), [basename(first.path)])
      })
    )
  )

  it.effect("appends rows as JSON lines; a failed append leaves the file as it was and says what to do", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const dir = yield* tempDir
        const file = yield* createBackup(Company, dir)
        yield* appendBackup(file, ['{"company_unique_id":"a"}', '{"company_unique_id":"b"}'])
        yield* appendBackup(file, ['{"company_unique_id":"c"}'])
        const held = readFileSync(file.path, "utf8")
        assert.strictEqual(
          held,
          '{"company_unique_id":"a"}\n{"company_unique_id":"b"}\n{"company_unique_id":"c"}\n'
        )
        assert.strictEqual(file.size, Buffer.byteLength(held))
        yield* closeBackup(file)
        const failure = yield* Effect.flip(appendBackup(file, ['{"company_unique_id":"d"}']))
        assert.strictEqual(failure._tag, "BackupError")
        assert.strictEqual(failure.path, file.path)
        assert.include(failure.message, "nothing of this batch was promoted")
        assert.strictEqual(readFileSync(file.path, "utf8"), held)
      })
    )
  )

  it.effect("a folder that cannot be created fails with the folder named", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const dir = yield* tempDir
        const blocked = join(dir, "file")
        writeFileSync(blocked, "")
        const failure = yield* Effect.flip(createBackup(Company, join(blocked, "backups")))
        assert.strictEqual(failure._tag, "BackupError")
        assert.strictEqual(failure.path, join(blocked, "backups"))
        assert.include(failure.message, "cannot create the promotion backup")
      })
    )
  )
})
