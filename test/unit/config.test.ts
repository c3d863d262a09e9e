import { describe, expect, it } from 'vitest';
import { loadConfig, readEnvironment } from '../../src/config.js';

describe('configuration from the environment', () => {
  it('when a variable is empty, as compose files write an unset one, then its default applies', () => {
    const config = loadConfig({
      UNLEASH_URL: '',
      DATABASE_URL: '',
      PORT: '',
      HOST: '',
      SHADOWGATE_DATA_DIR: '',
      SHADOWGATE_AI_DESTINATIONS: '',
    });
    expect(config.UNLEASH_URL).toBeUndefined();
    expect(config.DATABASE_URL).toBeUndefined();
    // An empty PORT once coerced to 0 (a random port); it is the default now.
    expect(config.PORT).toBe(8080);
    expect(config.HOST).toBe('0.0.0.0');
    expect(config.SHADOWGATE_DATA_DIR).toBe('./.shadowgate');
    expect(config.SHADOWGATE_AI_DESTINATIONS).toEqual(loadConfig({}).SHADOWGATE_AI_DESTINATIONS);
  });

  it('when a variable holds only whitespace, then it is unset too', () => {
    const config = loadConfig({
      UNLEASH_URL: '   ',
      UNLEASH_ADMIN_TOKEN: '\t',
      SHADOWGATE_TICK_MS: ' \n ',
      LOG_LEVEL: '  ',
    });
    expect(config.UNLEASH_URL).toBeUndefined();
    expect(config.UNLEASH_ADMIN_TOKEN).toBeUndefined();
    expect(config.SHADOWGATE_TICK_MS).toBe(10_000);
    expect(config.LOG_LEVEL).toBe('info');
  });

  it('when a variable is set, then its value is used as written', () => {
    const config = loadConfig({
      UNLEASH_URL: 'http://unleash:4242',
      UNLEASH_ADMIN_TOKEN: '*:*.secret',
      PORT: '9090',
      SHADOWGATE_QUEUE_PREFIX: 'sg-prod',
    });
    expect(config.UNLEASH_URL).toBe('http://unleash:4242');
    expect(config.UNLEASH_ADMIN_TOKEN).toBe('*:*.secret');
    expect(config.PORT).toBe(9090);
    expect(config.SHADOWGATE_QUEUE_PREFIX).toBe('sg-prod');
  });

  it('when a value is invalid, then loading fails with the variable named', () => {
    expect(() => loadConfig({ UNLEASH_URL: 'not a url' })).toThrow(
      /invalid configuration:\n\s+UNLEASH_URL: /,
    );
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT: /);
    expect(() => loadConfig({ SHADOWGATE_ADMIN_KEY: 'short' })).toThrow(
      /SHADOWGATE_ADMIN_KEY: at least 16 characters/,
    );
  });

  it('when an AI secret is listed but its variable is empty, then it counts as not set', () => {
    expect(() => loadConfig({ SHADOWGATE_AI_SECRETS: 'OPENAI_KEY', OPENAI_KEY: '  ' })).toThrow(
      /SHADOWGATE_AI_SECRETS: OPENAI_KEY is not set/,
    );
    expect(loadConfig({ SHADOWGATE_AI_SECRETS: 'OPENAI_KEY', OPENAI_KEY: 'sk-1' }).aiSecrets.names).toEqual([
      'OPENAI_KEY',
    ]);
  });

  it('readEnvironment drops empty and whitespace-only variables and keeps the others unchanged', () => {
    expect(readEnvironment({ A: '', B: ' \t', C: ' padded ', D: 'x', E: undefined })).toEqual({
      C: ' padded ',
      D: 'x',
    });
  });
});
