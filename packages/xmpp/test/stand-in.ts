/**
 * Test doubles for binding tests without a server: the content a stand-in backend "decrypts"
 * (a chat body), a fake-server answer with an empty roster, and a way to let queued work run.
 */
import type { BareJid, DecryptedContent, EncryptionNamespace, KeyId } from '@vouch/tm-core'
import xml, { type Element } from '@xmpp/xml'
import type { Fake } from './fake-client.ts'

/** A signed chat `text` from `senderJid`'s `senderKey`, as a backend of `carrier` returns it. */
export function chatContent(
  text: string,
  from: { readonly senderJid: BareJid; readonly carrier: EncryptionNamespace; readonly senderKey: KeyId },
): DecryptedContent {
  const body = xml('body', { xmlns: 'jabber:client' }, text)
  return {
    content: xml('content', {}, body),
    payload: [body],
    ...from,
    encrypted: true,
    mode: 'signcrypt',
    signed: true,
  }
}

/** Answers a roster get with an empty roster (nobody is our contact). */
export function emptyRoster(account: BareJid): (sent: Element, fake: Fake) => void {
  return (sent, fake) => {
    if (sent.name === 'iq' && sent.attrs.type === 'get' && sent.getChild('query', 'jabber:iq:roster'))
      setImmediate(() =>
        fake.receive(
          xml(
            'iq',
            { type: 'result', id: sent.attrs.id, to: `${account}/r` },
            xml('query', { xmlns: 'jabber:iq:roster' }),
          ),
        ),
      )
  }
}

/** Lets queued callbacks and promise chains run. */
export async function tick(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r))
}
