// Every validation message of the simulator's flags and instruments file,
// checked in process (the process test covers the exit code path).
import t from 'tap'
import { join } from 'node:path'
import { loadInstrumentsFile, parseInstruments } from '../exchange-sim/instruments.js'
import { parseExchangeSimArgs } from '../exchange-sim/main.js'
import { SimConfigError } from '../exchange-sim/errors.js'

const good = {
  symbol: 'sc2606', exchange: 'INE', price_decimals: 1, tick_size: 1, multiplier: 1000, reference_price: 5000,
  lower_limit_price: 4500, upper_limit_price: 5500, max_order_lots: 500, status: 'TRADING', margin_rate_bps: 1000,
}

t.test('instruments: a valid list parses, snake_case or camelCase', async (t) => {
  const [a, b] = parseInstruments([good, {
    symbol: 'au2606', exchange: 'SHFE', priceDecimals: 2, tickSize: 2, multiplier: 1000, referencePrice: 88000,
    lowerLimitPrice: 80080, upperLimitPrice: 95920, maxOrderLots: 500, status: 2, marginRateBps: 1100,
  }], 'f.json')
  t.match(a, { symbol: 'sc2606', tickSize: 1, lowerLimitPrice: 4500, status: 1 })
  t.match(b, { symbol: 'au2606', tickSize: 2, status: 2 })
  t.equal(parseInstruments([{ ...good, status: undefined }], 'f.json')[0]!.status, 1, 'status defaults to TRADING')
})

t.test('instruments: each message names the entry and field', async (t) => {
  const cases: Array<[unknown, string]> = [
    [{}, 'f.json: expected a JSON array of instruments'],
    [[], 'f.json: the instrument list is empty; list at least one instrument'],
    [[null], 'f.json: [0] must be an object'],
    [[{ ...good, symbol: undefined }], 'f.json: [0].symbol is missing'],
    [[{ ...good, symbol: '' }], 'f.json: [0].symbol must be a non-empty string, got ""'],
    [[{ ...good, exchange: 7 }], 'f.json: [0].exchange must be a non-empty string, got 7'],
    [[{ ...good, tick_size: 0.5 }], 'f.json: [0].tick_size must be an integer (prices in integer units, price × 10^price_decimals), got 0.5'],
    [[{ ...good, tick_size: 0 }], 'f.json: [0].tick_size must be at least 1, got 0'],
    [[{ ...good, max_order_lots: '500' }], 'f.json: [0].max_order_lots must be an integer (prices in integer units, price × 10^price_decimals), got "500"'],
    [[{ ...good, price_decimals: -1 }], 'f.json: [0].price_decimals must be between 0 and 4294967295, got -1'],
    [[{ ...good, price_decimals: 12 }], 'f.json: [0].price_decimals 12 is above 9'],
    [[{ ...good, lower_limit_price: -5 }], 'f.json: [0].lower_limit_price must be between 0 and 2^53-1, got -5'],
    [[{ ...good, tick_size: 2, lower_limit_price: 4501 }], 'f.json: [0].lower_limit_price 4501 is not a multiple of tick_size 2; band edges must be valid prices'],
    [[{ ...good, tick_size: 2, upper_limit_price: 5501 }], 'f.json: [0].upper_limit_price 5501 is not a multiple of tick_size 2; band edges must be valid prices'],
    [[{ ...good, lower_limit_price: 6000 }], 'f.json: [0].lower_limit_price 6000 is above upper_limit_price 5500'],
    [[{ ...good, margin_rate_bps: 10_001 }], 'f.json: [0].margin_rate_bps 10001 is above 10000 (100%)'],
    [[{ ...good, status: 'OPEN' }], 'f.json: [0].status must be one of TRADING, HALTED, CLOSED (or 1-3), got "OPEN"'],
    [[good, good], 'f.json: [1].symbol "sc2606" is listed twice; symbols must be unique'],
  ]
  for (const [value, message] of cases) {
    t.throws(() => parseInstruments(value, 'f.json'), new SimConfigError(message), message)
  }
})

t.test('instruments file: unreadable and non-JSON files are named', async (t) => {
  const dir = t.testdir({ 'not-json.json': '[{', 'ok.json': JSON.stringify([good]) })
  t.throws(() => loadInstrumentsFile(join(dir, 'missing.json')), { code: 'GH_ERR_SIM_CONFIG', message: /^--instruments: cannot read .*missing\.json: ENOENT/ })
  t.throws(() => loadInstrumentsFile(join(dir, 'not-json.json')), { code: 'GH_ERR_SIM_CONFIG', message: /^--instruments: .*not-json\.json is not valid JSON: / })
  t.match(loadInstrumentsFile(join(dir, 'ok.json')), [{ symbol: 'sc2606' }])
})

t.test('flags: defaults, both value forms, and each message', async (t) => {
  const now = new Date(2026, 0, 5, 9, 30)
  t.match(parseExchangeSimArgs([], now), {
    host: '127.0.0.1', port: 7090, environment: 'production', tradingDay: '20260105',
    faultRejectEvery: 0, faultDelayMs: 0, faultDropEvery: 0, maxAccounts: 10_000, help: false,
  })
  t.match(parseExchangeSimArgs(['--port=0', '--host', '0.0.0.0', '--fault-delay-ms', '5', '--record=r.jsonl', '-h'], now), {
    port: 0, host: '0.0.0.0', faultDelayMs: 5, recordFile: 'r.jsonl', help: true,
  })
  const cases: Array<[string[], string]> = [
    [['--verbose'], 'unknown option "--verbose"; run `gatehouse exchange-sim --help` for the list'],
    [['--verbose=1'], 'unknown option "--verbose"; run `gatehouse exchange-sim --help` for the list'],
    [['extra'], 'unknown option "extra"; run `gatehouse exchange-sim --help` for the list'],
    [['--port'], '--port needs a value'],
    [['--port', '-1'], '--port must be a port number from 0 to 65535, got "-1"'],
    [['--port', '65536'], '--port must be a port number from 0 to 65535, got "65536"'],
    [['--host', ''], '--host must not be empty'],
    [['--fault-reject-every', '1.5'], '--fault-reject-every must be a whole number (0 = off), got "1.5"'],
    [['--fault-delay-ms', '3000000000'], '--fault-delay-ms must be at most 2147483647, got 3000000000'],
    [['--environment', 'prod'], '--environment must be "production" or "test", got "prod"'],
    [['--trading-day', '2026-01-05'], '--trading-day must be a real date as YYYYMMDD, e.g. 20260105, got "2026-01-05"'],
    [['--trading-day', '20261301'], '--trading-day must be a real date as YYYYMMDD, e.g. 20260105, got "20261301"'],
    [['--max-accounts', '0'], '--max-accounts must be a whole number of at least 1, got "0"'],
    [['--max-accounts', '2.5'], '--max-accounts must be a whole number of at least 1, got "2.5"'],
  ]
  for (const [argv, message] of cases) {
    t.throws(() => parseExchangeSimArgs(argv, now), new SimConfigError(message), argv.join(' '))
  }
  t.match(parseExchangeSimArgs(['--port', '65535', '--trading-day', '20280229'], now), { port: 65535, tradingDay: '20280229' }, 'edges accepted')
  t.match(parseExchangeSimArgs(['--max-accounts=1'], now), { maxAccounts: 1 }, 'one account is a valid cap')
})
