/**
 * The fixture the CLI's Prosody tests share: a throwaway Prosody and a temporary root with one
 * data directory per device, and helpers that run spawned `vouch` processes on one device (the
 * password comes from the environment, as a user would set it). Call inside a `describe`: it
 * registers that block's `beforeAll` / `afterAll`.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  PROSODY_INSTALL_HINT,
  type ProsodyServer,
  prosodyInstalled,
  startProsody,
} from '@vouch/prosody-tooling'
import { afterAll, beforeAll, expect } from 'vitest'
import { type Spawned, vouchProcess } from './spawn.ts'

/** `device add JID …SVC --resource phone …REST`: a new device (the walk-throughs' phone) of `jid`. */
export function addPhone(jid: string, svc: readonly string[], ...rest: string[]): string[] {
  return ['device', 'add', jid, ...svc, '--resource', 'phone', ...rest]
}

/** Skipped outside CI when Prosody is not installed (said once, by `file`). */
export function skipWithoutProsody(file: string): boolean {
  const skip = !prosodyInstalled() && process.env.CI === undefined
  if (skip) console.info(`${file} skipped: ${PROSODY_INSTALL_HINT}`)
  return skip
}

// biome-ignore lint/suspicious/noExplicitAny: the CLI's JSON output, checked field by field with expect
export type Out = any

export interface ProsodyDevices {
  /** the running server (after `beforeAll`) */
  server(): ProsodyServer
  /** the data directory of `device` */
  dir(device: string): string
  /** `vouch …` on `device`, any exit code */
  spawn(device: string, argv: readonly string[], stdin?: string): Promise<Spawned>
  /** `vouch …` on `device`; its stdout, or throws with its stderr unless it exits 0 */
  on(device: string, ...argv: string[]): Promise<string>
  /** `vouch … --json` on `device`, parsed */
  json(device: string, ...argv: string[]): Promise<Out>
  /** `vouch chat listen --json` on `device`: the messages (archive first), and the summary line */
  listen(
    device: string,
    seconds: number,
    count?: number,
  ): Promise<{ messages: Out[]; summary: string; rejected: Out[]; skipped: Out[] }>
  /** this device's Trust Message URI (`uri show`) */
  uriOf(device: string): Promise<string>
  /** `trust list OWNER --refresh` on `device`: key (hex) → level */
  levels(device: string, owner: string): Promise<Record<string, string>>
}

export function prosodyDevices(prefix: string, password: string): ProsodyDevices {
  let server: ProsodyServer | undefined
  let root: string | undefined
  beforeAll(async () => {
    if (!prosodyInstalled()) throw new Error(PROSODY_INSTALL_HINT)
    server = await startProsody()
    root = await mkdtemp(join(tmpdir(), `vouch-${prefix}-`))
  })
  afterAll(async () => {
    await server?.stop()
    if (root !== undefined) await rm(root, { recursive: true, force: true })
  })
  const dir = (device: string): string => join(root as string, device)
  const spawn = (device: string, argv: readonly string[], stdin?: string): Promise<Spawned> =>
    vouchProcess([...argv, '--data', dir(device)], {
      env: { VOUCH_PASSWORD: password },
      ...(stdin === undefined ? {} : { stdin }),
    })
  const on = async (device: string, ...argv: string[]): Promise<string> => {
    const r = await spawn(device, argv)
    if (r.code !== 0) throw new Error(`${device}: vouch ${argv.join(' ')} → exit ${r.code}: ${r.stderr}`)
    return r.stdout
  }
  const json = async (device: string, ...argv: string[]): Promise<Out> =>
    JSON.parse(await on(device, ...argv, '--json'))
  return {
    server: () => server as ProsodyServer,
    dir,
    spawn,
    on,
    json,
    /** Archived messages are read during the catch-up, before the timeout starts: 1 s is plenty. */
    async listen(device, seconds, count) {
      const r = await spawn(device, [
        'chat',
        'listen',
        '--timeout',
        String(seconds),
        ...(count === undefined ? [] : ['--count', String(count)]),
        '--json',
      ])
      expect(r.code, r.stderr).toBe(0)
      const lines: Out[] = r.stdout
        .trim()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l))
      return {
        messages: lines.filter((m) => typeof m.body === 'string'),
        summary: r.stderr.trim(),
        rejected: lines.flatMap((l) => (l.rejected === undefined ? [] : [l.rejected])),
        skipped: lines.flatMap((l) => (l.skipped === undefined ? [] : [l.skipped])),
      }
    },
    async uriOf(device) {
      return (await json(device, 'uri', 'show')).uri
    },
    async levels(device, owner) {
      return Object.fromEntries(
        ((await json(device, 'trust', 'list', owner, '--refresh')) as { key: string; level: string }[]).map(
          (r) => [r.key, r.level],
        ),
      )
    },
  }
}
