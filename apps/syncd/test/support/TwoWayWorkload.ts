/**
 * Seeded edits of both sides at once, for as long as a test wants: the Neon editor and the enrichers of
 * `Editors.ts`, each on its own random stream and pace, over the demo's records (119 companies, 5 people)
 * and those the Neon editor inserts. Stopping waits for the writers, then the enrichers complete every row
 * they left in progress, so that, once synced, nothing is held back by push gating.
 */
import { demoCompanyKey, demoPersonKey } from "@enrich-sync/testing"
import { EditLog } from "./EditLog.ts"
import { Enricher, KeySpace, keepEditing, NeonEditor } from "./Editors.ts"
import type { SeededRandom } from "./SeededRandom.ts"
import { companyTable, peopleTable } from "./SyncedTables.ts"

/** Edits of both sides, running. */
export interface TwoWayWorkload {
  readonly log: EditLog
  /** stops the writers, completes what the enrichers left in progress, and closes their connections */
  readonly stop: () => Promise<void>
}

/** Starts editing both sides. */
export const startTwoWayWorkload = (options: {
  readonly neonUrl: string
  readonly workspaceUrl: string
  readonly random: SeededRandom
  /** how many enrichers (default 2) */
  readonly enrichers?: number
  /** pause between two Neon transactions, in ms (default 30-150) */
  readonly neonPauseMs?: readonly [number, number]
  /** pause between two edits of an enricher, in ms (default 50-250) */
  readonly enricherPauseMs?: readonly [number, number]
}): TwoWayWorkload => {
  const { random } = options
  const count = options.enrichers ?? 2
  const log = new EditLog()
  const keys = new KeySpace(
    new Map([
      [companyTable, Array.from({ length: 119 }, (_, i) => demoCompanyKey(i))],
      [peopleTable, Array.from({ length: 5 }, (_, i) => demoPersonKey(i))]
    ]),
    random.fork(1)
  )
  const neon = new NeonEditor(options.neonUrl, log, keys, random.fork(2))
  const enrichers = Array.from(
    { length: count },
    (_, i) => new Enricher(options.workspaceUrl, log, keys, random.fork(3 + i), i + 1, count)
  )
  let stop = () => {}
  const stopped = new Promise<void>((resolve) => {
    stop = resolve
  })
  const pace = random.fork(100)
  const writing = Promise.all([
    keepEditing(() => neon.step(), pace.fork(1), options.neonPauseMs ?? [30, 150], stopped),
    ...enrichers.map((e, i) =>
      keepEditing(() => e.step(), pace.fork(2 + i), options.enricherPauseMs ?? [50, 250], stopped)
    )
  ])
  // a writer that fails (not a fault it rides out) stops the others; `stop` reports it
  writing.catch(() => stop())
  return {
    log,
    stop: async () => {
      stop()
      try {
        await writing
        for (const e of enrichers) await e.finish(options.workspaceUrl)
      } finally {
        await Promise.all([neon.session.close(), ...enrichers.map((e) => e.session.close())])
      }
    }
  }
}
