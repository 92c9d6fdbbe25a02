/**
 * Both OMEMO versions on one device, through the CLI only (spawned `vouch` processes, one data
 * directory per device) against a throwaway Prosody, with the optional GPL-3.0 plugin (issue 12
 * point 6, D-12):
 * - Alice's laptop registers with `--encryption omemo2,omemo03`: one device id in both device
 *   lists, one identity key pair (the OMEMO 0.3 key is the OMEMO 2 key's Curve25519 form);
 * - it chats with Bob (OMEMO 2 only: the chat goes in OMEMO 2) and Carol (OMEMO 0.3 only: in
 *   OMEMO 0.3), both ways, and reads both;
 * - Dave has one device of each: no protocol reaches both, so the message goes in the one that
 *   reaches the most and `chat send` names the device it misses (never silently fewer devices);
 * - Alice's phone is added on OMEMO 2, then `device enable omemo03`: authenticating the laptop's
 *   OMEMO 2 key (its scan) authenticated the laptop's OMEMO 0.3 key too (identity linking), and
 *   the other way round; when the laptop then authenticates Carol's OMEMO 0.3 key, ATM tells the
 *   phone in a trust message carried by OMEMO 2 (the cross-protocol rule, ATM-S1/R1), and the
 *   phone authenticates it too; revoking the phone from the laptop distrusts both its keys and
 *   takes it out of both device lists.
 * Skipped visibly without Prosody outside CI.
 */
import { describe, expect, it } from 'vitest'
import { addPhone, type Out, prosodyDevices, skipWithoutProsody } from './prosody-devices.ts'

const SKIP = skipWithoutProsody('omemo-both.integration.test.ts')

const NS_OMEMO2 = 'urn:xmpp:omemo:2'
const NS_AXOLOTL = 'eu.siacs.conversations.axolotl'

describe.skipIf(SKIP)(
  'OMEMO 2 and OMEMO 0.3 on one device over Prosody (spawned vouch processes)',
  { timeout: 240_000 },
  () => {
    const { server, on, json, spawn, listen, uriOf, levels } = prosodyDevices('both', 'both-1234')
    const alice = 'alice@localhost'
    const bob = 'bob@localhost'
    const carol = 'carol@localhost'
    const dave = 'dave@localhost'

    it('issue 12 §6, D-12: one device id and one key pair in both versions; chats in OMEMO 2 with an OMEMO 2 device, in OMEMO 0.3 with an OMEMO 0.3 device, both read; unreached devices named; ATM round over OMEMO 2 about OMEMO 0.3 keys', async () => {
      const svc = ['--service', server().service]
      // 1. the dual laptop, an OMEMO 2-only Bob, an OMEMO 0.3-only Carol
      const laptop = await json(
        'laptop',
        'account',
        'register',
        alice,
        ...svc,
        '--encryption',
        'omemo2,omemo03',
        '--resource',
        'laptop',
      )
      expect(laptop).toMatchObject({ jid: alice, encryption: 'omemo2,omemo03', registered: true })
      expect(laptop.omemo03Key).toMatch(/^[0-9A-F]{64}$/)
      expect(laptop.omemo03Key).not.toBe(laptop.key)
      const own = (await json('laptop', 'device', 'list')) as Out[]
      expect(own).toEqual([
        expect.objectContaining({
          device: laptop.device,
          key: laptop.key,
          level: 'this device',
          protocol: 'OMEMO 2',
        }),
        expect.objectContaining({
          device: laptop.device,
          key: laptop.omemo03Key,
          level: 'this device',
          protocol: 'OMEMO 0.3',
        }),
      ])
      const b = await json('bob', 'account', 'register', bob, ...svc, '--resource', 'phone')
      const c = await json('carol', 'account', 'register', carol, ...svc, '--encryption', 'omemo03')

      // 2. Bob and the laptop scan each other's Trust Message URI (OMEMO 2); --yes refuses keys the
      // JID does not publish (URI-4)
      const laptopShow = await json('laptop', 'uri', 'show')
      expect(laptopShow.uri).toContain(`encryption=${NS_OMEMO2}`)
      expect(laptopShow.fingerprint).toBe(
        `xmpp:${alice}?omemo-sid-${laptop.device}=05${String(laptop.omemo03Key).toLowerCase()}`,
      )
      await on('laptop', 'uri', 'use', await uriOf('bob'), '--yes', '--source', 'scan')
      await on('bob', 'uri', 'use', laptopShow.uri, '--yes', '--source', 'scan')

      // 3. Alice's phone: OMEMO 2 first (it scans the laptop's code), then OMEMO 0.3 beside it
      const phone = await json('phone', ...addPhone(alice, svc, '--uri', laptopShow.uri, '--yes'))
      expect(phone).toMatchObject({ encryption: 'omemo2' })
      const enabled = await json('phone', 'device', 'enable', 'omemo03')
      expect(enabled).toMatchObject({ encryption: 'omemo2,omemo03', device: phone.device, key: phone.key })
      expect(enabled.omemo03Key).toMatch(/^[0-9A-F]{64}$/)
      // D-12: the phone authenticated the laptop's OMEMO 2 key; its OMEMO 0.3 twin follows
      expect(await levels('phone', alice)).toMatchObject({
        [laptop.key]: 'authenticated',
        [laptop.omemo03Key]: 'authenticated',
      })
      // the laptop scans the phone's OMEMO 2 code: the phone's OMEMO 0.3 key follows there too
      await on('laptop', 'uri', 'use', await uriOf('phone'), '--yes', '--source', 'scan')
      expect(await levels('laptop', alice)).toMatchObject({
        [phone.key]: 'authenticated',
        [enabled.omemo03Key]: 'authenticated',
      })

      // 4. Carol and the laptop scan each other's Conversations fingerprint code (OMEMO 0.3): the
      // laptop's OMEMO 0.3 key is published under the same device id. ATM-S1 over OMEMO 2 (the
      // cross-protocol rule): the phone learns that the laptop authenticated Carol's OMEMO 0.3 key
      await on('laptop', 'uri', 'use', (await json('carol', 'uri', 'show')).fingerprint, '--yes')
      expect(await on('carol', 'uri', 'use', laptopShow.fingerprint, '--yes', '--source', 'scan')).toContain(
        `${alice} ${laptop.omemo03Key} authenticated`,
      )
      expect(await levels('laptop', carol)).toEqual({ [c.key]: 'authenticated' })
      expect(await levels('phone', carol)).toEqual({ [c.key]: 'authenticated' })

      // 5. chats: OMEMO 2 with Bob, OMEMO 0.3 with Carol, each way; the laptop reads both
      const toBob = await json('laptop', 'chat', 'send', bob, 'hello Bob')
      expect(toBob).toMatchObject({ encryption: NS_OMEMO2, unreached: [] })
      expect(toBob.recipients).toEqual(expect.arrayContaining([b.key, phone.key]))
      const toCarol = await json('laptop', 'chat', 'send', carol, 'hello Carol')
      expect(toCarol).toMatchObject({ encryption: NS_AXOLOTL, unreached: [] })
      // the phone's OMEMO 0.3 key is authenticated (its twin's decision): it gets a copy
      expect(toCarol.recipients).toEqual(expect.arrayContaining([c.key, enabled.omemo03Key]))
      const sentText = await spawn('laptop', ['chat', 'send', carol, 'in which protocol?'])
      expect(sentText.stdout).toMatch(/^sent \S+ in OMEMO 0\.3 to 1 device of carol@localhost$/m)
      expect(sentText.stderr).toBe('')
      // the same device id in both versions: Bob reads it from the OMEMO 2 list, Carol from the OMEMO 0.3 one
      expect((await listen('bob', 3, 1)).messages).toEqual([
        expect.objectContaining({
          body: 'hello Bob',
          encryption: NS_OMEMO2,
          senderKey: laptop.key,
          device: laptop.device,
        }),
      ])
      expect((await listen('carol', 3, 2)).messages).toEqual([
        expect.objectContaining({
          body: 'hello Carol',
          senderKey: laptop.omemo03Key,
          device: laptop.device,
          trust: 'authenticated',
        }),
        expect.objectContaining({ body: 'in which protocol?' }),
      ])
      await on('bob', 'chat', 'send', alice, 'hi from Bob')
      await on('carol', 'chat', 'send', alice, 'hi from Carol')
      const heard = (await listen('laptop', 5, 2)).messages
      expect(heard).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ body: 'hi from Bob', encryption: NS_OMEMO2, trust: 'authenticated' }),
          expect.objectContaining({ body: 'hi from Carol', encryption: NS_AXOLOTL, trust: 'authenticated' }),
        ]),
      )

      // 6. never silently fewer devices: Dave has an OMEMO 2 device and an OMEMO 0.3 device
      const d2 = await json('dave2', 'account', 'register', dave, ...svc, '--resource', 'two')
      const d3 = await json(
        'dave3',
        'account',
        'add',
        dave,
        ...svc,
        '--encryption',
        'omemo03',
        '--resource',
        'old',
      )
      const toDave = await spawn('laptop', ['chat', 'send', dave, 'hello Dave', '--json'])
      expect(toDave.code, toDave.stderr).toBe(0)
      expect(JSON.parse(toDave.stdout)).toMatchObject({
        encryption: NS_OMEMO2,
        unreached: [String(d3.device)],
      })
      expect(JSON.parse(toDave.stdout).recipients).toContain(d2.key)
      expect(toDave.stderr.trim()).toBe(
        `UNREACHED: 1 device of ${dave} (${d3.device}) cannot read it: it does not announce OMEMO 2, and no protocol of this device reaches every device of ${dave} (sent in the one that reaches the most)`,
      )

      // 7. the phone is lost: revoked from the laptop, it leaves both device lists; its OMEMO 0.3
      // key is distrusted with its OMEMO 2 key (one identity)
      const revoked = await json('laptop', 'device', 'revoke', String(phone.device))
      expect(revoked).toMatchObject({
        device: phone.device,
        key: phone.key,
        omemo03Key: enabled.omemo03Key,
        level: 'manually-distrusted',
        removedFromDeviceList: true,
      })
      // (device list is offline: refresh the account's lists first)
      expect(await levels('laptop', alice)).toMatchObject({
        [phone.key]: 'manually-distrusted',
        [enabled.omemo03Key]: 'manually-distrusted',
      })
      const after = ((await json('laptop', 'device', 'list')) as Out[]).filter(
        (d) => d.device === phone.device,
      )
      expect(after).toEqual([
        expect.objectContaining({ key: phone.key, level: 'manually-distrusted', published: false }),
        expect.objectContaining({ key: enabled.omemo03Key, level: 'manually-distrusted', published: false }),
      ])
    })
  },
)
