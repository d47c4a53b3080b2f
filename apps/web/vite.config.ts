import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The console serves dist/ at `/` (apps/server web-app plugin); in development
// Vite proxies the API to a console on IMS_CONSOLE_URL (default :8080).
export default defineConfig({
  plugins: [react()],
  // 98.css has a media query (`not(hover)`) that lightningcss refuses; esbuild minifies it.
  build: { outDir: 'dist', sourcemap: false, target: 'es2022', cssMinify: 'esbuild' },
  server: {
    proxy: { '/api': process.env.IMS_CONSOLE_URL ?? 'http://127.0.0.1:8080' },
  },
});
