// `gatehouse hash-password`: turns a password into the scrypt hash that
// accounts[].passwordHash holds, so no password is ever stored in config.
import { hashPassword, SCRYPT_PARAMS } from './password-hash.js'

const HELP = `usage: gatehouse hash-password

Reads a password from standard input (one line) and prints its scrypt hash
(N=${SCRYPT_PARAMS.N}, r=${SCRYPT_PARAMS.r}, p=${SCRYPT_PARAMS.p}) for accounts[].passwordHash.

  echo -n 'the-password' | gatehouse hash-password
`

export async function runHashPasswordCommand (argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(HELP)
    return 0
  }
  if (argv.length > 0) {
    process.stderr.write(`gatehouse hash-password: unexpected argument "${argv[0]}"; the password is read from standard input\n\n${HELP}`)
    return 2
  }
  let input = ''
  for await (const chunk of process.stdin) input += String(chunk)
  const password = input.replace(/\r?\n$/, '')
  if (password.length < 8) {
    process.stderr.write('gatehouse hash-password: the password must be at least 8 characters\n')
    return 2
  }
  process.stdout.write(hashPassword(password) + '\n')
  return 0
}
