// The head of a rich document's page is the Markdown page's: the owner makes a share link from
// it and a reader with no account watches her type; she restricts the document from the Share
// dialog and lists an editor of the workspace as a viewer, whose page turns read-only (no
// formatting toolbar); she starts a call from the call bar and the viewer sees it beside the avatars.
// Usage (pytest runs it): COWRITE_BASE_URL=http://127.0.0.1:PORT node rich_head.mjs
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { BASE_URL, WAIT, assert, launch, openSynced, person, rest, signIn } from './harness.mjs'

const SHOTS = process.env.COWRITE_SCREENSHOTS
const FAILURES = process.env.COWRITE_FAILURE_SHOTS
for (const dir of [SHOTS, FAILURES]) if (dir) mkdirSync(dir, { recursive: true })
const shot = async (page, name) => { if (SHOTS) await page.screenshot({ path: join(SHOTS, `${name}.png`) }) }
const LOST = 'You no longer have access to this document.'

const browser = await launch({ media: true })
const pages = []
async function newPage () {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  context.setDefaultTimeout(WAIT)
  await context.grantPermissions(['camera', 'microphone'], { origin: BASE_URL })
  const page = await context.newPage()
  pages.push(page)
  return page
}

const content = (page) => page.locator('.rich-content')
const formatting = (page) => page.getByRole('toolbar', { name: 'Formatting' })

async function scenario () {
  const owner = await person('Rita Rich')
  const member = await person('Milo Member')
  const workspace = await rest('POST', '/api/v1/workspaces', { token: owner.token, body: { name: 'Field notes' } })
  await rest('POST', `/api/v1/workspaces/${workspace.id}/members`, { token: owner.token, body: { email: member.email, role: 'editor' } })
  const doc = await rest('POST', `/api/v1/workspaces/${workspace.id}/documents`, {
    token: owner.token, body: { title: 'Survey', format: 'rich', content: '# Survey\n\nFirst **finding** of the day.\n' }
  })

  const a = await newPage()
  await signIn(a, owner)
  await openSynced(a, doc.id)
  await content(a).locator('strong', { hasText: 'finding' }).waitFor()
  const b = await newPage()
  await signIn(b, member)
  await openSynced(b, doc.id)
  await content(b).locator('h1', { hasText: 'Survey' }).waitFor()
  await formatting(b).waitFor()

  // Share: a link from the dialog; a reader with no account sees the text and the owner's typing.
  await a.getByRole('button', { name: 'Share' }).click()
  const dialog = a.getByRole('dialog', { name: 'Share' })
  await dialog.getByRole('button', { name: 'Create link' }).click()
  const url = await dialog.getByTestId('share-url').inputValue()
  assert(url.startsWith(`${BASE_URL}/s/`), `a share url, got ${url}`)
  await dialog.getByTestId('share-link').first().waitFor()
  await shot(a, 'rich-share-dialog')
  const links = await rest('GET', `/api/v1/documents/${doc.id}/shares`, { token: owner.token })
  assert(links.length === 1 && links[0].created_by === owner.id, `one link, made by the owner: ${JSON.stringify(links)}`)
  const reader = await newPage()
  await reader.goto(url)
  await reader.locator('[data-testid=shared-text]', { hasText: 'First finding of the day.' }).waitFor()
  await reader.locator('[data-testid=shared-connection][data-link=live]').waitFor()
  await a.keyboard.press('Escape')
  await dialog.waitFor({ state: 'detached' })
  await content(a).locator('p', { hasText: 'of the day.' }).click()
  await a.keyboard.press('End')
  await a.keyboard.type(' Seen from the ridge.')
  await reader.locator('[data-testid=shared-text]', { hasText: 'Seen from the ridge.' }).waitFor()

  // Access: restricted, the member loses the page; listed as a viewer, he reads it without tools.
  await a.getByRole('button', { name: 'Share' }).click()
  const panel = a.getByRole('dialog', { name: 'Share' }).getByRole('region', { name: 'Access' })
  // The choice shows once the server has it (a click alone may be undone by the next render).
  const restrict = panel.getByLabel('Only the people listed here (restricted)')
  await restrict.click()
  await panel.getByRole('status').filter({ hasText: 'Only the people listed below' }).waitFor()
  assert(await restrict.isChecked(), 'restricted is chosen once saved')
  await b.getByRole('alert').filter({ hasText: LOST }).waitFor()
  await panel.getByLabel('Add by email').fill(member.email)
  await panel.locator('select[name=access-role]').selectOption('viewer')
  await panel.getByRole('button', { name: 'Add' }).click()
  await panel.getByTestId('access-person').filter({ hasText: 'Milo Member' }).waitFor()
  await shot(a, 'rich-access')
  const saved = await rest('GET', `/api/v1/documents/${doc.id}`, { token: owner.token })
  assert(saved.visibility === 'restricted', `the document is restricted (${saved.visibility})`)
  await openSynced(b, doc.id)
  await content(b).locator('p', { hasText: 'Seen from the ridge.' }).waitFor()
  await b.getByTestId('read-only').waitFor()
  assert(await formatting(b).count() === 0, 'a viewer gets no formatting toolbar')
  assert(await content(b).getAttribute('contenteditable') === 'false', 'a viewer cannot type in the editor')

  // The call bar: the owner starts a call, the viewer sees it and may join.
  await a.getByRole('dialog', { name: 'Share' }).getByRole('button', { name: 'Close' }).click()
  await a.getByRole('button', { name: 'Start call' }).click()
  await a.locator('.call-tile[data-me=true]').waitFor()
  await b.getByTestId('call-count').filter({ hasText: '1 in call' }).waitFor()
  await b.getByRole('group', { name: 'Call' }).getByRole('button', { name: 'Join call' }).waitFor()
  await shot(a, 'rich-call')
  await a.getByRole('button', { name: 'Leave call' }).click()
  await a.locator('.call-tile[data-me=true]').waitFor({ state: 'detached' })
  await b.getByTestId('call-count').waitFor({ state: 'detached' })
  await b.getByRole('button', { name: 'Start call' }).waitFor()
  // Whoever left an empty call sees no call either: a fresh one to start, not one to join.
  await a.getByTestId('call-count').waitFor({ state: 'detached' })
  await a.getByRole('button', { name: 'Start call' }).waitFor()
}

let failed = false
try {
  await scenario()
  console.log('ok rich head')
} catch (error) {
  failed = true
  console.log(`FAIL rich head: ${error.stack ?? error}`)
  if (FAILURES) for (const [index, page] of pages.entries()) await page.screenshot({ path: join(FAILURES, `rich-head-${index}.png`) }).catch(() => {})
}
await browser.close()
process.exit(failed ? 1 : 0)
