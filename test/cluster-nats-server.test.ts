// The cluster's NATS plumbing against a real nats-server: the launcher
// reports the port it is ready on, the connection reconnects by itself
// after the server is killed and restarted on the same port and store, and
// JetStream is on.
import t from 'tap'
import { jetstreamManager } from '@nats-io/jetstream'
import { startNats } from '../cluster/nats-connection.js'
import { startNatsServer } from '../cluster/nats-server-process.js'
import { restartNats, startTestNats } from './helpers/nats-server.js'
import { DEFAULT_CONFIG } from '../config/defaults.js'

t.test('a connection survives a kill -9 and restart of nats-server', async (t) => {
  const server = await startTestNats(t)
  t.match(server.url, /^nats:\/\/127\.0\.0\.1:\d+$/)
  const link = startNats({ ...DEFAULT_CONFIG.cluster.nats, servers: [server.url] }, 'test-conn')
  t.teardown(async () => link.close())
  const nc = await link.ready
  t.ok(link.isConnected())
  const jsm = await jetstreamManager(nc)
  const info = await jsm.streams.add({ name: 'T', subjects: ['t.>'] })
  t.equal(info.config.name, 'T')

  const changes: boolean[] = []
  const down = new Promise<void>((resolve) => link.onChange((connected) => { changes.push(connected); if (!connected) resolve() }))
  await server.kill()
  await down
  t.notOk(link.isConnected())
  const up = new Promise<void>((resolve) => link.onChange((connected) => { if (connected) resolve() }))
  await restartNats(t, server)
  await up
  t.ok(link.isConnected())
  t.same(changes.slice(0, 2), [false, true])
  const again = await jsm.streams.info('T')
  t.equal(again.config.name, 'T', 'the stream outlived the restart (file storage)')
})

t.test('a link started while NATS is down connects when it comes up', async (t) => {
  const first = await startTestNats(t)
  await first.stop()
  const link = startNats({ ...DEFAULT_CONFIG.cluster.nats, servers: [first.url] }, 'test-late')
  t.teardown(async () => link.close())
  t.notOk(link.isConnected())
  t.equal(link.connection(), null)
  await restartNats(t, first)
  const nc = await link.ready
  t.ok(link.isConnected())
  t.equal(link.connection(), nc)
})

t.test('a missing executable is a clear error with a code', async (t) => {
  await t.rejects(startNatsServer({ storeDir: '/tmp/gh-nats-missing', command: 'nats-server-not-here' }), { code: 'GH_ERR_NATS_START', message: /not installed/ })
})
