/** The config a host gets: the saved version with `[SRPC] listen` set to the host's port. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { configForHost } from '../../../../domain/releases/index.ts';

describe('config for a host', () => {
  test('given no [SRPC] section, one is added with the listen line', () => {
    assert.equal(configForHost('[LOG]\nLevel=INFO\n', 7963), '[LOG]\nLevel=INFO\n\n[SRPC]\nlisten=7963/tcp 7963/udp\n');
  });

  test('given an [SRPC] listen line, it is replaced; other keys stay where they were', () => {
    assert.equal(configForHost('[SRPC]\nlisten=1/tcp\nworkers=4\n[LOG]\nLevel=DEBUG\n', 8000), '[SRPC]\nlisten=8000/tcp 8000/udp\nworkers=4\n[LOG]\nLevel=DEBUG\n');
  });

  test('given an [SRPC] section without listen before another section, the line goes into it', () => {
    assert.equal(configForHost('[SRPC]\nworkers=4\n[LOG]\nLevel=DEBUG', 8000), '[SRPC]\nworkers=4\nlisten=8000/tcp 8000/udp\n[LOG]\nLevel=DEBUG\n');
  });

  test('given an empty config, it is the listen section alone', () => {
    assert.equal(configForHost('', 7963), '[SRPC]\nlisten=7963/tcp 7963/udp\n');
  });
});
