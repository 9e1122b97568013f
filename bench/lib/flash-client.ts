/**
 * The flash-sale benchmark's HTTP client (bench/flash-sale.ts). By default it runs in a process of
 * its own, forked with the same node and tsx loader and driven over IPC, so that issuing 2,000
 * requests and reading 2,000 answers costs the server's process and event loop nothing; it still
 * shares the machine's cores. `createFlashClient` is the same client in the caller's process
 * (`--in-process-client`, the old mode).
 *
 * Times are `performance.timeOrigin + performance.now()` (ms since the epoch, sub-millisecond): one
 * time base for both processes, so the server's arrival times line up with the client's issue times.
 *
 * IPC: the parent sends `{ id, op, ... }` and gets `{ id, result }` or `{ id, error }` back.
 *   preconnect { count }            `count` GET /healthz at once: opens the sockets of the burst
 *   run { requests, concurrency? }  all at once (or `concurrency` at a time), answers when all end
 *   stage { requests }              keeps a burst ready (built, nothing sent)
 *   go {}                           issues the staged burst in one synchronous loop
 *   close {}                        closes the sockets and exits
 */

import { fork } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const now = () => performance.timeOrigin + performance.now();

export interface RequestSpec {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly authorization?: string;
  readonly body?: string;
  /** Sent as `x-bench-seq`: the server side files what it saw of the request under this number. */
  readonly seq?: number;
}

export interface Outcome {
  readonly seq: number | undefined;
  readonly status: number;
  /** `error.code` of an error answer, `timeout` or `socket:<message>` without one. */
  readonly code: string | null;
  readonly orderId: string | null;
  readonly issuedAt: number;
  readonly endedAt: number;
}

export interface RunResult {
  readonly outcomes: Outcome[];
  /** When the first request was issued. */
  readonly started: number;
  /** How long the issuing loop took (requests beyond `connections` wait in the agent); in turns: all of it. */
  readonly issuedMs: number;
  /** CPU time of the client's process from the first issue to the last answer. */
  readonly clientCpuMs: number;
}

export interface FlashClientOptions {
  readonly port: number;
  readonly connections: number;
  readonly timeoutMs: number;
}

/** What the benchmark drives, in this process or in the forked one. */
export interface FlashClient {
  preconnect(count: number): Promise<{ notOk: number; openSockets: number }>;
  run(requests: readonly RequestSpec[], concurrency?: number): Promise<RunResult>;
  stage(requests: readonly RequestSpec[]): Promise<void>;
  go(): Promise<RunResult>;
  close(): Promise<void>;
}

export function createFlashClient(options: FlashClientOptions): FlashClient {
  const agent = new http.Agent({
    keepAlive: true,
    maxSockets: options.connections,
    maxFreeSockets: options.connections,
    scheduling: 'fifo',
  });
  let staged: readonly RequestSpec[] = [];

  function send(spec: RequestSpec): Promise<Outcome> {
    return new Promise((resolve) => {
      const issuedAt = now();
      const headers: Record<string, string> = {};
      if (spec.authorization) headers.authorization = spec.authorization;
      if (spec.body !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = String(Buffer.byteLength(spec.body));
      }
      if (spec.seq !== undefined) headers['x-bench-seq'] = String(spec.seq);
      let settled = false;
      const finish = (status: number, code: string | null, orderId: string | null) => {
        if (settled) return;
        settled = true;
        resolve({ seq: spec.seq, status, code, orderId, issuedAt, endedAt: now() });
      };
      const request = http.request(
        { host: '127.0.0.1', port: options.port, method: spec.method, path: spec.path, agent, headers },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', (error) => finish(response.statusCode ?? 0, `socket:${error.message}`, null));
          response.on('end', () => {
            const status = response.statusCode ?? 0;
            let code: string | null = null;
            let orderId: string | null = null;
            try {
              const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
                orderId?: string;
                error?: { code?: string };
              };
              code = body.error?.code ?? null;
              orderId = body.orderId ?? null;
            } catch {
              code = status >= 300 ? 'unreadable_body' : null;
            }
            finish(status, code, orderId);
          });
        },
      );
      request.setTimeout(options.timeoutMs, () => {
        finish(0, 'timeout', null);
        request.destroy();
      });
      request.on('error', (error) => finish(0, `socket:${error.message}`, null));
      request.end(spec.body);
    });
  }

  const cpuMsSince = (start: NodeJS.CpuUsage) => {
    const used = process.cpuUsage(start);
    return (used.user + used.system) / 1000;
  };

  async function allAtOnce(requests: readonly RequestSpec[]): Promise<RunResult> {
    const cpu = process.cpuUsage();
    const started = now();
    // One synchronous loop: every request is written (or queued in the agent) before any answer.
    const pending = requests.map(send);
    const issuedMs = now() - started;
    const outcomes = await Promise.all(pending);
    return { outcomes, started, issuedMs, clientCpuMs: cpuMsSince(cpu) };
  }

  async function inTurns(requests: readonly RequestSpec[], concurrency: number): Promise<RunResult> {
    const cpu = process.cpuUsage();
    const started = now();
    const outcomes: Outcome[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(concurrency, requests.length) }, async () => {
        while (next < requests.length) outcomes.push(await send(requests[next++] as RequestSpec));
      }),
    );
    return { outcomes, started, issuedMs: now() - started, clientCpuMs: cpuMsSince(cpu) };
  }

  return {
    async preconnect(count) {
      const outcomes = await Promise.all(
        Array.from({ length: count }, () => send({ method: 'GET', path: '/healthz' })),
      );
      return {
        notOk: outcomes.filter((outcome) => outcome.status !== 200).length,
        openSockets: Object.values(agent.freeSockets).reduce((sum, list) => sum + (list?.length ?? 0), 0),
      };
    },
    run(requests, concurrency) {
      return concurrency === undefined ? allAtOnce(requests) : inTurns(requests, concurrency);
    },
    async stage(requests) {
      staged = requests;
    },
    go() {
      const requests = staged;
      staged = [];
      return allAtOnce(requests);
    },
    async close() {
      agent.destroy();
    },
  };
}

// --- the forked process ----------------------------------------------------------------------------

type Command =
  | { op: 'init'; options: FlashClientOptions }
  | { op: 'preconnect'; count: number }
  | { op: 'run'; requests: readonly RequestSpec[]; concurrency?: number }
  | { op: 'stage'; requests: readonly RequestSpec[] }
  | { op: 'go' }
  | { op: 'close' };

type Reply = { id: number; result?: unknown; error?: string };

/** Starts the client in a process of its own (this file, same node and loader) and drives it. */
export async function forkFlashClient(options: FlashClientOptions): Promise<FlashClient & { pid: number }> {
  const child = fork(fileURLToPath(import.meta.url), [], {
    execArgv: process.execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      for (const call of waiting.values()) call.reject(new Error(`flash client exited (${code ?? signal})`));
      waiting.clear();
      resolve();
    });
  });
  child.on('message', (reply: Reply) => {
    const call = waiting.get(reply.id);
    if (!call) return;
    waiting.delete(reply.id);
    if (reply.error !== undefined) call.reject(new Error(`flash client: ${reply.error}`));
    else call.resolve(reply.result);
  });
  const call = <T>(command: Command) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ ...command, id });
    });
  await call<null>({ op: 'init', options });
  if (child.pid === undefined) throw new Error('flash client did not start');
  return {
    pid: child.pid,
    preconnect: (count) => call({ op: 'preconnect', count }),
    run: (requests, concurrency) =>
      call({ op: 'run', requests, ...(concurrency === undefined ? {} : { concurrency }) }),
    stage: (requests) => call({ op: 'stage', requests }),
    go: () => call({ op: 'go' }),
    async close() {
      if (child.exitCode === null && child.connected) await call({ op: 'close' }).catch(() => undefined);
      await exited;
    },
  };
}

function serve(): void {
  let client: FlashClient | undefined;
  const reply = (message: unknown) => process.send?.(message);
  process.on('message', async (command: Command & { id: number }) => {
    try {
      if (command.op === 'init') {
        client = createFlashClient(command.options);
        reply({ id: command.id, result: null });
        return;
      }
      if (!client) throw new Error('init first');
      const result =
        command.op === 'preconnect'
          ? await client.preconnect(command.count)
          : command.op === 'run'
            ? await client.run(command.requests, command.concurrency)
            : command.op === 'stage'
              ? await client.stage(command.requests)
              : command.op === 'go'
                ? await client.go()
                : await client.close();
      reply({ id: command.id, result: result ?? null });
      if (command.op === 'close') process.disconnect();
    } catch (error) {
      reply({ id: command.id, error: error instanceof Error ? error.message : String(error) });
    }
  });
  // The parent died or closed the channel: nothing left to do.
  process.on('disconnect', () => process.exit(0));
}

if (process.send && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) serve();
