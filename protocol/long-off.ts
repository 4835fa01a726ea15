// Side-effect module: must be imported before the generated codecs.
//
// protobufjs decodes 64-bit fields to `Long` objects when the `long` package
// is present, and the generated classes bake a Long default into their
// prototypes at load time. Gatehouse keeps every 64-bit wire integer below
// 2^53 (prices, sequence numbers, IDs, microsecond timestamps), so plain
// numbers are exact and cheaper: no object per field, no conversions on the
// hot path. Turning Long off here makes every reader return numbers.
import $protobuf from 'protobufjs/minimal.js'

$protobuf.util.Long = undefined as unknown as typeof $protobuf.util.Long
$protobuf.configure()
