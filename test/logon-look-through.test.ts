// Look-through logon on a real gateway: each failure path gives its exact
// reason, and every step is recorded.
import t from 'tap'
import { once } from 'node:events'
import { setTimeout as delay } from 'node:timers/promises'
import { GatehouseClient, type LogonOptions } from '../client/gatehouse-client.js'
import { DEFAULT_CONFIG } from '../config/defaults.js'
import { DEMO_APP_ID, DEMO_AUTH_CODE, DEMO_TERMINAL_INFO } from '../protocol/demo-identity.js'
import { ExecType, RejectReason, Side, TimeInForce } from '../protocol/messages.js'
import { startTestGateway } from './helpers/gateway.js'
import { TEST_IDENTITY } from './helpers/trading.js'

const HASH = DEFAULT_CONFIG.accounts[0]!.passwordHash // "maker-pass"
const DEMO_FINGERPRINT = DEFAULT_CONFIG.accounts[0]!.knownFingerprints[0]!
const PASSWORD = 'maker-pass'
const demoSoftware = DEFAULT_CONFIG.software[0]!
const software = (appId: string, fields: Record<string, unknown>): Record<string, unknown> => ({ ...demoSoftware, appId, authCode: `${appId}-authcode-0123456789`, ...fields })
const account = (id: string, fields: Record<string, unknown> = {}): Record<string, unknown> => ({
  id,
  passwordHash: HASH,
  lanes: ['terminal', 'platform', 'hft'],
  appIds: [DEMO_APP_ID, 'app-testing', 'app-suspended', 'app-revoked', 'app-expired'],
  ipRanges: ['127.0.0.0/8', '::1/128'],
  programmaticReport: 'none',
  maxSessions: 2,
  knownFingerprints: [],
  ...fields,
})

const overrides = {
  security: { maxFailures: 1000, failureWindowMs: 60_000, lockoutMs: 60_000, maxTrackedEntries: 1000 },
  lanes: { hft: { policy: { nonceTtlMs: 600, logonTimeoutMs: 1500 } } },
  software: [
    demoSoftware,
    software('app-testing', { status: 'testing', assessment: { documents: [], accessTestPassed: null } }),
    software('app-suspended', { status: 'suspended' }),
    software('app-revoked', { status: 'revoked' }),
    software('app-expired', { assessment: { documents: [{ name: 'vendor security statement', expires: '2020-06-30' }], accessTestPassed: '2020-01-05' } }),
    software('app-other', {}),
  ],
  accounts: [
    account('alice'),
    account('bob', { lanes: ['terminal'], knownFingerprints: [DEMO_FINGERPRINT] }),
    account('carol', { ipRanges: ['10.0.0.0/8'] }),
    account('dave', { appIds: ['app-other'] }),
    account('erin', { maxSessions: 1 }),
  ],
}
const gateway = await startTestGateway({ overrides })
t.teardown(() => gateway.stop())

const identity = (appId: string): { appId: string, authCode: string } => ({ appId, authCode: appId === DEMO_APP_ID ? DEMO_AUTH_CODE : `${appId}-authcode-0123456789` })
async function logonAs (lane: 'terminal' | 'platform' | 'hft', who: string, options: Partial<LogonOptions> = {}, password = PASSWORD): Promise<{ client: GatehouseClient, result: Awaited<ReturnType<GatehouseClient['logon']>> }> {
  const client = await GatehouseClient.connect(gateway.url(lane))
  const result = await client.logon(who, password, { ...TEST_IDENTITY, ...options })
  return { client, result }
}

t.test('the full sequence: authenticate, terminal info, logon, then trade', async (t) => {
  const { client, result } = await logonAs('terminal', 'alice')
  t.equal(result.ok, true)
  client.newOrder({ clientOrderId: 1, instrument: 'rb2605', side: Side.BUY, price: 3100, quantityLots: 1, timeInForce: TimeInForce.FAK })
  t.ok(await client.report(1, ExecType.ACK))
  await client.logout()
})

t.test('the client has no default identity: a logon without AppID, AuthCode or terminal info is refused before anything is sent', async (t) => {
  const client = await GatehouseClient.connect(gateway.url('terminal'))
  t.teardown(() => client.close())
  const { terminalInfo, ...software } = TEST_IDENTITY
  const incomplete: Array<[string, unknown, RegExp]> = [
    ['no options', undefined, /logon options are required/],
    ['no identity at all', {}, /must give appId, authCode, terminalInfo/],
    ['no terminal info', software, /must give terminalInfo: the client has no default/],
    ['no AuthCode', { appId: DEMO_APP_ID, terminalInfo }, /must give authCode:/],
    ['an empty AppID', { ...TEST_IDENTITY, appId: '' }, /must give appId:/],
  ]
  for (const [what, options, message] of incomplete) {
    await t.rejects(client.logon('alice', PASSWORD, options as LogonOptions), { name: 'GatehouseError', code: 'GH_ERR_CLIENT_OPTIONS', message }, what)
  }
  t.equal(client.received.filter((m) => m.body !== 'authChallenge').length, 0, 'the gateway was sent nothing it answered')
  t.equal((await client.logon('alice', PASSWORD, TEST_IDENTITY)).ok, true, 'the same connection logs on once the identity is given')
})

t.test('AppID failures', async (t) => {
  const cases: Array<[string, string, number, RegExp]> = [
    ['unknown AppID', 'app-nobody-knows', RejectReason.APPID_UNKNOWN, /not registered/],
    ['suspended AppID', 'app-suspended', RejectReason.APPID_NOT_APPROVED, /suspended/],
    ['revoked AppID', 'app-revoked', RejectReason.APPID_NOT_APPROVED, /revoked/],
    ['expired assessment', 'app-expired', RejectReason.APPID_ASSESSMENT_EXPIRED, /expired on 2020-06-30/],
    ['testing AppID on the production exchange', 'app-testing', RejectReason.APPID_TESTING_ONLY, /only a test exchange/],
  ]
  for (const [name, appId, reason, text] of cases) {
    const { client, result } = await logonAs('terminal', 'alice', identity(appId))
    t.equal(result.failedStep, 'authenticate', `${name}: refused at authenticate`)
    t.equal(result.reason, reason, `${name}: ${RejectReason[reason]}`)
    t.match(result.text, text, `${name}: says why`)
    await client.close()
  }
})

t.test('a testing AppID may reach a test exchange', async (t) => {
  const testGateway = await startTestGateway({ overrides, simArgs: ['--environment', 'test'] })
  t.teardown(() => testGateway.stop())
  const client = await GatehouseClient.connect(testGateway.url('terminal'))
  t.equal((await client.logon('alice', PASSWORD, { ...TEST_IDENTITY, ...identity('app-testing') })).ok, true)
  await client.logout()
})

t.test('a wrong AuthCode proof fails with AUTH_FAILED', async (t) => {
  const { client, result } = await logonAs('terminal', 'alice', { appId: DEMO_APP_ID, authCode: 'not-the-real-authcode-000' })
  t.equal(result.failedStep, 'authenticate')
  t.equal(result.reason, RejectReason.AUTH_FAILED)
  // A new challenge follows each failure, and the right proof over it works.
  t.equal((await client.logon('alice', PASSWORD, TEST_IDENTITY)).ok, true)
  await client.logout()
})

t.test('a replayed proof fails: each nonce is single use and bound to its connection', async (t) => {
  const victim = await GatehouseClient.connect(gateway.url('terminal'))
  const sniffed = new Promise<Uint8Array>((resolve) => {
    // Capture the bytes the victim's Authenticate put on the wire.
    const send = victim.send.bind(victim)
    victim.send = (envelope) => {
      const seq = send(envelope)
      if (envelope.authenticate != null) resolve(Uint8Array.from(envelope.authenticate.proof!))
      return seq
    }
  })
  t.equal((await victim.authenticate(identity(DEMO_APP_ID), 'alice')).ok, true)
  const proof = await sniffed
  const attacker = await GatehouseClient.connect(gateway.url('terminal'))
  await attacker.next((m) => m.body === 'authChallenge')
  const replayed = attacker.nextNew((m) => m.body === 'authenticateReply')
  attacker.send({ authenticate: { appId: DEMO_APP_ID, account: 'alice', proof } })
  t.equal((await replayed).authenticateReply!.reason, RejectReason.AUTH_FAILED, 'another connection cannot reuse it')
  // Replaying on the victim's own connection after a failure fails too: the nonce has changed.
  const victim2 = await GatehouseClient.connect(gateway.url('terminal'))
  t.equal((await victim2.authenticate({ appId: DEMO_APP_ID, authCode: 'wrong-authcode-000000' }, 'alice')).reason, RejectReason.AUTH_FAILED)
  await victim2.next((m) => m.body === 'authChallenge' && victim2.received.filter((x) => x.body === 'authChallenge').length === 2)
  const again = victim2.nextNew((m) => m.body === 'authenticateReply')
  victim2.send({ authenticate: { appId: DEMO_APP_ID, account: 'alice', proof } })
  t.equal((await again).authenticateReply!.reason, RejectReason.AUTH_FAILED, 'a proof over an old nonce fails')
  await Promise.all([victim.close(), attacker.close(), victim2.close()])
})

t.test('a stale proof fails with NONCE_EXPIRED and a fresh challenge follows', async (t) => {
  const client = await GatehouseClient.connect(gateway.url('hft'))
  const challenge = await client.next((m) => m.body === 'authChallenge')
  // Time passing is the behaviour under test: wait out the nonce's lifetime.
  await delay((challenge.authChallenge!.expiresInMs ?? 0) + 100)
  const reply = await client.authenticate(identity(DEMO_APP_ID), 'alice')
  t.equal(reply.reason, RejectReason.NONCE_EXPIRED)
  t.equal((await client.authenticate(identity(DEMO_APP_ID), 'alice')).ok, true, 'the next challenge works')
  await client.close()
})

t.test('terminal info: required fields and the failure bitmask', async (t) => {
  const noMac = await logonAs('platform', 'alice', { terminalInfo: { ...DEMO_TERMINAL_INFO, mac: '' } })
  t.equal(noMac.result.failedStep, 'terminal-info')
  t.equal(noMac.result.reason, RejectReason.TERMINAL_INFO_INCOMPLETE)
  t.match(noMac.result.text, /mac/)
  // Bit 4 (device name) flagged as not collected counts as missing even if a value was typed.
  const flagged = await logonAs('platform', 'alice', { terminalInfo: { ...DEMO_TERMINAL_INFO, collectFailureMask: 1 << 4 } })
  t.equal(flagged.result.reason, RejectReason.TERMINAL_INFO_INCOMPLETE)
  t.match(flagged.result.text, /deviceName/)
  // The terminal lane does not require the disk serial, so a Linux VM's info passes there.
  await Promise.all([noMac.client.close(), flagged.client.close()])
})

t.test('a new fingerprint under each lane policy', async (t) => {
  const newTerminal = { ...DEMO_TERMINAL_INFO, deviceName: `new-box-${Date.now()}` }
  // terminal lane: allow, with an alert and a record.
  const alerts: string[] = []
  gateway.supervisor.access.onAlert = (alert) => { alerts.push(`${alert.kind}:${alert.account}`) }
  const allowed = await logonAs('terminal', 'alice', { terminalInfo: newTerminal })
  t.equal(allowed.result.ok, true, 'allow-alert lets it in')
  t.ok(alerts.includes('new-fingerprint:alice'), 'and raises an alert')
  const history = gateway.supervisor.access.fingerprintHistory('alice')
  const entry = history.find((h) => h.status === 'approved' && h.firstSeenMs > 0)
  t.ok(entry, 'the fingerprint history keeps first seen')
  t.ok(entry!.lastSeenMs >= entry!.firstSeenMs, 'and last seen')
  await allowed.client.logout()

  // platform lane: held until ops approve.
  const heldTerminal = { ...DEMO_TERMINAL_INFO, deviceName: `held-box-${Date.now()}` }
  const heldAlice = await logonAs('platform', 'alice', { terminalInfo: heldTerminal })
  t.equal(heldAlice.result.reason, RejectReason.FINGERPRINT_HELD)
  const reply = heldAlice.client.received.find((m) => m.body === 'terminalInfoReply')!.terminalInfoReply!
  t.equal(reply.newFingerprint, true)
  t.ok(alerts.includes('fingerprint-held:alice'))
  t.equal(gateway.supervisor.access.decideFingerprint('alice', reply.fingerprintId!, true), true, 'ops approve it')
  await heldAlice.client.close()
  const approved = await logonAs('platform', 'alice', { terminalInfo: heldTerminal })
  t.equal(approved.result.ok, true, 'approved fingerprint logs on')
  await approved.client.logout()

  // hft lane: rejected.
  const rejected = await logonAs('hft', 'alice', { terminalInfo: { ...DEMO_TERMINAL_INFO, deviceName: `other-box-${Date.now()}` } })
  t.equal(rejected.result.reason, RejectReason.FINGERPRINT_REJECTED)
  await rejected.client.close()
})

t.test('account failures: IP range, lane, binding, session cap, wrong account', async (t) => {
  // The right password from outside the account's IP range, lane or
  // binding gets the answer a wrong one gets (no password oracle); the
  // audit keeps the precise reason (last test).
  const carol = await logonAs('terminal', 'carol')
  t.equal(carol.result.reason, RejectReason.INVALID_CREDENTIALS)
  t.match(carol.result.text, /may not log on .* from this address/)
  const bobTerminal = await logonAs('terminal', 'bob')
  t.equal(bobTerminal.result.ok, true, 'bob may use the terminal lane')
  await bobTerminal.client.logout()
  const bobPlatform = await logonAs('platform', 'bob')
  t.equal(bobPlatform.result.reason, RejectReason.INVALID_CREDENTIALS)
  await bobPlatform.client.close()

  const dave = await logonAs('terminal', 'dave')
  t.equal(dave.result.reason, RejectReason.INVALID_CREDENTIALS)
  await dave.client.close()

  const first = await logonAs('terminal', 'erin')
  t.equal(first.result.ok, true)
  const second = await logonAs('terminal', 'erin')
  t.equal(second.result.reason, RejectReason.TOO_MANY_SESSIONS)
  await first.client.logout()
  const third = await second.client.login('erin', PASSWORD)
  t.equal(third.ok, true, 'the place is free again once the first session ends')
  await second.client.logout()
  await Promise.all([carol.client.close(), dave.client.close()])
})

t.test('steps out of order are refused, and orders need all three steps', async (t) => {
  const client = await GatehouseClient.connect(gateway.url('terminal'))
  const early = client.send({ logon: { account: 'alice', password: PASSWORD } })
  const reject = await client.reject(early)
  t.equal(reject.reason, RejectReason.LOGON_STEP_OUT_OF_ORDER)
  t.match(reject.text, /next logon step is Authenticate/)
  t.equal((await client.authenticate(identity(DEMO_APP_ID), 'alice')).ok, true)
  const order = client.newOrder({ clientOrderId: 1, instrument: 'rb2605', side: Side.BUY, price: 3000, quantityLots: 1 })
  t.equal((await client.reject(order)).reason, RejectReason.NOT_AUTHENT, 'authenticated software alone cannot trade')
  await client.close()
})

t.test('a logon that never completes times out and is closed', async (t) => {
  const client = await GatehouseClient.connect(gateway.url('hft'))
  const closed = once(client, 'close')
  const reject = await client.next((m) => m.body === 'reject', 5000)
  t.equal(reject.reject!.reason, RejectReason.LOGON_TIMEOUT)
  const [code] = await closed
  t.equal(code, 1008)
})

t.test('every step is recorded with its reason and the socket address', async (t) => {
  const records = gateway.supervisor.access.audit.recent
  const steps = new Set(records.map((r) => r.step))
  for (const step of ['connect', 'authenticate', 'terminal-info', 'logon', 'logout', 'timeout']) t.ok(steps.has(step as never), `${step} steps recorded`)
  const failure = records.find((r) => r.reason === RejectReason.IP_NOT_ALLOWED)
  t.equal(failure?.account, 'carol')
  t.match(failure?.ip ?? '', /127\.0\.0\.1|7f00:0*1/, 'the address comes from the socket')
  const terminal = records.find((r) => r.step === 'terminal-info' && r.terminal !== undefined)
  t.equal(terminal?.terminal?.mac, DEMO_TERMINAL_INFO.mac, 'terminal info is kept with the step')
})
