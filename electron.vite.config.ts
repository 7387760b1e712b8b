import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';

// Three bundles, one per process. Native modules (better-sqlite3, onnxruntime-node, sharp) stay external:
// they are loaded from node_modules at run time, never bundled.
export default defineConfig({
  main: {
    build: {
      externalizeDeps: true,
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src/main/index.ts'),
          cli: resolve(__dirname, 'src/main/cli.ts'),
          'inference-worker': resolve(__dirname, 'src/main/inference/worker.ts'),
          'lab-model-worker': resolve(__dirname, 'src/main/lab-model/train-worker.ts'),
          'lab-model-reanalyse-worker': resolve(__dirname, 'src/main/lab-model/reanalyse-worker.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      // A sandboxed preload cannot require() other files, so it must be a single CommonJS file.
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    build: {
      rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } },
    },
    plugins: [react()],
  },
});
