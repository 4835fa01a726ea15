// The deployment files in deploy/, checked with the tools that will read
// them where this machine has them, and statically where it has not (no
// Docker engine runs here):
// - the systemd unit: `systemd-analyze verify`, with no warnings;
// - the alert rules: `promtool check rules`, each alert with its runbook section;
// - the dashboard's queries: valid PromQL (promtool, as recording rules);
// - the Dockerfile and compose file: parse, name files and commands that exist.
// test/deploy-metrics.test.ts checks the metric names against a real gateway.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import YAML from 'yaml'
import { resolveConfig } from '../config/load.js'
import { alertRules, dashboardExprs } from './helpers/deploy-queries.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const CLI = join(ROOT, 'dist', 'cli', 'cli.js')
const dir = mkdtempSync(join(tmpdir(), 'gatehouse-deploy-'))
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8')

t.test('systemd unit: systemd-analyze verify finds nothing to say', async (t) => {
  const unit = read('deploy/systemd/gatehouse.service')
  // verify checks that ExecStart's program exists: point it at this node.
  const file = join(dir, 'gatehouse.service')
  writeFileSync(file, unit.replaceAll('/usr/bin/node', process.execPath))
  const verify = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' })
  t.equal(verify.status, 0, verify.stderr)
  t.equal(verify.stderr.trim(), '', 'no warnings either (an unknown or misspelt setting is only a warning)')
  for (const setting of ['Restart=on-failure', 'KillSignal=SIGTERM', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'PrivateTmp=yes', 'ReadWritePaths=/var/lib/gatehouse', 'LimitNOFILE=']) {
    t.match(unit, new RegExp(`^${setting}`, 'm'), setting)
  }
  t.match(unit, /^ExecStart=\/usr\/bin\/node \/opt\/gatehouse\/dist\/cli\/cli\.js start --config /m)
  t.match(unit, /^ExecStartPost=.*\/readyz$/m, 'readiness waits for /readyz')

  const broken = join(dir, 'broken.service')
  writeFileSync(broken, unit.replaceAll('/usr/bin/node', process.execPath).replace('KillMode=mixed', 'KillMode=gently'))
  const complaint = spawnSync('systemd-analyze', ['verify', broken], { encoding: 'utf8' })
  t.match(complaint.stderr, /kill mode/i, 'the check can fail: a bad setting is reported')
})

t.test('the commands the unit runs exist: doctor and start take these options', async (t) => {
  const unit = read('deploy/systemd/gatehouse.service')
  for (const command of ['doctor', 'start']) {
    t.match(unit, new RegExp(`cli\\.js ${command} --config /etc/gatehouse/gatehouse\\.json`))
    const help = spawnSync(process.execPath, [CLI, command, '--help'], { encoding: 'utf8' })
    t.equal(help.status, 0)
    t.match(help.stdout, /--config FILE/)
  }
})

t.test('alert rules: promtool check rules, and a runbook section per alert', async (t) => {
  const check = spawnSync('promtool', ['check', 'rules', join(ROOT, 'deploy/prometheus/gatehouse-rules.yml')], { encoding: 'utf8' })
  t.equal(check.status, 0, check.stdout + check.stderr)
  const rules = alertRules()
  t.match(check.stdout, new RegExp(`SUCCESS: ${rules.length} rules found`))
  const runbook = read('docs/runbook.md')
  const sections = new Set([...runbook.matchAll(/^## (\S+)$/gm)].map((m) => m[1]!.toLowerCase()))
  for (const rule of rules) {
    t.ok(rule.alert, 'every rule is an alert')
    t.equal(rule.annotations?.runbook_url, `docs/runbook.md#${rule.alert!.toLowerCase()}`, `${rule.alert}: runbook_url`)
    t.ok(sections.has(rule.alert!.toLowerCase()), `${rule.alert}: has its section in docs/runbook.md`)
    t.ok(rule.annotations?.summary && rule.annotations.description, `${rule.alert}: summary and description`)
  }
  t.equal(sections.size, rules.length, 'and no section for an alert that does not exist')
  // The list: link down, journal failure or lag, disk watermark, lockout spike, held fingerprints, monitors.
  for (const metric of ['gatehouse_exchange_link_up', 'gatehouse_journal_write_failed', 'gatehouse_journal_uncommitted_age_seconds', 'gatehouse_journal_disk_low', 'gatehouse_logon_alerts_total{kind="lockout"}', 'gatehouse_fingerprints_held', 'gatehouse_rejects_total{reason=~"SELF_TRADE_LIMIT']) {
    t.ok(rules.some((rule) => rule.expr.includes(metric)), `a rule on ${metric}`)
  }
  const bad = join(dir, 'bad-rules.yml')
  writeFileSync(bad, 'groups:\n  - name: x\n    rules:\n      - alert: X\n        expr: rate(gatehouse_orders_total[5m] > 1\n')
  t.not(spawnSync('promtool', ['check', 'rules', bad], { encoding: 'utf8' }).status, 0, 'the check can fail: bad PromQL is refused')
})

t.test('dashboard: valid JSON, every panel queries, every query is valid PromQL', async (t) => {
  const dashboard = JSON.parse(read('deploy/grafana/gatehouse-dashboard.json')) as { uid: string, panels: Array<{ id: number, title: string, targets: Array<{ expr: string, refId: string }> }> }
  t.equal(dashboard.uid, 'gatehouse')
  t.equal(new Set(dashboard.panels.map((p) => p.id)).size, dashboard.panels.length, 'panel ids are unique')
  for (const panel of dashboard.panels) t.ok(panel.targets.length > 0 && panel.targets.every((target) => target.expr.length > 0), `${panel.title}: has queries`)
  // promtool parses PromQL only inside rules: each query becomes a recording rule.
  const exprs = dashboardExprs()
  const file = join(dir, 'dashboard-queries.yml')
  writeFileSync(file, YAML.stringify({ groups: [{ name: 'dashboard', rules: exprs.map((expr, i) => ({ record: `dashboard:query_${i}`, expr })) }] }))
  const check = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' })
  t.equal(check.status, 0, check.stdout + check.stderr)
  t.match(check.stdout, new RegExp(`SUCCESS: ${exprs.length} rules found`))
})

t.test('Dockerfile: the base, a health check, and every file it copies exists', async (t) => {
  const dockerfile = read('deploy/docker/Dockerfile')
  const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1])
  t.ok(froms.length >= 1 && froms.every((from) => from?.startsWith('node:20-bookworm')), `Node 20 on Debian 12 (glibc 2.36): ${froms.join(', ')}`)
  t.match(dockerfile, /^HEALTHCHECK .*\n\s*CMD \["node", "-e", .*\/livez/m)
  t.match(dockerfile, /^ENTRYPOINT \["node", "\/opt\/gatehouse\/dist\/cli\/cli\.js"\]$/m)
  t.match(dockerfile, /^CMD \["start", "--config", "\/etc\/gatehouse\/gatehouse\.json"\]$/m)
  for (const match of dockerfile.matchAll(/^COPY (?!--from)(.+) (\S+)$/gm)) {
    for (const source of match[1]!.trim().split(/\s+/)) t.ok(existsSync(join(ROOT, source)), `COPY ${source}: exists`)
  }
  // Everything the build compiles is copied in: tsconfig's include list.
  const tsconfig = JSON.parse(read('tsconfig.json')) as { include: string[] }
  for (const folder of tsconfig.include) t.match(dockerfile, new RegExp(`^COPY ${folder} \\./${folder}$`, 'm'), `COPY ${folder}`)
})

t.test('compose file: YAML, the gateway and the simulator, real commands and files', async (t) => {
  const compose = YAML.parse(read('deploy/docker/compose.yaml')) as { services: Record<string, { command: string[], build?: { context: string, dockerfile: string }, volumes?: string[] }> }
  t.same(Object.keys(compose.services).sort(), ['exchange-sim', 'gatehouse'])
  const build = compose.services['exchange-sim']!.build!
  t.ok(existsSync(join(ROOT, 'deploy/docker', build.context, build.dockerfile)), 'the build names the Dockerfile')
  for (const [name, service] of Object.entries(compose.services)) {
    // Each command, run as the image's entrypoint would, with --help added: it parses.
    const help = spawnSync(process.execPath, [CLI, ...service.command, '--help'], { encoding: 'utf8' })
    t.equal(help.status, 0, `${name}: \`gatehouse ${service.command.join(' ')}\` is a real command line`)
  }
  for (const volume of compose.services.gatehouse!.volumes ?? []) {
    const source = volume.split(':')[0]!
    if (source.startsWith('.')) t.ok(existsSync(join(ROOT, 'deploy/docker', source)), `${source}: exists`)
  }
  const config = resolveConfig(JSON.parse(read('deploy/docker/gatehouse.compose.json')))
  t.equal(config.exchange.host, 'exchange-sim', 'the gateway dials the simulator service')
  t.equal(config.exchange.embeddedSimulator, false)
  t.match(compose.services['exchange-sim']!.command, ['exchange-sim', '--host', '0.0.0.0', '--port', String(config.exchange.port)])
})
