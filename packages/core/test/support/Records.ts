/**
 * What the validation tests share: a sync record with every field of an entity null (each test spreads its
 * values over it), and the pattern every error and warning message matches (it says how to fix it).
 */
import type { Entity } from "../../src/Entity.ts"
import type { SyncValue } from "../../src/Projection.ts"

/** A record of `entity` with every field null. */
export const blank = (entity: Entity): { [field: string]: SyncValue } =>
  Object.fromEntries(entity.fields.map((f) => [f.name, null]))

/** A message says how to fix what it reports: `...: write ...`, `...: check ...` and so on. */
export const fixHint = /: (?:write|check|keep|open|fill|find)\b/
