import { defineConfig } from "vite";

// No framework plugin: Preact's automatic JSX runtime comes from tsconfig's jsxImportSource.
export default defineConfig({
  base: "/",
  build: {
    outDir: "dist",
    target: "es2022",
    sourcemap: false,
    assetsInlineLimit: 0,
  },
  server: {
    // `npm run dev` next to `make start`: the API, /_local and /ws stay on the runtime.
    proxy: {
      "^/(cases|lab|labs|me|webhooks|health|_local|openapi.json)": "http://127.0.0.1:8000",
      "/ws": { target: "ws://127.0.0.1:8000", ws: true },
    },
  },
});
