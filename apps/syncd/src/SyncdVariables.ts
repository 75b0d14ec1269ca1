/**
 * The environment variables the daemon reads, with their defaults and meaning: what `syncd --help` prints
 * and what the README's configuration table holds (a test keeps the two equal).
 *
 * Invariant: every variable `SyncdConfig` reads is listed here, once, with the default the code applies.
 */

/** One variable of the daemon's configuration. */
export interface SyncdVariable {
  readonly name: string
  /** the default as the README writes it (`(off)`, `(embedded demo)`, a value in backticks) */
  readonly default: string
  readonly meaning: string
}

/** Every variable, in the order `--help` and the README list them. */
export const syncdVariables: ReadonlyArray<SyncdVariable> = [
  {
    name: "NEON_DATABASE_URL",
    default: "(embedded demo)",
    meaning:
      "Neon connection string. A `-pooler` host works for queries; replication then uses the direct host derived from it"
  },
  {
    name: "NEON_REPLICATION_URL",
    default: "derived",
    meaning: "the direct (non-pooler) Neon host for logical replication, when it differs"
  },
  {
    name: "SUPABASE_DATABASE_URL",
    default: "(embedded demo)",
    meaning: "the Supabase database (direct connection, port 5432, or the session pooler)"
  },
  {
    name: "SUPABASE_URL",
    default: "(off)",
    meaning:
      "the project URL (`https://<ref>.supabase.co`): follow workspace edits through Realtime; needs `SUPABASE_SERVICE_ROLE_KEY`"
  },
  {
    name: "SUPABASE_SERVICE_ROLE_KEY",
    default: "(off)",
    meaning: "the project's service role key, for Realtime (it sees every row; it is never printed)"
  },
  {
    name: "ENRICH_SYNC_ENTITIES",
    default: "`company,people`",
    meaning:
      "the entities this daemon syncs; instances that split them each get a slot, publication and leader lock of their own"
  },
  {
    name: "ENRICH_SYNC_SLOT",
    default: "`enrich_sync`",
    meaning:
      "the logical replication slot on Neon, also the key of the leader lock (default for one entity: `enrich_sync_<entity>`)"
  },
  {
    name: "ENRICH_SYNC_PUBLICATION",
    default: "`enrich_sync_source`",
    meaning: "the publication of the invalid tables (default for one entity: `enrich_sync_source_<entity>`)"
  },
  {
    name: "ENRICH_SYNC_PUSH_ON",
    default: "`complete`",
    meaning: "comma list of `enrichment_status` values whose workspace edits are pushed (CLI too)"
  },
  {
    name: "ENRICH_SYNC_BATCH_SIZE",
    default: "`5000`",
    meaning: "most keys merged per batch (per merge of workspace edits: 2,000 at most)"
  },
  {
    name: "ENRICH_SYNC_BATCH_WAIT_MS",
    default: "`5`",
    meaning: "how long a batch of Neon changes may wait to fill"
  },
  {
    name: "ENRICH_SYNC_WORKSPACE_POLL_MS",
    default: "`1000`; `30000` with `SUPABASE_URL`",
    meaning:
      "how often workspace edits are looked for (with Realtime, the safety net for events it dropped silently; the embedded demo keeps 1 s)"
  },
  {
    name: "ENRICH_SYNC_ANTI_ENTROPY_MINUTES",
    default: "`15`",
    meaning: "period of the full comparison; `0` turns it off"
  },
  {
    name: "ENRICH_SYNC_HEARTBEAT_SECONDS",
    default: "`10`",
    meaning: "heartbeat of an idle replication slot"
  },
  {
    name: "ENRICH_SYNC_ACK_INTERVAL_MS",
    default: "`1000`",
    meaning:
      "shortest time between two acknowledgements sent to Neon (coalesced; what is applied is acknowledged within this time; 0: each at once)"
  },
  {
    name: "ENRICH_SYNC_HEALTH_PORT",
    default: "(off)",
    meaning: "serve `/healthz`, `/readyz` and `/metrics` (and `/health`) at this port, from the very start"
  },
  {
    name: "ENRICH_SYNC_HEALTH_HOST",
    default: "`127.0.0.1`",
    meaning: "the address the health server listens on (`0.0.0.0` for every interface, e.g. in a container)"
  },
  {
    name: "ENRICH_SYNC_READY_MAX_LAG_SECONDS",
    default: "`60`",
    meaning: "`/readyz` answers 503 while a Neon change has waited longer than this"
  },
  {
    name: "ENRICH_SYNC_SHUTDOWN_SECONDS",
    default: "`10`",
    meaning:
      "on SIGTERM/SIGINT, how long the batch in flight may take to finish and be acknowledged (a second signal stops at once)"
  },
  {
    name: "ENRICH_SYNC_AUTO_PROMOTE",
    default: "`off`",
    meaning:
      "`on`: promote the rows re-validation marks PASSED as they appear, as `enrich-sync promote` does (backup first, one transaction per batch)"
  },
  {
    name: "ENRICH_SYNC_BACKUP_DIR",
    default: "`./.enrich-sync/backups`",
    meaning: "where auto-promotion writes the backup (JSON lines) of every promoted row"
  },
  {
    name: "ENRICH_SYNC_WEBHOOK_URL",
    default: "(off)",
    meaning:
      "POST events here in batches (records pushed, re-validated, promoted, conflicts logged), at least once, from an outbox in the workspace"
  },
  {
    name: "ENRICH_SYNC_WEBHOOK_SECRET",
    default: "(off)",
    meaning: "sign each POST: `x-enrich-sync-signature: sha256=<HMAC-SHA256 of the body>`; never printed"
  },
  {
    name: "ENRICH_SYNC_LOG_FORMAT",
    default: "`json`; `pretty` on a terminal",
    meaning: "log lines as one JSON object each (time, level, msg and fields), or as readable text"
  },
  {
    name: "ENRICH_SYNC_LOG_LEVEL",
    default: "`info`",
    meaning: "the least level logged: `debug`, `info`, `warn` or `error`"
  },
  {
    name: "ENRICH_SYNC_DATA_DIR",
    default: "`./.enrich-sync`",
    meaning:
      "where the embedded demo servers keep their data (one daemon at a time: it holds `syncd.pid` there)"
  }
]

/** The variables as the `ENVIRONMENT` section of `syncd --help`: aligned, defaults without backticks. */
export const variablesHelp = (width = 110): string => {
  const plain = (text: string) => text.replaceAll("`", "").replace(/^\((.*)\)$/, "$1")
  const nameWidth = Math.max(...syncdVariables.map((v) => v.name.length)) + 2
  const wrap = (text: string, indent: number): ReadonlyArray<string> => {
    const lines: Array<string> = []
    let line = ""
    for (const word of text.split(" ")) {
      if (line !== "" && indent + line.length + 1 + word.length > width) {
        lines.push(line)
        line = word
      } else line = line === "" ? word : `${line} ${word}`
    }
    if (line !== "") lines.push(line)
    return lines
  }
  return syncdVariables
    .flatMap((v) => {
      const [first = "", ...rest] = wrap(`${plain(v.meaning)} (default: ${plain(v.default)})`, nameWidth + 2)
      return [
        `  ${v.name.padEnd(nameWidth)}${first}`,
        ...rest.map((line) => `${" ".repeat(nameWidth + 2)}${line}`)
      ]
    })
    .join("\n")
}
