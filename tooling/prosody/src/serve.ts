/**
 * `pnpm prosody`: a throwaway Prosody on loopback for people trying the `vouch` CLI by hand.
 * Prints the `--service` address to use, keeps running until Ctrl-C (or SIGTERM), then stops
 * the server and removes its temporary data directory.
 */
import { PROSODY_INSTALL_HINT, prosodyInstalled, startProsody } from './index.ts'

if (!prosodyInstalled()) {
  process.stderr.write(`${PROSODY_INSTALL_HINT}\n`)
  process.exit(1)
}
const server = await startProsody()
process.stdout.write(
  `Prosody is running for the domain "${server.domain}" at ${server.service} (data in ${server.dir}).\n` +
    `Register accounts with: pnpm vouch account register alice@${server.domain} --service ${server.service} --password …\n` +
    'Press Ctrl-C to stop it (its data is deleted).\n',
)
let stopping = false
const stop = async (): Promise<void> => {
  if (stopping) return
  stopping = true
  await server.stop()
  process.exit(0)
}
process.on('SIGINT', () => void stop())
process.on('SIGTERM', () => void stop())
