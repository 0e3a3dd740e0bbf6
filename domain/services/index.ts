/** The service tree: names, first-level and second-level service deciders, and the checks
 *  (INI, IDL) their versions pass before they are stored. */
export * from './events.ts';
export * from './commands.ts';
export * from './names.ts';
export { serviceKinds, checkKind } from './kinds.ts';
export { serviceLanguages, isServiceLanguage, checkLanguage, type ServiceLanguage } from './languages.ts';
export { hostProtocols, checkProtocol, checkWeight, DEFAULT_HOST_WEIGHT, MIN_HOST_WEIGHT, MAX_HOST_WEIGHT } from './hosts.ts';
export { parseIni, IniSyntaxError, type IniDocument, type IniSection } from './ini.ts';
export { parseIdl, IdlSyntaxError, type IdlSummary } from './idl.ts';
export { checkMemo, checkConfigText, checkIdlText, MAX_MEMO_LENGTH, MAX_VERSION_TEXT_BYTES } from './versions.ts';
export { firstLevelDecider, type FirstLevelState } from './first-level.ts';
export { serviceDecider, type ServiceState, type HostState, type VersionState } from './service.ts';
