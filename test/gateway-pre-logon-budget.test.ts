// Before logon a connection is nobody's, yet the journal keeps what it
// sends for 20 years: floods of heartbeats or of big frames from a
// connection that never logs on are cut off after a small budget, the
// journal keeps at most a bounded footprint of them (digests past the
// allowance), and a logged-on client on the same lane keeps trading.
// After logon, frames refused before decoding count against the session
// throttle like any other message.
import t from 'tap'
import { once } from 'node:events'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { GatehouseClient } from '../client/gatehouse-client.js'
import { journalDir } from '../config/config.js'
import { DEMO_TERMINAL_INFO } from '../protocol/demo-identity.js'
import { encodeClientEnvelope } from '../protocol/client-codec.js'
import { RejectReason, wireInt } from '../protocol/messages.js'
import { readJournal } from '../journal/reader.js'
import { RecordKind } from '../journal/record-format.js'
import { DIGEST_PAYLOAD_BYTES, FLAG_DIGEST, readFrameDigest } from '../journal/gateway-records.js'
import { startTestGateway } from './helpers/gateway.js'
import { wellBehavedClient, TEST_IDENTITY } from './helpers/trading.js'

const SESSION_LIMIT = 20
const gateway = await startTestGateway({
  overrides: { risk: { limits: { lanes: { platform: { sessionMessagesPerSecond: SESSION_LIMIT } } } } },
})
t.teardown(() => gateway.stop())
const url = gateway.url('platform')
const policy = gateway.config.lanes.platform.policy
const root = journalDir(gateway.config)

/** Bytes of the platform lane's journal segments on disk now. */
function platformJournalBytes (): number {
  let total = 0
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (entry.name.startsWith('platform-')) total += statSync(path).size
    }
  }
  walk(root)
  return total
}

/** Waits until the journal has committed what the lane handled (records reach the OS at the end of each turn). */
async function settledJournalBytes (): Promise<number> {
  let last = -1
  for (let i = 0; i < 100; i++) {
    const now = platformJournalBytes()
    if (now === last) return now
    last = now
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return last
}

// The well-behaved client trades before, during and after every flood.
const { trades: goodClientTrades } = await wellBehavedClient(url)

/**
 * The journal bound per connection that never logs on: its frames (at
 * most preLogonMaxMessages + 1, whole up to preLogonJournalBytes, digests
 * beyond), their record heads, and the lane's replies to each (challenge,
 * heartbeat echoes, the final reject), generously 512 bytes a message.
 */
const PER_CONNECTION_BOUND = policy.preLogonJournalBytes + (policy.preLogonMaxMessages + 2) * 512

t.test('a heartbeat flood before logon is cut off after the message budget, with a bounded journal footprint', async (t) => {
  const before = await settledJournalBytes()
  const flooder = await GatehouseClient.connect(url)
  const closed = once(flooder, 'close')
  const FLOOD = 2000
  // Sent without waiting, as a flooder does; the gateway must close it long before the end.
  for (let i = 1; i <= FLOOD && !flooder.isClosed; i++) flooder.send({ heartbeat: { testId: i } })
  const [code] = await closed as [number, string]
  t.equal(code, 1008, 'closed with 1008 (policy violation)')
  const reject = flooder.received.find((m) => m.body === 'reject')?.reject
  t.equal(reject?.reason, RejectReason.PRE_LOGON_BUDGET_EXCEEDED, 'told why: PRE_LOGON_BUDGET_EXCEEDED')
  t.match(reject?.text, new RegExp(`more than ${policy.preLogonMaxMessages} messages before logon`), 'the text names the budget')
  const echoes = flooder.received.filter((m) => m.body === 'heartbeat').length
  t.equal(echoes, policy.preLogonMaxMessages, `only the budget's ${policy.preLogonMaxMessages} heartbeats were answered, of ${FLOOD}`)
  const grown = await settledJournalBytes() - before
  t.ok(grown <= PER_CONNECTION_BOUND, `journal grew ${grown} bytes, within the ${PER_CONNECTION_BOUND}-byte bound per connection`)
  t.ok(await goodClientTrades(), 'a logged-on client on the same lane keeps trading')
})

t.test('a big frame before logon closes the connection, and only its digest is journaled', async (t) => {
  const before = await settledJournalBytes()
  for (let round = 0; round < 5; round++) {
    const flooder = await GatehouseClient.connect(url)
    const closed = once(flooder, 'close')
    // Under the hard limit (4 × maxFrameBytes), so uWS delivers it to the lane.
    const big = new Uint8Array(gateway.config.lanes.platform.maxFrameBytes * 4 - 64).fill(0x5a)
    for (let i = 0; i < 50 && !flooder.isClosed; i++) flooder.sendRaw(big)
    const [code] = await closed as [number, string]
    t.equal(code, 1008, `round ${round}: closed with 1008`)
    const reject = flooder.received.find((m) => m.body === 'reject')?.reject
    t.equal(reject?.reason, RejectReason.PRE_LOGON_BUDGET_EXCEEDED, `round ${round}: PRE_LOGON_BUDGET_EXCEEDED`)
    t.match(reject?.text, /pre-logon limit/, `round ${round}: the text names the frame limit`)
    const challenge = flooder.received.find((m) => m.body === 'authChallenge')
    t.ok(challenge !== undefined, 'it had been challenged')
  }
  const grown = await settledJournalBytes() - before
  t.ok(grown <= 5 * PER_CONNECTION_BOUND, `journal grew ${grown} bytes for 5 connections sending 250 frames of ~16 KiB, within ${5 * PER_CONNECTION_BOUND}`)
  let digests = 0
  for (const record of readJournal(root, { streams: ['platform'] })) {
    if (record.kind !== RecordKind.CLIENT_IN) continue
    t.ok(record.payload.length <= policy.preLogonMaxFrameBytes || record.account !== '', 'no frame above the pre-logon limit is journaled whole before logon')
    if ((record.flags & FLAG_DIGEST) !== 0) {
      t.equal(record.payload.length, DIGEST_PAYLOAD_BYTES)
      // The digest keeps the frame's length (the heartbeat flood's last frame is one too).
      if (readFrameDigest(record.payload)?.frameBytes === gateway.config.lanes.platform.maxFrameBytes * 4 - 64) digests++
    }
  }
  t.equal(digests, 5, 'each connection\'s big frame left one digest with its length; the frames after it were dropped unjournaled as the connection closed')
  t.ok(await goodClientTrades(), 'a logged-on client on the same lane keeps trading')
})

t.test('a full logon fits the pre-logon budget, with the largest plausible TerminalInfo', async (t) => {
  // Every field at a generous real-world length: 8 IPv6 addresses, long serials.
  const info = {
    terminalType: 'windows-pc-workstation',
    collectedTimeUs: Date.now() * 1000,
    ips: Array.from({ length: 8 }, (_, i) => `fe80:0000:0000:0000:0211:22ff:fe33:44${String(i).padStart(2, '0')}`),
    mac: '00:11:22:33:44:55',
    deviceName: 'TRADING-DESK-WORKSTATION-0042.branch.example.com',
    osVersion: 'Microsoft Windows 11 Enterprise 10.0.22631 Build 22631',
    diskSerial: 'S4EWNX0R123456Z-WD-WX12A3456789',
    cpuSerial: 'BFEBFBFF000906EA-0000-0000-0000-000000000000',
    bios: 'American Megatrends Inc. 1.23.456 SN 0123456789ABCDEF',
    systemDiskPartition: 'C:\\ NTFS 512110190592 bytes, GPT, partition 3 of 4',
    collectFailureMask: 0,
    abnormal: false,
  }
  const frameBytes = encodeClientEnvelope({ seq: 3, sentTimeUs: Date.now() * 1000, terminalInfo: info }).length
  t.ok(frameBytes <= policy.preLogonMaxFrameBytes, `the TerminalInfo frame (${frameBytes} bytes) fits preLogonMaxFrameBytes (${policy.preLogonMaxFrameBytes})`)
  // The terminal lane admits a new terminal with an alert (platform holds it for approval).
  const client = await GatehouseClient.connect(gateway.url('terminal'))
  // A few heartbeats while logging on, as a slow client would send.
  for (let i = 0; i < 4; i++) client.send({ heartbeat: { testId: i + 1 } })
  const result = await client.logon('demo-maker', 'maker-pass', { ...TEST_IDENTITY, terminalInfo: { ...DEMO_TERMINAL_INFO, ...info } })
  t.equal(result.ok, true, 'logged on within the budget')
  // Past logon the pre-logon budget no longer applies.
  for (let i = 0; i < policy.preLogonMaxMessages; i++) client.send({ heartbeat: { testId: 100 + i } })
  await client.next((m) => m.body === 'heartbeat' && wireInt(m.heartbeat!.testId) === 100 + policy.preLogonMaxMessages - 1)
  t.equal(client.isClosed, false, 'still connected')
  await client.logout()
})

t.test('after logon, oversized, text and undecodable frames count against the session throttle', async (t) => {
  const client = await GatehouseClient.connect(url)
  t.equal((await client.logon('demo-maker', 'maker-pass', TEST_IDENTITY)).ok, true)
  const oversized = new Uint8Array(gateway.config.lanes.platform.maxFrameBytes + 1)
  const frames = SESSION_LIMIT * 2
  const before = client.received.length
  for (let i = 0; i < frames; i++) {
    if (i % 3 === 0) client.sendRaw('{"newOrder":{}}')
    else if (i % 3 === 1) client.sendRaw(oversized)
    else client.sendRaw(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f]))
  }
  // Every frame gets one reject; wait for all of them.
  while (client.received.slice(before).filter((m) => m.body === 'reject').length < frames) {
    await client.nextNew((m) => m.body === 'reject')
  }
  const reasons = client.received.slice(before).filter((m) => m.body === 'reject').map((m) => m.reject!.reason)
  const throttled = reasons.filter((r) => r === RejectReason.THROTTLED_SESSION).length
  t.ok(throttled >= frames - SESSION_LIMIT, `${throttled} of ${frames} junk frames within a second were THROTTLED_SESSION (limit ${SESSION_LIMIT}/s)`)
  const throttledReject = client.received.slice(before).find((m) => m.body === 'reject' && m.reject!.reason === RejectReason.THROTTLED_SESSION)!.reject!
  t.equal(throttledReject.limit, SESSION_LIMIT, 'the reject names the limit')
  await client.logout()
  t.ok(await goodClientTrades(), 'a logged-on client on the same lane keeps trading')
})
