// Where each section of the regulator pack comes from: one table of
// journal record kinds (by name, as recordKindName spells them) and the
// stream that holds them. The pack reads only these; `--verify` holds the
// pack to exactly the records this table selects, so a record kind added
// here is at once read, cited and checked.
//
// The evidence store's documents and certification runs are admin changes
// (app-evidence-add, app-certification: journal/gateway-records.ts
// EVIDENCE_COMMANDS), so they come with the adminChange source.
import { SUPERVISOR_STREAM } from '../../journal/gateway-records.js'

export type PackSourceName = 'adminChange' | 'logonStep'

export interface PackSource {
  /** The record kind's name (recordKindName). */
  kind: string
  /** The stream that writes it. */
  stream: string
  /** Whether a record of this kind belongs in the pack (all of them unless said). */
  relevant: (doc: Record<string, unknown>) => boolean
}

/** Logon steps that are incidents: lockouts, held and rejected terminals, expired assessments, software not approved for production. */
export const INCIDENT_REASONS: Readonly<Record<string, string>> = {
  LOGIN_BANNED: 'lockout',
  LOCK_STORE_FULL: 'lockout',
  FINGERPRINT_HELD: 'fingerprint-held',
  FINGERPRINT_REJECTED: 'fingerprint-rejected',
  APPID_ASSESSMENT_EXPIRED: 'assessment-expired',
  // External software that tried to trade without approval: still in testing
  // at a production gateway, or not approved at all.
  APPID_TESTING_ONLY: 'software-not-approved',
  APPID_NOT_APPROVED: 'software-not-approved',
}

export const PACK_SOURCES: Readonly<Record<PackSourceName, PackSource>> = {
  /** Every change: registry, evidence and certifications, bindings, reports, switches, dual control, journal failures. */
  adminChange: { kind: 'admin-change', stream: SUPERVISOR_STREAM, relevant: () => true },
  /** Only the logon steps that are incidents. */
  logonStep: { kind: 'logon-step', stream: SUPERVISOR_STREAM, relevant: (doc) => typeof doc.reasonName === 'string' && INCIDENT_REASONS[doc.reasonName] !== undefined },
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
