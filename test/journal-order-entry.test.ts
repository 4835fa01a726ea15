// One record per new order that goes out: the lane's journal writes a
// new order's client-in, its passing decision and its link-out as one
// ORDER_ENTRY record when they come back to back, and as the separate
// records otherwise; the reader yields the same records either way. A
// property test drives LaneJournal (on a real stream in a temp dir) with
// random sequences of what a lane journals and commits, and checks that
// what reads back is exactly the sequence of logical records, in order,
// and that every order that went out cleanly cost one record on disk.
import t from 'tap'
import fc from 'fast-check'
import { join } from 'node:path'
import { LaneJournal, type SessionJournalHeads } from '../lane/lane-journal.js'
import { readStream } from '../journal/reader.js'
import { verifyJournal } from '../journal/verify.js'
import { RecordKind, recordKindName } from '../journal/record-format.js'
import { CLIENT_BODY_FIELDS, DecisionStage, FLAG_DIGEST, LINK_BODY_FIELDS, decodeDecision } from '../journal/gateway-records.js'
import { ManualClock } from './helpers/journal-files.js'
import { recordsOf } from './helpers/journal-files.js'
import { listSegments } from '../journal/segment-names.js'

const NEW_ORDER = CLIENT_BODY_FIELDS.newOrder!
const LINK_NEW_ORDER = LINK_BODY_FIELDS.newOrder!

/** What a lane may journal next; `s` picks one of two sessions. */
type Step =
  | { op: 'clientIn', s: number, msgType: number, digest: boolean, bytes: Uint8Array }
  | { op: 'decision', s: number, passed: boolean }
  | { op: 'linkOut', s: number | null, order: boolean, bytes: Uint8Array }
  | { op: 'clientOut', s: number, bytes: Uint8Array }
  | { op: 'linkIn', bytes: Uint8Array }
  | { op: 'commit' }

const bytesArb = fc.uint8Array({ minLength: 1, maxLength: 80 })
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('clientIn' as const), s: fc.nat(1), msgType: fc.constantFrom(NEW_ORDER, NEW_ORDER, CLIENT_BODY_FIELDS.cancelOrder!), digest: fc.boolean(), bytes: bytesArb }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('decision' as const), s: fc.nat(1), passed: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('linkOut' as const), s: fc.option(fc.nat(1), { nil: null }), order: fc.boolean(), bytes: bytesArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('clientOut' as const), s: fc.nat(1), bytes: bytesArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('linkIn' as const), bytes: bytesArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('commit' as const) }) },
)

/** A logical record as the reader should yield it. */
interface Logical { kind: string, sessionId: number, msgType: number, payload: string }

/** The usual order of a new order that goes out, so the property sees many of them. */
function orderGoesOut (s: number, bytes: Uint8Array, linkBytes: Uint8Array): Step[] {
  return [
    { op: 'clientIn', s, msgType: NEW_ORDER, digest: false, bytes },
    { op: 'decision', s, passed: true },
    { op: 'linkOut', s, order: true, bytes: linkBytes },
  ]
}
const runArb = fc.array(fc.oneof(
  stepArb.map((x) => [x]),
  fc.tuple(fc.nat(1), bytesArb, bytesArb).map(([s, a, b]) => orderGoesOut(s, a, b)),
), { maxLength: 40 }).map((xs) => xs.flat())

function hex (b: Uint8Array): string {
  return Buffer.from(b).toString('hex')
}

function run (root: string, steps: Step[]): { expected: Logical[], lj: LaneJournal } {
  const clock = new ManualClock()
  const lj = new LaneJournal({ lane: 'platform', root, fsync: 'never', maxSegmentBytes: 64 * 1024 * 1024, clockUs: clock.read })
  const heads: SessionJournalHeads[] = [lj.sessionHeads(7), lj.sessionHeads(8)]
  heads[0]!.clientIn.account = heads[0]!.clientOut.account = heads[0]!.decision.account = heads[0]!.linkOut.account = heads[0]!.orderEntry.account = 'A7'
  heads[1]!.clientIn.account = heads[1]!.clientOut.account = heads[1]!.decision.account = heads[1]!.linkOut.account = heads[1]!.orderEntry.account = 'A8'
  const expected: Logical[] = []
  const decisionPayloads: string[] = []
  let clientOrderId = 0
  for (const step of steps) {
    clock.nowUs += 3
    switch (step.op) {
      case 'clientIn':
        lj.clientIn(heads[step.s]!, step.bytes, step.msgType, step.digest ? FLAG_DIGEST : 0, clock.nowUs)
        expected.push({ kind: 'client-in', sessionId: 7 + step.s, msgType: step.msgType, payload: hex(step.bytes) })
        break
      case 'decision': {
        clientOrderId++
        lj.decision(heads[step.s]!, step.passed, step.passed ? DecisionStage.RISK : DecisionStage.VALIDITY, step.passed ? 0 : 7, step.passed ? 3 : -1, clientOrderId, step.passed ? 100 + clientOrderId : 0, 0, 0)
        expected.push({ kind: 'check-decision', sessionId: 7 + step.s, msgType: step.passed ? 0 : 7, payload: `decision ${clientOrderId}` })
        decisionPayloads.push(String(clientOrderId))
        break
      }
      case 'linkOut': {
        const envelope = step.order ? { newOrder: {} } : { cancel: {} }
        lj.linkOut(step.s === null ? null : heads[step.s]!, step.bytes, envelope)
        expected.push({ kind: 'link-out', sessionId: step.s === null ? 0 : 7 + step.s, msgType: step.order ? LINK_NEW_ORDER : LINK_BODY_FIELDS.cancel!, payload: hex(step.bytes) })
        break
      }
      case 'clientOut':
        lj.clientOut(heads[step.s]!, step.bytes, CLIENT_BODY_FIELDS.executionReport!)
        expected.push({ kind: 'client-out', sessionId: 7 + step.s, msgType: CLIENT_BODY_FIELDS.executionReport!, payload: hex(step.bytes) })
        break
      case 'linkIn':
        lj.linkIn(step.bytes, null)
        expected.push({ kind: 'link-in', sessionId: 0, msgType: 0, payload: hex(step.bytes) })
        break
      case 'commit':
        if (!lj.commit()) throw new Error('commit failed')
        break
    }
  }
  return { expected, lj }
}

function readBack (root: string): Logical[] {
  return [...readStream(join(root, 'platform'), 'platform')].map((r) => ({
    kind: recordKindName(r.kind),
    sessionId: r.sessionId,
    msgType: r.msgType,
    payload: r.kind === RecordKind.CHECK_DECISION ? `decision ${decodeDecision(r.payload)!.clientOrderId}` : r.payload.toString('hex'),
  }))
}

t.test('a new order that goes out is one record on disk and reads back as its three', async (t) => {
  const root = t.testdir()
  const { lj } = run(root, orderGoesOut(0, Buffer.from('client-frame'), Buffer.from('link-frame')))
  lj.close()
  const path = listSegments(join(root, 'platform'), 'platform')[0]!.path
  t.same(recordsOf(path).map((r) => recordKindName(r.kind)), ['segment-header', 'order-entry', 'segment-seal'])
  const read = [...readStream(join(root, 'platform'), 'platform')]
  t.same(read.map((r) => [recordKindName(r.kind), r.part, r.msgType, r.sessionId, r.account]), [
    ['client-in', 1, NEW_ORDER, 7, 'A7'],
    ['check-decision', 2, 0, 7, 'A7'],
    ['link-out', 3, LINK_NEW_ORDER, 7, 'A7'],
  ])
  t.equal(read[0]!.payload.toString(), 'client-frame')
  t.equal(read[2]!.payload.toString(), 'link-frame')
  t.same(decodeDecision(read[1]!.payload), { passed: true, stage: DecisionStage.RISK, reason: 0, riskSlot: 3, clientOrderId: 1, linkOrderId: 101, limit: 0, observed: 0 })
  t.equal(new Set(read.map((r) => r.seq)).size, 1, 'the parts share the record\'s seq')
  t.ok(verifyJournal(root, { requireSealed: true }).ok)
})

t.test('a commit between the decision and the link order writes them as separate records, before the write', async (t) => {
  const root = t.testdir()
  const clock = new ManualClock()
  const lj = new LaneJournal({ lane: 'platform', root, fsync: 'never', maxSegmentBytes: 64 * 1024 * 1024, clockUs: clock.read })
  const h = lj.sessionHeads(7)
  lj.clientIn(h, Buffer.from('c'), NEW_ORDER, 0, clock.nowUs)
  lj.decision(h, true, DecisionStage.RISK, 0, 1, 1, 1, 0, 0)
  lj.commit()
  const path = listSegments(join(root, 'platform'), 'platform')[0]!.path
  // Write-ahead: what was journaled is on disk once commit() returns, held or not.
  t.same(recordsOf(path).map((r) => recordKindName(r.kind)), ['segment-header', 'client-in', 'check-decision'])
  lj.linkOut(h, Buffer.from('l'), { newOrder: {} })
  lj.close()
  t.same(recordsOf(path).map((r) => recordKindName(r.kind)), ['segment-header', 'client-in', 'check-decision', 'link-out', 'segment-seal'])
})

t.test('any sequence of what a lane journals reads back as itself, in order (fast-check)', async (t) => {
  const base = t.testdir()
  let n = 0
  fc.assert(fc.property(runArb, (steps) => {
    const root = join(base, `run-${n++}`)
    const { expected, lj } = run(root, steps)
    lj.close()
    const read = readBack(root)
    if (JSON.stringify(read) !== JSON.stringify(expected)) {
      t.same(read, expected)
      return false
    }
    // Each clean new order (client-in, passed decision, link order, back to
    // back, same session) is one record on disk.
    let merged = 0
    for (let i = 0; i + 2 < steps.length; i++) {
      const [a, b, c] = [steps[i]!, steps[i + 1]!, steps[i + 2]!]
      if (a.op === 'clientIn' && a.msgType === NEW_ORDER && !a.digest && b.op === 'decision' && b.passed && b.s === a.s &&
        c.op === 'linkOut' && c.order && c.s === a.s) merged++
    }
    const onDisk = listSegments(join(root, 'platform'), 'platform').flatMap((s) => recordsOf(s.path)).filter((r) => r.kind === RecordKind.ORDER_ENTRY).length
    return onDisk === merged && verifyJournal(root, { requireSealed: true }).ok
  }), { numRuns: 150, interruptAfterTimeLimit: 8000 })
})
