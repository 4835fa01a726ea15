// `gatehouse demo`: a guided round trip through a running gateway. Two
// demo accounts log on; the maker rests a sell, the taker buys into it and
// is filled (opening a long position today), then rests a bid and cancels
// it. Then both close what they opened: the maker rests a bid closing its
// short, the taker sells into it closing its long, both with
// OFFSET_CLOSE_TODAY (on SHFE, rb2605's exchange, a plain close would take
// yesterday's lots), and the taker queries its positions before and after.
// Each step is printed; the exit code is 0 only if every step happened as
// expected.
import { parseArgs } from 'node:util'
import { ExecType, OffsetFlag, PositionDirection, QueryKind, Side, reasonName, wireInt, type ExecutionReport, type Instrument } from '../protocol/messages.js'
import { DEMO_APP_ID, DEMO_AUTH_CODE, DEMO_TERMINAL_INFO } from '../protocol/demo-identity.js'
import { GatehouseClient, type ClientIdentity, type PositionInfo } from './gatehouse-client.js'
import { CloseRule, closeRuleOf } from '../checks/position-book.js'
import { EXIT_OK, isUsageError, processIo, refuseUsage } from '../platform/cli-kit.js'

/** The demo is the one caller that logs on as the demo software from the demo terminal: the embedded config approves both. */
const DEMO_IDENTITY: ClientIdentity = { appId: DEMO_APP_ID, authCode: DEMO_AUTH_CODE, terminalInfo: DEMO_TERMINAL_INFO }

const HELP = `usage: gatehouse demo [options]

Logs on through a running gateway (start one with \`npm start\`), places an
order that is acknowledged and filled against a resting order, cancels
another, closes the position it opened today (OFFSET_CLOSE_TODAY) against
a resting bid, queries the positions, and prints each step. Exits 0 only
if all of that happened.

options:
  --url URL            lane to use (default ws://127.0.0.1:7002, the platform lane)
  --instrument SYMBOL  instrument to trade (default rb2605)
  --maker ACCOUNT:PASSWORD   (default demo-maker:maker-pass)
  --taker ACCOUNT:PASSWORD   (default demo-taker:taker-pass)
  --timeout-ms N       how long to wait for each step (default 5000)
  -h, --help           show this help
`

function formatPrice (price: number, instrument: Instrument): string {
  return (price / 10 ** instrument.priceDecimals).toFixed(instrument.priceDecimals)
}

function describeReport (report: ExecutionReport, instrument: Instrument): string {
  const kind = ExecType[report.execType] ?? String(report.execType)
  const fill = report.lastLots > 0 ? ` ${report.lastLots} @ ${formatPrice(wireInt(report.lastPrice), instrument)}` : ''
  const offset = report.offsetFlag !== OffsetFlag.OFFSET_FLAG_UNSPECIFIED ? `, ${OffsetFlag[report.offsetFlag] ?? String(report.offsetFlag)}` : ''
  const trade = report.tradeId !== '' ? `, trade ${report.tradeId}` : ''
  return `${kind}${fill} (order ${wireInt(report.clientOrderId)}, exchange id ${wireInt(report.exchangeOrderId)}, filled ${report.cumulativeLots}, leaves ${report.leavesLots}${offset}${trade})`
}

/** The lots of one side held today in an instrument (0 when the answer has no entry for it). */
function todayLots (positions: PositionInfo[], symbol: string, direction: number): number {
  return positions.find((p) => p.instrument === symbol && p.direction === direction)?.todayLots ?? 0
}

function describePositions (positions: PositionInfo[], symbol: string): string {
  const mine = positions.filter((p) => p.instrument === symbol)
  if (mine.length === 0) return `nothing held, frozen or working in ${symbol}`
  return mine.map((p) => `${symbol} ${p.direction === PositionDirection.DIRECTION_SHORT ? 'SHORT' : 'LONG'}: today ${p.todayLots} (${p.frozenTodayLots} frozen), ` +
    `yesterday ${p.yesterdayLots} (${p.frozenYesterdayLots} frozen), working opens ${p.workingOpenLots}, opened today ${p.openedTodayLots}`).join('; ')
}

export async function runDemoCommand (argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        url: { type: 'string', default: 'ws://127.0.0.1:7002' },
        instrument: { type: 'string', default: 'rb2605' },
        maker: { type: 'string', default: 'demo-maker:maker-pass' },
        taker: { type: 'string', default: 'demo-taker:taker-pass' },
        'timeout-ms': { type: 'string', default: '5000' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }))
  } catch (err) {
    if (!isUsageError(err)) throw err
    return refuseUsage(processIo, 'gatehouse demo', err.message, HELP)
  }
  if (values.help === true) {
    processIo.out(HELP)
    return EXIT_OK
  }
  const url = values.url as string
  const timeoutMs = Number(values['timeout-ms'])
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
    return refuseUsage(processIo, 'gatehouse demo', `--timeout-ms: expected a whole number of milliseconds from 1; got '${String(values['timeout-ms'])}'`, HELP)
  }
  const [makerAccount = '', makerPassword = ''] = (values.maker as string).split(':')
  const [takerAccount = '', takerPassword = ''] = (values.taker as string).split(':')
  const started = Date.now()
  const step = (text: string): void => { process.stdout.write(`[${String(Date.now() - started).padStart(5)} ms] ${text}\n`) }

  const clients: GatehouseClient[] = []
  try {
    step(`connecting to ${url}`)
    const maker = await GatehouseClient.connect(url)
    const taker = await GatehouseClient.connect(url)
    clients.push(maker, taker)
    for (const [client, account, password] of [[maker, makerAccount, makerPassword], [taker, takerAccount, takerPassword]] as const) {
      const reply = await client.logon(account, password, DEMO_IDENTITY)
      if (!reply.ok) throw new Error(`logon of ${account} refused: ${reply.text}`)
      step(`logged on as ${account}: session ${wireInt(reply.sessionId)} on the ${reply.lane} lane, trading day ${reply.tradingDay}`)
    }
    const instruments = (await taker.next((m) => m.body === 'logonReply')).logonReply!.instruments as Instrument[]
    const instrument = instruments.find((i) => i.symbol === values.instrument)
    if (instrument === undefined) throw new Error(`instrument ${String(values.instrument)} is not listed (is the exchange link up?)`)
    const tick = wireInt(instrument.tickSize)
    const price = Math.round(wireInt(instrument.referencePrice) / tick) * tick
    // Ten ticks under the fill: it rests (nothing sells that low), and it
    // stays inside every lane's fat-finger band, which the limit-down
    // price is not on the terminal lane.
    const lowBid = Math.max(wireInt(instrument.lowerLimitPrice), price - 10 * tick)

    maker.newOrder({ clientOrderId: 1, instrument: instrument.symbol, side: Side.SELL, price, quantityLots: 2 })
    step(`maker: SELL 2 ${instrument.symbol} @ ${formatPrice(price, instrument)} -> ${describeReport(await expectReport(maker, 1, ExecType.ACK, timeoutMs), instrument)}`)

    taker.newOrder({ clientOrderId: 1, instrument: instrument.symbol, side: Side.BUY, price, quantityLots: 1 })
    step(`taker: BUY 1 ${instrument.symbol} @ ${formatPrice(price, instrument)} -> ${describeReport(await expectReport(taker, 1, ExecType.ACK, timeoutMs), instrument)}`)
    step(`taker: ${describeReport(await expectReport(taker, 1, ExecType.FILL, timeoutMs), instrument)}`)

    taker.newOrder({ clientOrderId: 2, instrument: instrument.symbol, side: Side.BUY, price: lowBid, quantityLots: 1 })
    step(`taker: BUY 1 ${instrument.symbol} @ ${formatPrice(lowBid, instrument)} (under the market, rests) -> ${describeReport(await expectReport(taker, 2, ExecType.ACK, timeoutMs), instrument)}`)
    taker.cancel(2)
    step(`taker: cancel order 2 -> ${describeReport(await expectReport(taker, 2, ExecType.CANCELLED, timeoutMs), instrument)}`)

    // The rest of the maker's sell goes first: the maker's closing bid
    // below would otherwise cross it (self-match prevention refuses that).
    const makerDone = maker.received.some((m) => m.body === 'executionReport' && wireInt(m.executionReport!.clientOrderId) === 1 &&
      (m.executionReport!.execType === ExecType.FILL || m.executionReport!.execType === ExecType.CANCELLED))
    if (!makerDone) {
      maker.cancel(1)
      const last = await maker.next((m) => m.body === 'executionReport' && wireInt(m.executionReport!.clientOrderId) === 1 &&
        (m.executionReport!.execType === ExecType.CANCELLED || m.executionReport!.execType === ExecType.FILL), timeoutMs)
      step(`maker: cancel the rest of order 1 -> ${describeReport(last.executionReport as ExecutionReport, instrument)}`)
    }

    // Close what was opened today. OFFSET_CLOSE_TODAY closes today's lots on
    // every exchange; on SHFE and INE a plain close would take yesterday's.
    const opened = (await taker.query(QueryKind.QUERY_POSITIONS, { instrument: instrument.symbol }, timeoutMs)).positions
    const longToday = todayLots(opened, instrument.symbol, PositionDirection.DIRECTION_LONG)
    step(`taker: positions -> ${describePositions(opened, instrument.symbol)}`)
    if (longToday < 1) throw new Error(`the taker's position shows ${longToday} long lots today after its buy filled`)
    const rule = closeRuleOf(instrument.exchange) === CloseRule.YESTERDAY_ONLY
      ? `on ${instrument.exchange} a plain close takes yesterday's lots only`
      : `on ${instrument.exchange} a plain close takes today's lots first`
    step(`closing today's lots with OFFSET_CLOSE_TODAY (${rule})`)
    maker.newOrder({ clientOrderId: 3, instrument: instrument.symbol, side: Side.BUY, price, quantityLots: 1, offsetFlag: OffsetFlag.OFFSET_CLOSE_TODAY })
    step(`maker: BUY 1 ${instrument.symbol} @ ${formatPrice(price, instrument)} close today (its short) -> ${describeReport(await expectReport(maker, 3, ExecType.ACK, timeoutMs), instrument)}`)
    taker.newOrder({ clientOrderId: 3, instrument: instrument.symbol, side: Side.SELL, price, quantityLots: 1, offsetFlag: OffsetFlag.OFFSET_CLOSE_TODAY })
    step(`taker: SELL 1 ${instrument.symbol} @ ${formatPrice(price, instrument)} close today (its long) -> ${describeReport(await expectReport(taker, 3, ExecType.ACK, timeoutMs), instrument)}`)
    step(`taker: ${describeReport(await expectReport(taker, 3, ExecType.FILL, timeoutMs), instrument)}`)
    step(`maker: ${describeReport(await expectReport(maker, 3, ExecType.FILL, timeoutMs), instrument)}`)
    const closed = (await taker.query(QueryKind.QUERY_POSITIONS, { instrument: instrument.symbol }, timeoutMs)).positions
    step(`taker: positions -> ${describePositions(closed, instrument.symbol)}`)
    const longTodayAfter = todayLots(closed, instrument.symbol, PositionDirection.DIRECTION_LONG)
    if (longTodayAfter !== longToday - 1) throw new Error(`the close of 1 lot left ${longTodayAfter} long lots today, not ${longToday - 1}`)

    await maker.logout()
    await taker.logout()
    step('both sessions logged out. Demo complete: logon, ack, fill, cancel, close today and the positions query all happened.')
    return 0
  } catch (err) {
    step(`FAILED: ${(err as Error).message}`)
    await Promise.all(clients.map((c) => c.close()))
    return 1
  }
}

/**
 * The order's report of `execType`; a refusal on the way ends the demo at
 * once with the gateway's reason, instead of waiting out the timeout.
 */
export async function expectReport (client: GatehouseClient, clientOrderId: number, execType: number, timeoutMs: number): Promise<ExecutionReport> {
  const envelope = await client.next((m) => m.body === 'executionReport' && wireInt(m.executionReport!.clientOrderId) === clientOrderId &&
    (m.executionReport!.execType === execType || m.executionReport!.execType === ExecType.REJECTED), timeoutMs)
  const report = envelope.executionReport as ExecutionReport
  if (report.execType !== execType) throw new Error(`order ${clientOrderId} was refused: ${reasonName(report.reason)}: ${report.text}`)
  return report
}
