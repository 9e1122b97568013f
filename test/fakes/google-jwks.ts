import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, exportSPKI, generateKeyPair, type JWTPayload, SignJWT } from 'jose';

export const GOOGLE_ISSUER = 'https://accounts.google.com';

export interface MintOptions {
  /** Signing key; Google's (the one in the JWKS) by default. Pass `attackerKey` for a forgery. */
  readonly key?: CryptoKey;
  /** Header `kid`; the JWKS key's id by default. */
  readonly kid?: string;
  /**
   * `RS256` (default); `none` for an unsigned token; `HS256` for the algorithm-confusion attack
   * (an HMAC keyed with Google's public key, which a verifier that trusts the header would accept).
   */
  readonly alg?: 'RS256' | 'none' | 'HS256';
}

export interface FakeGoogle {
  /** For `GOOGLE_JWKS_URL`; stands in for `https://www.googleapis.com/oauth2/v3/certs`. */
  readonly jwksUrl: string;
  readonly clientId: string;
  readonly kid: string;
  /** A key pair Google never published: tokens signed with it must be refused. */
  readonly attackerKey: CryptoKey;
  /** How many times the JWKS was fetched. */
  readonly jwksRequests: () => number;
  /**
   * An ID token shaped like Google's (iss, azp, aud, sub, email, email_verified, name, nonce, iat,
   * exp in an hour). Overrides replace claims; an override of `undefined` removes the claim.
   */
  mintIdToken(overrides?: Record<string, unknown>, options?: MintOptions): Promise<string>;
  close(): Promise<void>;
}

/** Google's OpenID JWKS endpoint on loopback, with a signer for ID tokens it would accept. */
export async function startFakeGoogle(options: { clientId?: string } = {}): Promise<FakeGoogle> {
  const clientId = options.clientId ?? 'client-123';
  const kid = randomBytes(20).toString('hex');
  const google = await generateKeyPair('RS256');
  const attacker = await generateKeyPair('RS256');
  const publicJwk = { ...(await exportJWK(google.publicKey)), kid, alg: 'RS256', use: 'sig' };
  const publicPem = await exportSPKI(google.publicKey);
  let fetched = 0;

  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://fake').pathname;
    if (request.method !== 'GET' || path !== '/oauth2/v3/certs') {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('Not Found');
      return;
    }
    fetched += 1;
    response.writeHead(200, {
      'content-type': 'application/json; charset=UTF-8',
      'cache-control': 'public, max-age=21600, must-revalidate, no-transform',
    });
    response.end(JSON.stringify({ keys: [publicJwk] }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  async function mintIdToken(
    overrides: Record<string, unknown> = {},
    mint: MintOptions = {},
  ): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const sub = String(100_000_000_000_000_000_000n + BigInt(randomBytes(6).readUIntBE(0, 6)));
    const claims: Record<string, unknown> = {
      iss: GOOGLE_ISSUER,
      azp: clientId,
      aud: clientId,
      sub,
      email: `g-${sub.slice(-8)}@gmail.test`,
      email_verified: true,
      at_hash: randomBytes(16).toString('base64url'),
      nonce: randomUUID(),
      name: 'Test Person',
      given_name: 'Test',
      family_name: 'Person',
      iat: now,
      exp: now + 3600,
      ...overrides,
    };
    for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
    const payload = claims as JWTPayload;
    const alg = mint.alg ?? 'RS256';
    const headerKid = mint.kid ?? kid;
    if (alg === 'none') {
      const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      return `${encode({ alg: 'none', typ: 'JWT', kid: headerKid })}.${encode(payload)}.`;
    }
    if (alg === 'HS256') {
      return new SignJWT(payload)
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: headerKid })
        .sign(new TextEncoder().encode(publicPem));
    }
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: headerKid })
      .sign(mint.key ?? google.privateKey);
  }

  return {
    jwksUrl: `http://127.0.0.1:${port}/oauth2/v3/certs`,
    clientId,
    kid,
    attackerKey: attacker.privateKey,
    jwksRequests: () => fetched,
    mintIdToken,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
