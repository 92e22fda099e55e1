// The browser suite: two people in two browser contexts use the real app on a real server.
// Steps run in order and build on each other; the first failure stops the run (exit code 1).
// Usage (pytest runs it): COWRITE_BASE_URL=http://127.0.0.1:PORT node suite.mjs [step…]
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import AxeBuilder from '@axe-core/playwright'
import {
  BASE_URL, PASSWORD, WAIT, assert, control, editorText, eventually, launch, openSynced, person, rest,
  signIn, typeInEditor, uniqueEmail, waitForText, waitSynced
} from './harness.mjs'

const SHOTS = process.env.COWRITE_SCREENSHOTS
const FAILURES = process.env.COWRITE_FAILURE_SHOTS
for (const dir of [SHOTS, FAILURES]) if (dir) mkdirSync(dir, { recursive: true })
const shot = async (page, name) => { if (SHOTS) await page.screenshot({ path: join(SHOTS, `${name}.png`) }) }

const VIEWPORT = { width: 1280, height: 800 }
const newContext = async (browser) => {
  const context = await browser.newContext({ viewport: VIEWPORT })
  context.setDefaultTimeout(WAIT)
  return context
}
const world = {}

async function register (page, fullName) {
  const email = uniqueEmail(fullName.split(' ')[0])
  await page.goto(`${BASE_URL}/`)
  await page.getByRole('heading', { name: 'Sign in to cowrite' }).waitFor()
  await page.getByRole('button', { name: 'Create an account' }).click()
  await page.getByLabel('Full name').fill(fullName)
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password').fill(PASSWORD)
  await page.getByRole('button', { name: 'Create account' }).click()
  await page.locator('.topbar').waitFor()
  return { email, fullName }
}

async function axeCheck (page, screen) {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze()
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  assert(bad.length === 0, `${screen}: ${bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`).join('; ')}`)
}

/** Select `words` in the page's editor the way a mouse would leave it: a DOM selection. */
async function selectText (page, words) {
  await page.evaluate((wanted) => {
    const walker = document.createTreeWalker(document.querySelector('.cm-content'), NodeFilter.SHOW_TEXT)
    const nodes = []
    let text = ''
    for (let node = walker.nextNode(); node; node = walker.nextNode()) { nodes.push([node, text.length]); text += node.textContent }
    const start = text.indexOf(wanted)
    if (start < 0) throw new Error(`no text "${wanted}" in the editor`)
    const point = (at, end) => {
      const found = nodes.findLast(([node, offset]) => offset < at || (!end && offset === at))
      return [found[0], at - found[1]]
    }
    const range = document.createRange()
    range.setStart(...point(start, false))
    range.setEnd(...point(start + wanted.length, true))
    getSelection().removeAllRanges()
    getSelection().addRange(range)
  }, words)
}

/** The text under the comment highlights, once it reads `words` (the highlight settled there). */
async function waitHighlight (page, words) {
  await page.waitForFunction((wanted) => {
    const marks = Array.from(document.querySelectorAll('.cm-content .cm-comment'))
    return marks.map((mark) => mark.textContent).join('') === wanted
  }, words, { timeout: WAIT })
}

const steps = {
  // 1. Two people register in two contexts; one invites the other; both edit one document and
  //    each sees the other's text and labelled caret.
  async coedit (browser) {
    world.ctxA = await newContext(browser)
    world.ctxB = await newContext(browser)
    const a = world.a = await world.ctxA.newPage()
    const b = world.b = await world.ctxB.newPage()
    await a.goto(`${BASE_URL}/`)
    await a.getByRole('heading', { name: 'Sign in to cowrite' }).waitFor()
    await shot(a, 'login')
    world.alice = await register(a, 'Alice Archer')
    world.bob = await register(b, 'Bob Baker')
    await a.getByLabel('Workspace name').fill('Field notes')
    await a.getByRole('button', { name: 'Create workspace' }).click()
    await a.getByRole('link', { name: 'Members' }).click()
    await a.getByLabel('Invite by email').fill(world.bob.email)
    await a.locator('select[name=invite-role]').selectOption('editor')
    await a.getByRole('button', { name: 'Invite' }).click()
    await a.getByRole('cell', { name: world.bob.email }).waitFor()
    await a.getByRole('link', { name: 'Documents' }).click()
    await a.getByRole('button', { name: 'New document' }).click()
    await a.waitForURL(/\/d\//)
    world.docId = a.url().split('/d/')[1]
    world.workspaceId = await a.evaluate(() => localStorage.getItem('cowrite.workspace'))
    await a.locator('[data-testid=connection][data-synced=true]').waitFor({ timeout: WAIT })
    await a.getByLabel('Title').fill('Trip plan')
    await a.getByLabel('Title').press('Enter')
    await typeInEditor(a, '# Trip plan\n\nAlice writes the first line.\n')
    await openSynced(b, world.docId)
    await waitForText(b, 'Alice writes the first line.')
    await typeInEditor(b, 'Bob adds a second line.')
    await waitForText(a, 'Bob adds a second line.')
    // Each sees the other's caret, labelled with the other's name, and their avatar.
    await a.locator('.cm-ySelectionInfo', { hasText: 'Bob Baker' }).waitFor({ timeout: WAIT })
    await b.locator('.cm-content').click()
    await a.locator('.cm-content').click()
    await b.locator('.cm-ySelectionInfo', { hasText: 'Alice Archer' }).waitFor({ timeout: WAIT })
    await a.locator('.avatars .avatar', { hasText: 'BB' }).waitFor({ timeout: WAIT })
    await b.locator('.avatars .avatar', { hasText: 'AA' }).waitFor({ timeout: WAIT })
    await b.locator('.cm-content').click()
    await b.keyboard.type(' More')
    await a.locator('.typing', { hasText: 'Bob Baker is typing' }).waitFor({ timeout: WAIT })
    await a.locator('[data-testid=preview] h1', { hasText: 'Trip plan' }).waitFor()
    await shot(a, 'editor')
  },

  // 2. A reload keeps the text; the server killed and restarted between edits loses nothing.
  async durable () {
    const { a, b } = world
    await a.reload()
    await waitSynced(a)
    assert((await editorText(a)).includes('Bob adds a second line. More'), 'text after reload')
    await typeInEditor(a, '\nTyped before the restart.')
    await waitForText(b, 'Typed before the restart.')
    await control('kill')
    await a.locator('[data-testid=connection]', { hasText: /Reconnecting|Connecting/ }).waitFor({ timeout: WAIT })
    await typeInEditor(a, '\nTyped while the server was down.')
    await control('start')
    await waitForText(b, 'Typed while the server was down.', 30000)
    const fresh = await world.ctxB.newPage()
    await openSynced(fresh, world.docId)
    const text = await editorText(fresh)
    assert(text.includes('Typed before the restart.') && text.includes('Typed while the server was down.'), `after restart: ${text}`)
    await fresh.close()
  },

  // 3. A viewer's editor is read-only; a downgrade while the page is open applies at once.
  async readonly (browser) {
    const { a, b } = world
    const members = await newContext(browser)
    const admin = await members.newPage()
    await admin.goto(`${BASE_URL}/login`)
    await admin.getByLabel('Email').fill(world.alice.email)
    await admin.getByLabel('Password').fill(PASSWORD)
    await admin.getByRole('button', { name: 'Sign in' }).click()
    await admin.locator('.topbar').waitFor()
    await admin.goto(`${BASE_URL}/w/${world.workspaceId}/members`)
    await admin.getByLabel('Role of Bob Baker').selectOption('viewer')
    await b.getByTestId('read-only').waitFor({ timeout: WAIT })
    // The editor turns read-only in an effect right after the badge's render.
    await b.locator('.cm-content[contenteditable=false]').waitFor({ timeout: WAIT })
    const before = await editorText(b)
    await b.locator('.cm-content').click()
    await b.keyboard.type('viewer typing')
    assert(await editorText(b) === before, 'a viewer typed into the document')
    await b.reload()
    await waitSynced(b)
    await b.getByTestId('read-only').waitFor()
    await shot(admin, 'members')
    await members.close()
    assert(!(await editorText(a)).includes('viewer typing'), 'viewer text reached the editor')
  },

  // 4. Offline: typed text waits, shown as unsynced, and reaches the other browser once online.
  async offline () {
    const { a, b } = world
    await world.ctxA.setOffline(true)
    await a.locator('[data-testid=connection]', { hasText: 'Offline' }).waitFor({ timeout: WAIT })
    await typeInEditor(a, '\nWritten on the train.')
    await a.locator('[data-testid=connection]', { hasText: 'unsynced changes' }).waitFor()
    assert(!(await editorText(b)).includes('Written on the train.'), 'offline text arrived early')
    await world.ctxA.setOffline(false)
    await waitForText(b, 'Written on the train.')
    await a.locator('[data-testid=connection]', { hasText: /^Connected$/ }).waitFor({ timeout: WAIT })
  },

  // A session that ends (here: signed out from another device) brings the sign-in back over the
  // page; what was typed stays, and reaches the others once signed in again.
  async session_end () {
    const { a, b } = world
    await world.ctxA.setOffline(true)
    await a.locator('[data-testid=connection]', { hasText: 'Offline' }).waitFor()
    await typeInEditor(a, '\nKept across signing in again.')
    const elsewhere = await rest('POST', '/api/v1/auth/login', { body: { email: world.alice.email, password: PASSWORD } })
    const sessions = await rest('GET', '/api/v1/users/me/sessions', { token: elsewhere.access_token })
    for (const login of sessions.logins) {
      if (!login.current) await rest('DELETE', `/api/v1/users/me/sessions/${login.id}`, { token: elsewhere.access_token })
    }
    await world.ctxA.setOffline(false)
    const dialog = a.getByRole('dialog', { name: 'Sign in again' })
    await dialog.waitFor()
    assert((await editorText(a)).includes('Kept across signing in again.'), 'typed text kept under the sign-in')
    await dialog.getByLabel('Email').fill(world.alice.email)
    await dialog.getByLabel('Password').fill(PASSWORD)
    await dialog.getByRole('button', { name: 'Sign in' }).click()
    await dialog.waitFor({ state: 'detached' })
    await waitForText(b, 'Kept across signing in again.')
    await waitSynced(a)
  },

  // 5. Search finds the document; a version is restored; a pasted image shows in the preview.
  async search_versions_image () {
    const { a } = world
    await a.goto(`${BASE_URL}/w/${world.workspaceId}`)
    const row = a.locator('.docrow').first() // the workspace's one document, Trip plan
    await row.getByRole('button', { name: 'Rename / tag' }).click()
    await row.getByLabel('Tags').fill('travel, draft')
    await row.getByRole('button', { name: 'Save' }).click()
    await row.locator('.tag', { hasText: 'travel' }).waitFor()
    await a.getByRole('combobox', { name: /^Tag/ }).selectOption('travel')
    await row.waitFor()
    await shot(a, 'documents')
    await a.keyboard.press('/')
    assert(await a.evaluate(() => document.activeElement?.id) === 'search', '/ focuses search')
    await a.keyboard.type('second')
    await a.keyboard.press('Enter')
    await a.locator('.hit mark', { hasText: /second/i }).waitFor({ timeout: WAIT })
    await a.keyboard.press('ArrowDown')
    await a.keyboard.press('Enter')
    await a.waitForURL(`**/d/${world.docId}`)
    await openSynced(a, world.docId)

    await a.getByRole('button', { name: 'History' }).click()
    await a.getByLabel('Label').fill('Before the detour')
    await a.getByRole('button', { name: 'Save version' }).click()
    await a.locator('.versions .tag', { hasText: 'Before the detour' }).waitFor()
    await typeInEditor(a, '\nA detour we will undo.')
    await eventually(async () => {
      await a.locator('.versions .version', { hasText: 'Before the detour' }).click()
      await a.locator('.version-view').waitFor()
      return (await a.locator('.diff .add', { hasText: 'A detour we will undo.' }).count()) > 0
    }, 'the diff against the current text')
    await shot(a, 'history')
    await a.getByRole('button', { name: 'Restore this version' }).click()
    await a.locator('.notice', { hasText: 'restored' }).waitFor()
    await a.waitForFunction(() => !document.querySelector('.cm-content')?.textContent?.includes('A detour we will undo.'), null, { timeout: WAIT })
    await waitForText(a, 'Bob adds a second line.')
    await a.getByRole('button', { name: 'Close history' }).click()

    // A 2×2 red PNG, pasted as a file.
    await a.locator('.cm-content').click()
    await a.keyboard.press('Control+End')
    await a.evaluate(async () => {
      const bytes = Uint8Array.from(atob('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg=='), (c) => c.charCodeAt(0))
      const data = new DataTransfer()
      data.items.add(new File([bytes], 'map.png', { type: 'image/png' }))
      document.querySelector('.cm-content').dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }))
    })
    await waitForText(a, '![map.png](/api/v1/files/')
    const image = a.locator('[data-testid=preview] img[alt="map.png"]')
    await image.waitFor()
    await a.waitForFunction(() => {
      const img = document.querySelector('[data-testid=preview] img[alt="map.png"]')
      return img && img.src.startsWith('blob:') && img.complete && img.naturalWidth === 2
    }, null, { timeout: WAIT })

    // A file dropped on the editor becomes a link to the uploaded file.
    await a.evaluate(() => {
      const data = new DataTransfer()
      data.items.add(new File(['packing list'], 'packing.txt', { type: 'text/plain' }))
      const target = document.querySelector('.cm-content')
      const box = target.getBoundingClientRect()
      target.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true, clientX: box.left + 5, clientY: box.top + 5 }))
    })
    await waitForText(a, '[packing.txt](/api/v1/files/')
    await a.locator('[data-testid=preview] a', { hasText: 'packing.txt' }).waitFor()
  },

  // Trash, restore and purge from the list, by role: the viewer gets none of these buttons.
  async trash () {
    const { a, b } = world
    await a.goto(`${BASE_URL}/w/${world.workspaceId}`)
    await a.getByRole('button', { name: 'New document' }).click()
    await a.waitForURL(/\/d\//)
    await a.getByLabel('Title').fill('Scratch')
    const saved = a.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().includes('/api/v1/documents/'))
    await a.getByLabel('Title').press('Enter')
    await saved
    await a.getByRole('link', { name: '← Documents' }).click()
    const scratch = a.locator('.docrow', { hasText: 'Scratch' })
    await scratch.getByRole('button', { name: 'Move to trash' }).click()
    await scratch.waitFor({ state: 'detached' })
    await a.getByRole('checkbox', { name: 'Trash' }).check()
    await scratch.getByRole('button', { name: 'Restore' }).click()
    await scratch.waitFor({ state: 'detached' })
    await a.getByRole('checkbox', { name: 'Trash' }).uncheck()
    await scratch.getByRole('button', { name: 'Move to trash' }).click()
    await scratch.waitFor({ state: 'detached' })
    await a.getByRole('checkbox', { name: 'Trash' }).check()
    await scratch.getByRole('button', { name: 'Delete forever' }).click()
    await a.getByText('The trash is empty.').waitFor()
    await b.goto(`${BASE_URL}/w/${world.workspaceId}`)
    await b.locator('.docrow', { hasText: 'Trip plan' }).waitFor()
    assert(await b.getByRole('button', { name: /New document|Move to trash|Rename/ }).count() === 0, 'a viewer got editing buttons')
  },

  // 6. A document written to attack its readers runs nothing when viewed.
  async xss (browser) {
    const owner = await person('Mallory Maker')
    const workspace = await rest('POST', '/api/v1/workspaces', { token: owner.token, body: { name: 'Traps' } })
    const content = [
      '# Harmless title',
      '<script>window.__pwned = "script"; alert("script")</script>',
      '<img src="x" onerror="window.__pwned = \'img\'; alert(\'img\')">',
      '[click me](javascript:alert("link"))',
      '<a href="javascript:alert(\'html link\')">html link</a>',
      '<svg><script>alert("svg")</script></svg>',
      '<iframe src="javascript:alert(\'frame\')"></iframe>',
      '<p style="position:fixed;inset:0" onclick="alert(\'click\')">styled</p>'
    ].join('\n\n')
    const doc = await rest('POST', `/api/v1/workspaces/${workspace.id}/documents`, { token: owner.token, body: { title: 'Traps', content } })
    const ctx = await newContext(browser)
    const page = await ctx.newPage()
    const dialogs = []
    page.on('dialog', (dialog) => { dialogs.push(dialog.message()); void dialog.dismiss() })
    await page.goto(`${BASE_URL}/login`)
    await page.getByLabel('Email').fill(owner.email)
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.locator('.topbar').waitFor()
    await openSynced(page, doc.id)
    await page.locator('[data-testid=preview] h1', { hasText: 'Harmless title' }).waitFor()
    await page.locator('[data-testid=preview]', { hasText: 'click me' }).waitFor()
    await page.locator('[data-testid=preview] a', { hasText: 'html link' }).click()
    await page.locator('[data-testid=preview] p', { hasText: 'styled' }).click()
    const found = await page.evaluate(() => {
      const preview = document.querySelector('[data-testid=preview]')
      return {
        pwned: window.__pwned ?? null,
        scripts: preview.querySelectorAll('script').length,
        frames: preview.querySelectorAll('iframe').length,
        handlers: Array.from(preview.querySelectorAll('*')).filter((el) => Array.from(el.attributes).some((at) => at.name.startsWith('on') || at.name === 'style')).length,
        jsLinks: Array.from(preview.querySelectorAll('a')).filter((el) => (el.getAttribute('href') ?? '').toLowerCase().includes('javascript:')).length
      }
    })
    assert(dialogs.length === 0, `dialogs opened: ${dialogs.join(', ')}`)
    assert(found.pwned === null && found.scripts === 0 && found.frames === 0 && found.handlers === 0 && found.jsLinks === 0, JSON.stringify(found))
    assert(page.url().endsWith(`/d/${doc.id}`), 'a link navigated away')
    await ctx.close()
  },

  // 8. A commenter comments on a selection in his read-only editor; the other browser sees the
  //    highlight and the thread live, types before it, and the highlight stays on the same words.
  //    Replies, reactions, resolve and reopen reach the other side too; deleting the words orphans it.
  async comments (browser) {
    const carol = world.carol = await person('Carol Cole')
    const dan = world.dan = await person('Dan Drew')
    const workspace = await rest('POST', '/api/v1/workspaces', { token: carol.token, body: { name: 'Picnic club' } })
    await rest('POST', `/api/v1/workspaces/${workspace.id}/members`, { token: carol.token, body: { email: dan.email, role: 'commenter' } })
    const content = '# Picnic\n\nThe quick brown fox jumps over the lazy dog.\n'
    world.picnic = await rest('POST', `/api/v1/workspaces/${workspace.id}/documents`, { token: carol.token, body: { title: 'Picnic', content } })
    world.ctxC = await newContext(browser)
    world.ctxD = await newContext(browser)
    const c = world.c = await world.ctxC.newPage()
    const d = world.d = await world.ctxD.newPage()
    await signIn(c, carol)
    await signIn(d, dan)
    await openSynced(c, world.picnic.id)
    await openSynced(d, world.picnic.id)
    await d.getByTestId('read-only').waitFor()
    await c.getByRole('button', { name: 'Comments', exact: true }).click()

    await selectText(d, 'brown fox')
    await d.getByRole('button', { name: 'Comment', exact: true }).click()
    await d.locator('.new-thread .quote', { hasText: 'brown fox' }).waitFor()
    await d.getByLabel('New comment').fill('Is it **really** brown?')
    await d.getByRole('button', { name: 'Post comment' }).click()
    await waitHighlight(d, 'brown fox')

    const thread = c.locator('.comments .thread', { hasText: 'Is it really brown?' })
    await thread.locator('.comment-body strong', { hasText: 'really' }).waitFor()
    await waitHighlight(c, 'brown fox')

    // Carol types before the highlighted words, on the same line and above it.
    await c.locator('.cm-content .cm-comment').first().click()
    await c.keyboard.press('Home')
    await c.keyboard.type('Very early, ')
    await c.keyboard.press('Control+Home')
    await c.keyboard.type('Intro. ')
    await waitForText(d, 'Very early, The quick brown fox')
    await waitForText(d, 'Intro.') // (Carol's labelled caret follows it)
    await waitHighlight(c, 'brown fox')
    await waitHighlight(d, 'brown fox')

    // A reply and a reaction go each way.
    await thread.getByLabel('Reply').fill('Quite brown, yes.')
    await thread.getByRole('button', { name: 'Reply', exact: true }).click()
    const dThread = d.locator('.comments .thread', { hasText: 'Is it really brown?' })
    await dThread.locator('.comment', { hasText: 'Quite brown, yes.' }).waitFor()
    await dThread.locator('.comment').first().getByRole('button', { name: '👍 0' }).click()
    await thread.locator('.comment').first().getByRole('button', { name: '👍 1' }).waitFor()
    // Carol edits her reply; Dan reads the new text.
    const carolReply = thread.locator('.comment', { hasText: 'Quite brown, yes.' })
    await carolReply.getByRole('button', { name: 'Edit comment' }).click()
    const editing = thread.locator('form.edit')
    await editing.getByLabel('Edit comment text').fill('Quite brown, and *quick*.')
    await editing.getByRole('button', { name: 'Save', exact: true }).click()
    await dThread.locator('.comment em', { hasText: 'quick' }).waitFor()
    await shot(c, 'comments')
    // Deleted, the reply leaves Dan's thread.
    await thread.locator('.comment', { hasText: 'Quite brown, and quick.' }).getByRole('button', { name: 'Delete comment' }).click()
    await dThread.locator('.comment', { hasText: 'Quite brown' }).waitFor({ state: 'detached' })

    // Resolved, the highlight leaves the other editor; reopened, it comes back.
    await thread.getByRole('button', { name: 'Resolve' }).click()
    await d.locator('.cm-content .cm-comment').waitFor({ state: 'detached' })
    await d.locator('.comments details summary', { hasText: 'Resolved (1)' }).waitFor()
    await c.locator('.comments details summary').click()
    await thread.getByRole('button', { name: 'Reopen' }).click()
    await waitHighlight(d, 'brown fox')

    // The commented words deleted: the thread is listed apart as orphaned.
    await c.locator('.cm-content').click()
    await selectText(c, 'brown fox ')
    await c.keyboard.press('Delete')
    await d.locator('[aria-label="Orphaned comments"] .thread', { hasText: 'Is it really brown?' }).waitFor()
    assert(!(await editorText(d)).includes('brown fox'), 'the words are still in the other editor')
    assert(await d.locator('.cm-content .cm-comment').count() === 0, 'an orphaned thread kept a highlight')
  },

  // 9. A mention in one browser lights the bell in the other; the notification opens the thread;
  //    email settings are kept on the account page.
  async bell () {
    const { c, d, dan } = world
    // Muted, the document sends Dan nothing but direct mentions: the bell below lights for the mention.
    await rest('DELETE', `/api/v1/documents/${world.picnic.id}/subscription`, { token: dan.token })
    await rest('POST', '/api/v1/notifications/read-all', { token: dan.token, body: {} })
    await d.getByTestId('unread-count').waitFor({ state: 'detached' })
    await selectText(c, 'lazy dog')
    await c.getByRole('button', { name: 'Comment', exact: true }).click()
    const box = c.getByLabel('New comment')
    await box.pressSequentially('Bring him, @Da')
    await c.getByRole('option', { name: /Dan Drew/ }).waitFor()
    await box.press('Enter')
    // The pick re-renders the box and puts the caret back after the mention: type on from there.
    await eventually(async () => (await box.inputValue()).includes(`@[Dan Drew](user:${dan.id}) `), 'the mention in the box')
    await box.press('End')
    await box.pressSequentially('please.')
    const body = await box.inputValue()
    assert(body === `Bring him, @[Dan Drew](user:${dan.id}) please.`, `mention written as ${body}`)
    await c.getByRole('button', { name: 'Post comment' }).click()
    // The bell asks for the count only when its socket changes (not here): the count arrives pushed.
    await d.getByTestId('unread-count').waitFor({ timeout: WAIT })
    // The bell heard it on the document's own socket: one /ws for the tab, not two.
    await eventually(async () => {
      const { connections } = await rest('GET', '/api/v1/users/me/sessions', { token: dan.token })
      return connections.filter((c) => c.channel === 'ws').length === 1
    }, 'one presence socket for the tab')

    await d.getByTestId('bell').click()
    const item = d.locator('.notification.unread', { hasText: 'mentioned you' })
    await item.waitFor()
    await shot(d, 'notifications')
    await item.locator('.notification-open').click()
    await d.waitForURL(/\?comment=/)
    await d.locator('.comments .thread.active', { hasText: 'Bring him,' }).locator('.mention', { hasText: 'Dan Drew' }).waitFor()
    await waitHighlight(d, 'lazy dog')
    await d.getByTestId('bell').click()
    await d.locator('.notification', { hasText: 'mentioned you' }).first().waitFor()
    assert(await d.locator('.notification.unread', { hasText: 'mentioned you' }).count() === 0, 'the opened notification is still unread')
    if (await d.getByTestId('unread-count').count() > 0) await d.getByRole('button', { name: 'Mark all read' }).click()
    await d.getByTestId('unread-count').waitFor({ state: 'detached' })
    await d.keyboard.press('Escape')

    await d.goto(`${BASE_URL}/account`)
    await d.getByLabel('Someone mentions me').uncheck()
    await d.getByLabel('Minutes to wait before emailing').fill('15')
    await d.getByRole('button', { name: 'Save notification settings' }).click()
    await d.locator('.notice', { hasText: 'Notification settings saved.' }).waitFor()
    const saved = await rest('GET', '/api/v1/users/me/notification-settings', { token: dan.token })
    assert(saved.email.mention === false && saved.email_delay_minutes === 15, JSON.stringify(saved))
    await d.reload()
    await d.getByLabel('Minutes to wait before emailing').waitFor()
    assert(!(await d.getByLabel('Someone mentions me').isChecked()), 'the setting came back on after a reload')
    await world.ctxC.close()
    await world.ctxD.close()
  },

  // 7. No serious or critical accessibility violation on the sign-in, list and editor screens.
  async axe (browser) {
    const ctx = await newContext(browser)
    const page = await ctx.newPage()
    await page.goto(`${BASE_URL}/login`)
    await page.getByRole('heading', { name: 'Sign in to cowrite' }).waitFor()
    await axeCheck(page, 'sign-in')
    await ctx.close()
    const { a } = world
    await a.goto(`${BASE_URL}/w/${world.workspaceId}`)
    await a.locator('.docrow', { hasText: 'Trip plan' }).waitFor()
    await axeCheck(a, 'documents')
    await openSynced(a, world.docId)
    await axeCheck(a, 'editor')
    await a.getByRole('button', { name: 'Comments', exact: true }).click()
    await a.getByRole('complementary', { name: 'Comments' }).waitFor()
    await axeCheck(a, 'editor with comments')
    await a.getByTestId('bell').click()
    await a.getByRole('region', { name: 'Notifications' }).waitFor()
    await axeCheck(a, 'notifications')
    await a.keyboard.press('Escape')
    await a.goto(`${BASE_URL}/account`)
    await a.getByLabel('Full name').fill('Alice A. Archer')
    await a.getByRole('button', { name: 'Save', exact: true }).click()
    await a.locator('.account-link', { hasText: 'Alice A. Archer' }).waitFor()
    await a.getByLabel('Current password').fill(PASSWORD)
    await a.getByLabel('New password').fill('a much longer walk along the river')
    await a.getByRole('button', { name: 'Change password' }).click()
    await a.locator('.notice', { hasText: 'Password changed' }).waitFor()
    await rest('POST', '/api/v1/auth/login', { body: { email: world.alice.email, password: 'a much longer walk along the river' } })
    await a.getByRole('heading', { name: 'Signed-in devices' }).waitFor()
    await a.locator('.sessions li').first().waitFor()
    await shot(a, 'account')
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
    for (const [label, page] of [['a', world.a], ['b', world.b], ['c', world.c], ['d', world.d]]) {
      if (page && FAILURES) await page.screenshot({ path: join(FAILURES, `${name}-${label}.png`) }).catch(() => {})
    }
    break
  }
}
await browser.close()
process.exit(failed ? 1 : 0)
