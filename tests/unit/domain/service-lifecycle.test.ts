import { describe, test } from 'node:test';
import { serviceDecider, serviceLanguages } from '../../../domain/services/index.ts';
import { spec } from '../support/given-when-then.ts';
import { SERVICE, hostAdded, hostRemoved, serviceCreated, serviceDeleted } from './fixtures/service-events.ts';

const service = spec(serviceDecider);
const create = (over: Partial<{ service: string; kind: 'standard' | 'odd'; lang: string; port: number; system: boolean }> = {}) =>
  ({ type: 'CreateService' as const, service: SERVICE, kind: 'standard' as const, lang: 'c++', port: 7963, ...over });

describe('second-level service: create', () => {
  test('a standard service is created with its language and port', () => {
    service.given([]).when(create()).then([serviceCreated()]);
  });

  test('creating an existing service is a conflict', () => {
    service.given([serviceCreated()]).when(create()).thenFails('conflict', /Flight\.mod_flight already exists/);
  });

  test('a deleted service can be created again', () => {
    service.given([serviceCreated(), serviceDeleted()]).when(create({ lang: 'java' }))
      .then([serviceCreated(SERVICE, 'standard', 'java')]);
  });

  test('every supported language is accepted', () => {
    for (const lang of serviceLanguages) {
      service.given([]).when(create({ lang })).then([serviceCreated(SERVICE, 'standard', lang)]);
    }
  });

  test('a standard service needs a language', () => {
    service.given([]).when(create({ lang: '' })).thenFails('invalid', /use one of c\+\+, java, php, python, go, typescript, javascript/);
  });

  test('an unknown language is refused', () => {
    service.given([]).when(create({ lang: 'cobol' })).thenFails('invalid', /"cobol" is not supported/);
  });

  test('languages are lowercase, and the error says how to write it', () => {
    service.given([]).when(create({ lang: 'Java' })).thenFails('invalid', /lowercase: "java"/);
  });

  test('a standard service needs a port', () => {
    service.given([]).when(create({ port: 0 })).thenFails('invalid', /service port 0 is out of range; use a whole number from 1 to 65535/);
  });

  test('a port above 65535 is refused', () => {
    service.given([]).when(create({ port: 65536 })).thenFails('invalid', /out of range/);
  });

  test('a fractional port is refused', () => {
    service.given([]).when(create({ port: 79.5 })).thenFails('invalid', /whole number/);
  });

  test('an odd service may have no language and port 0', () => {
    service.given([]).when(create({ service: 'Legacy.mysql', kind: 'odd', lang: '', port: 0 }))
      .then([serviceCreated('Legacy.mysql', 'odd', '', 0)]);
  });

  test('an odd service may still name its language and port', () => {
    service.given([]).when(create({ service: 'Legacy.mysql', kind: 'odd', lang: 'go', port: 3306 }))
      .then([serviceCreated('Legacy.mysql', 'odd', 'go', 3306)]);
  });

  test('a name without a second level is refused', () => {
    service.given([]).when(create({ service: 'Flight' })).thenFails('invalid', /First\.Second/);
  });

  test('users cannot create services under RESERVED', () => {
    service.given([]).when(create({ service: 'RESERVED.mine', kind: 'odd', lang: '', port: 0 }))
      .thenFails('forbidden', /RESERVED is reserved/);
  });

  test('the system creates RESERVED.monitor', () => {
    service.given([]).when(create({ service: 'RESERVED.monitor', kind: 'odd', lang: '', port: 0, system: true }))
      .then([serviceCreated('RESERVED.monitor', 'odd', '', 0)]);
  });
});

describe('second-level service: delete', () => {
  test('a service without hosts is deleted', () => {
    service.given([serviceCreated()]).when({ type: 'DeleteService', service: SERVICE }).then([serviceDeleted()]);
  });

  test('hosts block the delete, with how many and what to do', () => {
    service.given([serviceCreated(), hostAdded('10.0.0.1'), hostAdded('10.0.0.2')])
      .when({ type: 'DeleteService', service: SERVICE })
      .thenFails('conflict', /still has 2 host\(s\); remove them first/);
  });

  test('once its hosts are removed the service can be deleted', () => {
    service.given([serviceCreated(), hostAdded(), hostRemoved()]).when({ type: 'DeleteService', service: SERVICE })
      .then([serviceDeleted()]);
  });

  test('RESERVED.monitor cannot be deleted', () => {
    service.given([serviceCreated('RESERVED.monitor', 'odd', '', 0)]).when({ type: 'DeleteService', service: 'RESERVED.monitor' })
      .thenFails('forbidden', /RESERVED\.monitor belongs to the platform .*monitor and log services.* cannot be deleted/);
  });

  test('RESERVED.log cannot be deleted', () => {
    service.given([serviceCreated('RESERVED.log', 'odd', '', 0)]).when({ type: 'DeleteService', service: 'RESERVED.log' })
      .thenFails('forbidden', /cannot be deleted/);
  });

  test('nothing else under RESERVED can be deleted either', () => {
    service.given([serviceCreated('RESERVED.other', 'odd', '', 0)]).when({ type: 'DeleteService', service: 'RESERVED.other' })
      .thenFails('forbidden', /cannot be deleted/);
  });
});

describe('second-level service: missing', () => {
  const missingCommands = [
    { type: 'DeleteService', service: SERVICE },
    { type: 'AddHost', service: SERVICE, ip: '10.0.0.1', port: 7963, protocol: 'udp' },
    { type: 'EnableHost', service: SERVICE, ip: '10.0.0.1', port: 7963 },
    { type: 'DisableHost', service: SERVICE, ip: '10.0.0.1', port: 7963 },
    { type: 'RemoveHost', service: SERVICE, ip: '10.0.0.1', port: 7963 },
    { type: 'SetHostWeight', service: SERVICE, ip: '10.0.0.1', port: 7963, weight: 10 },
    { type: 'AddConfigVersion', service: SERVICE, tag: 'v1', text: '', memo: '' },
    { type: 'DeleteConfigVersion', service: SERVICE, tag: 'v1' },
    { type: 'AddIdlVersion', service: SERVICE, tag: 'v1', text: 'message A {}', memo: '' },
    { type: 'DeleteIdlVersion', service: SERVICE, tag: 'v1' },
  ] as const;

  for (const command of missingCommands) {
    test(`${command.type} on a service that never existed is not found`, () => {
      service.given([]).when(command).thenFails('not_found', /Flight\.mod_flight does not exist; create it first/);
    });
  }

  test('a deleted service is not found', () => {
    service.given([serviceCreated(), serviceDeleted()])
      .when({ type: 'AddHost', service: SERVICE, ip: '10.0.0.1', port: 7963, protocol: 'udp' })
      .thenFails('not_found', /does not exist/);
  });
});
