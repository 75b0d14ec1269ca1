/**
 * The shared servers the repository's vitest global setup starts (`@enrich-sync/testing`'s), read here
 * without depending on that package: it builds on this one.
 */
import { inject } from "vitest"
import type { ServerInfo } from "../../src/PostgresServer.ts"

declare module "vitest" {
  export interface ProvidedContext {
    postgres: { readonly neon: ServerInfo; readonly supabase: ServerInfo }
  }
}

/** The "neon" and "supabase" servers of this vitest run. */
export const injectedServers = () => inject("postgres")
