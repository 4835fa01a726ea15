// Tunables of the exchange simulator. Each is a default the options of
// ExchangeSimulator may override; the names carry their units.

/** Default TCP port of `gatehouse exchange-sim` (tests and the embedded default use port 0). */
export const DEFAULT_SIM_PORT = 7090

/** Default listen address: loopback, because the link protocol has no TLS. */
export const DEFAULT_SIM_HOST = '127.0.0.1'

/**
 * Reports kept per link session name for resend on reconnect. A power of
 * two so the ring is indexed with a mask. At ~40 bytes per report object
 * plus its slot this bounds a session's history near 10 MiB; a gateway
 * that asks for anything older is told what was lost (see exchange-sim.ts).
 */
export const RESEND_HISTORY_CAPACITY = 131_072

/** Encoded frames are batched per connection and written once per event-loop turn, or inline at this size. */
export const FLUSH_THRESHOLD_BYTES = 65_536

/**
 * A consumer this far behind (bytes queued for its socket and not yet
 * taken by the kernel) is dropped: its reports stay in the session history
 * and are resent when it reconnects, so dropping loses nothing.
 */
export const MAX_BEHIND_BYTES = 16 * 1024 * 1024

/** A connection silent for this many heartbeat intervals is closed. */
export const HEARTBEAT_TIMEOUT_INTERVALS = 3

/** Floor of the heartbeat check period, so a tiny interval cannot spin the loop. */
export const MIN_HEARTBEAT_CHECK_MS = 5

/** How long a closing connection may take to finish its FIN exchange before it is destroyed. */
export const CLOSE_GRACE_MS = 1_000

/** Order-record lines are batched and written at this size or once per event-loop turn. */
export const RECORD_FLUSH_THRESHOLD_BYTES = 65_536

/** A connection that has not logged on within this time is closed. */
export const LOGON_TIMEOUT_MS = 10_000

/**
 * Member accounts the matching engine keeps a position book for at once
 * (one block of 8 float64s per listed instrument each: with the default
 * listing about 450 bytes, so ~5 MiB at the cap). An order from one more
 * account is refused with EXCHANGE_REJECTED; accounts left flat give up
 * their slot at the trading-day roll.
 */
export const DEFAULT_MAX_ACCOUNTS = 10_000
