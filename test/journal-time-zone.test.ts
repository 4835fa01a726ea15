// --tz of the compliance tools: `journal search` and `journal export` write
// each record's time in the zone asked for, with its offset, and select
// the same records as in UTC. Asia/Shanghai (UTC+8, no DST) and a zone with
// DST (America/New_York) around its change; an unknown zone is refused.
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import fc from 'fast-check'
import { CLI_PATH } from '../supervisor/exchange-sim-process.js'
import { JournalStream } from '../journal/segment-writer.js'
import { SUPERVISOR_STREAM } from '../journal/gateway-records.js'
import { LANE_NONE, RecordKind, newRecordHead } from '../journal/record-format.js'
import { isoTimeOfUs } from '../journal/record-decoder.js'
import { timeFormatter } from '../tools/journal/time-zone.js'
import { parseCsv } from './helpers/csv.js'

const execFileAsync = promisify(execFile)
// 2026-11-20 01:30:00.000123 UTC = 09:30:00.000123 in Shanghai.
const T1_US = Date.UTC(2026, 10, 20, 1, 30) * 1000 + 123
const T2_US = Date.UTC(2026, 10, 20, 17, 0, 5) * 1000 + 999_999

function buildJournal (): string {
  const root = mkdtempSync(join(tmpdir(), 'gatehouse-tz-'))
  let now = T1_US
  const stream = JournalStream.open({ stream: SUPERVISOR_STREAM, root, fsync: 'never', clockUs: () => now })
  stream.appendJson(newRecordHead({ kind: RecordKind.LOGON_STEP, lane: LANE_NONE, account: 'ACC1' }), { step: 'authenticate', account: 'ACC1', reason: 0 })
  // A batch reads the clock once: the second record's own time needs a batch of its own.
  stream.commit()
  now = T2_US
  stream.appendJson(newRecordHead({ kind: RecordKind.LOGON_STEP, lane: LANE_NONE, account: 'ACC1' }), { step: 'login', account: 'ACC1', reason: 0 })
  stream.commit()
  stream.close()
  return root
}

t.test('the formatter: Shanghai is UTC+8; a DST zone takes the offset of each instant; UTC is unchanged', async (t) => {
  t.equal(timeFormatter('Asia/Shanghai').format(T1_US), '2026-11-20T09:30:00.000123+08:00')
  t.equal(timeFormatter('Asia/Shanghai').format(T2_US), '2026-11-21T01:00:05.999999+08:00', 'past midnight: the next local day')
  t.equal(timeFormatter().format(T1_US), isoTimeOfUs(T1_US), 'default UTC: as before')
  const ny = timeFormatter('America/New_York')
  t.equal(ny.format(Date.UTC(2026, 2, 8, 6, 59, 59) * 1000), '2026-03-08T01:59:59.000000-05:00', 'before the spring change')
  t.equal(ny.format(Date.UTC(2026, 2, 8, 7, 0, 0) * 1000), '2026-03-08T03:00:00.000000-04:00', 'after it')
  t.equal(timeFormatter('Asia/Kolkata').format(T1_US), '2026-11-20T07:00:00.000123+05:30', 'half-hour offsets')
  t.throws(() => timeFormatter('Mars/Olympus'), { code: 'GH_ERR_USAGE', message: /^--tz: unknown time zone 'Mars\/Olympus'/ })
})

t.test('property: a zoned time names the same instant as the UTC one', async () => {
  const zones = ['Asia/Shanghai', 'America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'Asia/Kathmandu']
  fc.assert(fc.property(fc.integer({ min: 0, max: 4_102_444_800_000_000 }), fc.constantFrom(...zones), (timeUs, zone) => {
    const text = timeFormatter(zone).format(timeUs)
    const match = /^(.*)\.(\d{6})([+-]\d\d:\d\d)$/.exec(text)
    if (match === null) return false
    // Date.parse reads the offset; the µs digits are compared apart (Date stops at ms).
    return Date.parse(`${match[1]}${match[3]}`) === Math.floor(timeUs / 1_000_000) * 1000 && Number(match[2]) === timeUs % 1_000_000
  }), { numRuns: 300 })
})

t.test('the real CLI: search and export with --tz Asia/Shanghai', async (t) => {
  const root = buildJournal()
  const search = await execFileAsync(process.execPath, [CLI_PATH, 'journal', 'search', root, '--account', 'ACC1', '--tz', 'Asia/Shanghai'])
  const lines = search.stdout.trim().split('\n')
  t.equal(lines.length, 2)
  t.match(lines[0], /^2026-11-20T09:30:00\.000123\+08:00 /)
  t.match(lines[1], /^2026-11-21T01:00:05\.999999\+08:00 /)
  const json = await execFileAsync(process.execPath, [CLI_PATH, 'journal', 'search', root, '--json', '--tz', 'Asia/Shanghai'])
  const records = json.stdout.trim().split('\n').map((line) => JSON.parse(line) as { time: string, timeUs: number })
  t.same(records.map((r) => r.time), ['2026-11-20T09:30:00.000123+08:00', '2026-11-21T01:00:05.999999+08:00'])
  t.same(records.map((r) => r.timeUs), [T1_US, T2_US], 'timeUs is the instant, unchanged')
  const utc = await execFileAsync(process.execPath, [CLI_PATH, 'journal', 'search', root, '--json'])
  t.same(utc.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { time: string }).time), [isoTimeOfUs(T1_US), isoTimeOfUs(T2_US)], 'no --tz: UTC')

  // --day stays a UTC day: both records are on 2026-11-20 UTC, though the second is the 21st in Shanghai.
  const csv = await execFileAsync(process.execPath, [CLI_PATH, 'journal', 'export', root, '--day', '20261120', '--format', 'csv', '--tz', 'Asia/Shanghai'])
  const rows = parseCsv(csv.stdout)
  t.same(rows.slice(1).map((row) => [row[0], row[1]]), [['2026-11-20T09:30:00.000123+08:00', String(T1_US)], ['2026-11-21T01:00:05.999999+08:00', String(T2_US)]])

  const refused = await execFileAsync(process.execPath, [CLI_PATH, 'journal', 'export', root, '--day', '20261120', '--tz', 'Shanghai']).then(() => null, (e: { code: number, stderr: string }) => e)
  t.equal(refused?.code, 2)
  t.match(refused?.stderr, /^gatehouse journal export: --tz: unknown time zone 'Shanghai'; give an IANA name such as Asia\/Shanghai or UTC\n/)
})
