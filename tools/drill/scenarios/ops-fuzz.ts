// Malformed HTTP on the ops port, over raw TCP: bad percent-encoding in
// the counters path, huge headers and paths, unknown methods, HEAD, POST
// with bodies, pipelining, and garbage. The ops server may answer 4xx or
// close the connection; it must never answer 5xx, never crash, and the
// gateway must keep serving /healthz.
import net from 'node:net'
import { fetchHealth } from '../gateway-probe.js'
import { check, type Scenario, type ScenarioResult } from '../scenario.js'

const REQUEST_TIMEOUT_MS = 2000

/**
 * A request with no HTTP/1.x request line is refused by uWebSockets.js's
 * parser itself, before any handler runs, with 505 (HTTP Version Not
 * Supported) and a close: a refusal of the protocol, not a server fault.
 * Only these may get 505; any other 5xx fails.
 */
const VERSIONLESS = 505

function requests (host: string): Array<{ name: string, bytes: Buffer, versionless?: true }> {
  const http = (line: string, headers = '', body = ''): Buffer => Buffer.from(`${line}\r\nHost: ${host}\r\n${headers}Connection: close\r\n\r\n${body}`)
  return [
    { name: 'bad percent-encoding in the account', bytes: http('GET /accounts/%E0%A4%A/counters HTTP/1.1') },
    { name: 'lone % in the account', bytes: http('GET /accounts/%/counters HTTP/1.1') },
    { name: 'overlong UTF-8 in the account', bytes: http('GET /accounts/%C0%AF/counters HTTP/1.1') },
    { name: 'NUL in the account', bytes: http('GET /accounts/a%00b/counters HTTP/1.1') },
    { name: '8 KiB account', bytes: http(`GET /accounts/${'a'.repeat(8192)}/counters HTTP/1.1`) },
    { name: '64 KiB header', bytes: http('GET /healthz HTTP/1.1', `X-Drill: ${'h'.repeat(65_536)}\r\n`) },
    { name: '500 headers', bytes: http('GET /healthz HTTP/1.1', Array.from({ length: 500 }, (_, i) => `X-H${i}: v\r\n`).join('')) },
    { name: 'unknown method', bytes: http('BREW /healthz HTTP/1.1') },
    { name: 'HEAD /healthz', bytes: http('HEAD /healthz HTTP/1.1') },
    { name: 'HEAD /metrics', bytes: http('HEAD /metrics HTTP/1.1') },
    { name: 'POST with a body', bytes: http('POST /healthz HTTP/1.1', 'Content-Length: 11\r\n', 'hello=world') },
    { name: 'POST with a short body', bytes: http('POST /metrics HTTP/1.1', 'Content-Length: 100000\r\n', 'x') },
    { name: 'chunked garbage', bytes: http('POST /accounts/x/counters HTTP/1.1', 'Transfer-Encoding: chunked\r\n', 'zz\r\nnot hex\r\n') },
    { name: 'HTTP/0.9', bytes: Buffer.from('GET /healthz\r\n\r\n'), versionless: true },
    { name: 'no version', bytes: Buffer.from('GET\r\n\r\n'), versionless: true },
    { name: 'binary garbage', bytes: Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 131 + 7) % 256)), versionless: true },
    { name: 'pipelined 50', bytes: Buffer.concat(Array.from({ length: 50 }, () => Buffer.from(`GET /accounts/%ZZ/counters HTTP/1.1\r\nHost: ${host}\r\n\r\n`))) },
  ]
}

/** Sends the bytes and returns the first status code answered (0 for none: closed or timed out). */
function probe (host: string, port: number, bytes: Buffer): Promise<{ status: number, closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port })
    let data = ''
    let settled = false
    const finish = (closed: boolean): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(data)
      resolve({ status: match === null ? 0 : Number(match[1]), closed })
    }
    const timer = setTimeout(() => { finish(false) }, REQUEST_TIMEOUT_MS)
    socket.on('error', () => { finish(true) })
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1')
      if (/^HTTP\/1\.[01] \d{3}/.test(data)) finish(false)
    })
    socket.on('close', () => { finish(true) })
    socket.write(bytes)
  })
}

export const opsFuzz: Scenario = {
  name: 'ops-fuzz',
  summary: 'malformed HTTP on the ops port: bad percent-encoding, huge headers, unknown methods, HEAD, POST bodies, garbage',
  budgetMs: { short: 8000, full: 20_000 },
  async run (ctx): Promise<ScenarioResult> {
    const url = new URL(ctx.settings.target.opsUrl)
    const host = url.hostname
    const port = Number(url.port || 80)
    const serverErrors: string[] = []
    const answers: string[] = []
    let sent = 0
    let diedAfter: string | null = null
    for (const { name, bytes, versionless } of requests(url.host)) {
      if (Date.now() > ctx.deadlineMs) break
      const { status, closed } = await probe(host, port, bytes)
      sent++
      answers.push(`${name}: ${status === 0 ? (closed ? 'closed' : 'no answer') : status}`)
      if (status >= 500 && !(versionless === true && status === VERSIONLESS)) serverErrors.push(`${name} -> ${status}`)
      if (diedAfter === null && !(await fetchHealth(ctx.settings.target.opsUrl)).ok) diedAfter = name
      if (diedAfter !== null) break
    }
    return {
      messagesSent: sent,
      figures: { requests: sent, answers: answers.join('; ') },
      checks: [
        check('the ops server survives every request', diedAfter === null, `/healthz answered after each of ${sent} requests`,
          `/healthz stopped answering after "${diedAfter}"`),
        check('no 5xx answers', serverErrors.length === 0, 'every malformed request got 4xx (505 for no HTTP/1.x request line), a plain answer, or a close',
          `answered with a server error: ${serverErrors.join('; ')}`),
      ],
    }
  },
}
