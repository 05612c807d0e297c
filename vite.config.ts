import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { VitePWA } from 'vite-plugin-pwa';

/** Colours of src/ui/app.css (light theme): the header accent and the page background. */
const THEME_COLOR = '#2f5fd0';
const BACKGROUND_COLOR = '#f6f7f9';

export default defineConfig({
  plugins: [
    svelte(),
    // Offline-first: a Workbox service worker precaches the whole build (app shell, lazy chunks, the
    // miner worker with its WebAssembly), so an installed or once-visited page starts its node with
    // no network. registerType 'prompt': a new deployment waits for the user's "Reload" (see
    // src/ui/pwa.svelte.ts) — reloading on its own would stop a node in the middle of mining.
    VitePWA({
      registerType: 'prompt',
      // src/ui/pwa.svelte.ts registers through `virtual:pwa-register` once the node runs.
      injectRegister: false,
      includeAssets: ['favicon.svg', 'apple-touch-icon.png'],
      manifest: {
        name: 'tabchain',
        short_name: 'tabchain',
        description: 'A browser-based peer-to-peer blockchain: every tab is a full node.',
        theme_color: THEME_COLOR,
        background_color: BACKGROUND_COLOR,
        display: 'standalone',
        start_url: '/',
        scope: '/',
        icons: [
          { src: 'pwa-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
          { src: 'pwa-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
          { src: 'pwa-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      workbox: {
        // Every script, style and page the build emits (icons, favicon and the manifest are added by
        // includeAssets and the manifest). The miner's WebAssembly is inlined in its worker chunk
        // today; wasm stays listed so a separately emitted module would be precached too.
        globPatterns: ['**/*.{html,js,css,wasm}'],
        // libp2p's lazy chunk is the largest file (~1 MB raw); the default limit is 2 MiB.
        maximumFileSizeToCacheInBytes: 8 * 1024 * 1024,
        // Any navigation gets the cached app shell, except the relay's live endpoints: opened
        // directly they must reach the relay (and fail when it is gone), never show the app.
        navigateFallback: 'index.html',
        navigateFallbackDenylist: [/^\/bootstrap\.json$/, /^\/health$/],
        // No runtime caching: /bootstrap.json and /health are not precached and match no route,
        // so the service worker leaves them to the network (offline they fail at once and the
        // page starts its node offline — src/main.ts).
        cleanupOutdatedCaches: true,
        // The new worker waits for the user's Reload; then it takes over the open pages at once.
        clientsClaim: true,
      },
    }),
  ],
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
  },
  worker: { format: 'es' },
});
