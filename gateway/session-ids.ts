// Session IDs: unique for the gateway's whole life (across restarts and
// lanes) and unpredictable, so a session ID says nothing about how many
// connections came before it.
//
// Each ID is a keyed permutation (a 4-round Feistel network over 52 bits,
// HMAC-SHA256 round function) of a counter. The counter starts at the start
// time in ms x 1000, as link order IDs do, and steps by the lane count with
// the lane's index as offset: lanes never share a counter value, and a
// restart begins above any value the last run reached at up to 333,000
// connections a second of uptime. A permutation of distinct counters gives
// distinct IDs, all below 2^52 (within JavaScript's safe integers). The key
// is created once, in <runDir>/session-id-key (mode 0600), and kept: the
// same key every start keeps IDs of different runs distinct.
import { createHmac, randomBytes } from 'node:crypto'
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { threadId } from 'node:worker_threads'

const HALF_BITS = 26
const HALF_MASK = (1 << HALF_BITS) - 1
const HALF_SPAN = 2 ** HALF_BITS
const ROUNDS = 4
const KEY_BYTES = 32
/** Counters and IDs stay below this. */
export const SESSION_ID_LIMIT = 2 ** (2 * HALF_BITS)

/** The run's session-ID key: read, or created once (atomically, so lanes starting together agree). */
export function loadSessionIdKey (runDir: string): Buffer {
  const path = join(runDir, 'session-id-key')
  const read = (): Buffer => {
    const key = readFileSync(path)
    if (key.length !== KEY_BYTES) throw new Error(`${path} holds ${key.length} bytes, not a ${KEY_BYTES}-byte session-ID key: restore it, or delete it only if no earlier run's session IDs matter`)
    return key
  }
  try {
    return read()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  mkdirSync(runDir, { recursive: true })
  // Written whole under a private name, then linked into place: a lane
  // starting at the same moment sees either no key or the whole key.
  const temporary = `${path}.${process.pid}.${threadId}.tmp`
  writeFileSync(temporary, randomBytes(KEY_BYTES), { mode: 0o600 })
  try {
    linkSync(temporary, path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  } finally {
    unlinkSync(temporary)
  }
  return read()
}

/** The keyed permutation of [0, 2^52); exported for its property test. */
export function permuteSessionCounter (key: Buffer, counter: number): number {
  let left = Math.floor(counter / HALF_SPAN) & HALF_MASK
  let right = counter & HALF_MASK
  for (let round = 0; round < ROUNDS; round++) {
    const mac = createHmac('sha256', key).update(Buffer.from([round, right >>> 24, (right >>> 16) & 0xff, (right >>> 8) & 0xff, right & 0xff])).digest()
    const next = (left ^ mac.readUInt32BE(0)) & HALF_MASK
    left = right
    right = next
  }
  return left * HALF_SPAN + right
}

export class SessionIds {
  private counter: number

  constructor (private readonly key: Buffer, laneIndex: number, private readonly laneCount: number, startMs = Date.now()) {
    this.counter = startMs * 1000 + laneIndex
  }

  next (): number {
    const counter = this.counter
    if (counter >= SESSION_ID_LIMIT) throw new Error('session ID counter exhausted (start time past the year 2112)')
    this.counter += this.laneCount
    return permuteSessionCounter(this.key, counter)
  }
}
