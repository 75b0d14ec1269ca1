import { assert, describe, it } from "@effect/vitest"
import { Company } from "../src/Company.ts"
import { entities } from "../src/Entities.ts"
import { qualified } from "../src/Entity.ts"
import { Person } from "../src/Person.ts"
import { sourceMigrations } from "../src/sql/SourceMigrations.ts"
import { workspaceMigrations } from "../src/sql/WorkspaceMigrations.ts"

describe("entities", () => {
  it("lists each entity once, companies first", () => {
    assert.deepStrictEqual(entities, [Company, Person])
    assert.strictEqual(new Set(entities.map((e) => e.name)).size, entities.length)
  })

  it("is what the migrations of both sides create tables for", () => {
    const source = sourceMigrations.flatMap((m) => m.statements).join("\n")
    const workspace = workspaceMigrations.flatMap((m) => m.statements).join("\n")
    for (const entity of entities) {
      assert.include(source, `CREATE TABLE IF NOT EXISTS ${qualified(entity.sourceTable)}`)
      assert.include(source, `CREATE TABLE IF NOT EXISTS ${qualified(entity.masterTable)}`)
      assert.include(workspace, `CREATE TABLE IF NOT EXISTS ${qualified(entity.workspaceTable)}`)
    }
  })
})
