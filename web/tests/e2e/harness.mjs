// What the browser scenarios share: Debian's chromium through playwright-core, the server's
// REST API for setting up data, and a line protocol to the pytest runner that owns the server.
import { createInterface } from 'node:readline'
import { chromium } from 'playwright-core'

export const BASE_URL = process.env.COWRITE_BASE_URL ?? 'http://127.0.0.1:7001'
export const CHROMIUM = process.env.COWRITE_CHROMIUM ?? '/usr/bin/chromium'
export const PASSWORD = 'correct horse battery staple'
export const WAIT = 15000

/** Chromium, headless; with `media`, a fake camera and microphone that need no prompt. */
export function launch ({ media = false } = {}) {
  const fakeMedia = ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', '--autoplay-policy=no-user-gesture-required']
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', ...(media ? fakeMedia : [])]
  })
}

let lines = null
/** Ask the runner to act on the server (`restart`); resolves when it answers. */
export function control (command) {
  lines ??= createInterface({ input: process.stdin })[Symbol.asyncIterator]()
  process.stdout.write(`@@${command}\n`)
  return lines.next().then(({ value }) => {
    if (value !== `done ${command}`) throw new Error(`runner answered ${value} to ${command}`)
  })
}

let counter = 0
export const uniqueEmail = (name) => `${name.toLowerCase()}-${Date.now().toString(36)}-${counter++}@example.com`

export async function rest (method, path, { token, body } = {}) {
  const headers = {}
  if (token) headers.Authorization = `Bearer ${token}`
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  const response = await fetch(BASE_URL + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`)
  return response.status === 204 ? null : response.json()
}

/** A person registered through the API (scenarios that are not about registering). */
export async function person (fullName) {
  const email = uniqueEmail(fullName.split(' ')[0])
  const user = await rest('POST', '/api/v1/auth/register', { body: { email, password: PASSWORD, full_name: fullName } })
  const tokens = await rest('POST', '/api/v1/auth/login', { body: { email, password: PASSWORD } })
  return { ...user, email, token: tokens.access_token }
}

export async function signIn (page, who) {
  await page.goto(`${BASE_URL}/login`)
  await page.getByLabel('Email').fill(who.email)
  await page.getByLabel('Password').fill(PASSWORD)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.locator('.topbar').waitFor()
}

export const editorText = (page) => page.locator('.cm-content').innerText()

/** Wait until the page's editor holds `text` (the other browser's edit arrived). */
export async function waitForText (page, text, timeout = WAIT) {
  await page.locator('.cm-content', { hasText: text }).waitFor({ timeout })
}

export async function typeInEditor (page, text, { atEnd = true } = {}) {
  const content = page.locator('.cm-content')
  await content.click()
  if (atEnd) await page.keyboard.press('Control+End')
  await page.keyboard.type(text)
}

export async function waitSynced (page) {
  await page.locator('[data-testid=connection][data-synced=true]', { hasText: 'Connected' }).waitFor({ timeout: WAIT })
}

export async function openSynced (page, documentId) {
  await page.goto(`${BASE_URL}/d/${documentId}`)
  await waitSynced(page)
}

export function assert (condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`)
}

/** Retry `attempt` until it answers true: for what the server does not push (e.g. the REST copy
 *  of a live document, which follows the edits within a couple of seconds). */
export async function eventually (attempt, what, timeout = WAIT) {
  const deadline = Date.now() + timeout
  while (!(await attempt())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}
