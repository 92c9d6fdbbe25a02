/**
 * OMEMO 0.3 through the CLI only (spawned `vouch` processes, one data directory per device)
 * against a throwaway Prosody, with the optional GPL-3.0 plugin `@vouch/backend-omemo-legacy`
 * (a devDependency here; an optional peer dependency of the CLI, loaded by dynamic import):
 * Alice and Bob register on `--encryption omemo03`, Alice scans Bob's Trust Message URI, Bob
 * scans Alice's Conversations fingerprint code (`xmpp:JID?omemo-sid-…`), both see the other's
 * key authenticated (URI-4 / XEP-0450), and a chat goes both ways (the first message is an
 * OMEMO 0.3 key exchange). Skipped visibly without Prosody outside CI.
 */
import { describe, expect, it } from 'vitest'
import { prosodyDevices, skipWithoutProsody } from './prosody-devices.ts'

const SKIP = skipWithoutProsody('omemo03.integration.test.ts')

describe.skipIf(SKIP)('OMEMO 0.3 plugin over Prosody (spawned vouch processes)', { timeout: 60_000 }, () => {
  const { server, on, json, listen } = prosodyDevices('omemo03', 'legacy-1234')

  it('XEP-0384 v0.3 + XEP-0450: register, scan each other (Trust Message URI and Conversations code), chat both ways', async () => {
    const svc = ['--service', server().service, '--encryption', 'omemo03']
    const alice = 'alice@localhost'
    const bob = 'bob@localhost'
    const a = await json('alice', 'account', 'register', alice, ...svc, '--resource', 'laptop')
    expect(a).toMatchObject({ jid: alice, encryption: 'omemo03', registered: true })
    const b = await json('bob', 'account', 'register', bob, ...svc, '--resource', 'phone')
    expect(b).toMatchObject({ jid: bob, encryption: 'omemo03' })

    const aliceDevices = await json('alice', 'device', 'list')
    expect(aliceDevices[0]).toMatchObject({ key: a.key, level: 'this device' })
    expect(aliceDevices[0].device).toBeGreaterThan(0)

    // Alice scans Bob's Trust Message URI (encryption eu.siacs.conversations.axolotl)
    const bobUri = await json('bob', 'uri', 'show')
    expect(bobUri.uri).toContain('encryption=eu.siacs.conversations.axolotl')
    expect(await on('alice', 'uri', 'use', bobUri.uri, '--yes', '--source', 'scan')).toContain(
      `${bob} ${b.key} authenticated`,
    )
    // Bob scans Alice's Conversations fingerprint code: what a deployed client shows and scans
    const aliceUri = await json('alice', 'uri', 'show')
    expect(aliceUri.fingerprint).toBe(
      `xmpp:${alice}?omemo-sid-${aliceDevices[0].device}=05${String(a.key).toLowerCase()}`,
    )
    expect(await on('bob', 'uri', 'use', aliceUri.fingerprint, '--yes', '--source', 'scan')).toContain(
      `${alice} ${a.key} authenticated`,
    )
    const bobSees = await json('bob', 'trust', 'list', alice)
    expect(bobSees).toEqual([expect.objectContaining({ key: a.key, level: 'authenticated' })])

    // a chat both ways: the first message is a key exchange, the answer rides the session
    await json('alice', 'chat', 'send', bob, 'hello Bob, in OMEMO 0.3')
    const atBob = (await listen('bob', 3, 1)).messages
    expect(atBob).toEqual([
      expect.objectContaining({ body: 'hello Bob, in OMEMO 0.3', senderKey: a.key, trust: 'authenticated' }),
    ])
    await json('bob', 'chat', 'send', alice, 'hello Alice')
    const atAlice = (await listen('alice', 3, 1)).messages
    expect(atAlice).toEqual([
      expect.objectContaining({ body: 'hello Alice', senderKey: b.key, trust: 'authenticated' }),
    ])
  })
})
