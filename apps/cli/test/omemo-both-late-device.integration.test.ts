/**
 * ATM-S4 + D-12 through the CLI only (spawned `vouch` processes, one data directory per device)
 * against a throwaway Prosody, with the optional GPL-3.0 OMEMO 0.3 plugin: Alice's laptop runs
 * OMEMO 2 and OMEMO 0.3 with one key pair and authenticates Carol's OMEMO 0.3 key (a Conversations
 * code) and distrusts Dave's; then Alice adds a phone that runs both versions too. When the
 * laptop scans the phone's OMEMO 2 code, identity linking authenticates the phone's OMEMO 0.3 key,
 * and that is planned as a decision in OMEMO 0.3 (the atm README, "Sending with identity
 * linking"): the phone is sent, over OMEMO 2, the OMEMO 0.3 keys the laptop had decided about
 * before it joined. The same when the new device's OMEMO 0.3 key appears only after the scan
 * (`device enable omemo03`): the laptop sends those messages when it learns the key
 * (`keysDiscovered`'s `outgoing`, sent by `@vouch/xmpp`). Skipped visibly without Prosody outside CI.
 */
import { describe, expect, it } from 'vitest'
import { addPhone, prosodyDevices, skipWithoutProsody } from './prosody-devices.ts'

const SKIP = skipWithoutProsody('omemo-both-late-device.integration.test.ts')

describe.skipIf(SKIP)(
  'a device running both OMEMO versions, added late, over Prosody (spawned vouch processes)',
  { timeout: 240_000 },
  () => {
    const { server, on, json, uriOf, levels } = prosodyDevices('late', 'late-1234')
    const alice = 'alice@localhost'
    const carol = 'carol@localhost'
    const dave = 'dave@localhost'

    it('ATM-S4 + D-12: a both-versions phone authenticated after the laptop decided about OMEMO 0.3 keys ends with the laptop’s OMEMO 0.3 trust', async () => {
      const svc = ['--service', server().service]
      const both = ['--encryption', 'omemo2,omemo03']
      await json('laptop', 'account', 'register', alice, ...svc, ...both, '--resource', 'laptop')
      const c = await json('carol', 'account', 'register', carol, ...svc, '--encryption', 'omemo03')
      const d = await json('dave', 'account', 'register', dave, ...svc, '--encryption', 'omemo03')
      // the laptop scans Carol's Conversations code and distrusts Dave's device
      await on('laptop', 'uri', 'use', (await json('carol', 'uri', 'show')).fingerprint, '--yes')
      expect(await levels('laptop', dave)).toEqual({ [d.key]: 'automatically-trusted' })
      await on('laptop', 'trust', 'distrust', dave, d.key)
      const laptopCarol = await levels('laptop', carol)
      const laptopDave = await levels('laptop', dave)
      expect([laptopCarol, laptopDave]).toEqual([
        { [c.key]: 'authenticated' },
        { [d.key]: 'manually-distrusted' },
      ])

      // the phone joins with both versions (it scans the laptop's code); nothing decided about
      // Carol or Dave on it yet (TOAKAFA trusts their only keys blindly)
      const laptopUri = (await json('laptop', 'uri', 'show')).uri
      await json('phone', ...addPhone(alice, svc, ...both, '--uri', laptopUri, '--yes'))
      expect(await levels('phone', carol)).toEqual({ [c.key]: 'automatically-trusted' })

      // the laptop scans the phone's OMEMO 2 code: ATM-S4 in OMEMO 2, and, for the phone's OMEMO
      // 0.3 twin, in OMEMO 0.3 carried by OMEMO 2
      expect(await on('laptop', 'uri', 'use', await uriOf('phone'), '--yes', '--source', 'scan')).toMatch(
        /authenticated\n.*authenticated/,
      )
      expect(await levels('phone', carol)).toEqual(laptopCarol)
      expect(await levels('phone', dave)).toEqual(laptopDave)
    })

    it('ATM-S4 + D-12, a twin announced after the decision: a tablet enables OMEMO 0.3 after the laptop authenticated its OMEMO 2 key; the laptop sends it the OMEMO 0.3 keys it decided about when it sees the new key', async () => {
      const svc = ['--service', server().service]
      const laptopUri = (await json('laptop', 'uri', 'show')).uri
      await json('tablet', 'device', 'add', alice, ...svc, '--resource', 'tablet', '--encryption', 'omemo2')
      await on('tablet', 'uri', 'use', laptopUri, '--yes', '--source', 'scan')
      // the laptop scans the tablet's OMEMO 2 code while the tablet runs OMEMO 2 only
      await on('laptop', 'uri', 'use', await uriOf('tablet'), '--yes', '--source', 'scan')
      const enabled = await json('tablet', 'device', 'enable', 'omemo03')
      // nothing about OMEMO 0.3 reached the tablet yet (TOAKAFA trusts Carol's only key blindly)
      expect(Object.values(await levels('tablet', carol))).toEqual(['automatically-trusted'])
      // the laptop sees the tablet's OMEMO 0.3 key (its device list): it inherits the scan, and the
      // OMEMO 0.3 messages that scan would have sent go out now (carried by OMEMO 2)
      expect((await levels('laptop', alice))[enabled.omemo03Key]).toBe('authenticated')
      expect(await levels('tablet', carol)).toEqual(await levels('laptop', carol))
      expect(await levels('tablet', dave)).toEqual(await levels('laptop', dave))
      expect(Object.values(await levels('tablet', dave))).toEqual(['manually-distrusted'])
    })
  },
)
