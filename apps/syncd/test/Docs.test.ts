/**
 * The documents that ship in the repository hold together: every relative link of the README, `docs/` and
 * `bench/README.md` leads to a file or folder inside the repository (and an `#anchor` to a heading of its
 * target); `.env.example` names every environment variable the code reads; the deployment files run the
 * installed bins directly, never through a package manager; and no document carries something a
 * credential scanner takes for a real connection string.
 */

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { dirname, isAbsolute, join, relative, resolve } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { repositoryRoot as root, variablesRead } from "./support/VariablesRead.ts"

const read = (path: string) => readFileSync(join(root, path), "utf8")

/** The Markdown files whose links are checked, relative to the root. */
const markdownFiles = (): ReadonlyArray<string> => {
  const walk = (dir: string): ReadonlyArray<string> =>
    readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory()
        ? walk(join(dir, entry.name))
        : entry.name.endsWith(".md")
          ? [join(dir, entry.name)]
          : []
    )
  return ["README.md", "bench/README.md", ...(existsSync(join(root, "docs")) ? walk("docs") : [])]
}

/** The text outside fenced code blocks, with inline code spans blanked (links in code are not links). */
const prose = (markdown: string): string => {
  const lines: Array<string> = []
  let fence: string | null = null
  for (const line of markdown.split("\n")) {
    const marker = /^\s{0,3}(`{3,}|~{3,})/.exec(line)?.[1]
    if (marker === undefined) {
      if (fence === null) lines.push(line.replace(/(`+)(?:(?!\1).)+?\1/g, "code"))
    } else if (fence === null) fence = marker
    else if (marker[0] === fence[0] && marker.length >= fence.length) fence = null
  }
  return lines.join("\n")
}

/** Every link target of a Markdown text: inline links and images, reference definitions, `<a href>`. */
const linkTargets = (markdown: string): ReadonlyArray<string> => {
  const text = prose(markdown)
  return [
    ...[...text.matchAll(/!?\[[^\]]*\]\(\s*(<[^>]*>|[^\s)]+)(?:\s+"[^"]*")?\s*\)/g)].map((m) =>
      m[1]!.replace(/^<|>$/g, "")
    ),
    ...[...text.matchAll(/^\s{0,3}\[[^\]]+\]:\s*(\S+)/gm)].map((m) => m[1]!),
    ...[...text.matchAll(/<a\s[^>]*href\s*=\s*"([^"]*)"/gi)].map((m) => m[1]!)
  ]
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string): string =>
  heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replace(/ /g, "-")

/** The anchors a Markdown text defines: one per heading (repeats numbered as GitHub does), and `<a id>`. */
const anchors = (markdown: string): ReadonlySet<string> => {
  const found = new Set<string>()
  const seen = new Map<string, number>()
  // headings are read with their code spans (prose() would blank them), outside fenced code only
  const lines = markdown.split("\n")
  let inFence = false
  for (const line of lines) {
    if (/^\s{0,3}(`{3,}|~{3,})/.test(line)) inFence = !inFence
    const heading = inFence ? null : /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)
    if (heading === null) continue
    const base = slug(heading[1]!)
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    found.add(n === 0 ? base : `${base}-${n}`)
  }
  for (const m of markdown.matchAll(/<a\s[^>]*(?:id|name)\s*=\s*"([^"]+)"/gi)) found.add(m[1]!)
  return found
}

/**
 * The problems of the links of one Markdown file (`file` relative to the root): a relative target that
 * leaves the repository, does not exist, or names an anchor its Markdown target does not have.
 */
const brokenLinks = (file: string, markdown: string): ReadonlyArray<string> =>
  linkTargets(markdown).flatMap((target) => {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("//")) return [] // http(s), mailto, ...
    const [pathPart = "", anchor] = target.split("#", 2)
    const path = decodeURIComponent(pathPart)
    const resolved =
      path === ""
        ? join(root, file)
        : path.startsWith("/")
          ? join(root, path)
          : resolve(root, dirname(file), path)
    const inside = relative(root, resolved)
    if (inside.startsWith("..") || isAbsolute(inside))
      return [`${file}: ${target} points outside the repository`]
    if (inside.split(/[\\/]/).some((part) => part === "node_modules" || part === ".git"))
      return [`${file}: ${target} points into ${inside}, which is not part of the repository`]
    if (!existsSync(resolved)) return [`${file}: ${target} does not exist (${inside})`]
    if (anchor !== undefined && anchor !== "" && resolved.endsWith(".md") && statSync(resolved).isFile()) {
      if (!anchors(readFileSync(resolved, "utf8")).has(anchor))
        return [`${file}: ${target} names #${anchor}, which is not a heading of ${inside}`]
    }
    return []
  })

/** A command line that starts a package manager (or its runner) instead of the installed bin. */
const throughPackageManager = /\b(?:pnpm|npx|pnpx|yarn|corepack)\b|\bnpm\W+(?:run|start|exec|x)\b/

/** The run-time command lines of a systemd unit: every `Exec...=` setting. */
const unitCommands = (unit: string): ReadonlyArray<string> =>
  unit
    .split("\n")
    .filter((line) => /^\s*Exec[A-Za-z]*\s*=/.test(line))
    .map((line) => line.trim())

/** The run-time instructions of a Dockerfile: CMD, ENTRYPOINT and HEALTHCHECK of its last stage. */
const imageCommands = (dockerfile: string): ReadonlyArray<string> => {
  const instructions = dockerfile
    .replace(/\\\r?\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
  const lastStage = instructions.findLastIndex((line) => /^FROM\s/i.test(line))
  return instructions.slice(lastStage + 1).filter((line) => /^(CMD|ENTRYPOINT|HEALTHCHECK)\s/i.test(line))
}

/** A compose file without its comment lines (nothing in it is build-time: every line can run). */
const composeLines = (compose: string): ReadonlyArray<string> =>
  compose.split("\n").filter((line) => line.trim() !== "" && !line.trim().startsWith("#"))

/** What a credential scanner flags as a real Neon or Supabase connection string with its password. */
const credentialLike = /postgres(?:ql)?:\/\/[^:@/ ]+:[^@/ $]{6,}@[a-z0-9.-]+\.(?:neon\.tech|supabase\.co)/

describe("the documents", () => {
  it("find broken links, anchors and links out of the repository", () => {
    assert.deepStrictEqual(brokenLinks("docs/x.md", "[ok](hosted.md) [web](https://example.com/a)"), [])
    assert.strictEqual(brokenLinks("docs/x.md", "see [gone](nope.md)").length, 1)
    assert.strictEqual(brokenLinks("docs/x.md", "see [up](../../shared/design/sync-model.md)").length, 1)
    assert.strictEqual(brokenLinks("README.md", "see [anchor](docs/hosted.md#no-such-heading)").length, 1)
    assert.strictEqual(brokenLinks("README.md", '<a href="docs/missing.md">x</a>').length, 1)
    assert.strictEqual(brokenLinks("README.md", "[ref]: ./nowhere.txt").length, 1)
    assert.deepStrictEqual(brokenLinks("README.md", "`[code](nope.md)`\n```\n[block](nope.md)\n```"), [])
  })

  it("link only to files and folders inside the repository", () => {
    const files = markdownFiles()
    assert.isAtLeast(files.length, 3, "the README, bench/README.md and docs/ are read")
    const broken = files.flatMap((file) => brokenLinks(file, read(file)))
    assert.deepStrictEqual(broken, [], "fix these links (relative to the file that holds them)")
    assert.isAtLeast(
      linkTargets(read("README.md")).filter((t) => t.startsWith("docs/")).length,
      1,
      "the README links into docs/"
    )
  })

  it("carry no connection string that looks like a real one", () => {
    const files = [
      ...markdownFiles(),
      ".env.example",
      "deploy/syncd.service",
      "deploy/Dockerfile",
      "deploy/compose.yaml"
    ]
    const flagged = files.filter((file) => credentialLike.test(read(file)))
    assert.deepStrictEqual(
      flagged,
      [],
      "use placeholders a scanner does not take for credentials (a short password like PASS, or PROJECT-REF in capitals)"
    )
  })
})

describe(".env.example", () => {
  it("names every environment variable the code reads", () => {
    const example = read(".env.example")
    const variables = variablesRead()
    assert.isAtLeast(variables.size, 15, "the scan finds the configuration")
    const missing = [...variables].filter(([name]) => !new RegExp(`^#?[ \\t]*${name}=`, "m").test(example))
    assert.deepStrictEqual(
      missing.map(([name, file]) => `${name} (read in ${file})`),
      [],
      "add them to .env.example, commented, with their default and meaning"
    )
  })
})

describe("the deployment files", () => {
  it("tell a package manager from the bin", () => {
    assert.isTrue(throughPackageManager.test("ExecStart=/usr/bin/pnpm start"))
    assert.isTrue(throughPackageManager.test('CMD ["npm", "run", "syncd"]'))
    assert.isFalse(throughPackageManager.test("ExecStart=/usr/bin/env syncd"))
    assert.isFalse(throughPackageManager.test('CMD ["syncd"]'))
    assert.deepStrictEqual(
      imageCommands('FROM a AS build\nRUN pnpm i\nCMD ["pnpm", "x"]\nFROM b\nCMD ["syncd"]'),
      ['CMD ["syncd"]']
    )
  })

  it("run syncd directly under systemd", () => {
    const commands = unitCommands(read("deploy/syncd.service"))
    assert.isTrue(
      commands.some((c) => /^ExecStart\s*=.*\bsyncd\b/.test(c)),
      "deploy/syncd.service has an ExecStart that runs syncd"
    )
    assert.deepStrictEqual(
      commands.filter((c) => throughPackageManager.test(c)),
      [],
      "run the installed syncd bin (or node on its entry file), not a package manager"
    )
  })

  it("run the installed bins directly in the container", () => {
    const commands = imageCommands(read("deploy/Dockerfile"))
    assert.isTrue(
      commands.some((c) => /^(CMD|ENTRYPOINT)\s.*\bsyncd\b/i.test(c)),
      "the image's last stage runs syncd"
    )
    assert.deepStrictEqual(
      commands.filter((c) => throughPackageManager.test(c)),
      [],
      "the image runs the installed bins, not a package manager"
    )
    const compose = composeLines(read("deploy/compose.yaml"))
    assert.isTrue(
      compose.some((line) => /command:.*"syncd"/.test(line)),
      "compose runs syncd"
    )
    assert.isTrue(
      compose.some((line) => /command:.*"enrich-sync", "migrate"/.test(line)),
      "compose runs enrich-sync migrate"
    )
    assert.deepStrictEqual(
      compose.filter((line) => throughPackageManager.test(line)),
      [],
      "compose runs the image's bins, not a package manager"
    )
  })
})
