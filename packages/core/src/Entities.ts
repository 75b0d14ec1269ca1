/**
 * The entities this project syncs, listed once: the migrations of both sides, the schema check and every
 * command go through this list, so an entity added here is created, checked and synced everywhere.
 */
import { Company } from "./Company.ts"
import type { Entity } from "./Entity.ts"
import { Person } from "./Person.ts"

/** Every entity, in the order migrations create them and commands work on them. */
export const entities: ReadonlyArray<Entity> = [Company, Person]
