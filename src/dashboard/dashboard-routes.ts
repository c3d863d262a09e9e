import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Router } from 'express';

/**
 * The dashboard's static files, served without authentication: they hold no data, and every
 * data call the page makes goes to /v1 with the key the user typed (kept in sessionStorage).
 * Chart.js is served from node_modules, so nothing is fetched from the internet at run time.
 * The figures module the CLI and the report share is served as it is, at /format/figures.js,
 * which the page's modules import as `../format/figures.js`.
 */

const here = dirname(fileURLToPath(import.meta.url));

/** Where index.html is: beside this module (tsx), or back in src/ when running from dist/. */
export function dashboardDirectory(): string {
  const candidates = [here, resolve(here, '../../../src/dashboard')];
  const found = candidates.find((dir) => existsSync(join(dir, 'index.html')));
  if (!found) throw new Error(`dashboard files not found in ${candidates.join(' or ')}`);
  return found;
}

/** chart.js's UMD build; its package exports do not list it, so it is found beside the main file. */
export function chartJsPath(): string {
  const main = createRequire(import.meta.url).resolve('chart.js');
  return join(dirname(main), 'chart.umd.js');
}

/** src/format/figures.js, beside the dashboard's directory (which is in src/ when running from dist/ too). */
export function figuresPath(dashboardDir: string): string {
  return resolve(dashboardDir, '../format/figures.js');
}

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-cache',
};

export function dashboardRoutes(): Router {
  const router = Router();
  const dir = dashboardDirectory();
  const files: Record<string, { path: string; type: string }> = {
    '/': { path: join(dir, 'index.html'), type: 'text/html; charset=utf-8' },
    '/dashboard/assets/chart.umd.js': { path: chartJsPath(), type: 'text/javascript; charset=utf-8' },
    '/format/figures.js': { path: figuresPath(dir), type: 'text/javascript; charset=utf-8' },
  };
  // The page's own modules and stylesheet: what is in the directory at start, nothing else.
  for (const name of readdirSync(dir)) {
    const ext = /^[a-z0-9-]+\.(js|css)$/.exec(name)?.[1];
    if (!ext) continue;
    const type = ext === 'css' ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8';
    files[`/dashboard/${name}`] = { path: join(dir, name), type };
  }
  for (const [route, file] of Object.entries(files)) {
    router.get(route, (_req, res, next) => {
      res.set(SECURITY_HEADERS).type(file.type);
      res.sendFile(file.path, (error) => {
        if (error) next(error);
      });
    });
  }
  return router;
}
