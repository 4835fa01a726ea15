// Why a listener could not bind, as one line naming the config field to
// change. uWebSockets.js only says that listen failed, not why, so the
// cause is asked of the kernel again with a node:net listener on the same
// address (no SO_REUSEPORT, so a port held by anyone is refused). No uWS
// here: the exchange simulator uses it too.
import { createServer } from 'node:net'

/** The config fields (or flags) a listener's address comes from, e.g. lanes.platform.host and lanes.platform.port. */
export interface ListenFields {
  host: string
  port: string
}

/** The fields of a config section with host and port: `ops` gives ops.host and ops.port. */
export const sectionFields = (section: string): ListenFields => ({ host: `${section}.host`, port: `${section}.port` })

/** The one-line reason for a failed bind with this errno code. */
export function listenFailureText (fields: ListenFields, host: string, port: number, code: string | undefined): string {
  switch (code) {
    case 'EADDRINUSE':
      return `${fields.port} ${port} is in use (another gatehouse?); pick a free port or stop the other process`
    case 'EADDRNOTAVAIL':
      return `${fields.host} "${host}" is not an address of this machine; use one of its addresses (0.0.0.0 for all)`
    case 'EACCES':
      return `${fields.port} ${port} may not be bound by this user (ports below 1024 need privileges); pick a port from 1024 up`
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${fields.host} "${host}" does not resolve to an address; use an IP address or a name this machine resolves`
    default:
      return `${fields.port} ${port} on ${fields.host} "${host}" could not be bound (${code ?? 'no reason given'})`
  }
}

/**
 * Binds host:port with node:net and closes it again: undefined when the
 * bind worked, else the errno code (EADDRINUSE, EADDRNOTAVAIL, ...). Used
 * after a failed listen and by `gatehouse doctor` before one.
 */
export function probeListen (host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const probe = createServer()
    probe.once('error', (err: NodeJS.ErrnoException) => { resolve(err.code ?? 'EUNKNOWN') })
    probe.listen({ host, port, exclusive: true }, () => {
      probe.close(() => { resolve(undefined) })
    })
  })
}

/** Binds host:port once more with node:net to learn why the listener could not, and says so in one line. */
export async function explainListenFailure (fields: ListenFields, host: string, port: number): Promise<string> {
  const code = await probeListen(host, port)
  return code === undefined
    ? `${fields.port} ${port} on ${fields.host} "${host}" could not be bound, but was free when checked again (another process held it for a moment?); start again`
    : listenFailureText(fields, host, port, code)
}
