/**
 * `enrich-sync conflicts`: the values merges overwrote (`sync_conflicts`), for people to see and act on.
 * `conflicts` lists them (filters `--entity`, `--key`, `--since`, `--unreviewed`), `conflicts show ID` prints
 * one with both values and times, `conflicts restore ID` writes its losing value back as a new edit on the
 * side where it lost (through the merge), `conflicts review ID|--all` marks them reviewed.
 *
 * Invariants: listing, showing and reviewing need only the workspace (Neon is neither configured nor
 * reached); a restore needs both; every bad argument is a usage error (exit 2) found before anything
 * connects, every refusal of the engine one line with its fix (exit 1).
 */
import { userInfo } from "node:os"
import type { SyncValue } from "@enrich-sync/core"
import { canonicalJson, isBartonId } from "@enrich-sync/core"
import type { ConflictFilter, LoggedConflict, Restorable, RestoreReport } from "@enrich-sync/engine"
import { listConflicts, markReviewed, restorable, restoreConflict, showConflict } from "@enrich-sync/engine"
import * as Clock from "effect/Clock"
import { Argument, Command, Flag } from "effect/cli"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { CliFailure } from "./CliFailure.ts"
import { type Example, withHelp } from "./CommandHelp.ts"
import * as Flags from "./CommonFlags.ts"
import { formatTable, Output } from "./Output.ts"
import { withBothSides, withWorkspace } from "./Preflight.ts"

// ---------------------------------------------------------------------------------------------------------
// arguments

const usage = (message: string) => new CliFailure({ reason: "Usage", message })

const units: { readonly [unit: string]: number } = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

const timePattern =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i

/**
 * The instant `--since` names (ISO-8601, UTC), or null when it names none: an age (`30m`, `12h`, `7d`,
 * `2w`) before `now`, or a date or time (`2025-11-07`, `2025-11-07T16:32:09Z`, `2025-11-07 16:32`, with an
 * offset or else in UTC).
 */
export const parseSince = (text: string, now: number): string | null => {
  const trimmed = text.trim()
  const age = /^(\d{1,6})\s*([mhdw])$/i.exec(trimmed)
  if (age !== null) return new Date(now - Number(age[1]) * units[age[2]!.toLowerCase()]!).toISOString()
  const m = timePattern.exec(trimmed)
  if (m === null) return null
  const [, y, mo, d, h = "0", mi = "0", s = "0", fraction = "", zone = "Z"] = m
  const fields = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)] as const
  const utc = Date.UTC(...fields, Math.floor(Number(`0${fraction}`) * 1000))
  const back = new Date(utc)
  // a day or time that does not exist (`02-30`, `24:00`) is refused, not carried into the next
  if (
    back.getUTCFullYear() !== fields[0] ||
    back.getUTCMonth() !== fields[1] ||
    back.getUTCDate() !== fields[2] ||
    back.getUTCHours() !== fields[3] ||
    back.getUTCMinutes() !== fields[4] ||
    back.getUTCSeconds() !== fields[5]
  )
    return null
  if (zone.toUpperCase() === "Z") return back.toISOString()
  const sign = zone.startsWith("-") ? -1 : 1
  const digits = zone.slice(1).replace(":", "")
  const offset = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || "0"))
  if (Math.abs(offset) > 18 * 60) return null
  return new Date(utc - offset * 60_000).toISOString()
}

/** The conflict id of an argument: a whole number from 1, as the list's first column shows it. */
export const parseConflictId = (text: string): number | null =>
  /^\d{1,15}$/.test(text.trim()) && Number(text) >= 1 ? Number(text) : null

const conflictId = (text: string) => {
  const id = parseConflictId(text)
  return id === null
    ? Effect.fail(
        usage(
          `"${text}" is not a conflict ID; give the number in the first column of \`enrich-sync conflicts\` (e.g. 12)`
        )
      )
    : Effect.succeed(id)
}

/** The filter of `--entity`, `--key` and `--since`, checked (usage errors before anything connects). */
const filterOf = (
  entity: "company" | "people" | "all",
  key: Option.Option<string>,
  since: Option.Option<string>,
  unreviewed: boolean
) =>
  Effect.gen(function* () {
    const filter: { -readonly [K in keyof ConflictFilter]: ConflictFilter[K] } = {}
    if (entity !== "all") filter.entity = entity
    if (Option.isSome(key)) {
      const k = key.value.trim()
      if (!isBartonId(k))
        return yield* usage(
          `--key "${key.value}" is not a Barton ID; give the record's key as NN.NN.NN.NN.NNNNN.NNN (e.g. 04.04.01.01.00101.101)`
        )
      filter.key = k
    }
    if (Option.isSome(since)) {
      const instant = parseSince(since.value, yield* Clock.currentTimeMillis)
      if (instant === null)
        return yield* usage(
          `--since "${since.value}" is neither a time nor an age; give a date or time (2025-11-07, 2025-11-07T16:32:09Z; UTC unless it has an offset) or an age (30m, 12h, 7d, 2w)`
        )
      filter.since = instant
    }
    if (unreviewed) filter.unreviewed = true
    return filter as ConflictFilter
  })

/** Who reviews: `--by`, else the login name of the user running the command (null when there is none). */
const reviewer = (by: Option.Option<string>): string | null => {
  if (Option.isSome(by) && by.value.trim() !== "") return by.value.trim()
  try {
    return userInfo().username
  } catch {
    return null
  }
}

// ---------------------------------------------------------------------------------------------------------
// flags

const keyFlag = Flag.String("key").pipe(
  Flag.withDescription("only the conflicts of this record (its Barton ID)"),
  Flag.withMetavar("KEY"),
  Flag.optional
)

const sinceFlag = Flag.String("since").pipe(
  Flag.withDescription(
    "only the conflicts detected since this time (2025-11-07, 2025-11-07T16:32:09Z; UTC unless it has an offset) or age (30m, 12h, 7d, 2w)"
  ),
  Flag.withMetavar("TIME"),
  Flag.optional
)

const unreviewedFlag = Flag.Boolean("unreviewed").pipe(
  Flag.withDescription("only the conflicts nobody has reviewed yet"),
  Flag.withDefault(false)
)

/** The most conflicts a list shows. */
export const defaultLimit = 100

const limitFlag = Flag.Int("limit").pipe(
  Flag.withDescription(`the most conflicts listed, the newest (default ${defaultLimit})`),
  Flag.filterMap(
    (n) => (n >= 1 && n <= 100_000 ? Option.some(n) : Option.none()),
    (n) => `Expected a whole number from 1 to 100000, got ${n}`
  ),
  Flag.withDefault(defaultLimit)
)

const byFlag = Flag.String("by").pipe(
  Flag.withDescription(
    "who reviews, recorded in reviewed_by (default the login name of the user running it)"
  ),
  Flag.withMetavar("NAME"),
  Flag.optional
)

// ---------------------------------------------------------------------------------------------------------
// rendering

const shown = (value: SyncValue): string => (value === null ? "NULL" : canonicalJson(value))

const cut = (text: string, width: number) => (text.length > width ? `${text.slice(0, width - 3)}...` : text)

const sideName = { source: "Neon", workspace: "workspace" } as const

/** The values a conflict overwrote, by side: the loser's, or for a kept status each side that moved. */
export const lostValues = (
  c: LoggedConflict
): ReadonlyArray<{ side: "source" | "workspace"; value: SyncValue }> => {
  if (c.winner === "workspace") return [{ side: "source", value: c.source.value }]
  if (c.winner === "source") return [{ side: "workspace", value: c.workspace.value }]
  const moved: Array<{ side: "source" | "workspace"; value: SyncValue }> = []
  if (canonicalJson(c.source.value) !== canonicalJson(c.base))
    moved.push({ side: "source", value: c.source.value })
  if (canonicalJson(c.workspace.value) !== canonicalJson(c.base))
    moved.push({ side: "workspace", value: c.workspace.value })
  return moved
}

const reviewState = (c: LoggedConflict) =>
  c.restoredAt !== null
    ? "restored"
    : c.reviewedAt === null
      ? "no"
      : c.reviewedBy === null
        ? "yes"
        : `yes (${c.reviewedBy})`

const time = (t: string | null) => (t === null ? "unknown" : t.replace("T", " ").slice(0, 19))

/** The human list. */
export const renderList = (
  conflicts: ReadonlyArray<LoggedConflict>,
  total: number,
  unreviewed: number,
  filtered: boolean
): string => {
  if (total === 0)
    return filtered
      ? "No conflicts match these filters."
      : "No conflicts logged: no merge has overwritten a value."
  const rows: Array<Array<string | number>> = [
    ["id", "entity", "key", "field", "reason", "winner", "lost value", "detected (UTC)", "reviewed"]
  ]
  for (const c of conflicts) {
    rows.push([
      c.id,
      c.entity,
      c.key,
      c.field,
      c.pending ? `${c.reason} (pending push)` : c.reason,
      c.winner,
      cut(
        lostValues(c)
          .map((l) => `${sideName[l.side]} ${shown(l.value)}`)
          .join(", "),
        40
      ),
      time(c.detectedAt),
      reviewState(c)
    ])
  }
  const shownCount = conflicts.length < total ? `; the newest ${conflicts.length} shown` : ""
  return [
    `Conflicts (${total} ${filtered ? "match" : "logged"}, ${unreviewed} unreviewed${shownCount})`,
    formatTable(rows),
    "Details: enrich-sync conflicts show ID; write the lost value back: enrich-sync conflicts restore ID; mark reviewed: enrich-sync conflicts review ID (or --all)"
  ].join("\n")
}

const reasonText: { readonly [reason: string]: string } = {
  "both-changed": "both sides changed it to different values; the newer edit won (a tie goes to Neon)",
  "status-only-forward":
    "the enrichment status would have moved backwards; the more advanced status was kept",
  "source-owned": "the workspace edited a field only Neon changes; Neon's value was kept"
}

const explainReason = (reason: string) =>
  reasonText[reason] ??
  (reason.startsWith("restored #")
    ? `a restore (\`conflicts restore ${reason.slice("restored #".length)}\`) wrote the other side's value back over it`
    : reason)

const restoreLine = (c: LoggedConflict, plan: Restorable) =>
  c.restoredAt !== null
    ? `already restored (${c.restoredAt})`
    : plan.restorable
      ? `\`enrich-sync conflicts restore ${c.id}\` writes ${shown(plan.value)} back on ${sideName[plan.side]}`
      : `cannot be restored: ${plan.why}`

/** The human view of one conflict. */
export const renderShow = (c: LoggedConflict): string => {
  const lost = new Set(lostValues(c).map((l) => l.side))
  const side = (s: "source" | "workspace") => {
    const v = s === "source" ? c.source : c.workspace
    const fate = lost.has(s)
      ? `lost (overwritten ${s === "source" ? "on Neon" : "in the workspace"})`
      : "kept"
    return [
      sideName[s] === "Neon" ? "Neon" : "workspace",
      `${shown(v.value)}`,
      `edited ${v.editedAt ?? "unknown"}`,
      fate
    ]
  }
  const reviewed =
    c.reviewedAt === null ? "no" : `${c.reviewedAt}${c.reviewedBy === null ? "" : ` by ${c.reviewedBy}`}`
  return [
    `Conflict ${c.id}: ${c.entity} ${c.key}, field ${c.field}`,
    formatTable([
      [
        "reason",
        `${c.reason}: ${explainReason(c.reason)}${c.pending ? " (the winner waits for its push)" : ""}`
      ],
      ["winner", c.winner === "base" ? "the agreed value (base)" : sideName[c.winner]],
      ["base", `${shown(c.base)} (what both sides agreed on before)`],
      side("source"),
      side("workspace"),
      ["detected", c.detectedAt],
      ["reviewed", reviewed],
      ["restore", restoreLine(c, restorable(c))]
    ])
  ].join("\n")
}

/** The human report of a restore. */
export const renderRestore = (r: RestoreReport): string => {
  const c = r.conflict
  const where = r.side === "source" ? "on Neon" : "in the workspace"
  const merged =
    r.side === "source"
      ? r.merge.updated > 0
        ? "merged into the workspace"
        : "the workspace already agreed"
      : r.merge.pushed > 0
        ? "merged and pushed to Neon"
        : "held in the workspace until its row is pushable (like any edit; push or syncd sends it then)"
  return [
    `Restored conflict ${c.id}: ${c.entity} ${c.key} ${c.field} = ${shown(r.value)} written back ${where} (edited ${r.editedAt ?? "now"}), replacing ${shown(r.replaced)}; ${merged}.`,
    `The replaced value is logged as conflict ${r.loggedAs} (\`enrich-sync conflicts restore ${r.loggedAs}\` writes it back).`
  ].join("\n")
}

// ---------------------------------------------------------------------------------------------------------
// commands

/** `conflicts show ID`. */
const showCommand = Command.make(
  "show",
  { id: Argument.String("ID").pipe(Argument.withDescription("the conflict's id")), json: Flags.json },
  Effect.fn(function* ({ id, json }) {
    const output = yield* Output
    yield* output.begin("conflicts show", { json })
    const n = yield* conflictId(id)
    const conflict = yield* withWorkspace(showConflict(n))
    yield* output.result({ conflict, lost: lostValues(conflict), restore: restorable(conflict) })
    yield* output.print(renderShow(conflict))
  })
).pipe(
  withHelp("Print one conflict: both values and edit times, the base, the winner, and whether it restores", [
    "enrich-sync conflicts show 12",
    "conflict 12 in full"
  ])
)

/** `conflicts restore ID`. */
const restoreCommand = Command.make(
  "restore",
  {
    id: Argument.String("ID").pipe(Argument.withDescription("the conflict's id")),
    by: byFlag,
    json: Flags.json,
    pushOn: Flags.pushOn
  },
  Effect.fn(function* ({ id, by, json, pushOn }) {
    const output = yield* Output
    yield* output.begin("conflicts restore", { json })
    const n = yield* conflictId(id)
    const report = yield* withBothSides((policy) => restoreConflict(n, { by: reviewer(by), policy }), pushOn)
    yield* output.result({ restored: report })
    yield* output.print(renderRestore(report))
  })
).pipe(
  withHelp(
    "Write a conflict's losing value back as a new edit on the side where it lost, then merge it (the value it replaces is logged as a new conflict)",
    ["enrich-sync conflicts restore 12", "put conflict 12's overwritten value back"]
  )
)

/** `conflicts review ID|--all`. */
const reviewCommand = Command.make(
  "review",
  {
    id: Argument.String("ID").pipe(
      Argument.withDescription("the conflict's id (or --all)"),
      Argument.optional
    ),
    all: Flag.Boolean("all").pipe(
      Flag.withDescription("every unreviewed conflict (narrowed by --entity, --key, --since)"),
      Flag.withDefault(false)
    ),
    entity: Flags.entity,
    key: keyFlag,
    since: sinceFlag,
    by: byFlag,
    json: Flags.json
  },
  Effect.fn(function* ({ id, all, entity, key, since, by, json }) {
    const output = yield* Output
    yield* output.begin("conflicts review", { json })
    const narrowed = entity !== "all" || Option.isSome(key) || Option.isSome(since)
    if (Option.isSome(id) && all)
      return yield* usage("give a conflict ID or --all, not both; run `enrich-sync conflicts review --help`")
    if (Option.isNone(id) && !all)
      return yield* usage(
        "give the ID of the conflict to mark reviewed, or --all for every unreviewed one (narrowed by --entity, --key, --since)"
      )
    if (Option.isSome(id) && narrowed)
      return yield* usage("--entity, --key and --since narrow --all; with a conflict ID, leave them out")
    const name = reviewer(by)
    if (Option.isSome(id)) {
      const n = yield* conflictId(id.value)
      const { conflict, marked } = yield* withWorkspace(
        Effect.gen(function* () {
          const conflict = yield* showConflict(n)
          const marked = yield* markReviewed({ id: n }, name)
          return { conflict, marked }
        })
      )
      yield* output.result({ reviewed: marked, alreadyReviewed: marked.length === 0 ? [n] : [] })
      yield* output.print(
        marked.length > 0
          ? `Conflict ${n} (${conflict.entity} ${conflict.key}, ${conflict.field}) marked reviewed${name === null ? "" : ` by ${name}`}.`
          : `Conflict ${n} was already reviewed (${conflict.reviewedAt ?? "?"}${conflict.reviewedBy === null ? "" : ` by ${conflict.reviewedBy}`}); nothing changed.`
      )
      return
    }
    const filter = yield* filterOf(entity, key, since, true)
    const marked = yield* withWorkspace(markReviewed({ filter }, name))
    yield* output.result({ reviewed: marked, alreadyReviewed: [] })
    yield* output.print(
      marked.length === 0
        ? "No unreviewed conflicts match; nothing changed."
        : `${marked.length} conflict(s) marked reviewed${name === null ? "" : ` by ${name}`}: ${cut(marked.join(", "), 200)}.`
    )
  })
).pipe(
  withHelp(
    "Mark a conflict, or every unreviewed one (--all), reviewed",
    ["enrich-sync conflicts review 12", "mark conflict 12 reviewed"],
    [
      "enrich-sync conflicts review --all --entity people --since 7d",
      "mark every unreviewed people conflict of the last week reviewed"
    ]
  )
)

/** The list's flags: `conflicts` and `conflicts list` take the same. */
const listFlags = {
  entity: Flags.entity,
  key: keyFlag,
  since: sinceFlag,
  unreviewed: unreviewedFlag,
  limit: limitFlag,
  json: Flags.json
}

const listConflictsCommand = Effect.fn(function* ({
  entity,
  key,
  since,
  unreviewed,
  limit,
  json
}: Command.Command.Config.Infer<typeof listFlags>) {
  const output = yield* Output
  yield* output.begin("conflicts", { json })
  const filter = yield* filterOf(entity, key, since, unreviewed)
  const page = yield* withWorkspace(listConflicts(filter, limit))
  yield* output.result({ filter, limit, ...page })
  yield* output.print(renderList(page.conflicts, page.total, page.unreviewed, Object.keys(filter).length > 0))
})

const listExamples: ReadonlyArray<Example> = [
  ["enrich-sync conflicts --unreviewed", "what nobody has looked at yet"],
  ["enrich-sync conflicts --key 04.04.01.01.00101.101 --since 7d", "one record's conflicts of the last week"]
]

/** `conflicts list`: the same list, for those who name it. */
const listCommand = Command.make("list", listFlags, listConflictsCommand).pipe(
  withHelp("The same list as `enrich-sync conflicts`, with the same flags", ...listExamples)
)

/** `conflicts`: the list, and the subcommands. */
export const conflictsCommand = Command.make("conflicts", listFlags, listConflictsCommand).pipe(
  withHelp(
    "List the values merges overwrote (sync_conflicts), newest last; show, restore or mark them reviewed",
    ...listExamples
  ),
  Command.withSubcommands([listCommand, showCommand, restoreCommand, reviewCommand])
)
