// `gatehouse ...` as its own process, for tests of the CLI: its exit code
// and everything it wrote.
export { runCli, type CliRun } from '../../platform/cli-process.js'
