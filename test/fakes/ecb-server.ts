import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeEcbDay {
  /** YYYY-MM-DD */
  readonly asOf: string;
  /** currency → rate, as the ECB writes them ("1.0812", "161.33"). */
  readonly rates: Readonly<Record<string, string>>;
}

export interface FakeEcb {
  /** Stands in for https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml (the newest day). */
  readonly dailyUrl: string;
  /** Stands in for …/eurofxref-hist-90d.xml (every day, newest first). */
  readonly historyUrl: string;
  /** Paths requested, in order. */
  readonly requests: string[];
  /** The days both files are made from (replaces the previous ones). */
  setDays(days: readonly FakeEcbDay[]): void;
  /** The next `count` requests get this status and body instead (a broken file, an outage). */
  answerNext(answer: { status: number; body: string; contentType?: string }, count?: number): void;
  /** The next `count` requests are accepted but never answered (for timeouts). */
  hangNext(count?: number): void;
  close(): Promise<void>;
}

const DAILY_PATH = '/stats/eurofxref/eurofxref-daily.xml';
const HISTORY_PATH = '/stats/eurofxref/eurofxref-hist-90d.xml';

/**
 * The ECB's reference-rate files, byte for byte in their format: gesmes envelope, a tab-indented
 * Cube tree, single-quoted attributes, days newest first.
 */
export function renderEcbXml(days: readonly FakeEcbDay[]): string {
  const newestFirst = [...days].sort((a, b) => (a.asOf < b.asOf ? 1 : a.asOf > b.asOf ? -1 : 0));
  const cubes = newestFirst
    .map(
      (day) =>
        `\t\t<Cube time='${day.asOf}'>\n${Object.entries(day.rates)
          .map(([currency, rate]) => `\t\t\t<Cube currency='${currency}' rate='${rate}'/>`)
          .join('\n')}\n\t\t</Cube>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
\t<gesmes:subject>Reference rates</gesmes:subject>
\t<gesmes:Sender>
\t\t<gesmes:name>European Central Bank</gesmes:name>
\t</gesmes:Sender>
\t<Cube>
${cubes}
\t</Cube>
</gesmes:Envelope>`;
}

/** The ECB's static rate files on loopback, with switches for outages and broken files. */
export async function startFakeEcb(initialDays: readonly FakeEcbDay[] = []): Promise<FakeEcb> {
  let days = [...initialDays];
  const requests: string[] = [];
  const overrides: Array<{ status: number; body: string; contentType: string } | 'hang'> = [];
  const hanging = new Set<ServerResponse>();

  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://fake').pathname;
    requests.push(path);
    const override = overrides.shift();
    if (override === 'hang') {
      hanging.add(response);
      return;
    }
    if (override) {
      response.writeHead(override.status, { 'content-type': override.contentType });
      response.end(override.body);
      return;
    }
    if (request.method !== 'GET' || (path !== DAILY_PATH && path !== HISTORY_PATH)) {
      response.writeHead(404, { 'content-type': 'text/html' });
      response.end('<html><body>Not found</body></html>');
      return;
    }
    const newest = [...days].sort((a, b) => (a.asOf < b.asOf ? 1 : -1))[0];
    const served = path === DAILY_PATH ? (newest ? [newest] : []) : days;
    response.writeHead(200, { 'content-type': 'text/xml' });
    response.end(renderEcbXml(served));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  return {
    dailyUrl: `${origin}${DAILY_PATH}`,
    historyUrl: `${origin}${HISTORY_PATH}`,
    requests,
    setDays(next) {
      days = [...next];
    },
    answerNext({ status, body, contentType = 'text/xml' }, count = 1) {
      for (let i = 0; i < count; i++) overrides.push({ status, body, contentType });
    },
    hangNext(count = 1) {
      for (let i = 0; i < count; i++) overrides.push('hang');
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const response of hanging) response.destroy();
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
