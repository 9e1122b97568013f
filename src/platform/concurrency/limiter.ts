import { AppError, registerErrorCodes } from '../errors/index.ts';

registerErrorCodes({
  /** Too much work of this kind is queued on this server; retry after the Retry-After seconds. */
  service_busy: 503,
});

export interface Limiter {
  /** Runs `task` once fewer than `concurrency` tasks are running; refuses with 503 when the queue is full or the wait too long. */
  run<T>(task: () => Promise<T>): Promise<T>;
  readonly stats: () => { running: number; queued: number };
}

/**
 * Admission control for expensive work: at most `concurrency` at once, the rest wait in FIFO
 * order. Without it a burst (a flash sale) puts every request in the database pool's queue at
 * once, each holds a connection for part of its work, and they advance in lockstep until the pool
 * times out; with it, the ones admitted finish quickly and later ones see the new state.
 */
export function createLimiter(options: {
  concurrency: number;
  maxQueue: number;
  maxWaitMs: number;
}): Limiter {
  let running = 0;
  const queue: { start: () => void; timer: NodeJS.Timeout }[] = [];
  const busy = () =>
    new AppError('service_busy', 'This server is busy; try again in a moment', {
      headers: { 'retry-after': '1' },
    });

  const release = () => {
    running--;
    const next = queue.shift();
    if (next) {
      clearTimeout(next.timer);
      running++;
      next.start();
    }
  };

  return {
    async run(task) {
      if (running >= options.concurrency) {
        if (queue.length >= options.maxQueue) throw busy();
        await new Promise<void>((resolve, reject) => {
          const entry = {
            start: resolve,
            timer: setTimeout(() => {
              const index = queue.indexOf(entry);
              if (index >= 0) queue.splice(index, 1);
              reject(busy());
            }, options.maxWaitMs),
          };
          queue.push(entry);
        });
      } else {
        running++;
      }
      try {
        return await task();
      } finally {
        release();
      }
    },
    stats: () => ({ running, queued: queue.length }),
  };
}
