/**
 * The first thing every enrich-sync entry point loads: it checks that this Node.js can run enrich-sync and,
 * when it cannot, prints one line naming both versions and exits with status 1, before any module that
 * would fail in a more cryptic way is loaded. Plain JavaScript, so that any Node.js can read it.
 *
 * The minimum is the first Node.js 22 that runs TypeScript sources without flags (type stripping, 22.18):
 * the repository runs its sources directly. The published package runs built JavaScript and keeps the same
 * minimum, so there is one number to remember.
 */
export const minimumNode = "22.18.0"

const parse = (version) =>
  version
    .replace(/^v/, "")
    .split(".")
    .map((part) => Number.parseInt(part, 10) || 0)

/** Whether `version` (e.g. `22.18.0` or `v24.1.0`) is at least `minimumNode`. */
export const nodeIsRecentEnough = (version) => {
  const have = parse(version)
  const need = parse(minimumNode)
  for (let i = 0; i < need.length; i++) {
    if ((have[i] ?? 0) !== need[i]) return (have[i] ?? 0) > need[i]
  }
  return true
}

if (!nodeIsRecentEnough(process.versions.node)) {
  process.stderr.write(
    `enrich-sync needs Node >= ${minimumNode.replace(/\.0$/, "")}; this is Node ${process.versions.node} (install Node 24 LTS, or 22.18 or later)\n`
  )
  process.exit(1)
}
