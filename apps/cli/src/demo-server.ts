/**
 * `pnpm demo --server`: the ATM (XEP-0450) demo on a real, local Prosody started for it
 * (`@vouch/prosody-tooling`), with OX keys, Carbons, MAM and PEP. A composition root only.
 */
import { NS_OX, oxBackend } from '@vouch/backend-ox'
import { PROSODY_INSTALL_HINT, prosodyInstalled, startProsody } from '@vouch/prosody-tooling'
import { memoryStore } from '@vouch/store-memory'
import type { BareJid, KeyId } from '@vouch/tm-core'
import { keyIdToHex } from '@vouch/tm-core'
import { formatTrustMessageUri, parseTrustMessageUri } from '@vouch/uri'
import { oxKeyDirectory } from '@vouch/backend-ox/pep'
import { createClient, startClient, stopClient, type VouchXmpp, vouchXmpp } from '@vouch/xmpp'
import type { CliContext } from './main.ts'

const PASSWORD = 'demo-password'

/** Runs the demo; resolves to the exit code (1 when Prosody is missing, with how to install it). */
export async function runServerDemo(ctx: CliContext): Promise<number> {
  if (!prosodyInstalled()) {
    ctx.output.err(`${PROSODY_INSTALL_HINT}; then run pnpm demo --server again`)
    return 1
  }
  const say = (s: string): void => ctx.output.out(s)
  const t0 = Date.now()
  const server = await startProsody()
  const stops: (() => Promise<void>)[] = []
  try {
    say(`Prosody on ${server.service} (data in ${server.dir})`)
    await server.register('alice', PASSWORD)
    await server.register('bob', PASSWORD)
    const connect = async (user: string, resource: string, shareWith?: VouchXmpp): Promise<VouchXmpp> => {
      const jid = `${user}@${server.domain}` as BareJid
      const store = memoryStore().forAccount(jid)
      const ox = oxBackend()({ store })
      const source = shareWith === undefined ? undefined : shares.get(shareWith)
      if (source === undefined) await ox.generateOwnKey()
      else {
        const backup = await source.createBackup()
        await ox.restoreBackup(backup.bytes, backup.code)
      }
      const xmpp = createClient({ service: server.service, jid, password: PASSWORD, resource })
      const vouch = vouchXmpp(xmpp, { store, backends: [ox], keyDirectories: [oxKeyDirectory(ox)] })
      shares.set(vouch, ox)
      const synced = vouch.synced()
      await startClient(xmpp)
      await synced
      stops.push(async () => {
        vouch.close()
        await stopClient(xmpp).catch(() => undefined)
      })
      say(
        `  ${jid}/${resource} online (OX key ${keyIdToHex((await ox.ownKeys())[0] as KeyId).toUpperCase()})`,
      )
      return vouch
    }
    const shares = new Map<VouchXmpp, ReturnType<ReturnType<typeof oxBackend>>>()
    const a1 = await connect('alice', 'A1')
    const a2 = await connect('alice', 'A2', a1)
    const b1 = await connect('bob', 'B1')
    await a1.refreshKeys(b1.account)
    await a2.refreshKeys(b1.account)
    await b1.refreshKeys(a1.account)
    const bobKey = (await b1.backends.get(NS_OX)?.ownKeys())?.[0] as KeyId
    const uri = formatTrustMessageUri({ jid: b1.account, encryption: NS_OX, trust: [bobKey], distrust: [] })
    say(`1. Bob shows his Trust Message URI (QR code): ${uri}`)
    const changedAtA2 = new Promise<void>((resolve) =>
      a2.on('trust-changed', (c) => {
        if (c.key.keyId === bobKey && c.to === 'authenticated') resolve()
      }),
    )
    await a1.applyUri(parseTrustMessageUri(uri), { uriSource: 'scan', confirm: async () => true })
    say(
      '2. A1 scans it and confirms: Bob’s key is authenticated on A1, a trust message goes to Alice’s bare JID',
    )
    await changedAtA2
    say('3. A2 decrypts the trust message (Carbons) and authenticates Bob’s key automatically (ATM-R1)')
    const got = new Promise<string>((resolve) =>
      a2.on('message', (m) => resolve(`${m.body} [${m.trustLevel}]`)),
    )
    await b1.sendChat(a1.account, 'Hello Alice, this is Bob (OX)')
    say(`4. Bob writes to Alice; A2 reads: ${await got}`)
    say(`Done in ${Date.now() - t0} ms.`)
    return 0
  } finally {
    for (const stop of stops) await stop()
    await server.stop()
  }
}
