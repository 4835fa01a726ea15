// A loopback peer that plays the exchange's side of the link for one
// connection: it answers the link's logon and hands the socket to the
// test, which then writes exactly the bytes it wants (splits, bursts) and
// sees every frame the gateway's link writes.
import net from 'node:net'
import { once } from 'node:events'
import { LinkFrameDecoder, encodeLinkFrame } from '../../protocol/link-codec.js'
import { LinkEnvelope } from '../../protocol/messages.js'

export interface LinkPeer {
  server: net.Server
  port: number
  /** The link's connection, once it logged on (the logon reply is sent). */
  connection: Promise<net.Socket>
  /** Every frame the link sent after its logon, decoded, in order. */
  received: LinkEnvelope[]
  /** Resolves once `received` holds at least `count` frames. */
  receivedAtLeast: (count: number) => Promise<void>
}

export async function startLinkPeer (): Promise<LinkPeer> {
  let resolveConnection!: (socket: net.Socket) => void
  const connection = new Promise<net.Socket>((resolve) => { resolveConnection = resolve })
  const received: LinkEnvelope[] = []
  const waiters: Array<{ count: number, resolve: () => void }> = []
  const server = net.createServer((socket) => {
    socket.setNoDelay(true)
    const decoder = new LinkFrameDecoder()
    socket.on('data', (chunk: Buffer) => {
      decoder.push(chunk, (body) => {
        const envelope = LinkEnvelope.decode(body)
        if (envelope.body === 'logon') {
          socket.write(encodeLinkFrame({ seq: 0, logonReply: { ok: true, nextExpectedSeq: 1, tradingDay: '20260105', environment: 'test', instruments: [] } }))
          resolveConnection(socket)
          return
        }
        received.push(envelope)
        for (let i = waiters.length - 1; i >= 0; i--) {
          if (received.length >= waiters[i]!.count) waiters.splice(i, 1)[0]!.resolve()
        }
      })
    })
    socket.on('error', () => {})
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    server,
    port: (server.address() as net.AddressInfo).port,
    connection,
    received,
    receivedAtLeast: (count) => received.length >= count ? Promise.resolve() : new Promise((resolve) => { waiters.push({ count, resolve }) }),
  }
}
