// What `gatehouse doctor` checks on a host before the gateway starts
// there, each as one named result: ok, warn (start would work, but look)
// or fail (start would fail, or trading would be unsafe). Each check reads
// what the gateway itself would use: the listeners' addresses from the
// resolved config, the bind probe start uses to explain a failed listen,
// the disk watermark rule of the lanes.
import { X509Certificate, createHash, createPrivateKey } from 'node:crypto'
import { existsSync, readFileSync, readdirSync, statfsSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { journalDir, type GatewayConfig } from '../../config/config.js'
import { diskStateOf } from '../../lane/disk-watermark.js'
import { LANE_NAMES } from '../../protocol/lanes.js'
import { listenFailureText, probeListen, sectionFields } from '../../platform/listen-failure.js'
import { MAX_JSON_FILE_BYTES, readBoundedFile } from '../../journal/read-bounded-file.js'
import { PACKAGE_ROOT } from '../../platform/package-version.js'

export type CheckStatus = 'ok' | 'warn' | 'fail'

export interface CheckResult {
  /** A stable name, e.g. "port lanes.hft", "tls ops", "clock". */
  name: string
  status: CheckStatus
  detail: string
}

/** A certificate that expires within this many days is a warning: time to renew. */
export const CERT_WARN_DAYS = 30
/** The largest certificate or key file read (a chain of a few certificates is a few KiB). */
const MAX_PEM_FILE_BYTES = 1024 * 1024
/** How long loading uWebSockets.js in a child process may take. */
const UWS_LOAD_TIMEOUT_MS = 15_000
const DAY_MS = 24 * 60 * 60 * 1000

interface Listener {
  section: string
  host: string
  port: number
  tls?: { certFile: string, keyFile: string } | undefined
}

/** Every listener the gateway would open with this config. */
function listenersOf (config: GatewayConfig): Listener[] {
  const listeners: Listener[] = []
  for (const name of LANE_NAMES) {
    const lane = config.lanes[name]
    if (lane.enabled) listeners.push({ section: `lanes.${name}`, host: lane.host, port: lane.port, tls: lane.tls })
  }
  listeners.push({ section: 'ops', host: config.ops.host, port: config.ops.port, tls: config.ops.tls })
  if (config.exchange.embeddedSimulator) listeners.push({ section: 'exchange', host: config.exchange.host, port: config.exchange.port })
  return listeners
}

/** Each configured address bound and closed again: a port in use fails here, not at 08:55 on a trading day. */
export async function checkPorts (config: GatewayConfig): Promise<CheckResult[]> {
  const results: CheckResult[] = []
  for (const { section, host, port } of listenersOf(config)) {
    const name = `port ${section}`
    if (port === 0) {
      results.push({ name, status: 'ok', detail: `${host}:0: the kernel picks a free port at start` })
      continue
    }
    const code = await probeListen(host, port)
    results.push(code === undefined
      ? { name, status: 'ok', detail: `${host}:${port} is free` }
      : { name, status: 'fail', detail: listenFailureText(sectionFields(section), host, port, code) })
  }
  return results
}

/** The certificate and key of each TLS listener: readable, a pair, and how long until expiry. */
export function checkCertificates (config: GatewayConfig, nowMs: number): CheckResult[] {
  const results: CheckResult[] = []
  for (const { section, tls } of listenersOf(config)) {
    if (tls === undefined) continue
    const name = `tls ${section}`
    let cert: X509Certificate
    try {
      cert = new X509Certificate(readBoundedFile(tls.certFile, MAX_PEM_FILE_BYTES, 'certificate file'))
    } catch (err) {
      results.push({ name, status: 'fail', detail: `${section}.tls.certFile: ${(err as Error).message}` })
      continue
    }
    try {
      const key = createPrivateKey(readBoundedFile(tls.keyFile, MAX_PEM_FILE_BYTES, 'key file'))
      if (!cert.checkPrivateKey(key)) {
        results.push({ name, status: 'fail', detail: `${section}.tls.keyFile does not belong to ${section}.tls.certFile (${cert.subject.replace(/\n/g, ', ')})` })
        continue
      }
    } catch (err) {
      results.push({ name, status: 'fail', detail: `${section}.tls.keyFile: ${(err as Error).message}` })
      continue
    }
    const validFromMs = Date.parse(cert.validFrom)
    const validToMs = Date.parse(cert.validTo)
    const days = Math.floor((validToMs - nowMs) / DAY_MS)
    const subject = cert.subject.replace(/\n/g, ', ')
    if (nowMs < validFromMs) {
      results.push({ name, status: 'fail', detail: `${subject}: not valid before ${new Date(validFromMs).toISOString()} (is the clock right?)` })
    } else if (nowMs >= validToMs) {
      results.push({ name, status: 'fail', detail: `${subject}: expired ${new Date(validToMs).toISOString()}; renew it` })
    } else {
      results.push({
        name,
        status: days < CERT_WARN_DAYS ? 'warn' : 'ok',
        detail: `${subject}: expires ${new Date(validToMs).toISOString()}, in ${days} days${days < CERT_WARN_DAYS ? `; renew it (warning below ${CERT_WARN_DAYS} days)` : ''}`,
      })
    }
  }
  return results
}

/** The nearest directory of `path` that exists: the journal's directory may not be created yet. */
function existingAncestor (path: string): string {
  let dir = path
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir)
  return dir
}

/** Free space on the journal's file system against the watermarks the lanes apply (diskStateOf). */
export function checkJournalDisk (config: GatewayConfig): CheckResult {
  const name = 'journal disk'
  if (!config.journal.enabled) return { name, status: 'warn', detail: 'journal.enabled is false: nothing would be recorded (benchmarks only)' }
  const dir = journalDir(config)
  const at = existingAncestor(dir)
  let free: number, total: number
  try {
    const stats = statfsSync(at)
    free = stats.bavail * stats.bsize
    total = stats.blocks * stats.bsize
  } catch (err) {
    return { name, status: 'fail', detail: `${at}: ${(err as Error).message}` }
  }
  const reading = diskStateOf(free, total, config.journal.disk)
  const figures = `${dir}${at === dir ? '' : ` (not yet created; file system of ${at})`}: ${gib(free)} free of ${gib(total)}, low watermark ${gib(reading.lowWatermarkBytes)}, floor ${gib(config.journal.disk.floorBytes)}`
  if (reading.state === 'floor') return { name, status: 'fail', detail: `${figures}: below the floor, the lanes would fail closed` }
  if (reading.state === 'low') return { name, status: 'fail', detail: `${figures}: below the low watermark, new logons would be refused` }
  return { name, status: 'ok', detail: figures }
}

function gib (bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`
}

/** Where a host records that its clock is synchronised, or runs a daemon that does it. */
export interface ClockSignals {
  /** systemd-timesyncd touches this file once it has synchronised (systemd 239+). */
  timesyncFlag: string
  /** Where to look for running daemons (/proc). */
  procDir: string
}

export const HOST_CLOCK_SIGNALS: ClockSignals = { timesyncFlag: '/run/systemd/timesync/synchronized', procDir: '/proc' }

const TIME_DAEMONS = ['chronyd', 'ntpd', 'systemd-timesyn', 'ptp4l', 'phc2sys', 'openntpd']

/**
 * Node cannot call adjtimex(2), which is what `timedatectl` asks, so this
 * reads what can be read without privileges: timesyncd's "synchronized"
 * flag, else whether a time daemon runs at all. A container sees neither
 * (the host keeps its clock): a warning, not a failure.
 */
export function checkClock (signals: ClockSignals = HOST_CLOCK_SIGNALS): CheckResult {
  const name = 'clock'
  if (existsSync(signals.timesyncFlag)) return { name, status: 'ok', detail: `synchronised (systemd-timesyncd: ${signals.timesyncFlag})` }
  const running = new Set<string>()
  try {
    for (const entry of readdirSync(signals.procDir)) {
      if (!/^\d+$/.test(entry)) continue
      try {
        const comm = readFileSync(join(signals.procDir, entry, 'comm'), 'utf8').trim()
        if (TIME_DAEMONS.includes(comm)) running.add(comm)
      } catch {
        // A process that ended while we looked.
      }
    }
  } catch {
    // No /proc: nothing more to learn.
  }
  if (running.size > 0) {
    return { name, status: 'ok', detail: `a time daemon runs (${[...running].join(', ')}); check its sync state with its own tool (chronyc tracking, ntpq -p)` }
  }
  return {
    name,
    status: 'warn',
    detail: `no sign of synchronisation (no ${signals.timesyncFlag}, no chronyd/ntpd/timesyncd/ptp4l running); order and journal times come from this clock, so synchronise it (in a container, the host's)`,
  }
}

/** What uWebSockets.js needs of this Node and C library, and whether it loads. */
export interface UwsFacts {
  packageDir: string
  binaryFile: string
  abi: string
  glibcRuntime: string | null
  glibcRequired: string | null
  sha256: string | null
  installedVersion: string | null
  lockedVersion: string | null
  lockedIntegrity: string | null
}

/** The highest GLIBC_2.N symbol version the ELF binary names: the oldest glibc it runs on. */
export function requiredGlibc (binary: Buffer): string | null {
  let best: [number, number] | null = null
  for (const match of binary.toString('latin1').matchAll(/GLIBC_(\d+)\.(\d+)/g)) {
    const version: [number, number] = [Number(match[1]), Number(match[2])]
    if (best === null || version[0] > best[0] || (version[0] === best[0] && version[1] > best[1])) best = version
  }
  return best === null ? null : `${best[0]}.${best[1]}`
}

function compareVersions (a: string, b: string): number {
  const [a1 = 0, a2 = 0] = a.split('.').map(Number)
  const [b1 = 0, b2 = 0] = b.split('.').map(Number)
  return a1 !== b1 ? a1 - b1 : a2 - b2
}

export function uwsFacts (packageRoot = PACKAGE_ROOT): UwsFacts {
  const packageDir = join(packageRoot, 'node_modules', 'uWebSockets.js')
  const abi = process.versions.modules
  // The same name uws.js builds when it loads the binary.
  const binaryFile = join(packageDir, `uws_${process.platform}_${process.arch}_${abi}.node`)
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header
  let glibcRequired: string | null = null
  let sha256: string | null = null
  if (existsSync(binaryFile)) {
    const binary = readFileSync(binaryFile)
    glibcRequired = requiredGlibc(binary)
    sha256 = createHash('sha256').update(binary).digest('hex')
  }
  const readJson = (file: string): Record<string, any> | null => {
    try {
      return JSON.parse(readBoundedFile(file, MAX_JSON_FILE_BYTES * 4, 'JSON file').toString('utf8')) as Record<string, any>
    } catch {
      return null
    }
  }
  const installed = readJson(join(packageDir, 'package.json'))
  const locked = readJson(join(packageRoot, 'package-lock.json'))?.packages?.['node_modules/uWebSockets.js'] as { version?: string, integrity?: string } | undefined
  return {
    packageDir,
    binaryFile,
    abi,
    glibcRuntime: header?.glibcVersionRuntime ?? null,
    glibcRequired,
    sha256,
    installedVersion: typeof installed?.version === 'string' ? installed.version : null,
    lockedVersion: locked?.version ?? null,
    lockedIntegrity: locked?.integrity ?? null,
  }
}

/**
 * Node's ABI and the C library against the uWebSockets.js binary: the
 * binary for this ABI exists, this glibc is at least the one it names,
 * the installed package is the locked version, and it really loads (in a
 * child process, so a crash there is a finding, not doctor's end).
 *
 * The lockfile's integrity is the SHA-512 of the package's tarball, which
 * npm checked when it installed it; the unpacked binary cannot be checked
 * against it, so its SHA-256 is printed for the operator to compare
 * between hosts.
 */
export function checkUws (facts: UwsFacts = uwsFacts()): CheckResult[] {
  const results: CheckResult[] = []
  const node = `Node ${process.version} (ABI ${facts.abi}), ${process.platform}-${process.arch}`
  if (facts.sha256 === null) {
    results.push({ name: 'uws binary', status: 'fail', detail: `${node}: ${facts.binaryFile} does not exist; this uWebSockets.js build has no binary for this Node (use Node 20)` })
  } else {
    results.push({ name: 'uws binary', status: 'ok', detail: `${node}: ${facts.binaryFile} sha256 ${facts.sha256}` })
  }
  if (facts.glibcRuntime === null) {
    results.push({ name: 'glibc', status: 'fail', detail: 'not a glibc system (musl?): the uWebSockets.js binaries need glibc' })
  } else if (facts.glibcRequired !== null && compareVersions(facts.glibcRuntime, facts.glibcRequired) < 0) {
    results.push({ name: 'glibc', status: 'fail', detail: `glibc ${facts.glibcRuntime} here; the binary needs ${facts.glibcRequired}` })
  } else {
    results.push({ name: 'glibc', status: 'ok', detail: `glibc ${facts.glibcRuntime} here; the binary needs ${facts.glibcRequired ?? '(unknown)'}` })
  }
  if (facts.installedVersion === null || facts.lockedVersion === null) {
    results.push({ name: 'uws version', status: 'warn', detail: `cannot compare the installed uWebSockets.js (${facts.installedVersion ?? 'no package.json'}) with package-lock.json (${facts.lockedVersion ?? 'no entry'})` })
  } else if (facts.installedVersion !== facts.lockedVersion) {
    results.push({ name: 'uws version', status: 'fail', detail: `installed ${facts.installedVersion}, package-lock.json pins ${facts.lockedVersion}; run npm ci` })
  } else {
    results.push({ name: 'uws version', status: 'ok', detail: `${facts.installedVersion} as package-lock.json pins (tarball integrity ${facts.lockedIntegrity ?? 'not recorded'}, checked by npm at install)` })
  }
  if (facts.sha256 !== null) {
    const load = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(facts.packageDir)})`], { encoding: 'utf8', timeout: UWS_LOAD_TIMEOUT_MS, env: { ...process.env, NODE_OPTIONS: '' } })
    // Node prints the source line before the error; the reason is the "Error: ..." line.
    const why = (load.stderr ?? '').split('\n').find((line) => /^\w*Error: /.test(line)) ?? load.error?.message ?? `exit ${String(load.status ?? load.signal)}`
    results.push(load.status === 0
      ? { name: 'uws load', status: 'ok', detail: 'uWebSockets.js loads in this Node' }
      : { name: 'uws load', status: 'fail', detail: `uWebSockets.js does not load: ${why.trim()}` })
  }
  return results
}
