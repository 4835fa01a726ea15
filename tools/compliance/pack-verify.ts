// `gatehouse compliance report --verify`: holds a written pack to the
// journal. The pack is built again from the journal (same as-of date, same
// zone) and compared item by item; each cited record must exist with the
// payload hash cited; each record the pack's source table selects up to
// the as-of date must be cited; and each CSV and the HTML page must be
// what pack.json renders to. Every problem names the item or file.
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { buildPack, itemKey, SECTION_NAMES, PACK_FORMAT, type RegulatorPack, type SectionName } from './regulator-pack.js'
import { csvTables, csvText, htmlSummary, PACK_HTML, PACK_JSON } from './pack-files.js'

/** pack.json larger than this is refused unread (a pack of years of changes stays far below it). */
export const MAX_PACK_JSON_BYTES = 512 * 1024 * 1024
/** Problems listed before the rest are only counted. */
const MAX_PROBLEMS = 200

export interface VerifyResult { ok: boolean, problems: string[], items: number, records: number }

function readText (path: string, maxBytes: number): string {
  const st = statSync(path)
  if (!st.isFile()) throw new Error(`${path}: not a regular file`)
  if (st.size > maxBytes) throw new Error(`${path}: ${st.size} bytes, more than the ${maxBytes} a pack may have`)
  return readFileSync(path, 'utf8')
}

/** The first field where two items differ, for the message. */
function firstDifference (a: Record<string, unknown>, b: Record<string, unknown>): string {
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) return key
  }
  return '(order)'
}

export function verifyPack (packDir: string, journalDir: string): VerifyResult {
  const problems: string[] = []
  const add = (p: string): void => { if (problems.length < MAX_PROBLEMS) problems.push(p); else if (problems.length === MAX_PROBLEMS) problems.push('… more problems not listed') }
  let pack: RegulatorPack
  try {
    pack = JSON.parse(readText(join(packDir, PACK_JSON), MAX_PACK_JSON_BYTES)) as RegulatorPack
  } catch (err) {
    return { ok: false, problems: [`${PACK_JSON}: cannot be read as a pack: ${(err as Error).message}`], items: 0, records: 0 }
  }
  if (pack?.format !== PACK_FORMAT || typeof pack.asOf !== 'string' || typeof pack.timeZone !== 'string' || typeof pack.sections !== 'object' || typeof pack.records !== 'object') {
    return { ok: false, problems: [`${PACK_JSON}: not a ${PACK_FORMAT} pack (format, asOf, timeZone, sections, records)`], items: 0, records: 0 }
  }
  const fresh = buildPack(journalDir, pack.asOf, pack.timeZone)

  // Each cited record: in the journal, with the content cited.
  for (const [ref, cited] of Object.entries(pack.records)) {
    const actual = fresh.records[ref]
    if (actual === undefined) add(`record ${ref}: cited by the pack but not in the journal up to ${pack.asOf} (or not a record the pack reads)`)
    else if (JSON.stringify(actual) !== JSON.stringify(cited)) add(`record ${ref}: cited with ${firstDifference(cited as unknown as Record<string, unknown>, actual as unknown as Record<string, unknown>)} that differs from the journal's record`)
  }
  // Each record the pack reads: cited.
  for (const [ref, record] of Object.entries(fresh.records)) {
    if (pack.records[ref] === undefined) add(`record ${ref} (${record.kind}, ${record.time}): in the journal but missing from the pack`)
  }
  // Each item, by its key.
  let items = 0
  for (const section of SECTION_NAMES) {
    const given = (pack.sections[section] ?? []) as unknown as Array<Record<string, unknown>>
    const built = fresh.sections[section] as unknown as Array<Record<string, unknown>>
    items += given.length
    const keyed = (list: Array<Record<string, unknown>>): Map<string, Record<string, unknown>> => new Map(list.map((item, i) => [itemKey(section as SectionName, item, i), item]))
    const g = keyed(given)
    const b = keyed(built)
    for (const [key, item] of b) {
      const other = g.get(key)
      if (other === undefined) add(`${section}[${key}]: in the journal but missing from the pack`)
      else if (JSON.stringify(other) !== JSON.stringify(item)) add(`${section}[${key}]: ${firstDifference(other, item)} differs from the journal`)
    }
    for (const key of g.keys()) if (!b.has(key)) add(`${section}[${key}]: in the pack but not in the journal`)
  }
  // The people's copies: what the verified JSON renders to.
  const expected: Record<string, string> = { [PACK_HTML]: htmlSummary(fresh) }
  for (const [name, table] of Object.entries(csvTables(fresh))) expected[name] = csvText(table)
  for (const [name, text] of Object.entries(expected)) {
    let found: string
    try {
      found = readText(join(packDir, name), MAX_PACK_JSON_BYTES)
    } catch (err) {
      add(`${name}: ${(err as Error).message}`)
      continue
    }
    if (found === text) continue
    const want = text.split('\n')
    const got = found.split('\n')
    const line = want.findIndex((l, i) => got[i] !== l)
    add(`${name}: line ${line < 0 ? want.length + 1 : line + 1} differs from what the journal gives`)
  }
  return { ok: problems.length === 0, problems, items, records: Object.keys(pack.records).length }
}
