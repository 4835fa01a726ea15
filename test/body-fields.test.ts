// Every hand-written table of .proto field names or numbers equals the
// .proto itself, loaded with protobufjs: the envelopes' oneof bodies, the
// fields a malformed envelope is salvaged by, the benchmark's hand-rolled
// wire, and the terminal-info fields of the collector's failure bitmask.
import t from 'tap'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import protobuf from 'protobufjs'
import { CLIENT_BODY_FIELDS, ENVELOPE_SEQ_FIELD, LINK_BODY_FIELDS } from '../protocol/body-fields.js'
import { CLIENT_BODY_FIELDS as JOURNAL_CLIENT_BODY_FIELDS, LINK_BODY_FIELDS as JOURNAL_LINK_BODY_FIELDS, clientBodyName, linkBodyName } from '../journal/gateway-records.js'
import { CLIENT_ORDER_ID_FIELD } from '../protocol/envelope-salvage.js'
import { SCANNED_BODY_FIELDS } from '../bench/order-wire.js'
import { TERMINAL_FIELDS } from '../protocol/terminal-fingerprint.js'

const PROTO_ROOT = fileURLToPath(new URL('../../protocol/', import.meta.url))

function loadProto (): protobuf.Root {
  const root = new protobuf.Root()
  // The .proto files import each other as "gatehouse/v1/…", relative to protocol/.
  root.resolvePath = (_origin, target) => join(PROTO_ROOT, target)
  return root.loadSync(['gatehouse/v1/common.proto', 'gatehouse/v1/client.proto', 'gatehouse/v1/link.proto'], { keepCase: false })
}

const proto = loadProto()
const message = (name: string): protobuf.Type => proto.lookupType(`gatehouse.v1.${name}`)

/** A oneof's members as name → field number, in the camelCase protobufjs and the generated code use. */
function oneofFields (type: protobuf.Type, oneof: string): Record<string, number> {
  const members = type.oneofs[oneof]
  if (members === undefined) throw new Error(`${type.name} has no oneof ${oneof}`)
  return Object.fromEntries(members.fieldsArray.map((field) => [field.name, field.id]))
}

t.test('the envelopes\' oneof body tables equal client.proto and link.proto', async (t) => {
  t.same({ ...CLIENT_BODY_FIELDS }, oneofFields(message('ClientEnvelope'), 'body'), 'ClientEnvelope.body')
  t.same({ ...LINK_BODY_FIELDS }, oneofFields(message('LinkEnvelope'), 'body'), 'LinkEnvelope.body')
  t.equal(message('ClientEnvelope').fields.seq?.id, ENVELOPE_SEQ_FIELD, 'ClientEnvelope.seq')
  t.equal(message('LinkEnvelope').fields.seq?.id, ENVELOPE_SEQ_FIELD, 'LinkEnvelope.seq')
  t.equal(JOURNAL_CLIENT_BODY_FIELDS, CLIENT_BODY_FIELDS, 'the journal uses the one table')
  t.equal(JOURNAL_LINK_BODY_FIELDS, LINK_BODY_FIELDS)
  for (const [name, id] of Object.entries(oneofFields(message('ClientEnvelope'), 'body'))) t.equal(clientBodyName(id), name, `journal msgType ${id} is ${name}`)
  for (const [name, id] of Object.entries(oneofFields(message('LinkEnvelope'), 'body'))) t.equal(linkBodyName(id), name, `journal link msgType ${id} is ${name}`)
})

t.test('the salvaged client_order_id is field CLIENT_ORDER_ID_FIELD of NewOrder and CancelOrder', async (t) => {
  const envelope = message('ClientEnvelope')
  for (const body of ['newOrder', 'cancelOrder']) {
    const type = envelope.fields[body]!.resolve().resolvedType as protobuf.Type
    t.equal(type.fields.clientOrderId?.id, CLIENT_ORDER_ID_FIELD, `${type.name}.client_order_id`)
  }
})

t.test('the benchmark\'s scanned fields equal the .proto', async (t) => {
  for (const [path, id] of Object.entries(SCANNED_BODY_FIELDS)) {
    const [type, field] = path.split('.') as [string, string]
    t.equal(message(type).fields[field]?.id, id, path)
  }
})

t.test('the terminal-info fields of the failure bitmask name TerminalInfo fields', async (t) => {
  const fields = message('TerminalInfo').fields
  for (const name of TERMINAL_FIELDS) {
    // The bitmask says "collected time"; the message carries it in µs.
    const protoName = name === 'collectedTime' ? 'collectedTimeUs' : name
    t.ok(fields[protoName] !== undefined, `${name} is TerminalInfo.${protoName}`)
  }
})
