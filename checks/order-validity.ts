// Validity checks on a new order against the exchange's reference data:
// the first stage of the pre-trade pipeline. Pure functions of their inputs,
// no sockets, no allocation: a verdict is written into a caller-owned
// CheckVerdict that is reused for every order.
import { RejectReason, Side, TradingStatus, wireInt, type Instrument, type NewOrder } from '../protocol/messages.js'

/** Outcome of a check. `reason` 0 means pass; otherwise limit/observed explain it. */
export interface CheckVerdict {
  reason: number
  limit: number
  observed: number
}

export function newCheckVerdict (): CheckVerdict {
  return { reason: 0, limit: 0, observed: 0 }
}

function fail (verdict: CheckVerdict, reason: number, limit: number, observed: number): false {
  verdict.reason = reason
  verdict.limit = limit
  verdict.observed = observed
  return false
}

/**
 * Checks side, quantity, instrument status, tick and band. Returns true when
 * the order passes; otherwise false with the verdict filled in.
 */
export function checkOrderValidity (order: NewOrder, instrument: Instrument | undefined, verdict: CheckVerdict): boolean {
  verdict.reason = 0
  if (instrument === undefined) return fail(verdict, RejectReason.UNKNOWN_INSTRUMENT, 0, 0)
  if (order.side !== Side.BUY && order.side !== Side.SELL) return fail(verdict, RejectReason.INVALID_SIDE, 0, order.side)
  if (instrument.status !== TradingStatus.TRADING) return fail(verdict, RejectReason.INSTRUMENT_NOT_TRADING, 0, instrument.status)
  const quantity = order.quantityLots
  if (quantity <= 0) return fail(verdict, RejectReason.INVALID_QUANTITY, 1, quantity)
  if (quantity > instrument.maxOrderLots) return fail(verdict, RejectReason.QUANTITY_ABOVE_MAX, instrument.maxOrderLots, quantity)
  const price = wireInt(order.price)
  const tick = wireInt(instrument.tickSize)
  if (tick > 0 && price % tick !== 0) return fail(verdict, RejectReason.PRICE_OFF_TICK, tick, price)
  const lower = wireInt(instrument.lowerLimitPrice)
  if (price < lower) return fail(verdict, RejectReason.PRICE_OUTSIDE_BAND, lower, price)
  const upper = wireInt(instrument.upperLimitPrice)
  if (price > upper) return fail(verdict, RejectReason.PRICE_OUTSIDE_BAND, upper, price)
  return true
}
