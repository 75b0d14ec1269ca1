/**
 * The Phoenix frames of Supabase Realtime (`realtime-protocol.md` §1.2): with `vsn=2.0.0` a JSON array
 * `[join_ref, ref, topic, event, payload]` both ways; with `vsn=1.0.0` (and when `vsn` is absent) a JSON
 * object, `{topic, event, payload, ref, join_ref}` from the client and `{topic, event, payload, ref}` from the
 * server (no `join_ref`). The stand-in sends text frames only: realtime-js decodes no binary frame but user
 * broadcasts.
 */

/** The serializer a connection asked for. */
export type Vsn = "1.0.0" | "2.0.0"

/** A frame, decoded. */
export interface Frame {
  readonly joinRef: string | null
  readonly ref: string | null
  readonly topic: string
  readonly event: string
  readonly payload: Record<string, unknown>
}

/** The serializer of a `vsn` query parameter; null for one the server does not speak. */
export const vsnOf = (param: string | null): Vsn | null =>
  param === null || param.startsWith("1.") ? "1.0.0" : param.startsWith("2.") ? "2.0.0" : null

const refOf = (v: unknown): string | null => (v === null || v === undefined ? null : String(v))

/** Decodes a client's text frame; null when it is not a frame. */
export const decodeFrame = (vsn: Vsn, text: string): Frame | null => {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return null
  }
  if (vsn === "2.0.0") {
    if (!Array.isArray(value) || value.length !== 5) return null
    const [joinRef, ref, topic, event, payload] = value as [unknown, unknown, unknown, unknown, unknown]
    if (typeof topic !== "string" || typeof event !== "string") return null
    return {
      joinRef: refOf(joinRef),
      ref: refOf(ref),
      topic,
      event,
      payload: (payload ?? {}) as Record<string, unknown>
    }
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null
  const o = value as Record<string, unknown>
  if (typeof o.topic !== "string" || typeof o.event !== "string") return null
  return {
    joinRef: refOf(o.join_ref),
    ref: refOf(o.ref),
    topic: o.topic,
    event: o.event,
    payload: (o.payload ?? {}) as Record<string, unknown>
  }
}

/** Encodes a server frame. */
export const encodeFrame = (vsn: Vsn, frame: Frame): string =>
  vsn === "2.0.0"
    ? JSON.stringify([frame.joinRef, frame.ref, frame.topic, frame.event, frame.payload])
    : JSON.stringify({ topic: frame.topic, event: frame.event, payload: frame.payload, ref: frame.ref })
