// Client due diligence over the real admin socket, through `gatehouse
// admin` run as its own process: the report's contents, its dates and the
// status the checks read, the filing clock in the admin listing and on
// /metrics, and the journal's record of each step.
import t from 'tap'
import { runCli, type CliRun } from './helpers/cli-run.js'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { adminSocketPath, journalDir } from '../config/config.js'
import { readJournal } from '../journal/reader.js'
import { RecordKind } from '../journal/record-format.js'
import { TradingCalendar } from '../compliance/trading-calendar.js'
import { startTestGateway } from './helpers/gateway.js'
import { tradingAccount } from './helpers/trading.js'

const gateway = await startTestGateway({ overrides: { accounts: [tradingAccount('dd-prog')] } })
t.teardown(gateway.stop)

async function admin (args: string[]): Promise<CliRun> {
  return await runCli(['admin', ...args, '--socket', adminSocketPath(gateway.config), '--operator', 'carol'])
}

t.test('a report: contents first, then received, filed, confirmed; the clock and the status follow', async (t) => {
  const early = await admin(['accounts', 'report', 'receive', '--account', 'dd-prog'])
  t.equal(early.code, 1, 'receive before the contents: refused')
  t.match(early.stderr, /GH_ERR_ADMIN_REFUSED: the report of dd-prog lacks executionMethod and software/)

  const file = join(mkdtempSync(join(tmpdir(), 'gh-dd-')), 'software.json')
  writeFileSync(file, JSON.stringify([{ name: 'QuantBox', functions: 'signals and order routing', developer: 'QB Tech' }]))
  const set = await admin(['accounts', 'diligence', 'set', '--account', 'dd-prog', '--execution-method', 'automated by QuantBox', '--software-file', file])
  t.equal(set.code, 0, `diligence set: exit 0 ${set.stderr}`)

  const today = new Date().toISOString().slice(0, 10)
  const received = await admin(['accounts', 'report', 'receive', '--account', 'dd-prog', '--date', today])
  t.equal(received.code, 0, `receive: exit 0 ${received.stderr}`)
  const due = new TradingCalendar().addTradingDays(today, 5)
  const clocks = JSON.parse((await admin(['accounts', 'clocks', '--json'])).stdout) as Array<Record<string, unknown>>
  t.match(clocks, [{ account: 'dd-prog', clock: 'filing', startedOn: today, dueOn: due, doneOn: null, tradingDaysLeft: 5, state: 'running' }], 'the filing clock: 5 trading days')
  const metrics = await (await gateway.ops('/metrics')).text()
  t.match(metrics, /gatehouse_filing_clock_trading_days_left\{account="dd-prog",clock="filing"\} 5/, 'on /metrics')
  t.match(metrics, /gatehouse_filing_clocks_alerting\{state="due-soon"\} 0/)

  const filed = await admin(['accounts', 'report', 'file', '--account', 'dd-prog', '--date', today, '--json'])
  t.match(JSON.parse(filed.stdout).changes, [{ field: 'filedOn', before: null, after: today }, { field: 'programmaticReport', before: 'none', after: 'filed' }], 'filed: the date and the status')
  const confirmed = await admin(['accounts', 'report', 'confirm', '--account', 'dd-prog', '--date', today, '--json'])
  t.match(JSON.parse(confirmed.stdout).changes, [{ field: 'confirmedOn' }, { field: 'programmaticReport', before: 'filed', after: 'confirmed' }])
  t.equal(gateway.supervisor.risk.counters('dd-prog').programmaticReport, 'confirmed', 'the checks read confirmed')

  const shown = await admin(['accounts', 'diligence', 'show', '--account', 'dd-prog'])
  t.match(shown.stdout, /access model \(lanes\): terminal, platform, hft/)
  t.match(shown.stdout, /report software:\s+QuantBox \(signals and order routing; by QB Tech\)/)
  t.match(shown.stdout, /clock filing: started \S+, due \S+, met/)
  t.notMatch((await (await gateway.ops('/metrics')).text()), /gatehouse_filing_clock_trading_days_left\{account="dd-prog"/, 'a met clock leaves /metrics')

  const commands: string[] = []
  for (const r of readJournal(journalDir(gateway.config), { streams: ['supervisor'] })) {
    if (r.kind !== RecordKind.ADMIN_CHANGE) continue
    const doc = JSON.parse(r.payload.toString('utf8')) as { operator: string, command: string, scope: { account?: string } }
    if (doc.scope.account === 'dd-prog') commands.push(`${doc.operator}:${doc.command}`)
  }
  t.same(commands, ['carol:diligence', 'carol:report-receive', 'carol:report-file', 'carol:programmatic-report', 'carol:report-confirm', 'carol:programmatic-report'], 'each step journaled with its operator')
})
