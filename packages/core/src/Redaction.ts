/**
 * Keeps secrets out of everything printed: logs, errors, command output.
 *
 * Two layers: patterns that catch credentials whatever their origin (passwords inside connection URLs, key
 * query parameters, JWTs, Supabase and Neon key formats), and the exact secret values the process was
 * configured with (passwords and keys), which are scrubbed wherever they appear.
 */

const patterns: ReadonlyArray<readonly [RegExp, string]> = [
  // scheme://user:password@host (a URL's user and password hold no quote or backslash: the match never reaches
  // across the quotes of JSON text, such as a website and then an email)
  [/([a-z][a-z0-9+.-]*:\/\/[^:/@\s"\\]*):([^@\s"\\]*)@/gi, "$1:***@"],
  // ?password=... &apikey=... (URLs and key=value text)
  [
    /\b(password|passwd|pwd|apikey|api_key|access_token|token|secret|service_role_key|key)=([^&\s'"]+)/gi,
    "$1=***"
  ],
  // JWTs (Supabase anon / service keys, access tokens)
  [/eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g, "***"],
  // Supabase API keys, Neon passwords
  [/\bsb_(secret|publishable)_[A-Za-z0-9_-]+/g, "sb_$1_***"],
  [/\bnpg_[A-Za-z0-9]{6,}/g, "npg_***"]
]

/** Replaces credentials found by pattern in `text`. */
export const redactPatterns = (text: string): string =>
  patterns.reduce((out, [pattern, replacement]) => out.replace(pattern, replacement), text)

/** The password of a connection URL, if it has one (to register it as a secret). */
export const urlPassword = (url: string): string | null => {
  try {
    const parsed = new URL(url)
    return parsed.password === "" ? null : decodeURIComponent(parsed.password)
  } catch {
    return null
  }
}

/** A URL with its password (and key parameters) replaced by `***`, safe to print. */
export const redactUrl = (url: string): string => {
  try {
    const parsed = new URL(url)
    if (parsed.password !== "") parsed.password = "***"
    for (const name of [...parsed.searchParams.keys()]) {
      if (/password|key|token|secret/i.test(name)) parsed.searchParams.set(name, "***")
    }
    return parsed.toString().replaceAll("%2A%2A%2A", "***")
  } catch {
    return redactPatterns(url)
  }
}

/**
 * A redactor for a process: scrubs the given secret values (exactly, URL-encoded, and escaped as inside a
 * JSON string once or twice, since log lines are redacted after their values are quoted) and then the
 * patterns. Secrets shorter than 4 characters are ignored (they would blank ordinary words).
 */
export const makeRedactor = (secrets: ReadonlyArray<string>): ((text: string) => string) => {
  const strict = (s: string) =>
    encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  /** `s` as it reads inside a JSON string (a log line's JSON, logfmt's quoted values), and inside one within that */
  const escaped = (s: string) => JSON.stringify(s).slice(1, -1)
  const values = [
    ...new Set(secrets.flatMap((s) => [s, encodeURIComponent(s), strict(s), escaped(s), escaped(escaped(s))]))
  ]
    .filter((s) => s.length >= 4)
    .sort((a, b) => b.length - a.length)
  return (text) => redactPatterns(values.reduce((out, secret) => out.split(secret).join("***"), text))
}
