#!/usr/bin/env node
// Builds the console (launcher and server), the SMTP node (main and its
// cluster worker) and the `ims` CLI to JavaScript, once, for `npm start`:
// node runs them without the tsx loader (less memory, a quicker start).
// Development and the tests keep running the TypeScript through tsx.
// `node scripts/build.mjs apps/server apps/smtp` builds only the apps named.
//
// Each entry is one ES module in the app's build/ folder. The workspace's own
// packages (@ims/*) are bundled in; npm packages are not: they are imported
// from where pnpm installed them, by absolute path. `IMS_BUILT` is true in
// the output (the launcher starts the built node; the node forks built
// workers). In the console, import.meta.url keeps naming each module's source
// file, so the files it reads beside its source (migrations, the web app's
// dist) are found as under tsx.
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = resolve(import.meta.dirname, '..');

/** npm packages stay external, imported from their installed path. */
const externalNpm = {
  name: 'external-npm',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (
        args.pluginData?.resolving ||
        args.path.startsWith('@ims/') ||
        args.path.startsWith('node:')
      )
        return undefined;
      const r = await b.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: { resolving: true },
      });
      if (r.errors.length > 0) return { errors: r.errors };
      return { path: r.path, external: true };
    });
  },
};

/** import.meta.url / dirname / filename of a source file, as under tsx. */
const sourceImportMeta = {
  name: 'source-import-meta',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const { readFile } = await import('node:fs/promises');
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta')) return undefined;
      return {
        loader: 'ts',
        contents: text
          .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href))
          .replaceAll('import.meta.dirname', JSON.stringify(dirname(args.path)))
          .replaceAll('import.meta.filename', JSON.stringify(args.path)),
      };
    });
  },
};

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  define: { IMS_BUILT: 'true' },
  // Bundled CommonJS may call require().
  banner: {
    js: "import { createRequire as __imsCreateRequire } from 'node:module'; const require = __imsCreateRequire(import.meta.url);",
  },
};

const apps = [
  {
    dir: 'apps/server',
    entries: ['src/launcher.ts', 'src/server.ts'],
    plugins: [externalNpm, sourceImportMeta],
  },
  { dir: 'apps/smtp', entries: ['src/main.ts', 'src/cluster/worker.ts'], plugins: [externalNpm] },
  { dir: 'apps/cli', entries: ['src/main.ts'], plugins: [externalNpm] },
];

const started = Date.now();
// `node scripts/build.mjs --outdir DIR ENTRY…`: other entries the same way
// (bench/smtp builds its node host with the SMTP worker beside it).
const at = process.argv.indexOf('--outdir');
const named = at >= 0 ? [] : process.argv.slice(2);
const unknown = named.filter((dir) => !apps.some((app) => app.dir === dir));
if (unknown.length > 0) {
  process.stderr.write(
    `build: no app ${unknown.join(', ')} (apps: ${apps.map((a) => a.dir).join(', ')})\n`,
  );
  process.exit(2);
}
const targets =
  at >= 0
    ? [
        {
          out: resolve(process.argv[at + 1] ?? ''),
          entries: process.argv.slice(at + 2).map((e) => resolve(e)),
          plugins: [externalNpm],
        },
      ]
    : apps
        // `node scripts/build.mjs apps/server apps/smtp`: only these apps.
        .filter((app) => named.length === 0 || named.includes(app.dir))
        .map((app) => ({
          out: join(root, app.dir, 'build'),
          entries: app.entries.map((e) => join(root, app.dir, e)),
          plugins: app.plugins,
        }));
await Promise.all(
  targets.map(async ({ out, entries, plugins }) => {
    rmSync(out, { recursive: true, force: true });
    await build({
      ...common,
      entryPoints: entries,
      outdir: out,
      // worker.ts lands beside main.js, where the node forks it from.
      entryNames: '[name]',
      plugins,
    });
  }),
);
process.stderr.write(
  `build: ${targets.map((t) => t.out.slice(root.length + 1)).join(', ')} built to JavaScript in ${Date.now() - started} ms\n`,
);
