'use strict'
// Idle connections: open raw y-websocket sockets that send sync step 1 and then stay quiet.
// Usage: node idle.cjs '<json>' with {url, stages:[n1,n2,...], hold}. After each stage is open
// it prints `PHASE connected:<n>` and holds `hold` seconds so the harness can read the server's RSS.

const { sleep, SYNC_STEP1_EMPTY, openSocket, inBatches, emit, phase } = require('./common.cjs')

const cfg = JSON.parse(process.argv[2])

async function main () {
  const sockets = []
  let failures = 0
  const isStep2 = (data) => data.length > 1 && data[0] === 0 && data[1] === 1
  const stages = []
  for (const target of cfg.stages) {
    const need = target - sockets.length
    const results = await inBatches(need, cfg.batch || 200, () =>
      openSocket(cfg.url, isStep2, 60000, (s) => s.send(SYNC_STEP1_EMPTY)))
    for (const r of results) {
      if (r.status === 'fulfilled') { r.value.on('error', () => {}); sockets.push(r.value) } else failures++
    }
    await sleep(500)
    const open = sockets.filter((ws) => ws.readyState === 1).length
    phase(`connected:${open}`)
    await sleep(cfg.hold * 1000)
    stages.push({ target, open, still_open: sockets.filter((ws) => ws.readyState === 1).length })
  }
  const mem = process.memoryUsage()
  for (const ws of sockets) ws.terminate()
  emit({ stages, failures, client_rss_bytes: mem.rss })
  process.exit(0)
}

main().catch((err) => { emit({ error: String(err && err.stack ? err.stack : err) }); process.exit(1) })
