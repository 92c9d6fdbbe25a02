/**
 * The web demo end to end, in headless Chromium (playwright-core, Debian's `/usr/bin/chromium`)
 * against a throwaway Prosody over WebSocket: the XEP-0450 story of Alice's laptop (A1), her phone
 * (A2) and Bob (B1), each a panel of one page with its own IndexedDB store and OMEMO 2 device on
 * the browser crypto provider. Every step goes through the page's controls, as a user would;
 * screenshots of every step land in `apps/web/test-artifacts/` (gitignored; CI keeps them).
 *
 * 1. A1 registers alice, A2 logs in as alice, B1 registers bob; every endpoint fetches every
 *    device and trusts it automatically (TOAKAFA, TOAK-1).
 * 2. A1 scans A2's QR code (URI-3): A2 authenticated on A1. A2 scans A1's.
 * 3. A1 scans Bob's: B1 authenticated on A1 (URI-3), and by ATM on A2 (Example 1, ATM-S1 → ATM-R1);
 *    Bob gets Example 2 about A2 (ATM-S2) and postpones it (ATM-P1: A1 not authenticated on B1).
 * 4. B1 scans A1's: A1 authenticated on B1, and the postponed decision about A2 applies (ATM-P1).
 * 5. Bob writes to Alice: both of her devices decrypt it from an authenticated key; A2 answers.
 * 6. Alice loses her phone: A1 distrusts A2 (ATM-S5); Bob distrusts it from A1's trust message
 *    (ATM-R), and his next message is encrypted for A1 only: A2 cannot read it.
 */
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { prosodyInstalled } from '@vouch/prosody-tooling'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHROMIUM_ARGS, CHROMIUM_PATH, chromiumAvailable } from '../../../tooling/browser-tests/src/index.ts'
import { startWebDemo, type WebDemo } from '../src/serve.ts'

const MISSING = [
  ...(prosodyInstalled() ? [] : ['Prosody (apt-get install prosody)']),
  ...(chromiumAvailable() ? [] : [`Chromium at ${CHROMIUM_PATH} (apt-get install chromium)`]),
]
if (MISSING.length > 0) console.warn(`web demo end-to-end test skipped: ${MISSING.join(' and ')} missing`)

const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url))
type Name = 'A1' | 'A2' | 'B1'
const NAMES: readonly Name[] = ['A1', 'A2', 'B1']

describe.skipIf(MISSING.length > 0)(
  'web demo: the XEP-0450 story in Chromium over Prosody WebSocket',
  { timeout: 120_000 },
  () => {
    let demo: WebDemo
    let browser: Browser
    let page: Page
    let shot = 0
    const started = Date.now()

    const panel = (n: Name) => page.locator(`[data-endpoint=${n}]`)
    const cell = (viewer: Name, key: Name) =>
      page.locator(`#matrix td[data-viewer=${viewer}][data-key=${key}]`)
    const screenshot = async (what: string): Promise<void> => {
      shot += 1
      await page.screenshot({
        path: `${ARTIFACTS}${String(shot).padStart(2, '0')}-${what}.png`,
        fullPage: true,
      })
    }
    async function expectLevel(viewer: Name, key: Name, level: string): Promise<void> {
      await expect
        .poll(async () => (await cell(viewer, key).textContent()) ?? '', { timeout: 30_000, interval: 100 })
        .toBe(level)
    }
    async function scan(by: Name, of: Name): Promise<void> {
      const uri = (await panel(of).locator('[data-role=uri]').textContent()) ?? ''
      expect(uri).toMatch(/^xmpp:[^?]+\?trust-message;encryption=urn:xmpp:omemo:2;trust=[0-9a-f]{64}$/)
      await panel(by).locator('[data-role=scan-input]').fill(uri)
      await panel(by).locator('[data-role=scan]').click()
    }

    beforeAll(async () => {
      mkdirSync(ARTIFACTS, { recursive: true })
      demo = await startWebDemo()
      browser = await chromium.launch({
        executablePath: CHROMIUM_PATH,
        args: [...CHROMIUM_ARGS],
        headless: true,
      })
      page = await browser.newPage({ viewport: { width: 1400, height: 1000 } })
      page.on('dialog', (d) => void d.accept()) // the URI confirmation (URI-3)
      page.on('pageerror', (e) => console.error(`page error: ${e.message}`))
      await page.goto(demo.url)
    }, 60_000)

    afterAll(async () => {
      await browser?.close()
      await demo?.stop()
      console.info(`web demo end to end: ${Date.now() - started} ms wall time, screenshots in ${ARTIFACTS}`)
    })

    it('the page runs OMEMO 2 on the browser crypto provider (the `browser` export condition)', async () => {
      expect(await page.locator('body').getAttribute('data-crypto-provider')).toBe('webcrypto')
    })

    it('registration and login: three endpoints online, each with its own device and QR code', async () => {
      for (const n of NAMES) {
        await panel(n).locator('[data-role=connect]').click()
        await expect
          .poll(async () => (await panel(n).locator('[data-role=status]').textContent()) ?? '', {
            timeout: 30_000,
          })
          .toMatch(/^online as (alice|bob)@localhost\//)
        expect(await panel(n).locator('[data-role=qr] svg').count()).toBe(1)
      }
      await panel('A1').locator('[data-role=refresh]').click()
      await panel('A2').locator('[data-role=refresh]').click()
      for (const v of NAMES)
        for (const k of NAMES) if (v !== k) await expectLevel(v, k, 'automatically-trusted')
      await screenshot('online-toakafa')
    })

    it('URI-3: A1 and A2 scan each other; Alice’s own devices are authenticated both ways', async () => {
      await scan('A1', 'A2')
      await expectLevel('A1', 'A2', 'authenticated')
      await scan('A2', 'A1')
      await expectLevel('A2', 'A1', 'authenticated')
      await screenshot('alice-devices-authenticated')
    })

    it('ATM-S1/ATM-R1: A1 scans Bob; A2 authenticates Bob from A1’s trust message; Bob postpones Example 2 (ATM-P1)', async () => {
      await scan('A1', 'B1')
      await expectLevel('A1', 'B1', 'authenticated')
      await expectLevel('A2', 'B1', 'authenticated')
      // Bob does not authenticate A1 yet, so A1's decision about A2 waits
      expect(await cell('B1', 'A2').textContent()).toBe('automatically-trusted')
      await screenshot('a1-scanned-bob-atm-to-a2')
    })

    it('ATM-P1: Bob scans A1; the postponed decision about A2 applies', async () => {
      await scan('B1', 'A1')
      await expectLevel('B1', 'A1', 'authenticated')
      await expectLevel('B1', 'A2', 'authenticated')
      for (const v of NAMES)
        for (const k of NAMES) if (v !== k) expect(await cell(v, k).textContent()).toBe('authenticated')
      await screenshot('all-authenticated')
    })

    it('encrypted chat: Bob’s message reaches both of Alice’s devices from an authenticated key; A2 answers', async () => {
      await panel('B1').locator('[data-role=chat-to]').selectOption('alice')
      await panel('B1')
        .locator('[data-role=chat-text]')
        .fill('Hello Alice, this is Bob (OMEMO 2 in the browser)')
      await panel('B1').locator('[data-role=chat-send]').click()
      for (const n of ['A1', 'A2'] as const) {
        const msg = panel(n).locator('[data-role=chat-message]').first()
        await expect.poll(async () => (await msg.count()) > 0, { timeout: 30_000 }).toBe(true)
        expect(await msg.textContent()).toContain('Hello Alice, this is Bob')
        expect(await msg.locator('[data-role=chat-level]').textContent()).toBe('authenticated')
      }
      await panel('A2').locator('[data-role=chat-text]').fill('Hi Bob, from my phone')
      await panel('A2').locator('[data-role=chat-send]').click()
      const answer = panel('B1').locator('[data-role=chat-message]').first()
      await expect.poll(async () => (await answer.count()) > 0, { timeout: 30_000 }).toBe(true)
      expect(await answer.textContent()).toContain('Hi Bob, from my phone')
      expect(await answer.locator('[data-role=chat-level]').textContent()).toBe('authenticated')
      await screenshot('encrypted-chat')
    })

    it('ATM-S5: A1 distrusts the lost phone; Bob follows A1’s trust message and stops encrypting to it', async () => {
      await panel('A1').locator('[data-role=distrust-target]').selectOption('A2')
      await panel('A1').locator('[data-role=distrust]').click()
      await expectLevel('A1', 'A2', 'manually-distrusted')
      await expectLevel('B1', 'A2', 'manually-distrusted')
      const before = await panel('A2').locator('[data-role=chat-message]').count()
      await panel('B1').locator('[data-role=chat-text]').fill('Alice, only your laptop can read this')
      await panel('B1').locator('[data-role=chat-send]').click()
      const sent = panel('B1').locator('[data-role=chat-sent]', { hasText: 'only your laptop' })
      await expect.poll(async () => sent.count(), { timeout: 30_000 }).toBe(1)
      // encrypted for A1 alone (Bob has no other device)
      expect(await sent.textContent()).toContain('(1 devices)')
      const onLaptop = panel('A1').locator('[data-role=chat-message]', { hasText: 'only your laptop' })
      await expect.poll(async () => onLaptop.count(), { timeout: 30_000 }).toBe(1)
      expect(
        await panel('A2').locator('[data-role=chat-message]', { hasText: 'only your laptop' }).count(),
      ).toBe(0)
      expect(await panel('A2').locator('[data-role=chat-message]').count()).toBe(before)
      await screenshot('phone-distrusted')
    })
  },
)
