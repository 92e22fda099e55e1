'use strict'
// A bare Hocuspocus server (no extensions: no persistence, no auth hook), the way most Yjs
// products start one. Usage: node hocuspocus_server.cjs <port>
const { Server } = require('@hocuspocus/server')

const port = Number(process.argv[2])
const server = new Server({ port, address: '127.0.0.1', quiet: true, stopOnSignals: true })
server.listen().catch((err) => { console.error(err); process.exit(1) })
