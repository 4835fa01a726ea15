// What the drill reads from the gateway between scenarios: /healthz (alive,
// pid, each lane's exchange environment), /metrics (journal bytes) and,
// when the process is on this host, its RSS and open descriptors from
// /proc (/metrics carries no process figures).
import { readFileSync, readdirSync } from 'node:fs'

export interface Health {
  /** /healthz answered 200. */
  ok: boolean
  /** HTTP status, or 0 when nothing answered. */
  status: number
  pid: number | null
  /** Lane name to exchange environment ("production", "test", or "" when the gateway does not say). */
  environments: Record<string, string>
  error: string | null
}

export interface Snapshot {
  health: Health
  rssBytes: number | null
  fds: number | null
  journalBytes: number | null
}

const PROBE_TIMEOUT_MS = 2000

export async function fetchHealth (opsUrl: string): Promise<Health> {
  try {
    const response = await fetch(`${opsUrl}/healthz`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) })
    const body = await response.json().catch(() => null) as { pid?: unknown, lanes?: Record<string, { environment?: unknown }> } | null
    const environments: Record<string, string> = {}
    for (const [lane, status] of Object.entries(body?.lanes ?? {})) {
      environments[lane] = typeof status?.environment === 'string' ? status.environment : ''
    }
    return { ok: response.status === 200, status: response.status, pid: typeof body?.pid === 'number' ? body.pid : null, environments, error: null }
  } catch (err) {
    return { ok: false, status: 0, pid: null, environments: {}, error: describeFetchError(err) }
  }
}

/** "connection refused", "timed out", ... rather than fetch's "fetch failed". */
export function describeFetchError (err: unknown): string {
  const cause = (err as { cause?: { code?: string, message?: string } }).cause
  if (cause?.code === 'ECONNREFUSED') return 'connection refused'
  if ((err as Error).name === 'TimeoutError') return `no answer within ${PROBE_TIMEOUT_MS} ms`
  return cause?.code ?? cause?.message ?? (err as Error).message
}

/** Sum of every series of one metric in Prometheus text format; null if absent. */
export function sumMetric (text: string, name: string): number | null {
  let total: number | null = null
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const rest = line.slice(name.length)
    if (rest[0] !== ' ' && rest[0] !== '{') continue
    const value = Number(line.slice(line.lastIndexOf(' ') + 1))
    if (Number.isFinite(value)) total = (total ?? 0) + value
  }
  return total
}

async function fetchMetrics (opsUrl: string): Promise<string | null> {
  try {
    const response = await fetch(`${opsUrl}/metrics`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) })
    return response.status === 200 ? await response.text() : null
  } catch {
    return null
  }
}

export function processFigures (pid: number | null): { rssBytes: number | null, fds: number | null } {
  if (pid === null) return { rssBytes: null, fds: null }
  let rssBytes: number | null = null
  let fds: number | null = null
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    if (match !== null) rssBytes = Number(match[1]) * 1024
  } catch { /* not on this host, or gone */ }
  try {
    fds = readdirSync(`/proc/${pid}/fd`).length
  } catch { /* not ours to read, or gone */ }
  return { rssBytes, fds }
}

export async function snapshot (opsUrl: string, pidOverride: number | null): Promise<Snapshot> {
  const health = await fetchHealth(opsUrl)
  const metrics = health.status === 0 ? null : await fetchMetrics(opsUrl)
  const { rssBytes, fds } = processFigures(pidOverride ?? health.pid)
  return {
    health,
    rssBytes,
    fds,
    journalBytes: metrics === null ? null : sumMetric(metrics, 'gatehouse_journal_bytes_total'),
  }
}
