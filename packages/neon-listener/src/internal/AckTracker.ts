/**
 * Decides which position the listener may confirm to the server (the slot's `confirmed_flush_lsn`).
 *
 * Invariant: the confirmed position never passes a transaction that was delivered and not yet
 * acknowledged by the consumer; it only moves forward; and it catches up with everything delivered or
 * passed as soon as the consumer has acknowledged what was delivered.
 *
 * ```
 *   positions, in stream order:   start ... d1 ... p ... d2 ... p' ...
 *                                 │        │      │      │
 *                   confirmed ────┘        │      │      └─ delivered (waits for ack(>= d2))
 *                                          │      └─ passed: an empty transaction or a keepalive
 *                                          └─ delivered: the end of a transaction handed to the consumer
 *
 *   deliver(d)  append (d, waiting)                        d > last
 *   pass(p)     append (p, free), merged into a free tail  p > last
 *   ack(a)      every entry <= a is acknowledged           confirmed < a <= last, else ignored
 *   then        confirmed := the last entry of the longest prefix that is acknowledged or free
 *   reset(s)    a new slot: forget everything, confirmed := last := s
 * ```
 *
 * Pure: no I/O; the listener sends `confirmed` to the server whenever it moves.
 */
import type { Lsn } from "@enrich-sync/core"

interface Entry {
  readonly position: Lsn
  /** delivered to the consumer and not yet acknowledged */
  readonly waiting: boolean
}

/** What became of an acknowledgement. */
export type AckOutcome = "advanced" | "held" | "stale" | "beyond"

/** Tracks delivered, passed and acknowledged positions of one slot. */
export class AckTracker {
  #entries: Array<Entry> = []
  #head = 0
  #confirmed: Lsn
  #last: Lsn

  /** `start`: the slot's confirmed position when following began. */
  constructor(start: Lsn) {
    this.#confirmed = start
    this.#last = start
  }

  /** The position that may be reported to the server as flushed: everything before it is applied. */
  get confirmed(): Lsn {
    return this.#confirmed
  }

  /** The latest position delivered or passed. */
  get last(): Lsn {
    return this.#last
  }

  /** How many delivered transactions wait for an acknowledgement. */
  get waiting(): number {
    let n = 0
    for (let i = this.#head; i < this.#entries.length; i++) if (this.#entries[i]!.waiting) n++
    return n
  }

  /** A transaction ending at `position` was handed to the consumer. Positions must increase. */
  deliver(position: Lsn): void {
    if (position <= this.#last) return
    this.#entries.push({ position, waiting: true })
    this.#last = position
  }

  /** Nothing to deliver up to `position`. Returns whether `confirmed` moved. */
  pass(position: Lsn): boolean {
    if (position <= this.#last) return false
    this.#last = position
    const tail = this.#entries.length > this.#head ? this.#entries[this.#entries.length - 1]! : undefined
    if (tail === undefined) {
      this.#confirmed = position
      return true
    }
    if (!tail.waiting) this.#entries[this.#entries.length - 1] = { position, waiting: false }
    else this.#entries.push({ position, waiting: false })
    return false
  }

  /**
   * The consumer applied everything up to `position` (a delivered transaction's end). Returns "advanced"
   * when `confirmed` moved, "held" when it could not move yet, "stale" for a position at or before
   * `confirmed`, "beyond" for a position later than anything delivered (ignored: never confirm what
   * was not delivered).
   */
  ack(position: Lsn): AckOutcome {
    if (position <= this.#confirmed) return "stale"
    if (position > this.#last) return "beyond"
    const before = this.#confirmed
    while (this.#head < this.#entries.length) {
      const entry = this.#entries[this.#head]!
      if (entry.waiting && entry.position > position) break
      this.#confirmed = entry.position
      this.#head++
    }
    this.#compact()
    return this.#confirmed > before ? "advanced" : "held"
  }

  /** Starts over on a new slot whose confirmed position is `start`. */
  reset(start: Lsn): void {
    this.#entries = []
    this.#head = 0
    this.#confirmed = start
    this.#last = start
  }

  #compact() {
    if (this.#head === this.#entries.length) {
      this.#entries = []
      this.#head = 0
    } else if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head)
      this.#head = 0
    }
  }
}
