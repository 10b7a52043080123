import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  discoverWebSocketUrl,
  sameOriginWebSocketUrl,
  tokenDestinationProblem,
  webSocketOrigin,
} from '../js/protocol.js';

describe('where to connect', () => {
  const page = (href) => {
    const url = new URL(href);
    return { protocol: url.protocol, host: url.host, search: url.search };
  };

  test('same origin, the stage from the local stack', async () => {
    const found = await discoverWebSocketUrl(page('http://127.0.0.1:8080/'), async (path) =>
      path === 'devstack.json' ? { stage: 'live', websocketUrl: 'ws://127.0.0.1:8080/live' } : null);
    assert.deepEqual(found, {
      url: 'ws://127.0.0.1:8080/live', source: 'the local stack', home: 'ws://127.0.0.1:8080',
    });
  });

  test('?ws= names the server of a page that has no configuration (nothing signs in there)', async () => {
    const found = await discoverWebSocketUrl(
      page('http://127.0.0.1:8000/?ws=wss%3A%2F%2Fabc.execute-api.us-east-1.amazonaws.com%2Fprod'),
      async () => null,
    );
    assert.deepEqual(found, {
      url: 'wss://abc.execute-api.us-east-1.amazonaws.com/prod',
      source: 'the ?ws= parameter',
      home: 'wss://abc.execute-api.us-east-1.amazonaws.com',
    });
  });

  test("?ws= naming another server than a configured page's is ignored", async () => {
    const config = async (path) => (path === 'config.json' ? { websocketUrl: 'wss://api.example.com/prod' } : null);
    const found = await discoverWebSocketUrl(
      page('https://chat.example.com/?ws=wss%3A%2F%2Fattacker.example%2F'), config);
    assert.equal(found.url, 'wss://api.example.com/prod');
    assert.equal(found.home, 'wss://api.example.com');
    assert.match(found.ignored, /wss:\/\/attacker\.example, not this page's server wss:\/\/api\.example\.com/);
    const local = await discoverWebSocketUrl(
      page('http://127.0.0.1:8080/?ws=ws%3A%2F%2F127.0.0.1%3A9999%2Flive'),
      async (path) => (path === 'devstack.json' ? { stage: 'live' } : null),
    );
    assert.equal(local.url, 'ws://127.0.0.1:8080/live');
    assert.ok(local.ignored);
    const notWs = await discoverWebSocketUrl(page('https://chat.example.com/?ws=javascript%3Aalert(1)'), config);
    assert.equal(notWs.url, 'wss://api.example.com/prod');
    assert.ok(notWs.ignored);
  });

  test('?ws= may choose another stage of the configured server', async () => {
    const found = await discoverWebSocketUrl(
      page('https://chat.example.com/?ws=wss%3A%2F%2Fapi.example.com%2Fstaging'),
      async (path) => (path === 'config.json' ? { websocketUrl: 'wss://api.example.com/prod' } : null),
    );
    assert.deepEqual(found, {
      url: 'wss://api.example.com/staging', source: 'the ?ws= parameter', home: 'wss://api.example.com',
    });
  });

  test('config.json when there is no local stack, else the default stage', async () => {
    const viaConfig = await discoverWebSocketUrl(page('https://chat.example.com/'), async (path) =>
      path === 'config.json' ? { websocketUrl: 'wss://api.example.com/prod' } : null);
    assert.equal(viaConfig.url, 'wss://api.example.com/prod');
    const viaStage = await discoverWebSocketUrl(page('https://chat.example.com/'), async (path) =>
      path === 'config.json' ? { stage: 'prod' } : null);
    assert.equal(viaStage.url, 'wss://chat.example.com/prod');
    const fallback = await discoverWebSocketUrl(page('http://localhost:9000/'), async () => {
      throw new Error('offline');
    });
    assert.deepEqual(fallback, { url: 'ws://localhost:9000/live', source: 'the default', home: 'ws://localhost:9000' });
  });

  test('a token goes only to the configured server, and in clear only to this machine', () => {
    const home = 'wss://api.example.com';
    assert.equal(tokenDestinationProblem('wss://api.example.com/prod?x=1', home), null);
    assert.match(tokenDestinationProblem('wss://attacker.example/', home), /only to wss:\/\/api\.example\.com/);
    assert.match(tokenDestinationProblem('wss://api.example.com:444/prod', home), /never sent to/);
    assert.equal(tokenDestinationProblem('ws://127.0.0.1:8080/live', 'ws://127.0.0.1:8080'), null);
    assert.match(tokenDestinationProblem('ws://chat.example.com/live', 'ws://chat.example.com'), /never sent over ws:\/\//);
    assert.equal(webSocketOrigin('https://x.test/'), null);
    assert.equal(webSocketOrigin('wss://X.test:443/a?b'), 'wss://x.test');
  });

  test('https pages use wss', () => {
    assert.equal(sameOriginWebSocketUrl({ protocol: 'https:', host: 'x.test' }, 'prod'), 'wss://x.test/prod');
  });
});
