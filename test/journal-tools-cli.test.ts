// The journal tools as a compliance officer meets them on the command
// line: the wrong directory, a file that is already there. Each assertion
// here guards a fix: a directory without segments (the runDir instead of
// its journal, an empty one) used to verify "OK" with exit 0 and search as
// "0 records"; a file given as DIR crashed verify with a stack trace;
// export --out silently replaced an existing file. The filters, masking,
// reveal and CSV/JSONL round trips are covered by journal-search-export.
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { CLI_PATH } from '../supervisor/exchange-sim-process.js'
import { encodeClientEnvelope } from '../protocol/client-codec.js'
import { ExecType, Side, TimeInForce, type LinkEnvelopeInit } from '../protocol/messages.js'
import { encodeLinkFrame } from '../protocol/link-codec.js'
import { runExportCommand } from '../tools/journal/export-command.js'
import { CLIENT_BODY_FIELDS, LINK_BODY_FIELDS } from '../journal/gateway-records.js'
import { Direction, LANE_CODES, RecordKind, newRecordHead } from '../journal/record-format.js'
import { runReplayCommand } from '../tools/journal/replay-command.js'
import { runSearchCommand } from '../tools/journal/search-command.js'
import type { CommandIo } from '../platform/cli-kit.js'
import { JournalStream } from '../journal/segment-writer.js'
import { runVerifyCommand } from '../tools/journal/verify-command.js'

const execFileAsync = promisify(execFile)
const DAY_US = Date.UTC(2026, 10, 20, 1, 30) * 1000

/** A runDir as `gatehouse start` leaves it: <runDir>/journal/platform with 3 records of 2026-11-20, and a file beside the journal. */
function buildRunDir (runDir: string): { runDir: string, journal: string } {
  const journal = join(runDir, 'journal')
  let now = DAY_US
  const stream = JournalStream.open({ stream: 'platform', root: journal, fsync: 'never', clockUs: () => (now += 1000) })
  for (const coid of [1, 2, 3]) {
    const head = newRecordHead({ kind: RecordKind.CLIENT_IN, lane: LANE_CODES.platform, direction: Direction.IN, sessionId: 11, account: 'ACC1', msgType: CLIENT_BODY_FIELDS.newOrder! })
    stream.append(head, encodeClientEnvelope({ seq: coid, newOrder: { clientOrderId: coid, instrument: 'rb2605', side: Side.BUY, price: 3200, quantityLots: 1, timeInForce: TimeInForce.GFD } }))
  }
  stream.commit()
  stream.close()
  writeFileSync(join(runDir, 'admin-state.json'), '{}\n')
  return { runDir, journal }
}

interface RunResult { code: number, out: string, err: string }

async function run (tool: (argv: string[], io: CommandIo) => Promise<number> | number, argv: string[]): Promise<RunResult> {
  let out = ''
  let err = ''
  const code = await tool(argv, { out: (s) => { out += s }, err: (s) => { err += s } })
  return { code, out, err }
}

function verify (argv: string[]): RunResult {
  const out: string[] = []
  const err: string[] = []
  const code = runVerifyCommand(argv, { out: (s) => out.push(s), err: (s) => err.push(s) })
  return { code, out: out.join('\n'), err: err.join('\n') }
}

t.test('verify says what it checked, and refuses a DIR with no segments instead of passing it', async (t) => {
  const { runDir, journal } = buildRunDir(t.testdir())
  const ok = verify([journal])
  t.equal(ok.code, 0)
  // Header, the three orders, the segment seal: batch ends are flags, not records (format 2).
  t.match(ok.out, /^checked 1 stream \(platform\), 1 segment, 5 records in 2 batches \(headers and seals included\)$/m, 'streams, segments and records counted')
  t.match(ok.out, /^journal OK: 1 segments in 1 streams, 0 open, 0 problems$/m)

  const empty = join(runDir, 'empty')
  mkdirSync(empty)
  for (const dir of [runDir, empty]) {
    const r = verify([dir])
    t.equal(r.code, 2, `${dir}: exit 2, not a pass`)
    t.equal(r.out, '', 'no "journal OK" line')
    t.match(r.err, /holds no journal segments.*give the journal directory/)
  }
  const file = verify([join(runDir, 'admin-state.json')])
  t.equal(file.code, 2, 'a file as DIR is a usage error')
  t.match(file.err, /^gatehouse journal verify: not a directory: /)

  // Through the real CLI: one line on stderr, no stack trace, stdout clean for --json.
  const cli = await execFileAsync(process.execPath, [CLI_PATH, 'journal', 'verify', join(runDir, 'admin-state.json'), '--json'])
    .then(() => ({ code: 0, stdout: '', stderr: '' }), (e: { code: number, stdout: string, stderr: string }) => e)
  t.equal(cli.code, 2)
  t.equal(cli.stdout, '')
  t.equal(cli.stderr.trim().split('\n').length, 1)
  t.notMatch(cli.stderr, /\bat .*\.js:\d+/, 'no stack trace')
})

t.test('search and export refuse the runDir instead of finding nothing in it; replay names it', async (t) => {
  const { runDir, journal } = buildRunDir(t.testdir())
  const search = await run(runSearchCommand, [runDir, '--account', 'ACC1'])
  t.equal(search.code, 2, 'search: a wrong DIR is exit 2, not "0 records"')
  t.match(search.err, /holds no journal segments/)
  const exported = await run(runExportCommand, [runDir, '--day', '20261120'])
  t.equal(exported.code, 2, 'export: exit 2, not "no records in the range"')
  t.match(exported.err, /holds no journal segments/)
  const limits = join(runDir, 'limits.json')
  writeFileSync(limits, '{}')
  const replay = await run(runReplayCommand, [runDir, '--limits', limits])
  t.equal(replay.code, 1, 'replay: exit 1, as for a journal with no trading day (journal-replay.test.ts)')
  t.match(replay.err, /holds no journal segments.*give the journal directory/, 'but it says the DIR is no journal')
  t.equal((await run(runSearchCommand, [journal, '--account', 'ACC1'])).code, 0, 'the journal itself still searches')
})

t.test('export --out never replaces an existing file unless --force', async (t) => {
  const { runDir, journal } = buildRunDir(t.testdir())
  const out = join(runDir, 'ACC1-20261120.csv')
  writeFileSync(out, 'the export handed to the regulator yesterday\n', { mode: 0o644 })
  const refused = await run(runExportCommand, [journal, '--day', '20261120', '--format', 'csv', '--out', out])
  t.equal(refused.code, 2)
  t.match(refused.err, /exists; an export does not replace a file \(give --force/)
  t.equal(readFileSync(out, 'utf8'), 'the export handed to the regulator yesterday\n', 'the existing file is untouched')

  const forced = await run(runExportCommand, [journal, '--day', '20261120', '--format', 'csv', '--out', out, '--force'])
  t.equal(forced.code, 0)
  t.equal(readFileSync(out, 'utf8').split('\r\n').length, 1 + 3 + 1, 'header, 3 rows, and the final CRLF')
  t.equal(statSync(out).mode & 0o777, 0o600, 'the replaced file is 0600 too')
  t.equal((await run(runExportCommand, [journal, '--day', '20261120', '--force'])).code, 2, '--force without --out is a usage error')
})

// A Chinese exchange's trading day starts with the night session of the
// evening before: trading day 20261120 runs from 2026-11-19 21:00 to
// 2026-11-20 15:00 Beijing (13:00Z to 07:00Z), and the evening of the 20th
// already belongs to the 23rd (a Friday night session). The lane labels
// its segments with the trading day its exchange logon announced.
t.test('--trading-day selects the exchange trading day, night session included; --day stays a UTC day', async (t) => {
  const journal = join(t.testdir(), 'journal')
  const at = (iso: string): number => Date.parse(iso) * 1000
  const lane = JournalStream.open({ stream: 'platform', root: journal, fsync: 'never' })
  const supervisor = JournalStream.open({ stream: 'supervisor', root: journal, fsync: 'never' })
  const order = (coid: number, timeUs: number): void => {
    const head = newRecordHead({ kind: RecordKind.CLIENT_IN, lane: LANE_CODES.platform, direction: Direction.IN, sessionId: 11, account: 'ACC1', msgType: CLIENT_BODY_FIELDS.newOrder! })
    lane.append(head, encodeClientEnvelope({ seq: coid, newOrder: { clientOrderId: coid, instrument: 'rb2605', side: Side.BUY, price: 3200, quantityLots: 1, timeInForce: TimeInForce.GFD } }), timeUs)
    lane.commit()
  }
  const logonStep = (timeUs: number): void => {
    supervisor.appendJson(newRecordHead({ kind: RecordKind.LOGON_STEP, lane: LANE_CODES.platform, direction: Direction.IN, sessionId: 11, account: 'ACC1' }), { step: 'logon', ok: true }, timeUs)
    supervisor.commit()
  }
  lane.setTradingDay('20261120')
  order(1, at('2026-11-19T13:05:00Z')) // night session of trading day 20261120
  logonStep(at('2026-11-19T23:59:00Z'))
  order(2, at('2026-11-20T01:30:00Z')) // day session
  lane.setTradingDay('20261123')
  order(3, at('2026-11-20T13:05:00Z')) // night session of the next trading day
  lane.close()
  supervisor.close()

  const coids = (out: string): number[] => out.trim().split('\n').map((line) => JSON.parse(line) as { kind: string, body: any })
    .map((r) => r.kind === 'client-in' ? r.body.newOrder.clientOrderId as number : -1)
  const tradingDay = await run(runSearchCommand, [journal, '--trading-day', '20261120', '--json'])
  t.equal(tradingDay.code, 0, tradingDay.err)
  t.same(coids(tradingDay.out), [1, -1, 2], 'trading day 20261120: its night session, the logon step between, its day session')
  const utcDay = await run(runSearchCommand, [journal, '--day', '20261120', '--json'])
  t.same(coids(utcDay.out), [2, 3], 'UTC day 20261120: the day session and the next trading day\'s night session, not the night session before')

  const exported = await run(runExportCommand, [journal, '--trading-day', '20261123'])
  t.equal(exported.code, 0, exported.err)
  t.same(coids(exported.out), [3], 'export by trading day')
  const missing = await run(runSearchCommand, [journal, '--trading-day', '20261121'])
  t.equal(missing.code, 2, 'a trading day the lanes never journaled is a usage error, not "0 records"')
  t.match(missing.err, /no lane journaled trading day 20261121 .*the lanes journaled 20261120, 20261123/)
  const both = await run(runSearchCommand, [journal, '--trading-day', '20261120', '--day', '20261120'])
  t.equal(both.code, 2)
  t.match(both.err, /give one of them/)
})

t.test('an account\'s search and export hold the exchange\'s reports of its orders, though a report names only the order ID', async (t) => {
  const journal = join(t.testdir(), 'journal')
  const at = (iso: string): number => Date.parse(iso) * 1000
  const lane = JournalStream.open({ stream: 'platform', root: journal, fsync: 'never' })
  const link = (kind: number, account: string, body: string, envelope: LinkEnvelopeInit, timeUs: number): void => {
    const head = newRecordHead({ kind, lane: LANE_CODES.platform, direction: kind === RecordKind.LINK_IN ? Direction.IN : Direction.OUT, sessionId: 0, account, msgType: LINK_BODY_FIELDS[body]! })
    lane.append(head, encodeLinkFrame(envelope).subarray(4), timeUs)
    lane.commit()
  }
  const order = (orderId: number, account: string): LinkEnvelopeInit => ({ seq: orderId, newOrder: { orderId, account, instrument: 'rb2605', side: Side.BUY, price: 3200, quantityLots: 1, timeInForce: TimeInForce.GFD } })
  const fill = (orderId: number): LinkEnvelopeInit => ({ seq: orderId, report: { orderId, execType: ExecType.FILL, exchangeOrderId: orderId, lastPrice: 3200, lastLots: 1, cumulativeLots: 1, leavesLots: 0 } })
  // ACC1's order goes out before the range; the exchange fills it inside it.
  link(RecordKind.LINK_OUT, '', 'newOrder', order(501, 'ACC1'), at('2026-11-20T01:00:00Z'))
  link(RecordKind.LINK_OUT, '', 'newOrder', order(502, 'ACC2'), at('2026-11-20T01:00:01Z'))
  link(RecordKind.LINK_IN, '', 'report', fill(501), at('2026-11-20T02:00:00Z'))
  link(RecordKind.LINK_IN, '', 'report', fill(502), at('2026-11-20T02:00:01Z'))
  lane.close()

  const found = await run(runSearchCommand, [journal, '--account', 'ACC1', '--from', '2026-11-20T01:30:00Z', '--to', '2026-11-20T03:00:00Z', '--json'])
  t.equal(found.code, 0, found.err)
  const records = found.out.trim().split('\n').map((line) => JSON.parse(line) as { kind: string, account: string, linkOrderId: number })
  t.same(records.map((r) => [r.kind, r.linkOrderId, r.account]), [['link-in', 501, 'ACC1']], 'the fill of ACC1\'s order, with its account; not ACC2\'s')
  const exported = await run(runExportCommand, [journal, '--day', '20261120', '--account', 'ACC2'])
  t.same(exported.out.trim().split('\n').map((line) => (JSON.parse(line) as { linkOrderId: number }).linkOrderId), [502, 502], 'export: ACC2\'s order and its fill')
})
