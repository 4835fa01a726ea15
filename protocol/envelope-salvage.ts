// What a malformed ClientEnvelope still says about itself: its seq and,
// for an order or a cancel, the client_order_id, when they were read
// before the damage. The lane echoes them in the MALFORMED_FRAME reject so
// the client can tell which message was refused (a truncated order, say).
// Only values that decoded exactly are returned (field-limits.ts
// echoableId); anything else is 0, "not known".
import './long-off.js'
import $protobuf from 'protobufjs/minimal.js'
import { echoableId } from './field-limits.js'
import { CLIENT_BODY_FIELDS, ENVELOPE_SEQ_FIELD } from './body-fields.js'

const SEQ_FIELD = ENVELOPE_SEQ_FIELD
const NEW_ORDER_FIELD = CLIENT_BODY_FIELDS.newOrder!
const CANCEL_ORDER_FIELD = CLIENT_BODY_FIELDS.cancelOrder!
/** NewOrder.client_order_id and CancelOrder.client_order_id (test/body-fields.test.ts checks both). */
export const CLIENT_ORDER_ID_FIELD = 1
const WIRE_VARINT = 0
const WIRE_LENGTH_DELIMITED = 2

export interface EnvelopeIds {
  refSeq: number
  clientOrderId: number
}

/** Reads the envelope's seq and its order's client_order_id as far as the bytes allow; never throws. */
export function salvageEnvelopeIds (bytes: Uint8Array): EnvelopeIds {
  const ids: EnvelopeIds = { refSeq: 0, clientOrderId: 0 }
  const reader = $protobuf.Reader.create(bytes)
  try {
    while (reader.pos < reader.len) {
      const tag = reader.uint32()
      const field = tag >>> 3
      const wire = tag & 7
      if (field === SEQ_FIELD && wire === WIRE_VARINT) {
        ids.refSeq = echoableId(reader.uint64())
      } else if ((field === NEW_ORDER_FIELD || field === CANCEL_ORDER_FIELD) && wire === WIRE_LENGTH_DELIMITED) {
        const end = reader.uint32() + reader.pos
        while (reader.pos < end && reader.pos < reader.len) {
          const inner = reader.uint32()
          if (inner >>> 3 === CLIENT_ORDER_ID_FIELD && (inner & 7) === WIRE_VARINT) ids.clientOrderId = echoableId(reader.uint64())
          else reader.skipType(inner & 7)
        }
      } else {
        reader.skipType(wire)
      }
    }
  } catch {
    // The damage: keep what was read before it.
  }
  return ids
}
