/**
 * The harness itself, for each OMEMO version: the line protocol (answers matched by id, Python
 * exceptions as typed errors), and two python devices that talk through the shared PEP service
 * (key exchange, then a reply). In CI (`CI` set) a missing Debian package fails the run;
 * elsewhere the flavor is skipped visibly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type OmemoFlavor, PythonOmemoHarness, pythonOmemoUnavailable } from '../src/index.ts'

const te = new TextEncoder()
const text = (b64: string | null): string => Buffer.from(b64 ?? '', 'base64').toString('utf8')

for (const flavor of ['twomemo', 'oldmemo'] as const satisfies readonly OmemoFlavor[]) {
  const unavailable = pythonOmemoUnavailable(flavor)
  if (unavailable !== undefined && process.env.CI)
    it(`needs python3-${flavor} in CI (tooling/debian-packages.txt)`, () => {
      expect(unavailable).toBeUndefined()
    })

  describe.skipIf(unavailable !== undefined)(
    `python-${flavor} harness${unavailable ? ` (skipped: ${unavailable})` : ''}`,
    { timeout: 30_000 },
    () => {
      let h: PythonOmemoHarness
      beforeAll(() => {
        h = new PythonOmemoHarness(flavor)
      })
      afterAll(async () => {
        await h.close()
      })

      it('answers each request by its id, with the library versions', async () => {
        const [a, b] = await Promise.all([h.version(), h.getDevices('nobody@example.org')])
        expect(a[flavor]).toMatch(/^\d+\.\d+\.\d+$/)
        expect(a.omemo).toMatch(/^\d+\.\d+\.\d+$/)
        expect(b).toEqual({ xml: null })
      })

      it('rejects a failed request with a HarnessError naming the Python exception, and keeps serving', async () => {
        const e = await h.request('no-such-op').catch((x: unknown) => x)
        expect(e).toMatchObject({ name: 'HarnessError', type: 'ValueError' })
        const missing = await h.decrypt('nobody', 'x@example.org', '<x/>').catch((x: unknown) => x)
        expect(missing).toMatchObject({ name: 'HarnessError', type: 'KeyError' })
        expect((await h.version())[flavor]).toBeDefined()
      })

      it('two python devices exchange messages through the shared PEP service', async () => {
        const a = await h.create(`a-${flavor}`, `a-${flavor}@example.org`)
        const b = await h.create(`b-${flavor}`, `b-${flavor}@example.org`)
        expect(a.deviceId).not.toBe(b.deviceId)
        // each device published its bundle and its own device list under its own JID
        expect((await h.getBundle(`b-${flavor}@example.org`, b.deviceId)).xml).toMatch(/^<bundle /)
        expect((await h.getBundle(`b-${flavor}@example.org`, a.deviceId)).xml).toBeNull()
        expect((await h.getDevices(`a-${flavor}@example.org`)).xml).toContain(String(a.deviceId))

        const first = await h.encrypt(`a-${flavor}`, [`b-${flavor}@example.org`], te.encode('hello'))
        const read = await h.decrypt(`b-${flavor}`, `a-${flavor}@example.org`, first.xml)
        expect(text(read.plaintext)).toBe('hello')
        expect(read.deviceId).toBe(a.deviceId)
        expect(read.identityKey).toBe(a.identityKey)
        for (const o of read.outbox) await h.decrypt(`a-${flavor}`, `b-${flavor}@example.org`, o.xml)

        const reply = await h.encrypt(`b-${flavor}`, [`a-${flavor}@example.org`], te.encode('hi back'))
        const back = await h.decrypt(`a-${flavor}`, `b-${flavor}@example.org`, reply.xml)
        expect(text(back.plaintext)).toBe('hi back')
        expect(back.identityKey).toBe(b.identityKey)
        // the same message twice: the ratchet refuses it
        await expect(h.decrypt(`a-${flavor}`, `b-${flavor}@example.org`, reply.xml)).rejects.toMatchObject({
          name: 'HarnessError',
        })
      })
    },
  )
}
