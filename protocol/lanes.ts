// The three access models, each on its own lane. The names are part of the
// wire (LogonReply.lane) and of the journal (one stream per lane), so they
// live with the protocol rather than with the config that enables them.
export const LANE_NAMES = ['terminal', 'platform', 'hft'] as const
export type LaneName = typeof LANE_NAMES[number]
