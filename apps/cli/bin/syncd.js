#!/usr/bin/env node
/**
 * The `syncd` daemon. Checks the Node.js version first, then runs the daemon: from the TypeScript sources
 * of `apps/syncd` in the repository, from the built bundle in the published package (which ships both
 * programs as one install).
 */
import "./node-version.js"

const { existsSync } = await import("node:fs")
const source = new URL("../../syncd/src/main.ts", import.meta.url)
await import(existsSync(source) ? source.href : new URL("../dist/syncd.js", import.meta.url).href)
