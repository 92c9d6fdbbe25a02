/**
 * Issue 14 point 6: the published packages as an outside project gets them. Every published
 * package is built, packed with `pnpm pack` (publishConfig applied, `workspace:` ranges replaced),
 * checked as a tarball (no `.tsbuildinfo`, LICENSE and README inside, publint with no warning,
 * attw's ESM-only profile with no problem), and installed with pnpm into a fresh project in the
 * system temp folder, outside the workspace (pnpm's strict layout: an undeclared dependency fails
 * there). Each README's quick start is then typechecked (node16 and bundler resolution, library
 * checks on), run with `node`, bundled by esbuild with `platform: 'browser'` and run in Debian's
 * Chromium. Third-party packages come from pnpm's store (the workspace install filled it), the
 * registry only for what is missing. `VOUCH_CONSUMER_INSTALL=0` skips it, visibly.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { promisify } from 'node:util'
import { gzipSync } from 'node:zlib'
import { checkPackage, createPackageFromTarballData } from '@arethetypeswrong/core'
import { CHROMIUM_ARGS, CHROMIUM_MISSING, CHROMIUM_PATH, chromiumAvailable } from '@vouch/browser-tests'
import {
  POSTGRES_INSTALL_HINT,
  type PostgresServer,
  postgresInstalled,
  startPostgres,
} from '@vouch/postgres-tooling'
import { findProsody, PROSODY_INSTALL_HINT, type ProsodyServer, startProsody } from '@vouch/prosody-tooling'
import { build, type Plugin, transform } from 'esbuild'
import { type Browser, chromium } from 'playwright-core'
import { publint } from 'publint'
import { formatMessage } from 'publint/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  manifestProblems,
  PLANS,
  publishedPackages,
  type PublishedPackage,
  ROOT,
  readQuickStart,
} from '../src/index.ts'

const run = promisify(execFile)
const SKIP = process.env.VOUCH_CONSUMER_INSTALL === '0'
if (SKIP) console.warn('VOUCH_CONSUMER_INSTALL=0: the consumer-install test is skipped')

/** The third-party packages the quick starts use, at the versions the workspace tests with. */
const THIRD_PARTY: Readonly<Record<string, string>> = {
  'better-sqlite3': '12.11.1',
  openpgp: '6.3.2',
  '@xmpp/client': '0.14.0',
  '@types/node': '20.19.43',
  '@types/better-sqlite3': '7.6.13', // the store-sqlite quick start opens its own Database
  pg: '8.23.1', // the store-postgres quick start makes its own pool
  '@types/pg': '8.23.1',
  vitest: '4.1.12', // runs the compliance quick start (a test file)
}

/**
 * `@xmpp/client` 0.14.0's `@xmpp/resolve` imports `node:dns` from `lib/dns.js`, which its
 * `browser` field (`./lib/dns`) does not map for esbuild; with `service` given it is never
 * called, so an empty module stands in (the @vouch/xmpp README shows the same plugin).
 */
const nodeDnsStub: Plugin = {
  name: 'node-dns-stub',
  setup(b) {
    b.onResolve({ filter: /^node:dns$/ }, () => ({ path: 'node:dns', namespace: 'stub' }))
    b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({ contents: 'export default {}' }))
  },
}

const packages = publishedPackages()
const slug = (name: string): string => name.replace(/^@vouch\//, '')
const quickStartFile = (name: string): string =>
  PLANS[name]?.runner === 'vitest' ? `${slug(name)}.test.ts` : `${slug(name)}.ts`

describe.skipIf(SKIP)('consumer install (issue 14 point 6)', () => {
  let work = ''
  const tarballs = new Map<string, string>()
  const quickStarts = new Map<string, string>()

  beforeAll(async () => {
    const t0 = performance.now()
    const lap = (what: string) => console.log(`${what}: ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    work = mkdtempSync(join(tmpdir(), 'vouch-consumer-'))
    mkdirSync(join(work, 'tarballs'))
    mkdirSync(join(work, 'qs'))
    // dist of every published package (incremental: cheap after `pnpm typecheck`)
    await run('pnpm', ['exec', 'tsc', '-b', ...packages.map((p) => join(ROOT, p.dir))], { cwd: ROOT })
    lap('built')
    // one pnpm process packs them all (publishConfig applied, workspace: ranges replaced)
    await run(
      'pnpm',
      ['-r', '--filter', './packages/*', 'pack', '--pack-destination', join(work, 'tarballs')],
      {
        cwd: ROOT,
      },
    )
    for (const p of packages) {
      const file = `${p.name.replace(/^@/, '').replace('/', '-')}-${String(p.manifest.version)}.tgz`
      tarballs.set(p.name, join(work, 'tarballs', file))
    }
    lap('packed')
    const file = (name: string) => `file:${tarballs.get(name)}`
    const ours = Object.fromEntries(packages.map((p) => [p.name, file(p.name)]))
    writeFileSync(
      join(work, 'package.json'),
      JSON.stringify(
        {
          name: 'vouch-consumer',
          private: true,
          type: 'module',
          dependencies: { ...ours, ...THIRD_PARTY },
          // the tarballs depend on each other by version: point those at the tarballs too
          pnpm: { overrides: ours, onlyBuiltDependencies: ['better-sqlite3', 'esbuild'] },
        },
        null,
        2,
      ),
    )
    // pnpm's store and metadata cache first (the workspace install filled them), the registry if not
    const install = (mode: string) => run('pnpm', ['install', mode, '--reporter=silent'], { cwd: work })
    await install('--offline').catch(() => install('--prefer-offline'))
    lap('installed')
    for (const p of packages) {
      const readme = join(ROOT, p.dir, 'README.md')
      const qs = existsSync(readme) ? readQuickStart(readFileSync(readme, 'utf8')) : undefined
      if (qs === undefined) continue
      quickStarts.set(p.name, qs)
      writeFileSync(join(work, 'qs', quickStartFile(p.name)), qs)
    }
  }, 300_000)

  afterAll(() => {
    if (work !== '' && process.env.VOUCH_CONSUMER_KEEP !== '1') rmSync(work, { recursive: true, force: true })
  })

  it('every published manifest has repository, engines, sideEffects, a license and LICENSE, no build info', () => {
    const problems = packages.flatMap((p) => manifestProblems(p).map((m) => `${p.dir}: ${m}`))
    expect(problems).toEqual([])
  })

  it('changesets: every published package is released (CHANGELOG.md) or named in a pending changeset', () => {
    const dir = join(ROOT, '.changeset')
    const named = new Set(
      readdirSync(dir)
        .filter((f) => f.endsWith('.md') && f !== 'README.md')
        .flatMap((f) => {
          const front = /^---\n([\s\S]*?)\n---/.exec(readFileSync(join(dir, f), 'utf8'))?.[1] ?? ''
          return [...front.matchAll(/^\s*["']?(@[^"':\s]+)["']?\s*:/gm)].map((m) => m[1])
        }),
    )
    const uncovered = packages
      .filter((p) => !named.has(p.name) && !existsSync(join(ROOT, p.dir, 'CHANGELOG.md')))
      .map((p) => p.name)
    expect(uncovered).toEqual([])
  })

  it('every published package has a quick-start plan', () => {
    expect(packages.map((p) => p.name).filter((n) => PLANS[n] === undefined)).toEqual([])
  })

  describe.each(packages)('$name', (p: PublishedPackage) => {
    const tarball = () => readFileSync(tarballs.get(p.name) ?? '')

    it('tarball: LICENSE, README and dist inside; no .tsbuildinfo; no workspace: range', async () => {
      const { stdout } = await run('tar', ['-tzf', tarballs.get(p.name) ?? ''])
      const files = stdout.split('\n')
      expect(files).toContain('package/LICENSE')
      expect(files).toContain('package/README.md')
      expect(files.some((f) => f.startsWith('package/dist/') && f.endsWith('.d.ts'))).toBe(true)
      expect(files.filter((f) => f.includes('tsbuildinfo'))).toEqual([])
      const { stdout: manifest } = await run('tar', [
        '-xzOf',
        tarballs.get(p.name) ?? '',
        'package/package.json',
      ])
      expect(manifest).not.toContain('workspace:')
    })

    it('public types import only declared dependencies, with their @types (else a consumer gets any)', async () => {
      const dir = join(work, 'unpacked', slug(p.name))
      mkdirSync(dir, { recursive: true })
      await run('tar', ['-xzf', tarballs.get(p.name) ?? '', '-C', dir])
      const root = join(dir, 'package')
      const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
      // the .d.ts files a consumer can reach: the exports' types entries and what they import
      const entries = JSON.stringify(manifest.exports).match(/"\.\/[^"]+\.d\.ts"/g) ?? []
      const queue = entries.map((e: string) => join(root, e.slice(1, -1)))
      const seen = new Set<string>()
      const bare = new Set<string>()
      for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
        if (seen.has(file) || !existsSync(file)) continue
        seen.add(file)
        const text = readFileSync(file, 'utf8')
        for (const m of text.matchAll(/(?:from|import\()\s*['"]([^'"]+)['"]/g)) {
          const spec = m[1] ?? ''
          if (spec.startsWith('.')) queue.push(join(file, '..', spec.replace(/\.js$/, '.d.ts')))
          else
            bare.add(
              spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] ?? spec),
            )
        }
      }
      expect(seen.size).toBeGreaterThan(0)
      const declared = new Set([
        p.name,
        ...Object.keys(manifest.dependencies ?? {}),
        ...Object.keys(manifest.peerDependencies ?? {}),
      ])
      const typesOf = (name: string) => `@types/${name.replace(/^@/, '').replace('/', '__')}`
      const problems = [...bare]
        .filter((name) => !name.startsWith('node:') && name !== p.name)
        .flatMap((name) => {
          if (!declared.has(name) && !declared.has(typesOf(name))) return [`${name}: not a dependency`]
          // typed by DefinitelyTyped (the workspace has its @types package): that must be a dependency too
          const dt = existsSync(join(ROOT, 'node_modules', '.pnpm', 'node_modules', typesOf(name)))
          return dt && !declared.has(typesOf(name)) ? [`${name}: ${typesOf(name)} is not a dependency`] : []
        })
      expect(problems).toEqual([])
    })

    it('publint: no error, warning or suggestion', async () => {
      const data = tarball()
      const { messages, pkg } = await publint({
        pack: {
          tarball: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer,
        },
        level: 'suggestion',
      })
      expect(messages.map((m) => `${m.type}: ${formatMessage(m, pkg) ?? m.code}`)).toEqual([])
    })

    it('attw (ESM-only profile: node10 and node16-from-CJS resolutions ignored): no problem', async () => {
      const analysis = await checkPackage(createPackageFromTarballData(new Uint8Array(tarball())))
      expect(analysis.types).not.toBe(false)
      if (analysis.types === false) return
      const ignored = ['node10', 'node16-cjs']
      const problems = analysis.problems.filter(
        (problem) => !('resolutionKind' in problem) || !ignored.includes(problem.resolutionKind),
      )
      expect(problems).toEqual([])
    })

    it('README has a quick start (the first ```ts block under "## Use")', () => {
      expect(quickStarts.get(p.name)).toBeDefined()
    })
  })

  it('quick starts typecheck as a consumer compiles them: node16 and bundler resolution', async () => {
    // a public type that names Element must not degrade to any (its types are a real dependency)
    writeFileSync(
      join(work, 'qs', 'types-probe.ts'),
      [
        "import { type Element, parseXml } from '@vouch/tm-core'",
        "const el: Element = parseXml('<a/>')",
        '// @ts-expect-error Element is the @xmpp/xml class, so an unknown method is an error',
        'el.notAMethod()',
        '',
      ].join('\n'),
    )
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
    // one after the other (this file runs beside the other test files: keep its own load at one
    // process); library checks off (what consumers run, and 2× faster here):
    // what our .d.ts import is checked by the 'public types import only dependencies' test
    const configs = [
      { module: 'node16', moduleResolution: 'node16', skipLibCheck: true },
      { module: 'esnext', moduleResolution: 'bundler', skipLibCheck: true },
    ]
    const outputs: { moduleResolution: string; lines: string[] }[] = []
    for (const { module, moduleResolution, skipLibCheck } of configs) {
      const config = join(work, `tsconfig.${moduleResolution}.json`)
      writeFileSync(
        config,
        JSON.stringify({
          compilerOptions: {
            module,
            moduleResolution,
            target: 'es2022',
            lib: ['es2023', 'dom'],
            strict: true,
            noEmit: true,
            skipLibCheck,
            types: ['node'],
          },
          include: ['qs/*.ts'],
        }),
      )
      const result = await run('node', [tsc, '-p', config], { cwd: work }).catch((e: { stdout: string }) => e)
      outputs.push({ moduleResolution, lines: result.stdout.split('\n').filter((l) => l !== '') })
    }
    for (const { moduleResolution, lines } of outputs) {
      // errors in third-party declaration files are theirs: shown, not counted
      const theirs = lines.filter((l) => l.startsWith('node_modules/') && !l.includes('/@vouch+'))
      if (theirs.length > 0) console.log(`tsc (${moduleResolution}), third-party:\n${theirs.join('\n')}`)
      expect(
        lines.filter((l) => !theirs.includes(l)),
        `tsc (${moduleResolution})`,
      ).toEqual([])
    }
  }, 300_000)

  describe('in Node', () => {
    // the servers two quick starts need; missing ones skip those (visibly; CI installs both)
    let prosody: ProsodyServer | undefined
    let postgres: PostgresServer | undefined
    beforeAll(async () => {
      if (findProsody() !== undefined) prosody = await startProsody()
      else console.warn(`${PROSODY_INSTALL_HINT}: the @vouch/xmpp quick start is skipped`)
      if (postgresInstalled()) postgres = await startPostgres()
      else console.warn(`${POSTGRES_INSTALL_HINT}: the @vouch/store-postgres quick start is skipped`)
    }, 60_000)
    afterAll(async () => {
      await prosody?.stop()
      await postgres?.stop()
    })

    const nodeRuns = packages.filter((p) => PLANS[p.name]?.node === true)
    it.each(nodeRuns)(
      'quick start of $name runs with node',
      async (p: PublishedPackage) => {
        expect(quickStarts.has(p.name), 'README quick start').toBe(true)
        if (p.name === '@vouch/xmpp' && prosody === undefined) return
        if (p.name === '@vouch/store-postgres' && postgres === undefined) return
        const env: Record<string, string> = { ...(process.env as Record<string, string>) }
        if (prosody !== undefined) env.XMPP_SERVICE = prosody.service
        if (postgres !== undefined) env.DATABASE_URL = postgres.url
        let args: string[]
        if (PLANS[p.name]?.runner === 'vitest') {
          args = [
            join(work, 'node_modules', 'vitest', 'vitest.mjs'),
            'run',
            join('qs', quickStartFile(p.name)),
          ]
          env.CI = '1'
        } else {
          const ts = quickStarts.get(p.name) ?? ''
          const { code } = await transform(ts, { loader: 'ts', format: 'esm', target: 'es2022' })
          const file = join(work, 'qs', `${slug(p.name)}.mjs`)
          writeFileSync(file, code)
          args = [file]
        }
        const result = await run('node', args, { cwd: work, env, timeout: 120_000 }).catch(
          (e: { stdout: string; stderr: string; code: number }) => e,
        )
        expect('code' in result ? `exit ${result.code}: ${result.stderr}${result.stdout}` : 'ok').toBe('ok')
      },
      150_000,
    )
  })

  describe('bundled for the browser (esbuild, platform browser) and run in Chromium', () => {
    let browser: Browser | undefined
    let server: Server | undefined
    let origin = ''
    const bundles = new Map<string, string>()
    // the @vouch/xmpp quick start connects over Prosody's WebSocket (@xmpp/client's browser build)
    let prosody: ProsodyServer | undefined

    beforeAll(async () => {
      if (findProsody() !== undefined) prosody = await startProsody()
      if (!chromiumAvailable()) {
        console.warn(`${CHROMIUM_MISSING}: quick starts are bundled but not run`)
        return
      }
      browser = await chromium.launch({
        executablePath: CHROMIUM_PATH,
        args: [...CHROMIUM_ARGS],
        headless: true,
      })
      server = createServer((req, res) => {
        const name = basename(new URL(req.url ?? '/', 'http://x').pathname)
        const body = name === 'run.html' ? RUN_HTML : bundles.get(name.replace(/\.js$/, ''))
        if (body === undefined) return res.writeHead(404).end()
        res
          .writeHead(200, { 'content-type': name.endsWith('.html') ? 'text/html' : 'text/javascript' })
          .end(body)
      })
      await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
      const address = server.address()
      origin = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
    }, 30_000)
    afterAll(async () => {
      await browser?.close()
      server?.close()
      await prosody?.stop()
    })

    const bundled = packages.filter((p) => {
      const b = PLANS[p.name]?.browser
      return b === 'run' || (typeof b === 'object' && b !== null)
    })
    it.each(bundled)(
      'quick start of $name bundles with platform browser (no Node built-in reached)',
      async (p) => {
        const result = await build({
          absWorkingDir: work,
          entryPoints: [join(work, 'qs', quickStartFile(p.name))],
          plugins: [nodeDnsStub],
          bundle: true,
          platform: 'browser',
          format: 'esm',
          target: 'es2022',
          minify: true,
          write: false,
          logLevel: 'silent',
        })
        const js = result.outputFiles[0]?.text ?? ''
        expect(js.length).toBeGreaterThan(0)
        bundles.set(slug(p.name), js)
      },
      60_000,
    )

    const runs = packages.filter((p) => PLANS[p.name]?.browser === 'run')
    it.each(runs)(
      'quick start of $name runs in Chromium',
      async (p) => {
        if (browser === undefined) return
        const js = bundles.get(slug(p.name))
        expect(js, 'bundled above').toBeDefined()
        const page = await browser.newPage()
        const errors: string[] = []
        page.on('pageerror', (e) => errors.push(e.stack ?? e.message))
        const logs: string[] = []
        page.on('console', (m) => logs.push(m.text()))
        try {
          // the quick start reads process.env.XMPP_SERVICE: the page defines it (a ws:// URL)
          const ws = prosody === undefined ? '' : `?xmpp=ws://127.0.0.1:${prosody.httpPort}/xmpp-websocket`
          if (p.name === '@vouch/xmpp' && prosody === undefined) return
          await page.goto(`${origin}/run.html${ws}#${slug(p.name)}`)
          const outcome = await page.waitForFunction(
            () => (globalThis as { __outcome?: string }).__outcome,
            null,
            {
              timeout: 60_000,
            },
          )
          expect([await outcome.jsonValue(), ...errors], logs.join('\n')).toEqual(['ok'])
        } finally {
          await page.close()
        }
      },
      90_000,
    )

    it('bundle sizes of each package for the browser (min + gzip), measured', async () => {
      const rows: string[] = []
      for (const p of packages) {
        const b = PLANS[p.name]?.browser
        if (b !== 'run' && (typeof b !== 'object' || b === null)) continue
        const result = await build({
          absWorkingDir: work,
          stdin: { contents: `export * from '${p.name}'`, resolveDir: work, loader: 'ts' },
          plugins: [nodeDnsStub],
          bundle: true,
          platform: 'browser',
          format: 'esm',
          target: 'es2022',
          minify: true,
          write: false,
          logLevel: 'silent',
        })
        const js = result.outputFiles[0]?.contents ?? new Uint8Array()
        expect(js.length).toBeGreaterThan(0)
        rows.push(
          `${p.name}: ${(js.length / 1024).toFixed(1)} KiB min, ${(gzipSync(js).length / 1024).toFixed(1)} KiB min+gzip`,
        )
      }
      console.log(`browser bundle sizes (esbuild, everything the root export reaches):\n${rows.join('\n')}`)
    }, 120_000)
  })
})

/** Loads the bundle named after `#`, records `ok` or the error on `globalThis.__outcome`. */
const RUN_HTML = `<!doctype html><meta charset="utf-8"><script type="module">
const name = location.hash.slice(1)
const xmpp = new URLSearchParams(location.search).get('xmpp')
if (xmpp) globalThis.process = { env: { XMPP_SERVICE: xmpp } }
import('/' + name + '.js').then(
  () => { globalThis.__outcome = 'ok' },
  (e) => { globalThis.__outcome = 'error: ' + (e && e.stack ? e.stack : String(e)) },
)
</script>`
