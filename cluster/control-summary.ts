// How the admin reply of a fanned-out change reports the instances
// (supervisor/admin/control-fanout.ts): which applied it, which refused it, which
// did not answer. Pure, so `gatehouse admin` prints it without loading
// the NATS client, and a property test holds its rules.

/** The parts of an instance's answer (ControlReply) this needs. */
export interface ControlReplyLike {
  instance: string
  ok: boolean
  error?: { code: string, message: string } | undefined
}

export interface InstanceOutcome {
  instance: string
  applied: boolean
  error?: { code: string, message: string }
}

/** What the admin reply gains: every instance that answered (this one first), and those that did not. */
export interface FanOutSummary {
  instances: InstanceOutcome[]
  missing: string[]
}

/**
 * The replies to one change as the admin reply shows them: this instance
 * first (it applied the change before sending it), then every other
 * instance of `cluster.instances` in config order that answered, each
 * once (its first answer), and the rest as missing. A reply from an
 * instance not in the list, or claiming to be this one, is ignored.
 */
export function summarizeReplies (self: string, instances: readonly string[], replies: ReadonlyArray<Pick<ControlReplyLike, 'instance' | 'ok' | 'error'>>): FanOutSummary {
  const first = new Map<string, Pick<ControlReplyLike, 'instance' | 'ok' | 'error'>>()
  for (const reply of replies) if (!first.has(reply.instance)) first.set(reply.instance, reply)
  const outcomes: InstanceOutcome[] = [{ instance: self, applied: true }]
  const missing: string[] = []
  for (const instance of new Set(instances)) {
    if (instance === self) continue
    const reply = first.get(instance)
    if (reply === undefined) missing.push(instance)
    else outcomes.push(reply.ok ? { instance, applied: true } : { instance, applied: false, error: reply.error ?? { code: 'GH_ERR_ADMIN_REFUSED', message: 'refused without a reason' } })
  }
  return { instances: outcomes, missing }
}

/** `applied on gw1, gw2; failed on gw3 (CODE: message); missing: gw4`, as `gatehouse admin` prints it. */
export function describeSummary (summary: FanOutSummary): string {
  const applied = summary.instances.filter((i) => i.applied).map((i) => i.instance)
  const failed = summary.instances.filter((i) => !i.applied).map((i) => `${i.instance} (${i.error?.code ?? 'refused'}: ${i.error?.message ?? ''})`)
  const parts = [`applied on ${applied.join(', ')}`]
  if (failed.length > 0) parts.push(`failed on ${failed.join(', ')}`)
  if (summary.missing.length > 0) parts.push(`missing: ${summary.missing.join(', ')}`)
  return parts.join('; ')
}
