import { createHash } from 'node:crypto';
import type { AvatarGenerator, AvatarRequest } from './avatar-generator.port.ts';

const SIZE = 256;
const GRID = 5;
const CELL = 36;
const OFFSET = (SIZE - GRID * CELL) / 2;

/**
 * An identicon-style SVG drawn from SHA-256 of the request's seed: a mirrored 5×5 pattern, a palette
 * and a cell shape picked by the hash, and the user's initials on a badge. Nothing random and no
 * clock: the same request gives byte-identical output, so the offline flow is testable and stable.
 */
export function createLocalAvatarGenerator(): AvatarGenerator {
  return {
    kind: 'local',
    async generate(request) {
      return { bytes: Buffer.from(renderAvatarSvg(request), 'utf8'), contentType: 'image/svg+xml' };
    },
  };
}

export function renderAvatarSvg(request: Pick<AvatarRequest, 'seed' | 'displayName'>): string {
  const hash = createHash('sha256').update(request.seed).digest();
  const hue = ((hash[0]! << 8) | hash[1]!) % 360;
  const accentHue = (hue + 150 + (hash[2]! % 60)) % 360;
  // Hex, not hsl(): every SVG renderer (browsers, librsvg, image tools) reads it the same way.
  const background = hslToHex(hue, 0.55, 0.88);
  const foreground = hslToHex(accentHue, 0.5, 0.42);
  const shape = hash[3]! % 3;

  const cells: string[] = [];
  for (let row = 0; row < GRID; row++) {
    for (let column = 0; column < Math.ceil(GRID / 2); column++) {
      // One bit per cell of the left half and the middle column; the right half mirrors it.
      const bit = row * 3 + column;
      if (((hash[4 + (bit >> 3)]! >> (bit & 7)) & 1) === 0) continue;
      for (const x of new Set([column, GRID - 1 - column])) cells.push(cell(shape, x, row));
    }
  }
  const initials = escapeXml(initialsOf(request.displayName));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${SIZE}" height="${SIZE}" viewBox="0 0 ${SIZE} ${SIZE}">`,
    `<rect width="${SIZE}" height="${SIZE}" fill="${background}"/>`,
    `<g fill="${foreground}" fill-opacity="0.85">${cells.join('')}</g>`,
    `<circle cx="${SIZE / 2}" cy="${SIZE / 2}" r="46" fill="#ffffff" fill-opacity="0.92"/>`,
    `<text x="${SIZE / 2}" y="${SIZE / 2}" text-anchor="middle" dominant-baseline="central" ` +
      `font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="40" font-weight="600" ` +
      `fill="${foreground}">${initials}</text>`,
    '</svg>',
    '',
  ].join('\n');
}

function cell(shape: number, column: number, row: number): string {
  const x = OFFSET + column * CELL;
  const y = OFFSET + row * CELL;
  const half = CELL / 2;
  if (shape === 0) return `<rect x="${x + 2}" y="${y + 2}" width="${CELL - 4}" height="${CELL - 4}" rx="6"/>`;
  if (shape === 1) return `<circle cx="${x + half}" cy="${y + half}" r="${half - 2}"/>`;
  return `<path d="M${x + half} ${y + 1}L${x + CELL - 1} ${y + half}L${x + half} ${y + CELL - 1}L${x + 1} ${y + half}Z"/>`;
}

/** Up to two letters or digits: the first of the first and of the last word ("Ji-woo Kim" → "JK"). */
export function initialsOf(displayName: string): string {
  const words = displayName
    .split(/[\s@._-]+/u)
    .map((word) => Array.from(word.normalize('NFC')).find((char) => /[\p{L}\p{N}]/u.test(char)))
    .filter((first): first is string => first !== undefined);
  if (words.length === 0) return '?';
  const picked = words.length === 1 ? [words[0]!] : [words[0]!, words[words.length - 1]!];
  return picked.join('').toLocaleUpperCase('en');
}

/** CSS Color 4's hsl → sRGB (https://www.w3.org/TR/css-color-4/#hsl-to-rgb). */
function hslToHex(hue: number, saturation: number, lightness: number): string {
  const a = saturation * Math.min(lightness, 1 - lightness);
  const channel = (n: number) => {
    const k = (n + hue / 30) % 12;
    const value = lightness - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(value * 255)
      .toString(16)
      .padStart(2, '0');
  };
  return `#${channel(0)}${channel(8)}${channel(4)}`;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
