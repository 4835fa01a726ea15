// When an assessment document stops counting. One reading of an expiry,
// used by the logon check (access-control.ts), the sweep that suspends an
// AppID (supervisor.ts), the admin listing and /metrics, so they never
// disagree about whether a document has expired.
//
// An expiry is a date, YYYY-MM-DD, valid through that UTC day (as the
// config's documents always were), or a UTC instant YYYY-MM-DDTHH:MM:SSZ,
// valid until that instant.

const DAY_MS = 86_400_000

const DATE = /^\d{4}-\d{2}-\d{2}$/
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/

/** True when `expires` is a date or an instant this module reads. */
export function isExpiryText (expires: string): boolean {
  // Round-tripped through Date so 2027-02-30 is refused; an invalid
  // date's toISOString() throws, so NaN is ruled out first (this runs on
  // admin requests: it must not throw).
  const ms = DATE.test(expires) ? Date.parse(`${expires}T00:00:00Z`) : INSTANT.test(expires) ? Date.parse(expires) : NaN
  if (Number.isNaN(ms)) return false
  const iso = new Date(ms).toISOString()
  return DATE.test(expires) ? iso.startsWith(expires) : iso.replace('.000Z', 'Z') === expires
}

/** The first instant (ms since the epoch) at which the document no longer counts. */
export function expiryInstantMs (expires: string): number {
  return DATE.test(expires) ? Date.parse(`${expires}T00:00:00Z`) + DAY_MS : Date.parse(expires)
}

export function isExpired (expires: string | null, nowMs: number): boolean {
  return expires !== null && nowMs >= expiryInstantMs(expires)
}

/** Not expired yet, but within `days` of it. */
export function isExpiringWithin (expires: string | null, nowMs: number, days: number): boolean {
  if (expires === null) return false
  const at = expiryInstantMs(expires)
  return nowMs < at && at - nowMs <= days * DAY_MS
}

/**
 * Whole days left before expiry: 0 within its last 24 hours, negative once
 * expired (so it is negative exactly when isExpired); null for a document
 * that does not expire.
 */
export function daysToExpiry (expires: string | null, nowMs: number): number | null {
  return expires === null ? null : Math.floor((expiryInstantMs(expires) - nowMs - 1) / DAY_MS)
}

/** Any document of an AppID, the config's named ones and the stored ones alike. */
export interface ExpiringDocument {
  expires: string | null
  name?: string
  sha256?: string
  kind?: string
}

/** The first expired document, or undefined. */
export function firstExpired<D extends ExpiringDocument> (documents: readonly D[], nowMs: number): D | undefined {
  return documents.find((d) => isExpired(d.expires, nowMs))
}
