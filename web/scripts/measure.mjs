// Timings of the app in a real browser against a running server (not asserted anywhere):
//  - navigation to an editable, synced 100 KB document (cold: new browser context, empty IndexedDB);
//  - remote echo: a keystroke typed in browser A until it shows in browser B, over 200 keystrokes.
// Usage: COWRITE_BASE_URL=http://127.0.0.1:7001 node scripts/measure.mjs
import { launch, openSynced, person, rest, signIn } from '../tests/e2e/harness.mjs'

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

const browser = await launch()
const owner = await person('Measure Owner')
const workspace = await rest('POST', '/api/v1/workspaces', { token: owner.token, body: { name: 'Measurements' } })
const line = 'The quick brown fox jumps over the lazy dog, and the dog writes it down in Markdown.\n'
const content = `# A long document\n\n${line.repeat(Math.ceil(100 * 1024 / line.length))}`
const big = await rest('POST', `/api/v1/workspaces/${workspace.id}/documents`, { token: owner.token, body: { title: 'Big', content } })

// 1. Open a 100 KB document until it is synced, holds all of its text and takes input.
const opens = []
const previews = []
for (let run = 0; run < 5; run++) {
  const context = await browser.newContext()
  const page = await context.newPage()
  await signIn(page, owner)
  const started = Date.now()
  await page.goto(`${process.env.COWRITE_BASE_URL}/d/${big.id}`)
  // Synced (the whole text is in the page's Y.Doc) and taking input.
  await page.locator('[data-testid=connection][data-synced=true]').waitFor()
  await page.locator('.cm-content[contenteditable=true]').waitFor()
  opens.push(Date.now() - started)
  await page.waitForFunction((size) => document.querySelector('[data-testid=preview]')?.textContent.length > size, content.length * 0.9)
  previews.push(Date.now() - started)
  await context.close()
}
const median = (values) => percentile(values, 50)
console.log(`open a ${(content.length / 1024).toFixed(0)} KB document, navigation to editable and synced: ` +
  `${opens.join(', ')} ms (median ${median(opens)} ms); preview rendered too: ${previews.join(', ')} ms (median ${median(previews)} ms)`)

// 2. Remote echo: B timestamps every change of its editor's text; A timestamps every keydown.
const small = await rest('POST', `/api/v1/workspaces/${workspace.id}/documents`, { token: owner.token, body: { title: 'Echo', content: '' } })
const pages = []
for (let i = 0; i < 2; i++) {
  const context = await browser.newContext()
  const page = await context.newPage()
  await signIn(page, owner)
  await openSynced(page, small.id)
  pages.push(page)
}
const [a, b] = pages
await b.evaluate(() => {
  const content = document.querySelector('.cm-content')
  // The document's length as shown, without the remote caret (its name label and joiners are in the DOM too).
  const shown = () => content.textContent.length -
    Array.from(content.querySelectorAll('.cm-ySelectionCaret')).reduce((sum, label) => sum + label.textContent.length, 0)
  window.__shown = shown
  window.__lengths = []
  new MutationObserver(() => {
    window.__lengths.push([Date.now(), shown()])
  }).observe(content, { childList: true, subtree: true, characterData: true })
})
await a.evaluate(() => {
  window.__keys = []
  document.querySelector('.cm-content').addEventListener('keydown', () => window.__keys.push(Date.now()), true)
})
await a.locator('.cm-content').click()
const KEYS = 200
for (let i = 0; i < KEYS; i++) {
  await a.keyboard.type(String.fromCharCode(97 + (i % 26)))
  await new Promise((resolve) => setTimeout(resolve, 40)) // about 25 keystrokes a second
}
await b.waitForFunction((n) => window.__shown() >= n, KEYS)
const keys = await a.evaluate(() => window.__keys)
const lengths = await b.evaluate(() => window.__lengths)
const echoes = keys.map((sent, i) => {
  const seen = lengths.find(([, length]) => length >= i + 1)
  return seen[0] - sent
})
console.log(`remote echo over ${echoes.length} keystrokes: p50 ${percentile(echoes, 50).toFixed(1)} ms, ` +
  `p99 ${percentile(echoes, 99).toFixed(1)} ms, max ${Math.max(...echoes).toFixed(1)} ms`)
await browser.close()
