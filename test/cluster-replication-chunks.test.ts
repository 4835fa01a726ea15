// The rule that cuts a segment into replication messages
// (journal/committed-chunks.ts), over segments the real writer wrote with
// random batch sizes, record sizes and message size caps:
// - resuming at any message boundary gives the same messages (same first
//   seq, hence the same Nats-Msg-Id, and the same bytes) from there on;
// - the messages put end to end are the file's bytes up to its last batch
//   end, each a run of whole records within the cap (or one record alone);
// - a file cut anywhere (a batch half written) yields nothing past the
//   last whole batch before the cut.
import t from 'tap'
import fc from 'fast-check'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { committedChunks, type CommittedChunk } from '../journal/committed-chunks.js'
import { JournalStream } from '../journal/segment-writer.js'
import { Direction, LANE_CODES, RecordKind, newRecordHead, recordLengthAt, isBatchEndAt, recordKindAt } from '../journal/record-format.js'
import { replicationMsgId } from '../cluster/journal-replicator.js'

const head = newRecordHead({ kind: RecordKind.CLIENT_IN, lane: LANE_CODES.platform, direction: Direction.IN, sessionId: 3, account: 'A1', msgType: 11 })

/** A segment written by the real writer: batches of records of the given payload sizes; sealed when `seal`. */
function writeSegment (batches: number[][], seal: boolean): Buffer {
  const root = mkdtempSync(join(tmpdir(), 'gh-chunks-'))
  try {
    let timeUs = 1_780_000_000_000_000
    const j = JournalStream.open({ stream: 'platform', root, fsync: 'never', clockUs: () => timeUs++ })
    for (const batch of batches) {
      for (const size of batch) j.append(head, Buffer.alloc(size, size & 0xff))
      j.commit()
    }
    const path = j.currentSegmentPath!
    if (seal) j.close()
    const bytes = readFileSync(path)
    if (!seal) j.close()
    return bytes
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

/** Every message from `from` on, as the replicator makes them pass after pass. */
function messagesFrom (buf: Buffer, from: number, maxBytes: number): CommittedChunk[] {
  const out: CommittedChunk[] = []
  let at = from
  for (;;) {
    const { chunks } = committedChunks(buf.subarray(at), at, maxBytes, 3)
    if (chunks.length === 0) return out
    out.push(...chunks)
    at = chunks[chunks.length - 1]!.end
    if (chunks[chunks.length - 1]!.sealed) return out
  }
}

/** Offset just past the last record that ends a batch (or the header) in buf. */
function lastBatchEnd (buf: Buffer): number {
  let end = 0
  for (let at = 0; at + 4 <= buf.length;) {
    const len = recordLengthAt(buf, at)
    if (len < 36 || at + len > buf.length) break
    if (at === 0 || isBatchEndAt(buf, at) || recordKindAt(buf, at) === RecordKind.SEGMENT_SEAL) end = at + len
    at += len
  }
  return end
}

const segments = fc.record({
  batches: fc.array(fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 25 }),
  seal: fc.boolean(),
  maxBytes: fc.integer({ min: 200, max: 9000 }),
})

t.test('from any message boundary, the same messages follow', async () => {
  fc.assert(fc.property(segments, fc.nat(), ({ batches, seal, maxBytes }, pick) => {
    const buf = writeSegment(batches, seal)
    const all = messagesFrom(buf, 0, maxBytes)
    const k = pick % all.length
    const again = messagesFrom(buf, all[k]!.start, maxBytes)
    const ids = (cs: CommittedChunk[]): string[] => cs.map((c) => `${replicationMsgId('gw1', 'f.ghj', c)}:${c.start}-${c.end}`)
    return JSON.stringify(ids(again)) === JSON.stringify(ids(all.slice(k)))
  }), { numRuns: 150, interruptAfterTimeLimit: 20_000 })
})

t.test('the messages end to end are the committed bytes, in whole records within the cap', async () => {
  fc.assert(fc.property(segments, ({ batches, seal, maxBytes }) => {
    const buf = writeSegment(batches, seal)
    const all = messagesFrom(buf, 0, maxBytes)
    const joined = Buffer.concat(all.map((c) => buf.subarray(c.start, c.end)))
    if (!joined.equals(buf.subarray(0, lastBatchEnd(buf)))) return false
    if (all[0]!.start !== 0 || all[0]!.records !== 1) return false // the header alone
    if (seal !== (all[all.length - 1]!.sealed)) return false
    for (const c of all) {
      if (c.end - c.start > maxBytes && c.records !== 1) return false
      let n = 0
      for (let at = c.start; at < c.end; at += recordLengthAt(buf, at)) n++
      if (n !== c.records || c.lastSeq - c.firstSeq + 1 !== c.records) return false
    }
    return true
  }), { numRuns: 150, interruptAfterTimeLimit: 20_000 })
})

t.test('a file cut inside a batch yields nothing past the last whole batch', async () => {
  fc.assert(fc.property(segments, fc.double({ min: 0, max: 1, noNaN: true }), ({ batches, maxBytes }, where) => {
    const full = writeSegment(batches, false)
    const cut = full.subarray(0, Math.floor(full.length * where))
    const all = messagesFrom(cut, 0, maxBytes)
    const end = all.length === 0 ? 0 : all[all.length - 1]!.end
    return end === lastBatchEnd(cut) && Buffer.concat(all.map((c) => cut.subarray(c.start, c.end))).equals(full.subarray(0, end))
  }), { numRuns: 150, interruptAfterTimeLimit: 20_000 })
})
