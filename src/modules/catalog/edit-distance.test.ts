import { describe, expect, it } from 'vitest';
import { editDistanceWithin } from './edit-distance.ts';

describe('editDistanceWithin', () => {
  it('counts substitutions, insertions, deletions and adjacent transpositions as one edit each', () => {
    expect(editDistanceWithin('lonely', 'lonely', 2)).toBe(0);
    expect(editDistanceWithin('lonley', 'lonely', 2)).toBe(1);
    expect(editDistanceWithin('lonly', 'lonely', 2)).toBe(1);
    expect(editDistanceWithin('lonelly', 'lonely', 2)).toBe(1);
    expect(editDistanceWithin('lomely', 'lonely', 2)).toBe(1);
    expect(editDistanceWithin('olnley', 'lonely', 2)).toBe(2);
    expect(editDistanceWithin('', 'abc', 5)).toBe(3);
  });

  it('stops at max + 1', () => {
    expect(editDistanceWithin('keyboard', 'blender', 2)).toBe(3);
    expect(editDistanceWithin('a', 'abcdef', 2)).toBe(3);
  });

  it('works by code point (Hangul jamo, astral characters)', () => {
    const a = '이어폰'.normalize('NFKD');
    const b = '이아폰'.normalize('NFKD');
    expect(editDistanceWithin(a, b, 2)).toBe(1);
    expect(editDistanceWithin('😀ab', '😀ba', 1)).toBe(1);
  });
});
