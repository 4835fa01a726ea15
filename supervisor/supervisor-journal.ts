// The supervisor's stream of the retention journal: every logon step as
// access control decided it (with the terminal info), every change to
// limits, states and switches with its operator and before/after values,
// and retention purges. Each record is committed on its own before the
// step's answer or the change's reply goes anywhere: these are not hot
// paths, and each is evidence by itself.
import { JournalStream, type ChainCadence, type FsyncPolicy, type JournalStreamStats } from '../journal/segment-writer.js'
import { Direction, LANE_CODES, LANE_NONE, RecordKind, newRecordHead } from '../journal/record-format.js'
import { SUPERVISOR_STREAM, type AdminChangeDocument, type LogonStepDocument } from '../journal/gateway-records.js'
import { purgeExpired, type PurgeResult } from '../journal/retention.js'
import { reasonName } from '../protocol/messages.js'
import type { LogonStepRecord } from './access/logon-audit.js'

export interface SupervisorJournalOptions {
  root: string
  fsync: FsyncPolicy
  maxSegmentBytes: number
  /** Chain point cadence (journal.chain); the stream's default when absent. */
  chain?: ChainCadence
  retentionYears: number
}

export class SupervisorJournal {
  private readonly stream: JournalStream

  constructor (private readonly options: SupervisorJournalOptions) {
    this.stream = JournalStream.open({ stream: SUPERVISOR_STREAM, root: options.root, fsync: options.fsync, maxSegmentBytes: options.maxSegmentBytes, chain: options.chain })
  }

  /** Records one logon step and commits. Throws if the journal cannot be written: the step then fails closed. */
  logonStep (record: LogonStepRecord): void {
    const doc: LogonStepDocument = {
      lane: record.lane,
      step: record.step,
      ip: record.ip,
      reason: record.reason,
      reasonName: record.reason === 0 ? 'OK' : reasonName(record.reason),
      text: record.text ?? '',
    }
    if (record.account !== undefined) doc.account = record.account
    if (record.appId !== undefined) doc.appId = record.appId
    if (record.terminal !== undefined) doc.terminal = record.terminal
    if (record.fingerprintId !== undefined) doc.fingerprintId = record.fingerprintId
    if (record.newFingerprint !== undefined) doc.newFingerprint = record.newFingerprint
    const head = newRecordHead({ kind: RecordKind.LOGON_STEP, lane: LANE_CODES[record.lane], direction: Direction.IN, sessionId: record.sessionId, account: record.account ?? '' })
    this.stream.appendJson(head, doc)
    this.stream.commit()
  }

  /** Records one change and commits. Throws if the journal cannot be written. */
  adminChange (doc: AdminChangeDocument, account = ''): void {
    const head = newRecordHead({ kind: RecordKind.ADMIN_CHANGE, lane: LANE_NONE, direction: Direction.NONE, account })
    this.stream.appendJson(head, doc)
    this.stream.commit()
  }

  /** Removes segments past the retention period, recording the purge first (retention.ts). */
  purgeExpired (nowMs: number = Date.now()): PurgeResult {
    return purgeExpired(this.options.root, this.options.retentionYears, nowMs, { journal: this.stream })
  }

  /** The stream's totals (records, bytes, batches) since start, for /metrics. */
  stats (): JournalStreamStats {
    return this.stream.stats()
  }

  /** True once a write has failed: the stream records nothing more. */
  get failed (): boolean {
    return this.stream.failed
  }

  /** Records appended and not yet committed; 0 between calls, since each record commits before its call returns. */
  get uncommittedRecords (): number {
    return this.stream.pendingRecords
  }

  close (): void {
    this.stream.close()
  }
}
