#!/usr/bin/env node
/**
 * The `enrich-sync` command. Checks the Node.js version first, then runs the command line: from the
 * TypeScript sources in the repository, from the built bundle in the published package.
 */
import "./node-version.js"

const { existsSync } = await import("node:fs")
const source = new URL("../src/bin.ts", import.meta.url)
await import(existsSync(source) ? source.href : new URL("../dist/enrich-sync.js", import.meta.url).href)
