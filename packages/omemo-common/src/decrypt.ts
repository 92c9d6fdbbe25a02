/**
 * What both OMEMO backends' `decryptMessage` returns: a message with content, or an empty one
 * (key transport: a heartbeat, a key exchange answer) that advanced the session and has nothing to read.
 */
import type { BareJid, DecryptedContent, KeyId } from '@vouch/tm-core'

export type OmemoDecryptOutcome =
  | {
      readonly kind: 'content'
      readonly content: DecryptedContent & { readonly signed: true; readonly senderKey: KeyId }
      readonly senderDeviceId: number
      readonly keyExchange: boolean
      /** our bundle changed (a pre key was used): republish it */
      readonly bundleChanged: boolean
    }
  | {
      /** a message without payload (heartbeat, key exchange answer): state advanced, nothing to read */
      readonly kind: 'empty'
      readonly senderJid: BareJid
      readonly senderKey: KeyId
      readonly senderDeviceId: number
      readonly keyExchange: boolean
      readonly bundleChanged: boolean
      /** the sender key, when this message's key exchange made it known (see `DecryptedContent.learnedKeys`) */
      readonly learnedKeys?: readonly KeyId[]
    }
