// Field numbers of the envelopes' `oneof body` (client.proto, link.proto),
// for code that reads or labels bodies without the generated codec: the
// journal's msgType, the salvage of a malformed envelope, the benchmark's
// hand-rolled wire. The static generated code carries no reflection, so
// these are written out once, here; test/body-fields.test.ts loads the
// .proto and checks they equal it.

/** ClientEnvelope's oneof body: field name (protobufjs camelCase) → field number. */
export const CLIENT_BODY_FIELDS: Readonly<Record<string, number>> = Object.freeze({
  logon: 10,
  logonReply: 11,
  newOrder: 12,
  cancelOrder: 13,
  executionReport: 14,
  reject: 15,
  heartbeat: 16,
  logout: 17,
  authChallenge: 18,
  authenticate: 19,
  authenticateReply: 20,
  terminalInfo: 21,
  terminalInfoReply: 22,
  resendRequest: 23,
  resendComplete: 24,
  query: 25,
  queryReply: 26,
})

/** LinkEnvelope's oneof body: field name → field number. */
export const LINK_BODY_FIELDS: Readonly<Record<string, number>> = Object.freeze({
  logon: 10,
  logonReply: 11,
  heartbeat: 12,
  newOrder: 13,
  cancel: 14,
  report: 15,
  massCancel: 16,
  logout: 17,
  instrumentUpdate: 18,
})

/** Both envelopes' `seq` (field 1). */
export const ENVELOPE_SEQ_FIELD = 1

const CLIENT_BODY_NAMES: readonly string[] = Object.freeze(Object.keys(CLIENT_BODY_FIELDS))
const LINK_BODY_NAMES: readonly string[] = Object.freeze(Object.keys(LINK_BODY_FIELDS))

/**
 * The message type of an envelope being sent: the field number of its
 * (one) body field, 0 for none. It looks the body names up in a list
 * made once per table rather than walking the envelope's keys (a
 * `for…in` per message), so it allocates nothing.
 */
export function bodyFieldNumber (envelope: object, fields: Readonly<Record<string, number>>): number {
  const names = fields === CLIENT_BODY_FIELDS ? CLIENT_BODY_NAMES : fields === LINK_BODY_FIELDS ? LINK_BODY_NAMES : Object.keys(fields)
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!
    if ((envelope as Record<string, unknown>)[name] != null) return fields[name]!
  }
  return 0
}
