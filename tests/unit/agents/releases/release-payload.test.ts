/**
 * What a release command may ask for (apps/agent/releases/release-payload.ts): given a payload
 * and the paths and digests its signature binds, when the agent judges it, then only a
 * First.Second service whose install folder and every file digest are bound is taken.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { missingFileProblem, releaseCommandProblem, serviceName } from '../../../../apps/agent/releases/release-payload.ts';
import { Blobs, payload, removeBase } from './fixtures.ts';

after(removeBase);

const blobs = new Blobs();
const artifact = blobs.file('build');
const config = blobs.file('[SRPC]\n');
const lib = blobs.file('lib', 'libx.so');
const complete = payload({ service: 'Flight.mod_flight', artifact, config, libraries: [lib] });
const bound = { paths: ['msec/Flight/mod_flight'], fileSha256: [artifact.sha256, config.sha256, lib.sha256] };

describe('service names', () => {
  test('First.Second with letters, digits, _ and - is a service name', () => {
    assert.deepEqual(serviceName('Flight.mod_flight'), { service: 'Flight.mod_flight', first: 'Flight', second: 'mod_flight' });
    assert.ok(serviceName(`${'a'.repeat(64)}.b-1`));
  });

  test('anything else is not', () => {
    for (const name of ['Flight', 'Flight.mod.x', '.mod', 'Flight.', '../etc.passwd', 'Fl/ight.mod', 'Flight.mo d', `${'a'.repeat(65)}.b`, 'Flight.mod\0', '..', 'a..b', '']) {
      assert.equal(serviceName(name), undefined, name);
    }
  });
});

describe('a release command binds what it touches', () => {
  test('given the install path and every digest bound, then it is taken', () => {
    assert.equal(releaseCommandProblem(bound, complete), undefined);
  });

  test('given a bad service name, then it is refused before anything', () => {
    assert.match(releaseCommandProblem(bound, { ...complete, service: '../../etc.x' })!, /not First\.Second/);
    assert.match(releaseCommandProblem(bound, { ...complete, service: 'Flight' })!, /not First\.Second/);
  });

  test('given paths that are not exactly the service install folder, then it is refused', () => {
    for (const paths of [[], ['msec/Flight/other'], ['msec/Flight/mod_flight', 'agent'], ['msec/Flight'], ['msec/Flight/mod_flight/']]) {
      assert.match(releaseCommandProblem({ ...bound, paths }, complete)!, /signature binds the paths/, JSON.stringify(paths));
    }
  });

  test('given a file digest the signature does not bind, then it is refused', () => {
    for (const drop of [artifact.sha256, config.sha256, lib.sha256]) {
      assert.match(releaseCommandProblem({ ...bound, fileSha256: bound.fileSha256.filter((d) => d !== drop) }, complete)!, new RegExp(`does not bind the file digest ${drop}`));
    }
  });

  test('given a plan id or library name that would make a path, or a bad port, operation or type, then it is refused', () => {
    assert.match(releaseCommandProblem(bound, { ...complete, planId: '../x' })!, /plan id/);
    assert.match(releaseCommandProblem(bound, { ...complete, planId: '..' })!, /plan id/);
    assert.match(releaseCommandProblem(bound, { ...complete, libraries: [{ ...lib, name: '../x' }] })!, /library file name/);
    assert.match(releaseCommandProblem(bound, { ...complete, libraries: [{ ...lib, name: '..' }] })!, /library file name/);
    assert.match(releaseCommandProblem(bound, { ...complete, libraries: [lib, lib] })!, /named twice/);
    assert.match(releaseCommandProblem(bound, { ...complete, port: 0 })!, /port 0/);
    assert.match(releaseCommandProblem(bound, { ...complete, operation: 'reboot' as never })!, /unknown release operation/);
    assert.match(releaseCommandProblem(bound, { ...complete, releaseType: 'partial' as never })!, /unknown release type/);
    assert.match(releaseCommandProblem(bound, { ...complete, artifact: { ...artifact, sha256: 'ABC' } })!, /not a sha256/);
  });
});

describe('files an install needs', () => {
  test('complete needs the artifact and the config', () => {
    assert.equal(missingFileProblem(complete), undefined);
    assert.match(missingFileProblem({ ...complete, artifact: null })!, /needs the artifact and the config file; this one has the config/);
    assert.match(missingFileProblem({ ...complete, config: { name: '', sha256: '', size: 0 } })!, /this one has the artifact/);
  });

  test('each partial type needs its own file', () => {
    assert.match(missingFileProblem({ ...complete, releaseType: 'only_config', config: null })!, /needs the config/);
    assert.match(missingFileProblem({ ...complete, releaseType: 'only_artifact', artifact: null })!, /needs the artifact/);
    assert.match(missingFileProblem({ ...complete, releaseType: 'only_library', libraries: [] })!, /at least one library/);
    assert.equal(missingFileProblem({ ...complete, releaseType: 'only_library', artifact: null, config: null }), undefined);
  });
});
