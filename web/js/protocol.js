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
 * The WebSocket URL to prefill: `?ws=` in the page URL wins (a deployed stack); then the local
 * gateway's /devstack.json (its stage); then a `config.json` next to the page ({"websocketUrl"}
 * or {"stage"}); else the same origin with the default stage. `fetchJson(path)` resolves to the
 * parsed body or null.
 */
export async function discoverWebSocketUrl(location, fetchJson) {
  const override = new URLSearchParams(location.search || '').get('ws');
  if (override) return { url: override, source: 'the ?ws= parameter' };
  const devstack = await safely(fetchJson, 'devstack.json');
  if (devstack && typeof devstack.stage === 'string' && devstack.stage) {
    return { url: sameOriginWebSocketUrl(location, devstack.stage), source: 'the local stack' };
  }
  const config = await safely(fetchJson, 'config.json');
  if (config && typeof config.websocketUrl === 'string' && config.websocketUrl) {
    return { url: config.websocketUrl, source: 'config.json' };
  }
  if (config && typeof config.stage === 'string' && config.stage) {
    return { url: sameOriginWebSocketUrl(location, config.stage), source: 'config.json' };
  }
  return { url: sameOriginWebSocketUrl(location), source: 'the default' };
}

async function safely(fetchJson, path) {
  try {
    return await fetchJson(path);
  } catch {
    return null;
  }
}
