/** The dashboard's build: hashed assets in dist/ that the hub serves at `/` (same origin as /v1). */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react()],
  worker: { format: 'es' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Every browser that runs this dashboard knows modulepreload: no polyfill to ship.
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  server: {
    // `npm run dev -w @gantry/web` against a hub on the default port: same-origin calls through the proxy.
    proxy: { '/v1': { target: process.env.GANTRY_HUB_URL ?? 'http://127.0.0.1:7420', changeOrigin: false } },
  },
});
