// Fail closed: when a lane's journal cannot be written, the lane sends
// nothing more, not to its clients and not to the exchange, while the
// other lanes keep serving. The disk-full case is made real with
// RLIMIT_FSIZE (ulimit -f) on the gateway process: a journal write past
// the limit fails with EFBIG, exactly where a full disk fails.
import t from 'tap'
import { once } from 'node:events'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { GatehouseClient } from '../client/gatehouse-client.js'
import { journalDir } from '../config/config.js'
import { DEFAULT_CONFIG } from '../config/defaults.js'
import { readJournal } from '../journal/reader.js'
import { RecordKind } from '../journal/record-format.js'
import { verifyJournal } from '../journal/verify.js'
import { decodeLinkEnvelope } from '../protocol/link-codec.js'
import { ExecType, Side, wireInt } from '../protocol/messages.js'
import { startExchangeSim } from './helpers/exchange-sim-process.js'
import { testConfig } from './helpers/gateway.js'
import { startGatewayProcess } from './helpers/gateway-process.js'
import { PASSWORD, tradingAccount, TEST_IDENTITY } from './helpers/trading.js'

/** Small enough that a few hundred orders fill a segment, large enough for the supervisor's start records. */
const FILE_LIMIT_KIB = 96

t.test('a lane whose journal write fails disconnects its clients, refuses connections, forwards nothing unrecorded; the other lanes go on', async (t) => {
  const dir = t.testdir()
  const recordFile = join(dir, 'exchange-orders.jsonl')
  const sim = await startExchangeSim(['--record', recordFile])
  t.teardown(() => sim.stop())
  const config = testConfig(sim.port, {
    runDir: join(dir, 'run'),
    accounts: [...DEFAULT_CONFIG.accounts, tradingAccount('FULL-1'), tradingAccount('FULL-2')],
    journal: { fsync: 'never' },
  })
  const configFile = join(dir, 'gateway.json')
  writeFileSync(configFile, JSON.stringify(config))
  const gw = await startGatewayProcess(configFile, { fileSizeLimitKiB: FILE_LIMIT_KIB })
  t.teardown(() => gw.kill9())

  const platform = await GatehouseClient.connect(gw.url('platform'))
  t.ok((await platform.logon('FULL-1', PASSWORD, TEST_IDENTITY)).ok, 'logged on to the platform lane')
  const closed = once(platform, 'close')
  let acked = 0
  for (let id = 1; !platform.isClosed; id++) {
    platform.newOrder({ clientOrderId: id, instrument: 'rb2605', side: Side.BUY, price: 3100, quantityLots: 1 })
    const report = await Promise.race([platform.report(id), closed.then(() => null)])
    if (report?.execType === ExecType.ACK) acked++
  }
  const [code] = await closed as [number, string]
  t.equal(code, 1011, `after ${acked} acknowledged orders the journal filled up and the lane closed the session with 1011`)
  const failed = await gw.event((e) => e.event === 'journal-failed')
  t.teardown(() => { if (!t.passing()) t.comment(`gateway stderr:\n${gw.stderr()}`) })
  t.match(failed, { where: 'lane platform', error: /EFBIG|too large/i }, 'ops get a journal-failed event naming the lane and the error')
  t.match(gw.stderr(), /JOURNAL FAILURE in lane platform/, 'and a line on stderr')

  await t.rejects(GatehouseClient.connect(gw.url('platform')), /503/, 'the failed lane refuses new connections with 503')

  const hft = await GatehouseClient.connect(gw.url('hft'))
  t.ok((await hft.logon('FULL-2', PASSWORD, TEST_IDENTITY)).ok, 'the hft lane still logs on')
  hft.newOrder({ clientOrderId: 1, instrument: 'rb2605', side: Side.BUY, price: 3100, quantityLots: 1 })
  t.equal((await hft.report(1)).execType, ExecType.ACK, 'and still trades')
  await hft.close()
  await gw.stop()

  // Nothing the platform lane forwarded is missing from its journal.
  const journaled = new Set<number>()
  for (const record of readJournal(journalDir(config), { streams: ['platform'] })) {
    if (record.kind !== RecordKind.LINK_OUT) continue
    const envelope = decodeLinkEnvelope(record.payload)
    if (envelope.body === 'newOrder') journaled.add(wireInt(envelope.newOrder!.orderId))
  }
  const received = readFileSync(recordFile, 'utf8').split('\n').filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { session: string, order_id: number })
    .filter((o) => o.session === `${config.gatewayId}-platform`)
  t.ok(received.length >= acked, `the exchange received ${received.length} platform orders`)
  t.same(received.filter((o) => !journaled.has(o.order_id)), [], 'every one of them is in the journal')
  // The failed write left a torn tail in the live segment, which verify
  // reports; it is cut (and kept aside) when the stream is next opened.
  const verified = verifyJournal(journalDir(config))
  t.ok(verified.problems.every((p) => p.stream === 'platform'), 'only the failed stream has a problem')
})
