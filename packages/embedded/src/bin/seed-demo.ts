/**
 * Seeds a database (that already has `marketing.company_invalid` and `marketing.people_invalid`) with the
 * demo data, for benchmarks:
 *
 *   node packages/embedded/src/bin/seed-demo.ts --url <postgres url> [--companies 119] [--people 5] [--seed 20251107]
 *
 * Prints what it wrote and how fast; never the URL's password.
 */
import { parseArgs } from "node:util"
import { redactUrl } from "@enrich-sync/core"
import { seedDemoData } from "../DemoData.ts"

const usage =
  "usage: node packages/embedded/src/bin/seed-demo.ts --url <postgres url> [--companies N] [--people N] [--seed N]"

const count = (name: string, text: string | undefined): number | undefined => {
  if (text === undefined) return undefined
  const n = Number(text.replaceAll("_", ""))
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`--${name} must be a whole number >= 0, got ${JSON.stringify(text)}\n${usage}`)
    process.exit(2)
  }
  return n
}

const main = async (): Promise<void> => {
  let values: {
    url?: string | undefined
    companies?: string | undefined
    people?: string | undefined
    seed?: string | undefined
  }
  try {
    values = parseArgs({
      options: {
        url: { type: "string" },
        companies: { type: "string" },
        people: { type: "string" },
        seed: { type: "string" }
      },
      strict: true
    }).values
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${usage}`)
    process.exit(2)
  }
  if (values.url === undefined) {
    console.error(usage)
    process.exit(2)
  }
  const companies = count("companies", values.companies)
  const people = count("people", values.people)
  const seed = count("seed", values.seed)
  const started = performance.now()
  try {
    const written = await seedDemoData(values.url, {
      ...(companies === undefined ? {} : { companies }),
      ...(people === undefined ? {} : { people }),
      ...(seed === undefined ? {} : { seed })
    })
    const seconds = (performance.now() - started) / 1000
    const rows = written.companies + written.people
    console.log(
      `seeded ${redactUrl(values.url)}: ${written.companies} companies, ${written.people} people in ${seconds.toFixed(2)} s` +
        ` (${Math.round(rows / Math.max(seconds, 0.001))} rows/s)`
    )
  } catch (error) {
    // pg errors can quote the connection string; never print the password
    const message = error instanceof Error ? error.message : String(error)
    const password = (() => {
      try {
        return decodeURIComponent(new URL(values.url ?? "").password)
      } catch {
        return ""
      }
    })()
    console.error(
      `seeding ${redactUrl(values.url)} failed: ${password === "" ? message : message.split(password).join("***")}`
    )
    process.exit(1)
  }
}

await main()
