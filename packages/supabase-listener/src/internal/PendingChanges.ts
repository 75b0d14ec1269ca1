/**
 * What the listener has heard and the daemon has not taken yet: the keys changed per table (a set each, so
 * a row edited a hundred times is merged once) and the reasons a catch-up is due.
 *
 * Realtime cannot be slowed down (its server sends what it sends), so nothing here waits on the consumer;
 * memory stays bounded by the number of distinct rows changed, never by the number of events, and
 * nothing is dropped. Filled from realtime-js callbacks and drained by the consumer on the same thread, so
 * a drain and the latch's closing happen with no callback in between.
 */
import * as Effect from "effect/Effect"
import * as Latch from "effect/Latch"

/** What a take hands over. */
export interface WorkspaceChanges {
  /** keys changed, per followed table (`schema.name`) */
  readonly keys: ReadonlyMap<string, ReadonlyArray<string>>
  /** why a catch-up of the whole workspace is due (changes may have been missed); empty when none is */
  readonly catchUp: ReadonlyArray<string>
}

export class PendingChanges {
  readonly #latch = Latch.makeUnsafe(false)
  #keys = new Map<string, Set<string>>()
  #catchUp: Array<string> = []

  /** A change of `key` in `table` (`schema.name`). */
  addKey(table: string, key: string): void {
    let keys = this.#keys.get(table)
    if (keys === undefined) {
      keys = new Set()
      this.#keys.set(table, keys)
    }
    keys.add(key)
    this.#latch.openUnsafe()
  }

  /** A catch-up is due, and why (the same reason is kept once). */
  addCatchUp(reason: string): void {
    if (!this.#catchUp.includes(reason)) this.#catchUp.push(reason)
    this.#latch.openUnsafe()
  }

  /** Waits until something is pending, then takes all of it. */
  readonly take: Effect.Effect<WorkspaceChanges> = Effect.andThen(
    this.#latch.await,
    Effect.sync(() => {
      const keys = new Map([...this.#keys].map(([table, set]) => [table, [...set]] as const))
      const catchUp = this.#catchUp
      this.#keys = new Map()
      this.#catchUp = []
      this.#latch.closeUnsafe()
      return { keys, catchUp }
    })
  )

  /** Keys waiting to be taken. */
  get size(): number {
    let n = 0
    for (const keys of this.#keys.values()) n += keys.size
    return n
  }
}
