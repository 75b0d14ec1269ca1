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
    assert.strictEqual(options.pushRows, 10_000)
    assert.strictEqual(options.heldSeconds, 60)
    assert.deepStrictEqual(options.rttsMs, [0, 20])
    assert.strictEqual(options.profile, false)
    assert.strictEqual(options.program, "package")
  })

  it("reads the round trips from --rtt or BENCH_RTT, ascending and once each, the flag winning", () => {
    assert.deepStrictEqual(parseBenchOptions(["--rtt", "0,5,20,60"], undefined).rttsMs, [0, 5, 20, 60])
    assert.deepStrictEqual(parseBenchOptions(["--rtt=20"], undefined).rttsMs, [20])
    assert.deepStrictEqual(parseBenchOptions(["--rtt", "60, 0,20,0"], undefined).rttsMs, [0, 20, 60])
    assert.deepStrictEqual(parseBenchOptions([], undefined, "0,40").rttsMs, [0, 40])
    assert.deepStrictEqual(parseBenchOptions(["--rtt", "5"], undefined, "0,40").rttsMs, [5])
    assert.deepStrictEqual(parseBenchOptions([], undefined, " ").rttsMs, [0, 20])
  })

  it("scales down with --rows (after pnpm's --) or BENCH_ROWS, the flag winning", () => {
    assert.strictEqual(parseBenchOptions(["--", "--rows", "100000"], undefined).rows, 100_000)
    assert.strictEqual(parseBenchOptions(["--rows=50_000"], undefined).rows, 50_000)
    assert.strictEqual(parseBenchOptions([], "200000").rows, 200_000)
    assert.strictEqual(parseBenchOptions(["--rows", "30000"], "200000").rows, 30_000)
    const small = parseBenchOptions(["--rows", "100000"], undefined)
    assert.strictEqual(small.promoteRows, 10_000)
    assert.strictEqual(small.bulkRows, 20_000)
    assert.strictEqual(small.pushRows, 5_000)
    // the held run shortens in proportion, to no less than 10 s, and the search's steps with it
    assert.strictEqual(small.heldSeconds, 10)
    assert.strictEqual(parseBenchOptions(["--rows", "500000"], undefined).heldSeconds, 30)
    assert.strictEqual(parseBenchOptions(["--rows", "500000"], undefined).rampStepSeconds, 5)
  })

  it("reads --skip and --profile", () => {
    const options = parseBenchOptions(["--skip", "cli,daemon", "--profile"], undefined)
    assert.deepStrictEqual([...options.skip].sort(), ["cli", "daemon"])
    assert.strictEqual(options.profile, true)
  })

  it("reads --daemon-phases: every phase by default, else the ones named", () => {
    assert.deepStrictEqual(
      [...parseBenchOptions([], undefined).daemonPhases],
      ["pushLatency", "pushBulk", "bulkUpdate", "heldRate", "sustainedRate", "latency"]
    )
    const some = parseBenchOptions(["--daemon-phases", "latency, bulkUpdate"], undefined)
    assert.deepStrictEqual([...some.daemonPhases].sort(), ["bulkUpdate", "latency"])
    assert.throws(
      () => parseBenchOptions(["--daemon-phases=latency,bulk"], undefined),
      /--daemon-phases takes one or more of pushLatency, .*\(got "bulk"\)/
    )
    assert.throws(() => parseBenchOptions(["--daemon-phases", ""], undefined), UsageError)
  })

  it("reads --from-source: the sources instead of the package's bundles", () => {
    assert.strictEqual(parseBenchOptions(["--from-source"], undefined).program, "source")
    assert.throws(() => parseBenchOptions(["--from-source=yes"], undefined), /--from-source takes no value/)
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
    assert.throws(() => parseBenchOptions(["--rtt", "20ms"], undefined), UsageError)
    assert.throws(() => parseBenchOptions(["--rtt", "-5"], undefined), UsageError)
    assert.throws(() => parseBenchOptions(["--rtt", "0,,20"], undefined), UsageError)
    assert.throws(() => parseBenchOptions(["--rtt", "2.5"], undefined), UsageError)
    assert.throws(() => parseBenchOptions(["--rtt", "5000"], undefined), UsageError)
    assert.throws(() => parseBenchOptions([], undefined, "fast"), /BENCH_RTT/)
  })
})
