// Reference data of the exchange simulator: a default list of listed
// Chinese futures, and the loader for `--instruments FILE`.
//
// Prices are exact integers, price × 10^price_decimals (see common.proto):
// gold at 880.00 with price_decimals 2 is 88000, and its 0.02 tick is 2.
import { readFileSync } from 'node:fs'
import { TradingStatus, type InstrumentInit } from '../protocol/messages.js'
import { MAX_WIRE_INTEGER } from '../protocol/constants.js'
import { SimConfigError } from './errors.js'

interface ListingSpec {
  symbol: string
  exchange: string
  priceDecimals: number
  tickSize: number
  multiplier: number
  referencePrice: number
  /** Daily price limit either side of the reference price, in basis points. */
  bandBps: number
  maxOrderLots: number
  marginRateBps: number
  status?: TradingStatus
}

/**
 * Limit prices as the exchanges publish them: reference ± band, rounded
 * inwards to the tick so both edges are themselves valid prices.
 */
function listed (spec: ListingSpec): InstrumentInit {
  const { tickSize, referencePrice, bandBps } = spec
  const lower = Math.ceil(referencePrice * (10_000 - bandBps) / 10_000 / tickSize) * tickSize
  const upper = Math.floor(referencePrice * (10_000 + bandBps) / 10_000 / tickSize) * tickSize
  return Object.freeze({
    symbol: spec.symbol,
    exchange: spec.exchange,
    priceDecimals: spec.priceDecimals,
    tickSize,
    multiplier: spec.multiplier,
    referencePrice,
    lowerLimitPrice: lower,
    upperLimitPrice: upper,
    maxOrderLots: spec.maxOrderLots,
    status: spec.status ?? TradingStatus.TRADING,
    marginRateBps: spec.marginRateBps,
  })
}

/**
 * The simulator's default listing. Reference prices are round figures near
 * recent levels; bands, tick sizes, multipliers and per-order maximums
 * (limit orders) follow each exchange's contract specifications.
 * `ag2606` is HALTED so tests can exercise INSTRUMENT_NOT_TRADING.
 */
export const DEFAULT_INSTRUMENTS: readonly InstrumentInit[] = Object.freeze([
  // SHFE rebar: CNY/t, tick 1, 10 t per lot.
  listed({ symbol: 'rb2605', exchange: 'SHFE', priceDecimals: 0, tickSize: 1, multiplier: 10, referencePrice: 3200, bandBps: 700, maxOrderLots: 500, marginRateBps: 700 }),
  // SHFE gold: CNY/g, tick 0.02, 1000 g per lot.
  listed({ symbol: 'au2606', exchange: 'SHFE', priceDecimals: 2, tickSize: 2, multiplier: 1000, referencePrice: 88000, bandBps: 900, maxOrderLots: 500, marginRateBps: 1100 }),
  // SHFE silver: CNY/kg, tick 1, 15 kg per lot. Halted.
  listed({ symbol: 'ag2606', exchange: 'SHFE', priceDecimals: 0, tickSize: 1, multiplier: 15, referencePrice: 11000, bandBps: 900, maxOrderLots: 500, marginRateBps: 1100, status: TradingStatus.HALTED }),
  // DCE soybean meal: CNY/t, tick 1, 10 t per lot.
  listed({ symbol: 'm2605', exchange: 'DCE', priceDecimals: 0, tickSize: 1, multiplier: 10, referencePrice: 2950, bandBps: 600, maxOrderLots: 1000, marginRateBps: 700 }),
  // DCE iron ore: CNY/t, tick 0.5, 100 t per lot.
  listed({ symbol: 'i2605', exchange: 'DCE', priceDecimals: 1, tickSize: 5, multiplier: 100, referencePrice: 7800, bandBps: 800, maxOrderLots: 1000, marginRateBps: 1000 }),
  // ZCE white sugar: CNY/t, tick 1, 10 t per lot.
  listed({ symbol: 'SR605', exchange: 'ZCE', priceDecimals: 0, tickSize: 1, multiplier: 10, referencePrice: 5600, bandBps: 600, maxOrderLots: 1000, marginRateBps: 700 }),
  // CFFEX CSI 300 index future: index points, tick 0.2, CNY 300 per point.
  listed({ symbol: 'IF2606', exchange: 'CFFEX', priceDecimals: 1, tickSize: 2, multiplier: 300, referencePrice: 45000, bandBps: 1000, maxOrderLots: 20, marginRateBps: 1200 }),
])

type FieldKind = 'symbol' | 'uint32' | 'price' | 'positive'

/** Every Instrument field, its snake_case JSON name (camelCase is accepted too, as in protobuf's JSON mapping) and its rule. */
const FIELDS: ReadonlyArray<readonly [keyof InstrumentInit & string, string, FieldKind]> = [
  ['symbol', 'symbol', 'symbol'],
  ['exchange', 'exchange', 'symbol'],
  ['priceDecimals', 'price_decimals', 'uint32'],
  ['tickSize', 'tick_size', 'positive'],
  ['multiplier', 'multiplier', 'positive'],
  ['referencePrice', 'reference_price', 'price'],
  ['lowerLimitPrice', 'lower_limit_price', 'price'],
  ['upperLimitPrice', 'upper_limit_price', 'price'],
  ['maxOrderLots', 'max_order_lots', 'positive'],
  ['marginRateBps', 'margin_rate_bps', 'uint32'],
]

const STATUS_NAMES = ['TRADING', 'HALTED', 'CLOSED'] as const

/**
 * Validates a parsed JSON value as a list of instruments. Throws
 * SimConfigError naming the entry and field, e.g. `[2].tick_size`.
 */
export function parseInstruments (value: unknown, source: string): InstrumentInit[] {
  if (!Array.isArray(value)) throw new SimConfigError(`${source}: expected a JSON array of instruments`)
  if (value.length === 0) throw new SimConfigError(`${source}: the instrument list is empty; list at least one instrument`)
  const seen = new Set<string>()
  return value.map((entry: unknown, index) => {
    const at = `${source}: [${index}]`
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      throw new SimConfigError(`${at} must be an object`)
    }
    const raw = entry as Record<string, unknown>
    const out: Record<string, unknown> = {}
    for (const [camel, snake, kind] of FIELDS) {
      const v = raw[snake] ?? raw[camel]
      const where = `${at}.${snake}`
      if (v === undefined) throw new SimConfigError(`${where} is missing`)
      out[camel] = checkField(v, kind, where)
    }
    out.status = checkStatus(raw.status, `${at}.status`)
    const symbol = out.symbol as string
    if (seen.has(symbol)) throw new SimConfigError(`${at}.symbol "${symbol}" is listed twice; symbols must be unique`)
    seen.add(symbol)
    const tick = out.tickSize as number
    for (const field of ['lowerLimitPrice', 'upperLimitPrice'] as const) {
      if ((out[field] as number) % tick !== 0) {
        const snake = field === 'lowerLimitPrice' ? 'lower_limit_price' : 'upper_limit_price'
        throw new SimConfigError(`${at}.${snake} ${out[field] as number} is not a multiple of tick_size ${tick}; band edges must be valid prices`)
      }
    }
    if ((out.lowerLimitPrice as number) > (out.upperLimitPrice as number)) {
      throw new SimConfigError(`${at}.lower_limit_price ${out.lowerLimitPrice as number} is above upper_limit_price ${out.upperLimitPrice as number}`)
    }
    if ((out.marginRateBps as number) > 10_000) {
      throw new SimConfigError(`${at}.margin_rate_bps ${out.marginRateBps as number} is above 10000 (100%)`)
    }
    if ((out.priceDecimals as number) > 9) {
      throw new SimConfigError(`${at}.price_decimals ${out.priceDecimals as number} is above 9`)
    }
    return Object.freeze(out) as InstrumentInit
  })
}

function checkField (v: unknown, kind: FieldKind, where: string): string | number {
  if (kind === 'symbol') {
    if (typeof v !== 'string' || v.length === 0) throw new SimConfigError(`${where} must be a non-empty string, got ${JSON.stringify(v)}`)
    return v
  }
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
    throw new SimConfigError(`${where} must be an integer (prices in integer units, price × 10^price_decimals), got ${JSON.stringify(v)}`)
  }
  if (kind === 'positive' && (v <= 0 || v > 0xffff_ffff)) throw new SimConfigError(`${where} must be at least 1, got ${v}`)
  if (kind === 'uint32' && (v < 0 || v > 0xffff_ffff)) throw new SimConfigError(`${where} must be between 0 and 4294967295, got ${v}`)
  if (kind === 'price' && (v < 0 || v > MAX_WIRE_INTEGER)) throw new SimConfigError(`${where} must be between 0 and 2^53-1, got ${v}`)
  return v
}

function checkStatus (v: unknown, where: string): TradingStatus {
  if (v === undefined) return TradingStatus.TRADING
  if (typeof v === 'string' && (STATUS_NAMES as readonly string[]).includes(v)) {
    return TradingStatus[v as typeof STATUS_NAMES[number]]
  }
  if (typeof v === 'number' && v >= TradingStatus.TRADING && v <= TradingStatus.CLOSED && Number.isInteger(v)) return v
  throw new SimConfigError(`${where} must be one of ${STATUS_NAMES.join(', ')} (or 1-3), got ${JSON.stringify(v)}`)
}

/** Reads and validates `--instruments FILE`: a JSON array of Instrument objects. */
export function loadInstrumentsFile (file: string): InstrumentInit[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (cause) {
    throw new SimConfigError(`--instruments: cannot read ${file}: ${(cause as Error).message}`, { cause })
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (cause) {
    throw new SimConfigError(`--instruments: ${file} is not valid JSON: ${(cause as Error).message}`, { cause })
  }
  return parseInstruments(value, file)
}
