// The PromQL that deploy/ ships: the alert rules' expressions and the
// Grafana dashboard's queries, and the metric selectors in them.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import YAML from 'yaml'

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))

export interface Rule { alert?: string, record?: string, expr: string, labels?: Record<string, string>, annotations?: Record<string, string> }

export function alertRules (): Rule[] {
  const doc = YAML.parse(readFileSync(join(REPO_ROOT, 'deploy/prometheus/gatehouse-rules.yml'), 'utf8')) as { groups: Array<{ rules: Rule[] }> }
  return doc.groups.flatMap((group) => group.rules)
}

export function dashboardExprs (): string[] {
  const dashboard = JSON.parse(readFileSync(join(REPO_ROOT, 'deploy/grafana/gatehouse-dashboard.json'), 'utf8')) as { panels: Array<{ targets?: Array<{ expr?: string }> }> }
  return dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr ?? ''))
}

/** One metric named in a query, with the label matchers written on it (= and =~ only). */
export interface Selector {
  metric: string
  matchers: Array<{ label: string, op: '=' | '=~', value: string }>
}

/** Every metric name in `expr` (identifiers that are not functions, keywords or labels), with its matchers. */
export function selectorsOf (expr: string): Selector[] {
  const selectors: Selector[] = []
  // Strip label lists after by/without/on/ignoring so their names are not taken for metrics.
  const cleaned = expr.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '')
  for (const match of cleaned.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{([^}]*)\})?(?!\s*\()/g)) {
    const name = match[1]!
    if (!/^(gatehouse_|up$|process_|nodejs_)/.test(name)) continue
    const matchers = [...(match[3] ?? '').matchAll(/(\w+)\s*(=~|=)\s*"([^"]*)"/g)].map((m) => ({ label: m[1]!, op: m[2] as '=' | '=~', value: m[3]! }))
    selectors.push({ metric: name, matchers })
  }
  return selectors
}
