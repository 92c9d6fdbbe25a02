/**
 * The README walk-through, through the CLI only: every step is a spawned `vouch` process with
 * its own data directory (one per device), against a throwaway Prosody.
 *
 * OMEMO 2 (one key per device): Alice's laptop and Bob's device scan each other's code once;
 * Alice adds her phone (the phone scans the laptop's code, the laptop the phone's); ATM then
 * makes the phone trust Bob (ATM-S4, a trust message from the laptop) and Bob trust the phone
 * (ATM-S3) without another scan; Alice revokes the phone from the laptop (ATM-S5 + device list);
 * Bob's next message is not encrypted for the phone, which cannot read it. An OMEMO session answer
 * for another device (Bob's to the laptop, in the phone's archive) is skipped without a line.
 *
 * OX (one key per account), as far as OX allows: the phone gets the account key through the
 * XEP-0373 backup code, so Bob trusts it as the laptop; the phone does NOT learn Bob's trust
 * (ATM-4: no trust messages between devices sharing a key); revoking means a new key (the old
 * one leaves the metadata node), Bob must scan Alice's new code (it distrusts the old key), then
 * his next message is not readable on the phone.
 */
import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { addPhone, prosodyDevices, skipWithoutProsody } from './prosody-devices.ts'

const SKIP = skipWithoutProsody('walkthrough.integration.test.ts')

describe.skipIf(SKIP)(
  'README walk-through over Prosody (spawned vouch processes)',
  { timeout: 180_000 },
  () => {
    const { server, dir, spawn, on, json, listen, uriOf, levels } = prosodyDevices('walk', 'walk-1234')

    it.concurrent('OMEMO 2: scan once, the phone and Bob trust each other by ATM, a revoked phone cannot read Bob’s next message (ATM-S3, ATM-S4, ATM-S5)', async () => {
      const svc = ['--service', server().service]
      const alice = 'alice@localhost'
      const bob = 'bob@localhost'
      // 1. accounts (OMEMO 2 is the default)
      const laptop = await json('o-laptop', 'account', 'register', alice, ...svc, '--resource', 'laptop')
      expect(laptop).toMatchObject({ jid: alice, encryption: 'omemo2', registered: true })
      await on('o-bob', 'account', 'register', bob, ...svc, '--resource', 'phone')
      // 2. Alice and Bob scan each other's code once
      await on('o-laptop', 'uri', 'use', await uriOf('o-bob'), '--yes', '--source', 'scan')
      await on('o-bob', 'uri', 'use', await uriOf('o-laptop'), '--yes', '--source', 'scan')
      // 3. Alice's phone: a new device with its own key; it scans the laptop's code …
      const phone = await json('o-phone', ...addPhone(alice, svc, '--uri', await uriOf('o-laptop'), '--yes'))
      expect(phone.key).not.toBe(laptop.key)
      expect(phone.changes).toEqual([{ owner: alice, key: laptop.key, level: 'authenticated' }])
      // … and the laptop scans the phone's (the one a new device shows)
      expect(phone.uri).toBe(await uriOf('o-phone'))
      await on('o-laptop', 'uri', 'use', phone.uri, '--yes', '--source', 'scan')
      // one code for the account: the laptop's now lists the phone too (as Kaidan does)
      expect(await uriOf('o-laptop')).toContain(`trust=${phone.key.toLowerCase()}`)
      // 4. ATM: the phone trusts Bob, Bob trusts the phone, nobody scanned again
      const bobKey = (await json('o-bob', 'device', 'list'))[0].key as string
      // Bob's chat session says so in one plain line as it catches up
      const session = await spawn('o-bob', ['chat', alice], '/quit\n')
      expect(session.code, session.stderr).toBe(0)
      // (as a key change, or as a new device when the trust message came first)
      expect(session.stdout).toMatch(
        new RegExp(
          `^\\* (${alice}'s key|new device of ${alice}: key) ${phone.key} is (now )?authenticated`,
          'm',
        ),
      )
      // the phone's archive holds Bob's session answer to the laptop (an OMEMO empty message for
      // the laptop only: nothing to read, skipped without a line) and the laptop's trust message to
      // Bob about the phone (content not encrypted for the phone, TM-21: still reported)
      const archived = await listen('o-phone', 3)
      expect(archived.skipped).toEqual([
        expect.objectContaining({
          from: expect.stringMatching(/^bob@localhost\//),
          rule: 'OMEMO-NOT-FOR-US',
        }),
      ])
      expect(archived.rejected.map((r) => r.from)).not.toContainEqual(expect.stringMatching(/^bob@localhost/))
      expect(archived.summary).toBe(`received 0 messages, rejected ${archived.rejected.length}`)
      expect((await levels('o-phone', bob))[bobKey]).toBe('authenticated')
      expect((await levels('o-bob', alice))[phone.key]).toBe('authenticated')
      // Bob's message reaches both of Alice's devices
      const first = await json('o-bob', 'chat', 'send', alice, 'hello Alice')
      expect(first.recipients.sort()).toEqual([laptop.key, phone.key].sort())
      const heard = await listen('o-phone', 10, 1)
      expect(heard.messages).toEqual([
        expect.objectContaining({ body: 'hello Alice', trust: 'authenticated' }),
      ])
      expect(heard.summary).toMatch(/^received 1 message\b/)
      // 5. the phone is lost: Alice revokes it from the laptop
      const devices = (await json('o-laptop', 'device', 'list')) as {
        device: number
        key: string
        level: string
      }[]
      const lost = devices.find((d) => d.key === phone.key)
      expect(lost?.level).toBe('authenticated')
      const revoked = await json('o-laptop', 'device', 'revoke', String(lost?.device))
      expect(revoked).toMatchObject({
        key: phone.key,
        level: 'manually-distrusted',
        removedFromDeviceList: true,
      })
      expect(revoked.sent).toBeGreaterThan(0)
      // Bob learns it from the laptop's trust message (ATM-S5)
      expect((await levels('o-bob', alice))[phone.key]).toBe('manually-distrusted')
      // 6. Bob's next message is not encrypted for the phone …
      const second = await json('o-bob', 'chat', 'send', alice, 'after the revoke')
      expect(second.recipients).toEqual([laptop.key])
      // … so the phone reads nothing, the laptop reads it
      const phoneSession = await spawn('o-phone', ['chat', bob], '/quit\n')
      expect(phoneSession.stdout).not.toContain('after the revoke')
      expect(phoneSession.stdout, phoneSession.stdout).toMatch(
        /^\* a message from bob@localhost\/\S+ could not be read: not encrypted for this device$/m,
      )
      expect((await listen('o-phone', 1)).messages.map((m) => m.body)).not.toContain('after the revoke')
      expect((await listen('o-laptop', 10, 2)).messages.map((m) => m.body)).toContain('after the revoke')
    })

    it.concurrent('OX: the phone copies the account key with the backup code; revoke = a new key, Bob scans again, the old key cannot read his next message (ATM-4)', async () => {
      const svc = ['--service', server().service, '--encryption', 'ox']
      const alice = 'carol@localhost'
      const bob = 'dave@localhost'
      const laptop = await json('x-laptop', 'account', 'register', alice, ...svc, '--resource', 'laptop')
      expect(laptop).toMatchObject({ encryption: 'ox', device: null })
      await on('x-bob', 'account', 'register', bob, ...svc, '--resource', 'phone')
      await on('x-laptop', 'uri', 'use', await uriOf('x-bob'), '--yes')
      await on('x-bob', 'uri', 'use', await uriOf('x-laptop'), '--yes')
      // the phone: the laptop publishes an encrypted backup and prints its code …
      const code = (await json('x-laptop', 'device', 'add')).code as string
      expect(code).toMatch(/^([1-9A-NP-Z]{4}-){5}[1-9A-NP-Z]{4}$/)
      // … which the phone needs to copy the key (a wrong one is refused and leaves nothing behind)
      const wrong = await spawn('x-wrong', addPhone(alice, svc, '--code', 'AAAA-AAAA-AAAA-AAAA-AAAA-AAAA'))
      expect(wrong.code).toBe(2)
      expect(wrong.stderr.trim().split('\n')).toHaveLength(1)
      expect(existsSync(dir('x-wrong'))).toBe(false)
      const phone = await json('x-phone', ...addPhone(alice, svc, '--code', code))
      expect(phone.key).toBe(laptop.key)
      // Bob trusts the phone (it is the laptop's key); the phone does not learn Bob's trust (ATM-4)
      const bobKey = (await json('x-bob', 'device', 'list'))[0].key as string
      expect((await levels('x-phone', bob))[bobKey]).toBe('automatically-trusted')
      await json('x-bob', 'chat', 'send', alice, 'hello Carol')
      expect((await listen('x-phone', 10, 1)).messages.map((m) => m.body)).toEqual(['hello Carol'])
      // revoke: a new key, the old one out of the metadata node
      const rotated = await json('x-laptop', 'device', 'revoke', laptop.key)
      expect(rotated).toMatchObject({ oldKey: laptop.key, removedFromMetadata: true })
      const newCode = await uriOf('x-laptop')
      expect(newCode).toContain(`trust=${rotated.newKey.toLowerCase()}`)
      expect(newCode).toContain(`distrust=${laptop.key.toLowerCase()}`)
      // OX cannot vouch with the old key: Bob scans the new code, which distrusts the old one
      await on('x-bob', 'uri', 'use', newCode, '--yes')
      const seen = await levels('x-bob', alice)
      expect(seen).toMatchObject({ [laptop.key]: 'manually-distrusted', [rotated.newKey]: 'authenticated' })
      const next = await json('x-bob', 'chat', 'send', alice, 'after the new key')
      expect(next.recipients).not.toContain(laptop.key)
      expect((await listen('x-phone', 1)).messages.map((m) => m.body)).not.toContain('after the new key')
      expect((await listen('x-laptop', 1)).messages.map((m) => m.body)).toContain('after the new key')
    })
  },
)
