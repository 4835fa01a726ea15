// The --nats options of verify, search and export, as their help shows
// them: kept apart from replicated-source.ts so a tool reading a DIR does
// not load the NATS client.
import { DEFAULT_CONFIG } from '../../config/defaults.js'

export const DEFAULT_REPLICA_MAX_BYTES = 2 * 1024 * 1024 * 1024
export const DEFAULT_REPLICA_TIMEOUT_MS = 300_000

export const REPLICA_HELP = `Reading the replicated journal (docs/cluster.md) instead of a DIR:
  --nats nats://HOST:PORT   a NATS server of the cluster (repeatable)
  --nats-stream NAME        the JetStream stream (default ${DEFAULT_CONFIG.cluster.replication.stream})
  --nats-subject-prefix P   its subject prefix (default ${DEFAULT_CONFIG.cluster.replication.subjectPrefix})
  --instance ID             only this instance (repeatable; default every instance in the stream)
  --max-bytes N             refuse a replica larger than N bytes (default ${DEFAULT_REPLICA_MAX_BYTES})
  --nats-timeout-ms N       give up fetching after N ms (default ${DEFAULT_REPLICA_TIMEOUT_MS})
Each instance's segments are rebuilt from the stream and read exactly as a
DIR is; each output line says its instance ([ID] in front, or "instance"
in a JSON line).
`
