// HTTP/1.1 over a raw TCP socket, for tests that must send what fetch()
// refuses to (malformed percent-encoding, odd methods, bodies on GET) and
// see the server's answer byte for byte.
import { connect } from 'node:net'

export interface RawResponse {
  status: number
  headers: Record<string, string>
  body: string
  /** The server closed the connection after this response. */
  closed: boolean
}

/** How long a test waits for an answer before it fails. */
const ANSWER_TIMEOUT_MS = 5000

/**
 * Sends `request` (the whole request, as bytes) and resolves with the first
 * response, or null when the server closed the connection without one.
 * `head` says the request was HEAD (a response to it has no body).
 */
export function rawHttp (port: number, request: string | Buffer, head = false): Promise<RawResponse | null> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => { socket.write(request) })
    let data = Buffer.alloc(0)
    let parsed: { status: number, headers: Record<string, string>, bodyStart: number, length: number } | null = null
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no complete answer in ${ANSWER_TIMEOUT_MS} ms; got ${JSON.stringify(data.toString('latin1').slice(0, 200))}`))
    }, ANSWER_TIMEOUT_MS)
    const finish = (closed: boolean): void => {
      clearTimeout(timer)
      socket.destroy()
      if (parsed === null) {
        resolve(null)
        return
      }
      resolve({ status: parsed.status, headers: parsed.headers, body: data.subarray(parsed.bodyStart, parsed.bodyStart + parsed.length).toString('utf8'), closed })
    }
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk])
      if (parsed === null) {
        const end = data.indexOf('\r\n\r\n')
        if (end < 0) return
        const [statusLine, ...lines] = data.subarray(0, end).toString('latin1').split('\r\n')
        const match = /^HTTP\/1\.1 (\d{3}) /.exec(statusLine ?? '')
        if (match === null) {
          clearTimeout(timer)
          socket.destroy()
          reject(new Error(`not an HTTP/1.1 status line: ${JSON.stringify(statusLine)}`))
          return
        }
        const headers: Record<string, string> = {}
        for (const line of lines) {
          const colon = line.indexOf(':')
          headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
        }
        parsed = { status: Number(match[1]), headers, bodyStart: end + 4, length: head ? 0 : Number(headers['content-length'] ?? 0) }
      }
      // Answered in full: whether the server then closes is seen on 'close' (or not at all).
      if (data.length >= parsed.bodyStart + parsed.length && parsed.headers.connection?.toLowerCase() !== 'close') finish(false)
    })
    socket.on('close', () => { finish(true) })
    socket.on('error', () => { finish(true) })
  })
}

/** A request with Host and, when given, the bearer token. */
export function request (method: string, path: string, options: { token?: string, headers?: Record<string, string>, body?: string } = {}): string {
  const headers: Record<string, string> = { host: '127.0.0.1', ...options.headers }
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
  if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body))
  return `${method} ${path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n${options.body ?? ''}`
}
