/**
 * The supervisor: the gateway's main thread. It starts one worker thread per
 * enabled lane, serves ops HTTP, and stops everything in the order uWS
 * requires (each thread closes its own sockets before it ends).
 *
 * It never touches client traffic: lanes own their sockets, decoding, checks
 * and exchange link.
 */
import { startNats, type NatsLink } from '../cluster/nats-connection.js'
import { ControlFanout } from './admin/control-fanout.js'
import { ReplicatorThread, type ReplicationAlert } from '../cluster/replicator-thread.js'
import { KvDirectorySync, directoryOfConfig, redirectEndpoint, type AccountDirectory } from '../cluster/account-directory.js'
import { AccountMoveError, moveAccount, serveHandovers, type MoveStepReport } from '../cluster/account-handover.js'
import type { TradingState } from '../checks/risk-layout.js'
import { Worker } from 'node:worker_threads'
import { once } from 'node:events'
import { adminSocketPath, journalDir, type GatewayConfig } from '../config/config.js'
import { LANE_NAMES, type LaneName } from '../protocol/lanes.js'
import { OpsServer } from './ops/ops-server.js'
import { loadOpsToken, opsTokenPath } from '../config/ops-token.js'
import { createLaneMetricsBuffers } from '../lane/lane-metrics.js'
import { createGatewayMetrics, createSupervisorSampleSlots } from './ops/metrics.js'
import { ThreadSampler } from '../platform/thread-sampler.js'
import { StatusWindow, type DocumentRow, type MonitorRow } from './ops/status-window.js'
import { buildInfo } from './ops/build-info.js'
import { RISK_LANES } from '../checks/risk-control.js'
import { SLOT_DISK_STATE, SLOT_JOURNAL_FAILED, LaneMetricsReader } from '../lane/lane-metrics.js'
import { AccessControl } from './access/access-control.js'
import { terminalInfoRecord, type TerminalInfo } from '../protocol/terminal-fingerprint.js'
import { v1 } from '../protocol/messages.js'
import { CrossThreadRequester, answerRequests } from '../platform/cross-thread.js'
import type { LinkState } from '../lane/exchange-link.js'
import type { AccessRequest, AccessResult, LaneRequests, LaneToSupervisor, LaneWorkerData, RiskAlert, SupervisorRequests, SupervisorToLane } from '../lane/worker-contract.js'
import { createRiskControl } from '../config/risk-config.js'
import type { KillScope, RiskControl, Change } from '../checks/risk-control.js'
import { SupervisorJournal } from './supervisor-journal.js'
import { AdminState, adminStatePath, emptyAdminState } from './admin/admin-state.js'
import { SupervisorAdmin } from './admin/supervisor-admin.js'
import { gatewayRecoveryDay, recoverLanes, type LaneRecovery } from '../lane/recovery.js'
import { AdminServer } from './admin/admin-server.js'
import type { AdminChangeDocument } from '../journal/gateway-records.js'
import { EvidenceStore, evidenceDir } from './evidence/evidence-store.js'
import { daysToExpiry, isExpired, isExpiringWithin } from './evidence/evidence-expiry.js'

export interface LaneStatus {
  host: string
  port: number
  tls: boolean
  link: LinkState
  linkDetail: string
  /**
   * The exchange environment the lane's link reported at its last logon
   * ("production" or "test"); "" until the link first comes up. Tools
   * such as `gatehouse drill` read it from /healthz to refuse production.
   */
  environment: string
}

export interface RunningGateway {
  lanes: Partial<Record<LaneName, LaneStatus>>
  /** The ops port, and the file holding the bearer token its account routes require. */
  ops: { host: string, port: number, tls: boolean, tokenFile: string }
}

/** How long a lane may take to stop before its thread is terminated. */
const LANE_STOP_TIMEOUT_MS = 5000
/**
 * How long a lane may take to answer the supervisor (sessions, disconnect,
 * mass cancel): each is synchronous in the lane, so only a stuck lane
 * thread takes this long. Below the admin CLI's own reply timeout, so the
 * operator gets the reason rather than a timeout of the socket.
 */
const LANE_REQUEST_TIMEOUT_MS = 10_000
/** Admin requests to one lane awaiting replies at most: bounded by the admin connections, so this is never reached in use. */
const MAX_PENDING_LANE_REQUESTS = 1024
/** Expired journal segments are purged at start and then this often. */
const PURGE_INTERVAL_MS = 24 * 3600 * 1000

/** The supervisor's journal stream; a directory that cannot be written is a one-line error naming journal.dir. */
function openSupervisorJournal (config: GatewayConfig): SupervisorJournal {
  const j = config.journal
  const root = journalDir(config)
  try {
    return new SupervisorJournal({ root, fsync: j.fsync, maxSegmentBytes: j.maxSegmentBytes, chain: j.chain, retentionYears: j.retentionYears })
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException
    if (code === undefined) throw err
    throw new Error(`journal.dir: cannot write the journal in "${root}" (${message}); make it a directory this user can write, or set journal.dir`, { cause: err })
  }
}

/** The AppIDs and accounts of a config as the journal may show them: no AuthCode, no password hash. */
export function registryOfConfig (config: GatewayConfig): { software: unknown[], accounts: unknown[], compliance: unknown } {
  return {
    compliance: config.compliance,
    software: config.software.map((app) => ({ ...app, authCode: '***' })),
    accounts: config.accounts.map(({ passwordHash: _hash, ...account }) => account),
  }
}

export class Supervisor {
  private readonly workers = new Map<LaneName, Worker>()
  private readonly lanes: Partial<Record<LaneName, LaneStatus>> = {}
  /** Each lane's /metrics counters: written by that lane's thread only, read here at scrape time (lane-metrics.ts). */
  private readonly laneMetrics = createLaneMetricsBuffers()
  private readonly linkWaiters: Array<() => void> = []
  /** This thread's own event-loop delay and heap (platform/thread-sampler.ts), for /metrics. */
  private readonly supervisorSample = createSupervisorSampleSlots()
  private sampler: ThreadSampler | null = null
  /** The status page's recent window (status-window.ts); runs while the ops port does. */
  private statusWindow: StatusWindow | null = null
  private ops: OpsServer | null = null
  private opsPort = 0
  /** What each enabled lane recovered from the journal at start (lane/recovery.ts), handed to its thread. */
  private recovered = new Map<LaneName, LaneRecovery>()
  /** Called on every lane event (link up/down), e.g. to print it. */
  onLaneEvent: (event: LaneToSupervisor) => void = () => {}
  /** Look-through access control: every logon step of every lane is decided here. */
  readonly access: AccessControl
  /**
   * Live tuning of limits, states and switches: writes the shared risk
   * state every lane thread checks on each message.
   */
  readonly risk: RiskControl
  /** Called when a regulatory monitor reaches its warning level. */
  onRiskAlert: (alert: RiskAlert) => void = () => {}
  /** The supervisor's journal stream (logon steps, changes, purges); null when journal.enabled is false. */
  readonly journal: SupervisorJournal | null
  private purgeTimer: NodeJS.Timeout | null = null
  private expiryTimer: NodeJS.Timeout | null = null
  /** Assessment documents, by SHA-256 (<runDir>/evidence). */
  readonly evidence: EvidenceStore
  /** Called when a journal stream fails (a lane's or this one's): the gateway fails closed there. */
  onJournalFailure: (where: string, error: string) => void = () => {}
  /**
   * Admin changes kept from before the restart that could not be applied
   * at start (e.g. an account the config no longer has), each saying why;
   * set by start(), for ops to read (gatehouse start prints them).
   */
  adminStateSkipped: string[] = []
  /** Changes made through the admin socket, persisted (admin-state.ts). */
  readonly state: AdminState
  /** What the admin socket calls (admin-api.ts). */
  readonly admin: SupervisorAdmin
  private adminServer: AdminServer | null = null
  /** The supervisor's requests to each lane thread (platform/cross-thread.ts). */
  private readonly laneRequesters = new Map<LaneName, CrossThreadRequester<LaneRequests>>()
  /**
   * The supervisor's NATS connection when `cluster.enabled` (account
   * directory, control fan-out); null for a single instance. Started
   * first in start() and never awaited there: an instance starts and
   * trades while NATS is down (docs/cluster.md).
   */
  nats: NatsLink | null = null
  /** Admin changes to and from the other instances (supervisor/admin/control-fanout.ts); null unless `cluster.enabled`. */
  control: ControlFanout | null = null
  /**
   * Journal replication's thread when `cluster.enabled` and
   * `cluster.replication.enabled` (cluster/replicator-thread.ts): it tails
   * the segment files and never talks to a lane.
   */
  replicator: ReplicatorThread | null = null
  /** Called when journal replication loses or regains NATS, or its lag passes or falls under lagAlertMs. */
  onReplicationAlert: (alert: ReplicationAlert) => void = () => {}
  /** Which instance holds each account (cluster/account-directory.ts); null for a single instance, which holds them all. */
  readonly directory: AccountDirectory | null
  /** The directory's NATS KV bucket, watched (directory.source nats-kv); null otherwise. */
  directorySync: KvDirectorySync | null = null
  /** Answers other instances' account handovers (cluster/account-handover.ts); null for a single instance. */
  private handovers: { stop: () => void } | null = null
  /** Resolves once this instance receives the other instances' changes (at once without a cluster). */
  controlSubscribed: Promise<void> = Promise.resolve()

  constructor (readonly config: GatewayConfig) {
    this.access = new AccessControl(config)
    this.directory = config.cluster.enabled ? directoryOfConfig(config) : null
    const directory = this.directory
    if (directory !== null) {
      this.access.placement = (account, lane) => {
        const owner = directory.ownerOf(account)
        return owner === config.gatewayId ? null : { instance: owner, endpoint: redirectEndpoint(config, owner, lane) }
      }
      // A session of an account moved away must not trade here any more:
      // it reconnects and is redirected.
      directory.onChange(({ account, before, after }) => {
        if (before === config.gatewayId) void this.disconnectAccount(account, `account ${account} is now held by instance ${after}; log on again to be redirected`)
      })
    }
    this.risk = createRiskControl(config)
    const j = config.journal
    this.journal = j.enabled ? openSupervisorJournal(config) : null
    const journal = this.journal
    // A step whose record cannot be written throws here, and the step is
    // refused (decideAccess fails closed).
    if (journal !== null) this.access.audit.onRecord = (record) => { journal.logonStep(record) }
    this.state = new AdminState(adminStatePath(config))
    this.evidence = new EvidenceStore(evidenceDir(config.runDir), config.evidence.maxFileBytes)
    // The logon check reads the stored documents the admin side keeps.
    this.access.storedEvidence = (appId) => this.state.doc.evidence[appId] ?? []
    this.admin = new SupervisorAdmin(this)
  }

  /** Wall-clock now: what document expiry is judged against. */
  nowMs (): number {
    return Date.now()
  }

  /**
   * Suspends every AppID in testing or production that has an expired
   * document, journaling each suspension (app-status, operator "gateway").
   * A suspended AppID is not looked at again, so each expiry is recorded
   * once however often this runs. Returns the AppIDs it suspended.
   */
  suspendExpiredApps (nowMs: number = this.nowMs()): string[] {
    const suspended: string[] = []
    for (const app of this.access.apps()) {
      if (app.status !== 'testing' && app.status !== 'production') continue
      const expired = this.access.expiredDocument(app.appId, app.assessment.documents, nowMs)
      if (expired === undefined) continue
      const document = { expires: expired.expires!, ...(expired.name === undefined ? {} : { name: expired.name }), ...(expired.sha256 === undefined ? {} : { sha256: expired.sha256 }), ...(expired.kind === undefined ? {} : { kind: expired.kind }) }
      try {
        this.admin.suspendForExpiry(app.appId, document)
        suspended.push(app.appId)
      } catch (err) {
        // Applied (putApp) but not recorded: the journal has failed and
        // says so through onJournalFailure; the logon check refuses the
        // AppID regardless.
        this.onJournalFailure('supervisor', `suspending ${app.appId} for an expired document: ${(err as Error).message}`)
      }
    }
    return suspended
  }

  /** Per AppID with stored or config documents: how many expire within evidence.expiryWarningDays, and how many have expired (/metrics). */
  evidenceExpiry (nowMs: number = this.nowMs()): Array<{ appId: string, expiring: number, expired: number }> {
    const days = this.config.evidence.expiryWarningDays
    return this.access.apps().map((app) => {
      const documents = [...app.assessment.documents, ...(this.state.doc.evidence[app.appId] ?? [])]
      return {
        appId: app.appId,
        expiring: documents.filter((d) => isExpiringWithin(d.expires, nowMs, days)).length,
        expired: documents.filter((d) => isExpired(d.expires, nowMs)).length,
      }
    })
  }

  /** Documents expired or expiring within evidence.expiryWarningDays, named and stored alike, with their days left (the status page). */
  documentsNearingExpiry (nowMs: number = this.nowMs()): DocumentRow[] {
    const days = this.config.evidence.expiryWarningDays
    return this.access.apps().flatMap((app) => [
      ...app.assessment.documents.map((d) => ({ document: d.name, expires: d.expires as string | null })),
      ...(this.state.doc.evidence[app.appId] ?? []).map((d) => ({ document: `${d.kind} from ${d.issuer} (${d.sha256.slice(0, 12)})`, expires: d.expires })),
    ].flatMap(({ document, expires }) => expires !== null && (isExpired(expires, nowMs) || isExpiringWithin(expires, nowMs, days))
      ? [{ appId: app.appId, app: app.name, document, expires, daysLeft: daysToExpiry(expires, nowMs)! }]
      : []))
  }

  private startExpirySweep (): void {
    this.suspendExpiredApps()
    this.expiryTimer = setInterval(() => { this.suspendExpiredApps() }, this.config.evidence.expiryCheckIntervalMs)
    this.expiryTimer.unref()
  }

  /**
   * Asks lane threads (all running, or those named) and resolves with their
   * answers; rejects with a GatehouseError (GH_ERR_CROSS_THREAD_*) if any
   * lane does not answer in time or has stopped.
   */
  askLanes<K extends keyof LaneRequests & string> (kind: K, args: LaneRequests[K]['args'], lanes?: readonly LaneName[]): Promise<Array<LaneRequests[K]['reply']>> {
    const requesters = [...this.laneRequesters.entries()].filter(([name]) => lanes === undefined || lanes.includes(name))
    return Promise.all(requesters.map(([, requester]) => requester.request(kind, args)))
  }

  /**
   * Journals a change (before it is reported to whoever asked). Throws if
   * the journal cannot be written; the change itself has been made by
   * then, and the error says so.
   */
  recordChange (doc: AdminChangeDocument, account = ''): void {
    if (this.journal === null) return
    try {
      this.journal.adminChange(doc, account)
    } catch (err) {
      this.onJournalFailure('supervisor', (err as Error).message)
      throw new Error(`${doc.command} was applied but could not be journaled: ${(err as Error).message}`, { cause: err })
    }
  }

  /**
   * Turns a kill switch on or off. With massCancel, every lane then cancels
   * its working orders in the scope; resolves with how many cancels went
   * to the exchange. The switch itself takes effect before any cancel: no
   * new order in the scope passes from the next message on.
   */
  async setKillSwitch (scope: KillScope, on: boolean, options: { massCancel?: boolean, operator?: string, detail?: Record<string, unknown> } = {}): Promise<Change<boolean> & { cancelsSent: number }> {
    const change = this.risk.setKillSwitch(scope, on)
    const doc: AdminChangeDocument = { operator: options.operator ?? 'gateway', command: 'kill-switch', scope: { ...scope }, before: change.before, after: change.after, ...(options.detail === undefined ? {} : { detail: options.detail }) }
    const account = scope.kind === 'account' ? scope.account : ''
    // Journaled before the mass-cancel: the lanes' cancel records follow it.
    this.recordChange(doc, account)
    if (options.massCancel !== true || this.workers.size === 0) return { ...change, cancelsSent: 0 }
    const cancelsSent = (await this.askLanes('mass-cancel', { scope })).reduce((sum, sent) => sum + sent, 0)
    this.recordChange({ ...doc, command: 'mass-cancel', before: null, after: null, detail: { ...options.detail, cancelsSent } }, account)
    return { ...change, cancelsSent }
  }

  /**
   * Closes every session of `account` on every lane, journaling each
   * (a disconnect admin change by 'gateway'); resolves with how many.
   * Never rejects: a lane that does not answer is skipped.
   */
  async disconnectAccount (account: string, reason: string): Promise<number> {
    let closed = 0
    try {
      const sessions = (await this.askLanes('list-sessions', null)).flat().filter((session) => session.account === account)
      for (const session of sessions) {
        const [found] = await this.askLanes('disconnect', { sessionId: session.sessionId, reason }, [session.lane])
        if (found !== true) continue
        closed++
        this.recordChange({ operator: 'gateway', command: 'disconnect', scope: { kind: 'session', lane: session.lane, sessionId: session.sessionId }, before: 'connected', after: 'disconnected', detail: { reason } }, account)
      }
    } catch {
      // A lane that did not answer keeps its session until its next logon
      // step is refused; a record that failed was reported by recordChange.
    }
    return closed
  }

  /** The lanes whose exchange link is up, in start order (an account handover is journaled in the first). */
  linkedLanes (): LaneName[] {
    return [...this.workers.keys()].filter((name) => this.lanes[name]?.link === 'up')
  }

  /** The admin path's trading-state change (persisted and journaled), for the account-move procedure. */
  setTradingState (operator: string, account: string, state: TradingState): void {
    this.admin.setTradingState(operator, account, state)
  }

  /**
   * `gatehouse admin accounts move`: moves an account held here to
   * another instance (cluster/account-handover.ts). Rejects with
   * AccountMoveError naming the steps already done.
   */
  async moveAccount (operator: string, account: string, to: string, options: { drainTimeoutMs?: number } = {}): Promise<MoveStepReport[]> {
    const steps: MoveStepReport[] = []
    try {
      return await moveAccount(this, operator, account, to, { ...options, onStep: (step) => { steps.push(step) } })
    } catch (err) {
      if (!(err instanceof AccountMoveError)) throw err
      const doneText = steps.length === 0 ? 'no step was done' : `steps done: ${steps.map((s) => `${s.step} (${s.at})`).join(', ')}`
      throw new AccountMoveError(err.code, `${err.message} [${doneText}]`, err.step, { cause: err.cause })
    }
  }

  /** Starts every enabled lane and the ops listener; rejects (after cleaning up) if any fails. */
  async start (): Promise<RunningGateway> {
    try {
      // A token file that is unusable stops the start before anything listens.
      const { token } = loadOpsToken(this.config)
      // The limits in force from the start, so a replay or an audit can
      // tell what every later change changed from.
      // With the registry (AppIDs without their AuthCode, accounts without
      // their password hash): the regulator pack starts from it.
      this.recordChange({ operator: 'config', command: 'start', scope: { kind: 'gateway', gatewayId: this.config.gatewayId }, before: null, after: { risk: this.config.risk, ...registryOfConfig(this.config) } })
      // Then what ops changed through the admin socket before the restart,
      // before any lane reads the shared state.
      const restored = this.state.load()
      const skipped = this.admin.applyState(restored)
      this.adminStateSkipped = skipped
      if (JSON.stringify(restored) !== JSON.stringify(emptyAdminState())) {
        this.recordChange({ operator: 'admin-state', command: 'restore', scope: { kind: 'gateway', path: this.state.path }, before: null, after: { ...restored, software: restored.software.map((app) => ({ ...app, authCode: '***' })) }, detail: { skipped } })
      }
      this.purgeExpiredSegments()
      this.startExpirySweep()
      if (this.config.cluster.enabled) {
        this.nats = startNats(this.config.cluster.nats, `${this.config.gatewayId}-supervisor`)
        this.control = new ControlFanout({ config: this.config, link: this.nats, admin: this.admin })
      }
      if (this.config.cluster.enabled && this.config.cluster.replication.enabled && this.config.journal.enabled) {
        this.replicator = new ReplicatorThread(this.config, (alert) => { this.onReplicationAlert(alert) })
      }
      if (this.nats !== null && this.directory !== null && this.config.cluster.directory.source === 'nats-kv') {
        this.directorySync = new KvDirectorySync(this.config, this.directory, this.nats)
      }
      if (this.nats !== null) this.handovers = serveHandovers(this)
      // Every lane's stream counts, a lane disabled now included: its
      // newest day may be today's.
      const enabled = LANE_NAMES.filter((name) => this.config.lanes[name].enabled)
      if (this.config.journal.enabled && this.config.journal.recoverOnStart) {
        const recoveryDay = gatewayRecoveryDay(journalDir(this.config), LANE_NAMES)
        const accountIndexes = new Map<string, number>()
        for (const account of this.config.accounts) {
          const index = this.risk.accountIndex(account.id)
          if (index !== undefined) accountIndexes.set(account.id, index)
        }
        // Before any lane thread starts: the lanes replay together, in
        // recorded-time order, into the shared risk state.
        this.recovered = recoverLanes(journalDir(this.config), enabled, this.risk.buffers, accountIndexes, recoveryDay,
          (lane) => this.config.lanes[lane].resendWindowReports)
      }
      const started = enabled.map((name) => this.startLane(name))
      await Promise.all(started)
      this.statusWindow = this.createStatusWindow()
      this.ops = new OpsServer({
        host: this.config.ops.host,
        port: this.config.ops.port,
        tls: this.config.ops.tls,
        token,
        health: () => this.health(),
        readiness: () => this.readiness(),
        status: this.statusWindow,
        counters: (account) => this.risk.accountIndex(account) === undefined ? null : this.risk.counters(account),
        metrics: createGatewayMetrics({
          lanes: [...this.workers.keys()].map((name) => ({ name, buffer: this.laneMetrics[name] })),
          linkState: (lane) => this.lanes[lane]?.link,
          journal: this.journal,
          access: this.access,
          opsErrors: () => this.ops?.errors ?? {},
          supervisorSample: this.supervisorSample,
          evidence: () => this.evidenceExpiry(),
          filingClocks: () => this.admin.listClocks(false),
          monitors: () => this.risk.accounts().flatMap((account) => this.monitorRows(account)),
          ...(this.control === null ? {} : { clusterControl: this.control.counts }),
          replication: () => this.replicator?.status ?? null,
        }),
      })
      this.opsPort = await this.ops.listen()
      this.sampler = new ThreadSampler(this.supervisorSample, 0).start()
      this.statusWindow.start()
      if (this.config.admin.enabled) {
        const server = new AdminServer({ path: adminSocketPath(this.config), api: this.admin, ...(this.control === null ? {} : { fanOut: this.control }) })
        await server.listen()
        this.adminServer = server
        this.control?.useQueue(async (change) => await server.exclusive(change))
      }
      // Changes from the other instances once everything here is up. Not
      // awaited: NATS may be down, and the start must not wait for it.
      this.controlSubscribed = this.control?.start() ?? Promise.resolve()
    } catch (err) {
      await this.stop()
      throw err
    }
    return this.running()
  }

  running (): RunningGateway {
    return { lanes: this.lanes, ops: { host: this.config.ops.host, port: this.opsPort, tls: this.config.ops.tls !== undefined, tokenFile: opsTokenPath(this.config) } }
  }

  /** Resolves once every lane's exchange link is up. */
  whenLinksUp (): Promise<void> {
    if (this.allLinksUp()) return Promise.resolve()
    return new Promise((resolve) => { this.linkWaiters.push(resolve) })
  }

  health (): { ok: boolean, body: unknown } {
    const ok = this.workers.size > 0 && this.allLinksUp()
    // pid: so a tool on the same host can read the process's memory and
    // descriptors from /proc (/metrics has no process figures).
    return { ok, body: { status: ok ? 'ok' : 'degraded', gatewayId: this.config.gatewayId, pid: process.pid, lanes: this.lanes } }
  }

  /**
   * Readiness (/readyz): ready to take traffic when every enabled lane is
   * listening, every exchange link is up, and every journal stream can
   * write (none has failed, no lane is below its disk floor). Each check
   * that fails is named in `notReady`.
   */
  readiness (): { ok: boolean, body: unknown } {
    const notReady: string[] = []
    const enabled = LANE_NAMES.filter((name) => this.config.lanes[name].enabled)
    for (const name of enabled) {
      const lane = this.lanes[name]
      if (lane === undefined || !this.workers.has(name)) {
        notReady.push(`lane ${name}: not listening`)
        continue
      }
      if (lane.link !== 'up') notReady.push(`lane ${name}: exchange link ${lane.link}${lane.linkDetail === '' ? '' : ` (${lane.linkDetail})`}`)
      const reader = new LaneMetricsReader(this.laneMetrics[name])
      if (reader.read(SLOT_JOURNAL_FAILED) !== 0) notReady.push(`lane ${name}: journal write failed`)
      if (reader.read(SLOT_DISK_STATE) >= 2) notReady.push(`lane ${name}: journal disk below its floor`)
    }
    if (this.journal?.failed === true) notReady.push('supervisor: journal write failed')
    const ok = notReady.length === 0
    return { ok, body: { status: ok ? 'ready' : 'not-ready', gatewayId: this.config.gatewayId, notReady } }
  }

  private createStatusWindow (): StatusWindow {
    const risk = this.risk
    return new StatusWindow({
      gatewayId: this.config.gatewayId,
      build: buildInfo(),
      lanes: [...this.workers.keys()].map((name) => ({ name, buffer: this.laneMetrics[name] })),
      link: (lane) => {
        const status = this.lanes[lane]
        return status === undefined ? undefined : { state: status.link, detail: status.linkDetail }
      },
      journal: this.journal,
      lockouts: () => this.access.lockoutCount(),
      accounts: () => risk.accounts(),
      tradingState: (account) => risk.tradingState(account),
      killSwitches: () => [
        ...(risk.killSwitch({ kind: 'global' }) ? ['global'] : []),
        ...RISK_LANES.filter((lane) => risk.killSwitch({ kind: 'lane', lane })).map((lane) => `lane ${lane}`),
        ...risk.accounts().filter((account) => risk.killSwitch({ kind: 'account', account })).map((account) => `account ${account}`),
        ...risk.instruments().filter((instrument) => risk.killSwitch({ kind: 'instrument', instrument })).map((instrument) => `instrument ${instrument}`),
      ],
      heldFingerprints: (account) => this.access.fingerprintHistory(account).filter((f) => f.status === 'held').map((f) => f.fingerprintId),
      documents: () => this.documentsNearingExpiry(),
      monitors: (account) => this.monitorRows(account),
    })
  }

  /** An account's regulatory monitors with their levels, as `gatehouse admin counters` shows them; the status page and /metrics read this. */
  private monitorRows (account: string): MonitorRow[] {
    return this.admin.counters(account).monitors.map((m) => ({ account, ...m }))
  }

  /** Purges journal segments past the retention period now, and again every day while running. */
  private purgeExpiredSegments (): void {
    if (this.journal === null) return
    this.journal.purgeExpired()
    if (this.purgeTimer === null) {
      this.purgeTimer = setInterval(() => {
        try {
          this.journal?.purgeExpired()
        } catch (err) {
          this.onJournalFailure('supervisor', `retention purge failed: ${(err as Error).message}`)
        }
      }, PURGE_INTERVAL_MS)
      this.purgeTimer.unref()
    }
  }

  async stop (): Promise<void> {
    if (this.purgeTimer !== null) clearInterval(this.purgeTimer)
    this.purgeTimer = null
    this.sampler?.stop()
    this.sampler = null
    this.statusWindow?.stop()
    this.statusWindow = null
    if (this.expiryTimer !== null) clearInterval(this.expiryTimer)
    this.expiryTimer = null
    // No admin command may start while the lanes go away, from here or from another instance.
    await this.control?.close()
    this.control = null
    await this.adminServer?.close()
    this.adminServer = null
    const exits = [...this.workers.values()].map(async (worker) => {
      const exited = once(worker, 'exit')
      worker.postMessage({ type: 'shutdown' } satisfies SupervisorToLane)
      const timer = setTimeout(() => { void worker.terminate() }, LANE_STOP_TIMEOUT_MS)
      await exited
      clearTimeout(timer)
    })
    await Promise.all(exits)
    this.workers.clear()
    this.ops?.close()
    this.ops = null
    this.handovers?.stop()
    this.handovers = null
    await this.directorySync?.stop()
    this.directorySync = null
    await this.nats?.close()
    this.nats = null
    await this.access.close()
    this.journal?.close()
    // Last: every stream is sealed now, and the replicator publishes the seals before it ends.
    await this.replicator?.stop()
    this.replicator = null
  }

  private async decideAccess (lane: LaneName, sessionId: number, ip: string, request: AccessRequest): Promise<AccessResult> {
    const ctx = { lane, sessionId, ip }
    switch (request.step) {
      case 'authenticate':
        return this.access.authenticate(ctx, request)
      case 'terminal-info': {
        const info = v1.TerminalInfo.decode(request.info) as TerminalInfo
        return this.access.terminalInfo(ctx, request.account, info, terminalInfoRecord(info))
      }
      case 'logon': {
        const verdict: AccessResult = await this.access.logon(ctx, request)
        if (verdict.reason === 0) {
          verdict.accountIndex = this.risk.accountIndex(request.account)
          verdict.appIndex = this.risk.appIndex(request.appId)
        }
        return verdict
      }
    }
  }

  private allLinksUp (): boolean {
    return [...this.workers.keys()].every((name) => this.lanes[name]?.link === 'up')
  }

  private startLane (name: LaneName): Promise<void> {
    const workerData: LaneWorkerData = { lane: name, config: this.config, risk: this.risk.buffers, metrics: this.laneMetrics[name], recovered: this.recovered.get(name) ?? null }
    const worker = new Worker(new URL('../lane/lane-worker.js', import.meta.url), { workerData, name: `lane-${name}` })
    this.workers.set(name, worker)
    const lane = new CrossThreadRequester<LaneRequests>((message) => { worker.postMessage(message satisfies SupervisorToLane) }, {
      peer: `lane ${name}`,
      timeoutMs: LANE_REQUEST_TIMEOUT_MS,
      maxPending: MAX_PENDING_LANE_REQUESTS,
    })
    this.laneRequesters.set(name, lane)
    worker.on('exit', (code) => { lane.close(`the lane thread exited with code ${code}`) })
    // Fails closed on its own side: the lane refuses a step this does not answer.
    const answerLane = answerRequests<SupervisorRequests>((message) => { worker.postMessage(message satisfies SupervisorToLane) }, {
      access: ({ sessionId, ip, request }) => this.decideAccess(name, sessionId, ip, request),
    })
    return new Promise((resolve, reject) => {
      worker.once('error', reject)
      worker.once('exit', (code) => { reject(new Error(`lane ${name} thread exited with code ${code} before listening`)) })
      worker.on('message', (event: LaneToSupervisor) => {
        switch (event.type) {
          case 'listening':
            this.lanes[name] = { host: event.host, port: event.port, tls: event.tls, link: 'connecting', linkDetail: '', environment: '' }
            resolve()
            break
          case 'listen-failed':
            reject(new Error(event.error))
            break
          case 'link-state': {
            const lane = this.lanes[name]
            if (lane !== undefined) {
              lane.link = event.state
              lane.linkDetail = event.detail
              if (event.environment !== undefined) lane.environment = event.environment
            }
            if (this.allLinksUp()) this.linkWaiters.splice(0).forEach((wake) => { wake() })
            break
          }
          case 'request':
            answerLane(event)
            break
          case 'reply':
            lane.handleReply(event)
            break
          case 'session-closed':
            this.access.sessionClosed(event.account)
            break
          case 'logon-event':
            try {
              this.access.recordStep({ lane: event.lane, sessionId: event.sessionId, ip: event.ip, step: event.step, account: event.account, reason: event.reason, text: event.text })
            } catch (err) {
              this.onJournalFailure('supervisor', (err as Error).message)
            }
            break
          case 'journal-failed':
            this.onJournalFailure(`lane ${event.lane}`, event.error)
            // The lane's own stream has stopped: the supervisor's keeps the incident.
            try {
              this.recordChange({ operator: 'gateway', command: 'journal-failure', scope: { kind: 'lane', lane: event.lane }, before: 'writing', after: 'failed', detail: { error: event.error } })
            } catch {
              // Both streams failing: onJournalFailure above has told ops.
            }
            break
          case 'risk-alert': {
            const { type: _type, ...alert } = event
            this.onRiskAlert(alert)
            break
          }
          case 'recovered':
          case 'stopped':
          // Ops events: the start command reports them (onLaneEvent).
          case 'disk-space':
          case 'lane-fault':
            break
        }
        this.onLaneEvent(event)
      })
    })
  }
}
