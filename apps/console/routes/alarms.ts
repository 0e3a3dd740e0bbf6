/**
 * Alarm rules, webhooks and the alarm list (MSEC's monitor alarm pages): rules and webhooks are
 * commands on stream `alarm-rules-<service>`; alarms come from the evaluator. "Did an alarm of
 * this service fire since T?" is asked by releases in progress.
 */
import { isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { scopesAllowing, firstLevelOf } from '../../../domain/access/roles.ts';
import { alarmRulesDecider } from '../../../domain/monitoring/alarm-rules.ts';
import type { AlarmScope } from '../../../domain/monitoring/events.ts';
import { checkWebhookUrl, webhookReachesConsole } from '../../../domain/monitoring/webhook-url.ts';
import { parseSecondLevelName } from '../../../domain/services/names.ts';
import { streams } from '../../../domain/streams.ts';
import { alarmList, firedSince, monitoringOf, openAlarms } from '../../../projections/monitoring-queries.ts';
import { commandAnswer, commandMeta, schemas, type ConsoleContext } from '../context.ts';
import { HttpProblem } from '../problems.ts';

const nameParams = { type: 'object', required: ['name'], properties: { name: schemas.serviceName } } as const;
const threshold = { type: 'number', minimum: 0, description: '0 disables the check' } as const;
const metricName = { type: 'string', minLength: 1, maxLength: 200 } as const;

type RuleBody = { name: string; max?: number; min?: number; diff?: number; diffPercent?: number; forMinutes?: number; scope?: AlarmScope; reason?: string };

export function alarmRoutes(ctx: ConsoleContext) {
  const serviceOf = (name: string): string => {
    const service = parseSecondLevelName(name).full;
    if (!ctx.reads.service(service)) throw new HttpProblem(404, 'not_found', `service ${service} does not exist: msec service list shows the services`);
    return service;
  };
  const rulesCommand = (service: string, command: Parameters<typeof alarmRulesDecider.decide>[0], request: Parameters<typeof commandMeta>[1]) =>
    ctx.commands.execute(streams.alarmRules(service), alarmRulesDecider, command, commandMeta(ctx, request));

  return async (app: FastifyInstance) => {
    app.get<{ Params: { name: string } }>('/api/services/:name/alarm-rules', {
      config: { permission: 'read' },
      schema: { tags: ['alarms'], summary: 'A service\'s alarm rules, webhooks and open alarms', params: nameParams },
    }, async (request) => {
      const service = serviceOf(request.params.name);
      const m = monitoringOf(ctx.reads.monitoring(), service);
      return { service, rules: m?.rules ?? [], webhooks: (m?.webhooks ?? []).map((w) => ({ url: w.url, addedAt: w.addedAt })), open: m?.open ?? [] };
    });

    app.put<{ Params: { name: string }; Body: RuleBody }>('/api/services/:name/alarm-rules', {
      config: { permission: 'services.write' },
      schema: {
        tags: ['alarms'], summary: 'Set the alarm rule on one metric (max, min, diff, diff % vs. the same minute yesterday; 0 disables)',
        params: nameParams,
        body: {
          type: 'object', required: ['name'], additionalProperties: false,
          properties: {
            name: metricName, max: threshold, min: threshold, diff: threshold, diffPercent: threshold,
            forMinutes: { type: 'integer', minimum: 1, maximum: 60 }, scope: { type: 'string', enum: ['service', 'host'] }, reason: schemas.reason,
          },
        },
      },
    }, async (request, reply) => {
      const service = serviceOf(request.params.name);
      const { reason: _reason, ...rule } = request.body;
      return commandAnswer(ctx, reply, await rulesCommand(service, { type: 'SetAlarmRule', service, ...rule }, request));
    });

    app.delete<{ Params: { name: string }; Body: { name: string; reason?: string } }>('/api/services/:name/alarm-rules', {
      config: { permission: 'services.write' },
      schema: {
        tags: ['alarms'], summary: 'Delete the alarm rule on one metric (its open alarms are resolved at the next minute)', params: nameParams,
        body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: metricName, reason: schemas.reason } },
      },
    }, async (request, reply) => {
      const service = serviceOf(request.params.name);
      return commandAnswer(ctx, reply, await rulesCommand(service, { type: 'DeleteAlarmRule', service, name: request.body.name }, request));
    });

    const webhookBody = { type: 'object', required: ['url'], additionalProperties: false, properties: { url: { type: 'string', minLength: 1, maxLength: 2048 }, reason: schemas.reason } } as const;
    app.post<{ Params: { name: string }; Body: { url: string; reason?: string } }>('/api/services/:name/alarm-webhooks', {
      config: { permission: 'services.write' },
      schema: { tags: ['alarms'], summary: 'Send this service\'s alarms to a URL (signed, retried)', params: nameParams, body: webhookBody },
    }, async (request, reply) => {
      const service = serviceOf(request.params.name);
      const url = checkWebhookUrl(request.body.url);
      const address = ctx.monitor?.consoleAddress();
      if (address && webhookReachesConsole(url, address)) {
        throw new HttpProblem(400, 'invalid', `${url} is this console (port ${address.port}): a webhook must be another program that receives alarms`);
      }
      // An address in the URL is checked now; a name, on every address it resolves to when called.
      const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
      const refused = isIP(host) && ctx.monitor ? ctx.monitor.targets.refusal(host) : undefined;
      if (refused) throw new HttpProblem(400, 'invalid', `${url}: ${refused}`);
      const outcome = await rulesCommand(service, { type: 'SetAlarmWebhook', service, url }, request);
      return commandAnswer(ctx, reply, outcome, 201, { url, signingKey: signingKey(ctx) });
    });

    app.delete<{ Params: { name: string }; Body: { url: string; reason?: string } }>('/api/services/:name/alarm-webhooks', {
      config: { permission: 'services.write' },
      schema: { tags: ['alarms'], summary: 'Stop sending this service\'s alarms to a URL', params: nameParams, body: webhookBody },
    }, async (request, reply) => {
      const service = serviceOf(request.params.name);
      return commandAnswer(ctx, reply, await rulesCommand(service, { type: 'RemoveAlarmWebhook', service, url: request.body.url }, request));
    });

    app.get<{ Params: { name: string }; Querystring: { since: string } }>('/api/services/:name/alarms', {
      config: { permission: 'read' },
      schema: {
        tags: ['alarms'], summary: 'Did an alarm of this service fire since a time? (raised alarms since then, and the open ones)', params: nameParams,
        querystring: { type: 'object', required: ['since'], additionalProperties: false, properties: { since: { type: 'string', maxLength: 40, description: 'ISO-8601 time or epoch ms' } } },
      },
    }, async (request) => {
      const service = serviceOf(request.params.name);
      const text = request.query.since;
      const since = /^\d{1,15}$/.test(text) ? Number(text) : Date.parse(text);
      if (!Number.isFinite(since)) throw new HttpProblem(400, 'invalid', `since "${text.slice(0, 40)}" is neither an ISO-8601 time (2024-05-01T10:00:00Z) nor epoch milliseconds`);
      return firedSince(ctx.reads.monitoring(), service, since);
    });

    app.get<{ Querystring: { service?: string; from?: string; to?: string } }>('/api/alarms', {
      config: { permission: 'authenticated' },
      schema: {
        tags: ['alarms'], summary: 'The alarm list: counts per service, name, type and UTC day (newest first), and open alarms, of the services the caller may read',
        querystring: {
          type: 'object', additionalProperties: false,
          properties: { service: schemas.serviceName, from: { type: 'string', pattern: '^[0-9]{8}$' }, to: { type: 'string', pattern: '^[0-9]{8}$' } },
        },
      },
    }, async (request) => {
      const { all, services } = scopesAllowing(request.caller!.grants, 'read');
      const only = request.query.service;
      const may = (service: string) => (all || services.includes(firstLevelOf(service))) && (only === undefined || service === only || firstLevelOf(service) === only);
      const state = ctx.reads.monitoring();
      return {
        rows: alarmList(state, { services: may, ...(request.query.from ? { fromDay: request.query.from } : {}), ...(request.query.to ? { toDay: request.query.to } : {}) }),
        open: openAlarms(state).filter((a) => may(a.service)),
      };
    });

    app.get('/api/alarms/signing-key', {
      config: { permission: 'authenticated' },
      schema: { tags: ['alarms'], summary: 'The public key that checks webhook signatures (X-Msec-Signature)' },
    }, async () => signingKey(ctx));
  };
}

function signingKey(ctx: ConsoleContext) {
  const signer = ctx.monitor?.signer;
  if (!signer) throw new HttpProblem(503, 'unavailable', 'this console does not deliver webhooks');
  return {
    keyId: signer.keyId, algorithm: 'ed25519', publicKey: signer.publicKeyPem,
    signs: 'msec-webhook-v1\\n<X-Msec-Timestamp>\\n<X-Msec-Delivery>\\n<body>',
    header: 'X-Msec-Signature: ed25519=<keyId>:<base64 signature>',
  };
}
