// Changes made through the admin socket survive a restart: they are
// written back to a config store beside the config, <runDir>/admin-state.json
// (0600), rewritten atomically (temp file, fsync, rename) on every change
// before the reply goes back. At start the supervisor applies it over the
// config file, through the same APIs the admin commands use. The journal
// keeps the history (who changed what, when, before and after); this file
// keeps only the current values, so a restart does not have to replay
// years of changes, and a new config file is not overridden by changes its
// author never saw: `reload` replaces the state with the reloaded file's
// values.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { z } from 'zod'
import { APP_STATUSES, DiligenceSchema, type GatewayConfig } from '../../config/config.js'
import { PROGRAMMATIC_REPORTS, TRADING_STATES } from '../../checks/risk-layout.js'
import { EVIDENCE_KINDS } from '../../journal/gateway-records.js'

const limitValue = z.union([z.number(), z.null(), z.literal('inherit')])

const SoftwareStateSchema = z.object({
  appId: z.string(),
  vendor: z.string(),
  name: z.string(),
  version: z.string(),
  authCode: z.string(),
  status: z.enum(APP_STATUSES),
  assessment: z.object({
    documents: z.array(z.object({ name: z.string(), expires: z.string() })),
    accessTestPassed: z.string().nullable(),
  }),
})

const EvidenceMetadataSchema = z.object({
  appId: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  sizeBytes: z.number().int().min(0),
  kind: z.enum(EVIDENCE_KINDS),
  issuer: z.string(),
  issued: z.string(),
  expires: z.string().nullable(),
  addedBy: z.string(),
  addedAt: z.string(),
  sourceName: z.string(),
}).strict()

const CertificationRecordSchema = z.object({
  appId: z.string(),
  passed: z.boolean(),
  suiteVersion: z.string(),
  reportSha256: z.string().regex(/^[0-9a-f]{64}$/),
  url: z.string(),
  account: z.string(),
  startedAt: z.string(),
  finishedAt: z.string(),
  steps: z.array(z.object({ id: z.string(), passed: z.boolean() }).strict()),
  recordedBy: z.string(),
  recordedAt: z.string(),
}).strict()

export const AdminStateSchema = z.object({
  version: z.literal(1),
  /** Per limit scope (the scope as JSON): limit name → value; 'inherit' clears a value the config set. */
  limits: z.record(z.string(), z.record(z.string(), limitValue)),
  tradingStates: z.record(z.string(), z.enum(TRADING_STATES)),
  programmaticReports: z.record(z.string(), z.enum(PROGRAMMATIC_REPORTS)),
  /** Kill switches that are on (scopes as JSON). */
  killSwitches: z.array(z.string()),
  /** AppID registrations added or changed (evidence, status). */
  software: z.array(SoftwareStateSchema),
  /** Per account, the AppIDs it is bound to, where changed. */
  bindings: z.record(z.string(), z.array(z.string())),
  /** Per account, fingerprint decisions. */
  fingerprints: z.record(z.string(), z.record(z.string(), z.enum(['approved', 'held', 'rejected']))),
  /**
   * Per AppID, the metadata of its stored documents (supervisor/evidence/),
   * newest last. Kept here, not rebuilt from the journal at start: the
   * journal holds years of segments and retention purges the oldest, while
   * a document's metadata must outlive both; each entry names its file by
   * SHA-256, and every entry was journaled (app-evidence-add) when added.
   * Absent in stores written before the evidence store existed.
   */
  evidence: z.record(z.string(), z.array(EvidenceMetadataSchema)).default({}),
  /** Per AppID, its latest certification record (app-certification in the journal). */
  certifications: z.record(z.string(), CertificationRecordSchema).default({}),
  /** Per account, its due-diligence record where changed (absent in stores written before it existed). */
  diligence: z.record(z.string(), DiligenceSchema).optional(),
}).strict()
export type AdminStateDocument = z.infer<typeof AdminStateSchema>
export type SoftwareState = z.infer<typeof SoftwareStateSchema>

export function emptyAdminState (): AdminStateDocument {
  return { version: 1, limits: {}, tradingStates: {}, programmaticReports: {}, killSwitches: [], software: [], bindings: {}, fingerprints: {}, evidence: {}, certifications: {} }
}

export function adminStatePath (config: GatewayConfig): string {
  return join(config.runDir, 'admin-state.json')
}

export class AdminState {
  doc: AdminStateDocument

  constructor (readonly path: string) {
    this.doc = emptyAdminState()
  }

  /** Reads the store; a damaged one stops the start (ops must look), naming what is wrong. */
  load (): AdminStateDocument {
    if (!existsSync(this.path)) return this.doc
    let json: unknown
    try {
      json = JSON.parse(readFileSync(this.path, 'utf8'))
    } catch (err) {
      throw new Error(`${this.path}: not valid JSON (${(err as Error).message}); the admin changes it holds cannot be restored. Fix or remove it.`, { cause: err })
    }
    const parsed = AdminStateSchema.safeParse(json)
    if (!parsed.success) {
      throw new Error(`${this.path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}. Fix or remove it.`)
    }
    this.doc = parsed.data
    return this.doc
  }

  /** Writes the whole store atomically: a crash leaves the old file or the new one, never half of one. */
  save (): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 })
    const tmp = `${this.path}.tmp`
    const fd = openSync(tmp, 'w', 0o600)
    try {
      writeSync(fd, JSON.stringify(this.doc, null, 2) + '\n')
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, this.path)
  }
}
