// A minimal WebSocket client over node:net for the load generators: the
// HTTP Upgrade handshake, masked client frames, and a parser for the
// server's unmasked frames. The `ws` client caps near 100k messages/s on
// this machine (measured here), so it would measure itself;
// this one writes frames straight into a reused buffer and hands payloads
// out as views.
//
// Client frame (RFC 6455 §5.2), always FIN, always masked with the all-zero
// key, which is legal and turns masking into a no-op:
//
//   +--------+--------+ - - - - - - - - +-----------+------------------+
//   |1000 op |1 len7  | ext. len (0/2/8) | 0 0 0 0   | payload (as is)  |
//   +--------+--------+ - - - - - - - - +-----------+------------------+
//    FIN+opcode  MASK+length             mask key
import net from 'node:net'
import { randomBytes } from 'node:crypto'

export const OPCODE_TEXT = 0x1
export const OPCODE_BINARY = 0x2
export const OPCODE_CLOSE = 0x8
export const OPCODE_PING = 0x9
export const OPCODE_PONG = 0xa

/** Largest header a client frame can need: 2 + 8 (64-bit length) + 4 (mask). */
export const MAX_CLIENT_HEADER_BYTES = 14
/** The out buffer grows in these steps (undici's parser grows in fixed steps too). */
const OUT_GROWTH_BYTES = 16 * 1024
const INITIAL_OUT_BYTES = 1024
/** A handshake response larger than this is not a WebSocket server talking. */
const MAX_HANDSHAKE_BYTES = 16 * 1024

/** Writes a masked client frame header (zero mask key) at `pos`; returns where the payload goes. */
export function writeClientFrameHeader (buf: Uint8Array, pos: number, opcode: number, payloadBytes: number): number {
  buf[pos++] = 0x80 | opcode
  if (payloadBytes < 126) {
    buf[pos++] = 0x80 | payloadBytes
  } else if (payloadBytes < 65_536) {
    buf[pos++] = 0x80 | 126
    buf[pos++] = payloadBytes >>> 8
    buf[pos++] = payloadBytes & 0xff
  } else {
    buf[pos++] = 0x80 | 127
    for (let shift = 7; shift >= 0; shift--) buf[pos++] = shift >= 4 ? 0 : (payloadBytes >>> (shift * 8)) & 0xff
  }
  buf[pos++] = 0
  buf[pos++] = 0
  buf[pos++] = 0
  buf[pos++] = 0
  return pos
}

export function clientFrameHeaderBytes (payloadBytes: number): number {
  return payloadBytes < 126 ? 6 : payloadBytes < 65_536 ? 8 : 14
}

/** Called for every complete server frame; the view is valid only during the call. */
export type FrameHandler = (opcode: number, buf: Buffer, start: number, end: number) => void

/**
 * One client connection. Frames are appended to `out` by the caller
 * (reserve, write, commit) and go out in one write(2) per flush().
 */
export class WsClient {
  out: Buffer = Buffer.allocUnsafe(INITIAL_OUT_BYTES)
  outBytes = 0
  open = false
  closed = false
  private handshakeDone = false
  private handshakeText = ''
  private carry: Buffer | null = null

  private constructor (
    readonly socket: net.Socket,
    private readonly onFrame: FrameHandler,
    private readonly onClose: (reason: string) => void,
  ) {}

  /**
   * Connects and completes the Upgrade; resolves once the server answered
   * 101. Rejects on a refused connection, a non-101 answer or `timeoutMs`.
   * `onOpen` runs synchronously at the 101, before any frame that came in
   * the same chunk (a server may speak first, as Gatehouse's AuthChallenge
   * does) reaches `onFrame`; an awaiting caller would be too late.
   */
  static connect (host: string, port: number, onFrame: FrameHandler, onClose: (reason: string) => void, timeoutMs: number,
    onOpen: (client: WsClient) => void = () => {}): Promise<WsClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port })
      socket.setNoDelay(true)
      const client = new WsClient(socket, onFrame, onClose)
      let settled = false
      const timer = setTimeout(() => { fail(new Error(`WebSocket handshake with ${host}:${port} took over ${timeoutMs} ms`)) }, timeoutMs)
      const fail = (err: Error): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        socket.destroy()
        reject(err)
      }
      socket.once('connect', () => {
        socket.write(`GET / HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`)
      })
      socket.on('data', (chunk: Buffer) => {
        if (client.handshakeDone) {
          client.push(chunk)
          return
        }
        client.handshakeText += chunk.toString('latin1')
        const end = client.handshakeText.indexOf('\r\n\r\n')
        if (end === -1) {
          if (client.handshakeText.length > MAX_HANDSHAKE_BYTES) fail(new Error('oversized handshake response'))
          return
        }
        const statusLine = client.handshakeText.slice(0, client.handshakeText.indexOf('\r\n'))
        if (!/^HTTP\/1\.1 101 /.test(statusLine)) {
          fail(new Error(`WebSocket upgrade refused: ${statusLine}`))
          return
        }
        client.handshakeDone = true
        client.open = true
        const rest = Buffer.from(client.handshakeText.slice(end + 4), 'latin1')
        client.handshakeText = ''
        settled = true
        clearTimeout(timer)
        onOpen(client)
        resolve(client)
        if (rest.length > 0) client.push(rest)
      })
      socket.on('error', (err) => { fail(err) })
      socket.on('close', () => {
        client.open = false
        client.closed = true
        if (!settled) fail(new Error('connection closed during the WebSocket handshake'))
        else client.onClose('socket closed')
      })
    })
  }

  /** Makes room for `bytes` more in `out`; call before writing at `outBytes`. */
  reserve (bytes: number): Buffer {
    const need = this.outBytes + bytes
    if (need > this.out.length) {
      const grown = Buffer.allocUnsafe(Math.ceil(need / OUT_GROWTH_BYTES) * OUT_GROWTH_BYTES)
      this.out.copy(grown, 0, 0, this.outBytes)
      this.out = grown
    }
    return this.out
  }

  /** Appends a whole frame with the given payload (for cold paths: logon, pong, JSON). */
  appendFrame (opcode: number, payload: Uint8Array): void {
    const buf = this.reserve(MAX_CLIENT_HEADER_BYTES + payload.length)
    const pos = writeClientFrameHeader(buf, this.outBytes, opcode, payload.length)
    buf.set(payload, pos)
    this.outBytes = pos + payload.length
  }

  /**
   * Hands everything appended so far to the socket in one write. The bytes
   * are copied out, because socket.write keeps a reference and `out` is
   * reused at once.
   */
  flush (): void {
    if (this.outBytes === 0 || !this.open) return
    const chunk = Buffer.allocUnsafe(this.outBytes)
    this.out.copy(chunk, 0, 0, this.outBytes)
    this.outBytes = 0
    this.socket.write(chunk)
  }

  close (): void {
    if (this.closed) return
    this.open = false
    this.socket.destroy()
  }

  /** Splits server frames; copies only a frame that straddles two chunks. */
  private push (chunk: Buffer): void {
    let buf = chunk
    if (this.carry !== null) {
      buf = Buffer.concat([this.carry, chunk])
      this.carry = null
    }
    let offset = 0
    const length = buf.length
    while (length - offset >= 2) {
      const b0 = buf[offset]!
      const b1 = buf[offset + 1]!
      let payloadBytes = b1 & 0x7f
      let header = 2
      if (payloadBytes === 126) {
        if (length - offset < 4) break
        payloadBytes = buf.readUInt16BE(offset + 2)
        header = 4
      } else if (payloadBytes === 127) {
        if (length - offset < 10) break
        payloadBytes = buf.readUInt32BE(offset + 2) * 2 ** 32 + buf.readUInt32BE(offset + 6)
        header = 10
      }
      // Servers never mask (RFC 6455 §5.1); a masked frame is a protocol error.
      if ((b1 & 0x80) !== 0) {
        this.socket.destroy(new Error('server sent a masked frame'))
        return
      }
      const end = offset + header + payloadBytes
      if (end > length) break
      const opcode = b0 & 0x0f
      if (opcode === OPCODE_PING) {
        this.appendFrame(OPCODE_PONG, buf.subarray(offset + header, end))
        this.flush()
      } else if (opcode === OPCODE_CLOSE) {
        this.open = false
      } else {
        this.onFrame(opcode, buf, offset + header, end)
      }
      offset = end
    }
    if (offset < length) this.carry = Buffer.from(buf.subarray(offset))
  }
}
