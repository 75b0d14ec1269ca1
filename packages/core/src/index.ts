/**
 * `@enrich-sync/core`: the pure domain of the sync (no database, socket or file access): entities and
 * their columns, the projection to the sync record, its canonical hash in TypeScript and SQL, validation,
 * the three-way merge, replication positions, the migrations of both sides, and the sync manifest
 * (`sync_manifest.json`) that describes all of it.
 */
export * from "./Company.ts"
export * from "./ConnectionString.ts"
export * from "./EnrichmentStatus.ts"
export * from "./Entities.ts"
export * from "./Entity.ts"
export * from "./Jsonb.ts"
export * from "./Lsn.ts"
export * from "./Merge.ts"
export * from "./Migration.ts"
export * from "./Person.ts"
export * from "./PostgresFailure.ts"
export * from "./Projection.ts"
export * from "./Redaction.ts"
export * from "./SyncHash.ts"
export * from "./SyncManifest.ts"
export * from "./SyncPlan.ts"
export * from "./sql/SourceMigrations.ts"
export * from "./sql/SyncHashSql.ts"
export * from "./sql/WorkspaceMigrations.ts"
export * from "./Timestamp.ts"
export * from "./TrimText.ts"
export * from "./validation/index.ts"
