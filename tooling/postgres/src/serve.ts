/**
 * `pnpm postgres`: a throwaway PostgreSQL on loopback for trying `vouch simulate --store
 * postgres://…` or a service by hand. Prints the URL, keeps running until Ctrl-C (or SIGTERM),
 * then stops the server and removes its temporary data directory.
 */
import { POSTGRES_INSTALL_HINT, postgresInstalled, startPostgres } from './index.ts'

if (!postgresInstalled()) {
  process.stderr.write(`${POSTGRES_INSTALL_HINT}\n`)
  process.exit(1)
}
const durable = process.argv.includes('--durable')
const server = await startPostgres({ durable })
const url = await server.createDatabase('vouch')
process.stdout.write(
  `PostgreSQL is running at ${url} (data in ${server.dir}${durable ? '' : ', fsync off'}).\n` +
    `Try: pnpm vouch simulate --store ${url}\n` +
    'Press Ctrl-C to stop it (its data is deleted).\n',
)
// pg_ctl runs the server detached: nothing else keeps this process (and so the server) alive
const keepAlive = setInterval(() => {}, 1 << 30)
let stopping = false
const stop = async (): Promise<void> => {
  if (stopping) return
  stopping = true
  clearInterval(keepAlive)
  await server.stop()
  process.exit(0)
}
process.on('SIGINT', () => void stop())
process.on('SIGTERM', () => void stop())
process.on('SIGHUP', () => void stop())
