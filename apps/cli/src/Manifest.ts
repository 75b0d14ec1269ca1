/**
 * `enrich-sync manifest [--out FILE]`: writes `sync_manifest.json`, core's description of the sync (tables,
 * fields, mappings, push-back fields, rules, stages, statuses, connections), with the record count of each
 * table read from every database whose URL is set. With no URL set (or `--no-counts`) it works offline and
 * says that the counts are absent, and why.
 *
 * Invariants: the file is core's `buildSyncManifest` object, written whole or not at all (a temporary file
 * beside it, then a rename); no password reaches it or any output; a URL that is set but unusable (bad,
 * unreachable, not migrated) is an error, never silently a manifest without counts.
 */
import type { RecordCounts, Side, SyncManifest } from "@enrich-sync/core"
import { buildSyncManifest } from "@enrich-sync/core"
import { countRecords, DatabaseError, SourceDatabase, WorkspaceDatabase } from "@enrich-sync/engine"
import { Command, Flag } from "effect/cli"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import packageJson from "../package.json" with { type: "json" }
import { commandLayer, configuredUrls, variables } from "./CliConfig.ts"
import { CliFailure } from "./CliFailure.ts"
import { withHelp } from "./CommandHelp.ts"
import * as Flags from "./CommonFlags.ts"
import { Output } from "./Output.ts"
import { requireSource, requireWorkspace } from "./Preflight.ts"
import { writeWholeFile } from "./WholeFile.ts"

/** Where the manifest goes by default. */
export const defaultManifestFile = "sync_manifest.json"

/** The counts of one side, read through its own layer (its URL checked, its schema required). */
const countSide = (side: Side) => {
  const counted =
    side === "source"
      ? Effect.gen(function* () {
          yield* requireSource
          return yield* countRecords(yield* SourceDatabase)
        }).pipe(Effect.provide(commandLayer("source")))
      : Effect.gen(function* () {
          yield* requireWorkspace
          return yield* countRecords(yield* WorkspaceDatabase)
        }).pipe(Effect.provide(commandLayer("workspace")))
  // the way out of a database that cannot be read: the manifest without counts
  return counted.pipe(
    Effect.mapError((e) =>
      e instanceof DatabaseError
        ? new DatabaseError({
            side: e.side,
            reason: e.reason,
            message: `${e.message}; or run \`enrich-sync manifest --no-counts\` to write the manifest without record counts`,
            ...(e.code === undefined ? {} : { code: e.code }),
            cause: e
          })
        : e
    )
  )
}

/** Why some counts are absent (null when every table was counted). */
const absence = (noCounts: boolean, unset: ReadonlyArray<string>): string | null =>
  noCounts
    ? "--no-counts: no database was read"
    : unset.length === 0
      ? null
      : `${unset.join(" and ")} ${unset.length === 1 ? "is" : "are"} not set (set ${unset.length === 1 ? "it" : "them"} to count the records of ${unset.length === 1 ? "that side" : "both sides"})`

/** The human summary of a manifest written. */
export const renderManifest = (
  manifest: SyncManifest,
  out: string | null,
  countsAbsent: string | null
): string => {
  const counts = (tables: SyncManifest["source_tables"]) =>
    Object.values(tables)
      .map((t) => `${t.full_name} ${t.record_count === null ? "?" : t.record_count.toLocaleString("en-US")}`)
      .join(", ")
  const rules = Object.values(manifest.validation_rules).reduce((n, r) => n + r.length, 0)
  return [
    `${out === null ? "Sync manifest" : `Wrote ${out}`} (manifest ${manifest.manifest_version}, ${manifest.generated_by})`,
    `  source tables:     ${counts(manifest.source_tables)}${manifest.total_records === null ? "" : ` (${manifest.total_records.toLocaleString("en-US")} records)`}`,
    `  target tables:     ${counts(manifest.target_tables)}`,
    `  field mappings:    ${Object.keys(manifest.field_mappings).join(", ")}`,
    `  push-back fields:  ${Object.entries(manifest.push_back_fields)
      .map(([entity, fields]) => `${entity} ${fields.length}`)
      .join(", ")}`,
    `  validation rules:  ${rules}; workflow stages: ${manifest.workflow_stages.length}; enrichment_status values: ${manifest.enrichment_status.values.join(", ")}`,
    ...(countsAbsent === null ? [] : [`  record counts absent: ${countsAbsent}`])
  ].join("\n")
}

/** Writes `text` to `path` whole (a temporary file beside it, then a rename). */
const writeWhole = (path: string, text: string) =>
  writeWholeFile(
    path,
    text,
    (cause) =>
      `cannot write the manifest to ${path} (${cause}); check that its folder exists and is writable, or pass another --out FILE`
  )

/** The `manifest` command. */
export const manifestCommand = Command.make(
  "manifest",
  {
    out: Flag.String("out").pipe(
      Flag.withDescription(`the file to write (default ${defaultManifestFile}); - for standard output`),
      Flag.withMetavar("FILE"),
      Flag.withDefault(defaultManifestFile)
    ),
    noCounts: Flag.Boolean("no-counts").pipe(
      Flag.withDescription("do not read the databases: every record_count is null (works offline)"),
      Flag.withDefault(false)
    ),
    json: Flags.json
  },
  Effect.fn(function* ({ out, noCounts, json }) {
    const output = yield* Output
    yield* output.begin("manifest", { json })
    if (out.trim() === "")
      return yield* new CliFailure({
        reason: "Usage",
        message: `--out is empty; give a file name (default ${defaultManifestFile}) or - for standard output`
      })
    const urls = yield* configuredUrls
    const unset = [
      ...(Option.isNone(urls.source) ? [variables.source] : []),
      ...(Option.isNone(urls.workspace) ? [variables.workspace] : [])
    ]
    let counts: RecordCounts = {}
    if (!noCounts) {
      const sides = (["source", "workspace"] as const).filter((side) => Option.isSome(urls[side]))
      const read = yield* Effect.forEach(sides, countSide, { concurrency: 2 })
      counts = Object.assign({}, ...read)
    }
    const urlOf = (url: Option.Option<Redacted.Redacted<string>>) =>
      Option.isSome(url) ? Redacted.value(url.value).trim() : null
    const manifest = buildSyncManifest({
      counts,
      neonUrl: urlOf(urls.source),
      supabaseUrl: urlOf(urls.workspace),
      generatedBy: `enrich-sync ${packageJson.version}`
    })
    const countsAbsent = absence(noCounts, unset)
    // core's redactUrl already took the passwords out; the output's redactor is a second net
    const text = `${output.redact(JSON.stringify(manifest, null, 2))}\n`
    const toStdout = out === "-"
    if (toStdout && !json) {
      yield* output.useStdoutForData
      yield* output.data([text.trimEnd()])
    } else if (!toStdout) {
      yield* writeWhole(out, text)
    }
    const written = toStdout ? null : out
    yield* output.result({ out: written, countsAbsent, manifest })
    yield* output.print(renderManifest(manifest, written, countsAbsent))
  })
).pipe(
  withHelp(
    "Write sync_manifest.json: tables, fields, mappings, push-back fields, validation rules, stages, statuses and connections (without secrets), with record counts when the databases are set",
    ["enrich-sync manifest", "write ./sync_manifest.json, counting the records"],
    ["enrich-sync manifest --no-counts --out - | jq .push_back_fields", "the push-back fields, offline"]
  )
)
