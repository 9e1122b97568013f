import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeEcb, renderEcbXml, startFakeEcb } from '../../../test/fakes/ecb-server.ts';
import { createEcbProvider } from './providers/ecb.provider.ts';
import { parseEcbXml } from './providers/ecb-xml.ts';
import { ExchangeRateProviderError } from './providers/exchange-rate-provider.port.ts';

const DAY_1 = { asOf: '2024-05-02', rates: { USD: '1.0712', JPY: '166.26', KRW: '1470.83', GBP: '0.85690' } };
const DAY_2 = { asOf: '2024-05-03', rates: { USD: '1.0736', JPY: '164.11', KRW: '1462.11', GBP: '0.85620' } };
const DAY_3 = { asOf: '2024-05-06', rates: { USD: '1.0769', JPY: '165.48', KRW: '1463.10', GBP: '0.85730' } };

/** The real daily file as the ECB serves it (its exact layout, trimmed to three currencies). */
const REAL_DAILY = `<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
	<gesmes:subject>Reference rates</gesmes:subject>
	<gesmes:Sender>
		<gesmes:name>European Central Bank</gesmes:name>
	</gesmes:Sender>
	<Cube>
		<Cube time='2024-11-20'>
			<Cube currency='USD' rate='1.0562'/>
			<Cube currency='JPY' rate='163.67'/>
			<Cube currency='KRW' rate='1472.51'/>
		</Cube>
	</Cube>
</gesmes:Envelope>`;

describe('ECB reference rates', () => {
  let ecb: FakeEcb;
  beforeAll(async () => {
    ecb = await startFakeEcb([DAY_1, DAY_2, DAY_3]);
  });
  afterAll(() => ecb?.close());

  it('reads the daily file: one EUR-based day, rates exactly as published', async () => {
    const sets = await createEcbProvider({ url: ecb.dailyUrl }).fetchRates();
    expect(sets).toEqual([{ base: 'EUR', ...DAY_3 }]);
    expect(ecb.requests.at(-1)).toBe('/stats/eurofxref/eurofxref-daily.xml');
    expect(parseEcbXml(REAL_DAILY)).toEqual([
      { base: 'EUR', asOf: '2024-11-20', rates: { USD: '1.0562', JPY: '163.67', KRW: '1472.51' } },
    ]);
  });

  it('reads the 90-day history: every day, oldest first', async () => {
    const sets = await createEcbProvider({ url: ecb.historyUrl }).fetchRates();
    expect(sets.map((set) => set.asOf)).toEqual(['2024-05-02', '2024-05-03', '2024-05-06']);
    expect(sets[1]).toEqual({ base: 'EUR', ...DAY_2 });
  });

  it('accepts double quotes, comments and spacing that XML allows', () => {
    const xml = `<?xml version="1.0"?>
<!-- mirrored copy -->
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01">
  <Cube >
    <Cube time="2024-05-02"><Cube rate = "1.0712" currency="USD" /></Cube>
  </Cube>
</gesmes:Envelope>
`;
    expect(parseEcbXml(xml)).toEqual([{ base: 'EUR', asOf: '2024-05-02', rates: { USD: '1.0712' } }]);
  });

  it.each([
    ['an empty body', ''],
    ['an HTML error page', '<html><body><h1>Service unavailable</h1></body></html>'],
    ['a truncated file', renderEcbXml([DAY_1, DAY_2]).slice(0, 420)],
    ['a tag closed by the wrong name', REAL_DAILY.replace('</Cube>\n\t</Cube>', '</Cube>\n\t</Cubes>')],
    ['a decimal comma', REAL_DAILY.replace("rate='1.0562'", "rate='1,0562'")],
    ['a negative rate', REAL_DAILY.replace("rate='1.0562'", "rate='-1.0562'")],
    ['a zero rate', REAL_DAILY.replace("rate='1.0562'", "rate='0.0000'")],
    ['an exponent', REAL_DAILY.replace("rate='1.0562'", "rate='1e3'")],
    ['a lower-case code', REAL_DAILY.replace("currency='USD'", "currency='usd'")],
    ['an impossible date', REAL_DAILY.replace('2024-11-20', '2024-02-30')],
    ['a currency twice on a day', REAL_DAILY.replace("currency='JPY'", "currency='USD'")],
    ['a rate missing its currency', REAL_DAILY.replace("currency='JPY' ", '')],
    ['a day with no rates', renderEcbXml([{ asOf: '2024-05-02', rates: {} }])],
    ['no day at all', renderEcbXml([])],
    ['a rate outside any day', REAL_DAILY.replace("<Cube time='2024-11-20'>", '<Cube>')],
    ['a DOCTYPE', REAL_DAILY.replace('<gesmes:Envelope', '<!DOCTYPE x [<!ENTITY a "b">]>\n<gesmes:Envelope')],
    ['another root element', REAL_DAILY.replaceAll('gesmes:Envelope', 'feed')],
    ['text after the root', `${REAL_DAILY}\ntrailing`],
    ['an unquoted attribute', REAL_DAILY.replace("rate='1.0562'", 'rate=1.0562')],
  ])('refuses %s as a whole', (_what, body) => {
    expect(() => parseEcbXml(body)).toThrow(ExchangeRateProviderError);
    expect(() => parseEcbXml(body)).toThrow(/ECB rates are malformed/);
  });

  it('fails on an HTTP error, a malformed body, a timeout and a closed port', async () => {
    const provider = createEcbProvider({ url: ecb.historyUrl, timeoutMs: 300 });
    ecb.answerNext({ status: 500, body: '<html>Internal error</html>', contentType: 'text/html' });
    await expect(provider.fetchRates()).rejects.toThrow(/HTTP 500/);

    // Cut off after the last day, as a dropped connection would: every day in it is well formed.
    const truncated = renderEcbXml([DAY_1, DAY_2]).replace(/\t<\/Cube>\n<\/gesmes:Envelope>$/, '');
    ecb.answerNext({ status: 200, body: truncated });
    await expect(provider.fetchRates()).rejects.toThrow(/<Cube> is never closed/);

    ecb.hangNext();
    await expect(provider.fetchRates()).rejects.toThrow(/no answer within 300 ms/);

    const closed = await startFakeEcb();
    const url = closed.historyUrl;
    await closed.close();
    await expect(createEcbProvider({ url }).fetchRates()).rejects.toThrow(ExchangeRateProviderError);

    // And the fake is back to normal for the next caller.
    expect(await provider.fetchRates()).toHaveLength(3);
  });
});
