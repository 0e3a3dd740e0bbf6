/**
 * A service's release files and its one running plan (stream "releases-<service>"), as
 * specifications: artifacts immutable by tag, library files replaced by name, one plan at a time.
 */
import { describe, test } from 'node:test';
import { serviceReleasesDecider, type ReleaseEvent } from '../../../../domain/releases/index.ts';
import { spec } from '../../support/given-when-then.ts';
import { planId, service, sha } from './plan-fixtures.ts';

const releases = spec(serviceReleasesDecider);
const added = (tag = 'v1', digest = sha('a')): ReleaseEvent => ({ type: 'ArtifactAdded', data: { service, tag, sha256: digest, size: 10, memo: 'first build', fileName: 'flight.tgz' } });

describe('artifacts', () => {
  test('an artifact is added under a tag with its digest, size and memo', () => {
    releases.given([]).when({ type: 'AddArtifact', service, tag: 'v1', sha256: sha('a'), size: 10, memo: 'first build', fileName: 'flight.tgz' }).then([added()]);
  });

  test('the same content again under its tag writes nothing; other content under it is refused', () => {
    releases.given([added()]).when({ type: 'AddArtifact', service, tag: 'v1', sha256: sha('a'), size: 10, memo: '', fileName: '' }).thenNothing();
    releases.given([added()]).when({ type: 'AddArtifact', service, tag: 'v1', sha256: sha('b'), size: 10, memo: '', fileName: '' }).thenFails('conflict', /immutable, use a new tag/);
  });

  test('bad tags, digests, empty and oversized files are refused', () => {
    releases.given([]).when({ type: 'AddArtifact', service, tag: '../x', sha256: sha('a'), size: 10, memo: '', fileName: '' }).thenFails('invalid', /tag "\.\.\/x" is not valid/);
    releases.given([]).when({ type: 'AddArtifact', service, tag: 'v1', sha256: 'abc', size: 10, memo: '', fileName: '' }).thenFails('invalid', /sha256/);
    releases.given([]).when({ type: 'AddArtifact', service, tag: 'v1', sha256: sha('a'), size: 0, memo: '', fileName: '' }).thenFails('invalid', /empty/);
    releases.given([]).when({ type: 'AddArtifact', service, tag: 'v1', sha256: sha('a'), size: 2 ** 40, memo: '', fileName: '' }).thenFails('invalid', /the limit is/);
  });

  test('a file name from the uploader is kept as plain characters only', () => {
    releases.given([]).when({ type: 'AddArtifact', service, tag: 'v1', sha256: sha('a'), size: 10, memo: 'first build', fileName: 'a/../b\n.tgz' })
      .then([{ type: 'ArtifactAdded', data: { service, tag: 'v1', sha256: sha('a'), size: 10, memo: 'first build', fileName: 'a_.._b_.tgz' } }]);
  });

  test('deleting an unknown artifact is refused with where to look', () => {
    releases.given([]).when({ type: 'DeleteArtifact', service, tag: 'v9' }).thenFails('not_found', /msec artifact list Flight\.mod_flight/);
  });
});

describe('library files', () => {
  test('a library file of the same name is replaced', () => {
    const first: ReleaseEvent = { type: 'LibraryFileAdded', data: { service, name: 'libx.so', sha256: sha('1'), size: 5, memo: '' } };
    releases.given([first]).when({ type: 'AddLibraryFile', service, name: 'libx.so', sha256: sha('2'), size: 6, memo: '' })
      .then([{ type: 'LibraryFileAdded', data: { service, name: 'libx.so', sha256: sha('2'), size: 6, memo: '' } }]);
  });

  test('a name with a folder in it is refused', () => {
    releases.given([]).when({ type: 'AddLibraryFile', service, name: '../bin/start', sha256: sha('1'), size: 5, memo: '' }).thenFails('invalid', /a file name, no folders/);
  });
});

describe('one plan at a time', () => {
  test('a plan claims the service; another is refused until the first ends', () => {
    const claimed: ReleaseEvent = { type: 'ReleaseRunClaimed', data: { service, planId } };
    releases.given([]).when({ type: 'ClaimReleaseRun', service, planId }).then([claimed]);
    releases.given([claimed]).when({ type: 'ClaimReleaseRun', service, planId: '20261206120500_zzzzzz' }).thenFails('conflict', /msec release cancel 20261206120000_abc123/);
    releases.given([claimed, { type: 'ReleaseRunEnded', data: { service, planId } }]).when({ type: 'ClaimReleaseRun', service, planId: '20261206120500_zzzzzz' })
      .then([{ type: 'ReleaseRunClaimed', data: { service, planId: '20261206120500_zzzzzz' } }]);
  });
});
