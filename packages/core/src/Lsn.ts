/**
 * Replication positions (PostgreSQL `pg_lsn`): a 64-bit byte offset into the write-ahead log.
 *
 * Invariant: a position is a `bigint` everywhere in the program; text forms exist only at the edges
 * (parsed with {@link parseLsn}, printed with {@link formatLsn}). Text forms come zero-padded from some
 * places (`00000016/B374D848`) and unpadded from others (`16/B374D848`), so comparing them as strings
 * is wrong; comparing the bigints is exactly Postgres' `pg_lsn` order.
 */

/** A WAL position: an unsigned 64-bit integer. Compare with `<`, `===`, etc. */
export type Lsn = bigint

/** The invalid position `0/0` (Postgres' `InvalidXLogRecPtr`): "no position". */
export const zeroLsn: Lsn = 0n

/** The largest position `FFFFFFFF/FFFFFFFF`. */
export const maxLsn: Lsn = 0xffff_ffff_ffff_ffffn

const lsnText = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/

/** Whether `text` is a `pg_lsn` in text form (`X/X`, each half 1 to 8 hex digits, any case). */
export const isLsnText = (text: string): boolean => lsnText.test(text)

/**
 * Parses the text form of a position (`16/B374D848`, `00000016/B374D848`, `0/0`, any case).
 * Throws a `RangeError` on anything else: positions come from Postgres, so a malformed one is a bug.
 */
export const parseLsn = (text: string): Lsn => {
  const match = lsnText.exec(text)
  if (match === null) throw new RangeError(`not a pg_lsn: ${JSON.stringify(text)}`)
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`)
}

/**
 * Prints a position the way Postgres prints `pg_lsn`: upper-case hex, the high and low 32 bits without
 * leading zeros (`16/B374D848`, `0/0`). Throws a `RangeError` for a value outside 0 .. 2^64-1.
 */
export const formatLsn = (lsn: Lsn): string => {
  if (lsn < 0n || lsn > maxLsn) throw new RangeError(`not a pg_lsn: ${lsn}`)
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffff_ffffn).toString(16).toUpperCase()}`
}

/** The later of two positions. */
export const maxOf = (a: Lsn, b: Lsn): Lsn => (a > b ? a : b)
