// The journal tools read files an operator hands them, which may be
// damaged or hostile: every answer is an exit code (0, 1 or 2) and a
// message, in bounded time and memory, never a stack trace. A fast-check
// fuzz mutates a real segment's bytes for verify and search (in process);
// hostile directory entries (a FIFO, /dev/zero, sparse files larger than
// any segment, directories and symlink loops named like segments or
// streams) go through the CLI as a process, under a 2 GiB address-space
// limit so that a tool reading without a budget fails here instead of
// taking the machine's memory.
import t from 'tap'
import fc from 'fast-check'
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CLI_PATH } from '../supervisor/exchange-sim-process.js'
import { encodeClientEnvelope } from '../protocol/client-codec.js'
import { Side, TimeInForce } from '../protocol/messages.js'
import { CLIENT_BODY_FIELDS } from '../journal/gateway-records.js'
import { MAX_SEGMENT_FILE_BYTES } from '../journal/read-bounded-file.js'
import { Direction, LANE_CODES, RecordKind, newRecordHead } from '../journal/record-format.js'
import { runSearchCommand } from '../tools/journal/search-command.js'
import { listSegments } from '../journal/segment-names.js'
import { JournalStream } from '../journal/segment-writer.js'
import { runVerifyCommand } from '../tools/journal/verify-command.js'

const DAY_US = Date.UTC(2026, 10, 20, 1, 30) * 1000
const STACK_LINE = /\n\s+at .+[(:]\d+|\bat (?:file|node):/

/** A small real journal: one stream, three batches of client orders. */
function buildJournal (root: string): string {
  let now = DAY_US
  const stream = JournalStream.open({ stream: 'platform', root, fsync: 'never', clockUs: () => (now += 1000) })
  for (let batch = 0; batch < 3; batch++) {
    for (let i = 1; i <= 3; i++) {
      const coid = batch * 3 + i
      const head = newRecordHead({ kind: RecordKind.CLIENT_IN, lane: LANE_CODES.platform, direction: Direction.IN, sessionId: 11, account: 'ACC1', msgType: CLIENT_BODY_FIELDS.newOrder! })
      stream.append(head, encodeClientEnvelope({ seq: coid, newOrder: { clientOrderId: coid, instrument: 'rb2605', side: Side.BUY, price: 3200, quantityLots: 1, timeInForce: TimeInForce.GFD } }))
    }
    stream.commit()
  }
  stream.close()
  return listSegments(join(root, 'platform'), 'platform')[0]!.path
}

type Mutation =
  | { kind: 'flip', at: number, mask: number }
  | { kind: 'truncate', at: number }
  | { kind: 'insert', at: number, bytes: Uint8Array }
  | { kind: 'length', at: number, value: number }
  | { kind: 'random', bytes: Uint8Array }
  | { kind: 'append', bytes: Uint8Array }

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
  // A record's length field (and any other u32) set to something huge or tiny.
  fc.record({ kind: fc.constant('length' as const), at: fc.nat(), value: fc.oneof(fc.constantFrom(0, 1, 0xffffffff, 0x7fffffff, 0x10000000), fc.nat()) }),
  fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 4096 }) }),
  fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 256 }) }),
)

function mutate (original: Buffer, mutations: Mutation[]): Buffer {
  let buf = Buffer.from(original)
  for (const m of mutations) {
    const at = buf.length === 0 ? 0 : ('at' in m ? m.at % buf.length : 0)
    switch (m.kind) {
      case 'flip': if (buf.length > 0) buf[at] = buf[at]! ^ m.mask; break
      case 'truncate': buf = buf.subarray(0, at); break
      case 'insert': buf = Buffer.concat([buf.subarray(0, at), m.bytes, buf.subarray(at)]); break
      case 'length': if (at + 4 <= buf.length) buf.writeUInt32LE(m.value >>> 0, at); break
      case 'random': buf = Buffer.from(m.bytes); break
      case 'append': buf = Buffer.concat([buf, m.bytes]); break
    }
  }
  return buf
}

t.test('verify and search over mutated segment bytes: exit 0, 1 or 2, a message, no stack trace, bounded time (fuzz)', async (t) => {
  const root = join(t.testdir(), 'journal')
  const segment = buildJournal(root)
  const original = readFileSync(segment)
  let runs = 0
  const codes = new Map<string, number>()
  await fc.assert(fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (mutations) => {
    writeFileSync(segment, mutate(original, mutations))
    runs++
    let text = ''
    const collect = (s: string): void => { text += s }
    const started = performance.now()
    let verifyCode: number
    let searchCode: number
    try {
      verifyCode = runVerifyCommand([root], { out: collect, err: collect })
      searchCode = await runSearchCommand([root, '--account', 'ACC1'], { out: collect, err: collect })
    } catch (err) {
      throw new Error(`a tool threw: ${(err as Error).stack ?? String(err)}`)
    }
    const ms = performance.now() - started
    codes.set(`verify ${verifyCode} search ${searchCode}`, (codes.get(`verify ${verifyCode} search ${searchCode}`) ?? 0) + 1)
    if (![0, 1, 2].includes(verifyCode) || ![0, 1, 2].includes(searchCode)) throw new Error(`exit codes ${verifyCode}, ${searchCode}`)
    if (STACK_LINE.test(text)) throw new Error(`a stack trace in the output: ${text}`)
    if (ms > 5000) throw new Error(`took ${ms.toFixed(0)} ms`)
  }), { numRuns: 300 })
  t.comment(`exit codes seen: ${[...codes].map(([k, n]) => `${k} ×${n}`).join(', ')}`)
  t.ok(runs >= 300, `${runs} mutated segments`)
  t.ok(codes.size > 1, 'the mutations reached more than one outcome')
})

interface CliRun { code: number | null, stderr: string, stdout: string, ms: number }

/** `gatehouse journal ...` as a process, under a 2 GiB address-space limit and a 10 s timeout. */
function journalCli (argv: string[]): CliRun {
  const started = Date.now()
  const result = spawnSync('/bin/sh', ['-c', 'ulimit -v 2097152 && exec "$0" "$@"', process.execPath, CLI_PATH, 'journal', ...argv], {
    encoding: 'utf8', timeout: 10_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/' },
  })
  return { code: result.status, stderr: result.stderr, stdout: result.stdout, ms: Date.now() - started }
}

t.test('hostile entries in a journal directory: a clear error naming the file, never a hang, an unbounded read or a stack trace', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'gh-hostile-'))
  t.teardown(() => { rmSync(base, { recursive: true, force: true }) })
  const limits = join(base, 'limits.json')
  writeFileSync(limits, '{}')
  const good = join(base, 'good')
  const goodSegment = buildJournal(good)
  const segmentName = 'platform-20261120-0001.ghj'

  /** A journal root whose platform stream's first segment is made by `make`. */
  const journalWith = (name: string, make: (path: string) => void): string => {
    const root = join(base, name)
    mkdirSync(join(root, 'platform'), { recursive: true })
    make(join(root, 'platform', segmentName))
    return root
  }
  const cases: Array<{ name: string, root: string, expect: RegExp }> = [
    { name: 'a FIFO named like a segment', root: journalWith('fifo', (p) => { spawnSync('mkfifo', [p]) }), expect: /is a FIFO, not a segment/ },
    { name: 'a symlink to /dev/zero named like a segment', root: journalWith('zero', (p) => { symlinkSync('/dev/zero', p) }), expect: /is a device, not a segment/ },
    { name: 'a sparse file past the budget', root: journalWith('sparse', (p) => { writeFileSync(p, ''); truncateSync(p, MAX_SEGMENT_FILE_BYTES + 1) }), expect: new RegExp(`is ${MAX_SEGMENT_FILE_BYTES + 1} bytes; a segment may be at most ${MAX_SEGMENT_FILE_BYTES} bytes`) },
    { name: 'a sparse file past what one read can hold (3 GiB)', root: journalWith('huge', (p) => { writeFileSync(p, ''); truncateSync(p, 3 * 1024 ** 3) }), expect: /is 3221225472 bytes/ },
    { name: 'a directory named like a segment', root: journalWith('dir', (p) => { mkdirSync(p) }), expect: /is a directory, not a segment/ },
    { name: 'a dangling symlink named like a segment', root: journalWith('dangling', (p) => { symlinkSync(join(base, 'nowhere'), p) }), expect: /cannot read the segment \(ENOENT\)/ },
    { name: 'a symlink loop named like a segment', root: journalWith('loop', (p) => { symlinkSync(p, p) }), expect: /cannot read the segment \(ELOOP\)/ },
  ]
  // A directory full of junk beside a good stream: stream-like names that
  // are dangling symlinks, loops, files; files with near-segment names.
  const junk = join(base, 'junk')
  mkdirSync(join(junk, 'platform'), { recursive: true })
  copyFileSync(goodSegment, join(junk, 'platform', segmentName))
  symlinkSync(join(base, 'nowhere'), join(junk, 'hft'))
  symlinkSync(join(junk, 'terminal'), join(junk, 'terminal'))
  writeFileSync(join(junk, 'supervisor'), 'not a directory')
  for (let i = 0; i < 200; i++) writeFileSync(join(junk, 'platform', `platform-2026112${i % 10}-x${i}.ghj`), String(i))
  writeFileSync(join(junk, 'platform', 'platform-20261120-0002.ghj.torn'), 'junk')

  const tools: Array<[string, (root: string) => string[]]> = [
    ['verify', (root) => ['verify', root]],
    ['search', (root) => ['search', root]],
    ['export', (root) => ['export', root, '--day', '20261120', '--format', 'csv']],
    ['replay', (root) => ['replay', root, '--limits', limits]],
  ]
  for (const { name, root, expect } of cases) {
    for (const [tool, args] of tools) {
      const run = journalCli(args(root))
      t.equal(run.code, 1, `${name}, ${tool}: exit 1${run.code === 1 ? '' : ` (${run.stderr.trim()})`}`)
      t.match(run.stdout + run.stderr, expect, `${name}, ${tool}: says what is wrong with the file`)
      t.match(run.stdout + run.stderr, /platform-20261120-0001\.ghj/, `${name}, ${tool}: names it`)
      t.notMatch(run.stderr, STACK_LINE, `${name}, ${tool}: no stack trace`)
      t.ok(run.ms < 10_000, `${name}, ${tool}: answered in ${run.ms} ms`)
    }
  }
  for (const [tool, args] of tools) {
    const run = journalCli(args(junk))
    if (tool === 'replay') {
      // The good stream is read, and holds no trading day to replay (no exchange logon): said, exit 1.
      t.equal(run.code, 1, 'junk beside a good stream, replay: exit 1')
      t.match(run.stderr, /has no exchange logon reply, so no trading day to replay/, 'junk, replay: the good stream was read to the end')
    } else {
      t.equal(run.code, 0, `junk beside a good stream, ${tool}: the good stream is read (exit 0)${run.code === 0 ? '' : ` (${run.stderr.trim()})`}`)
    }
    t.notMatch(run.stderr, STACK_LINE, `junk, ${tool}: no stack trace`)
  }
  const zeroLimits = journalCli(['replay', good, '--limits', '/dev/zero'])
  t.equal(zeroLimits.code, 2, 'replay --limits /dev/zero: exit 2')
  t.match(zeroLimits.stderr, /cannot read the limits file: \/dev\/zero: is a device, not a limits file/)
})
