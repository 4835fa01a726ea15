// Runs `journal verify | search | export` over the replicated journal
// (replicated-source.ts): the same command that reads a DIR runs once per
// instance on its rebuilt directory, and each line it prints is labelled
// with the instance.
//
// Exit codes as for a DIR: verify exits 1 if any instance fails (or the
// stream itself has a problem: overlapping, missing or misnamed messages);
// search and export exit 0 if some instance matched and every instance's
// journal verifies, 1 otherwise; 2 for a bad command line or a replica
// past --max-bytes (GH_ERR_REPLICA_TOO_LARGE); 1 when NATS or the stream
// cannot be read (GH_ERR_REPLICA_FETCH).
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError, failCommand, helpHint, refuseUsage, type CommandIo } from '../../platform/cli-kit.js'
import { verifyJournal } from '../../journal/verify.js'
import { fetchReplica, splitReplicaArgs, ReplicaFetchError, ReplicaTooLargeError, type Replica, type ReplicaSourceOptions } from './replicated-source.js'
import { join } from 'node:path'

export type ReplicatedTool = 'verify' | 'search' | 'export'

type RunOnDir = (argv: string[], io: CommandIo) => number | Promise<number>

/** True when argv reads the stream (--nats) rather than a DIR. */
export function readsReplica (argv: readonly string[]): boolean {
  return argv.some((a) => a === '--nats' || a.startsWith('--nats='))
}

/** Prefixes each whole line with `[instance] `, or adds "instance" to a JSON line; the temporary path reads as where the data came from. */
function labelledIo (io: CommandIo, instance: string, dir: string, source: string): CommandIo & { flush: () => void } {
  const pending = { out: '', err: '' }
  const emit = (which: 'out' | 'err', text: string, final: boolean): void => {
    pending[which] += text.split(dir).join(source)
    const lines = pending[which].split('\n')
    pending[which] = final ? '' : lines.pop()!
    if (final && lines[lines.length - 1] === '') lines.pop()
    const labelled = lines.map((line) => {
      if (line.startsWith('{') && line.endsWith('}')) return `{"instance":${JSON.stringify(instance)},${line.slice(1)}`
      return line === '' ? '' : `[${instance}] ${line}`
    })
    if (labelled.length > 0) io[which](`${labelled.join('\n')}\n`)
  }
  return {
    out: (text) => { emit('out', text, false) },
    err: (text) => { emit('err', text, false) },
    flush: () => {
      if (pending.out !== '') emit('out', '', true)
      if (pending.err !== '') emit('err', '', true)
    },
  }
}

/** `--out FILE` for one of several instances: FILE with -<instance> before its extension. */
export function instanceOutPath (out: string, instance: string): string {
  const m = /^(.*?)(\.[^./]*)?$/.exec(out)!
  return `${m[1]}-${instance}${m[2] ?? ''}`
}

export async function runReplicated (tool: ReplicatedTool, argv: string[], io: CommandIo, runOnDir: RunOnDir): Promise<number> {
  const command = `gatehouse journal ${tool}`
  let split: { options: ReplicaSourceOptions, rest: string[] }
  try {
    split = splitReplicaArgs(argv)!
    const positional = split.rest.filter((a, i) => !a.startsWith('-') && (i === 0 || !split.rest[i - 1]!.startsWith('--') || split.rest[i - 1]!.includes('=') || FLAGS.has(split.rest[i - 1]!)))
    if (positional.length > 0) throw new UsageError(`give either DIR or --nats, not both (got ${positional.join(' ')})`)
    if (split.rest.includes('--reveal')) throw new UsageError('--reveal: not with --nats; a reveal is journaled in the journal it reads, and a replica is a temporary copy (search the instance\'s own journal directory)')
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    return refuseUsage(io, command, err.message, helpHint(command))
  }
  const { options, rest } = split
  let replica: Replica
  try {
    replica = await fetchReplica(options)
  } catch (err) {
    if (err instanceof ReplicaTooLargeError) return failCommand(io, command, `${err.code}: ${err.message}`, EXIT_USAGE)
    if (err instanceof ReplicaFetchError) return failCommand(io, command, `${err.code}: ${err.message}`)
    throw err
  }
  try {
    const several = replica.instances.length > 1
    const outAt = rest.findIndex((a) => a === '--out' || a.startsWith('--out='))
    if (tool === 'export' && several && outAt < 0 && rest.some((a, i) => (a === '--format' && rest[i + 1] === 'csv') || a === '--format=csv')) {
      return refuseUsage(io, command, `CSV of ${replica.instances.length} instances on stdout would mix them: give --out FILE (one file per instance) or one --instance`, helpHint(command))
    }
    const codes: number[] = []
    let damaged = false
    for (const instance of replica.instances) {
      const dir = join(replica.root, instance)
      const source = `nats:${options.stream}/${instance}`
      const labelled = labelledIo(io, instance, dir, source)
      let args = [...rest, dir]
      if (tool === 'export' && several && outAt >= 0) {
        args = [...rest]
        const eq = args[outAt]!.indexOf('=')
        if (eq >= 0) args[outAt] = `--out=${instanceOutPath(args[outAt]!.slice(eq + 1), instance)}`
        else args[outAt + 1] = instanceOutPath(args[outAt + 1]!, instance)
        args.push(dir)
      }
      if (tool === 'verify' && rest.includes('--json')) {
        // One JSON document per instance, on one line each.
        let text = ''
        const code = await runOnDir(args, { out: (t) => { text += t }, err: labelled.err })
        labelled.flush()
        try {
          io.out(`${JSON.stringify({ instance, ...(JSON.parse(text.split(dir).join(source)) as object) })}\n`)
        } catch {
          io.out(text)
        }
        codes.push(code)
        continue
      }
      if (tool !== 'verify' && !verifyJournal(dir).ok) damaged = true
      codes.push(await runOnDir(args, labelled))
      labelled.flush()
    }
    for (const p of replica.problems) {
      io.err(`[${p.instance}] stream ${options.stream} message ${p.streamSeq} (${p.subject}): ${p.message}\n`)
    }
    if (codes.includes(EXIT_USAGE)) return EXIT_USAGE
    if (tool === 'verify') return replica.problems.length > 0 || codes.some((c) => c !== EXIT_OK) ? EXIT_FAILED : EXIT_OK
    return !damaged && codes.includes(EXIT_OK) ? EXIT_OK : EXIT_FAILED
  } finally {
    replica.remove()
  }
}

/** The tools' options that take no value, so the word after one is a positional. */
const FLAGS = new Set(['--json', '--verbose', '--require-sealed', '--force', '--reveal'])
