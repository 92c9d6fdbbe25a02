/**
 * Conversations' fingerprint URIs (`xmpp:<jid>?omemo-sid-<device id>=<fingerprint>;…`), as its
 * `XmppUri` / `Account.getShareableUri` write and read them: rules CFP-1 … CFP-4 (README), the
 * RFC 5122 rules shared with Trust Message URIs (URI-1, URI-5), and the hand-over to ATM.
 */
import { NS_OMEMO_LEGACY } from '@vouch/tm-core'
import { describe, expect, it } from 'vitest'
import {
  fingerprintUriToTrustUri,
  formatTrustMessageUri,
  parseFingerprintUri,
  parseScannedUri,
  parseTrustMessageUri,
} from '../src/index.ts'
import { B1, BD1, BOB_URI } from './spec-vectors.ts'

function expectRejected(fn: () => unknown, name: string, rule: string): void {
  let e: { name?: unknown; rule?: unknown; message?: unknown } | undefined
  try {
    fn()
  } catch (error) {
    e = error as typeof e
  }
  expect(e, 'expected the call to throw').toBeDefined()
  expect({ name: e?.name, rule: e?.rule }, String(e?.message)).toEqual({ name, rule })
}

// Two 32-byte Curve25519 keys (any 32 bytes are a valid u-coordinate).
const K1 = B1.hex
const K2 = BD1.hex
const conv = (query: string, jid = 'juliet@capulet.lit'): string => `xmpp:${jid}?${query}`

describe('Conversations fingerprint URI', () => {
  it('CFP-1: the form Conversations shows (own device, then a verified own device) parses to OMEMO 0.3 key ids', () => {
    const f = parseFingerprintUri(conv(`omemo-sid-1234567=${K1};omemo-sid-42=${K2}`))
    expect(f).toEqual({
      jid: 'juliet@capulet.lit',
      encryption: NS_OMEMO_LEGACY,
      devices: [
        { deviceId: 1234567, keyId: B1.base64 },
        { deviceId: 42, keyId: BD1.base64 },
      ],
    })
    expect(Object.isFrozen(f) && Object.isFrozen(f.devices)).toBe(true)
  })

  it('CFP-3: a fingerprint with the 05 key-type prefix is the same key id (D-6: without 0x05)', () => {
    const a = parseFingerprintUri(conv(`omemo-sid-7=05${K1}`))
    const b = parseFingerprintUri(conv(`omemo-sid-7=${K1}`))
    expect(a).toEqual(b)
  })

  it('CFP-3: upper-case hex is accepted (Conversations lower-cases what it scans)', () => {
    expect(parseFingerprintUri(conv(`omemo-sid-7=${K1.toUpperCase()}`)).devices[0]?.keyId).toBe(B1.base64)
  })

  it('CFP-3: a 33-byte fingerprint must start with 05', () => {
    expectRejected(() => parseFingerprintUri(conv(`omemo-sid-7=06${K1}`)), 'InvalidKeyIdError', 'CFP-3')
  })

  it('CFP-3: truncated, odd-length, non-hex or over-long fingerprints are rejected', () => {
    for (const fp of [K1.slice(0, 62), K1.slice(0, 63), `${K1.slice(0, 63)}g`, `${K1}00`, `0505${K1}`, ''])
      expectRejected(() => parseFingerprintUri(conv(`omemo-sid-7=${fp}`)), 'InvalidKeyIdError', 'CFP-3')
  })

  it('CFP-2: device ids are decimal 1 … 2^31-1 without sign or leading zero', () => {
    expect(parseFingerprintUri(conv(`omemo-sid-2147483647=${K1}`)).devices[0]?.deviceId).toBe(2147483647)
    for (const id of ['0', '2147483648', '-5', '007', '0x10', '1e3', '', '12a'])
      expectRejected(() => parseFingerprintUri(conv(`omemo-sid-${id}=${K1}`)), 'InvalidUriError', 'CFP-2')
    // '+' is not even allowed unencoded in a key (CFP-1, strict); lenient still refuses the sign
    expectRejected(() => parseFingerprintUri(conv(`omemo-sid-+5=${K1}`)), 'InvalidUriError', 'CFP-1')
    expectRejected(
      () => parseFingerprintUri(conv(`omemo-sid-+5=${K1}`), { strict: false }),
      'InvalidUriError',
      'CFP-2',
    )
  })

  it('CFP-4: a device id listed twice is rejected, also with the same fingerprint (strict)', () => {
    expectRejected(
      () => parseFingerprintUri(conv(`omemo-sid-7=${K1};omemo-sid-7=${K2}`)),
      'InvalidUriError',
      'CFP-4',
    )
    expectRejected(
      () => parseFingerprintUri(conv(`omemo-sid-7=${K1};omemo-sid-7=${K1}`)),
      'InvalidUriError',
      'CFP-4',
    )
  })

  it('CFP-4: one fingerprint claimed by two devices is rejected in both modes', () => {
    for (const strict of [true, false])
      expectRejected(
        () => parseFingerprintUri(conv(`omemo-sid-7=${K1};omemo-sid-8=05${K1}`), { strict }),
        'InvalidUriError',
        'CFP-4',
      )
  })

  it('CFP-4: lenient mode merges the very same pair listed twice, never a conflicting one', () => {
    expect(
      parseFingerprintUri(conv(`omemo-sid-7=${K1};omemo-sid-7=${K1}`), { strict: false }).devices,
    ).toHaveLength(1)
    expectRejected(
      () => parseFingerprintUri(conv(`omemo-sid-7=${K1};omemo-sid-7=${K2}`), { strict: false }),
      'InvalidUriError',
      'CFP-4',
    )
  })

  it('CFP-1: other parameters (name, body, an action, the sid-less omemo=) are rejected when strict, ignored when lenient', () => {
    for (const extra of ['name=Juliet', 'body=hi', 'message', `omemo=${K2}`, 'preauth=abc']) {
      const text = conv(`omemo-sid-7=${K1};${extra}`)
      expectRejected(() => parseFingerprintUri(text), 'InvalidUriError', 'CFP-1')
      expect(parseFingerprintUri(text, { strict: false }).devices).toEqual([
        { deviceId: 7, keyId: B1.base64 },
      ])
    }
  })

  it('CFP-1: empty pairs are rejected when strict, skipped when lenient', () => {
    for (const q of [`omemo-sid-7=${K1};`, `;omemo-sid-7=${K1}`, `omemo-sid-7=${K1};;omemo-sid-8=${K2}`]) {
      expectRejected(() => parseFingerprintUri(conv(q)), 'InvalidUriError', 'CFP-1')
      expect(parseFingerprintUri(conv(q), { strict: false }).devices.length).toBeGreaterThan(0)
    }
  })

  it('CFP-1: a URI without any fingerprint is not a fingerprint URI (lenient too)', () => {
    expectRejected(
      () => parseFingerprintUri(conv('name=Juliet'), { strict: false }),
      'InvalidUriError',
      'CFP-1',
    )
    expectRejected(() => parseFingerprintUri(conv('message')), 'InvalidUriError', 'CFP-1')
    expectRejected(() => parseFingerprintUri(conv(`omemo-sid-7`)), 'InvalidUriError', 'CFP-1')
  })

  it('CFP-1: a Trust Message URI handed to the fingerprint parser is rejected, not half-read', () => {
    expectRejected(() => parseFingerprintUri(BOB_URI, { strict: false }), 'InvalidUriError', 'CFP-1')
  })

  it('URI-5: the path is a bare JID; full JIDs, authorities and the unexpected account are rejected', () => {
    expectRejected(
      () => parseFingerprintUri(conv(`omemo-sid-7=${K1}`, 'juliet@capulet.lit/phone')),
      'InvalidJidError',
      'URI-5',
    )
    expectRejected(
      () => parseFingerprintUri(`xmpp://mallory@evil.example/juliet@capulet.lit?omemo-sid-7=${K1}`),
      'InvalidUriError',
      'URI-5',
    )
    expectRejected(
      () => parseFingerprintUri(conv(`omemo-sid-7=${K1}`), { expectedJid: 'romeo@montague.lit' }),
      'InvalidUriError',
      'URI-5',
    )
    expect(parseFingerprintUri(conv(`omemo-sid-7=${K1}`, 'Juliet@Capulet.lit')).jid).toBe(
      'juliet@capulet.lit',
    )
    expect(parseFingerprintUri(conv(`omemo-sid-7=${K1}`, 'j%C3%BCliet@capulet.lit')).jid).toBe(
      'jüliet@capulet.lit',
    )
  })

  it('URI-1: scheme, whitespace and fragment follow the Trust Message URI rules', () => {
    expectRejected(
      () => parseFingerprintUri(`https://conversations.im/i/a@b.c?omemo-sid-7=${K1}`),
      'InvalidUriError',
      'URI-1',
    )
    expectRejected(() => parseFingerprintUri(conv(`omemo-sid-7=${K1}#x`)), 'InvalidUriError', 'URI-1')
    expectRejected(() => parseFingerprintUri(conv(`omemo-sid-7= ${K1}`)), 'InvalidUriError', 'URI-1')
    expect(parseFingerprintUri(`XMPP:a@b.c?omemo-sid-7=${K1}`).jid).toBe('a@b.c')
  })

  it('LIMIT: more devices than maxDevices, or a URI over maxLength, is a LimitExceededError', () => {
    expectRejected(
      () => parseFingerprintUri(conv(`omemo-sid-7=${K1};omemo-sid-8=${K2}`), { maxDevices: 1 }),
      'LimitExceededError',
      'LIMIT',
    )
    expectRejected(
      () => parseFingerprintUri(conv(`omemo-sid-7=${K1}`), { maxLength: 20 }),
      'LimitExceededError',
      'LIMIT',
    )
  })

  it('URI-4 hand-over: the fingerprint URI means a Trust Message URI authenticating every listed OMEMO 0.3 key', () => {
    const trust = fingerprintUriToTrustUri(parseFingerprintUri(conv(`omemo-sid-7=${K1};omemo-sid-8=${K2}`)))
    expect(trust).toEqual({
      jid: 'juliet@capulet.lit',
      encryption: NS_OMEMO_LEGACY,
      trust: [B1.base64, BD1.base64],
      distrust: [],
    })
    // it is a valid Trust Message URI in its own right (the same checks, TM-11 length for OMEMO 0.3)
    expect(parseTrustMessageUri(formatTrustMessageUri(trust))).toEqual(trust)
  })

  it('parseScannedUri: a scanned code of either kind gives the Trust Message URI to apply', () => {
    const fp = parseScannedUri(conv(`omemo-sid-7=05${K1}`))
    expect(fp.kind).toBe('fingerprint')
    expect(fp.uri).toEqual({
      jid: 'juliet@capulet.lit',
      encryption: NS_OMEMO_LEGACY,
      trust: [B1.base64],
      distrust: [],
    })
    const tm = parseScannedUri(BOB_URI)
    expect(tm).toEqual({ kind: 'trust-message', uri: parseTrustMessageUri(BOB_URI) })
    expectRejected(() => parseScannedUri(conv('message;body=hi')), 'InvalidUriError', 'URI-1')
    expectRejected(
      () => parseScannedUri(conv(`omemo-sid-7=${K1}`), { expectedJid: 'x@y.z' }),
      'InvalidUriError',
      'URI-5',
    )
  })
})
