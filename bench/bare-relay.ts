// The bare-relay baseline: the floor for this design. A uWebSockets.js
// server that moves bytes between WebSocket clients and the exchange
// simulator and does nothing else: no decoding, no authentication, no
// checks, no journal. Whatever Gatehouse costs above this is the price of
// its own work.
//
//   WS client ──binary frame──▶ relay: prepend u32 BE length ──▶ TCP link ──▶ simulator
//   WS client ◀──binary frame── relay: strip the length ◀──────── TCP link ◀── simulator
//
// Each WebSocket client gets its own link connection, logged on by the
// relay itself with a session name of its own, so reports need no routing:
// whatever arrives on a link goes to its one client. The client therefore
// speaks the link protocol (LinkEnvelope bytes, its own seqs).
//
// Batching matches the gateway's exchange link (one write per event-loop
// turn) and client sends are corked, so the comparison is of work, not of
// write strategy.
//
// Usage: node dist/bench/bare-relay.js --exchange-host H --exchange-port P [--port 0]
// Prints {"event":"listening","host",..,"port",..,"pid",..} when ready;
// stops on SIGTERM or SIGINT.
import net from 'node:net'
import { parseArgs } from 'node:util'
import uWS from 'uWebSockets.js'
import { listenExclusive } from '../platform/exclusive-listen.js'
import { explainListenFailure } from '../platform/listen-failure.js'
import { LinkFrameDecoder, encodeLinkFrame } from '../protocol/link-codec.js'
import { LINK_LENGTH_PREFIX_BYTES, MAX_LINK_FRAME_BYTES } from '../protocol/constants.js'

const HOST = '127.0.0.1'
/** The relay reads a whole chunk of reports before sending, so this bounds what one slow client can queue. */
const MAX_BACKPRESSURE_BYTES = 16 * 1024 * 1024

interface RelayLink {
  ws: uWS.WebSocket<RelayUserData> | null
  sessionName: string
  framesIn: number
  socket: net.Socket
  connected: boolean
  pending: Buffer[]
  pendingBytes: number
  flushScheduled: boolean
}

interface RelayUserData {
  link: RelayLink | null
}

const { values } = parseArgs({
  options: {
    'exchange-host': { type: 'string', default: HOST },
    'exchange-port': { type: 'string' },
    port: { type: 'string', default: '0' },
  },
  strict: true,
})
const exchangeHost = values['exchange-host']!
const exchangePort = Number(values['exchange-port'])
if (!Number.isInteger(exchangePort) || exchangePort <= 0) {
  process.stderr.write('bare-relay: --exchange-port PORT is required\n')
  process.exit(2)
}

let nextSessionNumber = 1
const links = new Set<RelayLink>()

function flush (link: RelayLink): void {
  link.flushScheduled = false
  if (!link.connected || link.pending.length === 0) return
  const bytes = link.pending.length === 1 ? link.pending[0]! : Buffer.concat(link.pending, link.pendingBytes)
  link.pending = []
  link.pendingBytes = 0
  link.socket.write(bytes)
}

function openLink (ws: uWS.WebSocket<RelayUserData>): RelayLink {
  const socket = net.connect({ host: exchangeHost, port: exchangePort })
  socket.setNoDelay(true)
  const sessionName = `bare-${process.pid}-${nextSessionNumber++}`
  const link: RelayLink = { ws, sessionName, framesIn: 0, socket, connected: false, pending: [], pendingBytes: 0, flushScheduled: false }
  links.add(link)
  const decoder = new LinkFrameDecoder()
  // The relay's one piece of protocol knowledge: it logs its own link on.
  // Heartbeats off (interval 0), so the relay never has to speak again.
  const logon = encodeLinkFrame({
    seq: 0,
    sentTimeUs: Date.now() * 1000,
    logon: { memberId: 'BARE-RELAY', sessionName, nextExpectedSeq: 1, heartbeatIntervalMs: 0 },
  })
  socket.on('connect', () => {
    socket.write(logon)
    link.connected = true
    flush(link)
  })
  socket.on('data', (chunk: Buffer) => {
    const target = link.ws
    if (target === null) return
    // Cork: all frames of this chunk leave in one write(2), as uWS does
    // on its own inside its callbacks.
    target.cork(() => {
      decoder.push(chunk, (body) => {
        link.framesIn++
        target.send(body, true)
      })
    })
  })
  socket.on('error', (err) => {
    process.stderr.write(`bare-relay: link ${sessionName}: ${err.message}\n`)
  })
  socket.on('close', () => {
    // Diagnostics only for a link that dies under a live client.
    if (link.ws !== null) process.stderr.write(`bare-relay: link ${sessionName} closed after ${link.framesIn} frames while its client was connected\n`)
    links.delete(link)
    link.connected = false
    const target = link.ws
    link.ws = null
    target?.end(1011, 'exchange link closed')
  })
  return link
}

const app = uWS.App()
app.ws<RelayUserData>('/*', {
  compression: uWS.DISABLED,
  maxPayloadLength: MAX_LINK_FRAME_BYTES,
  maxBackpressure: MAX_BACKPRESSURE_BYTES,
  idleTimeout: 0,
  upgrade: (res, req, context) => {
    res.upgrade<RelayUserData>({ link: null },
      req.getHeader('sec-websocket-key'),
      req.getHeader('sec-websocket-protocol'),
      req.getHeader('sec-websocket-extensions'),
      context)
  },
  open: (ws) => {
    ws.getUserData().link = openLink(ws)
  },
  message: (ws, message) => {
    const link = ws.getUserData().link
    if (link === null) return
    // The ArrayBuffer is only valid during this callback: copy it once,
    // behind its length prefix.
    const frame = Buffer.allocUnsafe(LINK_LENGTH_PREFIX_BYTES + message.byteLength)
    frame.writeUInt32BE(message.byteLength, 0)
    frame.set(new Uint8Array(message), LINK_LENGTH_PREFIX_BYTES)
    link.pending.push(frame)
    link.pendingBytes += frame.length
    if (!link.flushScheduled) {
      link.flushScheduled = true
      setImmediate(flush, link)
    }
  },
  close: (ws) => {
    const link = ws.getUserData().link
    if (link === null) return
    link.ws = null
    link.socket.destroy()
  },
})

let listenSocket: uWS.us_listen_socket | null = null
listenExclusive(app, HOST, Number(values.port), (socket) => {
  if (socket === false) {
    void explainListenFailure({ host: 'host', port: '--port' }, HOST, Number(values.port)).then((reason) => {
      process.stderr.write(`bare-relay: ${reason}\n`)
      process.exit(1)
    })
    return
  }
  listenSocket = socket
  process.stdout.write(JSON.stringify({ event: 'listening', host: HOST, port: uWS.us_socket_local_port(socket), pid: process.pid }) + '\n')
})

function stop (): void {
  // uWS aborts a process that exits holding its sockets: close them first.
  if (listenSocket !== null) uWS.us_listen_socket_close(listenSocket)
  listenSocket = null
  app.close()
  for (const link of links) link.socket.destroy()
  setImmediate(() => { process.exit(0) })
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
