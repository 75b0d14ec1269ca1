/**
 * `@enrich-sync/engine`: everything that reads or writes the two databases, shared by the daemon and the
 * CLI, in three rooms whose imports go one way (a test over the import graph keeps them so):
 * - `store/`: the databases and their errors, and one module per thing kept in them (the rows of each
 *   side, the conflict and validation logs, the replication progress, the migrations, the schema check);
 * - `merge/`: the batched merge-apply of keys, its fast path for rows nobody touched, and the COPY
 *   projection both use (uses `store/`);
 * - `stages/`: the pipeline's stages (backfill, push, revalidate, promote, verify, status), conflict review, and how they
 *   report progress (use `merge/` and `store/`).
 * `RedactingLogger` stands apart: the log lines of both programs, credentials removed.
 */

/** The entity list lives in core; the daemon and the CLI have always found it here too. */
export { entities } from "@enrich-sync/core"
export * from "./merge/CleanApply.ts"
export * from "./merge/MergeApply.ts"
export * from "./merge/PushJournalApply.ts"
export * from "./RedactingLogger.ts"
export * from "./stages/Backfill.ts"
export * from "./stages/Conflicts.ts"
export * from "./stages/Progress.ts"
export * from "./stages/Push.ts"
export { BackupError, defaultBackupDir } from "./stages/promote/BackupFile.ts"
export type { SkippedKey } from "./stages/promote/Candidates.ts"
export type { MasterMapping } from "./stages/promote/MasterMapping.ts"
export { masterMapping } from "./stages/promote/MasterMapping.ts"
export * from "./stages/promote/Promote.ts"
export { promoteSql } from "./stages/promote/PromoteSql.ts"
export { markPromoted } from "./stages/promote/WorkspaceMarking.ts"
export * from "./stages/RecordCounts.ts"
export * from "./stages/Revalidate.ts"
export * from "./stages/Status.ts"
export * from "./stages/Verify.ts"
export * from "./store/ConflictLog.ts"
export * from "./store/Database.ts"
export * from "./store/DatabaseError.ts"
export * from "./store/Migrator.ts"
export type { PushJournalEntry } from "./store/PushJournal.ts"
export * from "./store/ReplicationProgress.ts"
export * from "./store/SchemaCheck.ts"
export * from "./store/SourceStore.ts"
export * from "./store/ValidationLog.ts"
export * from "./store/WorkspaceStore.ts"
