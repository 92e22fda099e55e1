import { defineConfig } from 'vite'
import preact from '@preact/preset-vite'

// The build goes into the Python package, which serves it at `/` (hashed names under assets/).
export default defineConfig({
  plugins: [preact()],
  build: {
    outDir: '../src/cowrite/webapp/static',
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
