// The record of every logon step, success or failure, with its reason:
// the evidence compliance shows a regulator. Written with pino as JSON
// lines under <runDir>/audit/, owner-only, for people to tail, with the
// terminal info masked ('***') as the journal tools mask it; the retention
// journal (the supervisor's stream) gets each record whole, through
// onRecord, before the step's answer is sent, and `journal search --reveal`
// shows it there (and journals who looked). SIGHUP reopens the file, for
// logrotate.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import pino from 'pino'
import { reasonName } from '../../protocol/messages.js'
import { maskStrings, type JsonValue } from '../../journal/record-decoder.js'
import type { LaneName } from '../../protocol/lanes.js'

/** The file under <runDir>/audit/. */
export const AUDIT_FILE = 'logon-steps.jsonl'

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

/** A string field of an audit line longer than this is cut (and says so): a client chooses the account, the AppID, and the text it provokes. */
export const MAX_AUDIT_FIELD_CHARS = 256
/**
 * An audit line longer than this (it cannot be, with fields cut and
 * terminal info masked, unless a record grows a field) is written without
 * its terminal info and marked truncated, never unbounded.
 */
export const MAX_AUDIT_LINE_BYTES = 4096

const TRUNCATED_MARK = '…(truncated)'

function cut (value: string): string {
  return value.length <= MAX_AUDIT_FIELD_CHARS ? value : value.slice(0, MAX_AUDIT_FIELD_CHARS - TRUNCATED_MARK.length) + TRUNCATED_MARK
}

/**
 * The line as the file gets it: terminal info masked as the journal tools
 * mask it (the file is read by people tailing it, who have no --reveal to
 * journal), every string field cut, the whole line bounded.
 */
export function auditLine (record: LogonStepRecord): Record<string, unknown> {
  const ok = record.reason === 0
  const line: Record<string, unknown> = {
    lane: record.lane,
    sessionId: record.sessionId,
    ip: cut(record.ip),
    step: record.step,
  }
  if (record.account !== undefined) line.account = cut(record.account)
  if (record.appId !== undefined) line.appId = cut(record.appId)
  line.reason = record.reason
  if (record.text !== undefined) line.text = cut(record.text)
  if (record.terminal !== undefined) line.terminal = maskStrings(record.terminal as JsonValue)
  if (record.fingerprintId !== undefined) line.fingerprintId = cut(record.fingerprintId)
  if (record.newFingerprint !== undefined) line.newFingerprint = record.newFingerprint
  line.ok = ok
  if (!ok) line.reasonName = reasonName(record.reason)
  if (Buffer.byteLength(JSON.stringify(line)) > MAX_AUDIT_LINE_BYTES) {
    delete line.terminal
    line.truncated = true
  }
  return line
}

export class LogonAudit {
  private readonly logger: pino.Logger
  private readonly destination: ReturnType<typeof pino.destination>
  private readonly dir: string
  /** The last records, newest last, for tests and the ops status page. */
  readonly recent: Array<LogonStepRecord & { ok: boolean }> = []
  /** Called with each record before it is logged: the supervisor journals it here. May throw (journal failure) to fail the step. */
  onRecord: (record: LogonStepRecord) => void = () => {}
  /**
   * Called when the file cannot be written or reopened. The journal holds
   * every step all the same, so logons go on; the default says so on stderr.
   */
  onError: (error: Error) => void = (error) => {
    process.stderr.write(`logon audit file ${join(this.dir, AUDIT_FILE)}: ${error.message} (the journal still records every logon step)\n`)
  }

  constructor (runDir: string, private readonly recentCapacity = 1000) {
    this.dir = join(runDir, 'audit')
    mkdirSync(this.dir, { recursive: true, mode: 0o700 })
    this.destination = pino.destination({ dest: join(this.dir, AUDIT_FILE), mode: 0o600, sync: false, mkdir: true })
    // Unhandled, an 'error' event (a full disk, a reopen into a removed
    // directory) would end the gateway.
    this.destination.on('error', (err: Error) => { this.onError(err) })
    this.logger = pino({ base: null, timestamp: pino.stdTimeFunctions.isoTime, messageKey: 'message' }, this.destination)
  }

  record (record: LogonStepRecord): void {
    this.onRecord(record)
    const ok = record.reason === 0
    this.recent.push({ ...record, ok })
    if (this.recent.length > this.recentCapacity) this.recent.shift()
    this.logger.info(auditLine(record), 'logon-step')
  }

  /**
   * Opens the file at its path again: after logrotate renamed it, lines
   * written from now on go to a new file there (SIGHUP, start-command.ts).
   * What was buffered goes to the old file first.
   */
  reopen (): void {
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 })
      this.destination.reopen()
    } catch (err) {
      this.onError(err as Error)
    }
  }

  /** Flushes and closes the file. */
  close (): Promise<void> {
    return new Promise((resolve) => {
      this.logger.flush(() => { resolve() })
    })
  }
}
