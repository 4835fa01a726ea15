// The generated message classes and enums of gatehouse.v1, with 64-bit
// integers decoded as plain numbers (see long-off.ts).
//
// Import messages from here, never from ./generated directly, so that the
// Long switch is always applied first.
import './long-off.js'
import { gatehouse } from './generated/gatehouse.js'

// Decoded nested messages are class instances with every field defaulted
// from the prototype, but the generated typings declare them as the
// all-optional $Properties. Callers cast a decoded body to its class type
// (e.g. `envelope.newOrder as NewOrder`) right where they switch on `body`.
export const v1 = gatehouse.v1
export type v1 = typeof gatehouse.v1

export const {
  ClientEnvelope, LinkEnvelope, Instrument,
  Side, TimeInForce, ExecType, TradingStatus, RejectReason,
  OffsetFlag, HedgeFlag, QueryKind, OrderState, PositionDirection,
} = gatehouse.v1

export type ClientEnvelope = gatehouse.v1.ClientEnvelope
export type LinkEnvelope = gatehouse.v1.LinkEnvelope
export type ClientEnvelopeInit = gatehouse.v1.ClientEnvelope.$Properties
export type LinkEnvelopeInit = gatehouse.v1.LinkEnvelope.$Properties
export type Instrument = gatehouse.v1.Instrument
export type InstrumentInit = gatehouse.v1.Instrument.$Properties
export type NewOrder = gatehouse.v1.NewOrder
export type CancelOrder = gatehouse.v1.CancelOrder
export type ExecutionReport = gatehouse.v1.ExecutionReport
export type ExecutionReportInit = gatehouse.v1.ExecutionReport.$Properties
export type LinkNewOrder = gatehouse.v1.LinkNewOrder
export type LinkLogonReply = gatehouse.v1.LinkLogonReply
export type Logon = gatehouse.v1.Logon
export type LogonReply = gatehouse.v1.LogonReply
export type Reject = gatehouse.v1.Reject
export type LinkExecutionReport = gatehouse.v1.LinkExecutionReport
export type LinkExecutionReportInit = gatehouse.v1.LinkExecutionReport.$Properties
export type Side = gatehouse.v1.Side
export type TimeInForce = gatehouse.v1.TimeInForce
export type ExecType = gatehouse.v1.ExecType
export type TradingStatus = gatehouse.v1.TradingStatus
export type RejectReason = gatehouse.v1.RejectReason
export type OffsetFlag = gatehouse.v1.OffsetFlag
export type HedgeFlag = gatehouse.v1.HedgeFlag
export type QueryKind = gatehouse.v1.QueryKind
export type OrderState = gatehouse.v1.OrderState
export type PositionDirection = gatehouse.v1.PositionDirection
export type Query = gatehouse.v1.Query
export type QueryReplyInit = gatehouse.v1.QueryReply.$Properties
export type ResendRequest = gatehouse.v1.ResendRequest
export type PositionInfoInit = gatehouse.v1.PositionInfo.$Properties
export type OrderInfoInit = gatehouse.v1.OrderInfo.$Properties
export type TradeInfoInit = gatehouse.v1.TradeInfo.$Properties

/**
 * A 64-bit wire integer as a number. With Long switched off (long-off.ts)
 * the decoder only ever yields numbers; the generated typings still say
 * `number | Long`, so this narrows them in one audited place.
 */
export function wireInt (value: number | { toNumber(): number } | null | undefined): number {
  if (value == null) return 0
  return typeof value === 'number' ? value : value.toNumber()
}

/** Name of a RejectReason code, e.g. 103 -> "PRICE_OUTSIDE_BAND". */
export function reasonName (code: number): string {
  return (RejectReason as unknown as Record<number, string>)[code] ?? `REASON_${code}`
}
