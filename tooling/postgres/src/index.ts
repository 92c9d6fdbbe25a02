/**
 * @packageDocumentation
 * `@vouch/postgres-tooling`: throwaway PostgreSQL clusters on loopback for tests, benchmarks and
 * `pnpm postgres`. Each {@link startPostgres} call runs Debian's `initdb` (trust authentication)
 * into a fresh temporary directory, starts the server with `pg_ctl` on a free port of 127.0.0.1
 * (its Unix socket in that directory, never the system cluster or `/var/run/postgresql`), and
 * {@link PostgresServer.stop} stops it and removes the directory. PostgreSQL refuses to run as
 * root, so as root every server command runs as the `postgres` user (`runuser -u postgres`), and
 * the directory is handed to that user.
 *
 * Nothing here needs a Node driver: databases are created with the cluster's own `psql`.
 */
import { execFile, execFileSync, spawn } from 'node:child_process'
import { accessSync, chownSync, constants as fsConstants, readdirSync, rmSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Where Debian's `postgresql-NN` packages put the server binaries. */
const DEBIAN_ROOT = '/usr/lib/postgresql'

/** The installation hint every caller prints when PostgreSQL is missing. */
export const POSTGRES_INSTALL_HINT =
  'PostgreSQL is not installed: apt-get install postgresql (Debian/Ubuntu; server binaries in ' +
  '/usr/lib/postgresql/NN/bin), or set VOUCH_POSTGRES_BIN to a directory holding initdb, pg_ctl and psql'

function executable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK)
    return true
  } catch {
    return false
  }
}

/**
 * The directory with `initdb`, `pg_ctl` and `psql`: `$VOUCH_POSTGRES_BIN` if set, else the
 * newest `/usr/lib/postgresql/NN/bin`; `undefined` when there is none.
 */
export function findPostgresBin(): string | undefined {
  const has = (dir: string) => ['initdb', 'pg_ctl', 'psql'].every((b) => executable(join(dir, b)))
  const given = process.env.VOUCH_POSTGRES_BIN
  if (given !== undefined && given !== '') return has(given) ? given : undefined
  let versions: string[]
  try {
    versions = readdirSync(DEBIAN_ROOT).filter((v) => /^\d+$/.test(v))
  } catch {
    return undefined
  }
  for (const v of versions.sort((a, b) => Number(b) - Number(a))) {
    const dir = join(DEBIAN_ROOT, v, 'bin')
    if (has(dir)) return dir
  }
  return undefined
}

/** True when the PostgreSQL server binaries are installed (see {@link findPostgresBin}). */
export function postgresInstalled(): boolean {
  return findPostgresBin() !== undefined
}

export interface PostgresServer {
  /** always `127.0.0.1` */
  readonly host: string
  readonly port: number
  /** the superuser (trust authentication: no password) */
  readonly user: string
  /** the temporary directory: `data/`, the server log, the Unix socket */
  readonly dir: string
  /** `postgres://postgres@127.0.0.1:PORT/postgres` */
  readonly url: string
  /** The URL of database `name` on this server. */
  urlFor(database: string): string
  /** Creates a database (a fresh name unless given) and returns its URL. */
  createDatabase(name?: string): Promise<string>
  /** Runs SQL with `psql` (as the superuser, `ON_ERROR_STOP`) and returns its unaligned output. */
  psql(sql: string, database?: string): Promise<string>
  /** The server log so far (for failure messages). */
  log(): Promise<string>
  /** Stops the server (fast shutdown), waits for it and removes {@link dir}. Idempotent. */
  stop(): Promise<void>
}

export interface StartPostgresOptions {
  /**
   * `true`: PostgreSQL's defaults (`fsync`, `synchronous_commit`, full page writes), for
   * benchmarks that compare durable commits. Default `false`: no fsync, which a throwaway test
   * cluster does not need.
   */
  readonly durable?: boolean
  /** more `-c name=value` server settings */
  readonly settings?: Readonly<Record<string, string | number>>
  /** how long to wait for `initdb` and for the server to accept connections, in ms; default 60,000 */
  readonly timeoutMs?: number
  /**
   * Stop the server and remove its directory when this process exits normally (an `exit`
   * handler, synchronous). Default `true`. Signals are the caller's: `pnpm postgres` stops on
   * SIGINT/SIGTERM.
   */
  readonly stopOnExit?: boolean
  /**
   * A detached watchdog (`sh`) that stops the server and removes its directory once this process
   * is gone, however it ended (SIGKILL, a test runner killing its workers). Default `true`.
   */
  readonly watchdog?: boolean
}

/** Asks the kernel for a free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

interface RunAs {
  /** command and arguments that run `argv` as the cluster's owner */
  wrap(argv: readonly string[]): [string, string[]]
  /** uid/gid the directory must belong to, or undefined when we are that user */
  readonly owner: { readonly uid: number; readonly gid: number } | undefined
}

function idOf(user: string, flag: '-u' | '-g'): number {
  return Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim())
}

/** As root: `runuser -u postgres -- …`; as anyone else: the command itself. */
function runAs(): RunAs {
  const root = typeof process.getuid === 'function' && process.getuid() === 0
  if (!root) return { wrap: ([cmd, ...args]) => [cmd as string, args], owner: undefined }
  let owner: { uid: number; gid: number }
  try {
    owner = { uid: idOf('postgres', '-u'), gid: idOf('postgres', '-g') }
  } catch (e) {
    throw new Error('running as root needs the "postgres" user (the Debian package creates it)', { cause: e })
  }
  return { wrap: (argv) => ['runuser', ['-u', 'postgres', '--', ...argv]], owner }
}

function exec(
  cmd: string,
  args: readonly string[],
  timeoutMs: number,
  env?: NodeJS.ProcessEnv,
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env: env ?? process.env },
      (error, stdout, stderr) => {
        if (error)
          reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr || error.message}`, { cause: error }))
        else resolve(stdout)
      },
    )
  })
}

async function readOr(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch {
    return ''
  }
}

let databases = 0

/**
 * Creates and starts a throwaway cluster. Rejects when PostgreSQL is not installed, or `initdb`
 * or the start fails (with the tail of the server log in the message).
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const bin = findPostgresBin()
  if (bin === undefined) throw new Error(POSTGRES_INSTALL_HINT)
  const timeoutMs = options.timeoutMs ?? 60_000
  const as = runAs()
  const dir = await mkdtemp(join(tmpdir(), 'vouch-postgres-'))
  const data = join(dir, 'data')
  const logFile = join(dir, 'server.log')
  const removeDir = () => {
    watchdog?.kill()
    rmSync(dir, { recursive: true, force: true })
  }
  if (as.owner !== undefined) chownSync(dir, as.owner.uid, as.owner.gid)
  // A clean environment for the server tools: no PG* variables of the caller leak in.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
  }
  const run = (argv: readonly string[]) => {
    const [cmd, args] = as.wrap(argv)
    return exec(cmd, args, timeoutMs, env)
  }
  // the watchdog first: a process killed during initdb or the start leaves nothing either
  let watchdog: { kill(): void } | undefined
  if (options.watchdog !== false) {
    const [cmd, args] = as.wrap([join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop'])
    const quote = (x: string) => `'${x.replace(/'/g, `'\\''`)}'`
    const script =
      `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ` +
      `${[cmd, ...args].map(quote).join(' ')} >/dev/null 2>&1; rm -rf ${quote(dir)}`
    const child = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore', env })
    child.unref()
    watchdog = { kill: () => child.kill('SIGKILL') }
  }
  try {
    await run([join(bin, 'initdb'), '-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync'])
  } catch (e) {
    removeDir()
    throw e
  }
  const settings: Record<string, string | number> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dir,
    max_connections: 200,
    ...(options.durable === true ? {} : { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' }),
    ...options.settings,
  }
  let port = 0
  let started = false
  for (let attempt = 0; attempt < 3 && !started; attempt++) {
    port = await freePort()
    const serverOptions = [`-p ${port}`, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`)].join(
      ' ',
    )
    try {
      await run([
        join(bin, 'pg_ctl'),
        '-D',
        data,
        '-l',
        logFile,
        '-w',
        '-t',
        String(Math.ceil(timeoutMs / 1000)),
        '-o',
        serverOptions,
        'start',
      ])
      started = true
    } catch (e) {
      const log = await readOr(logFile)
      // another process took the port between freePort() and the start: try another one
      if (attempt < 2 && /could not bind|Address already in use/.test(log)) continue
      removeDir()
      throw new Error(`PostgreSQL did not start: ${(e as Error).message}\n${log.slice(-2000)}`, { cause: e })
    }
  }

  const host = '127.0.0.1'
  const user = 'postgres'
  const urlFor = (database: string) => `postgres://${user}@${host}:${port}/${encodeURIComponent(database)}`
  const psql = (sql: string, database = 'postgres') =>
    exec(
      join(bin, 'psql'),
      [
        '-h',
        host,
        '-p',
        String(port),
        '-U',
        user,
        '-d',
        database,
        '-v',
        'ON_ERROR_STOP=1',
        '-X',
        '-A',
        '-t',
        '-q',
        '-c',
        sql,
      ],
      timeoutMs,
      env,
    )

  let stopped = false
  const stopSync = () => {
    if (stopped) return
    stopped = true
    watchdog?.kill()
    try {
      const [cmd, args] = as.wrap([join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop'])
      execFileSync(cmd, args, { stdio: 'ignore', timeout: 30_000, env })
    } catch {
      // already down
    }
    removeDir()
  }
  if (options.stopOnExit !== false) process.once('exit', stopSync)

  return {
    host,
    port,
    user,
    dir,
    url: urlFor('postgres'),
    urlFor,
    async createDatabase(name?: string): Promise<string> {
      const db = name ?? `vouch_${process.pid}_${++databases}`
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(db)) throw new RangeError(`database name ${JSON.stringify(db)}`)
      await psql(`create database ${db}`)
      return urlFor(db)
    },
    psql,
    log: () => readOr(logFile),
    async stop(): Promise<void> {
      if (stopped) return
      stopped = true
      watchdog?.kill()
      process.removeListener('exit', stopSync)
      try {
        await run([join(bin, 'pg_ctl'), '-D', data, '-m', 'fast', '-w', 'stop'])
      } catch {
        // already down
      }
      await rm(dir, { recursive: true, force: true })
    },
  }
}
