#!/usr/bin/env node
// The `ims` command: runs the TypeScript source through tsx (resolved from this package).
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
