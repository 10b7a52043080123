// Where the page connects: the WebSocket URL it prefills, from the page's own address, the local
// gateway's /devstack.json or a hosted config.json. The protocol itself (frames, limits, error
// wording, the reconnect schedule) is the SDK's: clients/js/src/protocol.js, served as /sdk/.

export const DEFAULT_STAGE = 'live'; // infra/variables.tf stage_name

/** ws(s)://<page host>/<stage>: the local gateway serves the page and the socket on one port. */
export function sameOriginWebSocketUrl(location, stage = DEFAULT_STAGE) {
  const secure = location.protocol === 'https:';
  const host = location.host || '127.0.0.1:8080';
  return `${secure ? 'wss' : 'ws'}://${host}/${encodeURIComponent(stage)}`;
}

/**
 * The WebSocket URL to prefill and `home`, the one WebSocket origin this page's configuration
 * names: the local gateway's /devstack.json (its own origin, with its stage), else a
 * `config.json` next to the page ({"websocketUrl"} or {"stage"}), else the page's own origin
 * with the default stage. A token is only ever sent to `home` (tokenDestinationProblem).
 *
 * `?ws=` in the page URL may choose another path on `home` (a stage), or any server when the
 * page has no configuration at all (web/ served by hand, where nothing signs in); a `?ws=` naming
 * another server than a configured page's is ignored (`ignored` says so), because a link to
 * the real page with `?ws=wss://elsewhere/` would otherwise send a signed-in user's token there.
 * `fetchJson(path)` resolves to the parsed body or null.
 */
export async function discoverWebSocketUrl(location, fetchJson) {
  const configured = await configuredWebSocketUrl(location, fetchJson);
  const requested = new URLSearchParams(location.search || '').get('ws');
  if (!requested) return configured;
  const origin = webSocketOrigin(requested);
  if (origin === null) {
    return { ...configured, ignored: 'the ?ws= parameter is not a ws:// or wss:// URL' };
  }
  if (configured.source === 'the default') {
    return { url: requested, source: 'the ?ws= parameter', home: origin };
  }
  if (origin !== configured.home) {
    return {
      ...configured,
      ignored: `the ?ws= parameter names ${origin}, not this page's server ${configured.home}`,
    };
  }
  return { url: requested, source: 'the ?ws= parameter', home: configured.home };
}

async function configuredWebSocketUrl(location, fetchJson) {
  const found = (url, source) => ({ url, source, home: webSocketOrigin(url) });
  const devstack = await safely(fetchJson, 'devstack.json');
  if (devstack && typeof devstack.stage === 'string' && devstack.stage) {
    return found(sameOriginWebSocketUrl(location, devstack.stage), 'the local stack');
  }
  const config = await safely(fetchJson, 'config.json');
  if (config && typeof config.websocketUrl === 'string' && webSocketOrigin(config.websocketUrl)) {
    return found(config.websocketUrl, 'config.json');
  }
  if (config && typeof config.stage === 'string' && config.stage) {
    return found(sameOriginWebSocketUrl(location, config.stage), 'config.json');
  }
  return found(sameOriginWebSocketUrl(location), 'the default');
}

/** `ws(s)://host[:port]` of a WebSocket URL, or null when it is not one. */
export function webSocketOrigin(url) {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') return null;
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return null;
  }
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Why a token may not go to `wsUrl` (a sentence), or null: only to `home`, the server this page
 * is configured for, and never in clear (`ws://`) except to this machine (the local stack).
 */
export function tokenDestinationProblem(wsUrl, home) {
  const origin = webSocketOrigin(wsUrl);
  if (origin === null) return null; // not a WebSocket URL: webSocketUrlProblem says so
  if (origin !== home) {
    return `This page signs in only to ${home}: your token is never sent to ${origin}.`;
  }
  const { protocol, hostname } = new URL(wsUrl);
  if (protocol === 'ws:' && !LOOPBACK_HOSTS.has(hostname)) {
    return 'A token is never sent over ws:// (unencrypted) to another machine: use wss://.';
  }
  return null;
}

async function safely(fetchJson, path) {
  try {
    return await fetchJson(path);
  } catch {
    return null;
  }
}
