import type { ServiceKind } from './events.ts';
import { checkKind } from './kinds.ts';
import { checkLanguage } from './languages.ts';
import { checkPort } from './names.ts';

/** What a second-level service is created with; a claim on its name carries the same. */
export interface ServiceSettings {
  kind: ServiceKind;
  lang: string;
  port: number;
}

/** Checks a creation's settings; odd services are only ip:port entries, so language and port may be unknown ('' and 0). */
export function checkServiceSettings(settings: ServiceSettings): ServiceSettings {
  const kind = checkKind(settings.kind);
  if (kind === 'standard') {
    return { kind, lang: checkLanguage(settings.lang), port: checkPort(settings.port, 'service port') };
  }
  const lang = settings.lang === '' ? '' : checkLanguage(settings.lang);
  const port = settings.port === 0 ? 0 : checkPort(settings.port, 'service port');
  return { kind, lang, port };
}

export const sameSettings = (a: ServiceSettings, b: ServiceSettings): boolean =>
  a.kind === b.kind && a.lang === b.lang && a.port === b.port;
