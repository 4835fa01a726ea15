// The published conformance suite of `gatehouse certify` (docs/certification.md
// lists its steps; CERTIFICATION_SUITE_VERSION names this version of them).
// It runs against a gateway's test environment as one AppID, with only
// what a vendor holds: the lane URL, a test account and its password, a
// second test account to trade against, the AppID and its AuthCode, and
// the terminal info of the machine it runs on. Each step records what it
// expected and what it saw; a step that throws or times out fails with
// what it was waiting for. The suite always runs every step (later steps
// do not depend on earlier ones passing), so a report names every failure.
//
// The client under test is the Gatehouse client library, driven through
// CertifyClientBehaviour where a client has a choice to make (asking for
// cancel-on-disconnect, asking for a resend after a reconnect). A vendor
// whose software has its own client runs the same steps in it; the tests
// run the suite with deliberately broken behaviour to prove each step can
// fail.
import { setTimeout as delay } from 'node:timers/promises'
import { GatehouseClient, type ConnectOptions, type ResendResult, type TerminalInfoInit } from '../../client/gatehouse-client.js'
import { ExecType, OffsetFlag, OrderState, PositionDirection, Side, reasonName, wireInt, type ClientEnvelope, type ExecutionReport, type Instrument } from '../../protocol/messages.js'
import { CERTIFICATION_REPORT_FORMAT, CERTIFICATION_SUITE_VERSION, type CertificationReport, type CertificationStep } from '../../protocol/certification-report.js'

/** The reject reason families of docs/errors.md / common.proto, by code range. */
export const REJECT_FAMILIES = {
  logon: { from: 20, to: 99 },
  validity: { from: 100, to: 199 },
  throttle: { from: 200, to: 219 },
  account: { from: 220, to: 239 },
  state: { from: 240, to: 259 },
  regulatory: { from: 260, to: 299 },
} as const

export interface CertifyOptions {
  /** A lane of the gateway's test environment, e.g. ws://127.0.0.1:7002. */
  url: string
  appId: string
  authCode: string
  account: string
  password: string
  /** A second test account bound to the same AppID, the other side of the fills. */
  counterparty: string
  counterpartyPassword: string
  terminalInfo: TerminalInfoInit
  /** The instrument to trade; default: the first one listed that is trading. */
  instrument?: string
  /** How long any one expected message is waited for. */
  timeoutMs: number
  connect?: ConnectOptions
}

/** Where a client has a choice to make, and the suite checks what it made. */
export interface CertifyClientBehaviour {
  /** Whether the client asks for cancel-on-disconnect at logon when it wants it. */
  asksCancelOnDisconnect: boolean
  /** What the client does after a reconnect to recover the reports it missed; null: it asks nothing. */
  recoverReports: (client: GatehouseClient, afterReportSeq: number, timeoutMs: number) => Promise<ResendResult | null>
}

/** A conformant client: what the Gatehouse client library does. */
export const CONFORMANT_CLIENT: CertifyClientBehaviour = Object.freeze({
  asksCancelOnDisconnect: true,
  recoverReports: (client: GatehouseClient, afterReportSeq: number, timeoutMs: number) => client.resend(afterReportSeq, timeoutMs),
})

/** Step IDs in order: docs/certification.md documents each (test/certify-suite.test.ts holds the two together). */
export const SUITE_STEPS = [
  { id: 'logon', title: 'Look-through logon: authenticate (AppID, AuthCode proof), terminal info, login' },
  { id: 'order-fill-cancel', title: 'An order is acknowledged and filled against the counterparty; a resting order is cancelled' },
  { id: 'reject-logon', title: 'Logon family: a wrong password is refused with a logon reason, and nothing else is said' },
  { id: 'reject-validity', title: 'Validity family: unknown instrument, zero quantity, duplicate client order ID, cancel of an unknown order' },
  { id: 'reject-account', title: 'Account family: a close larger than the position is refused' },
  { id: 'reject-regulatory', title: 'Regulatory family: an order crossing the account\'s own resting order is refused (self-match prevention)' },
  { id: 'throttle', title: 'Session throttle: past the message rate, THROTTLED_SESSION with limit and count; admitted again once the rate falls' },
  { id: 'reconnect-resend', title: 'Reconnect and resend: a fill that happened while disconnected comes back on ResendRequest after the last report seen' },
  { id: 'cancel-on-disconnect', title: 'Cancel-on-disconnect: a session that asked for it has its working order cancelled when its connection drops' },
] as const

export type SuiteStepId = typeof SUITE_STEPS[number]['id']

/**
 * Thrown by a step that saw something other than it expected: the text is
 * the report's `seen`. Not an Error: it is the step's verdict, never a
 * fault of Gatehouse's, and carries no code (the runner catches every one).
 */
class StepFailure {
  constructor (readonly seen: string) {}
}

/** What one step body returns: what it saw (it passed). It throws StepFailure (or anything) to fail. */
type StepBody = () => Promise<string>

interface Context {
  options: CertifyOptions
  behaviour: CertifyClientBehaviour
  instrument: Instrument | null
  nextOrderId: number
  clients: Set<GatehouseClient>
}

function fail (seen: string): never {
  throw new StepFailure(seen)
}

function familyOf (reason: number): string {
  for (const [name, range] of Object.entries(REJECT_FAMILIES)) if (reason >= range.from && reason <= range.to) return name
  return 'other'
}

function describeReason (reason: number): string {
  return `${reasonName(reason)} (${reason}, ${familyOf(reason)} family)`
}

async function connect (ctx: Context): Promise<GatehouseClient> {
  const client = await GatehouseClient.connect(ctx.options.url, { handshakeTimeoutMs: ctx.options.timeoutMs, ...ctx.options.connect })
  ctx.clients.add(client)
  client.on('close', () => { ctx.clients.delete(client) })
  // A transport error closes the socket; the step waiting sees the close.
  client.on('transport-error', () => {})
  return client
}

async function logOn (ctx: Context, who: 'account' | 'counterparty', cancelOnDisconnect = false): Promise<GatehouseClient> {
  const { options } = ctx
  const client = await connect(ctx)
  const account = who === 'account' ? options.account : options.counterparty
  const password = who === 'account' ? options.password : options.counterpartyPassword
  const reply = await client.logon(account, password, { appId: options.appId, authCode: options.authCode, terminalInfo: options.terminalInfo, cancelOnDisconnect })
  if (!reply.ok) {
    await client.close()
    fail(`logon of ${account} refused at ${reply.failedStep ?? 'logon'}: ${describeReason(reply.reason)}: ${reply.text}`)
  }
  if (ctx.instrument === null) {
    const listed = reply.instruments as Instrument[]
    const chosen = options.instrument === undefined ? listed[0] : listed.find((i) => i.symbol === options.instrument)
    if (chosen === undefined) fail(options.instrument === undefined ? 'the logon reply listed no instrument (is the exchange link up?)' : `instrument ${options.instrument} is not listed`)
    ctx.instrument = chosen
  }
  return client
}

function instrumentOf (ctx: Context): Instrument {
  if (ctx.instrument === null) fail('no instrument: the logon step never completed')
  return ctx.instrument
}

/** The instrument's reference price on its tick, and prices n ticks away (kept inside the limits). */
function prices (instrument: Instrument): { at: (ticks: number) => number, tick: number } {
  const tick = wireInt(instrument.tickSize)
  const reference = Math.round(wireInt(instrument.referencePrice) / tick) * tick
  const low = wireInt(instrument.lowerLimitPrice)
  const high = wireInt(instrument.upperLimitPrice)
  return { tick, at: (ticks) => Math.min(high, Math.max(low, reference + ticks * tick)) }
}

/** The first message received at or after index `from` that matches, waiting up to timeoutMs. */
function since (client: GatehouseClient, from: number, match: (m: ClientEnvelope) => boolean, timeoutMs: number): Promise<ClientEnvelope> {
  const seen = client.received.slice(from).find(match)
  return seen !== undefined ? Promise.resolve(seen) : client.nextNew(match, timeoutMs)
}

/**
 * Waits for an order's report of one of execTypes (or its REJECTED, which
 * fails the step), among what arrived since `from` (client.received.length
 * taken before the order or cancel was sent).
 */
async function expectReport (ctx: Context, client: GatehouseClient, clientOrderId: number, execTypes: readonly number[], what: string, from: number): Promise<ExecutionReport> {
  try {
    const envelope = await since(client, from, (m) => m.body === 'executionReport' && wireInt(m.executionReport!.clientOrderId) === clientOrderId &&
      (execTypes.includes(m.executionReport!.execType ?? 0) || m.executionReport!.execType === ExecType.REJECTED), ctx.options.timeoutMs)
    const report = envelope.executionReport as ExecutionReport
    if (!execTypes.includes(report.execType)) fail(`${what}: order ${clientOrderId} was REJECTED with ${describeReason(report.reason)}: ${report.text}`)
    return report
  } catch (err) {
    if (err instanceof StepFailure) throw err
    fail(`${what}: no ${execTypes.map((t) => ExecType[t]).join(' or ')} report of order ${clientOrderId} within ${ctx.options.timeoutMs} ms${client.isClosed ? ' (the connection closed)' : ''}`)
  }
}

/** The reject of a message: an ExecutionReport REJECTED of the order, or a Reject of the message's seq. */
async function expectRefusal (ctx: Context, client: GatehouseClient, seq: number, clientOrderId: number, what: string, from: number): Promise<number> {
  let envelope: ClientEnvelope
  try {
    envelope = await since(client, from, (m) => (m.body === 'reject' && wireInt(m.reject!.refSeq) === seq) ||
      (m.body === 'executionReport' && clientOrderId !== 0 && wireInt(m.executionReport!.clientOrderId) === clientOrderId), ctx.options.timeoutMs)
  } catch {
    fail(`${what}: no answer within ${ctx.options.timeoutMs} ms${client.isClosed ? ' (the connection closed)' : ''}`)
  }
  if (envelope.body === 'reject') return envelope.reject!.reason ?? 0
  const report = envelope.executionReport as ExecutionReport
  if (report.execType !== ExecType.REJECTED) fail(`${what}: expected a refusal, got ${ExecType[report.execType] ?? report.execType}`)
  return report.reason
}

/** The session still answers: a heartbeat comes back. */
async function stillAnswers (ctx: Context, client: GatehouseClient, what: string): Promise<void> {
  const testId = ++ctx.nextOrderId
  const answer = client.next((m) => m.body === 'heartbeat' && wireInt(m.heartbeat!.testId) === testId, ctx.options.timeoutMs)
  client.send({ heartbeat: { testId } })
  try {
    await answer
  } catch {
    fail(`${what}: the session stopped answering heartbeats${client.isClosed ? ' (the connection closed)' : ''}`)
  }
}

function steps (ctx: Context): Record<SuiteStepId, { expected: string, body: StepBody }> {
  const oid = (): number => ++ctx.nextOrderId
  const { options } = ctx
  return {
    logon: {
      expected: `both test accounts log on as AppID ${options.appId}; the reply lists the instruments`,
      body: async () => {
        const a = await logOn(ctx, 'account')
        const b = await logOn(ctx, 'counterparty')
        const listed = instrumentOf(ctx)
        await Promise.all([a.logout(), b.logout()])
        return `logged on as ${options.account} and ${options.counterparty}; trading ${listed.symbol}`
      },
    },
    'order-fill-cancel': {
      expected: 'SELL rests (ACK); the counterparty\'s BUY at its price is ACKed and FILLed, and the SELL is FILLed; a low BID is ACKed, then CANCELLED on request',
      body: async () => {
        const a = await logOn(ctx, 'account')
        const b = await logOn(ctx, 'counterparty')
        const instrument = instrumentOf(ctx)
        const p = prices(instrument)
        const sell = oid()
        const fromA = a.received.length
        a.newOrder({ clientOrderId: sell, instrument: instrument.symbol, side: Side.SELL, price: p.at(0), quantityLots: 1 })
        await expectReport(ctx, a, sell, [ExecType.ACK], 'the SELL', fromA)
        const buy = oid()
        const fromB = b.received.length
        b.newOrder({ clientOrderId: buy, instrument: instrument.symbol, side: Side.BUY, price: p.at(0), quantityLots: 1 })
        await expectReport(ctx, b, buy, [ExecType.FILL], 'the counterparty\'s BUY', fromB)
        const filled = await expectReport(ctx, a, sell, [ExecType.FILL], 'the SELL\'s fill', fromA)
        const bid = oid()
        const fromBid = a.received.length
        a.newOrder({ clientOrderId: bid, instrument: instrument.symbol, side: Side.BUY, price: p.at(-10), quantityLots: 1 })
        await expectReport(ctx, a, bid, [ExecType.ACK], 'the low BID', fromBid)
        a.cancel(bid)
        await expectReport(ctx, a, bid, [ExecType.CANCELLED], 'the cancel of the low BID', fromBid)
        await Promise.all([a.logout(), b.logout()])
        return `SELL ${sell} filled ${filled.lastLots} @ ${wireInt(filled.lastPrice)} (trade ${filled.tradeId}); BID ${bid} acknowledged and cancelled`
      },
    },
    'reject-logon': {
      expected: 'a login with a wrong password is refused with a logon-family reason',
      body: async () => {
        const client = await connect(ctx)
        const reply = await client.logon(options.account, `${options.password}-not`, { appId: options.appId, authCode: options.authCode, terminalInfo: options.terminalInfo })
        if (!client.isClosed) await client.close()
        if (reply.ok) fail('a wrong password was accepted')
        if (familyOf(reply.reason) !== 'logon') fail(`refused with ${describeReason(reply.reason)}, not a logon-family reason`)
        return `refused at ${reply.failedStep ?? 'logon'} with ${describeReason(reply.reason)}`
      },
    },
    'reject-validity': {
      expected: 'each refused with a validity-family reason (UNKNOWN_INSTRUMENT, INVALID_QUANTITY, DUPLICATE_CLIENT_ORDER_ID, UNKNOWN_ORDER), the session still answering',
      body: async () => {
        const a = await logOn(ctx, 'account')
        const instrument = instrumentOf(ctx)
        const p = prices(instrument)
        const seen: string[] = []
        const check = async (what: string, send: () => number, clientOrderId: number, expected: number): Promise<void> => {
          const from = a.received.length
          const reason = await expectRefusal(ctx, a, send(), clientOrderId, what, from)
          if (familyOf(reason) !== 'validity') fail(`${what}: refused with ${describeReason(reason)}, not a validity-family reason`)
          if (reason !== expected) fail(`${what}: refused with ${describeReason(reason)}; expected ${describeReason(expected)}`)
          seen.push(`${what}: ${reasonName(reason)}`)
        }
        let id = oid()
        await check('unknown instrument', () => a.newOrder({ clientOrderId: id, instrument: 'NO-SUCH-INSTRUMENT', side: Side.BUY, price: p.at(0), quantityLots: 1 }), id, 100)
        id = oid()
        await check('zero quantity', () => a.newOrder({ clientOrderId: id, instrument: instrument.symbol, side: Side.BUY, price: p.at(-10), quantityLots: 0 }), id, 104)
        id = oid()
        const fromFirst = a.received.length
        a.newOrder({ clientOrderId: id, instrument: instrument.symbol, side: Side.BUY, price: p.at(-10), quantityLots: 1 })
        await expectReport(ctx, a, id, [ExecType.ACK], 'the first order with its ID', fromFirst)
        // Counted from after the ACK: the REJECTED of the same ID is the duplicate's.
        await check('duplicate client order ID', () => a.newOrder({ clientOrderId: id, instrument: instrument.symbol, side: Side.BUY, price: p.at(-10), quantityLots: 1 }), id, 106)
        const fromCancel = a.received.length
        a.cancel(id)
        await expectReport(ctx, a, id, [ExecType.CANCELLED], 'the cancel of that order', fromCancel)
        const unknown = oid()
        await check('cancel of an unknown order', () => a.cancel(unknown), 0, 108)
        await stillAnswers(ctx, a, 'after the refusals')
        await a.logout()
        return seen.join('; ')
      },
    },
    'reject-account': {
      expected: 'a SELL OFFSET_CLOSE of one lot more than the account holds long is refused with an account-family reason (CLOSE_EXCEEDS_POSITION)',
      body: async () => {
        const a = await logOn(ctx, 'account')
        const instrument = instrumentOf(ctx)
        const id = oid()
        // One lot more than the account holds long (earlier runs may have left some).
        const held = (await a.positions(instrument.symbol)).filter((p) => p.direction === PositionDirection.DIRECTION_LONG)
          .reduce((sum, p) => sum + p.todayLots + p.yesterdayLots, 0)
        const from = a.received.length
        const seq = a.newOrder({ clientOrderId: id, instrument: instrument.symbol, side: Side.SELL, price: prices(instrument).at(0), quantityLots: held + 1, offsetFlag: OffsetFlag.OFFSET_CLOSE })
        const reason = await expectRefusal(ctx, a, seq, id, 'the oversized close', from)
        if (familyOf(reason) !== 'account') fail(`refused with ${describeReason(reason)}, not an account-family reason`)
        await stillAnswers(ctx, a, 'after the refusal')
        await a.logout()
        return `a close of ${held + 1} lot(s) against ${held} held long: refused with ${describeReason(reason)}`
      },
    },
    'reject-regulatory': {
      expected: 'a BUY crossing the account\'s own resting SELL is refused with SELF_MATCH_PREVENTED (or, where the gateway cancels the resting order instead, the SELL is CANCELLED)',
      body: async () => {
        const a = await logOn(ctx, 'account')
        const instrument = instrumentOf(ctx)
        const p = prices(instrument)
        const sell = oid()
        const fromSell = a.received.length
        a.newOrder({ clientOrderId: sell, instrument: instrument.symbol, side: Side.SELL, price: p.at(5), quantityLots: 1 })
        await expectReport(ctx, a, sell, [ExecType.ACK], 'the resting SELL', fromSell)
        const buy = oid()
        const fromBuy = a.received.length
        const seq = a.newOrder({ clientOrderId: buy, instrument: instrument.symbol, side: Side.BUY, price: p.at(5), quantityLots: 1 })
        const answer = await since(a, fromBuy, (m) => (m.body === 'reject' && wireInt(m.reject!.refSeq) === seq) ||
          (m.body === 'executionReport' && [buy, sell].includes(wireInt(m.executionReport!.clientOrderId)) && m.executionReport!.execType !== ExecType.ACK), options.timeoutMs)
          .catch(() => fail(`no answer to the crossing BUY within ${options.timeoutMs} ms`))
        const report = answer.executionReport as ExecutionReport | null | undefined
        let seen: string
        if (answer.body === 'reject') seen = `refused with ${describeReason(answer.reject!.reason ?? 0)}`
        else if (report!.execType === ExecType.REJECTED && wireInt(report!.clientOrderId) === buy) seen = `refused with ${describeReason(report!.reason)}`
        else if (report!.execType === ExecType.CANCELLED && wireInt(report!.clientOrderId) === sell) seen = 'the resting SELL was cancelled (cancel-resting)'
        else fail(`the crossing BUY was not prevented: order ${wireInt(report!.clientOrderId)} got ${ExecType[report!.execType] ?? report!.execType}`)
        if (seen.startsWith('refused') && !seen.includes('SELF_MATCH_PREVENTED')) fail(`${seen}; expected SELF_MATCH_PREVENTED (260, regulatory family)`)
        // Leave nothing working: cancel both (a cancel of a finished order is refused, which is fine).
        a.cancel(sell)
        a.cancel(buy)
        await stillAnswers(ctx, a, 'after the refusal')
        await a.logout()
        return seen
      },
    },
    throttle: {
      expected: 'heartbeats sent in growing batches are answered until the session throttle refuses one with THROTTLED_SESSION (limit and observed count set); after the window, one is answered again',
      body: async () => {
        const a = await logOn(ctx, 'account')
        const started = Date.now()
        let sent = 0
        let refusal: { limit: number, observed: number, reason: number } | null = null
        // In batches, each answered before the next goes: a batch is refused
        // at most whole, fewer messages than the gateway's cut-off for a
        // session that ignores its refusals (docs/client-budgets.md), and the
        // probe stops at the first refusal. Batches grow so a high limit is
        // still passed within one throttle window.
        let batch = 8
        while (refusal === null && sent < 20_000 && Date.now() - started < 3000) {
          const pending: Array<Promise<ClientEnvelope>> = []
          for (let i = 0; i < batch; i++) {
            const testId = ++ctx.nextOrderId
            const from = a.received.length
            const seq = a.send({ heartbeat: { testId } })
            sent++
            pending.push(since(a, from, (m) => (m.body === 'heartbeat' && wireInt(m.heartbeat!.testId) === testId) || (m.body === 'reject' && wireInt(m.reject!.refSeq) === seq), options.timeoutMs))
          }
          const answers = await Promise.all(pending).catch(() => fail(`a heartbeat of ${sent} sent was not answered within ${options.timeoutMs} ms${a.isClosed ? ' (the connection closed)' : ''}`))
          const refused = answers.find((m) => m.body === 'reject')
          if (refused !== undefined) refusal = { reason: refused.reject!.reason ?? 0, limit: wireInt(refused.reject!.limit), observed: wireInt(refused.reject!.observed) }
          batch = Math.min(64, batch * 2)
        }
        if (refusal === null) fail(`${sent} heartbeats in ${Date.now() - started} ms were all answered: no session throttle seen`)
        if (refusal.reason !== 200) fail(`refused with ${describeReason(refusal.reason)}; expected THROTTLED_SESSION (200)`)
        if (!(refusal.limit > 0 && refusal.observed > refusal.limit)) fail(`THROTTLED_SESSION carried limit ${refusal.limit} and observed ${refusal.observed}; expected observed above a positive limit`)
        // The throttle's window is one second: past it the rate has fallen.
        await delay(1100)
        await stillAnswers(ctx, a, 'after the throttle window')
        await a.logout()
        return `THROTTLED_SESSION after ${sent} messages (limit ${refusal.limit}/s, observed ${refusal.observed}); answered again after the window`
      },
    },
    'reconnect-resend': {
      expected: 'a BID rests (ACK, report seq N); the connection drops; the counterparty fills the BID; after logging on again, the resend after report N brings its FILL, then ResendComplete',
      body: async () => {
        let a = await logOn(ctx, 'account')
        const instrument = instrumentOf(ctx)
        const p = prices(instrument)
        const bid = oid()
        const fromBid = a.received.length
        a.newOrder({ clientOrderId: bid, instrument: instrument.symbol, side: Side.BUY, price: p.at(0), quantityLots: 1 })
        const ack = await expectReport(ctx, a, bid, [ExecType.ACK], 'the BID', fromBid)
        const lastSeen = wireInt(ack.reportSeq)
        const reports = a.reports
        await a.close()
        const b = await logOn(ctx, 'counterparty')
        const sell = oid()
        const fromSell = b.received.length
        b.newOrder({ clientOrderId: sell, instrument: instrument.symbol, side: Side.SELL, price: p.at(0), quantityLots: 1 })
        await expectReport(ctx, b, sell, [ExecType.FILL], 'the counterparty\'s SELL into the BID', fromSell)
        await b.logout()
        a = await GatehouseClient.connect(options.url, { ...options.connect, reports })
        ctx.clients.add(a)
        a.on('close', () => { ctx.clients.delete(a) })
        const reply = await a.logon(options.account, options.password, { appId: options.appId, authCode: options.authCode, terminalInfo: options.terminalInfo })
        if (!reply.ok) fail(`logging on again refused: ${describeReason(reply.reason)}`)
        const resent = await ctx.behaviour.recoverReports(a, lastSeen, options.timeoutMs)
          .catch((err: unknown) => fail(`the resend after report ${lastSeen} failed: ${(err as Error).message}`))
        if (resent === null) fail(`the client asked for no resend after reconnecting: the FILL of BID ${bid} (after report ${lastSeen}) was never seen`)
        const fill = resent.reports.find((r) => wireInt(r.clientOrderId) === bid && r.execType === ExecType.FILL)
        if (fill === undefined) fail(`the resend after report ${lastSeen} brought ${resent.reports.length} reports, none the FILL of BID ${bid}`)
        if (!(wireInt(fill.reportSeq) > lastSeen)) fail(`the FILL came with report seq ${wireInt(fill.reportSeq)}, not after ${lastSeen}`)
        await a.logout()
        return `resend after report ${lastSeen}: ${resent.reports.length} report(s), the FILL of BID ${bid} at seq ${wireInt(fill.reportSeq)}${fill.possibleDuplicate ? ' (possible duplicate)' : ''}; ResendComplete`
      },
    },
    'cancel-on-disconnect': {
      expected: 'a session logged on with cancel-on-disconnect rests a BID (ACK) and its connection drops; the BID is then CANCELLED (order status query from a new session)',
      body: async () => {
        const a = await logOn(ctx, 'account', ctx.behaviour.asksCancelOnDisconnect)
        const instrument = instrumentOf(ctx)
        const bid = oid()
        const fromBid = a.received.length
        a.newOrder({ clientOrderId: bid, instrument: instrument.symbol, side: Side.BUY, price: prices(instrument).at(-10), quantityLots: 1 })
        await expectReport(ctx, a, bid, [ExecType.ACK], 'the BID', fromBid)
        await a.close()
        const again = await logOn(ctx, 'account')
        // The cancel goes to the exchange and back after the close: poll the
        // order's status (each query is answered; queries are throttled, so
        // a few per second) until it is final or the time is up.
        const until = Date.now() + options.timeoutMs
        let state = OrderState.ORDER_STATE_UNSPECIFIED
        while (Date.now() < until) {
          state = (await again.orderStatus(bid)).state
          if (state !== OrderState.ORDER_WORKING && state !== OrderState.ORDER_PENDING) break
          await delay(250)
        }
        if (state === OrderState.ORDER_WORKING || state === OrderState.ORDER_PENDING) {
          again.cancel(bid)
          await again.logout()
          fail(`BID ${bid} was still ${OrderState[state]} ${options.timeoutMs} ms after the connection dropped: not cancelled on disconnect`)
        }
        await again.logout()
        if (state !== OrderState.ORDER_CANCELLED) fail(`BID ${bid} ended ${OrderState[state] ?? state}, not cancelled`)
        return `BID ${bid} was CANCELLED after the connection dropped`
      },
    },
  }
}

/** Runs every step in order and returns the report. Never throws for a failing gateway or client: that is a failed step. */
export async function runConformanceSuite (options: CertifyOptions, behaviour: CertifyClientBehaviour = CONFORMANT_CLIENT,
  onStep: (step: CertificationStep) => void = () => {}): Promise<CertificationReport> {
  const startedAt = new Date().toISOString()
  // Client order IDs unique within the trading day across runs: the
  // gateway refuses a repeated one (DUPLICATE_CLIENT_ORDER_ID).
  const ctx: Context = { options, behaviour, instrument: null, nextOrderId: (Date.now() % 86_400_000) * 1000, clients: new Set() }
  const bodies = steps(ctx)
  const results: CertificationStep[] = []
  for (const { id, title } of SUITE_STEPS) {
    const t0 = performance.now()
    let passed = false
    let seen: string
    try {
      seen = await bodies[id].body()
      passed = true
    } catch (err) {
      seen = err instanceof StepFailure ? err.seen : `error: ${err instanceof Error ? err.message : String(err)}`
    }
    // A failed step may leave connections open: close them so the next step starts clean.
    await Promise.all([...ctx.clients].map(async (c) => { await c.close().catch(() => {}) }))
    const step: CertificationStep = { id, title, passed, expected: bodies[id].expected, seen: seen.slice(0, 4000), durationMs: Math.round(performance.now() - t0) }
    results.push(step)
    onStep(step)
  }
  return {
    format: CERTIFICATION_REPORT_FORMAT,
    suiteVersion: CERTIFICATION_SUITE_VERSION,
    appId: options.appId,
    account: options.account,
    url: options.url,
    startedAt,
    finishedAt: new Date().toISOString(),
    passed: results.every((s) => s.passed),
    steps: results,
  }
}
