// The naive baseline: the gateway a typical Node team would build first.
// `ws` server, JSON messages, one piscina run() per order for the checks,
// a synchronous pino line per message, and one exchange link written per
// message. It does the same job as Gatehouse's lane (logon, validity
// checks, forward, route reports back) so the difference is the design,
// not the features.
//
// Client protocol (text frames, one JSON object each):
//   → {"type":"logon","account","password"}    ← {"type":"logonReply","ok","instruments":[...]}
//   → {"type":"newOrder","clientOrderId","instrument","side","price","quantityLots","timeInForce"}
//   → {"type":"cancelOrder","clientOrderId"}    ← {"type":"executionReport","clientOrderId","execType",...}
//
// Usage: node dist/bench/naive-gateway.js --exchange-port P --accounts FILE --log-file FILE
// Prints {"event":"listening","host",..,"port",..,"pid",..} once its link is up.
import net from 'node:net'
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { WebSocketServer, type WebSocket } from 'ws'
import { Piscina } from 'piscina'
import pino from 'pino'
import { LinkFrameDecoder, decodeLinkEnvelope, encodeLinkFrame } from '../protocol/link-codec.js'
import { ExecType, RejectReason, wireInt, type Instrument, type LinkExecutionReport } from '../protocol/messages.js'
import type { CheckVerdict } from '../checks/order-validity.js'
import type { NaiveCheckTask } from './naive-check-worker.js'

const HOST = '127.0.0.1'
const HEARTBEAT_INTERVAL_MS = 1000

const { values } = parseArgs({
  options: {
    'exchange-host': { type: 'string', default: HOST },
    'exchange-port': { type: 'string' },
    accounts: { type: 'string' },
    'log-file': { type: 'string' },
    port: { type: 'string', default: '0' },
  },
  strict: true,
})
if (values['exchange-port'] === undefined || values.accounts === undefined || values['log-file'] === undefined) {
  process.stderr.write('naive-gateway: --exchange-port, --accounts and --log-file are required\n')
  process.exit(2)
}

const passwords = new Map<string, string>((JSON.parse(readFileSync(values.accounts, 'utf8')) as Array<{ id: string, password: string }>)
  .map((a) => [a.id, a.password]))
const logger = pino(pino.destination({ dest: values['log-file'], sync: true }))
const pool = new Piscina<NaiveCheckTask, CheckVerdict>({ filename: new URL('./naive-check-worker.js', import.meta.url).href })

interface NaiveSession {
  ws: WebSocket
  account: string | null
  orders: Map<number, number>
}

const instruments = new Map<string, Instrument>()
const ordersByLinkId = new Map<number, { session: NaiveSession, clientOrderId: number }>()
let linkSeq = 0
let nextLinkOrderId = 1
let linkUp = false

// ---- exchange link ----------------------------------------------------

const link = net.connect({ host: values['exchange-host']!, port: Number(values['exchange-port']) })
link.setNoDelay(true)
const decoder = new LinkFrameDecoder()
link.on('connect', () => {
  link.write(encodeLinkFrame({ seq: 0, logon: { memberId: 'NAIVE', sessionName: `naive-${process.pid}`, nextExpectedSeq: 1, heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS } }))
})
const heartbeat = setInterval(() => { link.write(encodeLinkFrame({ seq: 0, heartbeat: {} })) }, HEARTBEAT_INTERVAL_MS)
link.on('data', (chunk: Buffer) => {
  decoder.push(chunk, (body) => {
    const envelope = decodeLinkEnvelope(body)
    logger.info({ dir: 'link-in', body: envelope.body, seq: wireInt(envelope.seq) })
    if (envelope.body === 'logonReply') {
      const reply = envelope.logonReply!
      for (const i of reply.instruments ?? []) instruments.set(i.symbol!, i as Instrument)
      linkSeq = wireInt(reply.nextExpectedSeq) - 1
      linkUp = true
      startListening()
    } else if (envelope.body === 'report') {
      onReport(envelope.report as LinkExecutionReport)
    }
  })
})
link.on('error', (err) => {
  process.stderr.write(`naive-gateway: exchange link error: ${err.message}\n`)
})
link.on('close', () => {
  linkUp = false
})

function sendLink (body: Record<string, unknown>): void {
  linkSeq++
  logger.info({ dir: 'link-out', seq: linkSeq, ...body })
  link.write(encodeLinkFrame({ seq: linkSeq, sentTimeUs: Date.now() * 1000, ...body }))
}

function onReport (report: LinkExecutionReport): void {
  const orderId = wireInt(report.orderId)
  const order = ordersByLinkId.get(orderId)
  if (order === undefined) return
  if (report.cancelRejected) {
    reply(order.session, { type: 'reject', clientOrderId: order.clientOrderId, text: report.text })
    return
  }
  const execType = report.execType
  if (execType === ExecType.FILL || execType === ExecType.CANCELLED || execType === ExecType.REJECTED) {
    ordersByLinkId.delete(orderId)
    order.session.orders.delete(order.clientOrderId)
  }
  reply(order.session, {
    type: 'executionReport',
    clientOrderId: order.clientOrderId,
    execType,
    exchangeOrderId: wireInt(report.exchangeOrderId),
    lastPrice: wireInt(report.lastPrice),
    lastLots: report.lastLots,
    cumulativeLots: report.cumulativeLots,
    leavesLots: report.leavesLots,
    reason: report.reason,
    text: report.text,
  })
}

// ---- clients ----------------------------------------------------------

function reply (session: NaiveSession, message: Record<string, unknown>): void {
  logger.info({ dir: 'out', account: session.account, message })
  if (session.ws.readyState === session.ws.OPEN) session.ws.send(JSON.stringify(message))
}

function instrumentJson (i: Instrument): Record<string, unknown> {
  return {
    symbol: i.symbol,
    exchange: i.exchange,
    priceDecimals: i.priceDecimals,
    tickSize: wireInt(i.tickSize),
    referencePrice: wireInt(i.referencePrice),
    lowerLimitPrice: wireInt(i.lowerLimitPrice),
    upperLimitPrice: wireInt(i.upperLimitPrice),
    maxOrderLots: i.maxOrderLots,
    status: i.status,
  }
}

async function onMessage (session: NaiveSession, text: string): Promise<void> {
  const message = JSON.parse(text) as Record<string, unknown> & { type?: string }
  logger.info({ dir: 'in', account: session.account, message })
  switch (message.type) {
    case 'logon': {
      const ok = passwords.get(String(message.account)) === message.password
      if (ok) session.account = String(message.account)
      reply(session, { type: 'logonReply', ok, text: ok ? '' : 'unknown account or wrong password', instruments: ok ? [...instruments.values()].map(instrumentJson) : [] })
      return
    }
    case 'newOrder': {
      const clientOrderId = Number(message.clientOrderId)
      if (session.account === null) {
        reply(session, { type: 'reject', text: 'log on first', clientOrderId })
        return
      }
      const instrument = instruments.get(String(message.instrument))
      const order = { side: Number(message.side), price: Number(message.price), quantityLots: Number(message.quantityLots) }
      const verdict = await pool.run({ order, instrument: instrument === undefined ? undefined : instrumentJson(instrument) as unknown as Instrument })
      if (verdict.reason !== 0 || !linkUp) {
        reply(session, { type: 'executionReport', clientOrderId, execType: ExecType.REJECTED, reason: verdict.reason || RejectReason.EXCHANGE_UNAVAILABLE })
        return
      }
      const linkOrderId = nextLinkOrderId++
      session.orders.set(clientOrderId, linkOrderId)
      ordersByLinkId.set(linkOrderId, { session, clientOrderId })
      sendLink({
        newOrder: {
          orderId: linkOrderId,
          account: session.account,
          instrument: String(message.instrument),
          side: order.side,
          price: order.price,
          quantityLots: order.quantityLots,
          timeInForce: Number(message.timeInForce),
        },
      })
      return
    }
    case 'cancelOrder': {
      const linkOrderId = session.orders.get(Number(message.clientOrderId))
      if (linkOrderId === undefined) {
        reply(session, { type: 'reject', text: 'unknown order', clientOrderId: message.clientOrderId })
        return
      }
      sendLink({ cancel: { orderId: linkOrderId } })
      return
    }
    default:
      reply(session, { type: 'reject', text: `unknown message type ${String(message.type)}` })
  }
}

let server: WebSocketServer | null = null

function startListening (): void {
  if (server !== null) return
  server = new WebSocketServer({ host: HOST, port: Number(values.port), perMessageDeflate: false })
  server.on('connection', (ws) => {
    const session: NaiveSession = { ws, account: null, orders: new Map() }
    ws.on('message', (data) => {
      onMessage(session, data.toString()).catch((err: unknown) => {
        reply(session, { type: 'reject', text: String(err) })
      })
    })
  })
  server.on('listening', () => {
    const address = server!.address() as net.AddressInfo
    process.stdout.write(JSON.stringify({ event: 'listening', host: HOST, port: address.port, pid: process.pid }) + '\n')
  })
}

async function stop (): Promise<void> {
  clearInterval(heartbeat)
  for (const client of server?.clients ?? []) client.terminate()
  server?.close()
  link.destroy()
  await pool.destroy()
  process.exit(0)
}
process.once('SIGTERM', () => { void stop() })
process.once('SIGINT', () => { void stop() })
