// Every metric the alert rules and the Grafana dashboard name exists in a
// real gateway's /metrics, and every label value they match on is one the
// gateway exposes: a renamed metric or reason would otherwise leave an
// alert that can never fire and a panel that stays empty, silently.
import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GatehouseClient } from '../client/gatehouse-client.js'
import { startGatewayProcess } from './helpers/gateway-process.js'
import { TEST_IDENTITY } from './helpers/trading.js'
import { parseExposition } from './helpers/prometheus-text.js'
import { alertRules, dashboardExprs, selectorsOf } from './helpers/deploy-queries.js'

/** Series Prometheus makes itself, not the gateway. */
const PROMETHEUS_OWN = new Set(['up'])

t.test('the rules\' and the dashboard\'s metrics and label values are in a live /metrics', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-deploy-metrics-'))
  const configFile = join(dir, 'config.json')
  writeFileSync(configFile, JSON.stringify({
    runDir: join(dir, 'var'),
    lanes: { terminal: { port: 0 }, platform: { port: 0 }, hft: { port: 0 } },
    ops: { port: 0 },
    exchange: { port: 0 },
  }))
  const gw = await startGatewayProcess(configFile)
  t.teardown(() => gw.stop())
  // A gateway that has seen a logon: some families (logon steps by step
  // and result) have no series before their first event.
  const client = await GatehouseClient.connect(gw.url('platform'))
  t.equal((await client.logon('demo-maker', 'maker-pass', TEST_IDENTITY)).ok, true)
  await client.logout()
  const response = await fetch(`http://127.0.0.1:${gw.ready.ops.port}/metrics`)
  t.equal(response.status, 200)
  const families = parseExposition(await response.text())
  // Sample names (x_bucket, x_sum, x_count of a histogram x) with their label values.
  const labelValues = new Map<string, Map<string, Set<string>>>()
  for (const family of families.values()) {
    for (const sample of family.samples) {
      const labels = labelValues.get(sample.name) ?? new Map<string, Set<string>>()
      labelValues.set(sample.name, labels)
      for (const [label, value] of Object.entries(sample.labels)) {
        const values = labels.get(label) ?? new Set<string>()
        labels.set(label, values)
        values.add(value)
      }
    }
  }
  const queries = [
    ...alertRules().map((rule) => ({ where: `rule ${rule.alert}`, expr: rule.expr })),
    ...dashboardExprs().map((expr, i) => ({ where: `dashboard query ${i}`, expr })),
  ]
  let checked = 0
  for (const { where, expr } of queries) {
    const selectors = selectorsOf(expr)
    t.ok(selectors.length > 0, `${where}: names a metric`)
    for (const { metric, matchers } of selectors) {
      if (PROMETHEUS_OWN.has(metric)) continue
      const labels = labelValues.get(metric)
      t.ok(labels, `${where}: ${metric} is exposed`)
      if (labels === undefined) continue
      checked++
      for (const { label, op, value } of matchers) {
        const exposed = labels.get(label)
        t.ok(exposed, `${where}: ${metric} has a ${label} label`)
        const wanted = op === '=' ? [value] : value.split('|')
        for (const one of wanted) t.ok(exposed?.has(one), `${where}: ${metric}{${label}="${one}"} is a series`)
      }
    }
  }
  t.ok(checked >= 20, `${checked} metric references checked`)
})
