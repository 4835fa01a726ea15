// Journal replication end to end: a gateway with cluster and replication
// on trades through the simulator (a process) while its replicator thread
// publishes to a real nats-server. Every local segment must equal, byte for
// byte, the segment rebuilt from the stream; `journal verify --nats` must
// pass; search and export from the stream must equal those from the local
// directory; and a record changed in the stream's copy must be named by
// verify.
import t from 'tap'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from '@nats-io/transport-node'
import { jetstream, jetstreamManager, type MsgRequest } from '@nats-io/jetstream'
import { journalDir } from '../config/config.js'
import { Side, TimeInForce } from '../protocol/messages.js'
import { utcDayOfUs } from '../journal/record-format.js'
import { HDR_OFFSET, HDR_SEGMENT } from '../cluster/journal-replicator.js'
import { startTestGateway } from './helpers/gateway.js'
import { startTestNats } from './helpers/nats-server.js'
import { runCli } from './helpers/cli-run.js'
import { finished, logOn, place, tradingAccount } from './helpers/trading.js'
import { replicaOf, replicationCluster, segmentFiles, untilCaughtUp } from './helpers/replication.js'
import { parseExposition } from './helpers/prometheus-text.js'

const nats = await startTestNats(t)
const gateway = await startTestGateway({
  overrides: { accounts: ['rp-buyer', 'rp-seller'].map(tradingAccount), cluster: replicationCluster(nats.url) },
})
let stopped = false
t.teardown(async () => { if (!stopped) await gateway.stop() })
const dir = journalDir(gateway.config)
const instance = gateway.config.gatewayId

t.test('a trading gateway\'s journal is in the stream, byte for byte', async (t) => {
  const seller = await logOn(gateway, 'platform', 'rp-seller')
  const buyer = await logOn(gateway, 'terminal', 'rp-buyer')
  for (let i = 0; i < 20; i++) {
    const offer = await place(seller, { instrument: 'rb2605', side: Side.SELL, price: 3300 + (i % 3), quantityLots: 1, timeInForce: TimeInForce.GFD })
    const bid = await place(buyer, { instrument: 'rb2605', side: Side.BUY, price: 3310, quantityLots: 1, timeInForce: TimeInForce.FAK })
    await finished(buyer, bid.id)
    await finished(seller, offer.id)
  }
  const status = await untilCaughtUp(() => gateway.supervisor.replicator?.status ?? null, dir)
  t.ok(status.streams.find((s) => s.stream === 'platform')!.publishedRecords > 40, 'the platform stream\'s records were acknowledged')

  const metrics = parseExposition(await (await gateway.ops('/metrics')).text())
  t.equal(metrics.get('gatehouse_replication_nats_connected')?.samples[0]?.value, 1, 'gatehouse_replication_nats_connected 1')
  const lag = metrics.get('gatehouse_replication_lag_bytes')?.samples ?? []
  t.ok(lag.some((s) => s.labels.stream === 'platform'), 'lag per stream is exposed')
  t.ok(metrics.get('gatehouse_replication_published_records_total')?.samples.some((s) => s.labels.stream === 'terminal' && s.value > 0), 'published records per stream')

  await seller.client.close()
  await buyer.client.close()
  // The lanes seal their segments as they stop; the replicator publishes the seals before it ends.
  await gateway.stop()
  stopped = true
  const local = segmentFiles(dir)
  t.ok(local.size >= 3, `${local.size} local segments`)
  const replica = await replicaOf(nats.url)
  t.teardown(() => { replica.remove() })
  t.same(replica.instances, [instance])
  t.same(replica.problems, [], 'no overlapping, missing or misnamed message')
  const copied = segmentFiles(join(replica.root, instance))
  t.same([...copied.keys()].sort(), [...local.keys()].sort(), 'the same segment files')
  for (const [name, bytes] of local) t.ok(copied.get(name)?.equals(bytes), `${name}: ${bytes.length} bytes equal`)
})

t.test('journal verify, search and export read the stream as they read the directory', async (t) => {
  const verified = await runCli(['journal', 'verify', '--nats', nats.url])
  t.equal(verified.code, 0, verified.stderr)
  const lines = verified.stdout.trim().split('\n')
  t.ok(lines.every((line) => line.startsWith(`[${instance}] `)), 'every line names its instance')
  t.match(verified.stdout, /journal OK/)
  const local = await runCli(['journal', 'verify', dir])
  t.equal(local.code, 0)
  t.equal(verified.stdout, local.stdout.trim().split('\n').map((line) => `[${instance}] ${line.split(dir).join(`nats:GATEHOUSE_JOURNAL/${instance}`)}`).join('\n') + '\n',
    'the same report, labelled')

  const searchLocal = await runCli(['journal', 'search', dir, '--account', 'rp-buyer', '--json'])
  const searchNats = await runCli(['journal', 'search', '--nats', nats.url, '--account', 'rp-buyer', '--json'])
  t.equal(searchLocal.code, 0)
  t.equal(searchNats.code, 0, searchNats.stderr)
  const unlabelled = searchNats.stdout.trim().split('\n').map((line) => {
    const { instance: from, ...record } = JSON.parse(line) as Record<string, unknown>
    t.equal(from, instance)
    return JSON.stringify(record)
  })
  t.ok(unlabelled.length > 20, `${unlabelled.length} records found`)
  t.same(unlabelled, searchLocal.stdout.trim().split('\n'), 'search finds the same records')

  const out = mkdtempSync(join(tmpdir(), 'gh-replica-export-'))
  const day = utcDayOfUs(Date.now() * 1000)
  const exportLocal = await runCli(['journal', 'export', dir, '--day', day, '--format', 'csv', '--out', join(out, 'local.csv')])
  const exportNats = await runCli(['journal', 'export', '--nats', nats.url, '--instance', instance, '--day', day, '--format', 'csv', '--out', join(out, 'nats.csv')])
  t.equal(exportLocal.code, 0, exportLocal.stderr)
  t.equal(exportNats.code, 0, exportNats.stderr)
  t.ok(readFileSync(join(out, 'nats.csv')).equals(readFileSync(join(out, 'local.csv'))), 'export writes the same file')
})

t.test('a record changed in the stream is named by verify', async (t) => {
  const nc = await connect({ servers: [nats.url] })
  t.teardown(async () => nc.close())
  const jsm = await jetstreamManager(nc)
  const subject = `journal.${instance}.platform`
  // The second message of the subject: the first run of records after the header.
  const header = await jsm.streams.getMessage('GATEHOUSE_JOURNAL', { seq: 1, next_by_subj: subject } as unknown as MsgRequest)
  const run = await jsm.streams.getMessage('GATEHOUSE_JOURNAL', { seq: header!.seq + 1, next_by_subj: subject } as unknown as MsgRequest)
  const forged = Buffer.from(run!.data)
  forged[forged.length - 10]! ^= 0x01
  const h = (await import('@nats-io/transport-node')).headers()
  h.set(HDR_SEGMENT, run!.header.get(HDR_SEGMENT))
  h.set(HDR_OFFSET, run!.header.get(HDR_OFFSET))
  await jetstream(nc).publish(subject, forged, { headers: h })

  const verified = await runCli(['journal', 'verify', '--nats', nats.url])
  t.equal(verified.code, 1, 'verify fails')
  t.match(verified.stdout, new RegExp(`\\[${instance}\\] .*${run!.header.get(HDR_SEGMENT).replaceAll('.', '\\.')}`), 'names the segment')
  t.match(verified.stdout, /CHANGED/, 'says the record was changed')
  t.match(verified.stderr, /overlaps .* bytes already there/, 'and the stream holds a message over bytes already there')
})
