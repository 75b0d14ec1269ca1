/**
 * Connection strings read the way libpq reads them. `pg` (pg-connection-string 2.x) treats `sslmode=require`
 * (and `prefer`, `verify-ca`) as `verify-full`, unlike psql and every libpq client: a Supabase URL with
 * `sslmode=require` then fails on Supabase's own certificate authority, and each start prints a security
 * warning. Users write connection strings with libpq's meaning in mind, so that is the meaning they get:
 * `require` encrypts without verifying the server, `verify-full` verifies it (with `sslrootcert` for a
 * private authority such as Supabase's).
 *
 * Invariant: a string without `sslmode`, or one that already says `uselibpqcompat`, is returned unchanged;
 * nothing but that one parameter is ever added.
 */

/** `url` with `uselibpqcompat=true` when it sets `sslmode` and does not say how to read it. */
export const libpqConnectionString = (url: string): string => {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return url
  }
  if (!parsed.searchParams.has("sslmode") || parsed.searchParams.has("uselibpqcompat")) return url
  return `${url}${url.includes("?") ? "&" : "?"}uselibpqcompat=true`
}
