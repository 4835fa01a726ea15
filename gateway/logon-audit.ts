// The record of every logon step, success or failure, with its reason and
// the terminal info: the evidence compliance shows a regulator. Written
// with pino as JSON lines under <runDir>/audit/, owner-only. The retention
// journal takes these records over when it lands; this file is the seam.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import pino from 'pino'
import { reasonName } from '../protocol/messages.js'
import type { LaneName } from './config.js'

export type LogonStep = 'connect' | 'authenticate' | 'terminal-info' | 'logon' | 'logout' | 'timeout'

export interface LogonStepRecord {
  lane: LaneName
  sessionId: number
  /** Public IP as seen on the socket, never as claimed by the client. */
  ip: string
  step: LogonStep
  account?: string
  appId?: string
  /** 0 for success. */
  reason: number
  text?: string
  terminal?: Record<string, unknown>
  fingerprintId?: string
  newFingerprint?: boolean
}

export class LogonAudit {
  private readonly logger: pino.Logger
  /** The last records, newest last, for tests and the ops status page. */
  readonly recent: Array<LogonStepRecord & { ok: boolean }> = []

  constructor (runDir: string, private readonly recentCapacity = 1000) {
    const dir = join(runDir, 'audit')
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const destination = pino.destination({ dest: join(dir, 'logon-steps.jsonl'), mode: 0o600, sync: false, mkdir: true })
    this.logger = pino({ base: null, timestamp: pino.stdTimeFunctions.isoTime, messageKey: 'message' }, destination)
  }

  record (record: LogonStepRecord): void {
    const ok = record.reason === 0
    this.recent.push({ ...record, ok })
    if (this.recent.length > this.recentCapacity) this.recent.shift()
    this.logger.info({ ...record, ok, reasonName: ok ? undefined : reasonName(record.reason) }, 'logon-step')
  }

  /** Flushes and closes the file. */
  close (): Promise<void> {
    return new Promise((resolve) => {
      this.logger.flush(() => { resolve() })
    })
  }
}
