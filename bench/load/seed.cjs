'use strict'
// Seeds documents of realistic text over REST: ~2 KB spans of consecutive words taken from a
// trace's final text (real English, real word frequencies), with a fixed random seed.
// Usage: node seed.cjs '<json>' with {http, token, workspace, count, concurrency, words, seconds}.

const { nowMs, emit } = require('./common.cjs')
const { loadTrace } = require('./trace.cjs')

const cfg = JSON.parse(process.argv[2])

function rng (seed) {
  let s = seed >>> 0
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 4294967296 }
}

async function main () {
  const words = loadTrace(cfg.words, 0).endContent.split(/[^A-Za-z']+/).filter((w) => w.length > 1)
  const random = rng(42)
  const body = () => {
    const start = Math.floor(random() * (words.length - 400))
    const out = []
    let size = 0
    for (let i = start; size < 2000; i++) { const w = words[i % words.length]; out.push(w); size += w.length + 1 }
    return out.join(' ')
  }
  const url = `${cfg.http}/api/v1/workspaces/${cfg.workspace}/documents`
  const headers = { Authorization: `Bearer ${cfg.token}`, 'Content-Type': 'application/json' }
  const deadline = nowMs() + cfg.seconds * 1000
  let next = 0
  let created = 0
  let errors = 0
  const t0 = nowMs()
  await Promise.all(Array.from({ length: cfg.concurrency }, async () => {
    while (next < cfg.count && nowMs() < deadline) {
      const n = next++
      const payload = JSON.stringify({ title: `Notes ${n}: ${words[n % words.length]}`, content: body() })
      try {
        const resp = await fetch(url, { method: 'POST', headers, body: payload })
        await resp.arrayBuffer()
        if (resp.status === 201) created++
        else errors++
      } catch (err) { errors++ }
    }
  }))
  emit({ created, errors, seconds: (nowMs() - t0) / 1000 })
  process.exit(0)
}

main().catch((err) => { emit({ error: String(err && err.stack ? err.stack : err) }); process.exit(1) })
