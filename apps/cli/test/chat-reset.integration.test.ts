/**
 * XEP-0384 v0.9 §6 through the CLI only ("clients MUST offer a way to manually replace broken
 * sessions"): Bob's device loses its session with Alice's (as after restoring an old backup of
 * its key store), so Alice's next message is rejected there and said so (no silent drop). Alice
 * runs `vouch chat reset bob@localhost`: a new session on Bob's current bundle, announced by an
 * empty message carrying the key exchange; Bob's device takes it and answers, and Alice's next
 * message reads again. Spawned `vouch` processes against a throwaway Prosody, OMEMO 2.
 */
import { join } from 'node:path'
import { sqliteStore } from '@vouch/store-sqlite'
import type { BareJid } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import { prosodyDevices, skipWithoutProsody } from './prosody-devices.ts'

const SKIP = skipWithoutProsody('chat-reset.integration.test.ts')

describe.skipIf(SKIP)('vouch chat reset over Prosody (spawned vouch processes)', { timeout: 90_000 }, () => {
  const { server, dir, json, listen } = prosodyDevices('reset', 'reset-1234')

  it('XEP-0384 §6: a session lost on one side is replaced by hand with vouch chat reset; the next message reads again', async () => {
    const svc = ['--service', server().service]
    const alice = 'alice@localhost'
    const bob = 'bob@localhost'
    await json('alice', 'account', 'register', alice, ...svc, '--resource', 'laptop')
    await json('bob', 'account', 'register', bob, ...svc, '--resource', 'phone')
    const bobDevice = (await json('bob', 'device', 'list'))[0].device as number

    // a working session: Alice's key exchange, Bob's answer read by Alice
    await json('alice', 'chat', 'send', bob, 'one')
    expect((await listen('bob', 2, 1)).messages.map((m) => m.body)).toEqual(['one'])
    await listen('alice', 2)

    // Bob's device loses its session with Alice's device
    const store = await sqliteStore({ database: join(dir('bob'), 'vouch.sqlite') })
    const account = store.forAccount(bob as BareJid)
    const sessions = await account.listState('omemo2', `session/${alice}/`)
    expect(sessions).toHaveLength(1)
    for (const k of sessions) await account.deleteState('omemo2', k)
    await store.close()

    await json('alice', 'chat', 'send', bob, 'two')
    const lost = await listen('bob', 2)
    expect(lost.messages).toEqual([])
    expect(lost.rejected).toHaveLength(1) // said, not dropped
    expect(lost.summary).toContain('rejected 1')

    // Alice replaces the session by hand
    const reset = await json('alice', 'chat', 'reset', bob)
    expect(reset).toEqual({ jid: bob, replaced: [{ protocol: 'OMEMO 2', devices: [bobDevice] }] })
    // Bob's device takes the key exchange (nothing to read) and answers it; Alice reads the answer
    const taken = await listen('bob', 2)
    expect(taken.messages).toEqual([])
    expect(taken.rejected).toEqual([])
    await listen('alice', 2)

    await json('alice', 'chat', 'send', bob, 'three')
    expect((await listen('bob', 2, 1)).messages.map((m) => m.body)).toEqual(['three'])
    await json('bob', 'chat', 'send', alice, 'and back')
    expect((await listen('alice', 2, 1)).messages.map((m) => m.body)).toEqual(['and back'])
  })
})
