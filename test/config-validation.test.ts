// Every kind of config mistake gets a message naming the field path and
// what to change (piscina's test/option-validation style: assert each one).
import t from 'tap'
import { chmodSync, mkdtempSync, truncateSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, validateConfig } from '../config/config.js'
import { loadConfigFile, resolveConfig } from '../config/load.js'
import { DEFAULT_CONFIG } from '../config/defaults.js'

function problemsOf (overrides: unknown): string[] {
  try {
    resolveConfig(overrides)
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  return []
}

t.test('the embedded defaults are valid and loopback-only', async (t) => {
  const config = resolveConfig()
  t.equal(config.lanes.terminal.port, 7001)
  t.equal(config.lanes.platform.port, 7002)
  t.equal(config.lanes.hft.port, 7003)
  t.equal(config.ops.port, 7080)
  t.equal(config.exchange.port, 7090)
  t.equal(config.runDir, './var')
  t.ok(Object.isFrozen(DEFAULT_CONFIG), 'defaults are frozen')
})

t.test('partial files merge over the defaults', async (t) => {
  const config = resolveConfig({ lanes: { hft: { port: 9003 } } })
  t.equal(config.lanes.hft.port, 9003)
  t.equal(config.lanes.hft.maxFrameBytes, DEFAULT_CONFIG.lanes.hft.maxFrameBytes, 'untouched fields keep their defaults')
})

const HASH = DEFAULT_CONFIG.accounts[0]!.passwordHash
/** A valid account, with some fields changed or removed (undefined). */
function account (fields: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = { id: 'a1', passwordHash: HASH, lanes: ['hft'], appIds: ['gatehouse-demo-client'], ipRanges: ['10.0.0.0/8'], programmaticReport: 'none', maxSessions: 2, knownFingerprints: [] }
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) delete base[key]
    else base[key] = value
  }
  return base
}
const software = DEFAULT_CONFIG.software[0]!

/** Token files for the ops.tokenFile cases, each wrong in one way. */
const tokenFiles = (() => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-ops-token-'))
  const file = (name: string, text: string, mode: number): string => {
    const path = join(dir, name)
    writeFileSync(path, text)
    chmodSync(path, mode)
    return path
  }
  return {
    good: file('good', 'Zm9vYmFyYmF6cXV4cXV1eA==\n', 0o600),
    groupReadable: file('group-readable', 'Zm9vYmFyYmF6cXV4cXV1eA==\n', 0o640),
    otherWritable: file('other-writable', 'Zm9vYmFyYmF6cXV4cXV1eA==\n', 0o602),
    short: file('short', 'abc123\n', 0o600),
    spaced: file('spaced', 'two tokens-in-one-file-here\n', 0o600),
    dir,
  }
})()

const cases: Array<[string, unknown, string]> = [
  ['wrong type', { lanes: { hft: { port: '7003' } } }, 'lanes.hft.port: Invalid input: expected number, received string'],
  ['out of range', { lanes: { terminal: { port: 70000 } } }, 'lanes.terminal.port: must be at most 65535'],
  ['not a whole number', { ops: { port: 1.5 } }, 'ops.port: must be a whole number'],
  ['journal segments larger than the tools read', { journal: { maxSegmentBytes: 2 ** 30 } }, 'journal.maxSegmentBytes: must be at most 512 MiB: a segment ends after the batch that passes it, and the journal tools read segments of up to 1024 MiB'],
  ['unknown field (typo)', { exchange: { prot: 7090 } }, 'exchange: unknown field "prot"; remove it or check its spelling'],
  ['unknown top-level field', { lane: {} }, '(top level): unknown field "lane"; remove it or check its spelling'],
  ['bad enum value', { accounts: [account({ lanes: ['fast'] })] }, 'accounts.0.lanes.0: Invalid option: expected one of "terminal"|"platform"|"hft"'],
  ['missing required field', { accounts: [account({ passwordHash: undefined })] }, 'accounts.0.passwordHash: is required (expected string)'],
  ['plain password instead of a hash', { accounts: [account({ passwordHash: 'hunter22' })] }, 'accounts.0.passwordHash: must be a hash from `gatehouse hash-password` (scrypt$N$r$p$salt$key)'],
  ['bad CIDR', { accounts: [account({ ipRanges: ['10.0.0.0/33'] })] }, 'accounts.0.ipRanges.0: must be a CIDR range such as 10.0.0.0/8 or ::1/128'],
  ['unregistered AppID on an account', { accounts: [account({ appIds: ['nope'] })] }, 'accounts.0.appIds.0: AppID "nope" is not in software[]; register it first'],
  ['bad fingerprint ID', { accounts: [account({ knownFingerprints: ['abc'] })] }, 'accounts.0.knownFingerprints.0: must be a 64-hex-digit fingerprint ID'],
  ['short AuthCode', { software: [{ ...software, authCode: 'short' }] }, 'software.0.authCode: must be at least 16 characters'],
  ['bad date', { software: [{ ...software, assessment: { documents: [{ name: 'x', expires: '31/12/2099' }], accessTestPassed: '2026-01-05' } }] }, 'software.0.assessment.documents.0.expires: must be a date as YYYY-MM-DD'],
  ['production AppID without access testing', { software: [{ ...software, assessment: { documents: [], accessTestPassed: null } }] }, 'software.0.assessment.accessTestPassed: a production AppID needs the date access testing passed; set it or set status "testing"'],
  ['evidence file budget of 0', { evidence: { maxFileBytes: 0 } }, 'evidence.maxFileBytes: must be at least 1 byte'],
  ['evidence file budget past 1 GiB', { evidence: { maxFileBytes: 2 ** 31 } }, 'evidence.maxFileBytes: must be at most 1 GiB'],
  ['negative expiry warning', { evidence: { expiryWarningDays: -1 } }, 'evidence.expiryWarningDays: must be at least 0'],
  ['expiry sweep too often', { evidence: { expiryCheckIntervalMs: 10 } }, 'evidence.expiryCheckIntervalMs: must be at least 100 ms'],
  ['duplicate AppID', { software: [software, software] }, 'software.1.appId: "gatehouse-demo-client" is listed twice; AppIDs must be unique'],
  ['unknown terminal field in a lane policy', { lanes: { hft: { policy: { requiredTerminalFields: ['mac', 'serial'] } } } }, 'lanes.hft.policy.requiredTerminalFields.1: Invalid option: expected one of "terminalType"|"collectedTime"|"ips"|"mac"|"deviceName"|"osVersion"|"diskSerial"|"cpuSerial"|"bios"|"systemDiskPartition"'],
  ['bad idle timeout', { lanes: { platform: { idleTimeoutS: 3 } } }, 'lanes.platform.idleTimeoutS: must be 0 (never) or at least 8 seconds'],
  ['duplicate port', { lanes: { hft: { port: 7002 } } }, 'lanes.hft.port: 7002 is already used by lanes.platform; give each listener its own port'],
  ['duplicate account', { accounts: [account(), account()] }, 'accounts.1.id: "a1" is listed twice; account IDs must be unique'],
  ['non-loopback without TLS', { lanes: { platform: { host: '0.0.0.0' } } }, 'lanes.platform.host: "0.0.0.0" is not a loopback address and the lane has no TLS; set lanes.platform.tls { certFile, keyFile }, or set lanes.platform.allowInsecureNonLoopback: true if TLS is terminated in front of the gateway'],
  ['TLS file missing', { lanes: { platform: { tls: { certFile: '/nonexistent/cert.pem', keyFile: '/nonexistent/key.pem' } } } }, 'lanes.platform.tls.certFile: file "/nonexistent/cert.pem" does not exist'],
  ['every lane disabled', { lanes: { terminal: { enabled: false }, platform: { enabled: false }, hft: { enabled: false } } }, 'lanes: every lane is disabled; enable at least one'],
  ['reconnect delays inverted', { exchange: { reconnectDelayMs: 1000, maxReconnectDelayMs: 100 } }, 'exchange.maxReconnectDelayMs: must be at least exchange.reconnectDelayMs'],
  ['negative limit', { risk: { limits: { global: { funds: -1 } } } }, 'risk.limits.global.funds: must be at least 0 (or null for no limit)'],
  ['unknown limit (typo)', { risk: { limits: { lanes: { hft: { maxOpenOrder: 5 } } } } }, 'risk.limits.lanes.hft: unknown field "maxOpenOrder"; remove it or check its spelling'],
  ['fractional lot limit', { risk: { limits: { lanes: { terminal: { maxLongLots: 2.5 } } } } }, 'risk.limits.lanes.terminal.maxLongLots: must be a whole number'],
  ['limit beyond 2^53 - 1', { risk: { limits: { lanes: { terminal: { maxNotionalPerOrder: 1e20 } } } } }, 'risk.limits.lanes.terminal.maxNotionalPerOrder: must be at most 9007199254740991 (2^53 - 1), or null for no limit'],
  ['throttle larger than the rate ring', { risk: { limits: { global: { accountActionsPerSecond: 5000 } } } }, 'risk.limits.global.accountActionsPerSecond: must be at most 1024 (risk.capacity.rateRingSize), or null for no limit'],
  ['open orders beyond the order table', { risk: { limits: { accounts: { 'demo-maker': { maxOpenOrders: 300 } } } } }, 'risk.limits.accounts.demo-maker.maxOpenOrders: must be at most 256 (risk.capacity.openOrdersPerAccount)'],
  ['limits for an unknown account', { risk: { limits: { accounts: { nobody: { funds: 1 } } } } }, 'risk.limits.accounts.nobody: account "nobody" is not in accounts[]'],
  ['limits for an unknown AppID', { risk: { limits: { appIds: { nope: { funds: 1 } } } } }, 'risk.limits.appIds.nope: AppID "nope" is not in software[]'],
  ['bad self-match mode', { risk: { limits: { global: { selfMatchMode: 'cancel-both' } } } }, 'risk.limits.global.selfMatchMode: Invalid option: expected one of "reject-incoming"|"cancel-resting"'],
  ['bad trading state', { risk: { tradingStates: { 'demo-maker': 'frozen' } } }, 'risk.tradingStates.demo-maker: Invalid option: expected one of "active"|"reducing"|"halted"'],
  ['rate ring not a power of two', { risk: { capacity: { rateRingSize: 1000 } } }, 'risk.capacity.rateRingSize: must be a power of two (the ring is indexed with a mask)'],
  ['nonce outliving the logon', { lanes: { terminal: { policy: { nonceTtlMs: 30_000, logonTimeoutMs: 30_000 } } } }, 'lanes.terminal.policy.nonceTtlMs: nonceTtlMs must be shorter than logonTimeoutMs, or an expired nonce could never be seen (NONCE_EXPIRED): lower nonceTtlMs'],
  ['all hashing places reserved', { security: { maxPendingHashes: 4, hashesReservedForKnownTerminals: 4 } }, 'security.hashesReservedForKnownTerminals: hashesReservedForKnownTerminals must be less than maxPendingHashes, or no new terminal could ever log on: lower it'],
  ['bad abnormal-terminal policy', { lanes: { hft: { policy: { abnormalTerminal: 'ignore' } } } }, 'lanes.hft.policy.abnormalTerminal: Invalid option: expected one of "allow-alert"|"hold"|"reject"'],
  ['TerminalInfo attempts out of range', { lanes: { hft: { policy: { maxTerminalInfoAttempts: 0 } } } }, 'lanes.hft.policy.maxTerminalInfoAttempts: must be at least 1'],
  ['tiny lock store', { security: { maxLocks: 10 } }, 'security.maxLocks: must be at least 100'],
  ['unknown exchange preset', { risk: { limits: { exchanges: { NYMEX: {} } } } }, 'risk.limits.exchanges: unknown field "NYMEX"; remove it or check its spelling'],
  ['ops off loopback without TLS', { ops: { host: '0.0.0.0' } }, 'ops.host: "0.0.0.0" is not a loopback address and the ops port has no TLS; set ops.tls { certFile, keyFile }, or set ops.allowInsecureNonLoopback: true if TLS is terminated in front of the gateway'],
  ['ops TLS file missing', { ops: { tls: { certFile: '/nonexistent/cert.pem', keyFile: '/nonexistent/key.pem' } } }, 'ops.tls.keyFile: file "/nonexistent/key.pem" does not exist'],
  ['ops token file empty path', { ops: { tokenFile: '' } }, 'ops.tokenFile: must be the path of a file holding the token, or null to generate one'],
  ['ops token file missing', { ops: { tokenFile: '/nonexistent/ops-token' } }, 'ops.tokenFile: file "/nonexistent/ops-token" does not exist'],
  ['ops token file readable by the group', { ops: { tokenFile: tokenFiles.groupReadable } }, `ops.tokenFile: "${tokenFiles.groupReadable}" is open to group or others (mode 0640); make it owner-only: chmod 600 ${tokenFiles.groupReadable}`],
  ['ops token file writable by others', { ops: { tokenFile: tokenFiles.otherWritable } }, `ops.tokenFile: "${tokenFiles.otherWritable}" is open to group or others (mode 0602); make it owner-only: chmod 600 ${tokenFiles.otherWritable}`],
  ['ops token too short', { ops: { tokenFile: tokenFiles.short } }, `ops.tokenFile: "${tokenFiles.short}" must hold one bearer token of at least 16 characters from A-Z a-z 0-9 - . _ ~ + / (e.g. from \`openssl rand -base64 32\`)`],
  ['ops token with spaces', { ops: { tokenFile: tokenFiles.spaced } }, `ops.tokenFile: "${tokenFiles.spaced}" must hold one bearer token of at least 16 characters from A-Z a-z 0-9 - . _ ~ + / (e.g. from \`openssl rand -base64 32\`)`],
  ['ops token file a directory', { ops: { tokenFile: tokenFiles.dir } }, `ops.tokenFile: "${tokenFiles.dir}" is not a file`],
  // Client-edge budgets (docs/client-budgets.md).
  ['pre-logon frame limit too small', { lanes: { platform: { policy: { preLogonMaxFrameBytes: 100 } } } }, 'lanes.platform.policy.preLogonMaxFrameBytes: must be at least 256 bytes (a full TerminalInfo must fit)'],
  ['pre-logon frame limit too large', { lanes: { platform: { policy: { preLogonMaxFrameBytes: 2_000_000 } } } }, 'lanes.platform.policy.preLogonMaxFrameBytes: must be at most 1 MiB'],
  ['pre-logon frame limit above the lane\'s', { lanes: { hft: { policy: { preLogonMaxFrameBytes: 2048 } } } }, 'lanes.hft.policy.preLogonMaxFrameBytes: 2048 is larger than lanes.hft.maxFrameBytes (1024); lower it to at most that'],
  ['pre-logon frame limit not whole', { lanes: { hft: { policy: { preLogonMaxFrameBytes: 512.5 } } } }, 'lanes.hft.policy.preLogonMaxFrameBytes: must be a whole number'],
  ['pre-logon message budget too small', { lanes: { terminal: { policy: { preLogonMaxMessages: 3 } } } }, 'lanes.terminal.policy.preLogonMaxMessages: must be at least 4 (the three logon steps and a heartbeat)'],
  ['pre-logon message budget too large', { lanes: { terminal: { policy: { preLogonMaxMessages: 20_000 } } } }, 'lanes.terminal.policy.preLogonMaxMessages: must be at most 10000'],
  ['pre-logon message budget not whole', { lanes: { terminal: { policy: { preLogonMaxMessages: 8.5 } } } }, 'lanes.terminal.policy.preLogonMaxMessages: must be a whole number'],
  ['pre-logon journal bytes negative', { lanes: { terminal: { policy: { preLogonJournalBytes: -1 } } } }, 'lanes.terminal.policy.preLogonJournalBytes: must be at least 0 (0: digests only)'],
  ['pre-logon journal bytes too large', { lanes: { terminal: { policy: { preLogonJournalBytes: 2_000_000 } } } }, 'lanes.terminal.policy.preLogonJournalBytes: must be at most 1 MiB'],
  ['pre-logon journal bytes not whole', { lanes: { terminal: { policy: { preLogonJournalBytes: 1.5 } } } }, 'lanes.terminal.policy.preLogonJournalBytes: must be a whole number'],
  ['no unauthenticated connections', { lanes: { platform: { policy: { maxUnauthenticatedConnections: 0 } } } }, 'lanes.platform.policy.maxUnauthenticatedConnections: must be at least 1'],
  ['unauthenticated cap not whole', { lanes: { platform: { policy: { maxUnauthenticatedConnections: 1.5 } } } }, 'lanes.platform.policy.maxUnauthenticatedConnections: must be a whole number'],
  ['no unauthenticated connections per IP', { lanes: { platform: { policy: { maxUnauthenticatedPerIp: 0 } } } }, 'lanes.platform.policy.maxUnauthenticatedPerIp: must be at least 1'],
  ['per-IP cap not whole', { lanes: { platform: { policy: { maxUnauthenticatedPerIp: 2.5 } } } }, 'lanes.platform.policy.maxUnauthenticatedPerIp: must be a whole number'],
  ['per-IP cap above the lane cap', { lanes: { platform: { policy: { maxUnauthenticatedConnections: 10, maxUnauthenticatedPerIp: 20 } } } }, 'lanes.platform.policy.maxUnauthenticatedPerIp: 20 is larger than lanes.platform.policy.maxUnauthenticatedConnections (10); lower it to at most that'],
  ['fd reserve too small', { security: { fdReserve: 10 } }, 'security.fdReserve: must be at least 64'],
  ['fd reserve not whole', { security: { fdReserve: 100.5 } }, 'security.fdReserve: must be a whole number'],
  ['disk check too often', { journal: { disk: { checkIntervalMs: 10 } } }, 'journal.disk.checkIntervalMs: must be at least 100 ms'],
  ['disk check too rare', { journal: { disk: { checkIntervalMs: 100_000 } } }, 'journal.disk.checkIntervalMs: must be at most 60000 ms'],
  ['disk check not whole', { journal: { disk: { checkIntervalMs: 150.5 } } }, 'journal.disk.checkIntervalMs: must be a whole number'],
  ['negative low watermark', { journal: { disk: { lowWatermarkBytes: -1, floorBytes: 0 } } }, 'journal.disk.lowWatermarkBytes: must be at least 0'],
  ['low watermark not whole', { journal: { disk: { lowWatermarkBytes: 1.5 } } }, 'journal.disk.lowWatermarkBytes: must be a whole number'],
  ['negative watermark percent', { journal: { disk: { lowWatermarkPercent: -1 } } }, 'journal.disk.lowWatermarkPercent: must be at least 0'],
  ['watermark percent above 100', { journal: { disk: { lowWatermarkPercent: 101 } } }, 'journal.disk.lowWatermarkPercent: must be at most 100'],
  ['negative floor', { journal: { disk: { floorBytes: -1 } } }, 'journal.disk.floorBytes: must be at least 0'],
  ['floor not whole', { journal: { disk: { floorBytes: 0.5 } } }, 'journal.disk.floorBytes: must be a whole number'],
  ['floor above the low watermark', { journal: { disk: { lowWatermarkBytes: 1000, floorBytes: 2000 } } }, 'journal.disk.floorBytes: 2000 is above journal.disk.lowWatermarkBytes (1000); the floor must be the lower mark, so logons stop before the lanes fail closed'],
  ['journal chain cadence of zero records', { journal: { chain: { everyRecords: 0 } } }, 'journal.chain.everyRecords: must be at least 1 record'],
  ['journal chain cadence too rare', { journal: { chain: { everyMs: 120_000 } } }, 'journal.chain.everyMs: must be at most 60000 ms'],
  ['journal chain cadence not whole', { journal: { chain: { everyRecords: 2.5 } } }, 'journal.chain.everyRecords: must be a whole number'],
  ['unknown test fault', { lanes: { hft: { testFaults: { crash: true } } } }, 'lanes.hft.testFaults: unknown field "crash"; remove it or check its spelling'],
  ['cluster without this instance', { cluster: { enabled: true, instances: { gw2: { endpoints: {} } } } }, 'cluster.instances: this instance\'s gatewayId "gw1" is not listed; every instance, this one included, must be'],
  ['cluster directory naming an unknown instance', { cluster: { enabled: true, instances: { gw1: { endpoints: {} } }, directory: { accounts: { A1: 'gw9' } } } }, 'cluster.directory.accounts.A1: instance "gw9" is not in cluster.instances'],
  ['NATS off loopback without a token', { cluster: { enabled: true, instances: { gw1: { endpoints: {} } }, nats: { servers: ['nats://127.0.0.1:4222', 'nats://10.0.0.5:4222'] } } }, 'cluster.nats.servers.1: "nats://10.0.0.5:4222" is not on loopback and cluster.nats.tokenFile is null; set tokenFile to a file holding the NATS server\'s auth token (every instance can otherwise be controlled by anyone who reaches NATS)'],
  ['NATS token file missing', { cluster: { enabled: true, instances: { gw1: { endpoints: {} } }, nats: { tokenFile: '/nonexistent/nats-token' } } }, 'cluster.nats.tokenFile: file "/nonexistent/nats-token" does not exist'],
]

for (const [kind, overrides, message] of cases) {
  t.test(`config error: ${kind}`, async (t) => {
    const problems = problemsOf(overrides)
    t.ok(problems.includes(message), `expected "${message}" in ${JSON.stringify(problems)}`)
  })
}

t.test('config error: the global risk scope must set every limit', async (t) => {
  // Unreachable through a file (files merge over the complete defaults);
  // a config built in code is validated whole and can leave one out.
  const config = structuredClone(resolveConfig()) as { risk: { limits: { global: Record<string, unknown> } } }
  delete config.risk.limits.global.funds
  let problems: string[] = []
  try {
    validateConfig(config)
  } catch (err) {
    if (err instanceof ConfigError) problems = err.problems
  }
  t.same(problems, ['risk.limits.global.funds: the global scope must set every limit; use null for no limit'])
})

t.test('risk limits: null lifts a limit, per-exchange presets come from docs/domain.md', async (t) => {
  const config = resolveConfig({ risk: { limits: { global: { funds: null } } } })
  t.equal(config.risk.limits.global.funds, null)
  t.equal(config.risk.limits.global.maxOpenOrders, DEFAULT_CONFIG.risk.limits.global.maxOpenOrders, 'the rest of the global scope keeps its defaults')
  t.equal(config.risk.limits.exchanges.CFFEX?.cancelsBlock, 380, 'CFFEX index futures count 400 cancels')
  t.equal(config.risk.limits.exchanges.ZCE?.largeOrderMinLots, 800)
})

t.test('a non-loopback bind is allowed when explicitly overridden', async (t) => {
  t.same(problemsOf({ lanes: { platform: { host: '0.0.0.0', allowInsecureNonLoopback: true } } }), [])
  t.same(problemsOf({ ops: { host: '0.0.0.0', allowInsecureNonLoopback: true } }), [], 'the ops port too')
})

t.test('the ops port: a usable token file, and TLS off loopback', async (t) => {
  t.same(problemsOf({ ops: { tokenFile: tokenFiles.good } }), [])
  const fixture = (name: string): string => fileURLToPath(new URL(`../../test/fixtures/${name}`, import.meta.url))
  t.same(problemsOf({ ops: { host: '0.0.0.0', tls: { certFile: fixture('lane-tls-cert.pem'), keyFile: fixture('lane-tls-key.pem') } } }), [])
  t.equal(resolveConfig().ops.tokenFile, null, 'by default the token is generated into the run directory')
})

t.test('config files: unreadable, not JSON, not an object', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-config-'))
  const notJson = join(dir, 'bad.json')
  writeFileSync(notJson, '{ lanes: ')
  const array = join(dir, 'array.json')
  writeFileSync(array, '[]')
  const fileProblem = (path: string): string => {
    try {
      loadConfigFile(path)
    } catch (err) {
      if (err instanceof ConfigError) return err.problems.join('\n')
      throw err
    }
    return ''
  }
  t.match(fileProblem(join(dir, 'missing.json')), /missing\.json: cannot read the config file/)
  t.match(fileProblem(notJson), /bad\.json: not valid JSON/)
  t.match(fileProblem(array), /array\.json: must hold a JSON object/)
  // Bounded reads: a device or an oversized file is refused before it is read.
  t.equal(fileProblem('/dev/zero'), '/dev/zero: is a device, not a config file')
  t.equal(fileProblem(dir), `${dir}: is a directory, not a config file`)
  const huge = join(dir, 'huge.json')
  writeFileSync(huge, '')
  truncateSync(huge, 17 * 1024 * 1024)
  t.equal(fileProblem(huge), `${huge}: is ${17 * 1024 * 1024} bytes; a config file may be at most ${16 * 1024 * 1024} bytes`)
})
