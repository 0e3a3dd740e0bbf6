/** The log settings of a service as specifications: given past events, when a command, then events or a refusal. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { logSettingsDecider, type LogSettingsEvent } from '../../../domain/logs/settings.ts';
import { logSettingsProjection, logSettingsOf } from '../../../projections/log-settings.ts';
import { summarize } from '../../../projections/audit.ts';
import { spec, stateAfter } from '../support/given-when-then.ts';
import { foldState, recorded } from '../projections/events.ts';

const S = 'Shop.front';
const settings = spec(logSettingsDecider);
const fieldAdded = (name: string, type = 'string'): LogSettingsEvent => ({ type: 'LogFieldAdded', data: { service: S, name, type } });
const ruleAdded = (field: string, value: string): LogSettingsEvent => ({ type: 'LogColorRuleAdded', data: { service: S, field, value } });

describe('log level', () => {
  test('is set in any case and stored in capitals', () => {
    settings.given([]).when({ type: 'SetLogLevel', service: S, level: 'debug' }).then([{ type: 'LogLevelSet', data: { service: S, level: 'DEBUG' } }]);
  });
  test('setting the level it has decides nothing; "" goes back to the config version', () => {
    settings.given([{ type: 'LogLevelSet', data: { service: S, level: 'DEBUG' } }]).when({ type: 'SetLogLevel', service: S, level: 'DEBUG' }).thenNothing();
    settings.given([{ type: 'LogLevelSet', data: { service: S, level: 'DEBUG' } }]).when({ type: 'SetLogLevel', service: S, level: '' })
      .then([{ type: 'LogLevelSet', data: { service: S, level: '' } }]);
    settings.given([]).when({ type: 'SetLogLevel', service: S, level: '' }).thenNothing();
  });
  test('an unknown level, WARN included (MSEC has none), is refused with the list', () => {
    settings.given([]).when({ type: 'SetLogLevel', service: S, level: 'WARN' }).thenFails('invalid', /TRACE, DEBUG, INFO, ERROR, FATAL/);
    settings.given([]).when({ type: 'SetLogLevel', service: S, level: "INFO'; DROP TABLE logs --" }).thenFails('invalid', /not a log level/);
  });
  test('a first-level or malformed service name is refused', () => {
    settings.given([]).when({ type: 'SetLogLevel', service: 'Shop', level: 'INFO' }).thenFails('invalid', /only a first level/);
  });
});

describe('custom fields', () => {
  test('are declared int or string', () => {
    settings.given([]).when({ type: 'AddLogField', service: S, name: 'orderId', fieldType: 'int' }).then([fieldAdded('orderId', 'int')]);
    settings.given([]).when({ type: 'AddLogField', service: S, name: 'user', fieldType: 'float' }).thenFails('invalid', /int or string/);
  });
  test('a header name, a pino key, "__proto__" or a bad name is not a field', () => {
    settings.given([]).when({ type: 'AddLogField', service: S, name: 'Caller', fieldType: 'string' }).thenFails('invalid', /header every record has/);
    settings.given([]).when({ type: 'AddLogField', service: S, name: 'requestId', fieldType: 'string' }).thenFails('invalid', /header every record has \(ReqID\)/);
    settings.given([]).when({ type: 'AddLogField', service: S, name: 'msg', fieldType: 'string' }).thenFails('invalid', /key pino writes/);
    settings.given([]).when({ type: 'AddLogField', service: S, name: '__proto__', fieldType: 'string' }).thenFails('invalid', /not valid/);
    settings.given([]).when({ type: 'AddLogField', service: S, name: 'a b', fieldType: 'string' }).thenFails('invalid', /not valid/);
  });
  test('declaring it again with its type decides nothing; with another type is a conflict', () => {
    settings.given([fieldAdded('orderId', 'int')]).when({ type: 'AddLogField', service: S, name: 'orderId', fieldType: 'int' }).thenNothing();
    settings.given([fieldAdded('orderId', 'int')]).when({ type: 'AddLogField', service: S, name: 'orderId', fieldType: 'string' }).thenFails('conflict', /delete it first/);
  });
  test('at most 32', () => {
    const many = Array.from({ length: 32 }, (_, i) => fieldAdded(`f${i}`));
    settings.given(many).when({ type: 'AddLogField', service: S, name: 'one_more', fieldType: 'string' }).thenFails('conflict', /32 custom fields already/);
  });
  test('a field a coloring rule uses cannot be deleted until the rule is removed', () => {
    settings.given([fieldAdded('orderId'), ruleAdded('orderId', '42')]).when({ type: 'DeleteLogField', service: S, name: 'orderId' })
      .thenFails('conflict', /msec log color Shop.front orderId=42 --remove/);
    settings.given([fieldAdded('orderId')]).when({ type: 'DeleteLogField', service: S, name: 'orderId' }).then([{ type: 'LogFieldDeleted', data: { service: S, name: 'orderId' } }]);
    settings.given([]).when({ type: 'DeleteLogField', service: S, name: 'orderId' }).thenFails('not_found', /no custom field orderId/);
  });
});

describe('coloring rules', () => {
  test('on a header, in any spelling, are stored under MSEC\'s name', () => {
    settings.given([]).when({ type: 'AddColorRule', service: S, field: 'caller', value: 'Shop.gate' }).then([ruleAdded('Caller', 'Shop.gate')]);
    settings.given([]).when({ type: 'AddColorRule', service: S, field: 'request_id', value: '42' }).then([ruleAdded('ReqID', '42')]);
  });
  test('header values are checked: a request id is decimal, an IP is an IP', () => {
    settings.given([]).when({ type: 'AddColorRule', service: S, field: 'ReqID', value: 'abc' }).thenFails('invalid', /decimal request id/);
    settings.given([]).when({ type: 'AddColorRule', service: S, field: 'ClientIP', value: '10.0.0.300' }).thenFails('invalid', /must be an IP address/);
    settings.given([]).when({ type: 'AddColorRule', service: S, field: 'ClientIP', value: '::1' }).then([ruleAdded('ClientIP', '::1')]);
  });
  test('on a custom field need the field declared; an int field takes a whole number, stored canonical', () => {
    settings.given([]).when({ type: 'AddColorRule', service: S, field: 'orderId', value: '42' }).thenFails('invalid', /declare it first: msec log field add Shop.front orderId/);
    settings.given([fieldAdded('orderId', 'int')]).when({ type: 'AddColorRule', service: S, field: 'orderId', value: '042' }).then([ruleAdded('orderId', '42')]);
    settings.given([fieldAdded('orderId', 'int')]).when({ type: 'AddColorRule', service: S, field: 'orderId', value: '4.2' }).thenFails('invalid', /whole number/);
  });
  test('values with control characters or over 1024 characters are refused', () => {
    settings.given([fieldAdded('user')]).when({ type: 'AddColorRule', service: S, field: 'user', value: 'bob\n' }).thenFails('invalid', /control characters/);
    settings.given([fieldAdded('user')]).when({ type: 'AddColorRule', service: S, field: 'user', value: 'x'.repeat(1025) }).thenFails('invalid', /at most 1024/);
  });
  test('adding a rule twice decides nothing; removing one that is not there is refused', () => {
    settings.given([ruleAdded('Caller', 'a')]).when({ type: 'AddColorRule', service: S, field: 'Caller', value: 'a' }).thenNothing();
    settings.given([ruleAdded('Caller', 'a')]).when({ type: 'RemoveColorRule', service: S, field: 'caller', value: 'a' })
      .then([{ type: 'LogColorRuleRemoved', data: { service: S, field: 'Caller', value: 'a' } }]);
    settings.given([]).when({ type: 'RemoveColorRule', service: S, field: 'Caller', value: 'a' }).thenFails('not_found', /no coloring rule Caller=a/);
  });
  test('the state and the projection agree, and the audit says what changed', () => {
    const history = [fieldAdded('orderId', 'int'), ruleAdded('orderId', '42'), { type: 'LogLevelSet', data: { service: S, level: 'ERROR' } } as LogSettingsEvent];
    const state = stateAfter(logSettingsDecider, history);
    assert.deepEqual(state, { level: 'ERROR', colorRules: [{ field: 'orderId', value: '42' }], fields: [{ name: 'orderId', type: 'int' }] });
    const view = foldState(logSettingsProjection, recorded(history));
    assert.equal(recorded(history)[0]!.stream, 'logs-Shop.front');
    assert.deepEqual(logSettingsOf(view, S), { service: S, revision: 2, ...state });
    assert.equal(logSettingsOf(view, 'Other.svc').revision, -1);
    assert.equal(summarize(history[1]!), 'coloring rule orderId=42 added to Shop.front');
  });
});
