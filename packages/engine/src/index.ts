/**
 * `@enrich-sync/engine`: everything that reads or writes the two databases, shared by the daemon and
 * the CLI: the database services, schema checks and migrations, the stores of each side, the batched
 * merge-apply, and the pipeline stages (backfill, push, revalidate, promote, verify, status).
 */

/** The entity list lives in core; the daemon and the CLI have always found it here too. */
export { entities } from "@enrich-sync/core"
export * from "./Backfill.ts"
export * from "./CleanApply.ts"
export * from "./Database.ts"
export * from "./DatabaseError.ts"
export * from "./MergeApply.ts"
export * from "./Migrator.ts"
export * from "./Promote.ts"
export * from "./Push.ts"
export * from "./RedactingLogger.ts"
export * from "./Revalidate.ts"
export * from "./SchemaCheck.ts"
export * from "./SourceStore.ts"
export * from "./Status.ts"
export * from "./Verify.ts"
export * from "./WorkspaceStore.ts"
