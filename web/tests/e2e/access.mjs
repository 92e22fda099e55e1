// Restricted documents in the browser: the owner restricts a document from the Share dialog and
// lists a guest from outside the workspace; a member's open page loses the document at once; the
// guest opens it read-only (a commenter), and loses it when taken off the list.
// Usage (pytest runs it): COWRITE_BASE_URL=http://127.0.0.1:PORT node access.mjs
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import AxeBuilder from '@axe-core/playwright'
import { BASE_URL, WAIT, assert, launch, openSynced, person, rest, signIn, waitForText, waitSynced } from './harness.mjs'

const SHOTS = process.env.COWRITE_SCREENSHOTS
const FAILURES = process.env.COWRITE_FAILURE_SHOTS
for (const dir of [SHOTS, FAILURES]) if (dir) mkdirSync(dir, { recursive: true })

const VIEWPORT = { width: 1280, height: 800 }
const LOST = 'You no longer have access to this document.'

async function page (browser, who) {
  const context = await browser.newContext({ viewport: VIEWPORT })
  context.setDefaultTimeout(WAIT)
  const opened = await context.newPage()
  await signIn(opened, who)
  return opened
}

async function main () {
  const owner = await person('Olga Owner')
  const member = await person('Mika Member')
  const guest = await person('Gil Guest')
  const workspace = await rest('POST', '/api/v1/workspaces', { token: owner.token, body: { name: 'Board' } })
  await rest('POST', `/api/v1/workspaces/${workspace.id}/members`, { token: owner.token, body: { email: member.email, role: 'editor' } })
  const doc = await rest('POST', `/api/v1/workspaces/${workspace.id}/documents`, {
    token: owner.token, body: { title: 'Board minutes', content: 'Salaries for next year' }
  })

  const browser = await launch()
  const pages = {}
  try {
    pages.owner = await page(browser, owner)
    pages.member = await page(browser, member)
    await openSynced(pages.owner, doc.id)
    await openSynced(pages.member, doc.id)
    await waitForText(pages.member, 'Salaries for next year')

    // The owner restricts the document and lists the guest as a commenter.
    const a = pages.owner
    await a.getByRole('button', { name: 'Share' }).click()
    const panel = a.getByRole('dialog', { name: 'Share' }).getByRole('region', { name: 'Access' })
    // The choice shows once the server has it (a click alone may be undone by the next render).
    const restrict = panel.getByLabel('Only the people listed here (restricted)')
    await restrict.click()
    await panel.getByRole('status').filter({ hasText: 'Only the people listed below' }).waitFor()
    assert(await restrict.isChecked(), 'restricted is chosen once saved')
    // The member's open page loses the document at once.
    await pages.member.getByRole('alert').filter({ hasText: LOST }).waitFor()
    await panel.getByLabel('Add by email').fill(guest.email)
    await panel.locator('select[name=access-role]').selectOption('commenter')
    await panel.getByRole('button', { name: 'Add' }).click()
    const row = panel.getByTestId('access-person').filter({ hasText: 'Gil Guest' })
    await row.waitFor()
    assert((await row.innerText()).includes('Guest'), 'the guest is marked as a guest')
    const everyone = await panel.getByTestId('access-list').innerText()
    assert(!everyone.includes('Everyone in the workspace'), 'a restricted document is not the workspace\'s')
    if (SHOTS) await a.screenshot({ path: join(SHOTS, 'access.png') })
    const axe = await new AxeBuilder({ page: a }).include('.access-panel').withTags(['wcag2a', 'wcag2aa']).analyze()
    const bad = axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    assert(bad.length === 0, `accessibility: ${bad.map((v) => v.id).join(', ')}`)

    // The guest sees the document, read-only, and nothing of the workspace.
    // A guest has no workspace: their home lists what they are listed on, and opens it.
    pages.guest = await page(browser, guest)
    const g = pages.guest
    const sharedList = g.getByRole('list', { name: 'Shared with you' })
    const item = sharedList.getByTestId('shared-document').filter({ hasText: 'Board minutes' })
    await item.waitFor()
    assert((await item.innerText()).includes('as a guest'), 'the home says the guest came in as a guest')
    if (SHOTS) await g.screenshot({ path: join(SHOTS, 'shared-with-me.png') })
    await item.getByRole('link', { name: 'Board minutes' }).click()
    await waitSynced(g)
    assert(new URL(g.url()).pathname === `/d/${doc.id}`, 'the link opens the document')
    await waitForText(g, 'Salaries for next year')
    await g.getByTestId('read-only').waitFor()
    const hidden = await fetch(`${BASE_URL}/api/v1/workspaces/${workspace.id}/documents`, { headers: { Authorization: `Bearer ${guest.token}` } })
    assert(hidden.status === 404, `a guest lists no workspace documents (got ${hidden.status})`)

    // Taken off the list, the guest's open page loses it too.
    await row.getByRole('button', { name: 'Remove Gil Guest' }).click()
    await row.waitFor({ state: 'detached' })
    await g.getByRole('alert').filter({ hasText: LOST }).waitFor()
    console.log('ok access')
  } catch (error) {
    if (FAILURES) {
      for (const [name, opened] of Object.entries(pages)) {
        await opened.screenshot({ path: join(FAILURES, `access-${name}.png`) }).catch(() => {})
      }
    }
    throw error
  } finally {
    await browser.close()
  }
}

main().then(() => process.exit(0), (error) => { console.error(error); process.exit(1) })
