// search and export over a real journal: a known trading day written by
// JournalStreams ('platform' and 'supervisor') with real encoded envelopes,
// decisions and logon-step documents, plus one record on the next day.
// Each filter must find exactly its records; terminal info and passwords
// must be masked; a reveal must be journaled before it is shown; an export
// must round-trip what was encoded, as JSONL and as RFC 4180 CSV.
import t from 'tap'
import { execFile } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { CLI_PATH } from '../supervisor/exchange-sim-process.js'
import { encodeClientEnvelope } from '../protocol/client-codec.js'
import { encodeLinkFrame } from '../protocol/link-codec.js'
import { ExecType, HedgeFlag, OffsetFlag, RejectReason, Side, TimeInForce, type ClientEnvelopeInit, type LinkEnvelopeInit } from '../protocol/messages.js'
import { runExportCommand } from '../tools/journal/export-command.js'
import {
  CLIENT_BODY_FIELDS, DecisionStage, FLAG_TEXT_FRAME, LINK_BODY_FIELDS, SUPERVISOR_STREAM, TOOLS_STREAM, newDecisionScratch, writeDecision,
  type AdminChangeDocument, type LogonStepDocument,
} from '../journal/gateway-records.js'
import { readJournal } from '../journal/reader.js'
import { MASK, type DecodedRecord, type JsonObject, type JsonValue } from '../journal/record-decoder.js'
import { Direction, FLAG_JSON, LANE_CODES, LANE_NONE, RecordKind, newRecordHead, type RecordHead } from '../journal/record-format.js'
import { runSearchCommand } from '../tools/journal/search-command.js'
import type { CommandIo } from '../platform/cli-kit.js'
import { JournalStream } from '../journal/segment-writer.js'
import { verifyJournal } from '../journal/verify.js'
import { listSegments } from '../journal/segment-names.js'
import { flipByte, recordsOf } from './helpers/journal-files.js'
import { parseCsv } from './helpers/csv.js'

const execFileAsync = promisify(execFile)

/** 2026-11-20 01:30:00.000123 UTC: a µs part, so the µs in the ISO time are checked too. */
const DAY1_US = Date.UTC(2026, 10, 20, 1, 30) * 1000 + 123
const DAY2_US = Date.UTC(2026, 10, 21, 2, 0) * 1000
const PASSWORD = 'hunter2-very-secret'
const PROOF = Buffer.alloc(32, 0xab)
const TERMINAL = { terminalType: 'windows-pc', mac: '00-1A-2B-3C-4D-5E', deviceName: 'DESK-7', ips: ['10.0.0.5', '10.0.0.6'], collectFailureMask: 4, abnormal: true }
const TERMINAL_DOC = { terminalType: 'windows-pc', mac: '00-1A-2B-3C-4D-5E', deviceName: 'DESK-7', ips: ['10.0.0.5'], collectFailureMask: 4, abnormal: true }
const REJECT_TEXT = 'margin 1,500,000 > funds "1,000,000"\nsee limits'

const NEW_ORDER_7 = { clientOrderId: 7, instrument: 'IF2506', side: Side.BUY, price: 35000, quantityLots: 2, timeInForce: TimeInForce.GFD }

/** The day's records by name → "stream/seq". */
type Names = Record<string, string>

interface Day {
  root: string
  names: Names
  /** Every data record of 2026-11-20, in the order written (time order). */
  day1: string[]
}

/**
 * Writes the known day. Times advance 1 ms per record across both streams,
 * so the merged order is the order written here.
 */
function buildDay (root: string): Day {
  let now = DAY1_US
  const clockUs = (): number => now
  const platform = JournalStream.open({ stream: 'platform', root, fsync: 'never', clockUs })
  const supervisor = JournalStream.open({ stream: SUPERVISOR_STREAM, root, fsync: 'never', clockUs })
  const names: Names = {}
  const day1: string[] = []
  const lane = LANE_CODES.platform
  // Each record is given its time: the stream reads its clock once per
  // batch, and these batches hold many records a millisecond apart.
  const record = (name: string, stream: JournalStream, seq: number): void => {
    names[name] = `${stream.stream}/${seq}`
    if (now < DAY2_US) day1.push(names[name]!)
    now += 1000
  }
  const client = (name: string, kind: number, sessionId: number, account: string, envelope: ClientEnvelopeInit, body: string): void => {
    const head = newRecordHead({ kind, lane, direction: kind === RecordKind.CLIENT_IN ? Direction.IN : Direction.OUT, sessionId, account, msgType: CLIENT_BODY_FIELDS[body]! })
    record(name, platform, platform.append(head, encodeClientEnvelope(envelope), now))
  }
  const link = (name: string, kind: number, sessionId: number, account: string, envelope: LinkEnvelopeInit, body: string): void => {
    const head = newRecordHead({ kind, lane, direction: kind === RecordKind.LINK_IN ? Direction.IN : Direction.OUT, sessionId, account, msgType: LINK_BODY_FIELDS[body]! })
    record(name, platform, platform.append(head, encodeLinkFrame(envelope).subarray(4), now))
  }
  const scratch = newDecisionScratch()
  const decision = (name: string, sessionId: number, account: string, passed: boolean, reason: number, coid: number, loid: number, limit: number, observed: number): void => {
    writeDecision(scratch.bytes, scratch.f64, passed, DecisionStage.RISK, reason, passed ? 3 : -1, coid, loid, limit, observed)
    const head = newRecordHead({ kind: RecordKind.CHECK_DECISION, lane, sessionId, account, msgType: reason })
    record(name, platform, platform.append(head, scratch.bytes, now))
  }
  const step = (name: string, sessionId: number, doc: LogonStepDocument): void => {
    const head: RecordHead = newRecordHead({ kind: RecordKind.LOGON_STEP, lane, sessionId, account: doc.account ?? '' })
    record(name, supervisor, supervisor.appendJson(head, doc, now))
  }

  step('stepAuth', 11, { lane: 'platform', step: 'authenticate', ip: '203.0.113.9', account: 'ACC1', appId: 'APP-A', reason: 0, reasonName: 'REASON_UNSPECIFIED', text: '' })
  client('auth', RecordKind.CLIENT_IN, 11, '', { seq: 1, authenticate: { appId: 'APP-A', account: 'ACC1', proof: PROOF } }, 'authenticate')
  client('terminalInfo', RecordKind.CLIENT_IN, 11, '', { seq: 2, terminalInfo: TERMINAL }, 'terminalInfo')
  step('stepTerminal', 11, {
    lane: 'platform', step: 'terminal-info', ip: '203.0.113.9', account: 'ACC1', appId: 'APP-A', reason: 0, reasonName: 'REASON_UNSPECIFIED', text: '',
    terminal: TERMINAL_DOC, fingerprintId: 'f00d', newFingerprint: true,
  })
  client('logon', RecordKind.CLIENT_IN, 11, '', { seq: 3, logon: { account: 'ACC1', password: PASSWORD, cancelOnDisconnect: true } }, 'logon')
  client('logonReply', RecordKind.CLIENT_OUT, 11, 'ACC1', { seq: 1, logonReply: { ok: true, sessionId: 11, lane: 'platform', tradingDay: '20261120' } }, 'logonReply')
  client('order7', RecordKind.CLIENT_IN, 11, 'ACC1', { seq: 4, newOrder: NEW_ORDER_7 }, 'newOrder')
  decision('decision7', 11, 'ACC1', true, 0, 7, 501, Infinity, 0)
  link('linkOrder501', RecordKind.LINK_OUT, 11, 'ACC1', { seq: 1, newOrder: { orderId: 501, account: 'ACC1', instrument: 'IF2506', side: Side.BUY, price: 35000, quantityLots: 2, timeInForce: TimeInForce.GFD } }, 'newOrder')
  link('linkReport501', RecordKind.LINK_IN, 0, '', { seq: 1, report: { orderId: 501, execType: ExecType.FILL, exchangeOrderId: 9001, lastPrice: 35000, lastLots: 2, cumulativeLots: 2, leavesLots: 0, tradeId: 'T77' } }, 'report')
  client('fill7', RecordKind.CLIENT_OUT, 11, 'ACC1', {
    seq: 2,
    executionReport: {
      clientOrderId: 7, execType: ExecType.FILL, instrument: 'IF2506', side: Side.BUY, price: 35000, quantityLots: 2, lastPrice: 35000, lastLots: 2, cumulativeLots: 2,
      offsetFlag: OffsetFlag.OFFSET_OPEN, hedgeFlag: HedgeFlag.HEDGE_SPECULATION, reportSeq: 1, execId: '20261120-platform-ACC1-1', tradeId: 'T77',
    },
  }, 'executionReport')
  client('order8', RecordKind.CLIENT_IN, 11, 'ACC1', { seq: 5, newOrder: { clientOrderId: 8, instrument: 'IF2506', side: Side.SELL, price: 36000, quantityLots: 50 } }, 'newOrder')
  decision('decision8', 11, 'ACC1', false, RejectReason.INSUFFICIENT_FUNDS, 8, 0, 1_000_000, 1_500_000)
  client('rejected8', RecordKind.CLIENT_OUT, 11, 'ACC1', {
    seq: 3,
    executionReport: {
      clientOrderId: 8, execType: ExecType.REJECTED, instrument: 'IF2506', side: Side.SELL, price: 36000, quantityLots: 50,
      reason: RejectReason.INSUFFICIENT_FUNDS, text: REJECT_TEXT, limit: 1_000_000, observed: 1_500_000,
    },
  }, 'executionReport')
  step('stepRefused', 12, { lane: 'platform', step: 'logon', ip: '198.51.100.4', account: 'ACC2', appId: 'APP-B', reason: RejectReason.INVALID_CREDENTIALS, reasonName: 'INVALID_CREDENTIALS', text: 'bad password' })
  client('order7s12', RecordKind.CLIENT_IN, 12, 'ACC2', { seq: 4, newOrder: { clientOrderId: 7, instrument: 'rb2605', side: Side.SELL, price: 3512, quantityLots: 1 } }, 'newOrder')
  client('throttled', RecordKind.CLIENT_OUT, 12, 'ACC2', { seq: 2, reject: { reason: RejectReason.THROTTLED_SESSION, text: 'throttled', refSeq: 5, clientOrderId: 9, limit: 50, observed: 51 } }, 'reject')
  const admin: AdminChangeDocument = { operator: 'ops-alice', command: 'set-limit', scope: { kind: 'account', account: 'ACC1' }, before: { maxOpenOrders: 10 }, after: { maxOpenOrders: 20 } }
  record('admin', supervisor, supervisor.appendJson(newRecordHead({ kind: RecordKind.ADMIN_CHANGE, lane: LANE_NONE, account: 'ACC1' }), admin, now))
  platform.commit()
  supervisor.commit()

  // The next day: the stream rotates into a new segment by itself.
  now = DAY2_US
  client('order9day2', RecordKind.CLIENT_IN, 21, 'ACC1', { seq: 1, newOrder: { clientOrderId: 9, instrument: 'IF2506', side: Side.BUY, price: 35100, quantityLots: 1 } }, 'newOrder')
  platform.close()
  supervisor.close()
  return { root, names, day1 }
}

interface RunResult { code: number, out: string, err: string }

async function run (tool: (argv: string[], io: CommandIo) => Promise<number>, argv: string[]): Promise<RunResult> {
  let out = ''
  let err = ''
  const code = await tool(argv, { out: (s) => { out += s }, err: (s) => { err += s } })
  return { code, out, err }
}

const search = async (argv: string[]): Promise<RunResult> => run(runSearchCommand, argv)
const exportDay = async (argv: string[]): Promise<RunResult> => run(runExportCommand, argv)

function jsonLines (text: string): DecodedRecord[] {
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as DecodedRecord)
}

const keyOf = (d: DecodedRecord): string => `${d.stream}/${d.seq}`

function obj (value: JsonValue | undefined): JsonObject {
  if (value === null || value === undefined || typeof value !== 'object' || Array.isArray(value)) throw new Error(`not an object: ${JSON.stringify(value)}`)
  return value
}

t.test('each filter finds exactly its records', async (t) => {
  const { root, names: n } = buildDay(t.testdir())
  const expectKeys = async (argv: string[], expected: string[], what: string): Promise<void> => {
    const r = await search([root, ...argv, '--json'])
    t.equal(r.code, 0, `${what}: exit 0`)
    t.same(jsonLines(r.out).map(keyOf), expected.map((name) => n[name]), what)
    t.match(r.err, new RegExp(`^${expected.length} records?( \\(--limit reached\\))?\n$`), `${what}: count on stderr`)
  }
  await expectKeys(['--account', 'ACC2'], ['stepRefused', 'order7s12', 'throttled'], '--account ACC2')
  await expectKeys(['--account', 'ACC1', '--kind', 'client-in'], ['auth', 'logon', 'order7', 'order8', 'order9day2'],
    '--account matches the account a message names before the head has one (authenticate, logon)')
  await expectKeys(['--account', 'ACC1', '--kind', 'link-out'], ['linkOrder501'], '--account on a link order')
  await expectKeys(['--session', '12'], ['stepRefused', 'order7s12', 'throttled'], '--session')
  await expectKeys(['--app-id', 'APP-A'], ['stepAuth', 'auth', 'stepTerminal'], '--app-id')
  await expectKeys(['--instrument', 'rb2605'], ['order7s12'], '--instrument')
  await expectKeys(['--instrument', 'IF2506', '--day', '20261120'], ['order7', 'linkOrder501', 'fill7', 'order8', 'rejected8'], '--instrument with --day')
  await expectKeys(['--client-order-id', '7'], ['order7', 'decision7', 'fill7', 'order7s12'], '--client-order-id, across sessions')
  await expectKeys(['--client-order-id', '7', '--session', '11'], ['order7', 'decision7', 'fill7'], '--client-order-id and --session')
  await expectKeys(['--exec-id', '20261120-platform-ACC1-1'], ['fill7'], '--exec-id')
  await expectKeys(['--trade-id', 'T77'], ['linkReport501', 'fill7'], '--trade-id, in the exchange\'s report and the client\'s')
  await expectKeys(['--link-order-id', '501'], ['decision7', 'linkOrder501', 'linkReport501'], '--link-order-id')
  await expectKeys(['--reason', 'INSUFFICIENT_FUNDS'], ['decision8', 'rejected8'], '--reason by name')
  await expectKeys(['--reason', 'insufficient_funds'], ['decision8', 'rejected8'], '--reason by name, any case')
  await expectKeys(['--reason', '223'], ['decision8', 'rejected8'], '--reason by code')
  await expectKeys(['--reason', 'INVALID_CREDENTIALS'], ['stepRefused'], '--reason on a logon step')
  await expectKeys(['--reason', 'THROTTLED_SESSION'], ['throttled'], '--reason on a reject')
  await expectKeys(['--kind', 'check-decision'], ['decision7', 'decision8'], '--kind')
  await expectKeys(['--kind', 'logon-step'], ['stepAuth', 'stepTerminal', 'stepRefused'], '--kind logon-step')
  await expectKeys(['--kind', 'admin-change'], ['admin'], '--kind admin-change')
  await expectKeys(['--lane', 'none'], ['admin'], '--lane none')
  await expectKeys(['--day', '20261121'], ['order9day2'], '--day of the other day')
  // Record i of day 1 is at DAY1_US + i ms; --to is exclusive.
  await expectKeys(['--from', '2026-11-20T01:30:00.002123Z', '--to', '2026-11-20T01:30:00.004123Z'], ['terminalInfo', 'stepTerminal'], '--from/--to to the µs, --to exclusive')
  await expectKeys(['--from', '2026-11-20T09:30:00.005123+08:00', '--to', '2026-11-20T09:30:00.006123+08:00'], ['logonReply'], '--from/--to with a zone offset')
  await expectKeys(['--from', '20261121'], ['order9day2'], '--from a day alone')
  const before = await search([root, '--to', '20261120'])
  t.equal(before.code, 1, '--to alone: nothing before the day')
  await expectKeys(['--account', 'ACC1', '--limit', '2'], ['stepAuth', 'auth'], '--limit')

  const none = await search([root, '--account', 'NOBODY'])
  t.equal(none.code, 1, 'no match exits 1')
  t.equal(none.out, '')
  t.equal(none.err, '0 records\n')
})

t.test('decoded records: keys, bodies, human lines', async (t) => {
  const { root, names: n } = buildDay(t.testdir())
  const r = await search([root, '--json'])
  t.equal(r.code, 0)
  const all = jsonLines(r.out)
  const by = (name: string): DecodedRecord => all.find((d) => keyOf(d) === n[name])!
  const order7 = by('order7')
  t.same(order7, {
    time: '2026-11-20T01:30:00.006123Z',
    timeUs: DAY1_US + 6000,
    stream: 'platform',
    seq: order7.seq,
    kind: 'client-in',
    lane: 'platform',
    direction: 'in',
    sessionId: 11,
    account: 'ACC1',
    appId: '',
    instrument: 'IF2506',
    clientOrderId: 7,
    linkOrderId: 0,
    messageType: 'newOrder',
    offsetFlag: '',
    hedgeFlag: '',
    reportSeq: 0,
    execId: '',
    tradeId: '',
    reason: 0,
    reasonName: '',
    terminalInfo: 'none',
    flags: 0,
    body: { seq: 4, newOrder: { clientOrderId: 7, instrument: 'IF2506', side: 'BUY', price: 35000, quantityLots: 2, timeInForce: 'GFD' } },
  }, 'a client newOrder decodes whole, enums as names')
  t.same(by('decision8').body, {
    passed: false, stage: 'risk', reason: 'INSUFFICIENT_FUNDS', riskSlot: -1, clientOrderId: 8, linkOrderId: 0, limit: 1_000_000, observed: 1_500_000,
  }, 'a decision decodes')
  t.equal(obj(by('decision7').body).limit, null, 'no limit (+Infinity) is null in JSON')
  t.same(obj(by('linkReport501').body).report, { orderId: 501, execType: 'FILL', exchangeOrderId: 9001, lastPrice: 35000, lastLots: 2, cumulativeLots: 2, tradeId: 'T77' }, 'a link report decodes')
  t.equal(by('linkReport501').direction, 'in')
  t.equal(by('admin').messageType, 'set-limit')
  t.equal(by('admin').direction, '')
  t.equal(by('stepRefused').reasonName, 'INVALID_CREDENTIALS')
  t.equal(obj(obj(by('rejected8').body).executionReport).text, REJECT_TEXT)

  const human = await search([root, '--day', '20261120'])
  t.equal(human.code, 0)
  const lines = human.out.trimEnd().split('\n')
  t.equal(lines.length, 18, 'one line per record of the day')
  const line = (name: string): string => lines.find((l) => l.includes(` ${n[name]} `))!
  t.match(line('order7'), /^2026-11-20T01:30:00\.006123Z\s+platform\/\d+\s+client-in\s+platform <- s=11\s+ACC1\s+newOrder IF2506 BUY 2@35000 GFD coid=7$/)
  t.match(line('rejected8'), /executionReport REJECTED IF2506 SELL 50@36000 coid=8 INSUFFICIENT_FUNDS limit=1000000 observed=1500000/)
  t.match(line('decision8'), /decision refused risk INSUFFICIENT_FUNDS coid=8 limit=1000000 observed=1500000/)
  t.match(line('decision7'), /decision passed coid=7 oid=501/)
  t.match(line('throttled'), /client-out\s+platform -> s=12\s+ACC2\s+reject THROTTLED_SESSION limit=50 observed=51 coid=9 "throttled"/)
  t.match(line('linkOrder501'), /newOrder oid=501 ACC1 IF2506 BUY 2@35000 GFD/)
  t.match(line('linkReport501'), /report FILL oid=501 last=2@35000 cum=2 leaves=0 trade=T77/)
  t.match(line('fill7'), /executionReport FILL IF2506 BUY 2@35000 OFFSET_OPEN coid=7 last=2@35000 cum=2 leaves=0 trade=T77 rs=1/)
  t.match(line('stepRefused'), /logon-step logon INVALID_CREDENTIALS ip=198\.51\.100\.4 appId=APP-B "bad password"/)
  t.match(line('terminalInfo'), /terminalInfo \(masked\)/)
  t.match(line('logon'), new RegExp(`logon ACC1 password=\\*\\*\\* cancel-on-disconnect`))
})

t.test('terminal info is masked and credentials never shown', async (t) => {
  const { root, names: n } = buildDay(t.testdir())
  const r = await search([root, '--session', '11', '--json'])
  t.notMatch(r.out, PASSWORD, 'no password anywhere')
  t.notMatch(r.out, PROOF.toString('base64'), 'no proof anywhere')
  t.notMatch(r.out, /DESK-7|00-1A-2B|10\.0\.0\.5|windows-pc/, 'no terminal info anywhere')
  const all = jsonLines(r.out)
  const by = (name: string): DecodedRecord => all.find((d) => keyOf(d) === n[name])!
  t.same(obj(by('terminalInfo').body).terminalInfo, {
    terminalType: MASK, mac: MASK, deviceName: MASK, ips: [MASK], collectFailureMask: 4, abnormal: true,
  }, 'names kept, strings masked, numbers and booleans kept')
  t.equal(by('terminalInfo').terminalInfo, 'masked')
  const stepDoc = obj(by('stepTerminal').body)
  t.same(stepDoc.terminal, { terminalType: MASK, mac: MASK, deviceName: MASK, ips: [MASK], collectFailureMask: 4, abnormal: true })
  t.equal(stepDoc.ip, '203.0.113.9', 'the socket IP of a logon step is not masked')
  t.equal(stepDoc.fingerprintId, 'f00d')
  t.same(obj(by('logon').body).logon, { account: 'ACC1', password: MASK, cancelOnDisconnect: true })
  t.same(obj(by('auth').body).authenticate, { appId: 'APP-A', account: 'ACC1', proof: MASK })
  t.equal(by('order7').terminalInfo, 'none')
})

t.test('--reveal needs an operator, is journaled first, and never shows the password', async (t) => {
  const { root, names: n } = buildDay(t.testdir())
  const refused = await search([root, '--reveal', '--session', '11'])
  t.equal(refused.code, 2, '--reveal without --operator exits 2')
  t.match(refused.err, /--reveal: needs --operator NAME/)
  t.equal(refused.out, '')
  t.notOk(existsSync(join(root, TOOLS_STREAM)), 'nothing journaled for a refused command line')
  const blank = await search([root, '--reveal', '--operator', '  '])
  t.equal(blank.code, 2, 'a blank operator is no operator')

  const r = await search([root, '--session', '11', '--json', '--reveal', '--operator', 'compliance-bob', '--reason-text', 'CSRC request 2026-118'])
  t.equal(r.code, 0)
  const all = jsonLines(r.out)
  const by = (name: string): DecodedRecord => all.find((d) => keyOf(d) === n[name])!
  t.same(obj(by('terminalInfo').body).terminalInfo, TERMINAL, 'the TerminalInfo message shown whole')
  t.equal(by('terminalInfo').terminalInfo, 'revealed')
  t.same(obj(by('stepTerminal').body).terminal, TERMINAL_DOC, 'the logon step\'s terminal shown whole')
  t.notMatch(r.out, PASSWORD, 'the password stays masked under --reveal')
  t.same(obj(by('logon').body).logon, { account: 'ACC1', password: MASK, cancelOnDisconnect: true })
  t.equal(obj(obj(by('auth').body).authenticate).proof, MASK, 'the proof stays masked under --reveal')

  const reveals = [...readJournal(root, { streams: [TOOLS_STREAM] })]
  t.equal(reveals.length, 1, 'one REVEAL record in the tools stream')
  t.equal(reveals[0]!.kind, RecordKind.REVEAL)
  t.same(JSON.parse(reveals[0]!.payload.toString('utf8')), {
    operator: 'compliance-bob', reason: 'CSRC request 2026-118', filters: { session: '11' }, records: 2, tool: 'search',
  }, 'operator, reason, filters and how many records were revealed')
  t.ok(verifyJournal(root).ok, 'the journal still verifies with the tools stream in it')

  // The tools stream is a stream like any other: search reads it.
  const found = await search([root, '--kind', 'reveal'])
  t.equal(found.code, 0)
  t.match(found.out, /reveal by compliance-bob tool=search records=2 "CSRC request 2026-118"/)
  const again = await search([root, '--kind', 'reveal', '--json', '--reveal', '--operator', 'compliance-bob'])
  t.equal(again.code, 0)
  t.equal([...readJournal(root, { streams: [TOOLS_STREAM] })].length, 2, 'each reveal is journaled, even one that revealed nothing')
  t.ok(verifyJournal(root).ok)

  const streamDir = await search([join(root, 'platform'), '--reveal', '--operator', 'compliance-bob'])
  t.equal(streamDir.code, 2, '--reveal on one stream\'s directory is refused: the REVEAL record would be lost')
  t.match(streamDir.err, /--reveal: give the journal root/)
})

t.test('export of a day round-trips as JSONL and CSV', async (t) => {
  const dir = t.testdir()
  const { root, names: n, day1 } = buildDay(join(dir, 'journal'))
  const jsonl = await exportDay([root, '--day', '20261120'])
  t.equal(jsonl.code, 0)
  t.equal(jsonl.err, `${day1.length} records\n`)
  const records = jsonLines(jsonl.out)
  t.same(records.map(keyOf), day1, 'every record of the day in time order, none of the next day')
  const by = (name: string): DecodedRecord => records.find((d) => keyOf(d) === n[name])!
  t.same(obj(by('order7').body).newOrder, { ...NEW_ORDER_7, side: 'BUY', timeInForce: 'GFD' }, 'the newOrder comes back as encoded')
  t.same(obj(by('linkOrder501').body).newOrder, { orderId: 501, account: 'ACC1', instrument: 'IF2506', side: 'BUY', price: 35000, quantityLots: 2, timeInForce: 'GFD' })
  t.same(obj(by('logonReply').body).logonReply, { ok: true, sessionId: 11, lane: 'platform', tradingDay: '20261120' })
  t.same(obj(by('admin').body), { operator: 'ops-alice', command: 'set-limit', scope: { kind: 'account', account: 'ACC1' }, before: { maxOpenOrders: 10 }, after: { maxOpenOrders: 20 } })
  t.equal(by('terminalInfo').terminalInfo, 'masked', 'export masks terminal info')
  t.notMatch(jsonl.out, /DESK-7|00-1A-2B|windows-pc/)
  t.notMatch(jsonl.out, PASSWORD)

  const range = await exportDay([root, '--from', '20261120', '--to', '20261121'])
  t.equal(range.out, jsonl.out, '--from/--to of the same day gives the same export')
  const acc2 = await exportDay([root, '--day', '20261120', '--account', 'ACC2'])
  t.same(jsonLines(acc2.out).map(keyOf), ['stepRefused', 'order7s12', 'throttled'].map((name) => n[name]), '--account')
  const lane = await exportDay([root, '--day', '20261120', '--lane', 'none'])
  t.same(jsonLines(lane.out).map(keyOf), [n.admin], '--lane')

  const csvFile = join(dir, 'day.csv')
  const csv = await exportDay([root, '--day', '20261120', '--format', 'csv', '--out', csvFile])
  t.equal(csv.code, 0)
  t.equal(csv.out, '', 'nothing on stdout with --out')
  t.equal(csv.err, `${day1.length} records written to ${csvFile}\n`)
  t.equal(statSync(csvFile).mode & 0o777, 0o600, 'the file is owner-only')
  const text = readFileSync(csvFile, 'utf8')
  t.ok(text.startsWith('time,time_us,stream,seq,kind,lane,direction,session_id,account,app_id,instrument,client_order_id,link_order_id,message_type,reason_code,reason_name,summary,body_json,offset_flag,hedge_flag,report_seq,exec_id,trade_id\r\n'), 'the header')
  const rows = parseCsv(text)
  t.equal(rows.length, 1 + day1.length, 'a header and one row per record')
  t.ok(rows.every((row) => row.length === 23), 'every row has 23 fields, quoted commas and line breaks included')
  const header = rows[0]!
  const col = (row: string[], name: string): string => row[header.indexOf(name)]!
  for (let i = 0; i < records.length; i++) {
    const row = rows[i + 1]!
    const d = records[i]!
    if (`${col(row, 'stream')}/${col(row, 'seq')}` !== keyOf(d) || col(row, 'time') !== d.time || Number(col(row, 'time_us')) !== d.timeUs) {
      t.fail(`row ${i + 1} is not record ${keyOf(d)}`)
    }
    t.same(JSON.parse(col(row, 'body_json')), d.body, `row ${i + 1}: body_json parses back to the JSONL body`)
  }
  const rejected = rows.find((row) => `${col(row, 'stream')}/${col(row, 'seq')}` === n.rejected8)!
  t.equal(col(rejected, 'reason_code'), '223')
  t.equal(col(rejected, 'reason_name'), 'INSUFFICIENT_FUNDS')
  t.equal(col(rejected, 'client_order_id'), '8')
  t.equal(col(rejected, 'instrument'), 'IF2506')
  t.equal(col(rejected, 'direction'), 'out')
  t.match(col(rejected, 'summary'), /"margin 1,500,000 > funds \\"1,000,000\\"\\nsee limits"/, 'a summary with commas and quotes survives')
  t.equal(obj(obj(JSON.parse(col(rejected, 'body_json')) as JsonValue).executionReport).text, REJECT_TEXT, 'text with commas, quotes and a newline survives')
  const link = rows.find((row) => `${col(row, 'stream')}/${col(row, 'seq')}` === n.linkOrder501)!
  t.equal(col(link, 'link_order_id'), '501')
  t.equal(col(link, 'account'), 'ACC1')
})

t.test('payloads that do not decode come back as hex, never as a crash', async (t) => {
  const root = t.testdir()
  const stream = JournalStream.open({ stream: 'hft', root, fsync: 'never', clockUs: () => DAY1_US })
  const lane = LANE_CODES.hft
  const garbage = Buffer.from([0xff, 0xff, 0xff])
  stream.append(newRecordHead({ kind: RecordKind.CLIENT_IN, lane, direction: Direction.IN, sessionId: 5 }), garbage)
  stream.append(newRecordHead({ kind: RecordKind.CLIENT_IN, lane, direction: Direction.IN, sessionId: 5, flags: FLAG_TEXT_FRAME }), Buffer.from('{"logon":1}'))
  stream.append(newRecordHead({ kind: RecordKind.LINK_IN, lane, direction: Direction.IN, msgType: LINK_BODY_FIELDS.report! }), garbage)
  stream.append(newRecordHead({ kind: RecordKind.CHECK_DECISION, lane, sessionId: 5 }), garbage)
  stream.append(newRecordHead({ kind: RecordKind.LOGON_STEP, lane, sessionId: 5 }), Buffer.from('{"step":'), undefined, FLAG_JSON)
  stream.close()
  const r = await search([root, '--json'])
  t.equal(r.code, 0)
  const [client, text, linkIn, decision, step] = jsonLines(r.out)
  t.same(Object.keys(obj(client!.body)), ['undecodable', 'error'])
  t.equal(obj(client!.body).undecodable, 'ffffff', 'the payload as hex')
  t.match(obj(client!.body).error, /not a valid ClientEnvelope/)
  t.same(text!.body, { textFrame: '{"logon":1}' }, 'a text frame is shown as its text')
  t.equal(text!.messageType, 'text-frame')
  t.equal(obj(linkIn!.body).undecodable, 'ffffff')
  t.equal(linkIn!.messageType, 'report', 'the type comes from the head when the body does not decode')
  t.match(obj(decision!.body).error, /a decision is 40 bytes; this payload is 3/)
  t.equal(obj(step!.body).undecodable, Buffer.from('{"step":').toString('hex'))
  const human = await search([root])
  t.match(human.out, /undecodable \(frame is not a valid ClientEnvelope/)
})

t.test('bad command lines exit 2 naming the option; an empty range exits 1', async (t) => {
  const dir = t.testdir()
  const { root } = buildDay(join(dir, 'journal'))
  const bad: Array<[typeof search, string[], RegExp]> = [
    [search, [root, '--acount', 'ACC1'], /^gatehouse journal search: unknown option --acount\n/],
    [search, [root, '--reason', 'NOT_A_REASON'], /--reason: expected a reject reason code \(223\) or name \(INSUFFICIENT_FUNDS\); got 'NOT_A_REASON'/],
    [search, [root, '--day', '2026-11-20'], /--day: expected a day YYYYMMDD; got '2026-11-20'/],
    [search, [root, '--day', '20261131'], /--day: expected a day YYYYMMDD; got '20261131'/],
    [search, [root, '--from', 'yesterday'], /--from: expected an ISO time with a zone/],
    [search, [root, '--from', '2026-11-20T09:30:00'], /--from: expected an ISO time with a zone/],
    [search, [root, '--from', '20261121', '--to', '20261120'], /--to: must be after --from/],
    [search, [root, '--day', '20261120', '--from', '20261120'], /give either --day or --from\/--to/],
    [search, [root, '--session', 'abc'], /--session: expected a session ID, a whole number from 1; got 'abc'/],
    [search, [root, '--client-order-id', '-3'], /--client-order-id: expected a client order ID, a whole number from 1; got '-3'/],
    [search, [root, '--account', '--json'], /--account needs a value/],
    [search, [root, '--json=yes'], /--json takes no value/],
    [search, [root, '-x'], /unknown option -x/],
    [search, [root, '--limit', '0'], /--limit: expected how many records to print at most, a whole number from 1; got '0'/],
    [search, [root, '--kind', 'order'], /--kind: expected one of client-in, client-out, link-in, link-out, logon-step, check-decision, admin-change, purge, reveal, positions-carried, report-held; got 'order'/],
    [search, [root, '--lane', 'fast'], /--lane: expected one of terminal, platform, hft, none; got 'fast'/],
    [search, [root, '--account', 'A', '--account', 'B'], /--account given twice; give it once/],
    [search, [root, '--operator', 'bob'], /--operator: only used with --reveal/],
    [search, [], /give the journal directory DIR/],
    [search, [root, root], /give exactly one DIR/],
    [search, [join(dir, 'nope')], /no such directory/],
    [exportDay, [root], /give the range: --day YYYYMMDD, or --from T --to T/],
    [exportDay, [root, '--from', '20261120'], /--to: give both --from and --to/],
    [exportDay, [root, '--day', '20261120', '--format', 'xml'], /--format: expected jsonl or csv; got 'xml'/],
    [exportDay, [root, '--day', '20261120', '--reveal'], /--reveal: export never shows terminal info/],
    [exportDay, [root, '--day', '20261120', '--instrument', 'IF2506'], /unknown option --instrument/],
  ]
  for (const [tool, argv, message] of bad) {
    const r = await tool(argv)
    const what = `${tool === search ? 'search' : 'export'} ${argv.map((a) => a.startsWith(dir) ? a.slice(dir.length + 1) || 'DIR' : a).join(' ')}`
    t.equal(r.code, 2, `${what}: exit 2`)
    t.match(r.err, message, `${what}: says what is wrong`)
    t.equal(r.out, '', `${what}: prints nothing on stdout`)
  }
  const help = await search(['--help'])
  t.equal(help.code, 0)
  t.match(help.out, /^usage: gatehouse journal search DIR/)
  t.match((await exportDay(['-h'])).out, /Terminal info is always masked/)

  const outFile = join(dir, 'empty.jsonl')
  const empty = await exportDay([root, '--day', '20261122', '--out', outFile])
  t.equal(empty.code, 1, 'an empty range exits 1')
  t.equal(empty.err, 'no records in the range\n')
  t.notOk(existsSync(outFile), 'and writes no file')
})

t.test('a damaged journal stops search and export with exit 1 and points at verify', async (t) => {
  const { root } = buildDay(t.testdir())
  const [first] = listSegments(join(root, 'platform'), 'platform')
  const victim = recordsOf(first!.path).find((r) => r.kind === RecordKind.CLIENT_IN)!
  flipByte(first!.path, victim.offset + victim.length - 8)
  for (const [tool, argv] of [[runSearchCommand, [root]], [runExportCommand, [root, '--day', '20261120']]] as const) {
    const r = await run(tool, [...argv])
    t.equal(r.code, 1)
    t.match(r.err, /the journal is damaged: platform-20261120-0001\.ghj: changed at offset \d+ \(seq \d+\)/)
    t.match(r.err, /run `gatehouse journal verify/)
  }
})

t.test('the real CLI: gatehouse journal search DIR --account X --json', async (t) => {
  const { root, names: n } = buildDay(t.testdir())
  const { stdout, stderr } = await execFileAsync(process.execPath, [CLI_PATH, 'journal', 'search', root, '--account', 'ACC2', '--json'])
  t.same(jsonLines(stdout).map(keyOf), ['stepRefused', 'order7s12', 'throttled'].map((name) => n[name]))
  t.equal(jsonLines(stdout)[1]!.instrument, 'rb2605')
  t.equal(stderr, '3 records\n')
  const miss = await execFileAsync(process.execPath, [CLI_PATH, 'journal', 'search', root, '--account', 'NOBODY']).then(() => 0, (err: { code?: number }) => err.code)
  t.equal(miss, 1, 'exit 1 when nothing matched')
})
