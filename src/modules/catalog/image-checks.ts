/** Magic bytes of the accepted image types: the Content-Type a client uploads with proves nothing. */

export const IMAGE_CONTENT_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/avif'] as const;
export type ImageContentType = (typeof IMAGE_CONTENT_TYPES)[number];

export const IMAGE_PREFIX_BYTES = 16;

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** true when `prefix` starts like a file of `contentType`. */
export function looksLikeImage(contentType: string, prefix: Buffer): boolean {
  switch (contentType) {
    case 'image/jpeg':
      return prefix.length >= 3 && prefix[0] === 0xff && prefix[1] === 0xd8 && prefix[2] === 0xff;
    case 'image/png':
      return prefix.subarray(0, 8).equals(PNG);
    case 'image/webp':
      // RIFF container: 'RIFF', uint32 size, 'WEBP'.
      return prefix.toString('latin1', 0, 4) === 'RIFF' && prefix.toString('latin1', 8, 12) === 'WEBP';
    case 'image/avif': {
      // ISO-BMFF: box size, 'ftyp', major brand avif (still) or avis (sequence).
      const brand = prefix.toString('latin1', 8, 12);
      return prefix.toString('latin1', 4, 8) === 'ftyp' && (brand === 'avif' || brand === 'avis');
    }
    default:
      return false;
  }
}
