import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { discoverWebSocketUrl, sameOriginWebSocketUrl } from '../js/protocol.js';

describe('where to connect', () => {
  const page = (href) => {
    const url = new URL(href);
    return { protocol: url.protocol, host: url.host, search: url.search };
  };

  test('same origin, the stage from the local stack', async () => {
    const found = await discoverWebSocketUrl(page('http://127.0.0.1:8080/'), async (path) =>
      path === 'devstack.json' ? { stage: 'live', websocketUrl: 'ws://127.0.0.1:8080/live' } : null);
    assert.deepEqual(found, { url: 'ws://127.0.0.1:8080/live', source: 'the local stack' });
  });

  test('?ws= overrides everything', async () => {
    const found = await discoverWebSocketUrl(
      page('http://127.0.0.1:8080/?ws=wss%3A%2F%2Fabc.execute-api.us-east-1.amazonaws.com%2Fprod'),
      async () => assert.fail('nothing fetched'),
    );
    assert.equal(found.url, 'wss://abc.execute-api.us-east-1.amazonaws.com/prod');
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
    assert.deepEqual(fallback, { url: 'ws://localhost:9000/live', source: 'the default' });
  });

  test('https pages use wss', () => {
    assert.equal(sameOriginWebSocketUrl({ protocol: 'https:', host: 'x.test' }, 'prod'), 'wss://x.test/prod');
  });
});
