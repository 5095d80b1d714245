/**
 * Issue 11 §4: the `redeem` section of config.json (the payee's redemption service) through
 * `config set`'s parsers and the schema — stored in base units and seconds, refused with the
 * field named and nothing written — and the defaults `serve` uses while it is unset.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Config } from '../../src/core/config.js';
import { redeemPolicy } from '../../src/core/config-fields.js';
import { getSetting, listSettings, setSetting } from '../../src/core/settings.js';

const fresh = () => new Config(mkdtempSync(join(tmpdir(), 'channels-redeem-config-')));

describe('config redeem.*', () => {
  it('is absent from a new wallet; serve then uses the defaults', () => {
    const c = fresh();
    expect(JSON.parse(readFileSync(join(c.home, 'config.json'), 'utf8'))).not.toHaveProperty('redeem');
    expect(getSetting(c, 'redeem.minProfit')).toBeNull();
    expect(redeemPolicy(c.get('redeem'))).toEqual({ interval: 30, minProfit: '0', margin: 3600, lockMargin: 60, batchSize: 20 });
    expect(listSettings(c).filter((s) => s.key.startsWith('redeem.')).map((s) => s.key)).toEqual(['redeem.interval', 'redeem.minProfit', 'redeem.margin', 'redeem.lockMargin', 'redeem.batchSize']);
  });

  it('stores what config set parses, and the rest keeps its default', () => {
    const c = fresh();
    expect(setSetting(c, 'redeem.minProfit', '0.001eth')).toBe('1000000000000000');
    expect(setSetting(c, 'redeem.margin', '0')).toBe(0);
    expect(setSetting(c, 'redeem.interval', '5')).toBe(5);
    expect(setSetting(c, 'redeem.batchSize', '200')).toBe(200);
    expect(redeemPolicy(c.get('redeem'))).toEqual({ interval: 5, minProfit: '1000000000000000', margin: 0, lockMargin: 60, batchSize: 200 });
    const other = fresh();
    setSetting(other, 'redeem.minProfit', '7');
    expect(redeemPolicy(other.get('redeem'))).toEqual({ interval: 30, minProfit: '7', margin: 3600, lockMargin: 60, batchSize: 20 });
  });

  it.each([
    ['redeem.batchSize', '201', 'Invalid value for redeem.batchSize: must be at most 200.'],
    ['redeem.batchSize', '0', 'Invalid count "0"; expected a whole number from 1 to 999999999.'],
    ['redeem.interval', '0', 'Invalid number of seconds "0".'],
    ['redeem.margin', '-5', 'Invalid number of seconds "-5".'],
    ['redeem.minProfit', 'lots', 'Invalid redeem.minProfit "lots".'],
    ['redeem.minProfit', '1sat', 'Invalid redeem.minProfit "1sat": sat is not a unit of this EVM network.'],
    ['redeem.nope', '1', 'Unknown setting "redeem.nope".'],
  ])('refuses %s %s, writing nothing', (key, value, message) => {
    const c = fresh();
    const before = readFileSync(join(c.home, 'config.json'), 'utf8');
    expect(() => setSetting(c, key, value)).toThrow(message);
    expect(readFileSync(join(c.home, 'config.json'), 'utf8')).toBe(before);
  });
});
