import { defineConfig } from 'vite'

// The page is plain TypeScript modules; the workspace packages resolve through their `browser`
// export conditions (the noble crypto provider of @vouch/backend-omemo).
export default defineConfig({
  server: { host: '127.0.0.1', strictPort: false },
  build: { target: 'es2022' },
})
