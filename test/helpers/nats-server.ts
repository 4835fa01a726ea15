// A real nats-server with JetStream for a test, on a free loopback port, in
// its own temporary store, stopped when the test ends.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startNatsServer, type NatsServerProcess } from '../../cluster/nats-server-process.js'

interface Teardown { teardown: (fn: () => void | Promise<void>) => void }

/** Starts nats-server for test `t`; restart it with `restartNats(t, server)` after `kill()` or `stop()`. */
export async function startTestNats (t: Teardown): Promise<NatsServerProcess> {
  const storeDir = mkdtempSync(join(tmpdir(), 'gh-nats-'))
  const server = await startNatsServer({ storeDir })
  t.teardown(async () => {
    await server.stop()
    rmSync(storeDir, { recursive: true, force: true })
  })
  return server
}

/** The same server again: same port, same JetStream store. */
export async function restartNats (t: Teardown, previous: NatsServerProcess): Promise<NatsServerProcess> {
  const server = await startNatsServer({ storeDir: previous.storeDir, port: previous.port })
  t.teardown(async () => { await server.stop() })
  return server
}
