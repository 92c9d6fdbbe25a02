/**
 * A Profanity 0.13 (Debian) user driven through tmux, for interop tests against the loopback
 * Prosody of `tooling/prosody`: an isolated home (XDG config and data, its own GnuPG keyring),
 * an `accounts` file so Profanity logs in with no prompt, and the keys a person would type.
 * Only Node built-ins: any test can import it by path (no package, no dependencies).
 *
 * ```ts
 * const carol = await startProfanity({ jid: 'carol@localhost', password: 'pw', port: server.port })
 * await carol.type('/msg alice@localhost')
 * await carol.waitFor(/alice@localhost/)
 * await carol.stop()
 * ```
 *
 * Each instance has its own tmux server (`tmux -L <socket>`), so nothing is shared with the
 * user's tmux or with other tests, and `stop()` ends exactly that server and removes the home.
 */
import { execFile, spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** True when `profanity`, `tmux` and `gpg` are on PATH (never starts Profanity itself). */
export function profanityInstalled(): boolean {
  return ['profanity', 'tmux', 'gpg'].every(
    (tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0,
  )
}

/** The installation hint every caller prints when something is missing. */
export const PROFANITY_INSTALL_HINT =
  'Profanity, tmux and GnuPG are needed: apt-get install profanity tmux gnupg (Debian/Ubuntu)'

export interface ProfanityInit {
  /** the account's bare JID (`carol@localhost`) */
  readonly jid: string
  readonly password: string
  /** Prosody's client port on 127.0.0.1 */
  readonly port: number
  /** the resource Profanity binds; default `prof` */
  readonly resource?: string
  /** terminal size; default 220 × 60 */
  readonly columns?: number
  readonly rows?: number
}

export interface ProfanityUser {
  readonly jid: string
  /** the user's home: `.config/profanity`, `.local/share/profanity`, `gnupg/` */
  readonly home: string
  /** the user's GnuPG home (what `gpg` of this user reads) */
  readonly gnupgHome: string
  /** Types `line` into Profanity and presses Enter. */
  type(line: string): Promise<void>
  /** The screen and its scrollback as text. */
  screen(): Promise<string>
  /**
   * Waits until the screen shows `pattern` on a line at or after line `since` of the screen's
   * history (see {@link mark}); resolves with the match. Rejects after `ms` with the screen.
   */
  waitFor(pattern: RegExp, ms?: number, since?: number): Promise<RegExpExecArray>
  /** How many lines the screen's history holds now (pass to `waitFor` as `since`). */
  mark(): Promise<number>
  /** Opens (or switches to) the chat window with `jid` (`/msg JID`) and waits until it shows. */
  openChat(jid: string): Promise<void>
  /** Switches to the console window (`/win 1`) and waits until it shows. */
  openConsole(): Promise<void>
  /** Runs `gpg` as this user (batch, no passphrase); resolves with stdout. */
  gpg(args: readonly string[], input?: string | Uint8Array): Promise<string>
  /** Quits Profanity, ends this instance's tmux server and removes the home. Idempotent. */
  stop(): Promise<void>
}

function run(
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  input?: string | Uint8Array,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, [...args], { env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${cmd} ${args.join(' ')}: ${stderr || error.message}`, { cause: error }))
      else resolve(stdout)
    })
    if (input !== undefined) child.stdin?.end(input)
  })
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * Starts Profanity for `init.jid` in a detached tmux session and waits until it is logged in.
 * The account must exist on the server (e.g. `server.register`).
 */
export async function startProfanity(init: ProfanityInit): Promise<ProfanityUser> {
  const home = await mkdtemp(join(tmpdir(), 'vouch-profanity-'))
  const gnupgHome = join(home, 'gnupg')
  await mkdir(gnupgHome, { mode: 0o700 })
  await mkdir(join(home, '.config', 'profanity'), { recursive: true })
  // no roster panel beside the windows: every screen line is the window's own text
  await writeFile(join(home, '.config', 'profanity', 'profrc'), '[ui]\nroster=false\noccupants=false\n')
  await mkdir(join(home, '.local', 'share', 'profanity'), { recursive: true })
  // Profanity 0.13 reads its accounts from $XDG_DATA_HOME/profanity/accounts
  await writeFile(
    join(home, '.local', 'share', 'profanity', 'accounts'),
    [
      `[${init.jid}]`,
      'enabled=true',
      `jid=${init.jid}`,
      'server=127.0.0.1',
      `port=${init.port}`,
      'tls.policy=disable',
      `password=${init.password}`,
      `resource=${init.resource ?? 'prof'}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  )
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    GNUPGHOME: gnupgHome,
    TERM: 'xterm-256color',
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
  }
  const socket = `vouch-prof-${process.pid}-${Math.random().toString(36).slice(2, 10)}`
  const tmux = (args: readonly string[]): Promise<string> => run('tmux', ['-L', socket, ...args], env)
  await tmux([
    'new-session',
    '-d',
    '-s',
    'prof',
    '-x',
    String(init.columns ?? 220),
    '-y',
    String(init.rows ?? 60),
    `profanity -a ${init.jid}`,
  ])
  await tmux(['set-option', '-t', 'prof', 'history-limit', '20000'])

  /** The window's text lines: the scrollback and the pane above the status bar (`[hh:mm] jid`). */
  const lines = async (): Promise<string[]> => {
    const text = await tmux(['capture-pane', '-p', '-J', '-t', 'prof', '-S', '-20000'])
    const all = text.split('\n').map((l) => l.trimEnd())
    let status = all.length
    for (let i = all.length - 1; i >= 0; i--)
      if (/^ \[\d\d:\d\d\] /.test(all[i] ?? '')) {
        status = i
        break
      }
    const content = all.slice(0, status)
    // the blank rows below the text are not part of it
    while (content.length > 0 && content.at(-1) === '') content.pop()
    return content
  }
  const screen = async (): Promise<string> => `${(await lines()).join('\n')}\n`
  let stopped = false
  const user: ProfanityUser = {
    jid: init.jid,
    home,
    gnupgHome,
    async type(line) {
      await tmux(['send-keys', '-t', 'prof', '-l', line])
      await tmux(['send-keys', '-t', 'prof', 'Enter'])
    },
    screen,
    async mark() {
      // a line scrolling off the pane passes the title bar: one line of margin
      return Math.max(0, (await lines()).length - 1)
    },
    async waitFor(pattern, ms = 15_000, since = 0) {
      const until = Date.now() + ms
      let last = ''
      for (;;) {
        const all = await lines()
        last = `${all.join('\n')}\n`
        const m = pattern.exec(all.slice(since).join('\n'))
        if (m !== null) return m
        if (Date.now() > until)
          throw new Error(`Profanity (${init.jid}) did not show ${pattern} within ${ms} ms; screen:\n${last}`)
        await sleep(100)
      }
    },
    async openChat(jid) {
      await user.type(`/msg ${jid}`)
      await user.waitFor(new RegExp(`^ ${jid.replace(/[.]/g, '\\.')} `, 'm'), 10_000)
    },
    async openConsole() {
      await user.type('/win 1')
      await user.waitFor(/^ Profanity\. /m, 10_000)
    },
    gpg: (args, input) =>
      run(
        'gpg',
        ['--batch', '--yes', '--pinentry-mode', 'loopback', '--passphrase', '', ...args],
        env,
        input,
      ),
    async stop() {
      if (stopped) return
      stopped = true
      await tmux(['send-keys', '-t', 'prof', '/quit', 'Enter']).catch(() => undefined)
      await sleep(200)
      await tmux(['kill-server']).catch(() => undefined)
      // gpg-agent of this home, if gpg started one
      await run('gpgconf', ['--kill', 'gpg-agent'], env).catch(() => undefined)
      await rm(home, { recursive: true, force: true })
    },
  }
  try {
    await user.waitFor(/logged in successfully/, 15_000)
  } catch (e) {
    await user.stop()
    throw e
  }
  return user
}

/**
 * Profanity's OX setup as its manual asks (`man profanity-ox-setup`): a key with user id
 * `xmpp:<jid>` made by `gpg --quick-generate-key … future-default`, exported minimal with only
 * that user id, announced with `/ox announce FILE`. `armor: true` exports it with `--armor`, which
 * Profanity then publishes as Base64 of the armored text. Resolves with the key's fingerprint.
 */
export async function setUpOx(
  user: ProfanityUser,
  options: { readonly armor?: boolean } = {},
): Promise<string> {
  await user.gpg(['--quick-generate-key', `xmpp:${user.jid}`, 'future-default', 'default', 'never'])
  const colons = await user.gpg(['--list-keys', '--with-colons', `xmpp:${user.jid}`])
  const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(colons)?.[1]
  if (fpr === undefined) throw new Error(`no key for xmpp:${user.jid}: ${colons}`)
  const file = join(user.home, options.armor === true ? 'pep-key.asc' : 'pep-key.gpg')
  await user.gpg([
    ...(options.armor === true ? ['--armor'] : []),
    '--export',
    '--export-options',
    'export-minimal',
    '--export-filter',
    `keep-uid=uid =~ xmpp:${user.jid}`,
    '--export-filter',
    'drop-subkey=usage =~ a',
    '--output',
    file,
    fpr,
  ])
  const since = await user.mark()
  await user.type(`/ox announce ${file}`)
  await user.waitFor(/Announce OpenPGP Key for OX/, 10_000, since)
  return fpr
}
