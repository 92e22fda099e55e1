'use strict'
// Real multi-user traces: one official Yjs client per agent replays that agent's transactions.
// Each transaction edits the merge of its recorded parents, so its Yjs update is prepared first
// (every agent keeps a replica that takes in exactly its parents' history); the clients then send
// the updates in recorded order at `speed` transactions/s and every client must end equal.
// Usage: node multi.cjs '<json>' with {base, room, params, file, limit, speed, timeout}.

const WebSocket = require('ws')
const Y = require('yjs')
const { WebsocketProvider } = require('y-websocket')
const encoding = require('lib0/encoding')
const syncProtocol = require('y-protocols/sync')
const { nowMs, sleep, Histogram, CpuMeter, emit, phase } = require('./common.cjs')
const { loadTrace, applyPatches } = require('./trace.cjs')

const cfg = JSON.parse(process.argv[2])
const CLIENT_BASE = 1000

/** Yjs updates of every transaction, made on per-agent replicas at the parents' version. */
function prepare (trace) {
  const agents = [...new Set(trace.txns.map((t) => t.agent))].sort((a, b) => a - b)
  const byAgent = new Map(agents.map((a) => [a, []]))
  const ordinal = []
  for (let i = 0; i < trace.txns.length; i++) {
    const list = byAgent.get(trace.txns[i].agent)
    ordinal.push(list.length)
    list.push(i)
  }
  const replicas = new Map()
  for (const a of agents) {
    const doc = new Y.Doc()
    doc.clientID = CLIENT_BASE + a
    replicas.set(a, { doc, text: doc.getText('content'), have: new Map(agents.map((b) => [b, 0])) })
  }
  const versions = []
  const updates = []
  const clocks = []
  for (let i = 0; i < trace.txns.length; i++) {
    const txn = trace.txns[i]
    const version = new Map(agents.map((b) => [b, 0]))
    for (const p of txn.parents) {
      for (const [b, n] of versions[p]) if (n > version.get(b)) version.set(b, n)
    }
    const replica = replicas.get(txn.agent)
    const missing = []
    for (const b of agents) {
      const want = version.get(b)
      const have = replica.have.get(b)
      if (have > want) throw new Error(`agent ${txn.agent} saw more than the parents of txn ${i}`)
      for (let k = have; k < want; k++) missing.push(byAgent.get(b)[k])
      replica.have.set(b, want)
    }
    // In recorded order, which is causal: no update waits for a dependency.
    missing.sort((x, y) => x - y)
    for (const k of missing) Y.applyUpdate(replica.doc, updates[k])
    let update = null
    const capture = (u) => { update = update ? Y.mergeUpdates([update, u]) : u }
    replica.doc.on('update', capture)
    applyPatches(replica.doc, replica.text, txn.patches)
    replica.doc.off('update', capture)
    updates.push(update || new Uint8Array([0, 0]))
    clocks.push(Y.getState(replica.doc.store, CLIENT_BASE + txn.agent))
    replica.have.set(txn.agent, ordinal[i] + 1)
    version.set(txn.agent, ordinal[i] + 1)
    versions.push(version)
  }
  const merged = new Y.Doc()
  for (const u of updates) Y.applyUpdate(merged, u)
  return { agents, byAgent, updates, clocks, result: merged.getText('content').toString() }
}

/** What the agent's client does on an edit: apply it locally and send the update message. It is
 * sent here rather than by the provider because Yjs holds back an update whose dependencies have not
 * reached this client yet, and the provider never sends what it later integrates from the server. */
function send (client, update) {
  Y.applyUpdate(client.doc, update, client.provider)
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, 0)
  syncProtocol.writeUpdate(encoder, update)
  client.provider.ws.send(encoding.toUint8Array(encoder))
}

async function main () {
  const trace = loadTrace(cfg.file, cfg.limit)
  const prep = prepare(trace)
  const expected = trace.endContent ?? prep.result
  const prepMatches = prep.result === expected

  // One client per agent; the first creates the room alone.
  const clients = []
  for (const a of prep.agents) {
    const doc = new Y.Doc()
    const provider = new WebsocketProvider(cfg.base, cfg.room, doc, { WebSocketPolyfill: WebSocket, params: cfg.params, disableBc: true })
    await new Promise((resolve) => provider.once('sync', resolve))
    clients.push({ agent: a, doc, provider, text: doc.getText('content') })
  }
  const sentAt = new Float64Array(trace.txns.length)
  const hist = new Histogram()
  for (const c of clients) {
    const next = new Map(prep.agents.map((b) => [b, 0]))
    c.doc.on('update', () => {
      const t = nowMs()
      for (const b of prep.agents) {
        if (b === c.agent) continue
        const list = prep.byAgent.get(b)
        const state = Y.getState(c.doc.store, CLIENT_BASE + b)
        let k = next.get(b)
        while (k < list.length && sentAt[list[k]] > 0 && prep.clocks[list[k]] <= state) {
          const i = list[k]
          const before = k > 0 ? prep.clocks[list[k - 1]] : 0
          if (prep.clocks[i] > before) hist.add(t - sentAt[i])
          k++
        }
        next.set(b, k)
      }
    })
  }

  phase('start')
  const cpu = new CpuMeter()
  const byAgent = new Map(clients.map((c) => [c.agent, c]))
  const t0 = nowMs()
  for (let i = 0; i < trace.txns.length; i++) {
    const due = t0 + (i * 1000) / cfg.speed
    const wait = due - nowMs()
    if (wait > 1) await sleep(wait)
    sentAt[i] = nowMs()
    send(byAgent.get(trace.txns[i].agent), prep.updates[i])
  }
  const sendSeconds = (nowMs() - t0) / 1000
  const deadline = nowMs() + cfg.timeout * 1000
  const converged = () => clients.every((c) => c.text.length === expected.length && c.text.toString() === expected)
  while (!converged() && nowMs() < deadline) await sleep(20)
  const seconds = (nowMs() - t0) / 1000
  const clientCpu = cpu.percent()
  phase('end')
  const equal = clients.map((c) => c.text.toString() === expected)
  for (const c of clients) c.provider.destroy()
  emit({
    agents: prep.agents.length,
    txns: trace.txns.length,
    speed: cfg.speed,
    send_seconds: sendSeconds,
    seconds,
    latency_ms: hist.summary(),
    clients_equal: equal.every(Boolean),
    clients_equal_count: equal.filter(Boolean).length,
    prepared_matches_end: prepMatches,
    expected_length: expected.length,
    client_cpu_pct: clientCpu
  })
  process.exit(0)
}

main().catch((err) => { emit({ error: String(err && err.stack ? err.stack : err) }); process.exit(1) })
