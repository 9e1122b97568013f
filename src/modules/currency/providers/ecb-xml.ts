import {
  CURRENCY_CODE,
  ExchangeRateProviderError,
  isIsoDate,
  isPositiveRate,
  type RateSet,
} from './exchange-rate-provider.port.ts';

const NAME = '[A-Za-z_][\\w.:-]*';
const OPENING_TAG = new RegExp(`<(${NAME})((?:\\s+${NAME}\\s*=\\s*(?:"[^"<]*"|'[^'<]*'))*)\\s*(/?)>`, 'y');
const CLOSING_TAG = new RegExp(`</(${NAME})\\s*>`, 'y');
const ATTRIBUTE = new RegExp(`\\s+(${NAME})\\s*=\\s*(?:"([^"<]*)"|'([^'<]*)')`, 'y');

type CubeLevel = 'outer' | 'day' | 'rate';

function localName(name: string): string {
  return name.slice(name.indexOf(':') + 1);
}

/**
 * Parses the ECB's euro foreign exchange reference rates (the gesmes/eurofxref format of
 * https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml and of the history files):
 *
 *   <gesmes:Envelope …><Cube><Cube time='2026-11-20'><Cube currency='USD' rate='1.0812'/>…</Cube></Cube></gesmes:Envelope>
 *
 * A small, strict walker instead of an XML dependency: tags must nest and close, the only other
 * markup allowed is the XML declaration and comments (no DOCTYPE, so no entity expansion), and
 * every day, currency code and rate is checked. Anything off is refused as a whole: half a set of
 * rates is worse than none, because a sync would store it.
 */
export function parseEcbXml(xml: string): RateSet[] {
  let position = 0;
  let rootClosed = false;
  /** Open elements, innermost last. */
  const stack: string[] = [];
  /** The levels of the open Cubes, innermost last. */
  const cubes: CubeLevel[] = [];
  const days = new Map<string, Record<string, string>>();
  let currentDay: Record<string, string> | null = null;
  let currentTime = '';

  function fail(message: string): never {
    throw new ExchangeRateProviderError(`ECB rates are malformed: ${message} (at character ${position})`);
  }

  function attributesOf(raw: string): Map<string, string> {
    const attributes = new Map<string, string>();
    ATTRIBUTE.lastIndex = 0;
    while (ATTRIBUTE.lastIndex < raw.length) {
      const match = ATTRIBUTE.exec(raw);
      if (!match) {
        if (raw.slice(ATTRIBUTE.lastIndex).trim() === '') break;
        fail('broken attribute');
      }
      const key = localName(match[1] ?? '');
      if (attributes.has(key)) fail(`attribute ${key} twice`);
      attributes.set(key, match[2] ?? match[3] ?? '');
    }
    return attributes;
  }

  /** An outer `<Cube>` holds days `<Cube time>`, each holding rates `<Cube currency rate/>`. */
  function openCube(attributes: Map<string, string>): void {
    const parent = cubes.at(-1);
    const time = attributes.get('time');
    const currency = attributes.get('currency');
    const rate = attributes.get('rate');
    if (time !== undefined) {
      if (parent !== 'outer') fail('a dated Cube outside the outer Cube');
      if (!isIsoDate(time)) fail(`time='${time}' is not a YYYY-MM-DD date`);
      if (days.has(time)) fail(`the day ${time} appears twice`);
      currentDay = {};
      currentTime = time;
      days.set(time, currentDay);
      cubes.push('day');
      return;
    }
    if (currency !== undefined || rate !== undefined) {
      if (parent !== 'day' || !currentDay) fail('a rate outside a dated Cube');
      if (currency === undefined || !CURRENCY_CODE.test(currency)) {
        fail(`currency='${currency ?? ''}' is not an ISO 4217 code`);
      }
      if (currency === 'EUR') fail('a EUR rate among euro reference rates');
      if (rate === undefined || !isPositiveRate(rate)) {
        fail(`rate='${rate ?? ''}' for ${currency} is not a positive decimal`);
      }
      if (currency in currentDay) fail(`${currency} appears twice on ${currentTime}`);
      currentDay[currency] = rate;
      cubes.push('rate');
      return;
    }
    if (parent !== undefined) fail('an undated Cube inside a Cube');
    cubes.push('outer');
  }

  function closeCube(): void {
    if (cubes.pop() !== 'day') return;
    if (currentDay && Object.keys(currentDay).length === 0) fail(`the day ${currentTime} has no rates`);
    currentDay = null;
  }

  function openElement(name: string, attributes: Map<string, string>): void {
    if (stack.length === 0) {
      if (rootClosed) fail('a second root element');
      if (localName(name) !== 'Envelope') fail(`the root element is <${name}>, not <gesmes:Envelope>`);
    }
    if (localName(name) === 'Cube') openCube(attributes);
    else if (cubes.length > 0) fail(`<${name}> inside a Cube`);
  }

  function closeElement(name: string): void {
    if (localName(name) === 'Cube') closeCube();
    if (stack.length === 0) rootClosed = true;
  }

  while (position < xml.length) {
    const next = xml.indexOf('<', position);
    const text = xml.slice(position, next === -1 ? xml.length : next);
    if (stack.length === 0 && text.trim() !== '') fail('text outside the root element');
    if (next === -1) break;
    position = next;

    if (xml.startsWith('<?', position)) {
      const end = xml.indexOf('?>', position);
      if (end === -1 || stack.length > 0 || rootClosed) fail('a misplaced or unterminated <? … ?>');
      position = end + 2;
    } else if (xml.startsWith('<!--', position)) {
      const end = xml.indexOf('-->', position + 4);
      if (end === -1) fail('an unterminated comment');
      position = end + 3;
    } else if (xml.startsWith('<!', position)) {
      fail('DOCTYPE and CDATA are not part of this format');
    } else if (xml.startsWith('</', position)) {
      CLOSING_TAG.lastIndex = position;
      const name = CLOSING_TAG.exec(xml)?.[1];
      if (name === undefined) fail('a broken closing tag');
      const open = stack.pop();
      if (open !== name) fail(`</${name}> does not close <${open ?? 'nothing'}>`);
      closeElement(name);
      position = CLOSING_TAG.lastIndex;
    } else {
      OPENING_TAG.lastIndex = position;
      const match = OPENING_TAG.exec(xml);
      const name = match?.[1];
      if (!match || name === undefined) fail('a broken tag');
      openElement(name, attributesOf(match[2] ?? ''));
      if (match[3] === '/') closeElement(name);
      else stack.push(name);
      position = OPENING_TAG.lastIndex;
    }
  }

  if (!rootClosed) {
    fail(stack.length > 0 ? `<${stack.at(-1)}> is never closed (truncated?)` : 'no root element');
  }
  if (days.size === 0) fail('no dated Cube');
  return [...days.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([asOf, rates]) => ({ base: 'EUR', asOf, rates }));
}
