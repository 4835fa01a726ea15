// CSV export and formula injection (OWASP "CSV injection"): a client
// chooses the instrument of its order, and whatever it chose reaches the
// export. A cell that starts with = + - @ a tab or a CR is a live formula
// in a spreadsheet; the export must hand it over as text.
import t from 'tap'
import fc from 'fast-check'
import { journalDir } from '../config/config.js'
import { csvTextField, runExportCommand } from '../tools/journal/export-command.js'
import { Side, TimeInForce, wireInt } from '../protocol/messages.js'
import { startTestGateway } from './helpers/gateway.js'
import { logOn, send, tradingAccount } from './helpers/trading.js'
import { parseCsv } from './helpers/csv.js'

const DANGEROUS_FIRST = ['=', '+', '-', '@', '\t', '\r']

t.test('orders with formula instruments from a real gateway export as text cells', async (t) => {
  const gateway = await startTestGateway({ overrides: { accounts: [tradingAccount('CSV1')] } })
  const hostile = ['=HYPERLINK("http://x.io","x")', '+1', '@SUM(A1:A9)', '-2+3', '\t=1', '\r=1']
  try {
    const trader = await logOn(gateway, 'platform', 'CSV1')
    for (const instrument of hostile) {
      const id = send(trader, { instrument, side: Side.BUY, price: 100, quantityLots: 1, timeInForce: TimeInForce.GFD })
      // The gateway answers each (it knows no such instrument): the order and its answer are journaled by then.
      await trader.client.next((m) => m.body === 'executionReport' && wireInt(m.executionReport!.clientOrderId) === id)
    }
    await trader.client.close()
  } finally {
    await gateway.stop()
  }

  let out = ''
  let err = ''
  const code = await runExportCommand([journalDir(gateway.config), '--from', '20000101', '--to', '21000101', '--format', 'csv', '--account', 'CSV1'],
    { out: (s) => { out += s }, err: (s) => { err += s } })
  t.equal(code, 0, `export: exit 0 (${err.trim()})`)
  const rows = parseCsv(out)
  const header = rows[0]!
  const instrumentAt = header.indexOf('instrument')
  const cells = rows.slice(1).map((row) => row[instrumentAt]!)
  for (const instrument of hostile) {
    t.ok(cells.includes(`'${instrument}`), `${JSON.stringify(instrument)} is exported as the text '${JSON.stringify(instrument)}`)
  }
  // Every text cell of every row, whatever column it is in (summary, body_json, reason_name...).
  const numeric = new Set(['time_us', 'seq', 'session_id', 'client_order_id', 'link_order_id', 'reason_code'])
  let checked = 0
  for (const row of rows.slice(1)) {
    for (let i = 0; i < header.length; i++) {
      const cell = row[i]!
      if (numeric.has(header[i]!)) {
        t.match(cell, /^-?\d+$/, `${header[i]!} stays a number`)
        continue
      }
      checked++
      if (DANGEROUS_FIRST.includes(cell[0] ?? '')) t.fail(`${header[i]!} cell ${JSON.stringify(cell)} starts a formula`)
    }
  }
  t.ok(checked > hostile.length, `${checked} text cells checked`)
  // And in the raw text no line or cell begins with a dangerous character
  // outside quotes: a defused cell is quoted.
  t.notMatch(out, /(^|,|\r\n)[=+@\t-]/, 'no unquoted cell starts a formula')
})

t.test('csvTextField: no cell starts a formula, and one leading quote removed gives the text back (property)', async (t) => {
  const unquote = (cell: string): string => cell.startsWith('"') ? cell.slice(1, -1).replaceAll('""', '"') : cell
  fc.assert(fc.property(
    fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.tuple(fc.constantFrom(...DANGEROUS_FIRST, '\'', '"', ','), fc.string()).map(([a, b]) => a + b)),
    (text) => {
      const cell = csvTextField(text)
      if (DANGEROUS_FIRST.includes(cell[0] ?? '')) return false
      const value = unquote(cell)
      if (DANGEROUS_FIRST.includes(value[0] ?? '')) return false
      if (/^[=+\-@\t\r']/.test(text) && !cell.startsWith('"\'')) return false
      const back = value.startsWith('\'') ? value.slice(1) : value
      return back === text
    }), { numRuns: 2000 })
  t.equal(csvTextField('-2+3'), '"\'-2+3"', 'a defused cell is quoted')
  t.equal(csvTextField('IF2506'), 'IF2506', 'an ordinary cell is left alone')
  t.equal(csvTextField('\'quoted'), '"\'\'quoted"', 'a leading quote is doubled, so removing one is always right')
})
