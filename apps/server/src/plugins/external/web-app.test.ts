import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildApp } from '../../app';
import { TEST_PASSWORD_COST } from '../../testing/helper';

describe('the built web app', () => {
  it('is served at / with index.html for client routes; the API keeps its answers', async () => {
    const webDir = mkdtempSync(join(tmpdir(), 'ims-web-'));
    writeFileSync(join(webDir, 'index.html'), '<!doctype html><title>IMS</title>');
    writeFileSync(join(webDir, 'app.js'), 'console.log(1)');
    const app = await buildApp({
      passwordCost: TEST_PASSWORD_COST,
      dataDir: ':memory:',
      siteDomain: 'example.com',
      adminPassword: 'x'.repeat(12),
      webDir,
    });
    onTestFinished(async () => {
      await app.close();
      rmSync(webDir, { recursive: true, force: true });
    });
    const root = await app.inject({ method: 'GET', url: '/' });
    expect(root.statusCode).toBe(200);
    expect(root.body).toContain('<title>IMS</title>');
    expect(root.headers['x-content-type-options']).toBe('nosniff');
    expect((await app.inject({ method: 'GET', url: '/routing/restrictions' })).body).toContain(
      '<title>IMS</title>',
    );
    expect((await app.inject({ method: 'GET', url: '/app.js' })).body).toContain('console.log');
    expect((await app.inject({ method: 'GET', url: '/missing.js' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/api/v1/routing' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
  });

  it('is simply absent when it was not built', async () => {
    const app = await buildApp({
      passwordCost: TEST_PASSWORD_COST,
      dataDir: ':memory:',
      siteDomain: 'example.com',
      adminPassword: 'x'.repeat(12),
      webDir: '/nonexistent',
    });
    onTestFinished(() => app.close());
    expect((await app.inject({ method: 'GET', url: '/' })).statusCode).toBe(404);
  });
});
