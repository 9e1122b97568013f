import { describe, expect, it } from 'vitest';
import { createLimiter } from './limiter.ts';

describe('limiter', () => {
  it('runs at most `concurrency` tasks at once, in arrival order', async () => {
    const limiter = createLimiter({ concurrency: 2, maxQueue: 10, maxWaitMs: 5_000 });
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const gates: (() => void)[] = [];
    const tasks = Array.from({ length: 5 }, (_, index) =>
      limiter.run(async () => {
        started.push(index);
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((resolve) => gates.push(resolve));
        running--;
        return index;
      }),
    );
    while (started.length < 5) {
      await new Promise((resolve) => setImmediate(resolve));
      gates.shift()?.();
    }
    for (const gate of gates) gate();
    expect(await Promise.all(tasks)).toEqual([0, 1, 2, 3, 4]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
    expect(limiter.stats()).toEqual({ running: 0, queued: 0 });
  });

  it('refuses with 503 service_busy when the queue is full or the wait too long, and frees its slot on errors', async () => {
    const limiter = createLimiter({ concurrency: 1, maxQueue: 1, maxWaitMs: 50 });
    let open!: () => void;
    const first = limiter.run(() => new Promise<void>((resolve) => (open = resolve)));
    const waiting = limiter.run(async () => 'late');
    await expect(limiter.run(async () => 'full')).rejects.toMatchObject({
      code: 'service_busy',
      status: 503,
    });
    await expect(waiting).rejects.toMatchObject({ code: 'service_busy' });
    open();
    await first;
    await expect(limiter.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await limiter.run(async () => 'ok')).toBe('ok');
  });
});
