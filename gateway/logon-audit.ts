// The record of every logon step, success or failure, with its reason and
// the terminal info: the evidence compliance shows a regulator. Written
// with pino as JSON lines under <runDir>/audit/, owner-only, for people to
// tail; the retention journal (the supervisor's stream) gets each record
// too, through onRecord, before the step's answer is sent.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import pino from 'pino'
import { reasonName } from '../protocol/messages.js'
import type { LaneName } from './config.js'

export type LogonStep = 'connect' | 'authenticate' | 'terminal-info' | 'logon' | 'logout' | 'timeout' | 'disconnect'

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
  /** Called with each record before it is logged: the supervisor journals it here. May throw (journal failure) to fail the step. */
  onRecord: (record: LogonStepRecord) => void = () => {}

  constructor (runDir: string, private readonly recentCapacity = 1000) {
    const dir = join(runDir, 'audit')
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const destination = pino.destination({ dest: join(dir, 'logon-steps.jsonl'), mode: 0o600, sync: false, mkdir: true })
    this.logger = pino({ base: null, timestamp: pino.stdTimeFunctions.isoTime, messageKey: 'message' }, destination)
  }

  record (record: LogonStepRecord): void {
    this.onRecord(record)
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
