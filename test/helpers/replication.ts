// Journal replication in tests: the cluster config of one instance on a
// test nats-server, waiting for the replicator to catch up, and the stream
// read back the way the journal tools read it.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { listSegments, listStreamDirs } from '../../journal/segment-names.js'
import { fetchReplica, type Replica } from '../../tools/journal/replicated-source.js'
import type { ReplicatorStatus } from '../../cluster/journal-replicator.js'
import { DEFAULT_CONFIG } from '../../config/defaults.js'

/** The `cluster` overrides of instance `id` replicating to `natsUrl`. */
export function replicationCluster (natsUrl: string, id = 'gw1', replication: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    enabled: true,
    nats: { servers: [natsUrl], tokenFile: null, connectTimeoutMs: 500 },
    instances: { [id]: { endpoints: {} } },
    replication: { enabled: true, pollIntervalMs: 10, lagAlertMs: 1000, ...replication },
  }
}

/**
 * Resolves once `status()` shows every stream under `journalDir` with no lag.
 * Polls the replicator's status (posted every 250 ms): a condition, not a
 * fixed sleep; rejects after timeoutMs with the last status.
 */
export async function untilCaughtUp (status: () => ReplicatorStatus | null, journalDir: string, timeoutMs = 30_000): Promise<ReplicatorStatus> {
  const deadline = Date.now() + timeoutMs
  let last: ReplicatorStatus | null = null
  for (;;) {
    last = status()
    const streams = listStreamDirs(journalDir).map((s) => s.stream)
    if (last !== null && last.connected && streams.every((name) => last!.streams.some((s) => s.stream === name && s.lagBytes === 0))) return last
    if (Date.now() > deadline) throw new Error(`replication did not catch up within ${timeoutMs} ms: ${JSON.stringify(last)}`)
    await delay(25)
  }
}

/** The stream's copy of every instance's journal, rebuilt as the tools rebuild it. */
export async function replicaOf (natsUrl: string, instances: string[] = []): Promise<Replica> {
  return fetchReplica({
    servers: [natsUrl],
    stream: DEFAULT_CONFIG.cluster.replication.stream,
    subjectPrefix: DEFAULT_CONFIG.cluster.replication.subjectPrefix,
    instances,
    maxBytes: 1024 * 1024 * 1024,
    timeoutMs: 60_000,
  })
}

/** Every segment file under a journal dir: "<stream>/<file>" → bytes. */
export function segmentFiles (journalDir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>()
  for (const { stream, dir } of listStreamDirs(journalDir)) {
    for (const file of listSegments(dir, stream)) out.set(`${stream}/${file.file}`, readFileSync(join(dir, file.file)))
  }
  return out
}
