import { idlModel } from './idl-model.ts';
import { protoFileName, type GeneratedFiles } from './project.ts';
import { stubModule, typesModule, unaryMethods, type Origin } from './render.ts';
import { stubsReadme } from './readme.ts';

/**
 * Caller stubs (MSEC's "generate caller code from an IDL tag"): the files another service
 * copies in to call this one with types: `types.ts`, `stub.ts` (`connect(client)`), the
 * .proto, a README.
 */

export interface CallerStubsInput {
  service: string;
  idlTag: string;
  idlText: string;
}

export function callerStubs(input: CallerStubsInput): GeneratedFiles {
  const model = idlModel(input.idlText);
  const origin: Origin = { service: input.service, idlTag: input.idlTag };
  const proto = protoFileName(model, input.service);
  const services = model.services.filter((s) => unaryMethods(s).length > 0);
  if (services.length === 0) {
    throw new Error(`the IDL ${input.idlTag} of ${input.service} has no service with a unary RPC: nothing to call`);
  }
  return new Map([
    ['README.md', stubsReadme({ ...origin, proto, services })],
    ['types.ts', typesModule(model, origin)],
    ['stub.ts', stubModule(model, origin, `./${proto}`)],
    [proto, input.idlText.endsWith('\n') ? input.idlText : `${input.idlText}\n`],
  ]);
}
