// A network blip during a call: Ada's presence socket drops (the server is not told), her page
// opens a new one and rejoins the call by itself with the same camera; the server takes her old
// connection out of the call, and both sides see each other's video again.
// Usage (pytest runs it): COWRITE_BASE_URL=… node calls_reconnect.mjs
import { WAIT, assert } from './harness.mjs'
import { scenario, twoPeople, waitForRemoteVideo } from './calls_common.mjs'

await scenario('calls-reconnect', async (browser, traces, pages) => {
  // Ada's presence sockets pass through a route the test can cut.
  const routes = []
  pages.push(...await twoPeople(browser, traces, async (context, who) => {
    if (who.full_name !== 'Ada Caller') return
    await context.routeWebSocket((url) => url.pathname === '/ws', (route) => {
      route.connectToServer()
      routes.push(route)
    })
  }))
  const [pageA, pageB] = pages
  await pageA.getByRole('button', { name: 'Start call' }).click()
  await pageA.locator('.call-tile[data-me=true]').waitFor()
  await pageB.getByRole('button', { name: 'Join call' }).click()
  await waitForRemoteVideo(pageA)
  await waitForRemoteVideo(pageB)
  const before = await pageB.locator('.call-tile[data-me=false]').getAttribute('data-connection')
  console.log('ok call')

  // The blip: the page's socket ends abnormally; the server side is left open (a dead link).
  assert(routes.length > 0, 'the presence socket was routed')
  const opened = routes.length
  await routes.at(-1).close({ code: 4000, reason: 'network blip' })
  const deadline = Date.now() + WAIT * 2
  while (routes.length === opened) {
    assert(Date.now() < deadline, 'the page never opened a new presence socket')
    await pageA.waitForTimeout(100)
  }
  console.log('ok reconnected')

  // Ben's page shows Ada once, by her new connection (the old one left the call at once).
  const ada = pageB.locator('.call-tile[data-me=false]')
  await pageB.locator(`.call-tile[data-me=false]:not([data-connection="${before}"])`).waitFor()
  await pageB.getByTestId('call-count').filter({ hasText: '2 in call' }).waitFor()
  assert(await ada.count() === 1, 'one tile for Ada')
  await pageA.locator('.call-tile[data-me=true]').waitFor()
  const sizeA = await waitForRemoteVideo(pageA)
  const sizeB = await waitForRemoteVideo(pageB)
  console.log(`ok rejoined (A sees ${sizeA.join('×')}, B sees ${sizeB.join('×')})`)
})
