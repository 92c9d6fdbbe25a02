/**
 * `vouch simulate`: the JSON shape, convergence with n − 1 mutual manual authentications,
 * `--offline` catching up from the archive, the SQLite store, and usage errors.
 */
import { describe, expect, it } from 'vitest'
import { type CliResult, simulateCli } from './helpers.ts'

interface SimJson {
  manualAuthentications: number
  trustMessagesSent: number
  converged: boolean
  matrix: Record<string, Record<string, string>>
}

function json(r: CliResult): SimJson {
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout) as SimJson
}

describe('vouch simulate', () => {
  it('--json: exactly {manualAuthentications, trustMessagesSent, converged, matrix}; converged with n − 1 manual authentications', async () => {
    const out = json(await simulateCli(['--accounts', 'alice:3,bob:1', '--json']))
    expect(Object.keys(out)).toEqual(['manualAuthentications', 'trustMessagesSent', 'converged', 'matrix'])
    expect(out.manualAuthentications).toBe(3)
    expect(out.converged).toBe(true)
    expect(out.trustMessagesSent).toBe(4)
    const eps = ['alice/1', 'alice/2', 'alice/3', 'bob/1']
    expect(Object.keys(out.matrix)).toEqual(eps)
    for (const r of eps) {
      expect(Object.keys(out.matrix[r] ?? {})).toEqual(eps)
      for (const c of eps) expect(out.matrix[r]?.[c]).toBe(r === c ? 'own' : 'authenticated')
    }
  })

  it('--offline alice/2: nothing reaches it live; it catches up from the archive and the world converges', async () => {
    const out = json(await simulateCli(['--accounts', 'alice:3,bob:2', '--offline', 'alice/2', '--json']))
    expect(out.manualAuthentications).toBe(4)
    expect(out.converged).toBe(true)
  })

  it('--reorder --duplicate --drop --seed N, two offline endpoints, SQLite stores: still converges', async () => {
    const out = json(
      await simulateCli([
        '--accounts',
        'alice:4,bob:3',
        '--reorder',
        '--duplicate',
        '--drop',
        '--seed',
        '42',
        '--offline',
        'alice/3',
        '--offline',
        'bob/2',
        '--store',
        'sqlite',
        '--json',
      ]),
    )
    expect(out.manualAuthentications).toBe(6)
    expect(out.converged).toBe(true)
  })

  it('scale: alice:25,bob:25 converges with 49 manual authentications', async () => {
    const out = json(await simulateCli(['--accounts', 'alice:25,bob:25', '--json']))
    expect(out.manualAuthentications).toBe(49)
    expect(out.converged).toBe(true)
    // 50 endpoints: ≈ 0.3 s alone, several seconds on a loaded 2-core CI machine
  }, 30_000)

  it('text: steps, messages with their readers, an aligned matrix and the summary', async () => {
    const r = await simulateCli(['--accounts', 'alice:3,bob:1'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("step   5  alice/1 authenticates bob/1's key (manual)")
    expect(r.stdout).toContain('m4 alice/1 → bob@example.org: trust alice/3, alice/2')
    expect(r.stdout).not.toContain('\u001b[') // no colour when not a TTY
    const matrix = r.stdout.split('\n').filter((l) => /^(alice|bob)\/\d\s/.test(l))
    expect(matrix).toHaveLength(4)
    expect(new Set(matrix.map((l) => l.length)).size).toBe(1)
    expect(r.stdout).toMatch(/3 manual authentications .* instead of the 6 pairwise/)
    expect(r.stdout).toContain('Converged')
  })

  it('usage errors: exit 2 and one line on stderr', async () => {
    for (const args of [
      ['--accounts', 'alice'],
      ['--offline', 'carol/1'],
      ['--seed', 'x'],
    ]) {
      const r = await simulateCli(args)
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stdout).toBe('')
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
    }
  })
})
