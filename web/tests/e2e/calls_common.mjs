// What the call scenarios share: Chromium with fake camera and microphone, two people in one
// document's page, the other participant's video size, and a trace of each page (its presence
// socket, peer connections and refused requests) printed when a scenario fails.
import { appendFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { BASE_URL, CHROMIUM, WAIT, openSynced, person, rest, signIn } from './harness.mjs'

export const SHOTS = process.env.COWRITE_SCREENSHOTS
const FAILURES = process.env.COWRITE_FAILURE_SHOTS
const TRACE_FILE = process.env.COWRITE_CALL_TRACE // every run's trace (failures print theirs)
for (const dir of [SHOTS, FAILURES]) if (dir) mkdirSync(dir, { recursive: true })

export function launchWithDevices () {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
      '--autoplay-policy=no-user-gesture-required']
  })
}

/** The size of the video the page shows for the other participant (0 × 0 until frames arrive). */
const remoteVideo = (page) => page.locator('.call-tile[data-me=false] video').evaluate((v) => [v.videoWidth, v.videoHeight])

export async function waitForRemoteVideo (page, test = ([width]) => width > 0) {
  const deadline = Date.now() + WAIT * 2
  for (;;) {
    const size = await remoteVideo(page).catch(() => [0, 0])
    if (test(size)) return size
    if (Date.now() > deadline) throw new Error(`no remote video frames (last ${size.join('×')})`)
    await page.waitForTimeout(200)
  }
}

// What each page went through, printed when the scenario fails: the presence socket's opens and
// closes (with their codes), every peer connection's signalling / ICE / connection states, the
// call frames in and out, and any request the server refused.
export const TRACE = () => {
  const note = (text) => console.debug(`trace: ${text}`)
  const NativeSocket = window.WebSocket
  window.WebSocket = class extends NativeSocket {
    constructor (url, protocols) {
      super(url, protocols)
      this.presence = new URL(url, location.href).pathname === '/ws'
      if (!this.presence) return
      this.addEventListener('open', () => note('ws open'))
      this.addEventListener('close', (event) => note(`ws close ${event.code} ${event.reason}`))
      this.addEventListener('message', (event) => {
        const body = JSON.parse(event.data)
        for (const item of body.type === 'batch' ? body.events : [body]) {
          if (/^(call_|rtc_|connected|error)/.test(item.type)) note(`ws in ${item.type} ${item.signal?.type ?? item.code ?? item.connection_id ?? item.from ?? ''}`)
        }
      })
    }

    send (data) {
      if (this.presence) {
        const body = JSON.parse(data)
        if (/^(call_|rtc_|heartbeat)/.test(body.type)) note(`ws out ${body.type} ${body.signal?.type ?? ''}`)
      }
      super.send(data)
    }
  }
  const NativePeer = window.RTCPeerConnection
  let peers = 0
  window.RTCPeerConnection = class extends NativePeer {
    constructor (config) {
      super(config)
      const n = ++peers
      for (const kind of ['signalingstatechange', 'iceconnectionstatechange', 'connectionstatechange', 'icegatheringstatechange']) {
        this.addEventListener(kind, () => note(`pc${n} signaling=${this.signalingState} ice=${this.iceConnectionState} connection=${this.connectionState} gathering=${this.iceGatheringState}`))
      }
      this.addEventListener('track', (event) => note(`pc${n} track ${event.track.kind}`))
    }
  }
}

/** Ada (owner) and Ben (viewer) with the same document open, each in a browser context of its
 *  own; `prepare(context, who)` runs before the page opens (e.g. to route its sockets). */
export async function twoPeople (browser, traces, prepare = async () => {}) {
  const ada = await person('Ada Caller')
  const ben = await person('Ben Caller')
  const workspace = await rest('POST', '/api/v1/workspaces', { token: ada.token, body: { name: 'Review club' } })
  await rest('POST', `/api/v1/workspaces/${workspace.id}/members`, { token: ada.token, body: { email: ben.email, role: 'viewer' } })
  const document = await rest('POST', `/api/v1/workspaces/${workspace.id}/documents`, { token: ada.token, body: { title: 'Design review', content: '# Design review\n\nLet us talk it through.\n' } })
  const pages = []
  for (const who of [ada, ben]) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    context.setDefaultTimeout(WAIT)
    await context.grantPermissions(['camera', 'microphone'], { origin: BASE_URL })
    await context.addInitScript(TRACE)
    await prepare(context, who)
    const page = await context.newPage()
    const trace = []
    traces.set(who.full_name, trace)
    const stamp = () => new Date().toISOString().slice(11, 23)
    page.on('console', (message) => {
      const text = message.text()
      if (text.startsWith('trace: ')) trace.push(`${stamp()} ${text.slice(7)}`)
      else if (message.type() === 'warning' || message.type() === 'error') trace.push(`${stamp()} console ${message.type()}: ${text}`)
    })
    page.on('response', (response) => { if (response.status() >= 400) trace.push(`${stamp()} http ${response.status()} ${response.request().method()} ${new URL(response.url()).pathname}`) })
    await signIn(page, who)
    await openSynced(page, document.id)
    pages.push(page)
  }
  return pages
}

/** Runs a scenario: on failure, screenshots and every page's trace. */
export async function scenario (name, body) {
  const browser = await launchWithDevices()
  const traces = new Map()
  const pages = []
  try {
    await body(browser, traces, pages)
  } catch (problem) {
    if (FAILURES) for (const [index, page] of pages.entries()) await page.screenshot({ path: join(FAILURES, `${name}-${index}.png`) }).catch(() => {})
    console.error(problem)
    for (const [who, trace] of traces) console.error(`--- ${who}\n${trace.join('\n')}`)
    process.exitCode = 1
  } finally {
    if (TRACE_FILE) for (const [who, trace] of traces) appendFileSync(TRACE_FILE, `--- ${name}: ${who} (${process.exitCode ? 'failed' : 'passed'})\n${trace.join('\n')}\n`)
    await browser.close()
  }
}
