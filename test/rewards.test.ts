import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpReward } from '../lib/reward-http.js';
import { scoreRewards } from '../lib/reward-scoring.js';

describe('function rewards', () => {
  it('records throws, non-finite values and timeouts per item without failing the batch', async () => {
    const items = ['good', 'throw', 'nan', 'inf', 'slow', 'fine'].map((response) => ({ prompt: 'p', response }));
    const out = await scoreRewards((_p, r) => {
      if (r === 'throw') throw new TypeError('boom');
      if (r === 'nan') return Number.NaN;
      if (r === 'inf') return Infinity;
      if (r === 'slow') return new Promise<number>((res) => setTimeout(() => res(1), 500));
      return r.length;
    }, items, { timeoutMs: 100 });
    expect(out[0]).toEqual({ ok: true, score: 4 });
    expect(out[1]).toEqual({ ok: false, reason: 'reward threw TypeError: boom' });
    expect(out[2]).toMatchObject({ ok: false, reason: expect.stringContaining('non-finite value (NaN)') });
    expect(out[3]).toMatchObject({ ok: false, reason: expect.stringContaining('non-finite value (Infinity)') });
    expect(out[4]).toMatchObject({ ok: false, reason: expect.stringContaining('timed out after 100 ms') });
    expect(out[5]).toEqual({ ok: true, score: 4 });
  });

  it('stops with ABORTED when the signal fires', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(scoreRewards(() => 1, [{ prompt: 'a', response: 'b' }], { signal: ac.signal })).rejects.toMatchObject({ code: 'ABORTED' });
  });
});

describe('HTTP reward', () => {
  let server: http.Server;
  let base = '';
  const calls: { path: string; n: number }[] = [];
  let flaky = 0;
  let inFlight = 0;
  let maxInFlight = 0;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const { items } = JSON.parse(body) as { items: { prompt: string; response: string }[] };
        calls.push({ path: req.url ?? '', n: items.length });
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        const reply = (status: number, payload: unknown, delay = 20) => setTimeout(() => {
          inFlight--;
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(payload));
        }, delay);
        if (req.url === '/len') reply(200, { scores: items.map((i) => (i.response === 'bad' ? null : i.response.length)) });
        else if (req.url === '/flaky') reply(flaky++ < 2 ? 503 : 200, { scores: items.map(() => 1) });
        else if (req.url === '/reject') reply(400, { error: 'no' });
        else if (req.url === '/slow') reply(200, { scores: items.map(() => 1) }, 1000);
        else reply(404, {});
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('posts in batches with bounded concurrency and keeps order', async () => {
    calls.length = 0;
    maxInFlight = 0;
    const items = Array.from({ length: 10 }, (_, i) => ({ prompt: 'p', response: i === 3 ? 'bad' : 'x'.repeat(i + 1) }));
    const out = await httpReward(`${base}/len`, { batchSize: 3, concurrency: 2 }).scoreBatch(items);
    expect(calls.map((c) => c.n)).toEqual([3, 3, 3, 1]);
    expect(maxInFlight).toBeLessThanOrEqual(2);
    expect(out.map((o) => (o.ok ? o.score : null))).toEqual([1, 2, 3, null, 5, 6, 7, 8, 9, 10]);
    expect(out[3]).toMatchObject({ ok: false, reason: expect.stringContaining('non-finite score') });
  });

  it('retries 5xx with backoff, then succeeds', async () => {
    flaky = 0;
    const out = await httpReward(`${base}/flaky`, { retries: 3, backoffMs: 5 }).scoreBatch([{ prompt: 'a', response: 'b' }]);
    expect(out).toEqual([{ ok: true, score: 1 }]);
    expect(flaky).toBe(3);
  });

  it('fails the batch items (not the call) on 4xx and on timeouts', async () => {
    const rejected = await httpReward(`${base}/reject`, { retries: 2, backoffMs: 5 }).scoreBatch([{ prompt: 'a', response: 'b' }]);
    expect(rejected[0]).toMatchObject({ ok: false, reason: expect.stringContaining('HTTP 400') });
    const slow = await httpReward(`${base}/slow`, { retries: 1, backoffMs: 5, timeoutMs: 100 }).scoreBatch([{ prompt: 'a', response: 'b' }]);
    expect(slow[0]).toMatchObject({ ok: false, reason: expect.stringContaining('timed out after 100 ms') });
  });

  it('rejects bad URLs and options up front', () => {
    expect(() => httpReward('not a url')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => httpReward('ftp://x/y')).toThrow(/must be http/);
    expect(() => httpReward(`${base}/len`, { batchSize: 0 })).toThrow(/batchSize must be a positive integer/);
  });
});
