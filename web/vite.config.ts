import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { defineConfig, type Plugin } from 'vite'
import preact from '@preact/preset-vite'

const OUT_DIR = '../src/cowrite/webapp/static'

/** Writes a gzipped copy beside each script and style sheet; the server sends it to browsers that accept gzip. */
function precompress (): Plugin {
  return {
    name: 'cowrite-precompress',
    apply: 'build',
    closeBundle () {
      const assets = join(__dirname, OUT_DIR, 'assets')
      for (const name of readdirSync(assets)) {
        if (/\.(js|css|svg)$/.test(name)) writeFileSync(join(assets, `${name}.gz`), gzipSync(readFileSync(join(assets, name)), { level: 9 }))
      }
    }
  }
}

// The build goes into the Python package, which serves it at `/` (hashed names under assets/).
export default defineConfig({
  plugins: [preact(), precompress()],
  build: {
    outDir: OUT_DIR,
    emptyOutDir: true,
    assetsDir: 'assets',
    modulePreload: { polyfill: false },
    manifest: true,
    sourcemap: false,
    target: 'es2022',
    // The editor route is one chunk by design (CodeMirror, Yjs); its budget is checked by scripts/budget.mjs.
    chunkSizeWarningLimit: 1024
  },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:7001',
      '/ws': { target: 'ws://127.0.0.1:7001', ws: true }
    }
  }
})
