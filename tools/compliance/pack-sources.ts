// Where each section of the regulator pack comes from: one table of
// journal record kinds (by name, as recordKindName spells them) and the
// stream that holds them. The pack reads only these; `--verify` holds the
// pack to exactly the records this table selects, so a record kind added
// here is at once read, cited and checked.
//
// The evidence store and certification records are written by their own
// module; their kind names are named here, in this one place, and nowhere
// else in the pack.
import { SUPERVISOR_STREAM } from '../../journal/gateway-records.js'

/**
 * Record kinds of the evidence store (a document added, with its SHA-256)
 * and of certification runs. Placeholders until those kinds are in
 * journal/record-format.ts: the names must match recordKindName there.
 */
export const EXTERNAL_EVIDENCE_KINDS = {
  /** A document stored as evidence: JSON with appId, kind, sha256, issuer, expires, operator. */
  evidence: 'evidence-add',
  /** A certification run's result: JSON with appId, passed, reportSha256, failedStep. */
  certification: 'certification',
} as const

export type PackSourceName = 'adminChange' | 'logonStep' | 'evidence' | 'certification'

export interface PackSource {
  /** The record kind's name (recordKindName). */
  kind: string
  /** The stream that writes it. */
  stream: string
  /** Whether a record of this kind belongs in the pack (all of them unless said). */
  relevant: (doc: Record<string, unknown>) => boolean
}

/** Logon steps that are incidents: lockouts, held and rejected terminals, expired assessments. */
export const INCIDENT_REASONS: Readonly<Record<string, string>> = {
  LOGIN_BANNED: 'lockout',
  LOCK_STORE_FULL: 'lockout',
  FINGERPRINT_HELD: 'fingerprint-held',
  FINGERPRINT_REJECTED: 'fingerprint-rejected',
  APPID_ASSESSMENT_EXPIRED: 'assessment-expired',
}

export const PACK_SOURCES: Readonly<Record<PackSourceName, PackSource>> = {
  /** Every change: registry, bindings, reports, switches, dual control, journal failures. */
  adminChange: { kind: 'admin-change', stream: SUPERVISOR_STREAM, relevant: () => true },
  /** Only the logon steps that are incidents. */
  logonStep: { kind: 'logon-step', stream: SUPERVISOR_STREAM, relevant: (doc) => typeof doc.reasonName === 'string' && INCIDENT_REASONS[doc.reasonName] !== undefined },
  evidence: { kind: EXTERNAL_EVIDENCE_KINDS.evidence, stream: SUPERVISOR_STREAM, relevant: () => true },
  certification: { kind: EXTERNAL_EVIDENCE_KINDS.certification, stream: SUPERVISOR_STREAM, relevant: () => true },
}

/** The streams the pack reads. */
export function packStreams (): string[] {
  return [...new Set(Object.values(PACK_SOURCES).map((s) => s.stream))]
}

/** The source a record kind name belongs to, if any. */
export function sourceOfKind (kindName: string): PackSourceName | undefined {
  for (const [name, source] of Object.entries(PACK_SOURCES) as Array<[PackSourceName, PackSource]>) if (source.kind === kindName) return name
  return undefined
}
