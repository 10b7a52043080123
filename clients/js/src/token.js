// Tokens: who a token says you are (its `sub` is your user id, the id others invite you by), read
// without checking the signature (the server's authorizer checks it), and the connect URL with
// `?token=`, which is where the $connect authorizer reads it.

function base64UrlDecode(part) {
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
  const binary = atob(b64);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/**
 * A JWT's claims, read without checking the signature (the server's authorizer checks it; the
 * page only wants the user's id and name to show), or null for anything not shaped like one.
 */
export function tokenClaims(token) {
  if (typeof token !== 'string') return null;
  const parts = token.trim().split('.');
  if (parts.length !== 3 || !parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p) || p === parts[2])) return null;
  try {
    const claims = JSON.parse(base64UrlDecode(parts[1]));
    return claims && typeof claims === 'object' && !Array.isArray(claims) ? claims : null;
  } catch {
    return null;
  }
}

/** Why a pasted token cannot be used (not a JWT, expired), or null. */
export function tokenProblem(token, nowMs = Date.now()) {
  if (typeof token !== 'string' || token.trim() === '') return 'Paste a token, or sign in.';
  const claims = tokenClaims(token);
  if (claims === null) return 'That is not a token (expected three dot-separated parts, a JWT).';
  if (typeof claims.sub !== 'string' || claims.sub === '') return 'That token names no user (no "sub").';
  if (typeof claims.exp === 'number' && claims.exp * 1000 <= nowMs) return 'That token has expired; sign in again.';
  return null;
}

/** {userId, name, expiresAt} of a token: the user id others invite, the name the server shows. */
export function tokenUser(token) {
  const claims = tokenClaims(token) ?? {};
  const name = [claims['cognito:username'], claims.preferred_username, claims.name, claims.sub].find(
    (v) => typeof v === 'string' && v !== '',
  );
  return {
    userId: typeof claims.sub === 'string' ? claims.sub : null,
    name: name ?? null,
    expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : null,
  };
}

/** The WebSocket URL with `?token=` (replacing one already there); the authorizer reads it. */
export function withToken(wsUrl, token) {
  const url = new URL(wsUrl);
  if (token) url.searchParams.set('token', token.trim());
  else url.searchParams.delete('token');
  return url.toString();
}

/** The WebSocket URL without its token, to show (a token in the address is a secret). */
export function withoutToken(wsUrl) {
  try {
    return withToken(wsUrl, null);
  } catch {
    return wsUrl;
  }
}
