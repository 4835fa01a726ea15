// Tamper evidence: real segments written by JournalStream to a temp dir,
// then damaged on disk (a flipped byte, a dropped record, two swapped
// records, a cut file, a deleted segment, an edit whose CRC was
// recomputed, a whole segment re-forged). verify must catch each one and
// name it: the file, the byte offset, the stream seq and what is wrong.
import t from 'tap'
import { readFileSync, readdirSync, rmSync, truncateSync, appendFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { verifyJournal, type JournalProblem } from '../journal/verify.js'
import { JournalStream } from '../journal/segment-writer.js'
import { runVerifyCommand } from '../tools/journal/verify-command.js'
import { readStream } from '../journal/reader.js'
import { OFF_LENGTH, RecordKind } from '../journal/record-format.js'
import {
  BUILD_CHAIN, buildJournal, dropRecord, editPayloadFixCrc, flipByte, recordBySeq, recordsOf, resealSegment, swapAdjacent, type BuiltJournal,
} from './helpers/journal-files.js'

/** A data record in the middle of the middle (sealed) segment. */
function middleRecord (j: BuiltJournal): { path: string, seq: number } {
  const path = j.segments[1]!
  const data = recordsOf(path).filter((r) => r.kind === RecordKind.CLIENT_IN)
  return { path, seq: data[Math.floor(data.length / 2)]!.seq }
}

function firstBad (root: string): JournalProblem {
  const result = verifyJournal(root)
  if (result.ok || result.firstBad === null) throw new Error('verify passed a damaged journal')
  return result.firstBad
}

t.test('an untouched journal verifies clean: sealed segments and one open', async (t) => {
  const j = buildJournal(t.testdir())
  const result = verifyJournal(j.root)
  t.ok(result.ok, 'ok')
  t.same(result.problems, [])
  t.same(result.segments.map((s) => s.status), ['sealed', 'sealed', 'open'])
  t.same(result.segments.map((s) => s.sealReason), ['rotated-day', 'rotated-day', null])
  // Seqs run on across segments: each starts right after the previous seal.
  for (let i = 1; i < result.segments.length; i++) t.equal(result.segments[i]!.firstSeq, result.segments[i - 1]!.lastSeq! + 1)
  const strict = verifyJournal(j.root, { requireSealed: true })
  t.notOk(strict.ok, '--require-sealed reports the live segment')
  t.equal(strict.firstBad!.kind, 'unsealed')
  t.equal(strict.firstBad!.file, join('hft', basename(j.segments[2]!)))
})

t.test('a flipped payload byte is changed, at that record', async (t) => {
  const j = buildJournal(t.testdir())
  const { path, seq } = middleRecord(j)
  const r = recordBySeq(path, seq)
  flipByte(path, r.offset + r.length - 8)
  const bad = firstBad(j.root)
  t.equal(bad.kind, 'changed')
  t.equal(bad.file, join('hft', basename(path)))
  t.equal(bad.offset, r.offset)
  t.equal(bad.seq, seq)
  t.match(bad.message, /does not match its CRC/)
})

t.test('a changed length field is changed, not mistaken for a cut file', async (t) => {
  const j = buildJournal(t.testdir())
  const { path, seq } = middleRecord(j)
  const r = recordBySeq(path, seq)
  // Shorter: the CRC lands on the wrong bytes.
  flipByte(path, r.offset + OFF_LENGTH, 0x04)
  let bad = firstBad(j.root)
  t.same([bad.kind, bad.offset, bad.seq], ['changed', r.offset, seq])
  flipByte(path, r.offset + OFF_LENGTH, 0x04)
  t.ok(verifyJournal(j.root).ok, 'flipping it back restores the journal')
  // Longer than the rest of the file: records still follow, so it is damage.
  flipByte(path, r.offset + OFF_LENGTH + 2, 0x01)
  bad = firstBad(j.root)
  t.same([bad.kind, bad.offset, bad.seq], ['changed', r.offset, seq])
  t.match(bad.message, /changed length/)
})

t.test('a dropped record is missing, named by the seq that is gone', async (t) => {
  const j = buildJournal(t.testdir())
  const { path, seq } = middleRecord(j)
  const dropped = dropRecord(path, seq)
  const bad = firstBad(j.root)
  t.equal(bad.kind, 'missing')
  t.equal(bad.file, join('hft', basename(path)))
  t.equal(bad.offset, dropped.offset, 'where the dropped record was')
  t.equal(bad.seq, seq, 'the seq that should be there')
  t.equal(bad.storedSeq, seq + 1, 'the record found in its place')
  t.match(bad.message, new RegExp(`record seq ${seq} is missing`))
})

t.test('a dropped chain point is missing too', async (t) => {
  const j = buildJournal(t.testdir())
  const path = j.segments[1]!
  const seal = recordsOf(path).filter((r) => r.kind === RecordKind.CHAIN_POINT)[0]!
  dropRecord(path, seal.seq)
  const bad = firstBad(j.root)
  t.same([bad.kind, bad.offset, bad.seq], ['missing', seal.offset, seal.seq])
})

t.test('two swapped records are reordered, at the first out of place', async (t) => {
  const j = buildJournal(t.testdir())
  const { path, seq } = middleRecord(j)
  const { a } = swapAdjacent(path, seq)
  const bad = firstBad(j.root)
  t.equal(bad.kind, 'reordered')
  t.equal(bad.offset, a.offset)
  t.equal(bad.seq, seq)
  t.equal(bad.storedSeq, seq + 1)
  t.match(bad.message, new RegExp(`seq ${seq} is later`))
})

t.test('a segment cut inside a record is truncated, at that record', async (t) => {
  const j = buildJournal(t.testdir())
  const { path, seq } = middleRecord(j)
  const r = recordBySeq(path, seq)
  truncateSync(path, r.offset + 20)
  const bad = firstBad(j.root)
  t.same([bad.kind, bad.file, bad.offset, bad.seq, bad.storedSeq], ['truncated', join('hft', basename(path)), r.offset, seq, seq])
})

t.test('a sealed segment cut at a batch boundary is unsealed: a later segment follows it', async (t) => {
  const j = buildJournal(t.testdir())
  const path = j.segments[1]!
  const seals = recordsOf(path).filter((r) => r.batchEnd)
  const cutAt = seals[2]!.offset + seals[2]!.length
  truncateSync(path, cutAt)
  const bad = firstBad(j.root)
  t.same([bad.kind, bad.file, bad.offset, bad.seq], ['unsealed', join('hft', basename(path)), cutAt, seals[2]!.seq + 1])
})

t.test('a deleted middle segment is missing, named at the segment after the gap', async (t) => {
  const j = buildJournal(t.testdir({}), { days: 4 })
  const gone = j.segments[1]!
  const before = recordsOf(j.segments[0]!)
  const expected = before[before.length - 1]!.seq + 1
  rmSync(gone)
  const bad = firstBad(j.root)
  t.same([bad.kind, bad.file, bad.offset, bad.seq], ['missing', join('hft', basename(j.segments[2]!)), 0, expected])
  t.match(bad.message, /segment 2 is missing/)
})

t.test('an edit with its CRC recomputed is caught at the next chain point, named to the records since the one before', async (t) => {
  const j = buildJournal(t.testdir())
  const { path, seq } = middleRecord(j)
  editPayloadFixCrc(path, seq)
  const bad = firstBad(j.root)
  t.equal(bad.kind, 'changed')
  t.equal(bad.file, join('hft', basename(path)))
  t.match(bad.message, /do not match their chain hash/)
  // The chain can only narrow it to the records between two chain
  // points: the edited record is among them, and the first is named.
  t.ok(bad.seq! <= seq && seq <= bad.seqEnd!, `seq ${seq} lies in the named range ${bad.seq}..${bad.seqEnd}`)
  t.ok(bad.seqEnd! - bad.seq! < BUILD_CHAIN.everyRecords + 5, 'and the range is no wider than the cadence and one commit')
  t.equal(bad.offset, recordBySeq(path, bad.seq!).offset, 'offset is the first record after the previous chain point')
})

t.test('a segment re-forged end to end (CRCs, chain, seal) is caught by the next header', async (t) => {
  const j = buildJournal(t.testdir())
  const { path, seq } = middleRecord(j)
  editPayloadFixCrc(path, seq)
  resealSegment(path)
  const bad = firstBad(j.root)
  t.equal(bad.kind, 'changed')
  t.equal(bad.file, join('hft', basename(j.segments[2]!)))
  t.equal(bad.offset, 0)
  t.match(bad.message, /links to a seal other than/)
})

t.test('a torn final write on the live segment is truncated; reopening recovers it', async (t) => {
  const root = t.testdir()
  const j = buildJournal(root)
  const live = j.segments[2]!
  const sizeBefore = readFileSync(live).length
  // Half of a record, as a write cut by power loss would leave.
  const someRecord = readFileSync(live).subarray(recordsOf(live)[2]!.offset)
  appendFileSync(live, someRecord.subarray(0, 20))
  const bad = firstBad(root)
  t.same([bad.kind, bad.offset], ['truncated', sizeBefore])

  const reopened = JournalStream.open({ stream: 'hft', root, fsync: 'never', clockUs: j.clock.read })
  reopened.close()
  const result = verifyJournal(root)
  t.ok(result.ok, 'verifies after recovery')
  const seg = result.segments.find((s) => s.file.endsWith(basename(live)))!
  t.same([seg.status, seg.sealReason, seg.tornBytes], ['sealed', 'recovered', 20])
  t.ok(readdirSync(j.streamDir).some((f) => f === `${basename(live)}.torn-${sizeBefore}`), 'the cut bytes are kept beside the segment')
})

t.test('reopening refuses a live segment damaged in a way no crash explains', async (t) => {
  const root = t.testdir()
  const j = buildJournal(root)
  const live = j.segments[2]!
  const r = recordsOf(live).find((x) => x.kind === RecordKind.CLIENT_IN)!
  flipByte(live, r.offset + r.length - 6)
  const before = readFileSync(live)
  t.throws(() => JournalStream.open({ stream: 'hft', root, fsync: 'never', clockUs: j.clock.read }), { code: 'GH_ERR_JOURNAL_CORRUPT' })
  t.ok(readFileSync(live).equals(before), 'the damaged segment is left as it was')
})

t.test('the reader refuses damage but not a torn live tail', async (t) => {
  const j = buildJournal(t.testdir())
  const live = j.segments[2]!
  appendFileSync(live, Buffer.alloc(13))
  t.equal([...readStream(j.streamDir, 'hft')].length, j.dataSeqs.length, 'every committed record, nothing of the torn tail')
  const { path, seq } = middleRecord(j)
  editPayloadFixCrc(path, seq)
  t.throws(() => [...readStream(j.streamDir, 'hft')], { code: 'GH_ERR_JOURNAL_CORRUPT' })
})

t.test('journal verify (CLI): exit 0 when clean, 1 naming the first bad record, 2 on a bad command line', async (t) => {
  const j = buildJournal(t.testdir())
  const out: string[] = []
  t.equal(runVerifyCommand([j.root], { out: (l) => out.push(l), err: (l) => out.push(l) }), 0)
  t.match(out.join('\n'), /^journal OK: 3 segments in 1 streams, 1 open, 0 problems$/m)
  const { path, seq } = middleRecord(j)
  const r = recordBySeq(path, seq)
  flipByte(path, r.offset + r.length - 8)
  out.length = 0
  t.equal(runVerifyCommand([j.root], { out: (l) => out.push(l), err: (l) => out.push(l) }), 1)
  t.match(out.join('\n'), new RegExp(`CHANGED hft/${basename(path)} offset ${r.offset} seq ${seq}:`))
  out.length = 0
  t.equal(runVerifyCommand([j.root, '--bogus'], { out: (l) => out.push(l), err: (l) => out.push(l) }), 2)
  t.match(out.join('\n'), /unknown option --bogus/)
  out.length = 0
  t.equal(runVerifyCommand(['--help'], { out: (l) => out.push(l), err: (l) => out.push(l) }), 0)
  t.match(out.join('\n'), /usage: gatehouse journal verify DIR/)
})
