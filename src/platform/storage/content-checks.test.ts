import { describe, expect, it } from 'vitest';
import { assertContentType, assertSize, contentDisposition, effectiveMaxBytes } from './content-checks.ts';
import { isValidKey } from './storage-key.ts';

describe('content checks', () => {
  it('accepts listed types and type/* wildcards, ignoring case and parameters', () => {
    expect(() => assertContentType('Model/GLTF-Binary', ['model/gltf-binary'])).not.toThrow();
    expect(() => assertContentType('image/png; charset=binary', ['image/*'])).not.toThrow();
    expect(() => assertContentType('text/html', ['image/*'])).toThrow(
      expect.objectContaining({ code: 'unsupported_media_type', status: 415 }),
    );
    expect(() => assertContentType(undefined, [])).toThrow(expect.objectContaining({ status: 415 }));
  });

  it('answers 413 above the ceiling and lets a caller only narrow the configured one', () => {
    expect(() => assertSize(10, 10)).not.toThrow();
    expect(() => assertSize(11, 10)).toThrow(
      expect.objectContaining({ code: 'payload_too_large', status: 413 }),
    );
    expect(effectiveMaxBytes(undefined, 100)).toBe(100);
    expect(effectiveMaxBytes(5000, 100)).toBe(100);
    expect(effectiveMaxBytes(7, 100)).toBe(7);
  });

  it('builds a Content-Disposition that cannot inject headers or paths', () => {
    const header = contentDisposition('../evil\r\nSet-Cookie: a=b".glb');
    expect(header).not.toMatch(/[\r\n]/);
    expect(header).toBe(
      `attachment; filename="..evilSet-Cookie: a=b.glb"; filename*=UTF-8''..evilSet-Cookie%3A%20a%3Db.glb`,
    );
  });

  it('keeps keys to a charset that cannot traverse', () => {
    expect(isValidKey('models/2024/abc-DEF_1.glb')).toBe(true);
    for (const bad of ['..', 'a/..', 'a/.b', 'a/', '/a', 'a%2F..', 'ä', 'x'.repeat(513)]) {
      expect(isValidKey(bad), bad).toBe(false);
    }
  });
});
