// Rich-text documents in two browsers: one person creates a rich document from the documents
// screen, both format and type in the Tiptap editor, each sees the other's headings, marks and
// caret, the REST content (Markdown) shows the formatting, and a comment on a word stays on it.
// Usage (pytest runs it): COWRITE_BASE_URL=http://127.0.0.1:PORT node rich.mjs
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { BASE_URL, WAIT, assert, eventually, launch, person, rest, signIn, waitSynced } from './harness.mjs'

const SHOTS = process.env.COWRITE_SCREENSHOTS
const FAILURES = process.env.COWRITE_FAILURE_SHOTS
for (const dir of [SHOTS, FAILURES]) if (dir) mkdirSync(dir, { recursive: true })

const browser = await launch()
const pages = []
async function open (who) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  context.setDefaultTimeout(WAIT)
  const page = await context.newPage()
  pages.push(page)
  await signIn(page, who)
  return page
}

const content = (page) => page.locator('.rich-content')
const tool = (page, name) => page.getByRole('toolbar', { name: 'Formatting' }).getByRole('button', { name, exact: true })

async function scenario () {
  const alice = await person('Alice Rich')
  const bob = await person('Bob Rich')
  const workspace = await rest('POST', '/api/v1/workspaces', { token: alice.token, body: { name: 'Newsroom' } })
  await rest('POST', `/api/v1/workspaces/${workspace.id}/members`, { token: alice.token, body: { email: bob.email, role: 'editor' } })
  // A Markdown document beside it: its editor never loads the rich-text chunk.
  const notes = await rest('POST', `/api/v1/workspaces/${workspace.id}/documents`, { token: alice.token, body: { title: 'Notes', content: 'plain' } })

  const a = await open(alice)
  const loaded = []
  a.on('response', (response) => { if (response.url().includes('/assets/')) loaded.push(response.url()) })
  await a.goto(`${BASE_URL}/d/${notes.id}`)
  await waitSynced(a)
  await a.locator('.cm-content', { hasText: 'plain' }).waitFor()
  assert(!loaded.some((url) => url.includes('RichEditor')), `a Markdown document loaded the rich-text chunk: ${loaded.join(', ')}`)

  // Alice creates a rich document from the documents screen.
  await a.goto(`${BASE_URL}/w/${workspace.id}`)
  await a.getByRole('button', { name: 'New rich text' }).click()
  await a.waitForURL(/\/d\//)
  const documentId = new URL(a.url()).pathname.split('/').pop()
  await waitSynced(a)
  await content(a).waitFor()
  assert(loaded.some((url) => url.includes('RichEditor')), 'the rich document loaded its editor chunk')
  const created = await rest('GET', `/api/v1/documents/${documentId}`, { token: alice.token })
  assert(created.format === 'rich', `the new document is rich (${created.format})`)

  const b = await open(bob)
  await b.goto(`${BASE_URL}/d/${documentId}`)
  await waitSynced(b)
  await content(b).waitFor()

  // Alice: a heading, then a paragraph with a bold word.
  await content(a).click()
  await tool(a, 'Heading 1').click()
  await a.keyboard.type('Trip plan')
  await a.keyboard.press('Enter')
  await a.keyboard.type('Bring ')
  await tool(a, 'Bold').click()
  await a.keyboard.type('snacks')
  await tool(a, 'Bold').click()
  await a.keyboard.type(' and water.')
  assert(await tool(a, 'Bold').getAttribute('aria-pressed') === 'false', 'bold is off after the bold word')

  await content(b).locator('h1', { hasText: 'Trip plan' }).waitFor()
  await content(b).locator('strong', { hasText: 'snacks' }).waitFor()
  await content(b).locator('p', { hasText: 'Bring snacks and water.' }).waitFor()

  // Bob adds an italic line and a list at the end; Alice sees them, and his caret by name.
  await content(b).locator('p', { hasText: 'and water.' }).click()
  await b.keyboard.press('End')
  await b.keyboard.press('Enter')
  await tool(b, 'Italic').click()
  await b.keyboard.type('Bob was here')
  await tool(b, 'Italic').click()
  await b.keyboard.press('Enter')
  await tool(b, 'Bulleted list').click()
  await b.keyboard.type('tent')
  await content(a).locator('em', { hasText: 'Bob was here' }).waitFor()
  await content(a).locator('ul li', { hasText: 'tent' }).waitFor()
  await a.locator('.rich-caret-label', { hasText: 'Bob Rich' }).waitFor()
  await b.locator('.rich-caret-label', { hasText: 'Alice Rich' }).waitFor()

  // The REST content is the Markdown of what both see.
  let markdown = ''
  await eventually(async () => {
    markdown = (await rest('GET', `/api/v1/documents/${documentId}`, { token: bob.token })).content
    return markdown.includes('# Trip plan') && markdown.includes('**snacks**') && markdown.includes('*Bob was here*') && /[-*] tent/.test(markdown)
  }, 'the REST content to show the formatting')
  assert(markdown.indexOf('# Trip plan') < markdown.indexOf('**snacks**'), `the heading comes first: ${markdown}`)

  // A REST write (Markdown) reaches both editors as formatting, leaving their text in place.
  await rest('PATCH', `/api/v1/documents/${documentId}`, { token: alice.token, body: { content: `${markdown.trim()}\n\n## Packed by REST\n` } })
  await content(a).locator('h2', { hasText: 'Packed by REST' }).waitFor()
  await content(b).locator('h2', { hasText: 'Packed by REST' }).waitFor()
  await content(b).locator('strong', { hasText: 'snacks' }).waitFor()

  // Comments: Bob comments on the bold word; both see it highlighted, and it stays on the word
  // while Alice types before it. The REST anchor quotes the word.
  await content(b).locator('strong', { hasText: 'snacks' }).dblclick()
  await b.getByRole('button', { name: 'Comment', exact: true }).click()
  await b.locator('.new-thread .quote', { hasText: 'snacks' }).waitFor()
  await b.getByLabel('New comment').fill('Which **snacks**?')
  await b.getByRole('button', { name: 'Post comment' }).click()
  await content(b).locator('.rich-comment', { hasText: 'snacks' }).waitFor()
  await a.getByRole('button', { name: 'Comments', exact: true }).click()
  await a.locator('.comments .thread', { hasText: 'Which snacks?' }).waitFor()
  await content(a).locator('.rich-comment', { hasText: 'snacks' }).waitFor()
  await content(a).locator('p', { hasText: 'Bring' }).click()
  await a.keyboard.press('Home')
  await a.keyboard.type('Please ')
  await content(b).locator('p', { hasText: 'Please' }).filter({ hasText: 'snacks' }).waitFor()
  await eventually(async () => (await content(a).locator('.rich-comment').allInnerTexts()).join('|') === 'snacks', 'the highlight to stay on the word')
  await eventually(async () => (await content(b).locator('.rich-comment').allInnerTexts()).join('|') === 'snacks', 'the highlight to stay on the word for Bob')
  const [thread] = (await rest('GET', `/api/v1/documents/${documentId}/comments`, { token: alice.token })).items
  assert(thread.anchor.quote === 'snacks' && !thread.anchor.orphaned, `the REST anchor quotes the word: ${JSON.stringify(thread.anchor)}`)
  // A click on the highlight opens its thread.
  await a.getByRole('button', { name: 'Comments', exact: true }).click()
  await content(a).locator('.rich-comment').click()
  await a.locator('.comments .thread.active', { hasText: 'Which snacks?' }).waitFor()

  if (SHOTS) await a.screenshot({ path: join(SHOTS, 'rich.png') })
}

let failed = false
try {
  await scenario()
  console.log('ok rich')
} catch (error) {
  failed = true
  console.log(`FAIL rich: ${error.stack ?? error}`)
  for (const [index, page] of pages.entries()) {
    console.log(`page ${index}: ${JSON.stringify(await page.locator('.rich-content').innerText({ timeout: 1000 }).catch(() => '(no editor)'))}`)
    if (FAILURES) await page.screenshot({ path: join(FAILURES, `rich-${index}.png`) }).catch(() => {})
  }
}
await browser.close()
process.exit(failed ? 1 : 0)
