import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { baseConfigSchema, envNameOf, loadConfig, port } from './load.js';

const schema = baseConfigSchema.extend({ grpcPort: port().default(0), databaseUrl: z.string().min(1) });

describe('loadConfig', () => {
  it('maps camelCase keys to PANDA_ variables and coerces numbers', () => {
    expect(envNameOf('grpcPort')).toBe('PANDA_GRPC_PORT');
    const c = loadConfig(schema, { env: { PANDA_GRPC_PORT: '5051', PANDA_DATABASE_URL: 'postgres://x' } });
    expect(c).toMatchObject({ grpcPort: 5051, databaseUrl: 'postgres://x', logLevel: 'info' });
  });
  it('treats an empty variable as unset', () => {
    const c = loadConfig(schema, { env: { PANDA_GRPC_PORT: '', PANDA_DATABASE_URL: 'd' } });
    expect(c.grpcPort).toBe(0);
  });
  it('names every bad or missing variable', () => {
    expect(() => loadConfig(schema, { env: { PANDA_GRPC_PORT: 'abc' } })).toThrow(
      /PANDA_GRPC_PORT \(grpcPort\)[\s\S]*PANDA_DATABASE_URL \(databaseUrl\)/,
    );
  });
  it('reads a YAML file, lets the environment override it, and refuses unknown keys', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'databaseUrl: from-file\ngrpcPort: 7000\n');
    const c = loadConfig(schema, { env: { PANDA_CONFIG_FILE: file, PANDA_GRPC_PORT: '7001' } });
    expect(c).toMatchObject({ databaseUrl: 'from-file', grpcPort: 7001 });
    writeFileSync(file, 'databaseUrl: d\ncolour: blue\n');
    expect(() => loadConfig(schema, { env: { PANDA_CONFIG_FILE: file } })).toThrow(/colour/);
  });
});
