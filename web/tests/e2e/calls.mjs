// The call bar in two browsers with Chromium's fake camera and microphone: both join the
// document's call, each sees the other's video; a screen share reaches the other side; leaving
// empties the other's tiles. Usage (pytest runs it): COWRITE_BASE_URL=… node calls.mjs
import { join } from 'node:path'
import { assert } from './harness.mjs'
import { SHOTS, scenario, twoPeople, waitForRemoteVideo } from './calls_common.mjs'

await scenario('calls', async (browser, traces, pages) => {
  pages.push(...await twoPeople(browser, traces))
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
})
