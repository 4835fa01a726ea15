// One zod issue as one line, "path: what to change", for every place that
// validates with zod and reports to a person: the gateway config, the
// admin socket's requests, the drill's settings. None quotes the value
// that was sent (it may be a secret).
import type { z } from 'zod'

export interface IssueStyle {
  /** What the path reads when the issue is about the whole document, e.g. "(top level)", "(request)". */
  topLevel: string
  /** Drop zod's "Invalid input: " lead-in, for messages already prefixed with a path. */
  dropInvalidInputPrefix?: boolean
  /** A more helpful text for unknown keys at some path (e.g. listing the valid names); undefined for the usual text. */
  describeUnknownKeys?: (issue: z.core.$ZodIssue & { code: 'unrecognized_keys' }, keys: string) => string | undefined
}

export function formatZodIssue (issue: z.core.$ZodIssue, style: IssueStyle): string {
  const path = issue.path.length === 0 ? style.topLevel : issue.path.map(String).join('.')
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => `"${k}"`).join(', ')
    const special = style.describeUnknownKeys?.(issue, keys)
    if (special !== undefined) return `${path}: ${special}`
    return `${path}: unknown field${issue.keys.length > 1 ? 's' : ''} ${keys}; remove it or check its spelling`
  }
  if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) return `${path}: is required (expected ${issue.expected})`
  return `${path}: ${style.dropInvalidInputPrefix === true ? issue.message.replace(/^Invalid input: /, '') : issue.message}`
}
