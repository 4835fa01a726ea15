// Session IDs: unique for the gateway's whole life (across restarts and
// lanes) and unpredictable, so a session ID says nothing about how many
// connections came before it or on which lane.
//
// Each ID is a keyed permutation (a 4-round Feistel network, HMAC-SHA256
// round function) of a counter. The journal records a session ID in 32
// bits (journal/record-format.ts), so the permutation is over 32 bits and
// the counter is kept exact instead of derived from the clock: each lane
// reserves counters in blocks, writing the block's end to
// <runDir>/session-id-next-<lane> before it issues any counter of the
// block, so a restart (even after a crash) begins past every counter
// issued before. Lanes interleave (counter x lanes + lane index), so they
// never share a value. A permutation of distinct values gives distinct
// IDs: 2^32 / 3 sessions per lane over the gateway's life. The key is
// created once, in <runDir>/session-id-key (mode 0600), and kept: the
// same key every start keeps IDs of different runs distinct.
import { createHmac, randomBytes } from 'node:crypto'
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { threadId } from 'node:worker_threads'

const HALF_BITS = 16
const HALF_MASK = (1 << HALF_BITS) - 1
const HALF_SPAN = 2 ** HALF_BITS
const ROUNDS = 4
const KEY_BYTES = 32
/** Permuted values and IDs stay below this (the journal's 32-bit session field). */
export const SESSION_ID_LIMIT = 2 ** (2 * HALF_BITS)
/** Counters reserved per write of the high-water file. */
const BLOCK = 4096
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

/** The keyed permutation of [0, 2^32); exported for its property test. */
export function permuteSessionCounter (key: Buffer, value: number): number {
  let left = Math.floor(value / HALF_SPAN) & HALF_MASK
  let right = value & HALF_MASK
  for (let round = 0; round < ROUNDS; round++) {
    const mac = createHmac('sha256', key).update(Buffer.from([round, right >>> 8, right & 0xff])).digest()
    const next = (left ^ mac.readUInt16BE(0)) & HALF_MASK
    left = right
    right = next
  }
  return left * HALF_SPAN + right
}

export class SessionIds {
  private readonly key: Buffer
  private readonly nextPath: string
  private counter: number
  private blockEnd: number

  constructor (runDir: string, lane: string, private readonly laneIndex: number, private readonly laneCount: number) {
    this.key = loadSessionIdKey(runDir)
    this.nextPath = join(runDir, `session-id-next-${lane}`)
    let stored = 0
    try {
      stored = Number(readFileSync(this.nextPath, 'utf8').trim())
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
    if (!Number.isSafeInteger(stored) || stored < 0) throw new Error(`${this.nextPath} does not hold a session counter; restore it (deleting it would reuse session IDs of earlier runs)`)
    this.counter = stored
    this.blockEnd = stored
  }

  next (): number {
    if (this.counter >= this.blockEnd) this.reserve()
    const value = this.counter++ * this.laneCount + this.laneIndex
    if (value >= SESSION_ID_LIMIT) throw new Error('session IDs exhausted: every 32-bit ID of this lane has been issued')
    return permuteSessionCounter(this.key, value)
  }

  private reserve (): void {
    const end = this.blockEnd + BLOCK
    const temporary = `${this.nextPath}.tmp`
    writeFileSync(temporary, `${end}\n`, { mode: 0o600 })
    renameSync(temporary, this.nextPath)
    this.blockEnd = end
  }
}
