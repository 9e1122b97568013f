import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK } from 'jose';

export interface SigningKeys {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** JWK thumbprint of the public key, sent as `kid`. */
  readonly kid: string;
}

function readOrCreatePem(dataDir: string): string {
  const file = path.join(dataDir, 'jwt-ed25519.pem');
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    fs.mkdirSync(dataDir, { recursive: true });
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    fs.writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
    return pem;
  }
}

/**
 * The Ed25519 key that signs access tokens: JWT_PRIVATE_KEY, or one generated once into DATA_DIR
 * (a single embedded server; production must configure a shared key).
 */
export async function loadSigningKeys(
  configuredPem: string | undefined,
  dataDir: string,
): Promise<SigningKeys> {
  const privateKey = createPrivateKey(configuredPem ?? readOrCreatePem(dataDir));
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('JWT_PRIVATE_KEY must be an Ed25519 key');
  const publicKey = createPublicKey(privateKey);
  const kid = await calculateJwkThumbprint(await exportJWK(publicKey));
  return { privateKey, publicKey, kid };
}
