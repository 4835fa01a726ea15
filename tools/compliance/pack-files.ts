// The regulator pack's files: pack.json (the whole pack, what --verify
// checks), one CSV per section for spreadsheets, and index.html, a
// self-contained summary a person can read (no script, no outside link).
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { csvField, csvTextField } from '../journal/export-command.js'
import type { RegulatorPack } from './regulator-pack.js'

export const PACK_JSON = 'pack.json'
export const PACK_HTML = 'index.html'

type Row = Array<string | number | boolean | null>

/** Each CSV file: its name, header, and rows from the pack. */
export function csvTables (pack: RegulatorPack): Record<string, { header: string[], rows: Row[] }> {
  const s = pack.sections
  const cites = (c: string[]): string => c.join(' ')
  return {
    'external-systems.csv': {
      header: ['appId', 'vendor', 'name', 'version', 'status', 'statusHistory', 'evidenceSha256', 'evidence', 'certification', 'accounts', 'cites'],
      rows: s.externalSystems.map((a) => [a.appId, a.vendor, a.name, a.version, a.status,
        a.statusHistory.map((h) => `${h.time} ${h.status} by ${h.operator}`).join('; '),
        a.evidence.map((e) => e.sha256 ?? '-').join('; '),
        a.evidence.map((e) => `${e.document} (expires ${e.expires ?? '-'}) by ${e.operator}`).join('; '),
        a.certification.map((c) => c.source === 'typed-date' ? `access test passed ${c.accessTestPassed ?? '-'} (typed by ${c.operator})` : `certification ${c.passed === true ? 'passed' : `failed at ${c.failedStep ?? '?'}`} report ${c.reportSha256 ?? '-'}`).join('; '),
        a.accounts.map((x) => `${x.account} [${x.lanes.join('/')}]`).join('; '),
        cites(a.cites)]),
    },
    'account-access.csv': {
      header: ['appId', 'account', 'lanes'],
      rows: s.externalSystems.flatMap((a) => a.accounts.map((x) => [a.appId, x.account, x.lanes.join(' ')] as Row)),
    },
    'accounts.csv': {
      header: ['account', 'lanes', 'appIds', 'programmaticReport', 'cites'],
      rows: s.accounts.map((a) => [a.account, a.lanes.join(' '), a.appIds.join(' '), a.programmaticReport, cites(a.cites)]),
    },
    'programmatic-accounts.csv': {
      header: ['account', 'lanes', 'programmaticReport', 'executionMethod', 'software', 'reportReceivedOn', 'filedOn', 'confirmedOn', 'materialChangeOn', 'materialChangeReportedOn', 'clocks', 'cites'],
      rows: s.programmatic.map((p) => [p.account, p.lanes.join(' '), p.programmaticReport, p.executionMethod, p.software.map((x) => `${x.name}: ${x.functions} (by ${x.developer})`).join('; '),
        p.reportReceivedOn, p.filedOn, p.confirmedOn, p.materialChangeOn, p.materialChangeReportedOn,
        p.clocks.map((c) => `${c.clock} due ${c.dueOn} ${c.state}`).join('; '), cites(p.cites)]),
    },
    'incidents.csv': {
      header: ['time', 'type', 'lane', 'account', 'appId', 'operator', 'text', 'cites'],
      rows: s.incidents.map((i) => [i.time, i.type, i.lane, i.account, i.appId, i.operator, i.text, cites(i.cites)]),
    },
    'dual-control.csv': {
      header: ['requestId', 'change', 'summary', 'requestedBy', 'outcome', 'decidedBy', 'steps', 'cites'],
      rows: s.dualControl.map((d) => [d.requestId, d.change, d.summary, d.requestedBy, d.outcome, d.decidedBy, d.steps.map((x) => `${x.time} ${x.step} ${x.operator}`).join('; '), cites(d.cites)]),
    },
    'admin-changes.csv': {
      header: ['time', 'operator', 'command', 'account', 'scope', 'before', 'after', 'cites'],
      rows: s.adminChanges.map((c) => [c.time, c.operator, c.command, c.account, JSON.stringify(c.scope), JSON.stringify(c.before), JSON.stringify(c.after), cites(c.cites)]),
    },
    'records.csv': {
      header: ['ref', 'stream', 'segment', 'seq', 'kind', 'time', 'sha256'],
      rows: Object.entries(pack.records).map(([ref, r]) => [ref, r.stream, r.segment, r.seq, r.kind, r.time, r.sha256]),
    },
  }
}

/** One CSV file's text: CRLF lines, text fields guarded against spreadsheet formulas (as the journal export does). */
export function csvText (table: { header: string[], rows: Row[] }): string {
  const cell = (v: string | number | boolean | null): string => typeof v === 'number' ? csvField(String(v)) : csvTextField(v === null ? '' : String(v))
  return [table.header.map((h) => csvField(h)).join(','), ...table.rows.map((r) => r.map(cell).join(','))].join('\r\n') + '\r\n'
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

/** The summary page: every table, inline styles, nothing fetched. */
export function htmlSummary (pack: RegulatorPack): string {
  const tables = csvTables(pack)
  const section = (title: string, file: string, note: string): string => {
    const t = tables[file]!
    const head = `<tr>${t.header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`
    const body = t.rows.length === 0
      ? `<tr><td colspan="${t.header.length}">(none)</td></tr>`
      : t.rows.map((r) => `<tr>${r.map((v) => `<td>${escapeHtml(v === null ? '' : String(v))}</td>`).join('')}</tr>`).join('\n')
    return `<h2>${escapeHtml(title)} <small>(${t.rows.length}; ${escapeHtml(file)})</small></h2>\n<p>${escapeHtml(note)}</p>\n<table>\n${head}\n${body}\n</table>`
  }
  const alerts = pack.sections.programmatic.flatMap((p) => p.clocks).filter((c) => c.state === 'overdue' || c.state === 'due-soon' || c.state === 'late')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Gatehouse regulator pack as of ${escapeHtml(pack.asOf)}</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1em}td,th{border:1px solid #bbb;padding:2px 6px;vertical-align:top;font-size:12px}th{background:#eee}small{color:#666;font-weight:normal}.warn{color:#a00}</style>
</head><body>
<h1>Regulator pack as of ${escapeHtml(pack.asOf)}</h1>
<p>Times are ${escapeHtml(pack.timeZone)}. Built from the retention journal only; every row cites its journal records (stream/segment#sequence), listed with their SHA-256 at the end. <code>gatehouse compliance report --verify</code> checks this pack against the journal.</p>
<p>${pack.sections.externalSystems.length} external systems, ${pack.sections.accounts.length} accounts, ${pack.sections.programmatic.length} programmatic accounts, ${pack.sections.incidents.length} incidents, ${pack.sections.dualControl.length} dual-control requests, ${pack.sections.adminChanges.length} admin changes.</p>
${alerts.length === 0 ? '' : `<p class="warn">Filing clocks needing attention: ${escapeHtml(alerts.map((c) => `${c.account} ${c.clock} due ${c.dueOn} (${c.state})`).join('; '))}</p>`}
${section('External systems', 'external-systems.csv', 'Each AppID: status history, assessment evidence (with SHA-256 where stored), access-test certification, and the accounts using it with their access models.')}
${section('Accounts using each system', 'account-access.csv', 'AppID, account and its lanes (access model).')}
${section('Accounts', 'accounts.csv', 'Access model, software and programmatic-report status per account.')}
${section('Programmatic accounts', 'programmatic-accounts.csv', 'Report contents (execution method; software name, functions, developer), dates and the filing clocks: 5 trading days to file, 30 to report a material change.')}
${section('Incidents', 'incidents.csv', 'Lockouts, held and rejected fingerprints, expired assessments, kill switches, journal failures.')}
${section('Dual control', 'dual-control.csv', 'Changes that needed a second operator: who asked, who decided, or that the request expired.')}
${section('Admin changes', 'admin-changes.csv', 'Every change made at start, by config reload or over the admin socket.')}
${section('Cited journal records', 'records.csv', 'Every record cited above.')}
</body></html>
`
}

/** Writes every file of the pack into `dir` (created owner-only); returns their names. */
export function writePack (pack: RegulatorPack, dir: string): string[] {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const files: string[] = []
  const write = (name: string, text: string): void => {
    writeFileSync(join(dir, name), text, { mode: 0o600 })
    files.push(name)
  }
  write(PACK_JSON, JSON.stringify(pack, null, 2) + '\n')
  for (const [name, table] of Object.entries(csvTables(pack))) write(name, csvText(table))
  write(PACK_HTML, htmlSummary(pack))
  return files
}
