// Alerts reach ops: the scenario raises a lockout (an address past
// maxFailures wrong proofs) and a new-fingerprint alert (a new terminal
// let in on the terminal lane), then looks for them in /metrics
// (gatehouse_logon_alerts_total{kind}) and in `gatehouse admin alerts list`.
// The admin socket is optional: unreachable, that check is "not checked".
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { connect, hangUp, logOn, strangerLane, strangerTerminal, wrongProof } from '../drill-connection.js'
import { check, type Scenario, type ScenarioCheck, type ScenarioResult } from '../scenario.js'

const CLI = fileURLToPath(new URL('../../../cli/cli.js', import.meta.url))
/** Where `gatehouse start` puts the admin socket with the embedded defaults (runDir ./var). */
const DEFAULT_SOCKET = './var/admin.sock'

/** gatehouse_logon_alerts_total by kind; null when /metrics did not answer. */
async function alertCounts (opsUrl: string): Promise<Map<string, number> | null> {
  try {
    const response = await fetch(`${opsUrl}/metrics`, { signal: AbortSignal.timeout(2000) })
    if (response.status !== 200) return null
    const counts = new Map<string, number>()
    for (const line of (await response.text()).split('\n')) {
      const match = /^gatehouse_logon_alerts_total\{[^}]*kind="([^"]+)"[^}]*\} (\d+(?:\.\d+)?)$/.exec(line)
      if (match !== null) counts.set(match[1]!, (counts.get(match[1]!) ?? 0) + Number(match[2]))
    }
    return counts
  } catch {
    return null
  }
}

interface Alert { kind: string, account?: string | null, ip?: string | null, text?: string }

/** `gatehouse admin --json alerts list`: the alerts, or why they could not be read. */
async function adminAlerts (socket: string): Promise<Alert[] | string> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'admin', '--json', '--socket', socket, 'alerts', 'list', '--limit', '1000'], { timeout: 5000 }, (err, stdout, stderr) => {
      if (err !== null) { resolve(`admin alerts list failed: ${stderr.trim() || err.message}`); return }
      try {
        const parsed = JSON.parse(stdout) as unknown
        resolve(Array.isArray(parsed) ? parsed as Alert[] : 'admin alerts list did not print a list')
      } catch {
        resolve('admin alerts list did not print JSON')
      }
    })
  })
}

export const logonAlerts: Scenario = {
  name: 'logon-alerts',
  summary: 'a lockout and a new terminal raise alerts that /metrics and `admin alerts list` show',
  budgetMs: { short: 5000, full: 8000 },
  async run (ctx): Promise<ScenarioResult> {
    const { identity, thresholds, target } = ctx.settings
    const before = await alertCounts(target.opsUrl)
    const lane = strangerLane(ctx)
    // A lockout: one address past its allowance of wrong proofs.
    const lockedAddress = ctx.nextPrefix()
    const locker = await connect(ctx, lane, lockedAddress)
    if (locker.ok) {
      for (let i = 0; i < thresholds.maxFailures + 1; i++) await wrongProof(locker.conn, identity.appId, `drill-alert-${i}`)
      await hangUp(locker.conn)
    }
    // A new terminal for a made-up name, let in on the terminal lane (stopped before the password).
    const name = `drill-alert-${Math.random().toString(36).slice(2, 10)}`
    const fresh = await logOn(ctx, lane, name, null, ctx.nextPrefix(), strangerTerminal('alert'))
    await hangUp(fresh.conn)
    const after = await alertCounts(target.opsUrl)
    const grew = (kind: string): number => (after?.get(kind) ?? 0) - (before?.get(kind) ?? 0)
    const expected = ['lockout', ...(fresh.step === 'ready' ? ['new-fingerprint'] : [])]
    const missingInMetrics = expected.filter((kind) => grew(kind) < 1)
    const socket = target.adminSocket ?? (existsSync(DEFAULT_SOCKET) ? DEFAULT_SOCKET : null)
    let adminCheck: ScenarioCheck
    let adminKinds = ''
    if (socket === null) {
      adminCheck = { name: 'alerts in `admin alerts list`', ok: true, detail: `not checked: no --admin-socket given and no ${DEFAULT_SOCKET} here` }
    } else {
      const alerts = await adminAlerts(socket)
      if (typeof alerts === 'string') {
        adminCheck = { name: 'alerts in `admin alerts list`', ok: true, detail: `not checked: ${alerts}` }
      } else {
        const kinds = new Set(alerts.map((a) => a.kind))
        adminKinds = [...kinds].join(', ')
        const found = {
          // A lockout alert names its key in the text ("ip:127.1.2.3 locked until ...").
          lockout: alerts.some((a) => a.kind === 'lockout' && (a.ip === lockedAddress || (a.text ?? '').startsWith(`ip:${lockedAddress ?? ''} `))),
          'new-fingerprint': alerts.some((a) => a.kind === 'new-fingerprint' && a.account === name),
        }
        const missing = expected.filter((kind) => !found[kind as keyof typeof found])
        adminCheck = check('alerts in `admin alerts list`', missing.length === 0, `${expected.join(' and ')} listed (kinds seen: ${adminKinds})`,
          `not listed by admin alerts list: ${missing.join(', ')} (for ${lockedAddress ?? 'the address'} / ${name})`)
      }
    }
    const totals = after === null ? '' : [...after].map(([kind, n]) => `${kind}=${n}`).join(', ')
    return {
      messagesSent: thresholds.maxFailures + 6,
      figures: { alertTotals: totals, adminKinds },
      checks: [
        check('the new terminal reached the password step', fresh.step === 'ready', 'let in with an alert', `the new terminal was refused at ${fresh.step}: ${fresh.text}`),
        check('alerts counted in /metrics', after !== null && missingInMetrics.length === 0, `gatehouse_logon_alerts_total grew for ${expected.join(' and ')}`,
          after === null ? '/metrics did not answer' : `gatehouse_logon_alerts_total did not grow for ${missingInMetrics.join(', ')}`),
        adminCheck,
      ],
    }
  },
}
