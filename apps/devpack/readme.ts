import type { ServiceModel } from './idl-model.ts';
import { unaryMethods } from './render.ts';

/** The README.md of a dev package and of caller stubs: the exact commands, nothing vague. */

export interface DevReadmeInput {
  service: string;
  idlTag: string;
  proto: string;
  services: ServiceModel[];
  handlerFiles: string[];
  msecRoot: string;
  /** The first RPC's request with default values, as JSON. */
  exampleRequest: string;
  /** Where `npm run artifact` writes the release artifact: `dist/flight.mod_flight-0.1.0.tgz`. */
  artifact: string;
}

const fence = '```';

export function devReadme(r: DevReadmeInput): string {
  const rpcs = r.services.flatMap((s) => unaryMethods(s).map((m) => `\`${m.fullName}\``));
  const first = r.services[0]!;
  const firstMethod = unaryMethods(first)[0]!;
  return `# ${r.service}

An msec service in TypeScript, generated from IDL version \`${r.idlTag}\` of ${r.service}.
RPCs: ${rpcs.join(', ')}.

| file | what |
|---|---|
${r.handlerFiles.map((f) => `| \`${f}\` | **your code**: one async function per RPC (a TODO body answers a default) |`).join('\n')}
| \`server.ts\` | starts the service with \`serve()\` from \`msec/rpc\` |
| \`client.ts\` | calls every RPC once and prints the answers |
| \`src/types.ts\` | request and response types from the IDL (generated, do not edit) |
| \`src/stub.ts\` | \`connect(client, target)\`: a typed stub for callers (generated) |
| \`proto/${r.proto}\` | the IDL, as stored in msec (tag \`${r.idlTag}\`) |
| \`scripts/artifact.mjs\` | \`npm run artifact\`: builds the release artifact (edit freely) |

The \`msec\` dependency is the msec installation that generated this project
(\`file:${r.msecRoot}\`); \`npm install\` links it and fetches \`tsx\`, which runs the
TypeScript directly (no build step), and \`esbuild\`, which \`npm run artifact\` bundles with.
Node 20.6 or later. Unpacked on another machine, point
it at that machine's msec first: \`npm pkg set dependencies.msec=file:/path/to/msec\`.

## Run it

${fence}sh
npm install
npm start                              # listens on 0.0.0.0:7963 unless told otherwise
npm run client -- 127.0.0.1:7963       # in another terminal: call each RPC once
${fence}

Call it over HTTP/JSON on the same port:

${fence}sh
curl -s -X POST 'http://127.0.0.1:7963/?methodName=${firstMethod.fullName}' \\
  -H 'content-type: application/json' -d '${r.exampleRequest.replace(/'/g, "'\\''")}'
${fence}

## Settings (environment)

| variable | meaning |
|---|---|
| \`MSEC_LISTEN=host:port\` | where to listen, e.g. \`MSEC_LISTEN=127.0.0.1:8090 npm start\` (default 7963) |
| \`MSEC_CONFIG=path\` | a config version of ${r.service} (INI); its \`[SRPC] listen\` line gives the port |
| \`MSEC_SERVICE=First.Second\` | the name this service reports itself as (default \`${r.service}\`) |
| \`MSEC_REGISTRY=zk://host:2181\` | where calls by service name find their routes (ZooKeeper) |
| \`MSEC_CONSOLE_URL=http://console:8080\` + \`MSEC_TOKEN=…\` | or: routes from the console API |

\`npm run client\` without an address calls \`${r.service}\` by name, so it needs
\`MSEC_REGISTRY\`, or \`MSEC_CONSOLE_URL\` and \`MSEC_TOKEN\` (a route-read token of the console:
\`msec token create --routes\`; it reads routing tables and nothing else),
and enabled hosts of ${r.service} in msec's routing table:

${fence}sh
MSEC_CONSOLE_URL=http://127.0.0.1:8080 MSEC_TOKEN=<token> npm run client
${fence}

## Business logs

\`ctx.log\` in a handler is a pino logger bound to the request. What the service keeps (its
level, INFO by default; every level for a colored request) is also shipped to msec with the
request's headers (request id, client and server IP, RPC name, caller, service), and the keys
of the record's object that are declared custom fields (\`msec log field add ${r.service} orderId
--type int\`) are stored as fields you can filter on:

${fence}ts
ctx.log.info({ orderId: 42 }, 'order taken');
${fence}

Records go to the bus named by \`MSEC_BUS\` (or \`MSEC_HOME\` on the \`msec up\` machine), and
the level, coloring rules and fields changed in the console reach the service through
\`MSEC_CONSOLE_URL\` + \`MSEC_TOKEN\`; \`MSEC_LOGS=off\` keeps them local. Read them with
\`msec logs ${r.service}\` or \`msec logs --request-id ID\`, and \`msec callgraph ID\`.

## Build the release artifact and release it

The hosts of a release have Node (20.6 or later) and msec's agent: no npm, no tsx, no msec.
\`npm run artifact\` bundles \`server.ts\` and everything it imports (your handlers, msec's
runtime, protobufjs, pino, …) into one file with esbuild and packs it, with the \`.proto\`
files it reads at run time, into \`${r.artifact}\`; it prints that file's absolute path and
nothing else (\`-s\` keeps npm quiet), so it goes straight to \`msec artifact put\`:

${fence}sh
npm run -s artifact     # prints e.g. $PWD/${r.artifact}
msec artifact put ${r.service} build1 "$(npm run -s artifact)" --memo "first build"
msec release create ${r.service} --hosts 10.0.0.5,10.0.0.6 --config CONFIG_TAG --idl ${r.idlTag} --artifact build1
msec release start ID --wait            # ID: what release create printed
${fence}

\`build1\` is the artifact's tag (any name; one per build), \`CONFIG_TAG\` a config version of
${r.service} (its \`[SRPC] listen\` line gives the port), \`${r.idlTag}\` the IDL version this
project was generated from.

The archive holds, at its top (no folder around them): \`start\` (mode 0755:
\`exec node --enable-source-maps "$(dirname "$0")/server.mjs"\`), \`server.mjs\` and its source
map, \`proto/${r.proto}\`, and \`msec/schemas/*.proto\` (read by msec's runtime). Try it as a host
would, away from this project:

${fence}sh
mkdir -p /tmp/try && tar -xzf "$(npm run -s artifact)" -C /tmp/try
cd /tmp/try && MSEC_LISTEN=127.0.0.1:7963 ./start
${fence}

What the bundle cannot carry:

* files your code reads at run time, unless named as \`new URL('./path/file', import.meta.url)\`
  with a literal path inside the project (those are copied into the archive, the path is
  rewritten to match);
* packages with native code (\`runtimeOnly\` in \`scripts/artifact.mjs\`): they load from
  \`NODE_PATH\` on the host when first used. msec's runtime needs one, better-sqlite3, only for
  the embedded bus of the \`msec up\` machine (\`MSEC_HOME\`): from an artifact, reports and
  logs go to Kafka (\`MSEC_BUS\`) or stay local;
* pino transports (they start worker threads from files): log to stdout and stderr, which the
  agent writes to the service's log files.

## How msec runs it

A release of ${r.service} installs the artifact on each host of the release plan: the agent
unpacks it into \`<install>/bin/\`, writes the released config version to
\`<install>/etc/config.ini\` and runs \`./start\` in \`bin/\` with \`MSEC_SERVICE=${r.service}\`,
\`MSEC_LISTEN=<host ip>:<port>\`, \`MSEC_CONFIG=<install>/etc/config.ini\`, \`MSEC_HOST_IP\` and
\`MSEC_INSTALL_DIR\` (stdout and stderr go to log files). \`SIGTERM\` stops it: answers in flight
finish first. Traffic only comes once the hosts are enabled (scale out) in the console or with
\`msec host enable\`.

## Calling other services from a handler

Generate the caller stubs of the other service (\`msec stubs Other.svc --idl TAG --out
src/other\`, or "Caller stubs" beside its IDL version in the console), then in a handler:

${fence}ts
import { createClient } from 'msec/rpc';
import { connect } from './other/stub.ts';

const other = connect(createClient({ name: '${r.service}' }));
// inside a handler: pass ctx so the request id, colouring and deadline follow
const answer = await other.someMethod({ /* … */ }, { parent: ctx });
${fence}
`;
}

export interface StubsReadmeInput {
  service: string;
  idlTag: string;
  proto: string;
  services: ServiceModel[];
}

export function stubsReadme(r: StubsReadmeInput): string {
  const stubLines = r.services.flatMap((s) => unaryMethods(s).map((m) => `* \`${m.fullName}\`: \`${m.name}(request: ${m.requestType}) → ${m.responseType}\``));
  const single = r.services.length === 1;
  const m = r.services[0] ? unaryMethods(r.services[0])[0] : undefined;
  const call = m ? (single ? `${m.name}` : `${r.services[0]!.name}.${m.name}`) : 'someMethod';
  return `# Caller stubs of ${r.service} (IDL ${r.idlTag})

Generated by msec: typed calls to ${r.service} through msec's client (routing, timeouts,
retries). Copy this folder into the calling project (which depends on \`msec\`), e.g. as
\`src/${r.service}/\`. Generate again when the IDL changes; do not edit.

* \`types.ts\`: the request and response types
* \`stub.ts\`: \`connect(client, target = '${r.service}')\` answers a typed stub
* \`${r.proto}\`: the IDL the client encodes with

${stubLines.join('\n')}

${fence}ts
import { createClient } from 'msec/rpc';
import { connect } from './${r.service}/stub.ts';

const client = createClient({ name: 'My.caller' });
const ${single ? 'stub' : 'stubs'} = connect(client);            // or connect(client, '10.0.0.5:7963')
const answer = await ${single ? 'stub' : 'stubs'}.${call}({ /* request fields */ }, { timeoutMs: 800 });
${fence}

From inside a handler pass \`{ parent: ctx }\`: the request id, colouring and what is left
of the deadline follow the call. Routes come from \`MSEC_REGISTRY\` (ZooKeeper) or
\`MSEC_CONSOLE_URL\` + \`MSEC_TOKEN\`.
`;
}
