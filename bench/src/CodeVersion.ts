/**
 * Which code a run measured: the repository's commit and the files changed since it (a run of a working
 * tree with uncommitted changes measures code no commit holds), so a figure can be traced to its code.
 *
 * Invariant: read-only; a machine without git reports `null` rather than failing the run.
 */
import { execFileSync } from "node:child_process"
import { repoRoot } from "./NodeChild.ts"

const git = (args: ReadonlyArray<string>): string | null => {
  try {
    return execFileSync("git", ["-C", repoRoot, ...args], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"]
    })
  } catch {
    return null
  }
}

/** The commit checked out and the tracked files changed since it (outside `bench/results`). */
export const codeVersion = () => {
  const commit = git(["rev-parse", "HEAD"])?.trim() ?? null
  const status = git(["status", "--porcelain", "--untracked-files=no"])
  const changed =
    status === null
      ? null
      : status
          .split("\n")
          .filter((l) => l.trim() !== "")
          .map((l) => l.slice(3))
          .filter((f) => !f.startsWith("bench/results/"))
  return { commit, uncommittedChanges: changed }
}
