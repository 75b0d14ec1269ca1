/**
 * A process that starts a server and then just waits, to be killed with SIGKILL by
 * `PostgresServer.test.ts`: prints `{"dataDirectory", "postmasterPid"}` once the server is up.
 */
import pg from "pg"
import { startPostgresServer } from "../../src/PostgresServer.ts"

const server = await startPostgresServer({ name: "orphan" })
const client = new pg.Client({ connectionString: server.url() })
await client.connect()
const { rows } = await client.query<{ setting: string }>(
  "SELECT setting FROM pg_settings WHERE name = 'data_directory'"
)
await client.end()
const dataDirectory = rows[0]!.setting
const { readFileSync } = await import("node:fs")
const postmasterPid = Number(readFileSync(`${dataDirectory}/postmaster.pid`, "utf8").split("\n")[0])
process.stdout.write(`${JSON.stringify({ dataDirectory, postmasterPid })}\n`)
setInterval(() => undefined, 1_000)
