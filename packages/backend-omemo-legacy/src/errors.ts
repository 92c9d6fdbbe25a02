/**
 * The one error class this package adds to tm-core's (DecryptionError carries every receive
 * failure, with its rule; UntrustedKeyError every recipient without an accepted key).
 */
import { VouchError } from '@vouch/tm-core'

/**
 * OMEMO 0.3 encrypts a body text, nothing else (XEP-0384 v0.3: the plaintext is the message
 * body): a payload that is not exactly one `<body/>` — a trust message, a receipt — is refused,
 * never flattened into text a deployed client would show. Rule `OMEMO03-PAYLOAD-KIND`.
 */
export class UnsupportedPayloadError extends VouchError {
  override readonly name = 'UnsupportedPayloadError'
  constructor(message: string, options?: ErrorOptions) {
    super('OMEMO03-PAYLOAD-KIND', message, options)
  }
}
