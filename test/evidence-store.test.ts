// The evidence store on real files: documents named by their SHA-256,
// owner-only, stored once however often added, refused past the size
// budget or when not a regular file (with a code, nothing stored); and
// the one reading of an expiry the logon check, the sweep, the listing
// and /metrics share, as a property.
import t from 'tap'
import fc from 'fast-check'
import { createHash } from 'node:crypto'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EvidenceError, EvidenceStore, evidenceDir } from '../supervisor/evidence/evidence-store.js'
import { daysToExpiry, expiryInstantMs, firstExpired, isExpired, isExpiringWithin, isExpiryText } from '../supervisor/evidence/evidence-expiry.js'

const DAY_MS = 86_400_000

function fresh (maxBytes = 1024): { store: EvidenceStore, work: string } {
  const work = mkdtempSync(join(tmpdir(), 'gh-evidence-'))
  return { store: new EvidenceStore(evidenceDir(join(work, 'run')), maxBytes), work }
}

t.test('a document is stored under its SHA-256, 0600 in a 0700 directory; the same bytes again store nothing new', async (t) => {
  const { store, work } = fresh()
  const path = join(work, 'licence.pdf')
  writeFileSync(path, 'business licence\n')
  const first = store.addFile(path)
  t.equal(first.sha256, createHash('sha256').update('business licence\n').digest('hex'))
  t.same({ sizeBytes: first.sizeBytes, created: first.created }, { sizeBytes: 17, created: true })
  t.equal(statSync(store.dir).mode & 0o777, 0o700, 'directory 0700')
  t.equal(statSync(store.pathOf(first.sha256)).mode & 0o777, 0o600, 'file 0600')
  t.equal(readFileSync(store.pathOf(first.sha256), 'utf8'), 'business licence\n')
  const again = store.addFile(path)
  t.same(again, { ...first, created: false }, 'idempotent')
  t.same(readdirSync(store.dir), [first.sha256], 'one file, no temporary left behind')
  t.ok(store.has(first.sha256))
  t.notOk(store.has('../etc/passwd'), 'has() takes digests only')
})

t.test('a directory made by hand with looser permissions is tightened', async (t) => {
  const { store, work } = fresh()
  mkdirSync(store.dir, { recursive: true })
  chmodSync(store.dir, 0o755)
  const path = join(work, 'x')
  writeFileSync(path, 'x')
  store.addFile(path)
  t.equal(statSync(store.dir).mode & 0o777, 0o700)
})

t.test('oversize, missing, a directory and a FIFO are refused with a code; nothing is stored', async (t) => {
  const { store, work } = fresh(16)
  const big = join(work, 'big')
  writeFileSync(big, Buffer.alloc(17))
  const exact = join(work, 'exact')
  writeFileSync(exact, Buffer.alloc(16, 1))
  const fifo = join(work, 'fifo')
  execFileSync('mkfifo', [fifo])
  const refusals: Array<[string, string, RegExp]> = [
    [big, 'GH_ERR_EVIDENCE_TOO_LARGE', /is 17 bytes; a document may be at most 16 bytes \(evidence\.maxFileBytes\)/],
    [join(work, 'missing'), 'GH_ERR_EVIDENCE_UNREADABLE', /cannot read the document \(ENOENT\)/],
    [work, 'GH_ERR_EVIDENCE_UNREADABLE', /is a directory, not a document/],
    [fifo, 'GH_ERR_EVIDENCE_UNREADABLE', /is a FIFO, not a document/],
  ]
  for (const [path, code, message] of refusals) {
    let caught: unknown
    try {
      store.addFile(path)
    } catch (err) {
      caught = err
    }
    t.ok(caught instanceof EvidenceError, `${path}: an EvidenceError`)
    t.equal((caught as EvidenceError).code, code)
    t.match((caught as EvidenceError).message, message)
  }
  let listed: string[] = []
  try {
    listed = readdirSync(store.dir)
  } catch {}
  t.same(listed, [], 'nothing stored')
  t.equal(store.addFile(exact).sizeBytes, 16, 'exactly the budget is accepted')
})

t.test('expiry texts: dates and UTC instants, nothing else', async (t) => {
  for (const ok of ['2027-12-31', '2024-02-29', '2026-12-06T21:00:00Z']) t.ok(isExpiryText(ok), ok)
  for (const bad of ['2027-02-30', '2027-13-01', '31/12/2099', '2026-12-06T21:00:00.000Z', '2026-12-06T21:00:00+08:00', '2026-12-06 21:00:00Z', '']) t.notOk(isExpiryText(bad), bad)
  t.equal(expiryInstantMs('2027-12-31'), Date.UTC(2028, 0, 1), 'a date is valid through its UTC day')
  t.equal(expiryInstantMs('2026-12-06T21:00:00Z'), Date.UTC(2026, 11, 6, 21))
})

t.test('property: expired, expiring and days to expiry agree', async (t) => {
  const base = Date.UTC(2026, 0, 1)
  fc.assert(fc.property(
    fc.integer({ min: 0, max: 3650 }), fc.integer({ min: 0, max: 3650 * DAY_MS }), fc.integer({ min: 0, max: 400 }), fc.boolean(),
    (dayOffset, nowOffset, warnDays, asInstant) => {
      const at = new Date(base + dayOffset * DAY_MS + (asInstant ? 3_600_000 * 5 : 0))
      const expires = asInstant ? at.toISOString().replace('.000Z', 'Z') : at.toISOString().slice(0, 10)
      const nowMs = base + nowOffset
      const expired = isExpired(expires, nowMs)
      const expiring = isExpiringWithin(expires, nowMs, warnDays)
      const days = daysToExpiry(expires, nowMs)!
      if (expired && expiring) return false
      if (expired !== (nowMs >= expiryInstantMs(expires))) return false
      if (expired !== (days < 0)) return false
      if (expiring && days > warnDays) return false
      const documents = [{ expires: null }, { expires }]
      return firstExpired(documents, nowMs) === (expired ? documents[1] : undefined)
    }), { numRuns: 300 })
  t.notOk(isExpired(null, Date.now()), 'no expiry never expires')
  t.equal(daysToExpiry(null, Date.now()), null)
  t.pass('held')
})
