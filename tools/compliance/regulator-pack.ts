// The regulator pack (`gatehouse compliance report`): what a futures
// company shows a regulator about its external systems and client access,
// built from the retention journal alone. Each item cites the records it
// came from (stream, segment file, record sequence, SHA-256 of the
// payload), so every line can be checked against the journal, and
// `--verify` does exactly that by building the pack again.
//
// Sections:
//   externalSystems   every AppID: status history, evidence, certification, accounts using it and their access models
//   accounts          every account: access model (lanes), AppIDs, programmatic-report status
//   programmatic      accounts with a programmatic-trading report or a programmatic lane: report contents, dates, clocks
//   incidents         lockouts, held and rejected fingerprints, expired assessments, kill switches, journal failures
//   dualControl       every dual-control request: who asked, who approved or rejected, or that it expired
//   adminChanges      every admin change, one row each (the complete change log)
import { createHash } from 'node:crypto'
import { readJournal, type ReadRecord } from '../../journal/reader.js'
import { FLAG_JSON, recordKindName } from '../../journal/record-format.js'
import { EVIDENCE_COMMANDS, type CertificationRecord, type EvidenceMetadata } from '../../journal/gateway-records.js'
import { TradingCalendar } from '../../compliance/trading-calendar.js'
import { filingClocks, type FilingClock } from '../../compliance/filing-clocks.js'
import { INCIDENT_REASONS, PACK_SOURCES, packStreams, sourceOfKind, type PackSourceName } from './pack-sources.js'
import { dateInZone, endOfDateUs, formatTime } from './pack-time.js'

export const PACK_FORMAT = 'gatehouse-regulator-pack/1'

/** A record as the pack cites it: "stream/segment-file#seq". */
export type RecordRef = string

export interface CitedRecord {
  stream: string
  segment: string
  seq: number
  kind: string
  time: string
  /** SHA-256 of the record's payload, hex. */
  sha256: string
}

export interface StatusEntry { time: string, status: string, operator: string, cites: RecordRef[] }
export interface EvidenceEntry { time: string, document: string, expires: string | null, sha256: string | null, operator: string, cites: RecordRef[] }
export interface CertificationEntry { time: string, source: 'typed-date' | 'certification-run', accessTestPassed: string | null, passed: boolean | null, reportSha256: string | null, failedStep: string | null, operator: string, cites: RecordRef[] }

export interface ExternalSystem {
  appId: string
  vendor: string
  name: string
  version: string
  status: string
  statusHistory: StatusEntry[]
  evidence: EvidenceEntry[]
  certification: CertificationEntry[]
  accounts: Array<{ account: string, lanes: string[] }>
  cites: RecordRef[]
}

export interface AccountItem { account: string, lanes: string[], appIds: string[], programmaticReport: string, cites: RecordRef[] }

export interface ProgrammaticItem {
  account: string
  lanes: string[]
  programmaticReport: string
  executionMethod: string | null
  software: Array<{ name: string, functions: string, developer: string }>
  reportReceivedOn: string | null
  filedOn: string | null
  confirmedOn: string | null
  materialChangeOn: string | null
  materialChangeReportedOn: string | null
  clocks: FilingClock[]
  cites: RecordRef[]
}

export interface IncidentItem { time: string, type: string, lane: string | null, account: string | null, appId: string | null, operator: string | null, text: string, cites: RecordRef[] }
export interface DualControlItem { requestId: string, change: string, summary: string, requestedBy: string, outcome: string, decidedBy: string | null, steps: Array<{ time: string, step: string, operator: string }>, cites: RecordRef[] }
export interface AdminChangeItem { time: string, operator: string, command: string, account: string | null, scope: unknown, before: unknown, after: unknown, cites: RecordRef[] }

export interface RegulatorPack {
  format: typeof PACK_FORMAT
  asOf: string
  timeZone: string
  sections: {
    externalSystems: ExternalSystem[]
    accounts: AccountItem[]
    programmatic: ProgrammaticItem[]
    incidents: IncidentItem[]
    dualControl: DualControlItem[]
    adminChanges: AdminChangeItem[]
  }
  /** Every record an item cites, by reference. */
  records: Record<RecordRef, CitedRecord>
}

export type SectionName = keyof RegulatorPack['sections']
export const SECTION_NAMES: readonly SectionName[] = ['externalSystems', 'accounts', 'programmatic', 'incidents', 'dualControl', 'adminChanges']

/** An item's key within its section, as problems name it. */
export function itemKey (section: SectionName, item: Record<string, unknown>, index: number): string {
  switch (section) {
    case 'externalSystems': return `appId=${String(item.appId)}`
    case 'accounts':
    case 'programmatic': return `account=${String(item.account)}`
    case 'dualControl': return `requestId=${String(item.requestId)}`
    default: return `#${index + 1} (${(item.cites as string[] | undefined)?.[0] ?? 'no record'})`
  }
}

export function refOf (r: { stream: string, file: string, seq: number }): RecordRef {
  return `${r.stream}/${r.file}#${r.seq}`
}

export function payloadSha256 (payload: Uint8Array): string {
  return createHash('sha256').update(payload).digest('hex')
}

/** A record the pack reads: its source, its JSON document, and how it is cited. */
export interface PackRecord {
  source: PackSourceName
  ref: RecordRef
  timeUs: number
  account: string
  doc: Record<string, any>
  cited: CitedRecord
}

/**
 * The records the table selects, in journal order, up to the end of the
 * as-of date: the one reader both building and verifying use.
 */
export function * packRecords (journalDir: string, asOf: string, tz: string): Generator<PackRecord> {
  const endUs = endOfDateUs(asOf, tz)
  for (const r of readJournal(journalDir, { streams: packStreams() })) {
    if (r.timeUs >= endUs) continue
    const source = sourceOfKind(recordKindName(r.kind))
    if (source === undefined || PACK_SOURCES[source].stream !== r.stream) continue
    const doc = jsonOf(r)
    if (doc === null || !PACK_SOURCES[source].relevant(doc)) continue
    const ref = refOf(r)
    yield {
      source,
      ref,
      timeUs: r.timeUs,
      account: r.account,
      doc,
      cited: { stream: r.stream, segment: r.file, seq: r.seq, kind: recordKindName(r.kind), time: formatTime(r.timeUs, tz), sha256: payloadSha256(r.payload) },
    }
  }
}

function jsonOf (r: ReadRecord): Record<string, any> | null {
  if ((r.flags & FLAG_JSON) === 0) return null
  try {
    const doc = JSON.parse(r.payload.toString('utf8')) as unknown
    return typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? doc as Record<string, any> : null
  } catch {
    return null
  }
}

/** An external system while the journal is read: its accounts are filled in at the end, its cites gathered without repeats. */
interface AppState extends Omit<ExternalSystem, 'accounts' | 'cites'> {
  cites: Set<RecordRef>
}

interface AccountState {
  account: string
  lanes: string[]
  appIds: string[]
  programmaticReport: string
  diligence: Record<string, any>
  cites: Set<RecordRef>
}

const str = (v: unknown): string => typeof v === 'string' ? v : ''
const strOrNull = (v: unknown): string | null => typeof v === 'string' ? v : null
const strings = (v: unknown): string[] => Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []

/** Builds the pack from the journal under `journalDir`, as of the end of `asOf` in `tz`. */
export function buildPack (journalDir: string, asOf: string, tz: string): RegulatorPack {
  const apps = new Map<string, AppState>()
  const accounts = new Map<string, AccountState>()
  const incidents: IncidentItem[] = []
  const dual = new Map<string, DualControlItem>()
  const changes: AdminChangeItem[] = []
  const records: Record<RecordRef, CitedRecord> = {}
  let holidays: string[] = []
  let alertDaysAhead = 2

  const app = (appId: string): AppState => {
    let a = apps.get(appId)
    if (a === undefined) {
      a = { appId, vendor: '', name: '', version: '', status: 'unknown', statusHistory: [], evidence: [], certification: [], cites: new Set() }
      apps.set(appId, a)
    }
    return a
  }
  const account = (id: string): AccountState => {
    let a = accounts.get(id)
    if (a === undefined) {
      a = { account: id, lanes: [], appIds: [], programmaticReport: 'none', diligence: {}, cites: new Set() }
      accounts.set(id, a)
    }
    return a
  }
  const setStatus = (a: AppState, status: string, time: string, operator: string, ref: RecordRef): void => {
    a.cites.add(ref)
    const last = a.statusHistory.at(-1)
    if (last?.status === status) return
    a.status = status
    a.statusHistory.push({ time, status, operator, cites: [ref] })
  }
  const putApp = (software: Record<string, any>, time: string, operator: string, ref: RecordRef): void => {
    const a = app(str(software.appId))
    a.vendor = str(software.vendor)
    a.name = str(software.name)
    a.version = str(software.version)
    setStatus(a, str(software.status), time, operator, ref)
    const assessment = (software.assessment ?? {}) as Record<string, any>
    noteAssessment(a, null, assessment, time, operator, ref)
  }
  const noteAssessment = (a: AppState, before: Record<string, any> | null, after: Record<string, any>, time: string, operator: string, ref: RecordRef): void => {
    a.cites.add(ref)
    const had = new Set(((before?.documents ?? []) as Array<Record<string, unknown>>).map((d) => `${str(d.name)}|${str(d.expires)}`))
    for (const d of (after.documents ?? []) as Array<Record<string, unknown>>) {
      const key = `${str(d.name)}|${str(d.expires)}`
      if (had.has(key) || a.evidence.some((e) => `${e.document}|${e.expires ?? ''}` === key && e.sha256 === null)) continue
      a.evidence.push({ time, document: str(d.name), expires: strOrNull(d.expires), sha256: null, operator, cites: [ref] })
    }
    const passed = strOrNull(after.accessTestPassed)
    if (passed !== null && passed !== (before?.accessTestPassed ?? null) && a.certification.at(-1)?.accessTestPassed !== passed) {
      a.certification.push({ time, source: 'typed-date', accessTestPassed: passed, passed: null, reportSha256: null, failedStep: null, operator, cites: [ref] })
    }
  }
  const putAccount = (acc: Record<string, any>, ref: RecordRef): void => {
    const a = account(str(acc.id))
    a.lanes = strings(acc.lanes)
    a.appIds = strings(acc.appIds)
    a.programmaticReport = str(acc.programmaticReport) || 'none'
    if (typeof acc.diligence === 'object' && acc.diligence !== null) a.diligence = acc.diligence as Record<string, any>
    a.cites.add(ref)
  }

  for (const r of packRecords(journalDir, asOf, tz)) {
    records[r.ref] = r.cited
    const time = r.cited.time
    const d = r.doc
    if (r.source === 'logonStep') {
      incidents.push({ time, type: INCIDENT_REASONS[str(d.reasonName)]!, lane: strOrNull(d.lane), account: strOrNull(d.account), appId: strOrNull(d.appId), operator: null, text: `${str(d.step)}: ${str(d.reasonName)}${str(d.text) === '' ? '' : ` (${str(d.text)})`}`, cites: [r.ref] })
      continue
    }
    // An admin change.
    const operator = str(d.operator)
    const command = str(d.command)
    const scope = (d.scope ?? {}) as Record<string, any>
    const acct = strOrNull(scope.account) ?? (r.account === '' ? null : r.account)
    changes.push({ time, operator, command, account: acct, scope: d.scope ?? null, before: d.before ?? null, after: d.after ?? null, cites: [r.ref] })
    const approvedAs = (d.detail as Record<string, any> | undefined)?.dualControl as Record<string, unknown> | undefined
    if (approvedAs !== undefined) noteDualControl(dual, 'effect', { ...d, scope: { requestId: approvedAs.requestId } }, time, r.ref)
    const after = d.after as any
    switch (command) {
      case 'start': {
        for (const s of (after?.software ?? []) as Array<Record<string, any>>) putApp(s, time, 'config', r.ref)
        for (const acc of (after?.accounts ?? []) as Array<Record<string, any>>) putAccount(acc, r.ref)
        if (Array.isArray(after?.compliance?.tradingCalendar?.holidays)) holidays = strings(after.compliance.tradingCalendar.holidays)
        if (typeof after?.compliance?.clockAlertDaysAhead === 'number') alertDaysAhead = after.compliance.clockAlertDaysAhead as number
        break
      }
      case 'restore': {
        for (const s of (after?.software ?? []) as Array<Record<string, any>>) putApp(s, time, 'admin-state', r.ref)
        for (const [id, appIds] of Object.entries((after?.bindings ?? {}) as Record<string, unknown>)) { const a = account(id); a.appIds = strings(appIds); a.cites.add(r.ref) }
        for (const [id, status] of Object.entries((after?.programmaticReports ?? {}) as Record<string, unknown>)) { const a = account(id); a.programmaticReport = str(status); a.cites.add(r.ref) }
        for (const [id, dil] of Object.entries((after?.diligence ?? {}) as Record<string, unknown>)) { const a = account(id); a.diligence = dil as Record<string, any>; a.cites.add(r.ref) }
        break
      }
      case 'app-register': putApp(after as Record<string, any>, time, operator, r.ref); break
      case 'app-evidence': noteAssessment(app(str(scope.appId)), d.before as Record<string, any> | null, (after ?? {}) as Record<string, any>, time, operator, r.ref); break
      case EVIDENCE_COMMANDS.ADD: {
        const m = after as EvidenceMetadata
        const a = app(m.appId)
        a.cites.add(r.ref)
        a.evidence.push({ time, document: `${m.kind} from ${m.issuer}`, expires: m.expires, sha256: m.sha256, operator, cites: [r.ref] })
        break
      }
      case EVIDENCE_COMMANDS.CERTIFICATION: {
        const c = after as CertificationRecord
        const a = app(c.appId)
        a.cites.add(r.ref)
        a.certification.push({ time, source: 'certification-run', accessTestPassed: c.passed ? dateInZone(r.timeUs, tz) : null, passed: c.passed, reportSha256: c.reportSha256, failedStep: c.steps.find((step) => !step.passed)?.id ?? null, operator, cites: [r.ref] })
        break
      }
      case 'app-status': setStatus(app(str(scope.appId)), str(after), time, operator, r.ref); break
      case 'app-bind':
      case 'app-unbind': { const a = account(str(scope.account)); a.appIds = strings(after); a.cites.add(r.ref); break }
      case 'programmatic-report': { const a = account(str(scope.account)); a.programmaticReport = str(after); a.cites.add(r.ref); break }
      case 'diligence':
      case 'report-receive':
      case 'report-file':
      case 'report-confirm':
      case 'report-change':
      case 'report-change-reported': { const a = account(str(scope.account)); a.diligence = (after ?? {}) as Record<string, any>; a.cites.add(r.ref); break }
      case 'kill-switch':
        incidents.push({ time, type: 'kill-switch', lane: strOrNull(scope.lane), account: acct, appId: null, operator, text: `${JSON.stringify(d.scope)} ${after === true ? 'on' : 'off'}`, cites: [r.ref] })
        break
      case 'fingerprint':
        if (after === 'rejected') incidents.push({ time, type: 'fingerprint-rejected', lane: null, account: acct, appId: null, operator, text: `fingerprint ${str(scope.fingerprintId)} rejected by ${operator}`, cites: [r.ref] })
        break
      case 'journal-failure':
        incidents.push({ time, type: 'journal-failure', lane: strOrNull(scope.lane), account: null, appId: null, operator, text: str((d.detail as Record<string, unknown> | undefined)?.error), cites: [r.ref] })
        break
      default:
        if (command.startsWith('dual-control-')) noteDualControl(dual, command.slice('dual-control-'.length), d, time, r.ref)
    }
  }

  const calendar = new TradingCalendar(holidays)
  const externalSystems: ExternalSystem[] = [...apps.values()].sort((a, b) => a.appId.localeCompare(b.appId)).map((a) => ({
    appId: a.appId,
    vendor: a.vendor,
    name: a.name,
    version: a.version,
    status: a.status,
    statusHistory: a.statusHistory,
    evidence: a.evidence,
    certification: a.certification,
    accounts: [...accounts.values()].filter((acc) => acc.appIds.includes(a.appId)).sort((x, y) => x.account.localeCompare(y.account)).map((acc) => ({ account: acc.account, lanes: acc.lanes })),
    cites: [...a.cites],
  }))
  const sortedAccounts = [...accounts.values()].sort((a, b) => a.account.localeCompare(b.account))
  const programmatic: ProgrammaticItem[] = sortedAccounts
    .filter((a) => a.programmaticReport !== 'none' || a.diligence.reportReceivedOn != null || a.lanes.includes('platform') || a.lanes.includes('hft'))
    .map((a) => {
      const dl = a.diligence
      const dates = { reportReceivedOn: dl.reportReceivedOn ?? null, filedOn: dl.filedOn ?? null, materialChangeOn: dl.materialChangeOn ?? null, materialChangeReportedOn: dl.materialChangeReportedOn ?? null }
      return {
        account: a.account,
        lanes: a.lanes,
        programmaticReport: a.programmaticReport,
        executionMethod: dl.executionMethod ?? null,
        software: Array.isArray(dl.software) ? dl.software : [],
        reportReceivedOn: dates.reportReceivedOn,
        filedOn: dates.filedOn,
        confirmedOn: dl.confirmedOn ?? null,
        materialChangeOn: dates.materialChangeOn,
        materialChangeReportedOn: dates.materialChangeReportedOn,
        clocks: filingClocks(calendar, a.account, dates, asOf, alertDaysAhead),
        cites: [...a.cites],
      }
    })
  return {
    format: PACK_FORMAT,
    asOf,
    timeZone: tz,
    sections: {
      externalSystems,
      accounts: sortedAccounts.map((a) => ({ account: a.account, lanes: a.lanes, appIds: a.appIds, programmaticReport: a.programmaticReport, cites: [...a.cites] })),
      programmatic,
      incidents,
      dualControl: [...dual.values()],
      adminChanges: changes,
    },
    records,
  }
}

function noteDualControl (dual: Map<string, DualControlItem>, step: string, d: Record<string, any>, time: string, ref: RecordRef): void {
  const requestId = str((d.scope as Record<string, unknown> | undefined)?.requestId)
  let item = dual.get(requestId)
  if (item === undefined) {
    const after = (d.after ?? {}) as Record<string, unknown>
    item = { requestId, change: str((d.detail as Record<string, unknown> | undefined)?.change), summary: str(after.summary), requestedBy: str(after.requestedBy) || str(d.operator), outcome: 'pending', decidedBy: null, steps: [], cites: [] }
    dual.set(requestId, item)
  }
  item.steps.push({ time, step, operator: str(d.operator) })
  item.cites.push(ref)
  if (step === 'approve') { item.outcome = 'approved'; item.decidedBy = str(d.operator) }
  if (step === 'reject') { item.outcome = 'rejected'; item.decidedBy = str(d.operator) }
  if (step === 'expired') item.outcome = 'expired'
}
