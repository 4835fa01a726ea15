// Format versions and the chain cadence. Segments written in format 1
// (a batch seal after every batch) stay readable, verifiable and
// resumable by the format 2 writer; a stream can hold both, chained across
// the change. Format 2's chain points come at the configured cadence, by
// records and by time, and a rewrite with a recomputed CRC anywhere is
// caught: at the next chain point, or by the seal for the records after
// the last one.
import t from 'tap'
import { cpSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { JournalStream } from '../journal/segment-writer.js'
import { Direction, FORMAT_VERSION, FORMAT_VERSION_BATCH_SEALS, LANE_CODES, RecordKind, decodeSegmentHeader, newRecordHead, payloadBoundsAt } from '../journal/record-format.js'
import { readStream } from '../journal/reader.js'
import { verifyJournal } from '../journal/verify.js'
import { listSegments } from '../journal/segment-names.js'
import { BUILD_CHAIN, DAY_US, ManualClock, T0_US, buildJournal, editPayloadFixCrc, flipByte, recordsOf } from './helpers/journal-files.js'

const FIXTURE = fileURLToPath(new URL('../../test/fixtures/journal-format-1', import.meta.url))

/** A copy of the format 1 fixture to damage or extend. */
function formatOneCopy (dir: string): { root: string, segments: string[] } {
  cpSync(FIXTURE, dir, { recursive: true })
  return { root: dir, segments: listSegments(join(dir, 'hft'), 'hft').map((s) => s.path) }
}

function headerVersion (path: string): number {
  const buf = readFileSync(path)
  const [ps, pe] = payloadBoundsAt(buf, 0)
  return decodeSegmentHeader(buf.subarray(ps, pe))!.version
}

const head = newRecordHead({ kind: RecordKind.CLIENT_IN, lane: LANE_CODES.hft, direction: Direction.IN, sessionId: 42, account: '8800123', msgType: 11 })

t.test('a format 1 journal verifies and reads as it did', async (t) => {
  const { root, segments } = formatOneCopy(t.testdir())
  t.same(segments.map(headerVersion), [FORMAT_VERSION_BATCH_SEALS, FORMAT_VERSION_BATCH_SEALS])
  const result = verifyJournal(root)
  t.ok(result.ok, 'ok')
  t.same(result.segments.map((s) => s.status), ['sealed', 'open'])
  const records = [...readStream(join(root, 'hft'), 'hft')]
  t.same(records.map((r) => r.payload.toString()), [0, 1].flatMap((d) => [0, 1, 2].flatMap((b) => [0, 1, 2].map((r) => `order ${d}/${b}/${r}`))))
  t.ok(records.every((r) => r.kind === RecordKind.CLIENT_IN && r.flags === 0))
})

t.test('damage to a format 1 journal is still named: a flipped byte by its CRC, a rewrite by its batch chain', async (t) => {
  let { root, segments } = formatOneCopy(t.testdir({ a: {}, b: {} }) + '/a')
  const data = recordsOf(segments[0]!).filter((r) => r.kind === RecordKind.CLIENT_IN)
  flipByte(segments[0]!, data[4]!.offset + data[4]!.length - 6)
  let bad = verifyJournal(root).firstBad!
  t.same([bad.kind, bad.offset, bad.seq], ['changed', data[4]!.offset, data[4]!.seq])
  t.match(bad.message, /does not match its CRC/);
  ({ root, segments } = formatOneCopy(join(root, '..', 'b')))
  editPayloadFixCrc(segments[0]!, data[4]!.seq)
  bad = verifyJournal(root).firstBad!
  t.equal(bad.kind, 'changed')
  t.match(bad.message, /does not match its chain hash/)
  t.ok(bad.seq! <= data[4]!.seq && data[4]!.seq <= bad.seqEnd!, 'named to the batch that holds it')
})

t.test('the format 2 writer resumes a format 1 stream: seals its open segment and chains a format 2 one after it', async (t) => {
  const { root } = formatOneCopy(t.testdir())
  const before = [...readStream(join(root, 'hft'), 'hft')]
  const clock = new ManualClock(T0_US + 2 * DAY_US)
  const j = JournalStream.open({ stream: 'hft', root, fsync: 'never', clockUs: clock.read, chain: BUILD_CHAIN })
  const seqs: number[] = []
  for (let b = 0; b < 3; b++) {
    for (let r = 0; r < 5; r++) seqs.push(j.append(head, Buffer.from(`new ${b}/${r}`)))
    j.commit()
  }
  j.close()
  const all = listSegments(join(root, 'hft'), 'hft').map((s) => s.path)
  t.equal(all.length, 3)
  t.same(all.map(headerVersion), [FORMAT_VERSION_BATCH_SEALS, FORMAT_VERSION_BATCH_SEALS, FORMAT_VERSION])
  const result = verifyJournal(root, { requireSealed: true })
  t.ok(result.ok, 'every segment verifies and is sealed; the format 2 header names the format 1 seal')
  t.same(result.segments.map((s) => s.sealReason), ['rotated-day', 'resumed', 'closed'])
  const after = [...readStream(join(root, 'hft'), 'hft')]
  t.same(after.slice(0, before.length).map((r) => [r.seq, r.payload.toString()]), before.map((r) => [r.seq, r.payload.toString()]), 'the old records read back unchanged')
  t.same(after.slice(before.length).map((r) => r.seq), seqs, 'the new ones follow, seq running on')
  t.ok(recordsOf(all[2]!).some((r) => r.kind === RecordKind.CHAIN_POINT), 'the format 2 segment has chain points')
  t.notOk(recordsOf(all[2]!).some((r) => r.kind === RecordKind.BATCH_SEAL), 'and no batch seals')
})

t.test('chain points come by time as well as by records', async (t) => {
  const root = t.testdir()
  const clock = new ManualClock()
  const j = JournalStream.open({ stream: 'hft', root, fsync: 'never', clockUs: clock.read, chain: { everyRecords: 1000, everyMs: 5 } })
  // One record per batch, 1 ms apart: a chain point at the first batch 5 ms or more after the last one.
  for (let i = 0; i < 12; i++) {
    j.append(head, Buffer.from(`tick ${i}`))
    j.commit()
    clock.nowUs += 1000
  }
  const path = j.currentSegmentPath!
  j.close()
  const records = recordsOf(path)
  const points = records.filter((r) => r.kind === RecordKind.CHAIN_POINT)
  // Header at t0, batches at t0+0..11 ms: points at +5 and +10 ms.
  t.equal(points.length, 2)
  t.ok(points.every((p) => p.batchEnd), 'a chain point ends its batch')
  t.ok(verifyJournal(root, { requireSealed: true }).ok)
})

t.test('a chain point cadence of one record chains every batch, and verifies', async (t) => {
  const j = buildJournal(t.testdir(), { options: { chain: { everyRecords: 1, everyMs: 60_000 } }, close: true })
  for (const path of j.segments) {
    const records = recordsOf(path)
    const ends = records.filter((r) => r.batchEnd)
    t.ok(ends.every((r) => r.kind === RecordKind.CHAIN_POINT), 'every batch ends in a chain point')
  }
  t.ok(verifyJournal(j.root, { requireSealed: true }).ok)
})

t.test('a rewrite after the last chain point of a sealed segment is caught by the seal', async (t) => {
  const j = buildJournal(t.testdir(), { batchesPerDay: 3 })
  const path = j.segments[1]!
  const records = recordsOf(path)
  const lastPoint = records.map((r) => r.kind).lastIndexOf(RecordKind.CHAIN_POINT)
  const after = records.slice(lastPoint + 1).find((r) => r.kind === RecordKind.CLIENT_IN)
  if (after === undefined) throw new Error('the fixture has no record after its last chain point')
  editPayloadFixCrc(path, after.seq)
  const bad = verifyJournal(j.root).firstBad!
  t.equal(bad.kind, 'changed')
  t.match(bad.message, /segment seal .* does not match .* final chain hash/)
})

t.test('a live segment reopened after a kill with records after its last chain point seals with a chain over them', async (t) => {
  const j = buildJournal(t.testdir(), { batchesPerDay: 3 })
  const live = j.segments[2]!
  const records = recordsOf(live)
  t.equal(records.at(-1)!.kind, RecordKind.CLIENT_IN, 'the live segment ends in unchained records')
  const reopened = JournalStream.open({ stream: 'hft', root: j.root, fsync: 'never', clockUs: j.clock.read, chain: BUILD_CHAIN })
  reopened.close()
  const result = verifyJournal(j.root, { requireSealed: true })
  t.ok(result.ok)
  t.equal(result.segments[2]!.sealReason, 'resumed')
  // And the seal's chain is tamper evidence for them: edit one, re-CRC it.
  editPayloadFixCrc(live, records.at(-1)!.seq)
  t.match(verifyJournal(j.root).firstBad!.message, /final chain hash/)
})
