// Single sign-on and webhooks in a real browser, against a real server (and a real OpenID provider
// that the runner started). Steps run in order; the first failure stops the run (exit code 1).
// Usage (pytest runs it): COWRITE_BASE_URL=… COWRITE_DOWN_URL=… node integrations.mjs [step…]
//   COWRITE_BASE_URL  a server whose single sign-on provider is up ("Test Identity")
//   COWRITE_DOWN_URL  a server whose provider does not answer
import { createHmac } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { BASE_URL, PASSWORD, WAIT, assert, eventually, launch, person, rest, signIn } from './harness.mjs'

const DOWN_URL = process.env.COWRITE_DOWN_URL
const PROVIDER_NAME = 'Test Identity'
const SHOTS = process.env.COWRITE_SCREENSHOTS
const FAILURES = process.env.COWRITE_FAILURE_SHOTS
for (const dir of [SHOTS, FAILURES]) if (dir) mkdirSync(dir, { recursive: true })
const shot = async (page, name) => { if (SHOTS) await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true }) }

const world = { pages: [] }
const newPage = async (browser) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  context.setDefaultTimeout(WAIT)
  const page = await context.newPage()
  world.pages.push(page)
  return page
}

/** A webhook receiver on 127.0.0.1: keeps every request; answers `receiver.status`. */
function startReceiver () {
  const receiver = { status: 200, requests: [], url: '' }
  const server = createServer((request, response) => {
    const chunks = []
    request.on('data', (chunk) => chunks.push(chunk))
    request.on('end', () => {
      receiver.requests.push({ headers: request.headers, body: Buffer.concat(chunks).toString() })
      response.writeHead(receiver.status, { 'Content-Type': 'text/plain' })
      response.end(receiver.status === 200 ? 'thanks' : 'gone')
    })
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    receiver.url = `http://127.0.0.1:${server.address().port}/hooks/cowrite`
    receiver.close = () => server.close()
    resolve(receiver)
  }))
}

const received = (event) => world.receiver.requests.filter((r) => r.headers['x-cowrite-event'] === event)

/** Through the provider's own sign-in and consent pages, as `account`. */
async function atProvider (page, account) {
  await page.locator('input[name=login]').fill(account)
  await page.locator('input[name=password]').fill('any password')
  await page.locator('button[type=submit]').click()
  await page.locator('button[type=submit]', { hasText: 'Continue' }).click()
}

const steps = {
  // 1. "Sign in with Test Identity" on the login page; the provider's pages; back signed in, with
  //    no code left in the address, and still signed in after a reload (the refresh cookie).
  async sso (browser) {
    const page = await newPage(browser)
    await page.goto(`${BASE_URL}/login`)
    const button = page.getByRole('link', { name: `Sign in with ${PROVIDER_NAME}` })
    await button.waitFor()
    await page.getByLabel('Email').waitFor() // password sign-in stays beside it
    await shot(page, 'sso-login')
    await button.click()
    await page.waitForURL((url) => !url.href.startsWith(BASE_URL))
    await atProvider(page, 'alice')
    await page.locator('.topbar', { hasText: 'Alice Example' }).waitFor()
    assert(new URL(page.url()).pathname === '/', `landed at ${page.url()}`)
    assert(!page.url().includes('code='), `the one-time code stayed in the address: ${page.url()}`)
    await page.reload()
    await page.locator('.topbar', { hasText: 'Alice Example' }).waitFor()
    const first = await page.evaluate(() => fetch('/api/v1/auth/refresh?cookie=true', { method: 'POST' }).then((r) => r.json()))
    const me = await rest('GET', '/api/v1/users/me', { token: first.access_token })
    // Signed out here, signed in again with one click: the provider remembers its own session,
    // and the same account comes back (no second one).
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByRole('heading', { name: 'Sign in to cowrite' }).waitFor()
    await page.getByRole('link', { name: `Sign in with ${PROVIDER_NAME}` }).click()
    await page.locator('.topbar', { hasText: 'Alice Example' }).waitFor()
    const again = await page.evaluate(() => fetch('/api/v1/auth/refresh?cookie=true', { method: 'POST' }).then((r) => r.json()))
    assert((await rest('GET', '/api/v1/users/me', { token: again.access_token })).id === me.id, 'the same account')
  },

  // 2. A code that was used, or made up, ends on a plain error with the way back.
  async sso_bad_code (browser) {
    const page = await newPage(browser)
    await page.goto(`${BASE_URL}/sign-in/oidc?code=made-up-or-used`)
    await page.getByRole('heading', { name: 'Sign-in failed' }).waitFor()
    await page.getByRole('alert').filter({ hasText: 'invalid, used or expired' }).waitFor()
    assert(!page.url().includes('code='), 'the code left the address')
    await page.getByRole('link', { name: 'Back to sign-in' }).click()
    await page.getByRole('heading', { name: 'Sign in to cowrite' }).waitFor()
  },

  // 3. The provider is down: a clear error page, and password sign-in still works.
  async sso_down (browser) {
    assert(DOWN_URL, 'COWRITE_DOWN_URL is not set')
    const page = await newPage(browser)
    const email = `pat-${Date.now().toString(36)}@example.com`
    const registered = await fetch(`${DOWN_URL}/api/v1/auth/register`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email, password: PASSWORD, full_name: 'Pat Password' })
    })
    assert(registered.status === 201, `register: ${registered.status}`)
    await page.goto(`${DOWN_URL}/login`)
    await page.getByRole('link', { name: `Sign in with ${PROVIDER_NAME}` }).click()
    await page.getByRole('heading', { name: 'The sign-in provider cannot be reached' }).waitFor()
    await page.getByText('sign in with your password').waitFor()
    await shot(page, 'sso-provider-down')
    await page.getByRole('link', { name: 'Back to sign-in' }).click()
    await page.getByLabel('Email').fill(email)
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await page.locator('.topbar', { hasText: 'Pat Password' }).waitFor()
  },

  // 4. An admin registers a webhook on the settings page: the secret once, a signed test event
  //    and its delivery log, a real event, off and on again.
  async webhooks (browser) {
    world.receiver = await startReceiver()
    const owner = world.owner = await person('Olga Owner')
    const editor = world.editor = await person('Ed Editor')
    const workspace = world.workspace = await rest('POST', '/api/v1/workspaces', { token: owner.token, body: { name: 'Hooked' } })
    await rest('POST', `/api/v1/workspaces/${workspace.id}/members`, { token: owner.token, body: { email: editor.email, role: 'editor' } })
    const page = world.page = await newPage(browser)
    await signIn(page, owner)
    await page.goto(`${BASE_URL}/w/${workspace.id}`)
    await page.getByRole('link', { name: 'Webhooks' }).click()
    await page.getByRole('heading', { name: 'Webhooks of Hooked' }).waitFor()
    await page.getByText('No webhooks yet.').waitFor()
    // Not http(s): refused with the server's reason, nothing added.
    await page.getByLabel('Payload URL').fill('ftp://example.com/x')
    await page.getByRole('button', { name: 'Add webhook' }).click()
    await page.locator('.error[role=alert]').waitFor()
    await page.getByLabel('Payload URL').fill(world.receiver.url)
    await page.getByLabel('document.updated').uncheck()
    await page.getByLabel('comment.created').check()
    await page.getByRole('button', { name: 'Add webhook' }).click()
    const secretBox = page.getByTestId('webhook-secret')
    await secretBox.waitFor()
    world.secret = (await secretBox.locator('code').first().innerText()).trim()
    assert(world.secret.length >= 32, `secret: ${world.secret}`)
    const card = page.getByRole('listitem', { name: `Webhook ${world.receiver.url}` })
    await card.getByTestId('webhook-state').filter({ hasText: 'On' }).waitFor()
    assert(await card.getByText('document.created').isVisible() && await card.getByText('comment.created').isVisible(), 'events shown')
    assert(!(await card.getByText('document.updated').isVisible()), 'unchecked event not subscribed')
    await shot(page, 'webhooks-secret')
    await page.getByRole('button', { name: 'I have copied it' }).click()
    assert(!(await page.getByText(world.secret).isVisible()), 'the secret is shown once')
    await page.reload()
    await card.waitFor()
    assert(!(await page.content()).includes(world.secret), 'the secret is not shown again')

    // A test event: it arrives signed with that secret, and the log shows it delivered.
    await card.getByRole('button', { name: 'Send test event' }).click()
    await eventually(async () => received('webhook.test').length === 1, 'the test event')
    const [test] = received('webhook.test')
    const signature = createHmac('sha256', world.secret).update(`${test.headers['x-cowrite-timestamp']}.${test.body}`).digest('hex')
    assert(test.headers['x-cowrite-signature'] === `sha256=${signature}`, 'signature checks with the secret shown once')
    const row = card.getByTestId('delivery').filter({ hasText: 'webhook.test' })
    await row.filter({ hasText: 'delivered' }).waitFor()
    assert((await row.innerText()).includes('200'), 'status code in the log')
    assert((await row.innerText()).includes(test.headers['x-cowrite-delivery']), 'delivery id in the log')

    // A real event: a document made through the API arrives, and shows in the log.
    await rest('POST', `/api/v1/workspaces/${workspace.id}/documents`, { token: editor.token, body: { title: 'Launch plan' } })
    await eventually(async () => received('document.created').length === 1, 'document.created')
    assert(JSON.parse(received('document.created')[0].body).data.title === 'Launch plan', 'event body')
    await card.getByRole('button', { name: 'Deliveries' }).click()
    await card.getByRole('button', { name: 'Deliveries' }).click()
    await card.getByTestId('delivery').filter({ hasText: 'document.created' }).filter({ hasText: 'delivered' }).waitFor()
    await shot(page, 'webhooks')

    // Off: nothing is sent; on again: it is.
    await card.getByRole('button', { name: 'Turn off' }).click()
    await card.getByTestId('webhook-state').filter({ hasText: 'Off' }).waitFor()
    assert(await card.getByRole('button', { name: 'Send test event' }).isDisabled(), 'no test while off')
    await rest('POST', `/api/v1/workspaces/${workspace.id}/documents`, { token: editor.token, body: { title: 'Quiet' } })
    await card.getByRole('button', { name: 'Turn on' }).click()
    await card.getByTestId('webhook-state').filter({ hasText: 'On' }).waitFor()
    await card.getByRole('button', { name: 'Send test event' }).click()
    await eventually(async () => received('webhook.test').length === 2, 'the second test event')
    assert(received('document.created').length === 1, 'nothing was queued while off')

    // An editor has no way in.
    const other = await newPage(browser)
    await signIn(other, editor)
    await other.goto(`${BASE_URL}/w/${workspace.id}`)
    await other.getByRole('link', { name: 'Members' }).waitFor()
    assert(await other.getByRole('link', { name: 'Webhooks' }).count() === 0, 'no Webhooks link for an editor')
    await other.goto(`${BASE_URL}/w/${workspace.id}/webhooks`)
    await other.getByText('Only the workspace\'s admins and owners manage its webhooks.').waitFor()
  },

  // 5. The receiver answers 410: the webhook turns off, and the admin's bell says so and leads
  //    back to the page; then the admin deletes the webhook.
  async webhook_turned_off () {
    const { page, receiver } = world
    receiver.status = 410
    const card = page.getByRole('listitem', { name: `Webhook ${receiver.url}` })
    await card.getByRole('button', { name: 'Send test event' }).click()
    await page.getByTestId('unread-count').filter({ hasText: '1' }).waitFor()
    await page.getByTestId('bell').click()
    const notice = page.locator('.notification.unread', { hasText: 'turned off a webhook' })
    await notice.waitFor()
    assert((await notice.innerText()).includes(receiver.url), 'the notice names the receiver')
    await shot(page, 'webhook-turned-off-bell')
    await page.goto(`${BASE_URL}/w/${world.workspace.id}`)
    await page.getByTestId('bell').click()
    await page.locator('.notification-open', { hasText: 'turned off a webhook' }).click()
    await page.waitForURL(`${BASE_URL}/w/${world.workspace.id}/webhooks`)
    await card.getByTestId('webhook-state').filter({ hasText: 'Off' }).waitFor()
    await card.getByText('Turned off: The receiver answered 410 Gone').waitFor()
    page.once('dialog', (dialog) => { void dialog.accept() })
    await card.getByRole('button', { name: 'Delete' }).click()
    await page.getByText('No webhooks yet.').waitFor()
    receiver.close()
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
    if (FAILURES) {
      for (const [index, page] of world.pages.entries()) {
        await page.screenshot({ path: join(FAILURES, `${name}-${index}.png`) }).catch(() => {})
      }
    }
    break
  }
}
await browser.close()
process.exit(failed ? 1 : 0)
