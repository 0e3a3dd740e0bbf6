import type { RecordedEvent } from '../domain/events.ts';
import { evolveLogSettings, logSettingsEventTypes, type LogSettingsEvent, type LogSettingsState } from '../domain/logs/settings.ts';
import type { StateProjection } from './projection.ts';
import { keyedList } from './sorted-list.ts';

/**
 * The business-log settings of every service (domain/logs/settings.ts) as the console serves
 * them: to its settings page, to `msec log settings`, and to running services, which poll
 * them with the revision as ETag. A service without events has no entry (level and rules
 * then come from its config version alone).
 */
export interface ServiceLogSettings extends LogSettingsState {
  service: string;
  /** Revision of stream `logs-<service>`: changes with every change (-1: never changed). */
  revision: number;
}

export interface LogSettingsView {
  /** Sorted by service. */
  services: ServiceLogSettings[];
}

const settingsList = keyedList<ServiceLogSettings>((s) => s.service);

const none = (service: string): ServiceLogSettings => ({ service, revision: -1, level: null, colorRules: [], fields: [] });

export const logSettingsProjection: StateProjection<LogSettingsView> = {
  kind: 'state',
  name: 'log-settings',
  version: 1,
  handles: logSettingsEventTypes,
  initialState: () => ({ services: [] }),
  apply(state, event) {
    const e = event as RecordedEvent<LogSettingsEvent>;
    const service = e.data.service;
    const before = settingsList.find(state.services, service) ?? none(service);
    const { level, colorRules, fields } = evolveLogSettings(before, e);
    return { services: settingsList.with(state.services, { service, revision: e.revision, level, colorRules, fields }) };
  },
};

/** One service's settings, or the empty ones. */
export function logSettingsOf(view: LogSettingsView | undefined, service: string): ServiceLogSettings {
  return (view && settingsList.find(view.services, service)) ?? none(service);
}
