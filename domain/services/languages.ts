import { refuse } from '../decider.ts';

/** Development languages of standard services. MSEC knew c++, java, php and python; go and
 *  the JavaScript family come with this rebuild's SDKs. Always lowercase, as stored. */
export const serviceLanguages = ['c++', 'java', 'php', 'python', 'go', 'typescript', 'javascript'] as const;
export type ServiceLanguage = (typeof serviceLanguages)[number];

export function isServiceLanguage(lang: string): lang is ServiceLanguage {
  return (serviceLanguages as readonly string[]).includes(lang);
}

export function checkLanguage(lang: string): ServiceLanguage {
  if (isServiceLanguage(lang)) return lang;
  const lower = typeof lang === 'string' ? lang.toLowerCase() : '';
  if (isServiceLanguage(lower)) {
    return refuse('invalid', `language "${lang}" must be written in lowercase: "${lower}"`);
  }
  return refuse('invalid', `language "${lang}" is not supported; use one of ${serviceLanguages.join(', ')}`);
}
