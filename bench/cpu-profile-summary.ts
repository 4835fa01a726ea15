// Summarises V8 .cpuprofile files (from `node --cpu-prof`): per file (one
// per thread), how busy the thread was and its top frames by self time and
// by total time. Used by profile-hft.sh to say where a missed budget goes.
//
// Usage: node dist/bench/cpu-profile-summary.js [--top N] FILE.cpuprofile...
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'

interface ProfileNode {
  id: number
  callFrame: { functionName: string, url: string, lineNumber: number }
  hitCount?: number
  children?: number[]
}

interface CpuProfile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

/** Frames that are not JavaScript work of the thread. */
const NOT_WORK = new Set(['(idle)', '(program)'])
/**
 * Frames whose self time is a thread blocked, not working: piscina's pool
 * threads sleep in Atomics.wait inside atomicsWaitLoop, and the profiler
 * samples that as JavaScript.
 */
const BLOCKED_FUNCTIONS = new Set(['(idle)', 'atomicsWaitLoop'])

function frameName (node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame
  const file = url === '' ? '' : ` ${url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/').replace(/^node:/, 'node:')}:${lineNumber + 1}`
  return `${functionName === '' ? '(anonymous)' : functionName}${file}`
}

export function summarise (file: string, top: number): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  // Self time per node from the sample stream (timeDeltas are µs before each sample).
  const selfUs = new Map<number, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0))
  }
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const wallUs = profile.endTime - profile.startTime
  let idleUs = 0
  let busyUs = 0
  const self = new Map<string, number>()
  const total = new Map<string, number>()
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!
    const name = frameName(node)
    if (BLOCKED_FUNCTIONS.has(node.callFrame.functionName)) { idleUs += us; continue }
    busyUs += us
    self.set(name, (self.get(name) ?? 0) + us)
    // Total time: charge every distinct frame on the stack once.
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = frameName(byId.get(at)!)
      if (seen.has(frame) || byId.get(at)!.callFrame.functionName === '(root)') continue
      seen.add(frame)
      total.set(frame, (total.get(frame) ?? 0) + us)
    }
  }
  const pct = (us: number): string => `${(us / Math.max(1, busyUs) * 100).toFixed(1).padStart(5)}%`
  const lines = [
    `${basename(file)}: ${(wallUs / 1e6).toFixed(1)} s profiled, busy ${(busyUs / 1e6).toFixed(2)} s (${(busyUs / Math.max(1, wallUs) * 100).toFixed(0)}% of the wall time), idle or blocked ${(idleUs / 1e6).toFixed(2)} s`,
    '  top self time (% of busy):',
    ...[...self].filter(([name]) => !NOT_WORK.has(name)).sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, us]) => `    ${pct(us)}  ${name}`),
    `    ${pct(self.get('(program)') ?? 0)}  (program: native code outside JS, e.g. uWS and libuv)`,
    '  top total time (% of busy, callees included):',
    ...[...total].filter(([name]) => !NOT_WORK.has(name) && name !== '(garbage collector)').sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, us]) => `    ${pct(us)}  ${name}`),
  ]
  return lines.join('\n') + '\n'
}

const args = process.argv.slice(2)
let top = 15
const files: string[] = []
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--top') top = Number(args[++i])
  else files.push(args[i]!)
}
if (files.length === 0) {
  process.stderr.write('usage: node dist/bench/cpu-profile-summary.js [--top N] FILE.cpuprofile...\n')
  process.exit(2)
}
// Busiest thread first: that is the lane under load.
const busiest = files.map((file) => {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const idleIds = new Set(profile.nodes.filter((n) => BLOCKED_FUNCTIONS.has(n.callFrame.functionName)).map((n) => n.id))
  return { file, busy: profile.samples.filter((id) => !idleIds.has(id)).length }
}).sort((a, b) => b.busy - a.busy)
for (const { file } of busiest) process.stdout.write(summarise(file, top) + '\n')
