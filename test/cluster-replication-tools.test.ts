// `gatehouse journal verify | search | export --nats` across instances:
// two instances' journals (written by the real JournalStream, published by
// the real replicator with its own NATS link, to a real nats-server) read
// back from the one stream, each line labelled with its instance; and the
// tools' budgets and refusals with their codes: an unknown instance or an
// unreachable NATS (GH_ERR_REPLICA_FETCH, exit 1), a replica past
// --max-bytes (GH_ERR_REPLICA_TOO_LARGE, exit 2), DIR and --nats together
// (exit 2). A replicator restarted over a journal that grew resumes from
// the stream without a repeat.
import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { encodeClientEnvelope } from '../protocol/client-codec.js'
import { Side, TimeInForce } from '../protocol/messages.js'
import { CLIENT_BODY_FIELDS } from '../journal/gateway-records.js'
import { Direction, LANE_CODES, RecordKind, newRecordHead } from '../journal/record-format.js'
import { JournalStream } from '../journal/segment-writer.js'
import { JournalReplicator } from '../cluster/journal-replicator.js'
import { startNats } from '../cluster/nats-connection.js'
import { DEFAULT_CONFIG } from '../config/defaults.js'
import { startTestNats } from './helpers/nats-server.js'
import { runCli } from './helpers/cli-run.js'
import { replicaOf, segmentFiles } from './helpers/replication.js'

const DAY_US = Date.UTC(2026, 10, 20, 1, 30) * 1000
const nats = await startTestNats(t)
const root = t.testdir()

/** Appends `orders` new-order records for `account` to the platform stream under `journal`, one batch each, and closes it (sealed). */
function writeOrders (journal: string, account: string, orders: number, startUs: number): void {
  let now = startUs
  const stream = JournalStream.open({ stream: 'platform', root: journal, fsync: 'never', clockUs: () => (now += 1000) })
  for (let coid = 1; coid <= orders; coid++) {
    const head = newRecordHead({ kind: RecordKind.CLIENT_IN, lane: LANE_CODES.platform, direction: Direction.IN, sessionId: 11, account, msgType: CLIENT_BODY_FIELDS.newOrder! })
    stream.append(head, encodeClientEnvelope({ seq: coid, newOrder: { clientOrderId: coid, instrument: 'rb2605', side: Side.BUY, price: 3200, quantityLots: 1, timeInForce: TimeInForce.GFD } }))
    stream.commit()
  }
  stream.close()
}

/** Runs a replicator over `journal` as instance `id` until every committed byte is acknowledged. */
async function replicate (journal: string, id: string): Promise<void> {
  const link = startNats({ ...DEFAULT_CONFIG.cluster.nats, servers: [nats.url] }, `${id}-replicator`)
  const replicator = new JournalReplicator({ journalDir: journal, instance: id, settings: { ...DEFAULT_CONFIG.cluster.replication, pollIntervalMs: 5 }, link }).start()
  try {
    await link.ready
    const deadline = Date.now() + 20_000
    while (!(replicator.caughtUp() && replicator.status().streams.length > 0)) {
      if (Date.now() > deadline) throw new Error(`${id}: not caught up: ${JSON.stringify(replicator.status())}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  } finally {
    await replicator.stop()
    await link.close()
  }
}

const gw1 = join(root, 'gw1')
const gw2 = join(root, 'gw2')
writeOrders(gw1, 'ACC1', 5, DAY_US)
writeOrders(gw2, 'ACC2', 7, DAY_US + 500)
await replicate(gw1, 'gw1')
await replicate(gw2, 'gw2')

t.test('a replicator started again over a journal that grew resumes without a repeat', async (t) => {
  writeOrders(gw1, 'ACC1', 4, DAY_US + 60_000_000)
  await replicate(gw1, 'gw1')
  const replica = await replicaOf(nats.url)
  t.teardown(() => { replica.remove() })
  t.same(replica.problems, [], 'no overlap, no gap')
  t.same(replica.instances, ['gw1', 'gw2'])
  for (const [id, dir] of [['gw1', gw1], ['gw2', gw2]] as const) {
    const local = segmentFiles(dir)
    const copied = segmentFiles(join(replica.root, id))
    t.same([...copied.keys()], [...local.keys()], `${id}: the same segments`)
    t.same([...local].filter(([name, bytes]) => copied.get(name)?.equals(bytes) !== true).map(([name]) => name), [], `${id}: byte for byte`)
  }
})

t.test('every instance in the stream, each line labelled', async (t) => {
  const verified = await runCli(['journal', 'verify', '--nats', nats.url])
  t.equal(verified.code, 0, verified.stderr)
  const lines = verified.stdout.trim().split('\n')
  t.ok(lines.some((l) => l.startsWith('[gw1] ')) && lines.some((l) => l.startsWith('[gw2] ')), 'both instances report')
  t.ok(lines.every((l) => /^\[gw[12]\] /.test(l)), 'every line says its instance')

  const json = await runCli(['journal', 'verify', '--nats', nats.url, '--json'])
  t.equal(json.code, 0)
  const docs = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { instance: string, ok: boolean })
  t.same(docs.map((d) => [d.instance, d.ok]), [['gw1', true], ['gw2', true]], 'one JSON document per instance')

  const searched = await runCli(['journal', 'search', '--nats', nats.url, '--json'])
  t.equal(searched.code, 0, searched.stderr)
  const records = searched.stdout.trim().split('\n').map((l) => JSON.parse(l) as { instance: string, account: string })
  t.equal(records.filter((r) => r.instance === 'gw1' && r.account === 'ACC1').length, 9, 'gw1: its 9 orders')
  t.equal(records.filter((r) => r.instance === 'gw2' && r.account === 'ACC2').length, 7, 'gw2: its 7 orders')

  const only = await runCli(['journal', 'search', '--nats', nats.url, '--instance', 'gw2', '--account', 'ACC2'])
  t.equal(only.code, 0)
  t.ok(only.stdout.trim().split('\n').every((l) => l.startsWith('[gw2] ')), '--instance reads only that instance')

  const outDir = t.testdir()
  const out = join(outDir, 'day.jsonl')
  const exported = await runCli(['journal', 'export', '--nats', nats.url, '--day', '20261120', '--out', out])
  t.equal(exported.code, 0, exported.stderr)
  t.ok(existsSync(join(outDir, 'day-gw1.jsonl')) && existsSync(join(outDir, 'day-gw2.jsonl')), 'one file per instance')
  t.equal(readFileSync(join(outDir, 'day-gw2.jsonl'), 'utf8').trim().split('\n').length, 7)
  const csv = await runCli(['journal', 'export', '--nats', nats.url, '--day', '20261120', '--format', 'csv'])
  t.equal(csv.code, 2, 'CSV of two instances on stdout is refused')
})

t.test('refusals and budgets, each with its code', async (t) => {
  const unknown = await runCli(['journal', 'verify', '--nats', nats.url, '--instance', 'gw3'])
  t.equal(unknown.code, 1)
  t.match(unknown.stderr, /GH_ERR_REPLICA_FETCH: instance gw3 has no messages/)
  const large = await runCli(['journal', 'verify', '--nats', nats.url, '--max-bytes', '100'])
  t.equal(large.code, 2)
  t.match(large.stderr, /GH_ERR_REPLICA_TOO_LARGE/)
  const stream = await runCli(['journal', 'verify', '--nats', nats.url, '--nats-stream', 'NOPE'])
  t.equal(stream.code, 1)
  t.match(stream.stderr, /GH_ERR_REPLICA_FETCH: .*stream/)
  const down = await runCli(['journal', 'verify', '--nats', 'nats://127.0.0.1:1'])
  t.equal(down.code, 1)
  t.match(down.stderr, /GH_ERR_REPLICA_FETCH: cannot connect to NATS/)
  const both = await runCli(['journal', 'verify', gw1, '--nats', nats.url])
  t.equal(both.code, 2)
  t.match(both.stderr, /give either DIR or --nats/)
  const bad = await runCli(['journal', 'search', '--nats', 'http://x'])
  t.equal(bad.code, 2)
  t.match(bad.stderr, /--nats: expected nats:\/\/host:port/)
  const reveal = await runCli(['journal', 'search', '--nats', nats.url, '--reveal', '--operator', 'x'])
  t.equal(reveal.code, 2)
})
