/**
 * The three OMEMO 2 protobuf messages (XEP-0384 v0.9 §"Protocol buffers", proto2, no version byte,
 * raw 32-byte keys), with a small codec of our own instead of a protobuf library: three messages
 * of five fields at most, where we need exact control of the emitted bytes (the MAC covers the
 * serialized `OMEMOMessage`, and our known-answer vectors compare bytes with python-twomemo and
 * libomemo-c), strict limits while parsing untrusted input, and no code generation step. Emits
 * fields in field-number order with every required field present (also when 0), which is what
 * python-protobuf and libomemo-c emit. Parses any field order, skips unknown fields (proto2), and
 * rejects truncation, overlong varints, wrong wire types, duplicated fields and missing required
 * fields.
 *
 * ```proto
 * message OMEMOMessage { required uint32 n = 1; required uint32 pn = 2; required bytes dh_pub = 3; optional bytes ciphertext = 4; }
 * message OMEMOAuthenticatedMessage { required bytes mac = 1; required bytes message = 2; }
 * message OMEMOKeyExchange { required uint32 pk_id = 1; required uint32 spk_id = 2; required bytes ik = 3; required bytes ek = 4; required OMEMOAuthenticatedMessage message = 5; }
 * ```
 */
export declare class ProtobufError extends Error {
  readonly name = 'ProtobufError'
}
export interface OmemoMessage {
  readonly n: number
  readonly pn: number
  readonly dhPub: Uint8Array
  readonly ciphertext?: Uint8Array
}
export interface OmemoAuthenticatedMessage {
  readonly mac: Uint8Array
  /** the serialized {@link OmemoMessage}, exactly as received (the MAC covers these bytes) */
  readonly message: Uint8Array
}
export interface OmemoKeyExchange {
  readonly pkId: number
  readonly spkId: number
  readonly ik: Uint8Array
  readonly ek: Uint8Array
  /** the serialized {@link OmemoAuthenticatedMessage} */
  readonly message: Uint8Array
}
export declare function encodeOmemoMessage(m: OmemoMessage): Uint8Array
export declare function encodeOmemoAuthenticatedMessage(m: OmemoAuthenticatedMessage): Uint8Array
export declare function encodeOmemoKeyExchange(m: OmemoKeyExchange): Uint8Array
export declare function decodeOmemoMessage(buf: Uint8Array): OmemoMessage
export declare function decodeOmemoAuthenticatedMessage(buf: Uint8Array): OmemoAuthenticatedMessage
export declare function decodeOmemoKeyExchange(buf: Uint8Array): OmemoKeyExchange
//# sourceMappingURL=proto.d.ts.map
