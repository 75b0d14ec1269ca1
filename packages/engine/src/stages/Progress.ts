/**
 * How a long stage reports how far it is, as it goes: the stage (or phase) name, the entity, and a count
 * of what is done out of a total. A stage calls its caller's `onProgress` with it; nothing waits on it.
 */
import type { Entity } from "@enrich-sync/core"

/** Progress of a long stage, reported as it goes. */
export interface Progress {
  readonly stage: string
  readonly entity: Entity["name"]
  readonly done: number
  readonly total: number
}
