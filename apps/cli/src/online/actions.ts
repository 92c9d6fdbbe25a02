/**
 * What the online commands do (`account`, `device`, `chat`, `trust`, `uri show|use`), loaded by
 * `commands/online.ts` only when one of them runs. A composition root: the rules are the
 * libraries' (`@vouch/atm` decides trust, the backends encrypt, `@vouch/xmpp` talks).
 */
import { createInterface } from 'node:readline'
import type { BareJid, Element, KeyId, TrustLevel } from '@vouch/tm-core'
import { NS_OMEMO_2, NS_OMEMO_LEGACY, NS_OX, parseBareJid, parseKeyIdHex } from '@vouch/tm-core'
import {
  DEFAULT_KEY_ID_LENGTHS,
  fingerprintDigits,
  formatTrustMessageUri,
  parseDisplayedFingerprint,
  parseScannedUri,
  parseTrustMessageUri,
  trustMessageUriQr,
} from '@vouch/uri'
import type { ReceivedChat, VouchXmpp, VouchXmppEvents } from '@vouch/xmpp'
import type { Output } from '../io.ts'
import { UsageError } from '../io.ts'
import {
  type AccountRecord,
  type Common,
  cleanOnFailure,
  dataDir,
  type Encryption,
  ENCRYPTION_NAMES,
  encryptionOf,
  pickAccount,
  readAccounts,
  resolvePassword,
  saveAccount,
} from './accounts.ts'
import { readActivity, recordActivity } from './activity.ts'
import { explain, explainSend } from './errors.ts'
import {
  keyHex,
  type LocalState,
  protocolsOf,
  type Session,
  sideOf,
  withLocal,
  withSession,
} from './session.ts'

export interface ActionContext {
  readonly output: Output
  readonly stdin: NodeJS.ReadableStream
}

interface PasswordOptions {
  readonly passwordFile?: string
}

function out(ctx: ActionContext, opts: Common, json: unknown, text: string): void {
  ctx.output.out(opts.json === true ? JSON.stringify(json) : text)
}

async function passwordFor(
  ctx: ActionContext,
  acct: AccountRecord,
  opts: PasswordOptions = {},
): Promise<string> {
  return resolvePassword(acct.jid, acct, {
    stdin: ctx.stdin,
    ...(opts.passwordFile === undefined ? {} : { passwordFile: opts.passwordFile }),
  })
}

/** Runs an online command on the chosen account, turning library failures into clear lines. */
async function online<T>(
  ctx: ActionContext,
  opts: Common & PasswordOptions,
  acct: AccountRecord,
  fn: (s: Session) => Promise<T>,
  init: Partial<Parameters<typeof withSession>[2]> = {},
): Promise<T> {
  const password = await passwordFor(ctx, acct, opts)
  // a key that cannot be used is never dropped silently: one line naming the contact and why
  // (listen and the chat session print it on their own)
  const beforeConnect = (s: Session): void => {
    if (init.beforeConnect === undefined)
      s.vouch.on('key-unusable', (k) =>
        ctx.output.err(`key ${k.key} of ${k.owner} cannot be used: ${k.reason}`),
      )
    else init.beforeConnect(s)
  }
  try {
    return await withSession(opts, acct, { password, ...init, beforeConnect }, fn)
  } catch (e) {
    throw explain(e, acct)
  }
}

// ---------------------------------------------------------------- account / device add

export interface AddOptions extends Common, PasswordOptions {
  readonly service: string
  readonly resource: string
  readonly encryption: Encryption
  /** OX: the PEP access model of the keys this device publishes (default open) */
  readonly keyAccess?: 'open' | 'presence'
  readonly savePassword?: boolean
}

function checkService(service: string): void {
  if (!/^(xmpp|ws|wss):\/\/[^\s]+$/.test(service))
    throw new UsageError(
      `ACCOUNT: --service must be xmpp://HOST:PORT or ws(s)://…, got "${service}" (e.g. the address pnpm prosody prints)`,
    )
}

async function newRecord(
  ctx: ActionContext,
  jidText: string,
  opts: AddOptions,
): Promise<{ record: AccountRecord; password: string }> {
  const jid = parseBareJid(jidText, 'ACCOUNT')
  checkService(opts.service)
  const existing = (await readAccounts(dataDir(opts))).find((a) => a.jid === jid)
  if (existing !== undefined)
    throw new UsageError(
      `ACCOUNT: ${jid} is already set up in ${dataDir(opts)} (${ENCRYPTION_NAMES[encryptionOf(existing)]}): use it, or another --data DIR for another device`,
    )
  if (opts.keyAccess === 'presence' && opts.encryption !== 'ox')
    throw new UsageError(
      'ACCOUNT: --key-access presence is for OX accounts (--encryption ox); OMEMO 2 devices publish open',
    )
  const password = await resolvePassword(jid, undefined, {
    stdin: ctx.stdin,
    ...(opts.passwordFile === undefined ? {} : { passwordFile: opts.passwordFile }),
  })
  const record: AccountRecord = {
    jid,
    service: opts.service,
    resource: opts.resource,
    encryption: opts.encryption,
    ...(opts.keyAccess === 'presence' ? { keyAccess: 'presence' as const } : {}),
    ...(opts.savePassword === true ? { password } : {}),
    ...(opts.passwordFile !== undefined && opts.savePassword !== true
      ? { passwordFile: opts.passwordFile }
      : {}),
  }
  return { record, password }
}

/** The own key line: `device 1234, key AB…` (OMEMO) or `key AB…` (OX). */
async function ownKeyText(s: LocalState): Promise<{
  key: string | undefined
  device: number | undefined
  omemo03Key?: string | undefined
  text: string
}> {
  const key = await s.protocol.ownKey()
  const device = s.protocol.devices === undefined ? undefined : await s.protocol.devices.ownDeviceId()
  const hex = key === undefined ? undefined : keyHex(key)
  const text = device === undefined ? `key ${hex ?? '(none)'}` : `device ${device}, key ${hex ?? '(none)'}`
  const second = s.protocol.secondary
  if (second === undefined) return { key: hex, device, text }
  // both versions: the same device id, the same key pair (its Curve25519 form is the OMEMO 0.3 key)
  const k = await second.ownKey()
  const omemo03Key = k === undefined ? undefined : keyHex(k)
  return {
    key: hex,
    device,
    omemo03Key,
    text: `${text}; ${second.name}: device ${(await second.devices.ownDeviceId()) ?? '(none)'}, key ${omemo03Key ?? '(none)'}`,
  }
}

export async function accountAdd(
  ctx: ActionContext,
  mode: 'add' | 'register',
  jidText: string,
  opts: AddOptions,
): Promise<void> {
  const dir = dataDir(opts)
  await cleanOnFailure(dir, async () => {
    const { record, password } = await newRecord(ctx, jidText, opts)
    const own = await withSession(opts, record, { password, register: mode === 'register' }, (s) =>
      ownKeyText(s),
    ).catch((e: unknown) => {
      throw explain(e, record)
    })
    await saveAccount(dir, record)
    out(
      ctx,
      opts,
      {
        jid: record.jid,
        encryption: record.encryption,
        device: own.device ?? null,
        key: own.key,
        ...(own.omemo03Key === undefined ? {} : { omemo03Key: own.omemo03Key }),
        registered: mode === 'register',
      },
      `${record.jid} ready on ${ENCRYPTION_NAMES[opts.encryption]} (${own.text})`,
    )
  })
}

export interface DeviceAddOptions extends AddOptions {
  readonly uri?: string
  readonly code?: string
  readonly yes?: boolean
  readonly qr: boolean
}

/**
 * `vouch device add JID …` on the new device. OMEMO 2: a new device with its own key; `--uri`
 * (an existing device's `vouch uri show`) authenticates the account's devices here; this device's
 * URI and QR code are printed for an existing device to scan (`vouch uri use`). OX: the account's
 * one key is copied through the backup code (XEP-0373 §5) another device published.
 */
export async function deviceAdd(ctx: ActionContext, jidText: string, opts: DeviceAddOptions): Promise<void> {
  if (opts.encryption === 'ox' && opts.code === undefined)
    throw new UsageError(
      'OX-BACKUP: an OX account has one key for all its devices: run vouch device add (no JID) on a device that has the key, then here --code CODE with the code it prints',
    )
  if (opts.encryption !== 'ox' && opts.code !== undefined)
    throw new UsageError(
      'DEVICE: --code is for OX accounts; an OMEMO device makes its own key (scan codes instead)',
    )
  const scanned = opts.uri === undefined ? undefined : parseTrustMessageUri(opts.uri, { strict: true })
  const dir = dataDir(opts)
  await cleanOnFailure(dir, async () => {
    const { record, password } = await newRecord(ctx, jidText, opts)
    if (scanned !== undefined && scanned.jid !== record.jid)
      throw new UsageError(
        `URI-4: --uri is ${scanned.jid}'s code, not one of ${record.jid}'s devices: scan vouch uri show on your other device`,
      )
    const result = await withSession(
      opts,
      record,
      {
        password,
        ...(opts.encryption === 'ox' ? { createKey: false } : {}),
      },
      async (s) => {
        if (s.protocol.ox !== undefined) await restoreOxFromPep(s, opts.code as string)
        let applied: { owner: string; key: string; level: string }[] = []
        if (scanned !== undefined) {
          const res = await applyScanned(ctx, s, scanned, { yes: opts.yes === true, source: 'scan' })
          applied = res
        }
        return { own: await ownKeyText(s), applied, uri: await ownUri(s) }
      },
    )
      .catch((e: unknown) => {
        throw explain(e, record)
      })
      .finally(() => closePrompts(ctx))
    await saveAccount(dir, record)
    if (opts.json === true) {
      ctx.output.out(
        JSON.stringify({
          jid: record.jid,
          encryption: record.encryption,
          device: result.own.device ?? null,
          key: result.own.key,
          ...(result.own.omemo03Key === undefined ? {} : { omemo03Key: result.own.omemo03Key }),
          uri: result.uri,
          changes: result.applied,
        }),
      )
      return
    }
    ctx.output.out(`${record.jid} ready on ${ENCRYPTION_NAMES[opts.encryption]} (${result.own.text})`)
    for (const c of result.applied) ctx.output.out(`${c.owner} ${c.key} ${c.level}`)
    if (opts.encryption !== 'ox') {
      ctx.output.out(result.uri)
      if (opts.qr) ctx.output.out(String(await trustMessageUriQr(result.uri, { format: 'text' })))
      ctx.output.err(
        `Scan this code on one of your other devices (vouch uri use '<the URI above>' there): ATM then tells your other devices and your contacts.${scanned === undefined ? " Also scan that device's code here (vouch uri use) so this device trusts what it vouches for." : ''}`,
      )
    } else {
      ctx.output.err(
        "This device now holds the account's OX key (the backup code is no longer needed; keep it secret).",
      )
    }
  })
}

async function restoreOxFromPep(s: Session, code: string): Promise<void> {
  const { NODE_SECRET_KEY, isBackupCode } = await import('@vouch/backend-ox')
  if (!isBackupCode(code))
    throw new UsageError(
      'OX-BACKUP: a backup code is 24 characters of 1-9A-NP-Z in six dash-separated groups of four, exactly as shown',
    )
  let items: Awaited<ReturnType<typeof s.vouch.pep.fetch>>
  try {
    items = await s.vouch.pep.fetch(s.jid, NODE_SECRET_KEY)
  } catch {
    items = []
  }
  const payload = items.at(-1)?.payload
  if (payload === undefined)
    throw new UsageError(
      `OX-BACKUP: ${s.jid} has no key backup on the server: run vouch device add (no JID) on a device that has the key first`,
    )
  const ox = s.protocol.ox
  if (ox === undefined) return
  await ox.restoreBackup(payload, code)
  // now that the key is here, publish it and register the other keys as a fresh session would
  await s.vouch.publishKeys()
}

/** `vouch device add` (no JID) on an existing device: what to do on the new one. */
export async function deviceAddHere(ctx: ActionContext, opts: Common & PasswordOptions): Promise<void> {
  const acct = await pickAccount(opts)
  if (encryptionOf(acct) !== 'ox') {
    ctx.output.err(
      `On the new device run: vouch device add ${acct.jid} --service ${acct.service}${encryptionOf(acct) === 'omemo2' ? '' : ` --encryption ${encryptionOf(acct)}`} --resource NAME --uri "$(this device's vouch uri show --no-qr)"\nthen scan the code it prints here with vouch uri use.`,
    )
    const uri = await withLocal(opts, acct, (s) => ownUri(s))
    ctx.output.out(opts.json === true ? JSON.stringify({ uri }) : uri)
    return
  }
  // OX: one key per account, copied through an encrypted backup in PEP (XEP-0373 §5)
  const code = await online(ctx, opts, acct, async (s) => {
    const { NODE_SECRET_KEY, buildSecretKey } = await import('@vouch/backend-ox')
    const ox = s.protocol.ox
    if (ox === undefined) throw new UsageError('DEVICE: not an OX account')
    const backup = await ox.createBackup()
    await s.vouch.pep.publish(NODE_SECRET_KEY, 'current', buildSecretKey(backup.bytes), {
      'pubsub#access_model': 'whitelist',
    })
    return backup.code
  })
  if (opts.json === true) ctx.output.out(JSON.stringify({ code }))
  else ctx.output.out(code)
  ctx.output.err(
    `Backup of ${acct.jid}'s OX key published (encrypted, only your account can fetch it). On the new device run: vouch device add ${acct.jid} --encryption ox --service ${acct.service} --resource NAME --code <the code above>`,
  )
}

/**
 * `vouch device enable omemo03` on an OMEMO 2 device: OMEMO 0.3 beside it with the same device id
 * and the same identity key pair (D-12: its OMEMO 0.3 key is the OMEMO 2 key's twin, so what was
 * decided about one holds for the other), published on connect; the account then runs both.
 */
export async function deviceEnableOmemo03(ctx: ActionContext, opts: Common & PasswordOptions): Promise<void> {
  const acct = await pickAccount(opts)
  const enc = encryptionOf(acct)
  if (enc !== 'omemo2' && enc !== 'omemo2,omemo03')
    throw new UsageError(
      `DEVICE: ${acct.jid} here is on ${ENCRYPTION_NAMES[enc]}: OMEMO 0.3 can be enabled beside OMEMO 2 only (one identity for both); set up another data directory with --encryption omemo03 instead`,
    )
  const dual: AccountRecord = { ...acct, encryption: 'omemo2,omemo03' }
  const own = await online(ctx, opts, dual, async (s) => {
    if ((await s.protocol.ownKey()) === undefined)
      throw new UsageError(`DEVICE: ${acct.jid} has no OMEMO 2 device here yet`)
    return ownKeyText(s)
  })
  await saveAccount(dataDir(opts), dual)
  out(
    ctx,
    opts,
    {
      jid: dual.jid,
      encryption: dual.encryption,
      device: own.device ?? null,
      key: own.key,
      omemo03Key: own.omemo03Key,
    },
    `${dual.jid} ready on ${ENCRYPTION_NAMES['omemo2,omemo03']} (${own.text})`,
  )
}

// ---------------------------------------------------------------- device list / revoke

interface DeviceRow {
  readonly device: number | null
  readonly key: string
  readonly level: TrustLevel | 'this device'
  readonly published: boolean
  readonly lastActivity: string | null
  /** on a device running both OMEMO versions: which one this row is (`OMEMO 2`, `OMEMO 0.3`) */
  readonly protocol?: string
}

export async function deviceList(ctx: ActionContext, opts: Common): Promise<void> {
  const acct = await pickAccount(opts)
  const activity = await readActivity(dataDir(opts))
  const rows = await withLocal(opts, acct, async (s) => {
    const own = await s.protocol.ownKey()
    const rows: DeviceRow[] = []
    const last = (k: KeyId): string | null => activity[`${s.jid} ${keyHex(k)}`] ?? null
    if (s.protocol.devices !== undefined) {
      const dual = s.protocol.secondary !== undefined
      for (const side of protocolsOf(s.protocol)) {
        if (side.devices === undefined) continue
        const tag = dual ? { protocol: side.name } : {}
        const ownDevice = await side.devices.ownDeviceId()
        const ownKey = await side.ownKey()
        if (ownKey !== undefined)
          rows.push({
            device: ownDevice ?? null,
            key: keyHex(ownKey),
            level: 'this device',
            published: true,
            lastActivity: null,
            ...tag,
          })
        for (const d of await side.devices.devices(s.jid)) {
          if (d.deviceId === ownDevice || d.keyId === undefined) continue
          rows.push({
            device: d.deviceId,
            key: keyHex(d.keyId),
            level: await s.store.getTrustLevel(side.namespace, s.jid, d.keyId),
            published: d.active,
            lastActivity: last(d.keyId),
            ...tag,
          })
        }
      }
    } else {
      for (const k of await s.store.getKeys(s.protocol.namespace, { owners: [s.jid] }))
        rows.push({
          device: null,
          key: keyHex(k.keyId),
          level: k.keyId === own ? 'this device' : k.level,
          published: k.keyId === own,
          lastActivity: k.keyId === own ? null : last(k.keyId),
        })
      if (own !== undefined && !rows.some((r) => r.key === keyHex(own)))
        rows.unshift({
          device: null,
          key: keyHex(own),
          level: 'this device',
          published: true,
          lastActivity: null,
        })
    }
    return rows
  })
  out(
    ctx,
    opts,
    rows,
    rows
      .map(
        (r) =>
          `${r.device === null ? 'key' : `device ${r.device}`} ${r.key} ${r.level}${r.published ? '' : ' (not published)'}${r.lastActivity === null ? '' : ` last message ${r.lastActivity}`}${r.protocol === undefined ? '' : ` (${r.protocol})`}`,
      )
      .join('\n') +
      (encryptionOf(acct) === 'ox' ? '\n(OX: every device of the account shares this key)' : ''),
  )
}

export async function deviceRevoke(
  ctx: ActionContext,
  which: string,
  opts: Common & PasswordOptions,
): Promise<void> {
  const acct = await pickAccount(opts)
  const result: { json: unknown; text: string; retired?: string } = await online(
    ctx,
    opts,
    acct,
    async (s) => {
      if (s.protocol.omemo !== undefined) return revokeOmemo(s, which)
      if (s.protocol.ox === undefined)
        throw new UsageError(
          `DEVICE: device revoke needs OMEMO 2 or OX (${s.protocol.name} carries no trust messages to tell the other devices): distrust the lost key with vouch trust distrust`,
        )
      return rotateOx(s, which)
    },
  )
  if (result.retired !== undefined)
    await saveAccount(dataDir(opts), { ...acct, retiredKeys: [...(acct.retiredKeys ?? []), result.retired] })
  out(ctx, opts, result.json, result.text)
}

/** OMEMO 2: distrust the lost device's key (ATM-S5 tells our devices and contacts), then drop it from the device list. */
async function revokeOmemo(s: Session, which: string): Promise<{ json: unknown; text: string }> {
  const omemo = s.protocol.omemo as NonNullable<typeof s.protocol.omemo>
  await s.vouch.refreshKeys(s.jid)
  const devices = await omemo.devices(s.jid)
  const ownDevice = await omemo.ownDeviceId()
  const wanted = which.replace(/\s/g, '').toUpperCase()
  const matches = (d: { deviceId: number; keyId?: KeyId }): boolean =>
    String(d.deviceId) === which || (d.keyId !== undefined && keyHex(d.keyId) === wanted)
  let target: { readonly deviceId: number; readonly keyId?: KeyId | undefined } | undefined =
    devices.find(matches)
  // both versions here: the device (same id in both lists) may be named by its OMEMO 0.3 key,
  // or run OMEMO 0.3 only
  const second = s.protocol.secondary
  const legacyDevices = second === undefined ? [] : await second.devices.devices(s.jid)
  const legacyTarget =
    target === undefined
      ? legacyDevices.find(matches)
      : legacyDevices.find((d) => d.deviceId === target?.deviceId)
  target ??= legacyTarget === undefined ? undefined : { ...legacyTarget, keyId: undefined }
  if (target === undefined || target.deviceId === ownDevice)
    throw new UsageError(
      target === undefined
        ? `DEVICE: ${s.jid} has no device ${which} (see vouch device list)`
        : 'ATM-S5: a device cannot revoke itself: run vouch device revoke on another device of the account',
    )
  const res =
    target.keyId === undefined
      ? undefined
      : await s.vouch.distrust(s.protocol.namespace, s.jid, [target.keyId])
  // its OMEMO 0.3 key too (D-12 identity linking has done it when the keys are one key pair;
  // an OMEMO 0.3-only device is distrusted here, the trust message carried by OMEMO 2), and it
  // leaves the OMEMO 0.3 device list
  let legacySent = 0
  if (second !== undefined && legacyTarget !== undefined) {
    if (
      legacyTarget.keyId !== undefined &&
      (await s.store.getTrustLevel(second.namespace, s.jid, legacyTarget.keyId)) !== 'manually-distrusted'
    )
      legacySent = (await s.vouch.distrust(second.namespace, s.jid, [legacyTarget.keyId])).outgoing.length
    await dropFromLegacyDeviceList(s, legacyTarget.deviceId)
  }
  const { NODE_DEVICES, buildDeviceList, parseDeviceList } = await import('@vouch/backend-omemo')
  const current = await publishedList(s, NODE_DEVICES, parseDeviceList)
  const targetId = target.deviceId
  const kept = current.filter((d) => d.id !== targetId)
  if (ownDevice !== undefined && !kept.some((d) => d.id === ownDevice)) kept.push({ id: ownDevice })
  await s.vouch.pep.publish(NODE_DEVICES, 'current', buildDeviceList(kept), { 'pubsub#access_model': 'open' })
  const key = target.keyId === undefined ? null : keyHex(target.keyId)
  const legacyKey = legacyTarget?.keyId === undefined ? undefined : keyHex(legacyTarget.keyId)
  const sent = (res?.outgoing.length ?? 0) + legacySent
  return {
    json: {
      device: targetId,
      key,
      ...(legacyKey === undefined ? {} : { omemo03Key: legacyKey }),
      level: 'manually-distrusted',
      sent,
      removedFromDeviceList: true,
    },
    text: `device ${targetId} ${key ?? legacyKey ?? ''} revoked: manually-distrusted${legacyKey !== undefined && key !== null ? ` (and its OMEMO 0.3 key ${legacyKey})` : ''}, ${sent} trust message(s) sent, removed from the device list${legacyTarget === undefined ? '' : 's'}`,
  }
}

/** The entries of our published device list on `node` (its `current` item); none when absent or unreadable. */
async function publishedList<T>(
  s: Session,
  node: string,
  parse: (payload: Element) => readonly T[],
): Promise<T[]> {
  try {
    const items = await s.vouch.pep.fetch(s.jid, node, { id: 'current' })
    const payload = items.find((i) => i.id === 'current')?.payload ?? items.at(-1)?.payload
    return payload === undefined ? [] : [...parse(payload)]
  } catch {
    return []
  }
}

/** Publishes the account's OMEMO 0.3 device list without `deviceId` (our own device stays listed). */
async function dropFromLegacyDeviceList(s: Session, deviceId: number): Promise<void> {
  const { loadLegacyOmemo } = await import('./legacy-omemo.ts')
  const [{ NODE_DEVICELIST, buildDeviceList, parseDeviceList }] = await loadLegacyOmemo()
  const current = await publishedList(s, NODE_DEVICELIST, (el) => parseDeviceList(el))
  const own = await s.protocol.secondary?.devices.ownDeviceId()
  const kept = current.filter((id) => id !== deviceId)
  if (own !== undefined && !kept.includes(own)) kept.push(own)
  await s.vouch.pep.publish(NODE_DEVICELIST, 'current', buildDeviceList(kept), {
    'pubsub#access_model': 'open',
  })
}

/**
 * OX: the account has one key, so revoking a device means a new key: generated here, published
 * (the old one removed from the metadata node) and the old one distrusted (ATM-S5 tells our
 * contacts, who apply it once they authenticated the new key: OX cannot vouch with the old one).
 */
async function rotateOx(
  s: Session,
  which: string,
): Promise<{ json: unknown; text: string; retired: string }> {
  const ox = s.protocol.ox as NonNullable<typeof s.protocol.ox>
  const old = await ox.ownKeyInfo()
  if (old === undefined) throw new UsageError('OX-OWN-KEY: this device has no OX key')
  const oldHex = old.fingerprint.toUpperCase()
  if (which !== 'all' && which.replace(/\s/g, '').toUpperCase() !== oldHex)
    throw new UsageError(
      `DEVICE: an OX account has one key for all its devices (${oldHex}): revoke it with vouch device revoke ${oldHex} (a new key replaces it)`,
    )
  const { NODE_PUBLIC_KEYS, buildPublicKeysList, chooseCurrentKeys } = await import('@vouch/backend-ox')
  // ATM-4: OX has one key per identity, so no trust message can distrust our own old key; the
  // new code (uri show) carries the distrust to every contact who scans it
  const fresh = await ox.generateOwnKey({ replace: true })
  await s.vouch.publishKeys()
  // the metadata node without the old key (XEP-0373 §4.2: the list is the set of current keys)
  const items = await s.vouch.pep.fetch(s.jid, NODE_PUBLIC_KEYS).catch(() => [])
  const list = chooseCurrentKeys(
    items.flatMap((i) => (i.payload === undefined ? [] : [{ id: i.id, payload: i.payload }])),
  )
  const kept = list.filter((e) => e.fingerprint.toUpperCase() !== oldHex)
  await s.vouch.pep.publish(NODE_PUBLIC_KEYS, 'current', buildPublicKeysList(kept), {
    'pubsub#access_model': 'open',
  })
  return {
    retired: oldHex,
    json: { oldKey: oldHex, newKey: fresh.fingerprint.toUpperCase(), removedFromMetadata: true },
    text: `OX key ${oldHex} replaced by ${fresh.fingerprint.toUpperCase()} and removed from the published keys. Your contacts must scan your new code (vouch uri show: it distrusts the old key); copy the new key to your other devices (vouch device add).`,
  }
}

// ---------------------------------------------------------------- uri show / use

/** Own key plus the own keys this device authenticated (trust) and distrusted (distrust), as Kaidan does. */
async function ownUri(s: LocalState): Promise<string> {
  const own = await s.protocol.ownKey()
  const mine = await s.store.getKeys(s.protocol.namespace, { owners: [s.jid] })
  const trust = [
    ...(own === undefined ? [] : [own]),
    ...mine.filter((k) => k.level === 'authenticated' && k.keyId !== own).map((k) => k.keyId),
  ]
  const retired = (s.account.retiredKeys ?? []).map((h) => parseKeyIdHex(h, 'URI-8'))
  const distrust = [
    ...new Set([
      ...mine.filter((k) => k.level === 'manually-distrusted' && k.keyId !== own).map((k) => k.keyId),
      ...retired.filter((k) => k !== own),
    ]),
  ]
  return formatTrustMessageUri({ jid: s.jid, encryption: s.protocol.namespace, trust, distrust })
}

/**
 * OMEMO 0.3: the same keys as a deployed client's fingerprint code (Conversations:
 * `xmpp:JID?omemo-sid-ID=05HEX;…`), this device first, then the own devices this device
 * authenticated. It cannot say distrust: the Trust Message URI can.
 */
async function ownFingerprintUri(s: LocalState): Promise<string | undefined> {
  // an OMEMO 0.3 account, or the OMEMO 0.3 side of a device running both versions
  const side = s.protocol.id === 'omemo03' ? s.protocol : s.protocol.secondary
  if (side?.devices === undefined) return undefined
  const own = await side.ownKey()
  const ownId = await side.devices.ownDeviceId()
  if (own === undefined || ownId === undefined) return undefined
  const pairs = [[ownId, own] as const]
  for (const d of await side.devices.devices(s.jid))
    if (
      d.keyId !== undefined &&
      d.deviceId !== ownId &&
      (await s.store.getTrustLevel(side.namespace, s.jid, d.keyId)) === 'authenticated'
    )
      pairs.push([d.deviceId, d.keyId] as const)
  const query = pairs.map(([id, k]) => `omemo-sid-${id}=05${keyHex(k).toLowerCase()}`).join(';')
  return `xmpp:${s.jid}?${query}`
}

export async function uriShow(ctx: ActionContext, opts: Common & { qr: boolean }): Promise<void> {
  const acct = await pickAccount(opts)
  const [text, fingerprint] = await withLocal(opts, acct, async (s) => [
    await ownUri(s),
    await ownFingerprintUri(s),
  ])
  if (opts.json === true)
    return ctx.output.out(
      JSON.stringify({ uri: text, ...(fingerprint === undefined ? {} : { fingerprint }) }),
    )
  ctx.output.out(text)
  if (fingerprint !== undefined) ctx.output.out(fingerprint)
  if (opts.qr) ctx.output.out(String(await trustMessageUriQr(text, { format: 'text' })))
}

/** One line reader per input stream, so a second question reads the next line (URI-4 asks twice). */
const prompts = new Map<
  NodeJS.ReadableStream,
  { rl: ReturnType<typeof createInterface>; it: AsyncIterator<string> }
>()

async function askYesNo(ctx: ActionContext, question: string): Promise<boolean> {
  ctx.output.err(question)
  let p = prompts.get(ctx.stdin)
  if (p === undefined) {
    const rl = createInterface({ input: ctx.stdin, terminal: false })
    p = { rl, it: rl[Symbol.asyncIterator]() }
    prompts.set(ctx.stdin, p)
  }
  const next = await p.it.next()
  return next.done !== true && /^\s*y(es)?\s*$/i.test(next.value)
}

/** Lets the input stream go (nothing of a prompt outlives the command). */
function closePrompts(ctx: ActionContext): void {
  prompts.get(ctx.stdin)?.rl.close()
  prompts.delete(ctx.stdin)
}

type Change = { owner: string; key: string; level: string }

/**
 * `owner`'s keys, fetched; when its key nodes refuse us (contacts only: `KeysNotVisibleError`),
 * the keys known here and the line that says why, instead of a failure.
 */
async function visibleKeys(
  s: Session,
  owner: BareJid,
  encryption?: string,
): Promise<{ readonly keys: readonly KeyId[]; readonly refused?: string }> {
  try {
    return { keys: await s.vouch.refreshKeys(owner, encryption) }
  } catch (e) {
    if ((e as { name?: unknown }).name !== 'KeysNotVisibleError') throw e
    const why = explain(e, s.account)
    const keys: KeyId[] = []
    for (const side of protocolsOf(s.protocol))
      if (encryption === undefined || side.namespace === encryption)
        keys.push(...(await s.store.getKeys(side.namespace, { owners: [owner] })).map((k) => k.keyId))
    return { keys, refused: why instanceof Error ? why.message : String(e) }
  }
}

/** URI-4: asks (unless `yes`), warns and asks again for keys the JID does not publish. */
async function applyScanned(
  ctx: ActionContext,
  s: Session,
  parsed: ReturnType<typeof parseTrustMessageUri>,
  o: {
    readonly yes: boolean
    readonly source: 'scan' | 'paste' | 'link'
    readonly allowUnpublished?: boolean
  },
): Promise<Change[]> {
  // a device running both OMEMO versions takes a code of either
  const side = sideOf(s.protocol, parsed.encryption)
  if (side === undefined)
    throw new UsageError(
      `URI-3: this code is for ${parsed.encryption}, but ${s.jid} here uses ${ENCRYPTION_NAMES[s.protocol.id]} (${protocolsOf(
        s.protocol,
      )
        .map((p) => p.namespace)
        .join(', ')}): ask ${parsed.jid} for a code of the same encryption`,
    )
  const { keys, refused } = await visibleKeys(s, parsed.jid, side.namespace)
  const published = new Set(keys)
  const own = await side.ownKey()
  if (parsed.jid === s.jid && own !== undefined) published.add(own)
  const unknown = parsed.trust.filter((k) => !published.has(k))
  const res = await s.vouch.applyUri(parsed, {
    uriSource: o.source,
    confirm: async (summary) => {
      const lines = [
        ...summary.authenticate.map((k) => `  authenticate ${keyHex(k)}`),
        ...summary.distrust.map((k) => `  distrust ${keyHex(k)}`),
      ]
      if (!o.yes && !(await askYesNo(ctx, `Apply to ${summary.jid}:\n${lines.join('\n')}\nConfirm? [y/N]`)))
        return false
      if (unknown.length === 0) return true
      const warning = `WARNING: ${unknown.map(keyHex).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not among the keys ${parsed.jid} publishes (${refused === undefined ? 'a typo, a swapped code, or a device not set up yet' : `which this device cannot read: ${refused}`})`
      if (o.yes) {
        if (o.allowUnpublished === true) return true
        throw new UsageError(
          `URI-4: ${warning.slice('WARNING: '.length)}: check the code with ${parsed.jid}, or pass --allow-unpublished`,
        )
      }
      return askYesNo(ctx, `${warning}.\nApply anyway? [y/N]`)
    },
  })
  return res.changes.map((c) => ({ owner: c.owner, key: keyHex(c.keyId), level: c.level }))
}

export async function uriUse(
  ctx: ActionContext,
  text: string,
  opts: Common & PasswordOptions & { yes?: boolean; source: string; allowUnpublished?: boolean },
): Promise<void> {
  if (!['scan', 'paste', 'link'].includes(opts.source))
    throw new UsageError(`URI-3: --source must be scan, paste or link, got ${opts.source}`)
  // a Trust Message URI, or a deployed client's fingerprint code (Conversations: ?omemo-sid-…)
  const parsed = parseScannedUri(text).uri
  const acct = await pickAccount(opts)
  const changes = await online(ctx, opts, acct, (s) =>
    applyScanned(ctx, s, parsed, {
      yes: opts.yes === true,
      source: opts.source as 'scan' | 'paste' | 'link',
      allowUnpublished: opts.allowUnpublished === true,
    }),
  ).finally(() => closePrompts(ctx))
  out(ctx, opts, { changes }, changes.map((c) => `${c.owner} ${c.key} ${c.level}`).join('\n') || 'no change')
}

// ---------------------------------------------------------------- trust

export async function trustList(
  ctx: ActionContext,
  jidText: string | undefined,
  opts: Common & PasswordOptions & { refresh?: boolean },
): Promise<void> {
  const acct = await pickAccount(opts)
  const owner = jidText === undefined ? undefined : parseBareJid(jidText, 'TRUST')
  const read = async (s: LocalState) => {
    const dual = s.protocol.secondary !== undefined
    const rows: { owner: string; key: string; level: TrustLevel; protocol?: string }[] = []
    for (const side of protocolsOf(s.protocol))
      for (const k of await s.store.getKeys(side.namespace, owner === undefined ? {} : { owners: [owner] }))
        rows.push({
          owner: k.owner,
          key: keyHex(k.keyId),
          level: k.level,
          ...(dual ? { protocol: side.name } : {}),
        })
    return rows
  }
  const rows =
    opts.refresh === true
      ? await online(ctx, opts, acct, async (s) => {
          if (owner !== undefined) await s.vouch.refreshKeys(owner)
          return read(s)
        })
      : await withLocal(opts, acct, read)
  out(
    ctx,
    opts,
    rows,
    rows
      .map((r) => `${r.owner} ${r.key} ${r.level}${r.protocol === undefined ? '' : ` (${r.protocol})`}`)
      .join('\n') || '(no keys)',
  )
}

export async function trustDecide(
  ctx: ActionContext,
  verb: 'authenticate' | 'distrust',
  jidText: string,
  hex: readonly string[],
  opts: Common & PasswordOptions,
): Promise<void> {
  const owner = parseBareJid(jidText, 'TRUST')
  const acct = await pickAccount(opts)
  const ids = keysFromWords(hex, encryptionOf(acct))
  const res = await online(ctx, opts, acct, async (s) => {
    // keys shown to contacts only: the decision is made all the same (the person compared them)
    await visibleKeys(s, owner)
    // a device running both OMEMO versions: each key in the protocol that knows it (OMEMO 2 else)
    const byNamespace = new Map<string, KeyId[]>()
    for (const id of ids) {
      let ns = s.protocol.namespace
      for (const side of protocolsOf(s.protocol))
        if ((await s.store.getKeys(side.namespace, { owners: [owner] })).some((k) => k.keyId === id)) {
          ns = side.namespace
          break
        }
      byNamespace.set(ns, [...(byNamespace.get(ns) ?? []), id])
    }
    const results = []
    for (const [ns, keys] of byNamespace)
      results.push(
        verb === 'authenticate'
          ? await s.vouch.authenticate(ns, owner, keys)
          : await s.vouch.distrust(ns, owner, keys),
      )
    return { changes: results.flatMap((r) => r.changes), outgoing: results.flatMap((r) => r.outgoing) }
  })
  const changes = res.changes.map((c) => ({ owner: c.owner, key: keyHex(c.keyId), level: c.level }))
  out(
    ctx,
    opts,
    { changes, sent: res.outgoing.length },
    changes.map((c) => `${c.owner} ${c.key} ${c.level}`).join('\n') || 'no change',
  )
}

// ---------------------------------------------------------------- chat

export async function chatSend(
  ctx: ActionContext,
  to: string,
  text: string,
  opts: Common & PasswordOptions,
): Promise<void> {
  const peer = parseBareJid(to, 'CHAT')
  const acct = await pickAccount(opts)
  const sent = await online(ctx, opts, acct, async (s) => {
    const m = await sendExplained(s, acct, peer, text)
    // OMEMO: one key per device; OX: one key per account
    const unit: 'key' | 'device' = s.protocol.devices === undefined ? 'key' : 'device'
    return { ...m, unit, protocol: sideOf(s.protocol, m.encryption)?.name ?? m.encryption }
  })
  out(
    ctx,
    opts,
    {
      id: sent.id,
      to: peer,
      encryption: sent.encryption,
      recipients: sent.recipients.map((r) => keyHex(r.keyId)),
      unreached: sent.unreached,
    },
    `sent ${sent.id} in ${sent.protocol} to ${devicesText(sent.recipients.filter((r) => r.owner === peer).length, sent.unit)} of ${peer}`,
  )
  // never silently to fewer devices: the contact's devices this message cannot reach, on stderr
  if (sent.unreached.length > 0) ctx.output.err(unreachedLine(peer, sent.protocol, sent.unreached))
}

/**
 * XEP-0384 (v0.9 §6: "clients MUST offer a way to manually replace broken sessions"): new OMEMO
 * sessions with every device of `peer` that is not distrusted, in each OMEMO version this device
 * runs; each announced by an empty message that carries the key exchange. For when messages
 * between the two stopped decrypting (a restored backup, a lost session): never done by itself.
 */
export async function chatResetSessions(
  ctx: ActionContext,
  peerText: string,
  opts: Common & PasswordOptions,
): Promise<void> {
  const peer = parseBareJid(peerText, 'CHAT')
  const acct = await pickAccount(opts)
  const done = await online(ctx, opts, acct, async (s) => {
    if (s.protocol.devices === undefined)
      throw new UsageError(
        `CHAT: ${ENCRYPTION_NAMES[s.protocol.id]} has no sessions to replace (one key per account, no ratchet)`,
      )
    const out: { protocol: string; devices: number[] }[] = []
    for (const side of protocolsOf(s.protocol)) {
      const keys = await s.vouch.replaceSessions(side.namespace, peer)
      const known = side.devices === undefined ? [] : await side.devices.devices(peer)
      const ids = keys
        .map((k) => known.find((d) => d.keyId === k.keyId)?.deviceId ?? -1)
        .filter((id) => id > 0)
      out.push({ protocol: side.name, devices: ids.sort((a, b) => a - b) })
    }
    return out
  })
  out(
    ctx,
    opts,
    { jid: peer, replaced: done },
    done
      .map(
        (d) =>
          `${d.protocol}: ${d.devices.length === 0 ? `no device of ${peer} to start a session with` : `new sessions with ${devicesText(d.devices.length)} of ${peer} (${d.devices.join(', ')}), each told by an empty message`}`,
      )
      .join('\n'),
  )
}

/** `sendChat`, its failure said as a send (`explainSend`: keys we may not read are TM-15). */
async function sendExplained(s: Session, acct: AccountRecord, peer: BareJid, text: string) {
  try {
    return await s.vouch.sendChat(peer, text)
  } catch (e) {
    throw explainSend(e, acct)
  }
}

const devicesText = (n: number, unit: 'device' | 'key' = 'device'): string =>
  `${n} ${unit}${n === 1 ? '' : 's'}`

/** `@vouch/xmpp` SentMessage.unreached as one line: which devices of the contact cannot read it, and why. */
function unreachedLine(peer: string, protocol: string, unreached: readonly string[]): string {
  return `UNREACHED: ${devicesText(unreached.length)} of ${peer} (${unreached.join(', ')}) cannot read it: ${unreached.length === 1 ? 'it does' : 'they do'} not announce ${protocol}, and no protocol of this device reaches every device of ${peer} (sent in the one that reaches the most)`
}

/** How a received message is shown: sender, its device (OMEMO) and the key's trust level. */
async function describeSender(
  s: Session,
  m: ReceivedChat,
): Promise<{ device: number | null; key: string | null; protocol?: string }> {
  // on a device running both OMEMO versions, the protocol the message came in is named
  const side = sideOf(s.protocol, m.encryption) ?? s.protocol
  const protocol = s.protocol.secondary === undefined ? {} : { protocol: side.name }
  if (m.senderKey === undefined) return { device: null, key: null, ...protocol }
  let device: number | null = null
  if (side.devices !== undefined) {
    const owner = m.direction === 'incoming' ? m.peer : s.jid
    const d = (await side.devices.devices(owner)).find((x) => x.keyId === m.senderKey)
    device = d?.deviceId ?? null
  }
  return { device, key: keyHex(m.senderKey), ...protocol }
}

function senderText(
  from: string,
  who: { device: number | null; key: string | null; protocol?: string },
  level: string,
): string {
  const dev =
    who.device !== null
      ? `device ${who.device}`
      : who.key !== null
        ? `key ${who.key.slice(0, 16)}…`
        : 'no key'
  return `${from} (${dev}, ${level}${who.protocol === undefined ? '' : `, ${who.protocol}`})`
}

export interface ListenOptions extends Common, PasswordOptions {
  readonly count?: number
  readonly timeout: number
  /** approve every contact request that arrives, without asking */
  readonly approveContacts?: boolean
}

export async function chatListen(ctx: ActionContext, opts: ListenOptions): Promise<void> {
  const acct = await pickAccount(opts)
  let n = 0
  let done: () => void = () => undefined
  const finished = new Promise<void>((resolve) => {
    done = resolve
  })
  const seen: Record<string, string> = {}
  let pending = Promise.resolve()
  let rejected = 0
  await online(
    ctx,
    opts,
    acct,
    async (s) => {
      await Promise.race([finished, sleep(opts.timeout * 1000)])
      await pending
      void s
    },
    {
      ...(opts.approveContacts === true ? { autoApproveContacts: true } : {}),
      beforeConnect: (s) => {
        s.vouch.on('message', (m) => {
          if (m.direction !== 'incoming' || (opts.count !== undefined && n >= opts.count)) return
          n++
          if (opts.count !== undefined && n >= opts.count) done()
          pending = pending.then(async () => {
            const who = await describeSender(s, m)
            if (who.key !== null) seen[`${m.peer} ${who.key}`] = m.time.toISOString()
            out(
              ctx,
              opts,
              {
                from: m.from,
                body: m.body,
                device: who.device,
                senderKey: who.key,
                trust: m.trustLevel,
                encryption: m.encryption,
                time: m.time.toISOString(),
              },
              `${m.time.toISOString()} ${senderText(m.peer, who, m.trustLevel)}: ${m.body}`,
            )
          })
        })
        // no silent drops: every rejected message is one line, counted in the summary
        s.vouch.on('rejected', (r) => {
          if (r.final !== true) rejected++
          pending = pending.then(() =>
            out(
              ctx,
              opts,
              {
                rejected: {
                  from: r.from,
                  rule: r.rule,
                  reason: r.error.message,
                  archiveId: r.archiveId ?? null,
                  held: r.held,
                },
              },
              rejectedLine(r, acct),
            ),
          )
        })
        // not for this device and nothing to read (an OMEMO session answer for another device):
        // nothing is lost, so no line and not counted; --json still says it, for scripts
        s.vouch.on('skipped', (k) => {
          if (opts.json !== true) return
          pending = pending.then(() =>
            out(
              ctx,
              opts,
              { skipped: { from: k.from, rule: k.rule, reason: k.reason, archiveId: k.archiveId ?? null } },
              '',
            ),
          )
        })
        s.vouch.on('key-unusable', (k) => {
          pending = pending.then(() =>
            out(ctx, opts, { unusableKey: k }, `key ${k.key} of ${k.owner} cannot be used: ${k.reason}`),
          )
        })
        s.vouch.on('subscription-request', (r) =>
          ctx.output.err(
            r.autoApproved
              ? `approved ${r.from} as a contact (--approve-contacts)`
              : `${r.from} asks to be your contact: vouch contact approve ${r.from}`,
          ),
        )
      },
    },
  )
  await recordActivity(dataDir(opts), seen)
  ctx.output.err(`received ${n} message${n === 1 ? '' : 's'}, rejected ${rejected}`)
}

/**
 * `rejected message from carol@localhost/prof: OX-SIGNER: …`, and when the message is held for
 * the sender's keys, what happens to it (and why the keys could not be read, with what to do).
 */
function rejectedLine(r: VouchXmppEvents['rejected'], acct: AccountRecord): string {
  const line = `rejected message from ${r.from}: ${r.error.message}`
  if (r.final === true) return `${line} (given up after its last retry)`
  if (!r.held) return line
  const why = r.keysError === undefined ? undefined : explain(r.keysError, acct)
  return `${line} (kept: read again once ${r.sender ?? 'the sender'}'s keys arrive${why instanceof Error ? `; ${why.message}` : ''})`
}

/** `vouch chat JID`: a line-based session (type to send; incoming messages and trust events as lines). */
export async function chatInteractive(
  ctx: ActionContext,
  to: string,
  opts: Common & PasswordOptions,
): Promise<void> {
  const peer = parseBareJid(to, 'CHAT')
  const acct = await pickAccount(opts)
  const seen: Record<string, string> = {}
  let printing = Promise.resolve()
  const line = (text: string): void => {
    printing = printing.then(() => ctx.output.out(text))
  }
  await online(
    ctx,
    opts,
    acct,
    async (s) => {
      ctx.output.err(
        `chat with ${peer} on ${s.protocol.name} as ${s.jid}: type a line and Enter to send; Ctrl-D or /quit to leave`,
      )
      // the peer's devices as published now: a new one is announced (trust-changed) before we talk
      await s.vouch.refreshKeys(peer).catch(() => undefined)
      await s.vouch.idle()
      const rl = createInterface({ input: ctx.stdin, terminal: false })
      for await (const text of rl) {
        if (text.trim() === '/quit') break
        if (text.trim() === '') continue
        try {
          const sent = await sendExplained(s, acct, peer, text)
          const protocol = sideOf(s.protocol, sent.encryption)?.name ?? sent.encryption
          const theirs = sent.recipients.filter((r) => r.owner === peer).length
          line(
            `> sent to ${devicesText(theirs, s.protocol.devices === undefined ? 'key' : 'device')} of ${peer}${sent.recipients.some((r) => r.owner === s.jid) ? ' and yours' : ''}${s.protocol.secondary === undefined ? '' : ` in ${protocol}`}`,
          )
          if (sent.unreached.length > 0) line(`! ${unreachedLine(peer, protocol, sent.unreached)}`)
        } catch (e) {
          const err = explain(e, acct)
          line(`! not sent: ${err instanceof Error ? err.message : String(err)}`)
        }
      }
      rl.close()
      await s.vouch.idle()
      await printing
    },
    {
      beforeConnect: (s) => watchChat(s, peer, line, seen),
    },
  )
  await recordActivity(dataDir(opts), seen)
}

function watchChat(s: Session, peer: BareJid, line: (t: string) => void, seen: Record<string, string>): void {
  const v: VouchXmpp = s.vouch
  v.on('message', (m) => {
    if (m.peer !== peer) return
    void describeSender(s, m).then((who) => {
      if (who.key !== null && m.direction === 'incoming') seen[`${m.peer} ${who.key}`] = m.time.toISOString()
      const from = m.direction === 'incoming' ? m.peer : `you to ${m.peer}`
      line(`${m.time.toISOString().slice(11, 19)} ${senderText(from, who, m.trustLevel)}: ${m.body}`)
    })
  })
  v.on('trust-changed', (e) => {
    if (e.key.owner !== peer && e.key.owner !== s.jid) return
    const whose = e.key.owner === s.jid ? 'your' : `${e.key.owner}'s`
    const key = keyHex(e.key.keyId)
    // a key seen for the first time: a new device (distrusted ones are not encrypted to)
    if (e.from === 'undecided')
      line(
        `* new device of ${e.key.owner === s.jid ? 'yours' : e.key.owner}: key ${key} is ${e.to}${e.to.endsWith('distrusted') ? ': not encrypted to until you authenticate it (vouch uri use)' : ''}`,
      )
    else line(`* ${whose} key ${key} is now ${e.to} (was ${e.from})`)
  })
  // a message with content this device cannot read is said; one with nothing to read (`skipped`:
  // an OMEMO session answer for another device) is not
  v.on('rejected', (e) => {
    const reason =
      (e.rule ?? (e.error as { rule?: string }).rule) === 'OMEMO-NOT-FOR-US'
        ? 'not encrypted for this device'
        : `${e.error.message}`
    line(
      `* a message from ${e.from} could not be read: ${reason}${e.held ? ' (kept: read again once its keys arrive)' : ''}`,
    )
  })
  v.on('key-unusable', (k) => line(`* key ${k.key} of ${k.owner} cannot be used: ${k.reason}`))
  v.on('subscription-request', (r) =>
    line(`* ${r.from} asks to be your contact: vouch contact approve ${r.from}`),
  )
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref())
}

/**
 * The key ids of `trust authenticate|distrust JID KEY…`, each KEY as a client shows it
 * (`parseDisplayedFingerprint` of `@vouch/uri`: Profanity's `413a0689-0e125b62-…`, the groups of
 * Conversations, Dino, Gajim or GnuPG, `05` in front of an OMEMO 0.3 key). Each word is one key;
 * when every word is shorter than a key, they are one key written in groups and pasted without
 * quotes (`… 413a0689 0e125b62 …`).
 */
export function keysFromWords(words: readonly string[], encryption: Encryption): KeyId[] {
  // both OMEMO versions have 32-byte key ids; only an OMEMO 0.3 key may carry the 05 type byte
  const ns = encryption === 'ox' ? NS_OX : encryption === 'omemo2' ? NS_OMEMO_2 : NS_OMEMO_LEGACY
  const digits = 2 * (DEFAULT_KEY_ID_LENGTHS[ns] as number)
  const grouped = words.length > 1 && words.every((w) => fingerprintDigits(w).length < digits)
  return (grouped ? [words.join(' ')] : words).map((w) => parseDisplayedFingerprint(w, ns))
}
