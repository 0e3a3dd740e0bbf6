import { idlModel, type IdlModel, type ServiceModel } from './idl-model.ts';
import { functionNames, literalKey, memberAccess } from './names.ts';
import { generatedNote, streamingNote, stubModule, typeNames, typesModule, unaryMethods, type Origin } from './render.ts';
import { devReadme } from './readme.ts';
import { artifactFile, artifactScript, artifactScriptPath } from './artifact.ts';

/**
 * The dev package of a service (MSEC's "download dev package"): a ready TypeScript project
 * built from one IDL version. The user fills in one async function per RPC and runs
 * `npm install && npm start`; msec's runtime (`serve()` from 'msec/rpc') does the rest.
 */

export interface DevPackageInput {
  /** `First.Second`. */
  service: string;
  idlTag: string;
  idlText: string;
  /** The msec installation the project depends on (`"msec": "file:<msecRoot>"`). */
  msecRoot: string;
  /** Version range of tsx (default: the one msec itself uses). */
  tsxVersion?: string;
  /** Version range of esbuild, which `npm run artifact` bundles with (index.ts: msec's own). */
  esbuildVersion?: string;
}

export type GeneratedFiles = Map<string, string>;

export const defaultTsxVersion = '^4.19.0';
export const defaultEsbuildVersion = '^0.28.0';

/** `proto/<name>.proto`: the IDL's package, else the service's second level. */
export function protoFileName(model: IdlModel, service: string): string {
  const base = model.package ?? service.split('.').pop() ?? 'service';
  return `${base.replace(/[^A-Za-z0-9_.-]/g, '_')}.proto`;
}

export const handlerFile = (s: ServiceModel) => `src/${s.name}_impl.ts`;

/** Every file of the project, by relative path. Throws IdlSyntaxError for an unusable IDL. */
export function devPackage(input: DevPackageInput): GeneratedFiles {
  const model = idlModel(input.idlText);
  const origin: Origin = { service: input.service, idlTag: input.idlTag };
  const proto = protoFileName(model, input.service);
  const services = model.services.filter((s) => unaryMethods(s).length > 0);
  if (services.length === 0) {
    throw new Error(`the IDL ${input.idlTag} of ${input.service} has no service with a unary RPC: nothing to serve; add a \`service\` to the .proto`);
  }
  const files: GeneratedFiles = new Map();
  files.set('package.json', packageJson(input));
  files.set('tsconfig.json', tsconfig);
  files.set('.gitignore', 'node_modules/\ndist/\n');
  files.set(`proto/${proto}`, input.idlText.endsWith('\n') ? input.idlText : `${input.idlText}\n`);
  files.set('src/types.ts', typesModule(model, origin));
  files.set('src/stub.ts', stubModule(model, origin, `../proto/${proto}`));
  for (const s of services) files.set(handlerFile(s), handlerModule(model, s, origin, proto));
  files.set('server.ts', serverModule(services, origin, proto));
  files.set('client.ts', clientModule(model, services, origin));
  files.set(artifactScriptPath, artifactScript);
  const exampleRequest = model.exampleJson(unaryMethods(services[0]!)[0]!.requestType);
  files.set('README.md', devReadme({
    ...origin, proto, services, handlerFiles: services.map(handlerFile), msecRoot: input.msecRoot, exampleRequest,
    artifact: artifactFile(packageName(input.service), packageVersion),
  }));
  return files;
}

/** The npm name of the project: `flight.mod_flight`. */
const packageName = (service: string) => service.toLowerCase().replace(/[^a-z0-9._-]/g, '-').replace(/^[._]+/, '');
const packageVersion = '0.1.0';

function packageJson(input: DevPackageInput): string {
  return JSON.stringify({
    name: packageName(input.service),
    version: packageVersion,
    private: true,
    description: `${input.service}: an msec service (IDL tag ${input.idlTag})`,
    type: 'module',
    engines: { node: '>=20.6' },
    // artifact: the release artifact (a .tgz for `msec artifact put`); prints its absolute path.
    scripts: { start: 'tsx server.ts', client: 'tsx client.ts', artifact: `node ${artifactScriptPath}` },
    dependencies: { msec: `file:${input.msecRoot}`, tsx: input.tsxVersion ?? defaultTsxVersion },
    // Named, not borrowed from tsx's dependencies: scripts/artifact.mjs imports it.
    devDependencies: { esbuild: input.esbuildVersion ?? defaultEsbuildVersion },
    msec: { service: input.service, idl: input.idlTag },
  }, null, 2) + '\n';
}

const tsconfig = JSON.stringify({
  compilerOptions: {
    target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true,
    allowImportingTsExtensions: true, noEmit: true, skipLibCheck: true, verbatimModuleSyntax: true,
  },
  include: ['*.ts', 'src'],
}, null, 2) + '\n';

function handlerModule(model: IdlModel, s: ServiceModel, o: Origin, proto: string): string {
  const methods = unaryMethods(s);
  const types = typeNames(methods);
  // The module's other value is `handlers` (its imports are types only: they share no names with values).
  const fn = functionNames(methods.map((m) => m.name), ['handlers']);
  const lines = [
    `// ${o.service}: the RPCs of ${s.fullName} (proto/${proto}, IDL tag ${o.idlTag}).`,
    `// Fill in one function per RPC; \`npm start\` serves them. Throwing answers HANDLER_ERROR (1005).`,
    `// ctx: requestId, caller, deadline, signal (aborted at the deadline), log (bound to the request),`,
    `// setResult(code) (the answer's business result code).`,
    `import type { HandlerContext } from 'msec/rpc';`,
    `import type { ${types.join(', ')} } from './types.ts';`,
    ...streamingNote(s),
    '',
  ];
  for (const m of methods) {
    lines.push(
      `/** rpc ${m.name}(${m.requestType}) returns (${m.responseType}): called as ${m.fullName}. */`,
      `export async function ${fn.get(m.name)!}(request: ${m.requestType}, ctx: HandlerContext): Promise<${m.responseType}> {`,
      `  // TODO: the business logic of ${m.name}; \`request\` holds the caller's fields.`,
      `  return ${model.defaultOf(m.responseType)};`,
      '}',
      '',
    );
  }
  lines.push(
    `/** The handlers of ${s.fullName}, by RPC name, as serve() takes them. */`,
    `export const handlers = {`,
    ...methods.map((m) => (fn.get(m.name) === m.name ? `  ${m.name},` : `  ${literalKey(m.name)}: ${fn.get(m.name)!},`)),
    '};',
    '',
  );
  return lines.join('\n');
}

function serverModule(services: ServiceModel[], o: Origin, proto: string): string {
  const served = services[0]!;
  const others = services.slice(1).map((s) => s.name);
  return [
    generatedNote(o).replace('Do not edit: generate again instead.', 'Edit freely.'),
    `// Serves the handlers over msec's RPC (TCP and UDP frames, HTTP/JSON on the same port).`,
    `// From the environment, as msec's runtime reads them: MSEC_SERVICE (the service name),`,
    `// MSEC_CONFIG (config file; its [SRPC] listen line gives the port), MSEC_LISTEN=host:port.`,
    ...(others.length ? [
      `// The IDL defines ${services.length} services; one msec service serves one of them on its port.`,
      `// To serve ${others.join(' or ')} instead, import its handlers and change \`service\`.`,
    ] : []),
    `import { fileURLToPath } from 'node:url';`,
    `import { createClient, serve } from 'msec/rpc';`,
    `import { handlers } from './${handlerFile(served)}';`,
    '',
    `const proto = fileURLToPath(new URL('./proto/${proto}', import.meta.url));`,
    `const name = process.env.MSEC_SERVICE || '${o.service}';`,
    `// For ctx.call() in handlers: calls to other services carry this request's id and deadline.`,
    `const client = createClient({ name });`,
    `const server = await serve({ proto, service: '${served.fullName}', name, handlers, client });`,
    `console.log(\`\${name}: ${served.fullName} listening on \${server.address.host}:\${server.address.port}\`);`,
    '',
    `// Stop on SIGTERM (what msec sends) or Ctrl-C: answers in flight finish first.`,
    `for (const signal of ['SIGTERM', 'SIGINT'] as const) {`,
    `  process.once(signal, () => {`,
    `    void server.close().then(() => client.close()).then(() => process.exit(0));`,
    '  });',
    '}',
    '',
  ].join('\n');
}


function clientModule(model: IdlModel, services: ServiceModel[], o: Origin): string {
  const single = services.length === 1;
  const calls: string[] = [];
  const casts = new Set<string>();
  let n = 0;
  for (const s of services) {
    for (const m of unaryMethods(s)) {
      const call = single ? memberAccess('stub', m.name) : memberAccess(memberAccess('stubs', s.name), m.name);
      const answer = `answer${++n}`;
      const request = model.defaultOf(m.requestType);
      if (request.endsWith(` as ${m.requestType}`)) casts.add(m.requestType);
      calls.push(
        `  const ${answer} = await ${call}(${request}, { timeoutMs: 800 });`,
        `  console.log('${m.fullName} ->', JSON.stringify(${answer}));`,
      );
    }
  }
  return [
    generatedNote(o).replace('Do not edit: generate again instead.', 'Edit freely.'),
    `// Calls every RPC once and prints the answers: \`npm run client\` calls ${o.service} by name`,
    `// (routes from MSEC_REGISTRY, or MSEC_CONSOLE_URL + MSEC_TOKEN); \`npm run client -- 127.0.0.1:7963\``,
    `// calls one address directly.`,
    `import { createClient } from 'msec/rpc';`,
    `import { connect, SERVICE } from './src/stub.ts';`,
    // A request type whose default had to be cut (recursive) is named in its cast.
    ...(casts.size ? [`import type { ${[...casts].sort().join(', ')} } from './src/types.ts';`] : []),
    '',
    `const target = process.argv[2] || SERVICE;`,
    `const client = createClient({ name: '${o.service}-client' });`,
    `const ${single ? 'stub' : 'stubs'} = connect(client, target);`,
    'try {',
    ...calls,
    '} finally {', '  await client.close();', '}', '',
  ].join('\n');
}
