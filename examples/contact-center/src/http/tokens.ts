import { SignJWT } from 'jose';
import type { Scope } from './auth.js';

/**
 * Issues an HS256 token the way an OAuth client-credentials grant would; used by the demo, the tests
 * and the README's curl calls. Production tokens come from your identity provider.
 */
export async function issueToken(
  secret: string,
  scopes: Scope[],
  options: { subject?: string; expiresIn?: string; issuer?: string; audience?: string } = {},
): Promise<string> {
  let jwt = new SignJWT({ scope: scopes.join(' ') })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(options.subject ?? 'genesys-integration')
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '1h');
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
