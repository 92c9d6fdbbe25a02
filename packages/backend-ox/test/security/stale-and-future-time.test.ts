/**
 * Attack: replay of an old message, or a message post-dated to stay "fresh". The protected
 * `<time/>` and the signature creation time must lie within [now − maxAge, now + skew]
 * (OX-TIME). Replay inside the window is for the layer above (stanza ids, D-9); see the
 * compliance suite's definition.
 */
import * as openpgp from 'openpgp'
import { describe, expect, it } from 'vitest'
import {
  ALICE,
  BOB,
  body,
  contentXml,
  introducedParties,
  ownPrivate,
  rawOpenpgp,
  rejectionOf,
  stanza,
} from '../helpers.ts'

const MIN = 60_000
const DAY = 24 * 60 * MIN
const [alice, bob] = await introducedParties(ALICE, BOB)

describe('<time/> window (OX-TIME)', () => {
  it('rejects a message older than the default week', async () => {
    const sent = await alice.ox.encrypt(body('old'), [BOB], { now: new Date(Date.now() - 8 * DAY) })
    expect(await rejectionOf(bob.ox.decrypt(sent.element, stanza(ALICE, BOB)))).toMatchObject({
      name: 'DecryptionError',
      rule: 'OX-TIME',
    })
  })

  it('accepts a six-day-old message, and an archived one judged at its archive stamp', async () => {
    const sent = await alice.ox.encrypt(body('old'), [BOB], { now: new Date(Date.now() - 6 * DAY) })
    expect((await bob.ox.decrypt(sent.element, stanza(ALICE, BOB))).time?.getTime()).toBeLessThan(Date.now())
    const archived = await alice.ox.encrypt(body('archived'), [BOB], { now: new Date(Date.now() - 60 * DAY) })
    const r = await bob.ox.decrypt(archived.element, stanza(ALICE, BOB), {
      now: new Date(Date.now() - 60 * DAY + MIN),
    })
    expect(r.mode).toBe('signcrypt')
  })

  it('the margin is a per-call policy', async () => {
    const sent = await alice.ox.encrypt(body('x'), [BOB], { now: new Date(Date.now() - 2 * 3600_000) })
    expect(
      await rejectionOf(bob.ox.decrypt(sent.element, stanza(ALICE, BOB), { maxAgeSeconds: 3600 })),
    ).toMatchObject({
      rule: 'OX-TIME',
    })
    expect(
      await rejectionOf(
        bob.ox.decrypt(sent.element, stanza(ALICE, BOB), { policy: { maxAgeSeconds: 3600 } }),
      ),
    ).toMatchObject({ rule: 'OX-TIME' })
  })

  it('accepts a message 5 minutes ahead (clock skew), rejects one 15 minutes ahead', async () => {
    const ahead5 = await alice.ox.encrypt(body('skew'), [BOB], { now: new Date(Date.now() + 5 * MIN) })
    expect((await bob.ox.decrypt(ahead5.element, stanza(ALICE, BOB))).encrypted).toBe(true)
    const ahead15 = await alice.ox.encrypt(body('skew'), [BOB], { now: new Date(Date.now() + 15 * MIN) })
    expect(await rejectionOf(bob.ox.decrypt(ahead15.element, stanza(ALICE, BOB)))).toMatchObject({
      rule: 'OX-TIME',
    })
  })

  it('rejects a fresh <time/> inside an old signature (content re-dated by the sender is still checked)', async () => {
    const bobKey = await openpgp.readKey({ binaryKey: await bob.ox.exportPublicKey() })
    const el = await rawOpenpgp({
      content: contentXml('signcrypt', [BOB], new Date()),
      encryptTo: [bobKey],
      signWith: await ownPrivate(alice),
      date: new Date(Date.now() - 30 * DAY),
    })
    expect(await rejectionOf(bob.ox.decrypt(el, stanza(ALICE, BOB)))).toMatchObject({ rule: 'OX-TIME' })
  })

  it('rejects a signature dated an hour in the future', async () => {
    const bobKey = await openpgp.readKey({ binaryKey: await bob.ox.exportPublicKey() })
    const el = await rawOpenpgp({
      content: contentXml('signcrypt', [BOB], new Date()),
      encryptTo: [bobKey],
      signWith: await ownPrivate(alice),
      date: new Date(Date.now() + 3600_000),
    })
    expect(await rejectionOf(bob.ox.decrypt(el, stanza(ALICE, BOB)))).toMatchObject({ rule: 'OX-TIME' })
  })
})
