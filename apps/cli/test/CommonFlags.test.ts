/**
 * The shared flags, parsed in-process by effect/cli as a command parses them: their defaults when absent,
 * the values they accept (`--entity` one of three, `--batch-size` a whole number from 1 to 1,000,000,
 * `--push-on` a comma list of enrichment statuses, in any case), the message of a value they refuse, and
 * what the helpers make of the parsed values (entities, batch size with each stage's default, backup dir).
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { assert, describe, it } from "@effect/vitest"
import { Company, Person } from "@enrich-sync/core"
import { CliError, CliOutput, Command } from "effect/cli"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Flags from "../src/CommonFlags.ts"

/** What a command of the shared flags parsed from `args`, or the errors effect/cli refused them with. */
const parse = <Input>(command: (seen: Array<Input>) => Command.Command<"probe", Input, {}, never, never>) =>
  Effect.fnUntraced(function* (args: ReadonlyArray<string>) {
    const seen: Array<Input> = []
    const result = yield* Command.runWith(command(seen), { version: "0.0.0", renderErrors: false })(
      args
    ).pipe(
      Effect.provide(CliOutput.layerPresenter({ present: () => Effect.void })),
      Effect.provide(NodeServices.layer),
      Effect.result
    )
    if (result._tag === "Failure") {
      const error = result.failure
      return { errors: CliError.isCliError(error) && error._tag === "ShowHelp" ? error.errors : [error] }
    }
    assert.strictEqual(seen.length, 1, "the command ran once")
    return { input: seen[0]! }
  })

const shared = parse((seen: Array<unknown>) =>
  Command.make(
    "probe",
    {
      entity: Flags.entity,
      batchSize: Flags.batchSize(1234),
      dryRun: Flags.dryRun,
      json: Flags.json,
      pushOn: Flags.pushOn,
      backupDir: Flags.backupDir
    },
    (input) => Effect.sync(() => void seen.push(input))
  )
)

const pipeline = parse((seen: Array<unknown>) =>
  Command.make("probe", { batchSize: Flags.pipelineBatchSize }, (input) =>
    Effect.sync(() => void seen.push(input))
  )
)

/** The one message effect/cli refused `args` with. */
const refusal = (result: { readonly errors?: ReadonlyArray<unknown> }) => {
  assert.isDefined(result.errors, "the value was accepted")
  assert.strictEqual(result.errors!.length, 1)
  const [error] = result.errors!
  assert.isTrue(CliError.isCliError(error))
  return (error as CliError.CliError).message
}

describe("the shared flags", () => {
  it.effect(
    "without flags: every entity, no batch size, no dry run, no JSON, no push policy, no backup dir",
    () =>
      Effect.gen(function* () {
        const { input } = yield* shared([])
        assert.deepStrictEqual(input, {
          entity: "all",
          batchSize: Option.none(),
          dryRun: false,
          json: false,
          pushOn: Option.none(),
          backupDir: Option.none()
        })
      })
  )

  it.effect("with flags: each value as given (`--push-on` lower-cased, spaces and empty items dropped)", () =>
    Effect.gen(function* () {
      const { input } = yield* shared([
        "--entity",
        "people",
        "--batch-size=7",
        "--dry-run",
        "--json",
        "--push-on",
        "Complete, FAILED,,in_progress",
        "--backup-dir",
        "backups/today"
      ])
      assert.deepStrictEqual(input, {
        entity: "people",
        batchSize: Option.some(7),
        dryRun: true,
        json: true,
        pushOn: Option.some(["complete", "failed", "in_progress"]),
        backupDir: Option.some("backups/today")
      })
    })
  )

  it.effect("--entity takes company, people or all, and refuses anything else naming the choices", () =>
    Effect.gen(function* () {
      for (const entity of ["company", "people", "all"]) {
        const { input } = yield* shared(["--entity", entity])
        assert.strictEqual((input as { entity: string }).entity, entity)
      }
      const message = refusal(yield* shared(["--entity", "companies"]))
      assert.include(message, "--entity")
      assert.include(message, '"companies"')
      assert.include(message, '"company" | "people" | "all"')
    })
  )

  it.effect("--batch-size takes a whole number from 1 to 1,000,000, for one stage and for the pipeline", () =>
    Effect.gen(function* () {
      for (const run of [shared, pipeline]) {
        for (const n of [1, 5000, 1_000_000]) {
          const { input } = yield* run(["--batch-size", String(n)])
          assert.deepStrictEqual((input as { batchSize: unknown }).batchSize, Option.some(n))
        }
        for (const n of [0, -5, 1_000_001]) {
          assert.strictEqual(
            refusal(yield* run(["--batch-size", String(n)])),
            `Invalid value for flag --batch-size: "${n}". Expected a whole number from 1 to 1000000, got ${n}`
          )
        }
        for (const text of ["x", "1.5"]) {
          const message = refusal(yield* run(["--batch-size", text]))
          assert.include(message, `--batch-size: "${text}"`)
        }
      }
    })
  )

  it.effect("--push-on refuses what is not a list of enrichment statuses, saying what it expects", () =>
    Effect.gen(function* () {
      assert.strictEqual(
        refusal(yield* shared(["--push-on", "complete,done"])),
        'Invalid value for flag --push-on: "complete,done". Expected a comma list of pending, in_progress, complete, failed, got "complete,done"'
      )
      for (const text of ["", " , "]) {
        assert.include(
          refusal(yield* shared(["--push-on", text])),
          "Expected a comma list of pending, in_progress, complete, failed"
        )
      }
    })
  )

  it.effect("--batch-size's help states the default it is made with", () =>
    Effect.gen(function* () {
      const help: Array<string> = []
      const probe = Command.make("probe", { batchSize: Flags.batchSize(Flags.defaultBatchSize.revalidate) })
      yield* Command.runWith(probe, { version: "0.0.0" })(["--help"]).pipe(
        Effect.provide(
          CliOutput.layerPresenter({
            present: (event) =>
              Effect.sync(() => {
                if (event._tag === "Help") {
                  for (const flag of event.helpDoc.flags)
                    help.push(Option.getOrElse(flag.description, () => ""))
                }
              })
          })
        ),
        Effect.provide(NodeServices.layer)
      )
      assert.deepStrictEqual(help, ["records per batch (default 5000); each batch commits on its own"])
    })
  )
})

describe("what the parsed flags select", () => {
  it("--entity: company, people, or both in that order", () => {
    assert.deepStrictEqual(Flags.selectEntities("company"), [Company])
    assert.deepStrictEqual(Flags.selectEntities("people"), [Person])
    assert.deepStrictEqual(Flags.selectEntities("all"), [Company, Person])
  })

  it("--batch-size: the value given, else the stage's default (2000 for the merge stages, 5000 otherwise)", () => {
    assert.deepStrictEqual(Flags.defaultBatchSize, {
      backfill: 2000,
      push: 2000,
      verify: 2000,
      revalidate: 5000,
      promote: 5000
    })
    assert.deepStrictEqual(Flags.batchOption(Option.some(7), Flags.defaultBatchSize.push), { batchSize: 7 })
    assert.deepStrictEqual(Flags.batchOption(Option.none(), Flags.defaultBatchSize.push), { batchSize: 2000 })
    assert.deepStrictEqual(Flags.batchOption(Option.none(), Flags.defaultBatchSize.promote), {
      batchSize: 5000
    })
  })

  it("--backup-dir: the folder when given, no key at all otherwise", () => {
    assert.deepStrictEqual(Flags.backupDirOption(Option.some("backups")), { backupDir: "backups" })
    const none = Flags.backupDirOption(Option.none())
    assert.deepStrictEqual(none, {})
    assert.isFalse("backupDir" in none)
  })
})
