/**
 * `pnpm prosody`: a throwaway Prosody on loopback for people trying the `vouch` CLI by hand.
 * Prints the `--service` address to use, keeps running until Ctrl-C, SIGTERM or SIGHUP, then
 * stops the server and removes its temporary data directory. The root script runs it with `exec`
 * so that a `kill` of `pnpm prosody` reaches this process (pnpm signals its shell only), and it
 * also stops when whoever started it is gone (its parent process changed: tsx was killed).
 */
import { PROSODY_INSTALL_HINT, prosodyInstalled, startProsody } from './index.ts'

if (!prosodyInstalled()) {
  process.stderr.write(`${PROSODY_INSTALL_HINT}\n`)
  process.exit(1)
}
const server = await startProsody()
process.stdout.write(
  `Prosody is running for the domain "${server.domain}" at ${server.service} (data in ${server.dir}).\n` +
    `Register accounts with: VOUCH_PASSWORD=… pnpm vouch account register alice@${server.domain} --service ${server.service}\n` +
    'Press Ctrl-C (or send SIGTERM) to stop it (its data is deleted).\n',
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
process.on('SIGHUP', () => void stop())
const parent = process.ppid
setInterval(() => {
  if (process.ppid !== parent) void stop()
}, 500).unref()
