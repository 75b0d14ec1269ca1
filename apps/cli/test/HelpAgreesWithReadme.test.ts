/**
 * The README and every `--help` agree. For each program the README documents (an entry of `programs`),
 * the root's `--help` and each subcommand's `--help` are run as a user runs them (the bin, a child
 * process), and for every command:
 * - the flags its help lists (its FLAGS and GLOBAL FLAGS) are exactly the flags its README section
 *   documents: the flags of its `#### \`<program> <command> ...\`` heading line and of its "Flags:"
 *   sentences, plus the program's "Global flags:" sentence (the root: that sentence, and a "Flags:"
 *   sentence outside the command sections, if any);
 * - a default stated in both is the same (the README's `(default X)` right after the flag, else the one
 *   of the flag's row in the program's flags table; the help's first `default X` in the flag's line);
 * - the root's subcommands (and aliases) are exactly the README's command sections (and their `(alias
 *   \`x\`)`);
 * - a command with subcommands of its own (`enrich-sync conflicts show`, ...) has a section for each one
 *   nested in its own (`##### \`<program> <command> <subcommand> ...\``), compared the same way; a command
 *   section's flags are those of its text before its first nested section.
 *
 * The README side is parsed from that regular structure, so a flag added to a command without its
 * README sentence (or the reverse) fails here, naming the command and the flag.
 */
import { execFile } from "node:child_process"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { binPath } from "./support/CliFixture.ts"

/** A program the README documents: its bin, and the heading its README section starts with. */
interface Program {
  readonly name: string
  readonly bin: string
  readonly readmeSection: string
}

/** Every program compared: the CLI and the daemon. */
const programs: ReadonlyArray<Program> = [
  { name: "enrich-sync", bin: binPath, readmeSection: "The `enrich-sync` command" },
  {
    name: "syncd",
    bin: fileURLToPath(new URL("../bin/syncd.js", import.meta.url)),
    readmeSection: "The daemon: `syncd`"
  }
]

const readme = readFileSync(fileURLToPath(new URL("../../../README.md", import.meta.url)), "utf8")

// ---------------------------------------------------------------------------------------------------------
// help pages

/** A flag as documented: its default when one is stated. */
type Flags = ReadonlyMap<string, string | null>

interface HelpPage {
  readonly flags: Flags
  readonly subcommands: ReadonlyArray<ReadonlyArray<string>>
}

const normalise = (text: string) => text.replaceAll("`", "").replace(/\s+/g, " ").trim()

/** The first stated default of a description: `default X` or `default: X`, up to a comma, semicolon or `)`. */
const statedDefault = (text: string): string | null => {
  const match = /\bdefault:? ([^,;)]+)/.exec(normalise(text))
  return match === null ? null : match[1]!.trim()
}

/** The flags (FLAGS and GLOBAL FLAGS) and subcommands of an effect/cli help page. */
const parseHelp = (text: string): HelpPage => {
  const flags = new Map<string, string | null>()
  const subcommands: Array<Array<string>> = []
  let section = ""
  for (const line of text.split("\n")) {
    if (/^[A-Z][A-Z ]*$/.test(line)) {
      section = line
      continue
    }
    if (line.trim() === "") continue
    const [name, description = ""] = line.trim().split(/\s{2,}/)
    if (section === "FLAGS" || section === "GLOBAL FLAGS") {
      const flag = /^--[a-z0-9-]+/.exec(name!)
      assert.isNotNull(flag, `a flag line of the help: ${line}`)
      flags.set(flag![0], statedDefault(description))
    } else if (section === "SUBCOMMANDS") {
      subcommands.push(name!.split(/,\s*/))
    }
  }
  return { flags, subcommands }
}

const runHelp = (program: Program, args: ReadonlyArray<string>): Promise<string> =>
  new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      [program.bin, ...args, "--help"],
      { timeout: 60_000 },
      (error, stdout, stderr) =>
        error === null
          ? resolve(stdout)
          : reject(new Error(`${program.name} ${args.join(" ")} --help failed: ${error.message}\n${stderr}`))
    )
  )

// ---------------------------------------------------------------------------------------------------------
// the README

interface Heading {
  readonly level: number
  readonly text: string
  /** where the heading line starts, and where its body starts and ends */
  readonly start: number
  readonly bodyStart: number
  bodyEnd: number
}

/** The headings of a markdown text (not those inside fenced code), each with the extent of its body. */
const headings = (md: string): ReadonlyArray<Heading> => {
  const found: Array<Heading> = []
  let fenced = false
  let offset = 0
  for (const line of md.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced
    const match = fenced ? null : /^(#{1,6}) (.*)$/.exec(line)
    if (match !== null) {
      found.push({
        level: match[1]!.length,
        text: match[2]!,
        start: offset,
        bodyStart: offset + line.length + 1,
        bodyEnd: md.length
      })
    }
    offset += line.length + 1
  }
  for (const [i, heading] of found.entries()) {
    const next = found.slice(i + 1).find((h) => h.level <= heading.level)
    if (next !== undefined) heading.bodyEnd = next.start
  }
  return found
}

/** Text without its fenced code blocks (their lines blanked). */
const withoutCode = (text: string) =>
  text.replace(/^```[\s\S]*?^```$/gm, (block) => block.replace(/[^\n]/g, " "))

/** The sentences of `text` that start with `label` (a sentence ends at a `.` outside backticks, before a space). */
const sentences = (text: string, label: RegExp): ReadonlyArray<string> => {
  const found: Array<string> = []
  for (const match of text.matchAll(label)) {
    let inCode = false
    let end = match.index
    for (; end < text.length; end++) {
      const c = text[end]
      if (c === "`") inCode = !inCode
      else if (!inCode && c === "." && (end + 1 === text.length || /\s/.test(text[end + 1]!))) break
    }
    found.push(text.slice(match.index, end))
  }
  return found
}

/** The flags a sentence documents: each backticked `--flag ...`, with the `(default X)` right after it. */
const sentenceFlags = (sentence: string): Map<string, string | null> => {
  const flags = new Map<string, string | null>()
  for (const match of sentence.matchAll(/`(--[a-z0-9-]+)[^`]*`(\s*\(([^()]*)\))?/g)) {
    const aside = match[3] === undefined ? "" : normalise(match[3])
    flags.set(match[1]!, aside.startsWith("default") ? statedDefault(aside) : null)
  }
  return flags
}

/** Every flag mentioned in a heading line (no defaults). */
const headingFlags = (text: string): Map<string, string | null> =>
  new Map([...text.matchAll(/--[a-z0-9-]+/g)].map((m) => [m[0], null]))

const merge = (...maps: ReadonlyArray<Flags>): Map<string, string | null> => {
  const merged = new Map<string, string | null>()
  for (const map of maps) for (const [flag, value] of map) merged.set(flag, value ?? merged.get(flag) ?? null)
  return merged
}

interface ReadmeCommand {
  /** the command's words after the program (`conflicts show`), and its alias */
  readonly names: ReadonlyArray<string>
  readonly flags: Flags
}

interface ReadmeProgram {
  /** the "Global flags:" sentence */
  readonly global: Flags
  /** "Flags:" sentences outside the command sections (the root's own) */
  readonly root: Flags
  /** defaults of the flags table rows (`| \`--flag\` | ... (default X) |`) */
  readonly table: Flags
  readonly commands: ReadonlyArray<ReadmeCommand>
}

/** What the README documents of `program`, from its section's regular structure. */
const readmeProgram = (program: Program): ReadmeProgram => {
  const all = headings(readme)
  const section = all.find((h) => h.text.startsWith(program.readmeSection))
  assert.isDefined(section, `the README has a section "${program.readmeSection}"`)
  const inside = all.filter((h) => h.start >= section!.bodyStart && h.start < section!.bodyEnd)
  // the command's words: `enrich-sync conflicts show ID` is `conflicts show`
  const commandPattern = new RegExp(`^\`${program.name} ([a-z][a-z0-9-]*(?: [a-z][a-z0-9-]*)*)`)
  const commandHeadings = inside.filter((h) => commandPattern.test(h.text))
  const commands = commandHeadings.map((h) => {
    // its own text: up to the next heading of any level (a nested subcommand's section is not its)
    const next = all.find((other) => other.start >= h.bodyStart)
    const body = withoutCode(readme.slice(h.bodyStart, Math.min(h.bodyEnd, next?.start ?? h.bodyEnd)))
    const alias = /\(alias `([a-z0-9-]+)`\)/.exec(h.text)
    return {
      names: [commandPattern.exec(h.text)![1]!, ...(alias === null ? [] : [alias[1]!])],
      flags: merge(headingFlags(h.text), ...sentences(body, /\bFlags:/g).map(sentenceFlags))
    }
  })
  // the section without its command sections (a top-level command's extent holds its nested ones)
  let rest = readme.slice(section!.bodyStart, section!.bodyEnd)
  const topHeadings = commandHeadings.filter((h) => !commandPattern.exec(h.text)![1]!.includes(" "))
  for (const h of [...topHeadings].reverse()) {
    const from = h.start - section!.bodyStart
    rest = rest.slice(0, from) + rest.slice(h.bodyEnd - section!.bodyStart)
  }
  rest = withoutCode(rest)
  const table = new Map<string, string | null>()
  for (const line of rest.split("\n")) {
    const row = /^\|\s*`(--[a-z0-9-]+)[^|]*\|(.*)\|\s*$/.exec(line)
    if (row === null) continue
    const stated = /\(default:? ([^)]*)\)/.exec(row[2]!)
    table.set(row[1]!, stated === null ? null : statedDefault(`default ${stated[1]!}`))
  }
  return {
    global: merge(...sentences(rest, /\bGlobal flags:/g).map(sentenceFlags)),
    root: merge(...sentences(rest, /(?<![A-Za-z] )\bFlags:/g).map(sentenceFlags)),
    table,
    commands
  }
}

// ---------------------------------------------------------------------------------------------------------
// the comparison

/** What differs between a help page's flags and the README's, as lines (none when they agree). */
const differences = (help: Flags, documented: Flags, table: Flags): ReadonlyArray<string> => {
  const lines: Array<string> = []
  for (const flag of help.keys())
    if (!documented.has(flag)) lines.push(`${flag}: in --help, not in the README`)
  for (const flag of documented.keys())
    if (!help.has(flag)) lines.push(`${flag}: in the README, not in --help`)
  for (const [flag, helpDefault] of help) {
    const readmeDefault = documented.get(flag) ?? table.get(flag) ?? null
    if (helpDefault !== null && readmeDefault !== null && helpDefault !== readmeDefault) {
      lines.push(`${flag}: default "${helpDefault}" in --help, "${readmeDefault}" in the README`)
    }
  }
  return lines.sort()
}

const names = (lists: ReadonlyArray<ReadonlyArray<string>>) => lists.map((l) => l.join(", ")).sort()

/** The help pages of the subcommands a page lists (and theirs), each named by its words after the program. */
const subcommandPages = async (
  program: Program,
  path: ReadonlyArray<string>,
  page: HelpPage
): Promise<Array<{ name: string; page: HelpPage }>> =>
  (
    await Promise.all(
      page.subcommands.map(async (aliases) => {
        const words = [...path, aliases[0]!]
        const sub = parseHelp(await runHelp(program, words))
        return [{ name: words.join(" "), page: sub }, ...(await subcommandPages(program, words, sub))]
      })
    )
  ).flat()

// Every help page up front (child processes started together), so that tests can be declared per command.
const pages = await Promise.all(
  programs.map(async (program) => {
    const root = parseHelp(await runHelp(program, []))
    return { program, root, commands: await subcommandPages(program, [], root) }
  })
)

for (const { program, root, commands } of pages) {
  describe(`${program.name}: README and --help`, () => {
    const documented = readmeProgram(program)

    it(`${program.name} --help: the global flags and the commands`, () => {
      assert.isAbove(root.flags.size, 0, "the help lists flags")
      assert.isAbove(documented.global.size, 0, "the README has a Global flags: sentence")
      assert.deepStrictEqual(
        differences(root.flags, merge(documented.global, documented.root), documented.table),
        []
      )
      assert.deepStrictEqual(
        names(documented.commands.filter((c) => !c.names[0]!.includes(" ")).map((c) => c.names)),
        names(root.subcommands),
        "the README has a #### `<program> <command>` section for each command (with its `(alias `x`)`)"
      )
      const used = new Set([
        ...documented.root.keys(),
        ...documented.commands.flatMap((c) => [...c.flags.keys()])
      ])
      assert.deepStrictEqual(
        [...documented.table.keys()].filter((flag) => !used.has(flag) && !documented.global.has(flag)),
        [],
        "every row of the flags table is a flag of the root or of some command"
      )
    })

    for (const { name, page } of commands) {
      it(`${program.name} ${name} --help`, () => {
        const section = documented.commands.find((c) => c.names[0] === name)
        assert.isDefined(section, `the README has a #### \`${program.name} ${name}\` section`)
        // its subcommands are exactly the sections nested in its own
        assert.deepStrictEqual(
          names(
            documented.commands
              .filter(
                (c) => c.names[0]!.startsWith(`${name} `) && !c.names[0]!.slice(name.length + 1).includes(" ")
              )
              .map((c) => [c.names[0]!.slice(name.length + 1)])
          ),
          names(page.subcommands),
          `the README has a ##### \`${program.name} ${name} <subcommand>\` section for each subcommand of ${name}`
        )
        // the help parser found the command's own flags (a command the README documents without any, such as
        // `syncd check`, has none)
        if (section!.flags.size > 0)
          assert.isAbove(page.flags.size, documented.global.size, "the command has flags of its own")
        assert.deepStrictEqual(
          differences(page.flags, merge(documented.global, section!.flags), documented.table),
          []
        )
      })
    }
  })
}
