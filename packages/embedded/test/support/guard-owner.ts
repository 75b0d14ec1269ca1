/**
 * A process that starts a stand-in "postmaster" (a shell that writes which signal ended it) and guards
 * it, then just waits, to be killed with SIGKILL by `OrphanGuard.test.ts`. Arguments: the folder to use
 * and `persistent` or `throw-away`. Prints `{"pid"}` (the stand-in's) once the guard runs.
 */
import { spawn } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { guardAgainstOrphan } from "../../src/OrphanGuard.ts"

const [root, mode] = process.argv.slice(2) as [string, string]
const dataDir = join(root, "data")
mkdirSync(dataDir, { recursive: true })
const record = join(root, "..", `${mode}.signal`)
const standIn = spawn(
  "/bin/sh",
  [
    "-c",
    `trap 'echo INT > "$0"; exit 0' INT; trap 'echo QUIT > "$0"; exit 0' QUIT; while :; do sleep 0.05; done`,
    record
  ],
  { detached: true, stdio: "ignore" }
)
standIn.unref()
writeFileSync(join(dataDir, "postmaster.pid"), `${standIn.pid}\n${dataDir}\n`)
guardAgainstOrphan({
  dataDir,
  removeOnOrphan: mode === "persistent" ? undefined : root,
  persistent: mode === "persistent"
})
process.stdout.write(`${JSON.stringify({ pid: standIn.pid })}\n`)
setInterval(() => undefined, 1_000)
