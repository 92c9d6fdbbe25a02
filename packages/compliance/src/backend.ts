/**
 * `@vouch/compliance/backend`: what every {@link EncryptionBackend} must do. Each backend (ours
 * and third-party ones) runs it from one test file:
 *
 * ```ts
 * import { defineBackendComplianceSuite } from '@vouch/compliance/backend'
 * defineBackendComplianceSuite({ name: 'ox', capabilities: OX_CAPABILITIES, create: makeWorld })
 * ```
 *
 * Replay, as defined here: a backend is not required to remember ciphertexts (archives are read
 * again legitimately). What every backend guarantees is that (1) a message older than the
 * receiver's window is rejected (the protected `<time/>`), (2) a message is bound to its
 * recipient (the protected `<to/>`), so a copy replayed into another conversation is rejected,
 * and (3) every delivery of the same ciphertext reports the same protected time and sender key,
 * so the layer above (stanza ids, D-9 per-key ordering) can drop duplicates. A backend that
 * declares `detectsReplay` must also reject the second delivery itself.
 */
import type {
  AccountTrustStore,
  BackendCapabilities,
  BareJid,
  DecryptedContent,
  Element,
  EncryptionBackend,
  FullJid,
  KeyRef,
  StanzaAddressing,
} from '@vouch/tm-core'
import { base64 } from '@scure/base'
import { Element as XmlElement, keyIdByteLength, parseKeyIdBase64 } from '@vouch/tm-core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ComplianceSetup } from './setup.ts'

/** One participant: a local account with its backend and the trust store the backend reads. */
export interface BackendParty {
  readonly jid: BareJid
  readonly backend: EncryptionBackend
  /** the account's trust store (the suite changes trust levels through it) */
  readonly store: AccountTrustStore
}

/**
 * Three parties that already know each other's keys (a shared key directory, fetched bundles,
 * …): each party's backend holds the key material of the others (`keysOf` lists them). Trust
 * levels need not be set: backends write none (ATM is the only writer of trust), so before every
 * test the suite registers each listed key that has no record yet at `automatically-trusted`,
 * standing in for ATM `keysDiscovered` under TOAKAFA (a key already recorded keeps its level).
 * `mallory` is the attacker: a legitimate user of the same network.
 */
export interface BackendWorld {
  readonly alice: BackendParty
  readonly bob: BackendParty
  readonly mallory: BackendParty
}

export type BackendComplianceSetup = ComplianceSetup<BackendWorld, BackendCapabilities> & {
  /** required here: the suite skips (visibly) what a backend does not declare */
  readonly capabilities: BackendCapabilities
}

const NS_CLIENT = 'jabber:client'

function body(text: string): Element {
  return new XmlElement('body', { xmlns: NS_CLIENT }).t(text)
}

function stanza(from: BareJid, to: BareJid): StanzaAddressing {
  return { from: `${from}/compliance` as FullJid, to }
}

function bodyText(result: DecryptedContent): string | undefined {
  const b = result.payload.find((e) => e.name === 'body')
  return b?.children.filter((c): c is string => typeof c === 'string').join('')
}

/** The element with the longest text (the ciphertext), for tampering. */
function longestText(el: Element): Element {
  let best = el
  let bestLen = -1
  const walk = (e: Element): void => {
    const len = e.children.filter((c): c is string => typeof c === 'string').join('').length
    if (len > bestLen) {
      best = e
      bestLen = len
    }
    for (const c of e.children) if (typeof c !== 'string') walk(c)
  }
  walk(el)
  return best
}

function cloneTree(el: Element): Element {
  const copy = new XmlElement(el.name, { ...el.attrs })
  for (const c of el.children) {
    if (typeof c === 'string') copy.t(c)
    else copy.cnode(cloneTree(c))
  }
  return copy
}

/** A copy of `el` with one bit flipped in its Base64 ciphertext at `at` (0..1 of its length). */
function tamper(el: Element, at: number): Element {
  const copy = cloneTree(el)
  const target = longestText(copy)
  const text = target.children.filter((c): c is string => typeof c === 'string').join('')
  const bytes = base64.decode(text.replace(/\s+/g, ''))
  const i = Math.min(bytes.length - 1, Math.max(0, Math.floor(bytes.length * at)))
  bytes[i] = (bytes[i] ?? 0) ^ 0x01
  target.children = [base64.encode(bytes)]
  return copy
}

async function expectRejected(
  p: Promise<unknown>,
  names: readonly string[] = ['DecryptionError'],
): Promise<Error> {
  let caught: unknown
  try {
    await p
  } catch (e) {
    caught = e
  }
  expect(caught, 'the call must reject').toBeInstanceOf(Error)
  expect(names, `rejected with ${(caught as Error).name}: ${(caught as Error).message}`).toContain(
    (caught as Error).name,
  )
  return caught as Error
}

/**
 * Stands in for ATM `keysDiscovered` (TOAKAFA, no authentication yet): every key a party's backend
 * lists for another party is stored at `automatically-trusted` unless the store holds it already.
 */
async function standInForKeysDiscovered(world: BackendWorld): Promise<void> {
  const parties = [world.alice, world.bob, world.mallory]
  for (const a of parties)
    for (const b of parties) {
      if (a.jid === b.jid) continue
      const ids = await a.backend.keysOf(b.jid)
      if (ids.length > 0)
        await a.store.addKeys(
          a.backend.namespace,
          b.jid,
          ids,
          { provenance: { kind: 'policy', policy: 'toakafa' }, at: Date.now() },
          'automatically-trusted',
        )
    }
}

/**
 * Defines the backend suite (one `describe`, a fresh world per test from `setup.create()`,
 * given to `setup.destroy` afterwards). Call it at the top level of a test file.
 */
export function defineBackendComplianceSuite(setup: BackendComplianceSetup): void {
  const caps = setup.capabilities
  describe(`EncryptionBackend compliance (${setup.name})`, () => {
    let world: BackendWorld | undefined
    const w = (): BackendWorld => {
      if (world === undefined) throw new Error('no world: setup.create() failed')
      return world
    }
    beforeEach(async () => {
      world = await setup.create()
      await standInForKeysDiscovered(world)
    })
    afterEach(async () => {
      if (world !== undefined) await setup.destroy?.(world)
      world = undefined
    })

    /** Encrypting to a key we must not use either throws UntrustedKeyError or yields a message the key cannot open. */
    async function expectNotReadableBy(sender: BackendParty, reader: BackendParty): Promise<void> {
      let el: Element
      try {
        el = (await sender.backend.encrypt(body('secret'), [reader.jid])).element
      } catch (e) {
        expect((e as Error).name, (e as Error).message).toBe('UntrustedKeyError')
        return
      }
      await expectRejected(reader.backend.decrypt(el, stanza(sender.jid, reader.jid)))
    }

    describe('round trip', () => {
      it('bob decrypts what alice encrypted to him, with alice reported as sender', async () => {
        const { alice, bob } = w()
        const sent = await alice.backend.encrypt(body('hello bob'), [bob.jid])
        expect(sent.element.attrs.xmlns).toBe(alice.backend.namespace)
        const r = await bob.backend.decrypt(sent.element, stanza(alice.jid, bob.jid))
        expect(bodyText(r)).toBe('hello bob')
        expect(r.senderJid).toBe(alice.jid)
        expect(r.carrier).toBe(alice.backend.namespace)
        expect(r.encrypted).toBe(true)
        expect(r.signed).toBe(true)
        expect(r.senderKey).toBeDefined()
        expect(await alice.backend.ownKeys()).toContain(r.senderKey)
      })

      it.skipIf(caps.protectsEnvelope !== true)(
        'protectsEnvelope: reports the protected sending time, recipients and padding length',
        async () => {
          const { alice, bob } = w()
          const before = Date.now()
          const sent = await alice.backend.encrypt(body('affixes'), [bob.jid])
          const r = await bob.backend.decrypt(sent.element, stanza(alice.jid, bob.jid))
          expect(r.to).toContain(bob.jid)
          expect(r.time).toBeInstanceOf(Date)
          expect(Math.abs((r.time as Date).getTime() - before)).toBeLessThan(60_000)
          expect(r.rpadLength).toBeGreaterThanOrEqual(0)
        },
      )

      it.skipIf(caps.protectsEnvelope === true)(
        'without protectsEnvelope: no protected time, recipients or padding length is claimed',
        async () => {
          const { alice, bob } = w()
          const sent = await alice.backend.encrypt(body('no envelope'), [bob.jid])
          const r = await bob.backend.decrypt(sent.element, stanza(alice.jid, bob.jid))
          expect([r.time, r.to, r.rpadLength]).toEqual([undefined, undefined, undefined])
        },
      )

      it('reports the keys it encrypted to: the recipient key and the sender key', async () => {
        const { alice, bob } = w()
        const sent = await alice.backend.encrypt(body('x'), [bob.jid])
        const bobKeys = await bob.backend.ownKeys()
        expect(sent.recipients.some((r) => r.owner === bob.jid && bobKeys.includes(r.keyId))).toBe(true)
        for (const r of sent.recipients) expect(r.encryption).toBe(alice.backend.namespace)
      })

      it.skipIf(caps.encryptsToSelf !== true)(
        'the sender reads its own sent copy (encrypted to self)',
        async () => {
          const { alice, bob } = w()
          const sent = await alice.backend.encrypt(body('my copy'), [bob.jid])
          const r = await alice.backend.decrypt(sent.element, stanza(alice.jid, bob.jid))
          expect(bodyText(r)).toBe('my copy')
        },
      )

      it('each delivery of the same ciphertext reports the same time and sender key (replay is detectable above)', async () => {
        const { alice, bob } = w()
        const sent = await alice.backend.encrypt(body('twice'), [bob.jid])
        const first = await bob.backend.decrypt(sent.element, stanza(alice.jid, bob.jid))
        if (caps.detectsReplay === true) {
          const e = await expectRejected(bob.backend.decrypt(sent.element, stanza(alice.jid, bob.jid)))
          expect((e as Error & { rule?: string }).rule).toBe('REPLAY')
          return
        }
        const second = await bob.backend.decrypt(sent.element, stanza(alice.jid, bob.jid))
        expect(second.time?.getTime()).toBe(first.time?.getTime())
        expect(second.senderKey).toBe(first.senderKey)
      })
    })

    describe('rejections', () => {
      it('rejects a tampered ciphertext (a bit flipped in the middle)', async () => {
        const { alice, bob } = w()
        const sent = await alice.backend.encrypt(body('integrity'), [bob.jid])
        await expectRejected(bob.backend.decrypt(tamper(sent.element, 0.5), stanza(alice.jid, bob.jid)))
      })

      it('rejects a tampered ciphertext (a bit flipped near the end)', async () => {
        const { alice, bob } = w()
        const sent = await alice.backend.encrypt(body('integrity'), [bob.jid])
        await expectRejected(bob.backend.decrypt(tamper(sent.element, 0.97), stanza(alice.jid, bob.jid)))
      })

      it('rejects a message whose stanza names another recipient (misaddressed / forwarded)', async () => {
        const { alice, bob, mallory } = w()
        const sent = await alice.backend.encrypt(body('for bob'), [bob.jid])
        await expectRejected(bob.backend.decrypt(sent.element, stanza(alice.jid, mallory.jid)))
      })

      it('rejects a message claiming to come from alice but made by mallory (impersonation)', async () => {
        const { alice, bob, mallory } = w()
        const forged = await mallory.backend.encrypt(body('I am alice'), [bob.jid])
        await expectRejected(bob.backend.decrypt(forged.element, stanza(alice.jid, bob.jid)))
      })

      it('a third party cannot decrypt a message not encrypted to it', async () => {
        const { alice, bob, mallory } = w()
        const sent = await alice.backend.encrypt(body('private'), [bob.jid])
        await expectRejected(mallory.backend.decrypt(sent.element, stanza(alice.jid, mallory.jid)))
      })

      it.skipIf(caps.protectsEnvelope !== true)(
        'rejects a replayed message older than the receiver window (protectsEnvelope)',
        async () => {
          const { alice, bob } = w()
          const sent = await alice.backend.encrypt(body('old'), [bob.jid])
          const later = new Date(Date.now() + 30 * 24 * 3600 * 1000)
          await expectRejected(bob.backend.decrypt(sent.element, stanza(alice.jid, bob.jid), { now: later }))
          // and the window is configurable per call
          const r = await bob.backend.decrypt(sent.element, stanza(alice.jid, bob.jid), {
            now: later,
            maxAgeSeconds: 31 * 24 * 3600,
          })
          expect(bodyText(r)).toBe('old')
        },
      )

      it.skipIf(caps.protectsEnvelope !== true)(
        'rejects a message dated in the future beyond the clock skew tolerance (protectsEnvelope)',
        async () => {
          const { alice, bob } = w()
          const sent = await alice.backend.encrypt(body('future'), [bob.jid], {
            now: new Date(Date.now() + 24 * 3600 * 1000),
          })
          await expectRejected(bob.backend.decrypt(sent.element, stanza(alice.jid, bob.jid)))
        },
      )
    })

    describe('key ids', () => {
      it(`own key ids are canonical Base64 of ${caps.keyIdLength} bytes (TM-10, TM-11)`, async () => {
        const { alice } = w()
        const own = await alice.backend.ownKeys()
        expect(own.length).toBeGreaterThan(0)
        for (const id of own) {
          expect(parseKeyIdBase64(id)).toBe(id)
          expect(keyIdByteLength(id)).toBe(caps.keyIdLength)
        }
      })

      it("keysOf(contact) lists the contact's own key ids, in the same format", async () => {
        const { alice, bob } = w()
        const known = await alice.backend.keysOf(bob.jid)
        const bobs = await bob.backend.ownKeys()
        expect(known.length).toBeGreaterThan(0)
        for (const id of bobs) expect(known).toContain(id)
        for (const id of known) expect(keyIdByteLength(id)).toBe(caps.keyIdLength)
      })

      it("keysOf(contact) comes from the backend's key material, whatever the trust level", async () => {
        const { alice, bob } = w()
        const known = await alice.backend.keysOf(bob.jid)
        await alice.store.setTrustLevels(
          alice.backend.namespace,
          [{ owner: bob.jid, keyIds: known, level: 'manually-distrusted' }],
          { provenance: { kind: 'manual' }, at: Date.now() },
        )
        expect([...(await alice.backend.keysOf(bob.jid))].sort()).toEqual([...known].sort())
      })

      it('the reported sender key has the same format', async () => {
        const { alice, bob } = w()
        const sent = await alice.backend.encrypt(body('x'), [bob.jid])
        const r = await bob.backend.decrypt(sent.element, stanza(alice.jid, bob.jid))
        expect(r.senderKey === undefined ? -1 : keyIdByteLength(r.senderKey)).toBe(caps.keyIdLength)
      })
    })

    describe('trust levels', () => {
      it('a manually distrusted key is not encrypted to', async () => {
        const { alice, bob } = w()
        const ids = await alice.backend.keysOf(bob.jid)
        await alice.store.setTrustLevels(
          alice.backend.namespace,
          [{ owner: bob.jid, keyIds: ids, level: 'manually-distrusted' }],
          { provenance: { kind: 'manual' }, at: Date.now() },
        )
        await expectNotReadableBy(alice, bob)
      })

      it('an automatically distrusted key is not encrypted to', async () => {
        const { alice, bob } = w()
        const ids = await alice.backend.keysOf(bob.jid)
        await alice.store.setTrustLevels(
          alice.backend.namespace,
          [{ owner: bob.jid, keyIds: ids, level: 'automatically-distrusted' }],
          { provenance: { kind: 'manual' }, at: Date.now() },
        )
        await expectNotReadableBy(alice, bob)
      })

      it("with acceptedLevels ['authenticated'] only authenticated keys are encrypted to (TM-15, TM-21)", async () => {
        const { alice, bob } = w()
        const ids = await alice.backend.keysOf(bob.jid)
        // bob's key is automatically trusted (TOAKAFA before the first authentication)
        for (const id of ids)
          expect(await alice.store.getTrustLevel(alice.backend.namespace, bob.jid, id)).toBe(
            'automatically-trusted',
          )
        let el: Element | undefined
        try {
          el = (await alice.backend.encrypt(body('tm'), [bob.jid], { acceptedLevels: ['authenticated'] }))
            .element
        } catch (e) {
          expect((e as Error).name).toBe('UntrustedKeyError')
        }
        if (el !== undefined) await expectRejected(bob.backend.decrypt(el, stanza(alice.jid, bob.jid)))

        await alice.store.setTrustLevels(
          alice.backend.namespace,
          [{ owner: bob.jid, keyIds: ids, level: 'authenticated' }],
          { provenance: { kind: 'manual' }, at: Date.now() },
        )
        const sent = await alice.backend.encrypt(body('tm'), [bob.jid], { acceptedLevels: ['authenticated'] })
        const r = await bob.backend.decrypt(sent.element, stanza(alice.jid, bob.jid))
        expect(bodyText(r)).toBe('tm')
      })

      it('with several recipients, only the accepted ones can read', async () => {
        const { alice, bob, mallory } = w()
        const ids = await alice.backend.keysOf(mallory.jid)
        await alice.store.setTrustLevels(
          alice.backend.namespace,
          [{ owner: mallory.jid, keyIds: ids, level: 'manually-distrusted' }],
          { provenance: { kind: 'manual' }, at: Date.now() },
        )
        let el: Element
        try {
          el = (await alice.backend.encrypt(body('group'), [bob.jid, mallory.jid])).element
        } catch (e) {
          // a backend may refuse outright when a recipient has no accepted key
          expect((e as Error).name).toBe('UntrustedKeyError')
          return
        }
        expect(bodyText(await bob.backend.decrypt(el, stanza(alice.jid, bob.jid)))).toBe('group')
        await expectRejected(mallory.backend.decrypt(el, stanza(alice.jid, mallory.jid)))
      })
    })

    describe('explicit key list (EncryptOptions.onlyKeys, TM-15/TM-21)', () => {
      const refsOf = async (p: BackendParty): Promise<KeyRef[]> =>
        (await p.backend.ownKeys()).map((keyId) => ({ encryption: p.backend.namespace, owner: p.jid, keyId }))
      const ref = (k: KeyRef): string => `${k.encryption} ${k.owner} ${k.keyId}`

      it('TM-21: with onlyKeys, the message is encrypted for the listed keys and the sender key only', async () => {
        const { alice, bob } = w()
        const only = await refsOf(bob)
        const sent = await alice.backend.encrypt(body('only bob'), [bob.jid], { onlyKeys: only })
        const allowed = new Set([...only, ...(await refsOf(alice))].map(ref))
        for (const r of sent.recipients) expect(allowed, ref(r)).toContain(ref(r))
        expect(sent.recipients.map(ref)).toEqual(expect.arrayContaining(only.map(ref)))
        expect(bodyText(await bob.backend.decrypt(sent.element, stanza(alice.jid, bob.jid)))).toBe('only bob')
      })

      it('TM-21: a recipient JID whose keys are not listed is not encrypted to', async () => {
        const { alice, bob, mallory } = w()
        const only = await refsOf(bob)
        let el: Element
        try {
          el = (await alice.backend.encrypt(body('not mallory'), [bob.jid, mallory.jid], { onlyKeys: only }))
            .element
        } catch (e) {
          expect((e as Error).name).toBe('UntrustedKeyError')
          return
        }
        expect(bodyText(await bob.backend.decrypt(el, stanza(alice.jid, bob.jid)))).toBe('not mallory')
        await expectRejected(mallory.backend.decrypt(el, stanza(alice.jid, mallory.jid)))
      })

      it('TM-15: onlyKeys is intersected with acceptedLevels (a listed key below them is not encrypted to)', async () => {
        const { alice, bob } = w()
        const only = await refsOf(bob)
        let el: Element
        try {
          el = (
            await alice.backend.encrypt(body('tm'), [bob.jid], {
              onlyKeys: only,
              acceptedLevels: ['authenticated'],
            })
          ).element
        } catch (e) {
          expect((e as Error).name).toBe('UntrustedKeyError')
          return
        }
        await expectRejected(bob.backend.decrypt(el, stanza(alice.jid, bob.jid)))
      })
    })

    describe('unencrypted trust messages (TM-14)', () => {
      it.skipIf(caps.signsTrustMessages !== true)(
        'a signed-only message verifies with allowSignedOnly and reports the sender key',
        async () => {
          const { alice, bob } = w()
          const sent = await alice.backend.encrypt(body('signed'), [bob.jid], { mode: 'sign' })
          expect(sent.recipients).toEqual([])
          const r = await bob.backend.decrypt(sent.element, stanza(alice.jid, bob.jid), {
            allowSignedOnly: true,
          })
          expect(r.encrypted).toBe(false)
          expect(r.signed).toBe(true)
          expect(await alice.backend.ownKeys()).toContain(r.senderKey)
          expect(bodyText(r)).toBe('signed')
        },
      )

      it.skipIf(caps.signsTrustMessages !== true)(
        'a signed-only message is rejected where encryption is required (chat)',
        async () => {
          const { alice, bob } = w()
          const sent = await alice.backend.encrypt(body('signed'), [bob.jid], { mode: 'sign' })
          await expectRejected(bob.backend.decrypt(sent.element, stanza(alice.jid, bob.jid)))
        },
      )

      it.skipIf(caps.signsTrustMessages !== true)('a tampered signed-only message is rejected', async () => {
        const { alice, bob } = w()
        const sent = await alice.backend.encrypt(body('signed'), [bob.jid], { mode: 'sign' })
        await expectRejected(
          bob.backend.decrypt(tamper(sent.element, 0.5), stanza(alice.jid, bob.jid), {
            allowSignedOnly: true,
          }),
        )
      })

      it.skipIf(caps.signsTrustMessages !== true)(
        'a signed-only message by mallory claiming to be alice is rejected',
        async () => {
          const { alice, bob, mallory } = w()
          const sent = await mallory.backend.encrypt(body('forged'), [bob.jid], { mode: 'sign' })
          await expectRejected(
            bob.backend.decrypt(sent.element, stanza(alice.jid, bob.jid), { allowSignedOnly: true }),
          )
        },
      )
    })
  })
}
