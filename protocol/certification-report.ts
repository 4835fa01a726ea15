// The report `gatehouse certify` writes and the gateway reads back when an
// operator records a certification (`gatehouse admin apps certify-record`).
// A contract between the two, like the wire: the tool and the gateway
// may be different versions, so the gateway validates what it reads.
import { z } from 'zod'

export const CERTIFICATION_REPORT_FORMAT = 'gatehouse-certification-report'
/** The published suite's version (docs/certification.md): bumped when a step is added, removed or changes what it expects. */
export const CERTIFICATION_SUITE_VERSION = '1'

/** Largest JSON report the gateway reads. A report is a few KiB; this is a budget, not an expectation. */
export const MAX_CERTIFICATION_REPORT_BYTES = 1024 * 1024

const text = z.string().max(4096)

export const CertificationStepSchema = z.object({
  /** Stable step ID, as docs/certification.md lists them. */
  id: z.string().regex(/^[a-z0-9-]{1,64}$/),
  title: text,
  passed: z.boolean(),
  /** What the step expected, and what it saw. */
  expected: text,
  seen: text,
  durationMs: z.number().min(0),
}).strict()
export type CertificationStep = z.infer<typeof CertificationStepSchema>

export const CertificationReportSchema = z.object({
  format: z.literal(CERTIFICATION_REPORT_FORMAT),
  suiteVersion: z.string().max(32),
  appId: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/),
  account: z.string().max(64),
  url: z.string().max(2048),
  startedAt: z.string().max(64),
  finishedAt: z.string().max(64),
  /** True only if every step passed. */
  passed: z.boolean(),
  steps: z.array(CertificationStepSchema).min(1).max(100),
}).strict().refine((r) => r.passed === r.steps.every((s) => s.passed), { message: 'passed must be true exactly when every step passed', path: ['passed'] })
export type CertificationReport = z.infer<typeof CertificationReportSchema>
