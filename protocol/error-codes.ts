// The registry of every stable error code Gatehouse raises (`GH_ERR_*`).
// One table: each error class takes its code from here, docs/errors.md lists
// exactly these codes (test/error-codes.test.ts holds the two together), and
// no code is classified by a substring of its name. The reject reasons a
// client receives on the wire are a different set: the RejectReason enum in
// the .proto, documented in docs/protocol.md.

/** Who raises a code: the gateway process, an offline command, the client library, the exchange simulator. */
export type ErrorRaiser = 'gateway' | 'tool' | 'client' | 'simulator'

export interface ErrorCodeInfo {
  /** What went wrong, in one sentence. */
  readonly meaning: string
  readonly raisedBy: readonly ErrorRaiser[]
  /** The exit code of the command that ends on this error, where a CLI maps it to one. */
  readonly exitCode?: number
  /** What the operator or developer should do about it. */
  readonly action: string
}

/** Usage errors of every command end with this exit code (the shell convention for a bad command line). */
export const USAGE_EXIT_CODE = 2

export const ERROR_CODES = {
  // Codecs (protocol/): raised wherever frames are encoded or decoded.
  GH_ERR_MALFORMED_FRAME: {
    meaning: 'A frame did not decode as the expected envelope (client or link protocol).',
    raisedBy: ['gateway', 'client', 'simulator', 'tool'],
    action: 'The peer sent bytes that are not the protocol: check that it speaks the same .proto version. A client sees the wire reject, never this code.',
  },
  GH_ERR_LINK_FRAME_TOO_LARGE: {
    meaning: 'An exchange-link frame announced a length above the link\'s maximum frame size.',
    raisedBy: ['gateway', 'simulator'],
    action: 'The exchange end is not speaking the link protocol, or is broken; the link is dropped and redialled. Check what listens on exchange.host:port.',
  },
  GH_ERR_UNSAFE_INTEGER: {
    meaning: 'A number about to be encoded into a 64-bit field is not a safe integer (2^53 or more, or fractional): it would be sent altered.',
    raisedBy: ['gateway', 'client', 'simulator'],
    action: 'A bug in the caller: values in 64-bit fields must stay below 2^53. Report it with the message, which names the field.',
  },

  // Configuration.
  GH_ERR_CONFIG: {
    meaning: 'The gateway config failed validation; each problem names its field path.',
    raisedBy: ['gateway', 'tool'],
    exitCode: 2,
    action: 'Fix each field the message lists (it says what to change), then start or reload again. `gatehouse start --print-config` shows the effective config.',
  },
  GH_ERR_OPS_TOKEN: {
    meaning: 'The ops port\'s bearer token file cannot be created or read, is open to group or others, or does not hold a valid token.',
    raisedBy: ['gateway'],
    exitCode: 1,
    action: 'Do what the message says: chmod 600 the file, make runDir writable, or set ops.tokenFile to a file holding one token.',
  },

  // Retention journal (journal/).
  GH_ERR_JOURNAL_INVALID_OPTION: {
    meaning: 'An option of a journal stream or a journal tool is out of range.',
    raisedBy: ['gateway', 'tool'],
    exitCode: 2,
    action: 'Change the option the message names to a value in the range it gives.',
  },
  GH_ERR_JOURNAL_INVALID_RECORD: {
    meaning: 'A record field cannot be encoded (account too long, session id out of range, payload too large).',
    raisedBy: ['gateway'],
    action: 'A bug in the caller: nothing was written. Report it with the message, which names the field.',
  },
  GH_ERR_JOURNAL_WRITE_FAILED: {
    meaning: 'write(2) of a batch failed or wrote short; the batch is not journaled and the stream accepts nothing more.',
    raisedBy: ['gateway'],
    action: 'The lane stops sending what it cannot journal. Free disk space or fix the device, then restart the gateway; run `gatehouse journal verify` on the directory.',
  },
  GH_ERR_JOURNAL_FSYNC_FAILED: {
    meaning: 'An fsync the policy asked for failed: durability is no longer assured, so the stream stops.',
    raisedBy: ['gateway'],
    action: 'Check the device and the kernel log, then restart the gateway and run `gatehouse journal verify`.',
  },
  GH_ERR_JOURNAL_CLOSED: {
    meaning: 'An append to a stream that was closed, or stopped by an earlier write or fsync failure.',
    raisedBy: ['gateway'],
    action: 'Look for the earlier GH_ERR_JOURNAL_WRITE_FAILED or GH_ERR_JOURNAL_FSYNC_FAILED; if there is none, it is a bug.',
  },
  GH_ERR_JOURNAL_CORRUPT: {
    meaning: 'A segment is damaged in a way a crash cannot explain (anything but a torn final batch); the writer will not append to or repair it.',
    raisedBy: ['gateway', 'tool'],
    exitCode: 1,
    action: 'Run `gatehouse journal verify DIR` for the full report, keep the directory as evidence, and investigate before starting the gateway on it.',
  },
  GH_ERR_JOURNAL_UNREADABLE: {
    meaning: 'A file a tool was given cannot be read within its budget: missing, not a regular file, too large, or an I/O error.',
    raisedBy: ['tool'],
    exitCode: 1,
    action: 'The message names the file and why; give a readable regular file.',
  },

  // Live tuning of the risk checks (checks/).
  GH_ERR_INVALID_LIMIT: {
    meaning: 'A limit value is out of range or missing where the scope needs it; nothing was changed.',
    raisedBy: ['gateway'],
    action: 'Give a value in the range the message states (see docs/pre-trade-checks.md).',
  },
  GH_ERR_UNKNOWN_ACCOUNT: {
    meaning: 'A live-tuning request names an account the gateway does not know.',
    raisedBy: ['gateway'],
    action: 'Check the account name, or add the account to the config and reload.',
  },
  GH_ERR_UNKNOWN_APP: {
    meaning: 'A live-tuning request names an AppID the gateway does not know.',
    raisedBy: ['gateway'],
    action: 'Check the AppID, or register it first (`gatehouse admin apps register`).',
  },
  GH_ERR_UNKNOWN_INSTRUMENT: {
    meaning: 'A live-tuning request names an instrument the exchange did not list.',
    raisedBy: ['gateway'],
    action: 'Check the symbol against the exchange\'s instrument list.',
  },
  GH_ERR_RISK_CAPACITY: {
    meaning: 'The shared risk state has no free slot for another account, AppID or instrument.',
    raisedBy: ['gateway'],
    action: 'Raise the capacity in the config and restart the gateway.',
  },

  // Admin socket (supervisor/admin/), as `gatehouse admin` prints them.
  GH_ERR_ADMIN_BAD_REQUEST: {
    meaning: 'An admin request is not valid (shape, types, unknown command or limit name, line too long, not UTF-8, not JSON, a last line with no newline); nothing was changed.',
    raisedBy: ['gateway'],
    exitCode: 1,
    action: 'Fix the request as the message and its issues say; `gatehouse admin --help` lists the commands.',
  },
  GH_ERR_ADMIN_NOT_FOUND: {
    meaning: 'An admin request names an account, AppID, session, fingerprint or instrument that does not exist.',
    raisedBy: ['gateway'],
    exitCode: 1,
    action: 'Check the name; the read-only `gatehouse admin` commands (sessions, apps, counters) show what exists.',
  },
  GH_ERR_ADMIN_REFUSED: {
    meaning: 'An admin change is well-formed but not allowed (a limit value out of range, `inherit` at global scope, an invalid config reload, unbinding an account\'s last AppID, the gateway stopping, too many admin connections); nothing was changed.',
    raisedBy: ['gateway'],
    exitCode: 1,
    action: 'Read the message: it says why and what to change. Nothing was applied.',
  },
  GH_ERR_ADMIN_NOT_RECORDED: {
    meaning: 'An admin change was applied but could not be journaled or persisted.',
    raisedBy: ['gateway'],
    exitCode: 1,
    action: 'The change is live but will not survive a restart and has no audit record: fix the journal or runDir (disk, permissions) and apply it again.',
  },
  // Evidence store (supervisor/evidence/), as `gatehouse admin apps evidence add` prints them.
  GH_ERR_EVIDENCE_TOO_LARGE: {
    meaning: 'A document given to the evidence store is larger than evidence.maxFileBytes; nothing was stored.',
    raisedBy: ['gateway'],
    exitCode: 1,
    action: 'Store a smaller file (e.g. the report without embedded scans), or raise evidence.maxFileBytes in the config and restart.',
  },
  GH_ERR_EVIDENCE_UNREADABLE: {
    meaning: 'A document given to the evidence store cannot be read (missing, not a regular file, an I/O error) or cannot be written under <runDir>/evidence; nothing was recorded.',
    raisedBy: ['gateway'],
    exitCode: 1,
    action: 'Give the path of a regular file the gateway\'s user can read (the gateway reads it, not the CLI), and check that runDir is writable.',
  },

  GH_ERR_ADMIN_SELF_APPROVAL: {
    meaning: 'An operator tried to approve a dual-control request they made themselves; the request stays pending.',
    raisedBy: ['gateway'],
    exitCode: 1,
    action: 'A second, different operator approves it with `gatehouse admin approve REQUEST-ID` (docs/compliance.md, Dual control).',
  },
  GH_ERR_ADMIN_REQUEST_EXPIRED: {
    meaning: 'A dual-control request was approved after its window (compliance.dualControl.windowMs) ran out; nothing was changed.',
    raisedBy: ['gateway'],
    exitCode: 1,
    action: 'Make the change again (a new request) and have it approved within the window.',
  },

  // Compliance tools (tools/compliance/).
  GH_ERR_PACK_VERIFY_FAILED: {
    meaning: '`gatehouse compliance report --verify` found the pack and the journal disagree: a cited record is missing or differs, or a journal record is missing from the pack.',
    raisedBy: ['tool'],
    exitCode: 1,
    action: 'Each problem names the pack item and the record; regenerate the pack from the journal, and find out who changed the copy that failed.',
  },

  // Requests between the gateway's threads (platform/cross-thread.ts).
  GH_ERR_CROSS_THREAD_TIMEOUT: {
    meaning: 'A thread of the gateway did not answer a request in time (the supervisor asking a lane, or a lane asking access control).',
    raisedBy: ['gateway'],
    action: 'The admin command failed, or the logon step was refused (fail closed); nothing is half done by the timeout. If it repeats, the named thread is stuck or overloaded: check the lane-fault events and /metrics, then restart the gateway.',
  },
  GH_ERR_CROSS_THREAD_BUSY: {
    meaning: 'Too many requests to one thread already await replies; the new one was refused unsent.',
    raisedBy: ['gateway'],
    action: 'Retry later. Under a logon flood this refuses logon steps (fail closed) rather than queue without bound.',
  },
  GH_ERR_CROSS_THREAD_CLOSED: {
    meaning: 'A request was made to a thread that has exited or is stopping, or it exited with the request pending.',
    raisedBy: ['gateway'],
    action: 'The lane or gateway is stopping or has failed; see its events (listen-failed, journal-failed) and restart it.',
  },
  GH_ERR_CROSS_THREAD_FAILED: {
    meaning: 'The thread asked could not serve a request: its handler failed, or the request or reply could not be sent.',
    raisedBy: ['gateway'],
    action: 'A bug: report it with the message, which names the request and the thread.',
  },

  // Exchange simulator.
  GH_ERR_SIM_CONFIG: {
    meaning: 'A flag, option or instruments file of the exchange simulator is invalid.',
    raisedBy: ['simulator'],
    exitCode: 2,
    action: 'The message names the flag or field and says what to change; `gatehouse exchange-sim --help` lists the flags.',
  },
  GH_ERR_SIM_START: {
    meaning: 'The embedded exchange simulator exited before it listened.',
    raisedBy: ['gateway'],
    exitCode: 1,
    action: 'Usually the exchange port is in use: set exchange.port to a free port, or stop what holds it.',
  },

  // Cluster (cluster/): the NATS-based scale-out. Each part keeps its codes
  // together under its own heading below: directory, replication, control.
  GH_ERR_NATS_START: {
    meaning: 'nats-server (started for the cluster demo, a test or the benchmark) is not installed or exited before it was ready.',
    raisedBy: ['tool'],
    exitCode: 1,
    action: 'Install Debian\'s nats-server package (`apt-get install nats-server`); the message quotes the server\'s last log lines.',
  },
  // Cluster: account directory.
  GH_ERR_MOVE_NEEDS_KV: {
    meaning: '`accounts move` needs the account directory in NATS KV (cluster.directory.source nats-kv), or the cluster is off.',
    raisedBy: ['gateway'],
    exitCode: 1,
    action: 'With source config, move the account by editing cluster.directory.accounts on every instance and restarting them; or switch the directory to nats-kv.',
  },
  GH_ERR_MOVE_REFUSED: {
    meaning: '`accounts move` was refused before any step: the account is not held by this instance or not configured here, or the target is not in cluster.instances or is this instance.',
    raisedBy: ['gateway'],
    exitCode: 1,
    action: 'Run the move on the instance that holds the account (the message names it), towards an instance listed in cluster.instances.',
  },
  GH_ERR_MOVE_NATS_DOWN: {
    meaning: '`accounts move` needs NATS and it is not connected: nothing was done, or (mid-move) the account stays halted here.',
    raisedBy: ['gateway'],
    exitCode: 1,
    action: 'Bring NATS back (docs/cluster.md, "When NATS or an instance fails") and run the move again.',
  },
  GH_ERR_MOVE_NOT_DRAINED: {
    meaning: 'The account still had working orders when the move\'s drain timeout passed: the move stopped; the account stays halted and homed here.',
    raisedBy: ['gateway'],
    exitCode: 1,
    action: 'Check the exchange link and the account\'s orders (`admin counters`), then run the move again (or set the trading state back).',
  },
  GH_ERR_MOVE_HANDOVER: {
    meaning: 'The target instance did not install the account\'s state or did not resume it (no answer, not configured there, state already there today).',
    raisedBy: ['gateway'],
    exitCode: 1,
    action: 'Read the message: start the target or connect it to NATS, add the account to its config; a failed install leaves the account halted and homed here.',
  },
  GH_ERR_MOVE_REHOME: {
    meaning: 'The account\'s state was handed over but its directory entry could not be written: it is halted, its state is on the target, and it is still homed here.',
    raisedBy: ['gateway'],
    exitCode: 1,
    action: 'Once NATS is back, write the entry (the message names it) or run the move again.',
  },
  // Cluster: journal replication.
  GH_ERR_REPLICA_FETCH: {
    meaning: '`gatehouse journal verify | search | export --nats` could not read the replicated journal: NATS could not be reached, the stream or an --instance is not there, or the fetch ran past --nats-timeout-ms.',
    raisedBy: ['tool'],
    exitCode: 1,
    action: 'Check the --nats URL and --nats-stream (the instances\' cluster.replication.stream), or give a longer --nats-timeout-ms; the message names which.',
  },
  GH_ERR_REPLICA_TOO_LARGE: {
    meaning: 'The replicated journal to fetch is larger than --max-bytes; nothing was read into the tool.',
    raisedBy: ['tool'],
    exitCode: 2,
    action: 'Give a larger --max-bytes (the temporary directory needs that much free space), or read fewer instances with --instance.',
  },
  // Cluster: control fan-out.

  // Client library (client/).
  GH_ERR_CLIENT_OPTIONS: {
    meaning: 'A client call is missing a required option or got an invalid one: a logon needs appId, authCode and terminalInfo, and the client has no defaults; report seqs, order IDs and bounds are whole numbers below 2^53.',
    raisedBy: ['client'],
    action: 'Pass the AppID and AuthCode the broker issued for your software, and the terminal info collected on this machine; fix the argument the message names (docs/protocol.md, the TypeScript client library).',
  },
  GH_ERR_CLIENT_REFUSED: {
    meaning: 'The gateway refused a resend or query request; the error\'s reason is the RejectReason (THROTTLED_QUERY, UNKNOWN_ORDER, INVALID_FIELD, ...), with limit and observed for a throttle.',
    raisedBy: ['client'],
    action: 'Act on the reason (docs/protocol.md, reason codes): for THROTTLED_QUERY wait and ask again at most queriesPerSecond times a second; for UNKNOWN_ORDER check the client_order_id.',
  },
  GH_ERR_CLIENT_NO_ANSWER: {
    meaning: 'A resend or query got no complete answer: the timeout passed or the connection closed before the last page or the ResendComplete.',
    raisedBy: ['client'],
    action: 'Reconnect if the connection closed, then ask again; if answers time out on a live connection, raise the timeout or check the gateway\'s health.',
  },
  GH_ERR_CLIENT_REDIRECT_LOOP: {
    meaning: 'A logon was sent on to another instance (WRONG_INSTANCE) more times than the client follows (3): the instances disagree about which holds the account, or the last one named no endpoint for the lane.',
    raisedBy: ['client'],
    action: 'Tell the broker\'s ops: the cluster\'s account directory is inconsistent while an account moves or the instances\' configs differ; retry in a few seconds.',
  },
  GH_ERR_CLIENT_REDIRECT_ENDPOINT: {
    meaning: 'A WRONG_INSTANCE reply named an endpoint the client does not follow: not a ws:// or wss:// URL.',
    raisedBy: ['client'],
    action: 'Tell the broker\'s ops: cluster.instances.<id>.endpoints in the gateway config must be the ws:// or wss:// URLs clients use.',
  },
  GH_ERR_CLIENT_ANSWER_TOO_LARGE: {
    meaning: 'A resend or query answer brought more entries than the client collects for one answer (maxAnswerEntries, 100,000 by default); the rest was not collected.',
    raisedBy: ['client'],
    action: 'Ask for less: a query for one instrument, or a resend from a later report_seq; or raise maxAnswerEntries when connecting.',
  },

  // Command-line tools.
  GH_ERR_USAGE: {
    meaning: 'A command line is wrong: an unknown or repeated option, a missing or malformed value, a missing argument.',
    raisedBy: ['tool'],
    exitCode: USAGE_EXIT_CODE,
    action: 'Fix the option the message names; `gatehouse <command> --help` lists the options.',
  },
  GH_ERR_ABORTED: {
    meaning: 'The operator ended an interactive prompt (Ctrl-C, or Ctrl-D on an empty line).',
    raisedBy: ['tool'],
    exitCode: 130,
    action: 'Nothing to do; run the command again to finish.',
  },
  GH_ERR_DRILL_SETTINGS: {
    meaning: 'An attack-drill settings file or flag failed validation; each problem names its field.',
    raisedBy: ['tool'],
    exitCode: 2,
    action: 'Fix each field the message lists (see docs/attack-drill.md).',
  },
  GH_ERR_DRILL_TRADER: {
    meaning: 'The attack drill\'s well-behaved trader could not connect or log on, so nothing can be measured.',
    raisedBy: ['tool'],
    exitCode: 1,
    action: 'Check the target URL, the trader identity and instrument the message names, and that the gateway is up.',
  },
} as const satisfies Record<`GH_ERR_${string}`, ErrorCodeInfo>

export type ErrorCode = keyof typeof ERROR_CODES

/** True when `code` is in the registry. */
export function isErrorCode (code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code)
}
