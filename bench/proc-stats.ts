// What the machine was doing during a measurement: CPU per process and per
// thread from /proc, the gateway's resident memory, and the other
// processes that took CPU from the run. On a shared 2-vCPU box the numbers
// mean little without this.
import { readFileSync, readdirSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import os from 'node:os'
import type { ProcessShare } from './types.js'

let clockTicksPerS = 0

function ticksPerSecond (): number {
  if (clockTicksPerS === 0) {
    try {
      clockTicksPerS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      clockTicksPerS = 100
    }
  }
  return clockTicksPerS
}

/** utime + stime of a /proc/.../stat file, in clock ticks; -1 if it is gone. */
function statTicks (path: string): number {
  try {
    const text = readFileSync(path, 'utf8')
    // comm (field 2) may hold spaces and parentheses: split after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
    return Number(fields[11]) + Number(fields[12])
  } catch {
    return -1
  }
}

function readComm (path: string): string {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch {
    return '?'
  }
}

/** CPU ticks of a process and of each of its threads at one instant. */
export interface CpuSnapshot {
  atMs: number
  processes: Map<number, { ticks: number, threads: Map<number, number> }>
  /** tid -> its name in /proc (comm): lane threads and the generator's pacer name themselves (platform/thread-name.ts). */
  threadNames: Map<number, string>
  /** Every process on the machine: pid -> [comm, ticks]. */
  everyone: Map<number, [string, number]>
}

export function snapshotCpu (pids: number[]): CpuSnapshot {
  const processes = new Map<number, { ticks: number, threads: Map<number, number> }>()
  const threadNames = new Map<number, string>()
  for (const pid of pids) {
    const threads = new Map<number, number>()
    try {
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        threads.set(Number(tid), statTicks(`/proc/${pid}/task/${tid}/stat`))
        threadNames.set(Number(tid), readComm(`/proc/${pid}/task/${tid}/comm`))
      }
    } catch { /* exited */ }
    processes.set(pid, { ticks: statTicks(`/proc/${pid}/stat`), threads })
  }
  const everyone = new Map<number, [string, number]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const ticks = statTicks(`/proc/${entry}/stat`)
    if (ticks >= 0) everyone.set(Number(entry), [readComm(`/proc/${entry}/comm`), ticks])
  }
  return { atMs: performance.now(), processes, threadNames, everyone }
}

/**
 * CPU each process used between two snapshots (percent of one core), with
 * its busiest threads, plus any other process on the machine that used
 * more than `othersThresholdPct`.
 */
export function cpuShares (before: CpuSnapshot, after: CpuSnapshot, roles: Map<number, string>, othersThresholdPct = 2): { ours: ProcessShare[], others: ProcessShare[] } {
  const seconds = (after.atMs - before.atMs) / 1000
  const pct = (ticks: number): number => seconds <= 0 ? 0 : Math.round(ticks / ticksPerSecond() / seconds * 1000) / 10
  const ours: ProcessShare[] = []
  for (const [pid, role] of roles) {
    const b = before.processes.get(pid)
    const a = after.processes.get(pid)
    if (b === undefined || a === undefined || b.ticks < 0 || a.ticks < 0) continue
    const threads: Array<{ name: string, cpu_pct: number }> = []
    for (const [tid, ticks] of a.threads) {
      const was = b.threads.get(tid)
      if (was === undefined || was < 0 || ticks < 0) continue
      const share = pct(ticks - was)
      if (share >= 1) threads.push({ name: `${after.threadNames.get(tid) ?? '?'} (tid ${tid})`, cpu_pct: share })
    }
    threads.sort((x, y) => y.cpu_pct - x.cpu_pct)
    // A multi-threaded process lists its busy threads even when only one
    // is: hft-isolation tells the hft lane thread by being the only one.
    ours.push({ role, pid, cpu_pct: pct(a.ticks - b.ticks), ...(a.threads.size > 1 && threads.length > 0 ? { threads } : {}) })
  }
  const others: ProcessShare[] = []
  const ourPids = new Set([...roles.keys(), process.pid])
  for (const [pid, [comm, ticks]] of after.everyone) {
    if (ourPids.has(pid)) continue
    const was = before.everyone.get(pid)
    if (was === undefined) continue
    const share = pct(ticks - was[1])
    if (share >= othersThresholdPct) others.push({ role: `other: ${comm}`, pid, cpu_pct: share })
  }
  others.sort((x, y) => y.cpu_pct - x.cpu_pct)
  return { ours, others }
}

/**
 * CPU seconds each named thread used between two snapshots, from
 * /proc/<pid>/task/<tid>/stat (utime + stime), keyed `<process>:<thread>`:
 * the process's short role (its first word) and `main` for its main thread,
 * the thread's own name where it set one (`lane-hft`, `pacer`), and
 * `helpers` for the rest summed (V8's and libuv's unnamed threads).
 */
export function threadCpuSeconds (before: CpuSnapshot, after: CpuSnapshot, roles: Map<number, string>): Map<string, number> {
  const out = new Map<string, number>()
  const hz = ticksPerSecond()
  for (const [pid, role] of roles) {
    const b = before.processes.get(pid)
    const a = after.processes.get(pid)
    if (b === undefined || a === undefined) continue
    const process = role.startsWith('load generator') ? 'generator' : role.split(/[\s(]/)[0]!
    for (const [tid, ticks] of a.threads) {
      const was = b.threads.get(tid) ?? 0
      if (ticks < 0 || was < 0) continue
      const name = after.threadNames.get(tid) ?? '?'
      const thread = tid === pid ? 'main' : name === 'node' || name === '?' || name.startsWith('V8') || name.startsWith('libuv') ? 'helpers' : name
      const key = `${process}:${thread}`
      out.set(key, (out.get(key) ?? 0) + (ticks - was) / hz)
    }
  }
  return out
}

/** VmRSS and VmHWM (peak) of a process, in MiB; 0 if it is gone. */
export function memoryMiB (pid: number): { rss_mib: number, peak_rss_mib: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0)
    return { rss_mib: Math.round(kib('VmRSS') / 102.4) / 10, peak_rss_mib: Math.round(kib('VmHWM') / 102.4) / 10 }
  } catch {
    return { rss_mib: 0, peak_rss_mib: 0 }
  }
}

export interface MachineInfo {
  cpu_model: string
  cpu_count: number
  node_version: string
  os: string
  total_memory_mib: number
  date: string
  load_average_at_start: number[]
}

export function machineInfo (): MachineInfo {
  const cpus = os.cpus()
  return {
    cpu_model: cpus[0]?.model ?? 'unknown',
    cpu_count: cpus.length,
    node_version: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    total_memory_mib: Math.round(os.totalmem() / 1024 / 1024),
    date: new Date().toISOString(),
    load_average_at_start: os.loadavg().map((l) => Math.round(l * 100) / 100),
  }
}
