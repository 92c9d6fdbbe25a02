/**
 * Attack: the server (or a co-recipient) delivers an OX message again. OX has no ratchet and the
 * binding drops duplicates by stanza id only, so a replay under a new stanza id — or the same
 * signed message re-encrypted to us by another recipient of it — used to be accepted again
 * within the time window. The backend remembers every accepted signed message (its signer's
 * fingerprint and signed plaintext) and rejects a second delivery as `REPLAY`:
 * - persistently (a new backend instance on the same store, a reopened SQLite file);
 * - in the caller's transaction (`DecryptOptions.store`): when the caller rolls back, the memory
 *   of the message rolls back too, and a later (archived) copy is accepted;
 * - only after every other check passed: a message refused for another reason is not remembered;
 * - without touching state when it rejects.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { memoryStore } from '@vouch/store-memory'
import { sqliteStore } from '@vouch/store-sqlite'
import type { AccountTrustStore, BareJid, TrustStore } from '@vouch/tm-core'
import * as openpgp from 'openpgp'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { OxBackend } from '../../src/index.ts'
import { generateOxKey, keyIdOf, openpgpElement, oxBackend, readOpenpgpElement } from '../../src/index.ts'
import { ALICE, BOB, body, importKey, MALLORY, rejectionOf, replayMemory, stanza } from '../helpers.ts'

const YEAR_AGO = new Date(Date.now() - 365 * 24 * 3600 * 1000)
const keys = new Map<BareJid, openpgp.PrivateKey>()
const dir = mkdtempSync(join(tmpdir(), 'vouch-ox-replay-'))
let files = 0

interface StoreKind {
  readonly name: string
  /** a store, and how to get "the same store" again as a restarted process would */
  open(): Promise<{ store: TrustStore; reopen(): Promise<TrustStore> }>
}

const STORES: readonly StoreKind[] = [
  {
    name: 'memory store (new backend instance)',
    async open() {
      const store = memoryStore()
      return { store, reopen: async () => store }
    },
  },
  {
    name: 'SQLite file (closed and reopened)',
    async open() {
      const path = join(dir, `bob-${++files}.sqlite`)
      const store = await sqliteStore({ database: path })
      return {
        store,
        async reopen() {
          await store.close()
          const again = await sqliteStore({ database: path })
          opened.push(again)
          return again
        },
      }
    },
  },
]

const opened: TrustStore[] = []
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close()
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

beforeAll(async () => {
  for (const jid of [ALICE, BOB, MALLORY]) keys.set(jid, await generateOxKey(jid, { date: YEAR_AGO }))
})

const key = (jid: BareJid): openpgp.PrivateKey => keys.get(jid) as openpgp.PrivateKey

/** `jid`'s backend on `store`, holding the others' public keys. */
async function account(jid: BareJid, store: AccountTrustStore): Promise<OxBackend> {
  const ox = oxBackend()({ store })
  await ox.importOwnKey(key(jid))
  for (const other of [ALICE, BOB, MALLORY])
    if (other !== jid) await importKey(ox, store, other, key(other).toPublic().write())
  return ox
}

const REPLAY = { name: 'DecryptionError', rule: 'REPLAY' }

describe.each(STORES)('replayed OX message (REPLAY) — $name', (kind) => {
  it('the same message delivered again (another stanza, another resource) is REPLAY and changes no state', async () => {
    const { store } = await kind.open()
    opened.push(store)
    const bob = await account(BOB, store.forAccount(BOB))
    const alice = await account(ALICE, memoryStore().forAccount(ALICE))
    const sent = await alice.encrypt(body('once'), [BOB])
    expect((await bob.decrypt(sent.element, stanza(ALICE, BOB))).signed).toBe(true)
    const before = await replayMemory(store.forAccount(BOB))
    expect(await rejectionOf(bob.decrypt(sent.element, stanza(ALICE, BOB)))).toMatchObject(REPLAY)
    expect(await rejectionOf(bob.decrypt(sent.element, stanza(ALICE, BOB, 'laptop')))).toMatchObject(REPLAY)
    expect(await replayMemory(store.forAccount(BOB))).toEqual(before)
    // a signed-only trust message too
    const signed = await alice.encrypt(body('trust'), [BOB], { mode: 'sign' })
    await bob.decrypt(signed.element, stanza(ALICE, BOB), { allowSignedOnly: true })
    expect(
      await rejectionOf(bob.decrypt(signed.element, stanza(ALICE, BOB), { allowSignedOnly: true })),
    ).toMatchObject(REPLAY)
  })

  it('is still REPLAY after a restart (a new backend instance on the same store)', async () => {
    const { store, reopen } = await kind.open()
    opened.push(store)
    const alice = await account(ALICE, memoryStore().forAccount(ALICE))
    const sent = await alice.encrypt(body('before the restart'), [BOB])
    await (await account(BOB, store.forAccount(BOB))).decrypt(sent.element, stanza(ALICE, BOB))
    const again = await reopen()
    const bob = oxBackend()({ store: again.forAccount(BOB) }) // keys and memory come from the store
    expect(await rejectionOf(bob.decrypt(sent.element, stanza(ALICE, BOB)))).toMatchObject(REPLAY)
  })

  it('a rolled-back caller transaction forgets the message: the archived copy is accepted later, once', async () => {
    const { store } = await kind.open()
    opened.push(store)
    const account_ = store.forAccount(BOB)
    const bob = await account(BOB, account_)
    const alice = await account(ALICE, memoryStore().forAccount(ALICE))
    const sent = await alice.encrypt(body('live, then archived'), [BOB])
    const failure = new Error('the caller failed after decrypting (e.g. applying the trust message)')
    const rolledBack = account_.transaction(async (tx) => {
      const r = await bob.decrypt(sent.element, stanza(ALICE, BOB), { store: tx })
      expect(r.senderKey).toBe(keyIdOf(key(ALICE)))
      await tx.setState('app', 'processed', new Uint8Array([1]))
      throw failure
    })
    await expect(rolledBack).rejects.toBe(failure)
    expect(await account_.getState('app', 'processed')).toBeUndefined()
    // the archived copy, delivered later in a transaction that commits
    await account_.transaction(async (tx) => {
      await bob.decrypt(sent.element, stanza(ALICE, BOB), { store: tx })
      await tx.setState('app', 'processed', new Uint8Array([1]))
    })
    expect(await account_.getState('app', 'processed')).toEqual(new Uint8Array([1]))
    // committed with the caller's writes: any further copy is a replay, in a transaction or not
    await expect(
      account_.transaction((tx) => bob.decrypt(sent.element, stanza(ALICE, BOB), { store: tx })),
    ).rejects.toMatchObject(REPLAY)
    expect(await rejectionOf(bob.decrypt(sent.element, stanza(ALICE, BOB)))).toMatchObject(REPLAY)
  })

  it('a message refused for another reason is not remembered (only an accepted one is)', async () => {
    const { store } = await kind.open()
    opened.push(store)
    const bob = await account(BOB, store.forAccount(BOB))
    const alice = await account(ALICE, memoryStore().forAccount(ALICE))
    const sent = await alice.encrypt(body('checked first'), [BOB])
    // refused: a stanza to somebody else (OX-TO), a reference time a month later (OX-TIME)
    expect(await rejectionOf(bob.decrypt(sent.element, stanza(ALICE, MALLORY)))).toMatchObject({
      rule: 'OX-TO',
    })
    const later = new Date(Date.now() + 30 * 24 * 3600 * 1000)
    expect(await rejectionOf(bob.decrypt(sent.element, stanza(ALICE, BOB), { now: later }))).toMatchObject({
      rule: 'OX-TIME',
    })
    expect(await replayMemory(store.forAccount(BOB))).toEqual({})
    await bob.decrypt(sent.element, stanza(ALICE, BOB))
    expect(await rejectionOf(bob.decrypt(sent.element, stanza(ALICE, BOB)))).toMatchObject(REPLAY)
  })
})

describe('replayed OX message (REPLAY): the same signed content in a new wrapping', () => {
  it("alice's signed message re-encrypted to bob by a co-recipient is REPLAY", async () => {
    const alice = await account(ALICE, memoryStore().forAccount(ALICE))
    const bob = await account(BOB, memoryStore().forAccount(BOB))
    const sent = await alice.encrypt(body('to both of you'), [BOB, MALLORY])
    await bob.decrypt(sent.element, stanza(ALICE, BOB))
    // mallory opens her copy and wraps alice's signature and signed literal data for bob alone
    // (a new session key, a new ciphertext, no one-pass framing)
    const mallorys = await openpgp.decrypt({
      message: await openpgp.readMessage({ binaryMessage: readOpenpgpElement(sent.element) }),
      decryptionKeys: key(MALLORY),
      format: 'binary',
    })
    const [signature] = mallorys.signatures
    const literal = await openpgp.createMessage({ binary: mallorys.data as Uint8Array })
    const packets = new openpgp.PacketList<openpgp.AnyPacket>()
    packets.push(
      ...(await (signature as { signature: Promise<openpgp.Signature> }).signature).packets,
      ...literal.packets,
    )
    const rewrapped = await openpgp.encrypt({
      message: new openpgp.Message(packets),
      encryptionKeys: key(BOB).toPublic(),
      format: 'binary',
    })
    expect(Buffer.compare(rewrapped, readOpenpgpElement(sent.element))).not.toBe(0)
    // a valid delivery in its own right: a receiver that never saw the original accepts it
    const fresh = await account(BOB, memoryStore().forAccount(BOB))
    expect((await fresh.decrypt(openpgpElement(rewrapped), stanza(ALICE, BOB))).senderKey).toBe(
      keyIdOf(key(ALICE)),
    )
    expect(await rejectionOf(bob.decrypt(openpgpElement(rewrapped), stanza(ALICE, BOB)))).toMatchObject(
      REPLAY,
    )
  })

  it("the same plaintext signed by another key is another message: it cannot pre-empt alice's", async () => {
    const alice = await account(ALICE, memoryStore().forAccount(ALICE))
    const bob = await account(BOB, memoryStore().forAccount(BOB))
    const sent = await alice.encrypt(body('to both of you'), [BOB, MALLORY])
    // mallory signs alice's exact plaintext with her own key and gets it to bob first
    const { data } = await openpgp.decrypt({
      message: await openpgp.readMessage({ binaryMessage: readOpenpgpElement(sent.element) }),
      decryptionKeys: key(MALLORY),
      format: 'binary',
    })
    const copied = await openpgp.encrypt({
      message: await openpgp.createMessage({ binary: data as Uint8Array }),
      encryptionKeys: key(BOB).toPublic(),
      signingKeys: key(MALLORY),
      format: 'binary',
    })
    expect((await bob.decrypt(openpgpElement(copied), stanza(MALLORY, BOB))).senderJid).toBe(MALLORY)
    expect((await bob.decrypt(sent.element, stanza(ALICE, BOB))).senderJid).toBe(ALICE)
    // and each of them, delivered again, is a replay
    expect(await rejectionOf(bob.decrypt(openpgpElement(copied), stanza(MALLORY, BOB)))).toMatchObject(REPLAY)
    expect(await rejectionOf(bob.decrypt(sent.element, stanza(ALICE, BOB)))).toMatchObject(REPLAY)
  })
})
