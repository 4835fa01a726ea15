// JournalStream on a real file system: group commit (one write per batch,
// nothing before commit), rotation by size and by day, owner-only files,
// reopening after a kill, fsync policies, the reader's round trip over
// random records, and retention purges. Time is an injected clock, so
// crossing midnight or a retention period takes no waiting.
import t from 'tap'
import fc from 'fast-check'
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import CRC32 from 'crc-32'
import { JournalStream, createSink, resolveStreamOptions, type JournalStreamOptions } from '../journal/segment-writer.js'
import {
  Direction, FLAG_ACCOUNT_CLIPPED, FLAG_JSON, LANE_CODES, LANE_NONE, MAX_ACCOUNT_CHARS, RecordKind, Scratch, SCRATCH_STEP_BYTES, crc32Of, newRecordHead, recordKindName,
} from '../journal/record-format.js'
import { listSegments } from '../journal/segment-names.js'
import { readJournal, readStream } from '../journal/reader.js'
import { verifyJournal } from '../journal/verify.js'
import { purgeExpired, type PurgeDocument } from '../journal/retention.js'
import { DAY_US, ManualClock, T0_US, buildJournal, recordsOf } from './helpers/journal-files.js'

const head = newRecordHead({ kind: RecordKind.CLIENT_IN, lane: LANE_CODES.platform, direction: Direction.IN, sessionId: 3, account: 'A1', msgType: 11 })

function open (root: string, clock: ManualClock, options: Partial<JournalStreamOptions> = {}): JournalStream {
  return JournalStream.open({ stream: 'platform', root, fsync: 'never', clockUs: clock.read, ...options })
}

function kindsOf (path: string): string[] {
  return recordsOf(path).map((r) => recordKindName(r.kind))
}

t.test('group commit: append writes nothing, commit writes the batch, its last record marked, with one write', async (t) => {
  const clock = new ManualClock()
  const j = open(t.testdir(), clock)
  j.append(head, Buffer.from('first'))
  j.commit()
  const path = j.currentSegmentPath!
  const size0 = statSync(path).size
  const seqs: number[] = []
  for (let i = 0; i < 16; i++) seqs.push(j.append(head, Buffer.from(`order ${i}`)))
  t.equal(statSync(path).size, size0, 'nothing reaches the file before commit')
  t.equal(j.pendingRecords, 16)
  const written = j.commit()
  t.equal(statSync(path).size, size0 + written, 'commit returns after the bytes are in the file')
  t.same(seqs, Array.from({ length: 16 }, (_, i) => seqs[0]! + i), 'append returns consecutive stream seqs')
  t.equal(j.commit(), 0, 'an empty commit writes nothing')
  // header batch, the 1-record batch, the 16-record batch: 3 commits,
  // 3 batch ends; 18 records are below the chain cadence, so no chain point.
  t.same(recordsOf(path).map((r) => r.batchEnd), [true, true, ...Array(15).fill(false), true])
  t.same(kindsOf(path), ['segment-header', ...Array(17).fill('client-in')], 'no seal records: the batch end is a flag')
  t.same(j.stats().batches, 3)
  j.close()
  t.ok(verifyJournal(j.dir).ok)
})

t.test('one write(2) per batch: the batch lands whole, never record by record', async (t) => {
  // Observed from outside: after each commit, the file has grown by
  // exactly the batch, and the new bytes end in a record marked as its end.
  const clock = new ManualClock()
  const j = open(t.testdir(), clock)
  for (const n of [1, 16, 256]) {
    for (let i = 0; i < n; i++) j.append(head, Buffer.alloc(40, i))
    const path = j.currentSegmentPath!
    const before = statSync(path).size
    const written = j.commit()
    t.equal(statSync(path).size - before, written, `batch of ${n}`)
    const records = recordsOf(path)
    t.ok(records.at(-1)!.batchEnd, 'the last record ends the batch')
    t.equal(records.slice(-n, -1).filter((r) => r.batchEnd).length, 0, 'and no record before it in the batch does')
  }
  j.close()
})

t.test('a batch past maxBatchBytes commits inline', async (t) => {
  const clock = new ManualClock()
  const j = open(t.testdir(), clock, { maxBatchBytes: 4096 })
  let commitsSeen = 0
  for (let i = 0; i < 100; i++) {
    j.append(head, Buffer.alloc(100))
    if (j.pendingRecords === 0) commitsSeen++
  }
  t.ok(commitsSeen >= 2, `committed by itself ${commitsSeen} times`)
  j.close()
  t.ok(verifyJournal(j.dir).ok)
})

t.test('rotation by size seals each segment and chains the next', async (t) => {
  const clock = new ManualClock()
  const root = t.testdir()
  const j = open(root, clock, { maxSegmentBytes: 64 * 1024, maxBatchBytes: 16 * 1024 })
  for (let i = 0; i < 100; i++) {
    for (let k = 0; k < 20; k++) j.append(head, Buffer.alloc(150, k))
    j.commit()
    clock.nowUs += 1000
  }
  j.close()
  const files = listSegments(j.dir)
  t.ok(files.length >= 4, `${files.length} segments`)
  t.same(files.map((f) => f.segment), files.map((_, i) => i + 1), 'numbered 1, 2, 3, ...')
  for (const f of files.slice(0, -1)) t.ok(statSync(f.path).size < 64 * 1024 + 16 * 1024, `${f.file} stays within the limit plus one batch`)
  const result = verifyJournal(root)
  t.ok(result.ok)
  t.same(result.segments.map((s) => s.sealReason), [...Array(files.length - 1).fill('rotated-size'), 'closed'])
  t.same(files.map((f) => f.file), [...files.map((f) => f.file)].sort(), 'names sort in segment order')
})

t.test('rotation by day: UTC date of the first record, or the trading day passed in', async (t) => {
  const clock = new ManualClock(Date.UTC(2026, 0, 5, 23, 59, 59, 990) * 1000)
  const root = t.testdir()
  const j = open(root, clock)
  j.append(head, Buffer.from('before midnight'))
  clock.nowUs += 20_000
  // Same batch: the batch stays in the segment of its first record.
  j.append(head, Buffer.from('after midnight, same batch'))
  j.commit()
  j.append(head, Buffer.from('next batch, next day'))
  j.commit()
  t.same(listSegments(j.dir).map((f) => f.file), ['platform-20260105-0001.ghj', 'platform-20260106-0002.ghj'])
  // The night session of Friday 9 Jan trades for Monday 12 Jan.
  j.setTradingDay('20260112')
  j.append(head, Buffer.from('night session'))
  j.commit()
  clock.nowUs += DAY_US
  j.append(head, Buffer.from('a UTC day later, same trading day'))
  j.commit()
  j.close()
  t.same(listSegments(j.dir).map((f) => f.file), ['platform-20260105-0001.ghj', 'platform-20260106-0002.ghj', 'platform-20260112-0003.ghj'])
  const result = verifyJournal(root)
  t.ok(result.ok)
  t.same(result.segments.map((s) => s.sealReason), ['rotated-day', 'rotated-day', 'closed'])
  t.throws(() => j.setTradingDay('2026-01-12'), { code: 'GH_ERR_JOURNAL_INVALID_OPTION', message: "tradingDay must be 'YYYYMMDD'; got \"2026-01-12\"" })
})

t.test('files are owner-only: directories 0700, segments 0600', async (t) => {
  const clock = new ManualClock()
  const root = join(t.testdir(), 'var', 'journal')
  mkdirSync(join(root, 'platform'), { recursive: true, mode: 0o755 })
  chmodSync(join(root, 'platform'), 0o755)
  const j = open(root, clock)
  j.append(head, Buffer.from('x'))
  j.commit()
  j.close()
  t.equal(statSync(j.dir).mode & 0o777, 0o700, 'an existing stream directory is tightened')
  for (const f of listSegments(j.dir)) t.equal(statSync(f.path).mode & 0o777, 0o600, f.file)
  const fresh = JournalStream.open({ stream: 'hft', root: join(t.testdir(), 'new-root'), fsync: 'never' })
  t.equal(statSync(fresh.dir).mode & 0o777, 0o700)
  t.equal(statSync(join(fresh.dir, '..')).mode & 0o777, 0o700, 'the root it creates too')
  fresh.close()
})

t.test('reopening continues the seq and the chain; a segment left open by a kill is sealed as resumed', async (t) => {
  const clock = new ManualClock()
  const root = t.testdir()
  const first = open(root, clock)
  const lastSeq = [1, 2, 3].map(() => first.append(head, Buffer.from('x'))).at(-1)!
  first.commit()
  // No close(): the process was killed. Its fd is simply dropped.
  const second = open(root, clock)
  const nextSeq = second.append(head, Buffer.from('after restart'))
  second.commit()
  second.close()
  t.ok(nextSeq > lastSeq + 1, `seq runs on (${lastSeq} then ${nextSeq}, the batch and segment seals between)`)
  const result = verifyJournal(root)
  t.ok(result.ok)
  t.same(result.segments.map((s) => s.sealReason), ['resumed', 'closed'])
  const third = open(root, clock)
  t.equal(third.nextSeq, result.segments[1]!.lastSeq! + 1, 'a cleanly closed stream continues after its seal')
  third.close()
  t.equal(listSegments(join(root, 'platform')).length, 2, 'opening and closing without records creates no segment')
})

t.test('fsync policies: every-batch syncs in commit, an interval syncs soon after, never does not', async (t) => {
  const clock = new ManualClock()
  const every = open(t.testdir(), clock, { fsync: 'every-batch' })
  for (let i = 0; i < 3; i++) {
    every.append(head, Buffer.from('x'))
    every.commit()
  }
  t.equal(every.stats().fsyncs, every.stats().batches, 'one fdatasync per batch')
  every.close()

  const interval = open(t.testdir(), clock, { fsync: { intervalMs: 5 } })
  interval.append(head, Buffer.from('x'))
  interval.commit()
  t.equal(interval.stats().fsyncs, 0, 'commit does not wait for the disk')
  const synced = await interval.nextFsync()
  t.ok(synced >= 1, 'the interval fsync ran')
  interval.close()

  const never = open(t.testdir(), clock, { fsync: 'never' })
  never.append(head, Buffer.from('x'))
  never.commit()
  never.close()
  t.equal(never.stats().fsyncs, 0)
})

t.test('a sink that cannot write makes the write throw, for both sinks', async (t) => {
  for (const kind of ['sonic-boom', 'fs'] as const) {
    const fd = openSync('/dev/full', 'w')
    const sink = createSink(fd, kind)
    t.throws(() => { sink.writeAll(Buffer.alloc(64), 0, 64) }, { code: 'ENOSPC' }, kind)
    closeSync(fd)
  }
})

t.test('option and record validation say what to change', async (t) => {
  const bad: Array<[Partial<JournalStreamOptions>, string]> = [
    [{ stream: 'HFT' }, "stream 'HFT' must be 1 to 32 characters of a-z, 0-9 and _, starting with a letter"],
    [{ stream: 'hft-2' }, "stream 'hft-2' must be 1 to 32 characters of a-z, 0-9 and _, starting with a letter"],
    [{ fsync: { intervalMs: 0 } }, "fsync must be 'never', 'every-batch' or { intervalMs } with intervalMs an integer from 1 to 60000; got {\"intervalMs\":0}"],
    [{ fsync: 'always' as never }, "fsync must be 'never', 'every-batch' or { intervalMs } with intervalMs an integer from 1 to 60000; got \"always\""],
    [{ maxSegmentBytes: 1000 }, 'maxSegmentBytes must be an integer of at least 65536; got 1000'],
    [{ maxBatchBytes: 100 }, 'maxBatchBytes must be an integer from 4096 to maxSegmentBytes (268435456); got 100'],
    [{ sink: 'mmap' as never }, "sink must be 'sonic-boom' or 'fs'; got \"mmap\""],
    [{ tradingDay: '2026-1-5' }, "tradingDay must be 'YYYYMMDD'; got \"2026-1-5\""],
  ]
  for (const [options, message] of bad) {
    t.throws(() => resolveStreamOptions({ stream: 'hft', ...options }), { code: 'GH_ERR_JOURNAL_INVALID_OPTION', message }, message)
  }
  const j = open(t.testdir(), new ManualClock())
  t.throws(() => j.append({ ...head, sessionId: -1 }, Buffer.alloc(1)), { code: 'GH_ERR_JOURNAL_INVALID_RECORD', message: 'sessionId -1 is not an integer in [0, 2^32)' })
  t.throws(() => j.append({ ...head, msgType: 70_000 }, Buffer.alloc(1)), { code: 'GH_ERR_JOURNAL_INVALID_RECORD', message: 'msgType 70000 or flags 0 is not a u16' })
  t.equal(j.pendingRecords, 0, 'a refused record takes no seq and no place')
  j.append(head, Buffer.from('fine'))
  j.close()
  t.ok(verifyJournal(j.dir).ok)
  t.throws(() => j.append(head, Buffer.from('late')), { code: 'GH_ERR_JOURNAL_CLOSED' })
})

t.test('a client-controlled account never fails the journal: a long one is clipped and flagged', async (t) => {
  const j = open(t.testdir(), new ManualClock())
  // Astral characters are two UTF-16 units: a cut between them leaves a lone surrogate, still at most 3 UTF-8 bytes a unit.
  const accounts = ['x'.repeat(MAX_ACCOUNT_CHARS + 1), 'y'.repeat(4000), '\u{1F600}'.repeat(200), 'a'.repeat(MAX_ACCOUNT_CHARS - 1) + '\u{1F600}']
  for (const account of accounts) j.append({ ...head, account }, Buffer.from(account.slice(0, 8)))
  j.append({ ...head, account: 'z'.repeat(MAX_ACCOUNT_CHARS) }, Buffer.from('fits'))
  j.close()
  t.ok(verifyJournal(j.dir).ok, 'the journal verifies')
  const written = [...readStream(j.dir, 'platform')].filter((r) => r.kind === RecordKind.CLIENT_IN)
  t.equal(written.length, accounts.length + 1)
  for (const [i, account] of accounts.entries()) {
    t.equal(written[i]!.flags & FLAG_ACCOUNT_CLIPPED, FLAG_ACCOUNT_CLIPPED, `account ${i}: flagged as clipped`)
    t.equal(Buffer.from(written[i]!.account, 'utf8').equals(Buffer.from(account.slice(0, MAX_ACCOUNT_CHARS), 'utf8')), true, `account ${i}: its first ${MAX_ACCOUNT_CHARS} characters`)
  }
  t.equal(written[accounts.length]!.flags & FLAG_ACCOUNT_CLIPPED, 0, 'an account that fits is not flagged')
  t.equal(written[accounts.length]!.account, 'z'.repeat(MAX_ACCOUNT_CHARS))
})

t.test('the scratch buffer grows in whole steps and keeps what it holds', async (t) => {
  const s = new Scratch()
  t.equal(s.buf.length, SCRATCH_STEP_BYTES)
  s.buf.write('keep', 0)
  s.length = 4
  s.reserve(SCRATCH_STEP_BYTES + 1)
  t.equal(s.buf.length, 2 * SCRATCH_STEP_BYTES, 'length + bytes, rounded up to a whole step')
  t.equal(s.buf.toString('latin1', 0, 4), 'keep')
  const before = s.buf
  s.reserve(100)
  t.equal(s.buf, before, 'no growth while it fits')
})

t.test('crc32Of over a range of a buffer equals the crc-32 package on a copy of it', async (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(), fc.nat(), (bytes, a, b) => {
    const buf = Buffer.from(bytes)
    const start = a % (bytes.length + 1)
    const end = start + (b % (bytes.length - start + 1))
    const copy = Buffer.from(buf.subarray(start, end))
    const crc = crc32Of(buf, start, end)
    return crc === CRC32.buf(copy) >>> 0
  }), { numRuns: 2000 })
  t.equal(crc32Of(Buffer.from('123456789'), 0, 9), 0xcbf43926, 'the CRC-32 check value')
})

interface RandomRecord {
  kind: number
  lane: number
  direction: number
  sessionId: number
  account: string
  msgType: number
  payload: Uint8Array
  json: boolean
  dtUs: number
  commitAfter: boolean
}

const recordArb: fc.Arbitrary<RandomRecord> = fc.record({
  kind: fc.constantFrom(RecordKind.CLIENT_IN, RecordKind.CLIENT_OUT, RecordKind.LINK_IN, RecordKind.LINK_OUT, RecordKind.LOGON_STEP, RecordKind.CHECK_DECISION, RecordKind.ADMIN_CHANGE),
  lane: fc.constantFrom(LANE_NONE, LANE_CODES.terminal, LANE_CODES.platform, LANE_CODES.hft),
  direction: fc.constantFrom(Direction.NONE, Direction.IN, Direction.OUT),
  sessionId: fc.integer({ min: 0, max: 0xffff_ffff }),
  account: fc.string({ maxLength: MAX_ACCOUNT_CHARS, unit: 'grapheme-ascii' }),
  msgType: fc.integer({ min: 0, max: 0xffff }),
  payload: fc.uint8Array({ maxLength: 600 }),
  json: fc.boolean(),
  // Up to ~6 h between records, so some runs cross UTC midnight.
  dtUs: fc.integer({ min: 0, max: 6 * 3600 * 1e6 }),
  commitAfter: fc.boolean(),
})

t.test('reader round trip: random records written, rotated and read back equal (fast-check)', async (t) => {
  const base = t.testdir()
  let run = 0
  fc.assert(fc.property(fc.array(recordArb, { minLength: 1, maxLength: 120 }), fc.constantFrom('sonic-boom', 'fs'), (records, sink) => {
    const root = join(base, `run-${run++}`)
    const clock = new ManualClock(T0_US)
    const j = open(root, clock, { maxSegmentBytes: 64 * 1024, maxBatchBytes: 8 * 1024, sink: sink as 'sonic-boom' | 'fs' })
    const expected: Array<Record<string, unknown>> = []
    let batchTimeUs = 0
    for (const r of records) {
      clock.nowUs += r.dtUs
      const h = newRecordHead(r)
      // One clock read per batch: a record takes its batch's time.
      if (j.pendingRecords === 0) batchTimeUs = clock.nowUs
      const seq = r.json ? j.appendJson(h, { n: r.sessionId, a: r.account }) : j.append(h, r.payload)
      expected.push({
        seq, kind: r.kind, lane: r.lane, direction: r.direction, sessionId: r.sessionId, account: r.account, msgType: r.msgType,
        timeUs: batchTimeUs, flags: r.json ? FLAG_JSON : 0,
        payload: r.json ? Buffer.from(JSON.stringify({ n: r.sessionId, a: r.account })).toString('hex') : Buffer.from(r.payload).toString('hex'),
      })
      if (r.commitAfter) j.commit()
    }
    j.close()
    const read = [...readStream(j.dir, 'platform')].map((x) => ({
      seq: x.seq, kind: x.kind, lane: x.lane, direction: x.direction, sessionId: x.sessionId, account: x.account, msgType: x.msgType,
      timeUs: x.timeUs, flags: x.flags, payload: x.payload.toString('hex'),
    }))
    t.same(read, expected)
    return verifyJournal(root, { requireSealed: true }).ok
  }), { numRuns: 40, interruptAfterTimeLimit: 8000 })
})

t.test('readJournal merges streams by time', async (t) => {
  const root = t.testdir()
  const clock = new ManualClock()
  const a = JournalStream.open({ stream: 'hft', root, fsync: 'never', clockUs: clock.read })
  const b = JournalStream.open({ stream: 'terminal', root, fsync: 'never', clockUs: clock.read })
  for (let i = 0; i < 6; i++) {
    const j = i % 2 === 0 ? a : b
    j.append(head, Buffer.from(`m${i}`))
    j.commit()
    clock.nowUs += 10
  }
  a.close()
  b.close()
  t.same([...readJournal(root)].map((r) => `${r.stream}:${r.payload.toString()}`), ['hft:m0', 'terminal:m1', 'hft:m2', 'terminal:m3', 'hft:m4', 'terminal:m5'])
})

t.test('purge removes only expired sealed segments, records the purge, and the journal still verifies', async (t) => {
  const root = t.testdir()
  // 4 daily segments of 'hft' starting 2026-01-05; the last stays open.
  const j = buildJournal(root, { days: 4 })
  const supervisor = JournalStream.open({ stream: 'supervisor', root, fsync: 'never', clockUs: j.clock.read })
  const segments = listSegments(j.streamDir)
  // A year and a day after the second day: the segments of 5 and 6 Jan
  // (last commits 01:30) are past a 1-year retention; 7 Jan's is not.
  const now = Date.UTC(2027, 0, 7, 1, 0)
  const result = purgeExpired(root, 1, now, { journal: supervisor })
  t.same(result.removed.map((r) => r.file), [basename(segments[0]!.path), basename(segments[1]!.path)], 'the two days older than a year, oldest first')
  t.same(readdirSync(j.streamDir).sort(), segments.slice(2).map((s) => basename(s.path)), 'the rest stay')
  t.ok(result.recordSeq !== null)
  const purges = [...readStream(supervisor.dir, 'supervisor')]
  t.equal(purges.length, 1)
  t.equal(purges[0]!.kind, RecordKind.PURGE)
  t.equal(purges[0]!.flags & FLAG_JSON, FLAG_JSON)
  const doc = JSON.parse(purges[0]!.payload.toString()) as PurgeDocument
  t.same(doc.removed.map((r) => r.sealHash), result.removed.map((r) => r.sealHash))
  t.equal(doc.cutoff, '2026-01-07T01:00:00.000Z')
  t.ok(verifyJournal(root).ok, 'the stream now starts at a seal a purge record names')

  // Far in the future everything has expired, but the newest segment of
  // each stream (the live ones here) stays.
  const later = purgeExpired(root, 1, Date.UTC(2040, 0, 1), { journal: supervisor })
  t.same(later.removed.map((r) => r.file), [basename(segments[2]!.path)], 'not the open segment')
  supervisor.close()
  t.ok(verifyJournal(root).ok)
})

t.test('a purge whose record was never journaled leaves verify reporting the gap', async (t) => {
  const root = t.testdir()
  const j = buildJournal(root, { days: 3 })
  const segments = listSegments(j.streamDir)
  const result = purgeExpired(root, 1, Date.UTC(2030, 0, 1))
  t.equal(result.removed.length, 2)
  t.equal(result.recordSeq, null)
  t.ok(result.record !== null, 'the record is returned for the caller to append')
  const bad = verifyJournal(root).firstBad!
  t.same([bad.kind, bad.file, bad.offset], ['missing', join('hft', basename(segments[2]!.path)), 0])
  t.match(bad.message, /no purge record names the seal/)
  // The caller appends it: now the gap is explained.
  const supervisor = JournalStream.open({ stream: 'supervisor', root, fsync: 'never', clockUs: j.clock.read })
  supervisor.appendJson(newRecordHead({ kind: RecordKind.PURGE }), result.record)
  supervisor.close()
  t.ok(verifyJournal(root).ok)
})

t.test('purge never removes a damaged or unsealed segment, nor anything after one', async (t) => {
  const root = t.testdir()
  const j = buildJournal(root, { days: 4 })
  const segments = listSegments(j.streamDir)
  // Damage the second segment: the first may go, the second and later stay.
  const buf = readFileSync(segments[1]!.path)
  const r = recordsOf(segments[1]!.path)[3]!
  buf[r.offset + r.length - 6] ^= 1
  writeFileSync(segments[1]!.path, buf)
  const result = purgeExpired(root, 1, Date.UTC(2040, 0, 1))
  t.same(result.removed.map((x) => x.segment), [1])
  t.throws(() => purgeExpired(root, 0, Date.now()), { code: 'GH_ERR_JOURNAL_INVALID_OPTION', message: 'retentionYears must be a whole number of years, at least 1; got 0' })
})

t.test('a crash between creating a segment and writing its header leaves nothing to repair but the empty file', async (t) => {
  const root = t.testdir()
  const clock = new ManualClock()
  const j = open(root, clock)
  j.append(head, Buffer.from('x'))
  j.close()
  const dir = join(root, 'platform')
  // What a kill between open(2) and the header's write(2) leaves.
  writeFileSync(join(dir, 'platform-20260105-0002.ghj'), '', { mode: 0o600 })
  let result = verifyJournal(root)
  t.ok(result.ok, 'an empty live segment is open, not bad')
  t.same(result.segments.map((s) => s.status), ['sealed', 'open'])
  t.ok(verifyJournal(join(root, 'platform')).ok, 'a stream directory can be verified on its own')
  const again = open(root, clock)
  again.append(head, Buffer.from('y'))
  again.close()
  result = verifyJournal(root, { requireSealed: true })
  t.ok(result.ok)
  t.same(listSegments(dir).map((f) => f.segment), [1, 2], 'the empty file was replaced by a real segment 2')
})
