import { assert, describe, it } from "@effect/vitest"
import { HelpRequested, parseBenchOptions, UsageError } from "../src/BenchOptions.ts"

describe("BenchOptions", () => {
  it("defaults to a million rows and the issues' sizes", () => {
    const options = parseBenchOptions([], undefined)
    assert.strictEqual(options.rows, 1_000_000)
    assert.strictEqual(options.insertSample, 20_000)
    assert.strictEqual(options.promoteRows, 100_000)
    assert.strictEqual(options.bulkRows, 200_000)
    assert.strictEqual(options.latencyRate, 1000)
    assert.strictEqual(options.profile, false)
  })

  it("scales down with --rows (after pnpm's --) or BENCH_ROWS, the flag winning", () => {
    assert.strictEqual(parseBenchOptions(["--", "--rows", "100000"], undefined).rows, 100_000)
    assert.strictEqual(parseBenchOptions(["--rows=50_000"], undefined).rows, 50_000)
    assert.strictEqual(parseBenchOptions([], "200000").rows, 200_000)
    assert.strictEqual(parseBenchOptions(["--rows", "30000"], "200000").rows, 30_000)
    const small = parseBenchOptions(["--rows", "100000"], undefined)
    assert.strictEqual(small.promoteRows, 10_000)
    assert.strictEqual(small.bulkRows, 20_000)
  })

  it("reads --skip and --profile", () => {
    const options = parseBenchOptions(["--skip", "cli,daemon", "--profile"], undefined)
    assert.deepStrictEqual([...options.skip].sort(), ["cli", "daemon"])
    assert.strictEqual(options.profile, true)
  })

  it("answers --help with the usage, not an error", () => {
    assert.throws(() => parseBenchOptions(["--", "--help"], undefined), HelpRequested)
  })

  it("refuses what it cannot run", () => {
    assert.throws(() => parseBenchOptions(["--rows", "ten"], undefined), UsageError)
    assert.throws(() => parseBenchOptions(["--rows"], undefined), UsageError)
    assert.throws(() => parseBenchOptions([], "12"), UsageError)
    assert.throws(() => parseBenchOptions(["--skip", "push"], undefined), UsageError)
    assert.throws(() => parseBenchOptions(["--fast"], undefined), UsageError)
  })
})
