#!/usr/bin/env node
// `gatehouse`: the one command of the package. Each subcommand lives in its
// own module and is loaded only when asked for, so `gatehouse exchange-sim`
// never loads uWebSockets.js and `gatehouse demo` never starts a server.
import process from 'node:process'
import { EXIT_FAILED, EXIT_OK, processIo, runSubcommand, subcommandUsage, type Subcommand } from '../platform/cli-kit.js'
import { packageVersion } from '../platform/package-version.js'

const subcommands: Record<string, Subcommand> = {
  start: {
    summary: 'run the gateway (embedded defaults and exchange simulator unless --config says otherwise)',
    run: async (argv) => (await import('./start-command.js')).runStartCommand(argv),
  },
  'exchange-sim': {
    summary: 'run the exchange simulator on its own (speaks the link protocol)',
    run: async (argv) => (await import('../exchange-sim/main.js')).runExchangeSimCommand(argv),
  },
  'hash-password': {
    summary: 'print the scrypt hash of a password read from stdin, for accounts[].passwordHash',
    run: async (argv) => (await import('./hash-password-command.js')).runHashPasswordCommand(argv),
  },
  admin: {
    summary: 'tune a running gateway over its admin socket: limits, kill switch, sessions, AppIDs, reload',
    run: async (argv) => (await import('./admin-command.js')).runAdminCommand(argv),
  },
  journal: {
    summary: 'compliance tools over the retention journal: verify, search, export, replay',
    run: async (argv) => (await import('../tools/journal/journal-command.js')).runJournalCommand(argv),
  },
  compliance: {
    summary: 'the regulator pack: external systems, accounts, programmatic reports, incidents, with journal citations',
    run: async (argv) => (await import('../tools/compliance/compliance-command.js')).runComplianceCommand(argv),
  },
  demo: {
    summary: 'log on through a running gateway, trade, cancel, and print each step',
    run: async (argv) => (await import('../client/demo.js')).runDemoCommand(argv),
  },
  'cluster-demo': {
    summary: 'start nats-server, the simulator and two gateway instances; redirect, trade on both, global kill switch, verify from JetStream',
    run: async (argv) => (await import('../tools/cluster-demo/cluster-demo-command.js')).runClusterDemoCommand(argv),
  },
  certify: {
    summary: 'run the published conformance suite against a test environment as one AppID; JSON and HTML report',
    run: async (argv) => (await import('../tools/certify/certify-command.js')).runCertifyCommand(argv),
  },
  doctor: {
    summary: 'check this host and a config before start: ports, TLS certificates, journal disk, clock, Node ABI and glibc',
    run: async (argv) => (await import('../tools/doctor/doctor-command.js')).runDoctorCommand(argv),
  },
  drill: {
    summary: 'run attack scenarios against a gateway while a well-behaved session trades; PASS/FAIL per scenario',
    run: async (argv) => (await import('../tools/drill/drill-command.js')).runDrillCommand(argv),
  },
}

const table = { command: 'gatehouse', noun: 'command', subcommands }

/**
 * Bare `gatehouse` is a new user asking what there is, not a mistake:
 * the usage, exit 0 (a subcommand with no name of its own, such as
 * `gatehouse journal`, still refuses). --version prints the package's.
 */
async function runGatehouse (argv: string[]): Promise<number> {
  if (argv.length === 0) {
    processIo.out(subcommandUsage(table) + 'Run `gatehouse --version` for the version.\n')
    return EXIT_OK
  }
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    processIo.out(`gatehouse ${packageVersion()}\n`)
    return EXIT_OK
  }
  return runSubcommand(processIo, table, argv, { helpWord: true })
}

runGatehouse(process.argv.slice(2)).then((code) => {
  // Long-running commands (start, exchange-sim) resolve only at shutdown.
  process.exitCode = code
}, (err: unknown) => {
  // Every expected failure is answered by its command in one line; this is
  // for the rest, still one line unless GATEHOUSE_DEBUG asks for the stack.
  const detail = err instanceof Error ? (process.env.GATEHOUSE_DEBUG === undefined ? err.message : err.stack ?? err.message) : String(err)
  processIo.err(`gatehouse: ${detail}${process.env.GATEHOUSE_DEBUG === undefined ? ' (set GATEHOUSE_DEBUG=1 for the stack trace)' : ''}\n`)
  process.exitCode = EXIT_FAILED
})
