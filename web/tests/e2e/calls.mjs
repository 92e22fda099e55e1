// The call bar in two browsers with Chromium's fake camera and microphone: both join the
// document's call, each sees the other's video; a screen share reaches the other side; leaving
// empties the other's tiles. Usage (pytest runs it): COWRITE_BASE_URL=… node calls.mjs
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { BASE_URL, CHROMIUM, WAIT, assert, openSynced, person, rest, signIn } from './harness.mjs'

const SHOTS = process.env.COWRITE_SCREENSHOTS
const FAILURES = process.env.COWRITE_FAILURE_SHOTS
for (const dir of [SHOTS, FAILURES]) if (dir) mkdirSync(dir, { recursive: true })

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
    '--autoplay-policy=no-user-gesture-required']
})

/** The size of the video the page shows for the other participant (0 × 0 until frames arrive). */
const remoteVideo = (page) => page.locator('.call-tile[data-me=false] video').evaluate((v) => [v.videoWidth, v.videoHeight])

async function waitForRemoteVideo (page, test = ([width]) => width > 0) {
  const deadline = Date.now() + WAIT * 2
  for (;;) {
    const size = await remoteVideo(page).catch(() => [0, 0])
    if (test(size)) return size
    if (Date.now() > deadline) throw new Error(`no remote video frames (last ${size.join('×')})`)
    await page.waitForTimeout(200)
  }
}

const pages = []
try {
  const ada = await person('Ada Caller')
  const ben = await person('Ben Caller')
  const workspace = await rest('POST', '/api/v1/workspaces', { token: ada.token, body: { name: 'Review club' } })
  await rest('POST', `/api/v1/workspaces/${workspace.id}/members`, { token: ada.token, body: { email: ben.email, role: 'viewer' } })
  const document = await rest('POST', `/api/v1/workspaces/${workspace.id}/documents`, { token: ada.token, body: { title: 'Design review', content: '# Design review\n\nLet us talk it through.\n' } })

  for (const who of [ada, ben]) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    context.setDefaultTimeout(WAIT)
    await context.grantPermissions(['camera', 'microphone'], { origin: BASE_URL })
    const page = await context.newPage()
    page.on('console', (message) => { if (message.type() === 'warning' || message.type() === 'error') console.log(`[${who.full_name}] ${message.text()}`) })
    await signIn(page, who)
    await openSynced(page, document.id)
    pages.push(page)
  }
  const [pageA, pageB] = pages

  await pageA.getByRole('button', { name: 'Start call' }).click()
  await pageA.locator('.call-tile[data-me=true]').waitFor()
  // The other page sees the call beside the avatars before joining it.
  await pageB.getByTestId('call-count').filter({ hasText: '1 in call' }).waitFor()
  await pageB.getByRole('button', { name: 'Join call' }).click()
  await pageA.getByTestId('call-count').filter({ hasText: '2 in call' }).waitFor()

  const sizeA = await waitForRemoteVideo(pageA)
  const sizeB = await waitForRemoteVideo(pageB)
  console.log(`ok video (A sees ${sizeA.join('×')}, B sees ${sizeB.join('×')})`)
  assert((await pageA.locator('.call-tile[data-me=false]').innerText()).includes('Ben Caller'), 'A names B')

  // Mute shows on the other side.
  await pageB.getByRole('button', { name: 'Mute' }).click()
  await pageA.locator('.call-tile[data-me=false]', { hasText: 'muted' }).waitFor()
  console.log('ok mute')

  await pageA.getByRole('button', { name: 'Share screen' }).click()
  await pageA.getByRole('button', { name: 'Share screen', pressed: true }).waitFor()
  await pageB.locator('.call-tile[data-me=false][data-screen=true]').waitFor()
  const shared = await waitForRemoteVideo(pageB, ([w, h]) => w > 0 && (w !== sizeB[0] || h !== sizeB[1]))
  console.log(`ok screen (B sees ${shared.join('×')} where the camera was ${sizeB.join('×')})`)
  if (SHOTS) await pageB.screenshot({ path: join(SHOTS, 'call.png') })

  await pageA.getByRole('button', { name: 'Leave call' }).click()
  await pageB.locator('.call-tile[data-me=false]').waitFor({ state: 'detached' })
  await pageB.getByTestId('call-count').filter({ hasText: '1 in call' }).waitFor()
  await pageA.getByRole('button', { name: 'Join call' }).waitFor()
  console.log('ok leave')
} catch (problem) {
  if (FAILURES) for (const [index, page] of pages.entries()) await page.screenshot({ path: join(FAILURES, `calls-${index}.png`) }).catch(() => {})
  console.error(problem)
  process.exitCode = 1
} finally {
  await browser.close()
}
