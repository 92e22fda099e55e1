// Share links in the browser: the owner makes a link in the Share dialog; a fresh context with
// no account opens it and watches the owner type; revoking closes that page's connection. Also
// a password-protected link, and the API tokens section of the account page.
// Usage (pytest runs it): COWRITE_BASE_URL=http://127.0.0.1:PORT node share.mjs
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import AxeBuilder from '@axe-core/playwright'
import { BASE_URL, WAIT, assert, launch, openSynced, person, rest, signIn, typeInEditor } from './harness.mjs'

const SHOTS = process.env.COWRITE_SCREENSHOTS
const FAILURES = process.env.COWRITE_FAILURE_SHOTS
for (const dir of [SHOTS, FAILURES]) if (dir) mkdirSync(dir, { recursive: true })
const shot = async (page, name) => { if (SHOTS) await page.screenshot({ path: join(SHOTS, `${name}.png`) }) }
const VIEWPORT = { width: 1280, height: 800 }
const world = {}

async function newPage (browser) {
  const context = await browser.newContext({ viewport: VIEWPORT })
  context.setDefaultTimeout(WAIT)
  return context.newPage()
}

const sharedText = (page, text) => page.locator('[data-testid=shared-text]', { hasText: text }).waitFor()

const steps = {
  async share_live (browser) {
    const owner = world.owner = await person('Olive Owner')
    const workspace = await rest('POST', '/api/v1/workspaces', { token: owner.token, body: { name: 'Launch' } })
    const doc = world.doc = await rest('POST', `/api/v1/workspaces/${workspace.id}/documents`, {
      token: owner.token, body: { title: 'Launch plan', content: 'First line of the plan.' }
    })
    const page = world.owner_page = await newPage(browser)
    await signIn(page, owner)
    await openSynced(page, doc.id)
    await page.getByRole('button', { name: 'Share' }).click()
    const dialog = page.getByRole('dialog', { name: 'Share' })
    await dialog.getByRole('button', { name: 'Create link' }).click()
    const url = await dialog.getByTestId('share-url').inputValue()
    assert(url.startsWith(`${BASE_URL}/s/`), `a share url, got ${url}`)
    await dialog.getByTestId('share-link').first().waitFor()
    await shot(page, 'share-dialog')

    // Someone with no account, in a browser context of their own.
    const reader = world.reader = await newPage(browser)
    const answer = await reader.goto(url)
    assert((answer.headers()['x-robots-tag'] ?? '').startsWith('noindex'), 'the shared page is kept out of search engines')
    await sharedText(reader, 'First line of the plan.')
    await reader.locator('[data-testid=shared-connection][data-link=live]').waitFor()
    assert(await reader.getByRole('heading', { name: 'Launch plan' }).isVisible(), 'the title shows')
    assert(await reader.locator('.cm-content').count() === 0, 'no editor on the shared page')

    await page.keyboard.press('Escape')
    await typeInEditor(page, '\nSecond line typed live.')
    await sharedText(reader, 'Second line typed live.')
    await shot(reader, 'shared-page')
    const bad = (await new AxeBuilder({ page: reader }).withTags(['wcag2a', 'wcag2aa']).analyze())
      .violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    assert(bad.length === 0, `shared page: ${bad.map((v) => v.id).join(', ')}`)
  },

  async share_revoke () {
    const page = world.owner_page
    await page.getByRole('button', { name: 'Share' }).click()
    const dialog = page.getByRole('dialog', { name: 'Share' })
    await dialog.getByTestId('share-link').first().getByRole('button', { name: 'Revoke' }).click()
    await dialog.getByText('No public links.').waitFor()
    const reader = world.reader
    await reader.locator('[data-testid=shared-connection][data-link=closed]').waitFor()
    await reader.getByRole('alert').filter({ hasText: 'revoked' }).waitFor()
    await shot(reader, 'shared-revoked')
    await page.keyboard.press('Escape')
  },

  async share_password (browser) {
    const link = await rest('POST', `/api/v1/documents/${world.doc.id}/shares`, {
      token: world.owner.token, body: { password: 'open sesame' }
    })
    const reader = await newPage(browser)
    await reader.goto(`${BASE_URL}/s/${link.token}`)
    await reader.getByLabel('Password').fill('not it')
    await reader.getByRole('button', { name: 'Open' }).click()
    await reader.getByRole('alert').waitFor()
    await reader.getByLabel('Password').fill('open sesame')
    await reader.getByRole('button', { name: 'Open' }).click()
    await sharedText(reader, 'Second line typed live.')
    await reader.locator('[data-testid=shared-connection][data-link=live]').waitFor()
  },

  async api_tokens () {
    const page = world.owner_page
    await page.goto(`${BASE_URL}/account`)
    const section = page.locator('section.api-tokens')
    await section.getByLabel('Name').fill('Nightly export')
    await section.getByRole('button', { name: 'Create token' }).click()
    const token = await section.getByTestId('api-token').inputValue()
    assert(token.startsWith('cwp_'), `a personal token, got ${token.slice(0, 6)}`)
    const response = await fetch(`${BASE_URL}/api/v1/workspaces`, { headers: { Authorization: `Bearer ${token}` } })
    assert(response.status === 200, `the token reads the API (${response.status})`)
    await section.locator('li', { hasText: 'Nightly export' }).waitFor()
    await section.scrollIntoViewIfNeeded()
    await shot(page, 'api-tokens')
    await section.locator('li', { hasText: 'Nightly export' }).getByRole('button', { name: 'Revoke' }).click()
    await section.getByText('No tokens.').waitFor()
    const after = await fetch(`${BASE_URL}/api/v1/workspaces`, { headers: { Authorization: `Bearer ${token}` } })
    assert(after.status === 401, 'a revoked token is refused')
  }
}

const wanted = process.argv.slice(2)
const order = wanted.length ? wanted : Object.keys(steps)
const browser = await launch()
let failed = false
for (const name of order) {
  const started = Date.now()
  try {
    await steps[name](browser)
    console.log(`ok ${name} (${Date.now() - started} ms)`)
  } catch (error) {
    failed = true
    console.log(`FAIL ${name}: ${error.stack ?? error}`)
    for (const [label, page] of [['owner', world.owner_page], ['reader', world.reader]]) {
      if (page && FAILURES) await page.screenshot({ path: join(FAILURES, `${name}-${label}.png`) }).catch(() => {})
    }
    break
  }
}
await browser.close()
process.exit(failed ? 1 : 0)
