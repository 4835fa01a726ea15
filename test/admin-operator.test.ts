// Who an admin request names, when the environment names nobody: systemd
// units, cron jobs and containers run without $USER or $LOGNAME. The CLI
// runs as its own process against a real gateway's socket, with those
// variables removed from its environment.
import t from 'tap'
import { runCli } from './helpers/cli-run.js'
import { userInfo } from 'node:os'
import { adminSocketPath, journalDir } from '../config/config.js'
import { startTestGateway } from './helpers/gateway.js'
import { tradingAccount } from './helpers/trading.js'

const gateway = await startTestGateway({ overrides: { accounts: [tradingAccount('op-halt'), tradingAccount('op-nobody')] } })
t.teardown(gateway.stop)
const socketPath = adminSocketPath(gateway.config)

interface Run { code: number | null, stdout: string, stderr: string }

/** `gatehouse ...` as its own process, with no USER, LOGNAME or GATEHOUSE_OPERATOR in its environment: PATH and HOME only. */
async function gatehouse (argv: string[], options: { uid?: number, gid?: number } = {}): Promise<Run> {
  // What cron gives a job, and none of the test runner's hooks (NODE_OPTIONS, tap's process-info files).
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/' }
  return await runCli(argv, { env, ...options })
}

t.test('a read needs no operator name', async (t) => {
  const sessions = await gatehouse(['admin', 'sessions', '--socket', socketPath, '--json'])
  t.equal(sessions.code, 0, `sessions: exit 0${sessions.code === 0 ? '' : ` (${sessions.stderr.trim()})`}`)
  t.same(JSON.parse(sessions.stdout), [], 'the session list (nobody is connected)')
  const limits = await gatehouse(['admin', 'limits', 'show', '--global', '--socket', socketPath])
  t.equal(limits.code, 0, `limits show: exit 0${limits.code === 0 ? '' : ` (${limits.stderr.trim()})`}`)
  t.match(limits.stdout, /maxOpenOrders/)
})

t.test('a change is journaled under the OS user name', async (t) => {
  const run = await gatehouse(['admin', 'trading-state', 'set', '--account', 'op-halt', 'halted', '--socket', socketPath])
  t.equal(run.code, 0, `trading-state set: exit 0${run.code === 0 ? '' : ` (${run.stderr.trim()})`}`)
  const search = await gatehouse(['journal', 'search', journalDir(gateway.config), '--kind', 'admin-change', '--account', 'op-halt', '--json'])
  t.equal(search.code, 0, `journal search: exit 0${search.code === 0 ? '' : ` (${search.stderr.trim()})`}`)
  const bodies = search.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { body: Record<string, unknown> }).body)
  t.match(bodies, [{ operator: userInfo().username, command: 'trading-state', after: 'halted' }], 'the operator is the OS account')
})

t.test('a change by a user the system cannot name is a usage error (exit 2), and nothing is sent', async (t) => {
  // Only root can run a child as a uid with no passwd entry.
  if (process.getuid?.() !== 0) {
    t.comment('not root: cannot run the CLI as an unnamed uid; the named-user case is covered above')
    t.pass('not root')
    return
  }
  const unnamed = 54_321
  const run = await gatehouse(['admin', 'trading-state', 'set', '--account', 'op-nobody', 'halted', '--socket', socketPath], { uid: unnamed, gid: unnamed })
  t.equal(run.code, 2, 'exit 2')
  t.match(run.stderr, /name the operator: --operator NAME, or set GATEHOUSE_OPERATOR/)
  // (The test runner's own hooks, wrapped around every child, may print a trace of their own when they cannot write as this uid.)
  t.notMatch(run.stderr, /admin-command\.js|os\.userInfo|uv_os_get_passwd/, 'no stack trace from the CLI')
  // A read from the same user reaches the socket (and is refused by its mode, exit 3), not a usage error.
  const read = await gatehouse(['admin', 'sessions', '--socket', socketPath], { uid: unnamed, gid: unnamed })
  t.equal(read.code, 3, 'a read gets as far as the socket')
})

t.test('files given to admin are read within a budget: a device is refused (exit 2), not read forever', async (t) => {
  const config = await gatehouse(['admin', 'sessions', '--config', '/dev/zero'])
  t.equal(config.code, 2, '--config /dev/zero: exit 2')
  t.match(config.stderr, 'cannot read --config /dev/zero to find the admin socket: /dev/zero: is a device, not a config file; or give --socket PATH')
  const authCode = await gatehouse(['admin', 'apps', 'register', '--app-id', 'vendor.app', '--vendor', 'V', '--name', 'N', '--version', '1',
    '--auth-code-file', '/dev/zero', '--socket', socketPath, '--operator', 'alice'])
  t.equal(authCode.code, 2, '--auth-code-file /dev/zero: exit 2')
  t.match(authCode.stderr, '--auth-code-file: /dev/zero: is a device, not an AuthCode file')
})
