/**
 * Monitoring settings, from the environment of `msec up` / `msec console` / `msec projector`:
 *   MSEC_METRICS_RETENTION_DAYS  days of per-minute metrics kept (default 30); older UTC days
 *                                are dropped whole, and reports about them are refused
 *   MSEC_ALARM_GRACE_SECONDS     how long after a minute ends it is judged (default 30: reports
 *                                flushed every 10 s have arrived; MSEC judged at second 35)
 */
export interface MonitorSettings {
  retentionDays: number;
  alarmGraceMs: number;
}

export const defaultMonitorSettings: MonitorSettings = { retentionDays: 30, alarmGraceMs: 30_000 };

export function monitorSettings(env: Record<string, string | undefined> = process.env): MonitorSettings {
  return {
    retentionDays: whole(env.MSEC_METRICS_RETENTION_DAYS, 'MSEC_METRICS_RETENTION_DAYS', 1, 3650, defaultMonitorSettings.retentionDays),
    alarmGraceMs: whole(env.MSEC_ALARM_GRACE_SECONDS, 'MSEC_ALARM_GRACE_SECONDS', 0, 55, defaultMonitorSettings.alarmGraceMs / 1000) * 1000,
  };
}

function whole(text: string | undefined, name: string, min: number, max: number, fallback: number): number {
  if (text === undefined || text.trim() === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name}=${text} is not a whole number from ${min} to ${max}`);
  return n;
}
