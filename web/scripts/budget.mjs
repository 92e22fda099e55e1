// The JavaScript each route loads, gzipped, against the budgets (sign-in ≤ 80 KB, each editor ≤ 300 KB).
// Run after a build: npm run budget. Reads Vite's manifest, so it follows the real chunk graph.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'

const OUT = new URL('../../src/cowrite/webapp/static/', import.meta.url).pathname
const manifest = JSON.parse(readFileSync(join(OUT, '.vite', 'manifest.json'), 'utf8'))
const gz = (file) => gzipSync(readFileSync(join(OUT, file)), { level: 9 }).length

/** Files a chunk needs: itself and its static imports (dynamic imports load on another route). */
function closure (key, seen = new Set()) {
  if (seen.has(key)) return seen
  seen.add(key)
  for (const next of manifest[key].imports ?? []) closure(next, seen)
  return seen
}

const entry = Object.keys(manifest).find((key) => manifest[key].isEntry)
const editor = Object.keys(manifest).find((key) => key.includes('screens/Editor'))
const rich = Object.keys(manifest).find((key) => key.includes('screens/RichEditor'))
const routes = {
  'sign-in and lists': { keys: closure(entry), budget: 80 },
  editor: { keys: closure(editor, closure(entry)), budget: 300 },
  'rich-text editor': { keys: closure(rich, closure(entry)), budget: 300 }
}
let over = false
for (const [name, { keys, budget }] of Object.entries(routes)) {
  const js = [...keys].map((key) => manifest[key].file).filter((file) => file.endsWith('.js'))
  const css = [...keys].flatMap((key) => manifest[key].css ?? [])
  const jsKb = js.reduce((sum, file) => sum + gz(file), 0) / 1024
  const cssKb = css.reduce((sum, file) => sum + gz(file), 0) / 1024
  const verdict = jsKb <= budget ? 'within' : 'OVER'
  if (jsKb > budget) over = true
  console.log(`${name}: JS ${jsKb.toFixed(1)} KB gzipped (budget ${budget} KB, ${verdict}), CSS ${cssKb.toFixed(1)} KB; ${js.join(', ')}`)
}
process.exit(over ? 1 : 0)
