/**
 * Magic-byte checks for 3D/AR model uploads. A client chooses the Content-Type it uploads with, so
 * the type alone proves nothing: these look at the bytes themselves.
 */

export const MODEL_FORMATS = ['glb', 'usdz'] as const;
export type ModelFormat = (typeof MODEL_FORMATS)[number];

export const MODEL_CONTENT_TYPES: Record<ModelFormat, string> = {
  glb: 'model/gltf-binary',
  usdz: 'model/vnd.usdz+zip',
};

/** GLB header (12 bytes) plus the first chunk's header (8 bytes). */
const GLB_PREFIX = 20;
const GLB_MAGIC = 0x46546c67; // 'glTF' read as a little-endian uint32
const GLB_JSON_CHUNK = 0x4e4f534a; // 'JSON'
/** ZIP local file header: 30 fixed bytes, then the name (at most 64 KiB; real USDZ names are short). */
const ZIP_HEADER = 30;
const ZIP_NAME_MAX = 1024;

/** How many leading bytes `checkModel` needs. */
export const MODEL_PREFIX_BYTES: Record<ModelFormat, number> = {
  glb: GLB_PREFIX,
  usdz: ZIP_HEADER + ZIP_NAME_MAX,
};

/**
 * GLB (glTF 2.0 binary, https://registry.khronos.org/glTF/specs/2.0/glTF-2.0.html#binary-gltf-layout):
 * magic `glTF`, uint32 LE version 2, uint32 LE total length equal to the object's size, then the
 * JSON chunk first.
 */
function checkGlb(prefix: Buffer, size: number): string | null {
  if (prefix.length < GLB_PREFIX) return 'too short for a GLB header';
  if (prefix.readUInt32LE(0) !== GLB_MAGIC) return 'not a GLB file (no glTF magic)';
  if (prefix.readUInt32LE(4) !== 2) return 'only glTF 2.0 binaries are accepted';
  if (prefix.readUInt32LE(8) !== size) return 'the GLB header length does not match the file size';
  if (prefix.readUInt32LE(16) !== GLB_JSON_CHUNK) return 'the first GLB chunk is not JSON';
  return null;
}

/**
 * USDZ (https://openusd.org/release/spec_usdz.html): an uncompressed, unencrypted ZIP whose first
 * entry is the default layer (.usdc or .usda). AR Quick Look memory-maps entries, so a deflated
 * entry is refused here rather than failing on the device.
 */
function checkUsdz(prefix: Buffer): string | null {
  if (prefix.length < ZIP_HEADER) return 'too short for a ZIP header';
  if (prefix.readUInt32LE(0) !== 0x04034b50) return 'not a ZIP archive (no PK\\x03\\x04)';
  const flags = prefix.readUInt16LE(6);
  if (flags & 0x1) return 'encrypted entries are not allowed';
  if (prefix.readUInt16LE(8) !== 0) return 'the first entry must be stored uncompressed';
  const nameLength = prefix.readUInt16LE(26);
  if (nameLength === 0 || ZIP_HEADER + nameLength > prefix.length)
    return 'the first entry name is unreadable';
  const name = prefix
    .subarray(ZIP_HEADER, ZIP_HEADER + nameLength)
    .toString('latin1')
    .toLowerCase();
  if (!name.endsWith('.usdc') && !name.endsWith('.usda'))
    return 'the first entry must be a .usdc or .usda file';
  return null;
}

/** null when the bytes look like a valid model of `format`, else why not. */
export function checkModel(format: ModelFormat, prefix: Buffer, size: number): string | null {
  return format === 'glb' ? checkGlb(prefix, size) : checkUsdz(prefix);
}
