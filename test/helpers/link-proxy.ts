// A TCP proxy between the gateway's exchange link and the simulator that
// can lose the gateway's cancels (or new orders) on the way, as a link that fails after
// the gateway wrote a frame and before the exchange read it: the frame is
// journaled and gone. Everything else passes through unchanged, frame by
// frame (the proxy reads the link's framing, protocol/link-codec.ts).
import net from 'node:net'
import { once } from 'node:events'
import { LinkFrameDecoder, decodeLinkEnvelope } from '../../protocol/link-codec.js'
import { LINK_LENGTH_PREFIX_BYTES } from '../../protocol/constants.js'
import type { LinkEnvelope } from '../../protocol/messages.js'

export class LinkProxy {
  /** While set, cancels from the gateway are not passed on. */
  dropCancels = false
  /** While set, new orders from the gateway are not passed on. */
  dropNewOrders = false
  readonly dropped: LinkEnvelope[] = []
  private readonly server: net.Server
  private readonly sockets = new Set<net.Socket>()
  private readonly droppedWaiters: Array<{ count: number, resolve: () => void }> = []

  private constructor (private readonly upstreamPort: number) {
    this.server = net.createServer((gateway) => { this.pipe(gateway) })
  }

  static async start (upstreamPort: number): Promise<LinkProxy> {
    const proxy = new LinkProxy(upstreamPort)
    proxy.server.listen(0, '127.0.0.1')
    await once(proxy.server, 'listening')
    return proxy
  }

  get port (): number {
    return (this.server.address() as net.AddressInfo).port
  }

  /** Resolves with the cancels dropped once there are `count` of them. */
  async cancelsDropped (count: number): Promise<LinkEnvelope[]> {
    return this.framesDropped(count)
  }

  /** Resolves with the frames dropped (cancels and new orders) once there are `count` of them. */
  async framesDropped (count: number): Promise<LinkEnvelope[]> {
    if (this.dropped.length < count) await new Promise<void>((resolve) => { this.droppedWaiters.push({ count, resolve }) })
    return this.dropped
  }

  async close (): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    await new Promise<void>((resolve) => { this.server.close(() => { resolve() }) })
  }

  private pipe (gateway: net.Socket): void {
    const exchange = net.connect(this.upstreamPort, '127.0.0.1')
    this.sockets.add(gateway).add(exchange)
    const decoder = new LinkFrameDecoder()
    gateway.on('data', (chunk: Buffer) => {
      decoder.push(chunk, (body) => {
        const envelope = decodeLinkEnvelope(body)
        if ((this.dropCancels && envelope.body === 'cancel') || (this.dropNewOrders && envelope.body === 'newOrder')) {
          this.dropped.push(envelope)
          for (const waiter of [...this.droppedWaiters]) {
            if (this.dropped.length < waiter.count) continue
            this.droppedWaiters.splice(this.droppedWaiters.indexOf(waiter), 1)
            waiter.resolve()
          }
          return
        }
        const frame = Buffer.allocUnsafe(LINK_LENGTH_PREFIX_BYTES + body.length)
        frame.writeUInt32BE(body.length, 0)
        frame.set(body, LINK_LENGTH_PREFIX_BYTES)
        exchange.write(frame)
      })
    })
    exchange.pipe(gateway)
    const end = (): void => {
      gateway.destroy()
      exchange.destroy()
      this.sockets.delete(gateway)
      this.sockets.delete(exchange)
    }
    gateway.on('close', end).on('error', end)
    exchange.on('close', end).on('error', end)
  }
}
