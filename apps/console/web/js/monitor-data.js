/** What the Monitor page asks the console, and the shapes it draws (days in the browser's time zone). */
import { api, seg } from './api.js';

export const tz = () => -new Date().getTimezoneOffset() || 0;

const pad = (n) => String(n).padStart(2, '0');
/** YYYYMMDD of a Date in local time. */
export function dayText(date) {
  return `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}`;
}
export const today = () => dayText(new Date());
/** YYYYMMDD ↔ the value of an <input type=date> (YYYY-MM-DD). */
export const toInput = (day) => (day && day.length === 8 ? `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6)}` : '');
export const fromInput = (value) => (value ? value.replaceAll('-', '') : '');
export function addDays(day, n) {
  const d = new Date(Number(day.slice(0, 4)), Number(day.slice(4, 6)) - 1, Number(day.slice(6)) + n);
  return dayText(d);
}

export function loadNames(service, day) {
  return api.get(`/api/services/${seg(service)}/metrics?${new URLSearchParams({ day, tz: String(tz()) })}`);
}

/** { name?, ip?, byIp?, day, compare?, days? } → the console's curves answer. */
export function loadCurves(service, q) {
  const params = new URLSearchParams({ day: q.day, tz: String(tz()) });
  if (q.name) params.set('name', q.name);
  if (q.ip) params.set('ip', q.ip);
  if (q.byIp) params.set('byIp', 'true');
  if (q.compare) params.set('compare', q.compare);
  if (q.days && q.days > 1) params.set('days', String(q.days));
  return api.get(`/api/services/${seg(service)}/metrics/curves?${params}`);
}

export function loadLatency(service, q) {
  const params = new URLSearchParams({ day: q.day, tz: String(tz()) });
  if (q.ip) params.set('ip', q.ip);
  return api.get(`/api/services/${seg(service)}/metrics/latency?${params}`);
}

/**
 * A minute without any report is drawn as 0, as MSEC drew it, up to the current minute; the rest
 * of today stays empty.
 */
export function filled(values, from, nowSeconds = Date.now() / 1000) {
  const upTo = Math.min(values.length, Math.floor((nowSeconds - from) / 60) + 1);
  return values.map((v, i) => (v === null && i < upTo ? 0 : v));
}

/**
 * Turns the curves answer into charts: one per name; series per day (compare), per ip (byIp),
 * or one continuous series over N days.
 */
export function chartsOf(answer, q) {
  const byName = new Map();
  for (const s of answer.series) {
    const list = byName.get(s.name) || [];
    list.push(s);
    byName.set(s.name, list);
  }
  const charts = [];
  for (const [name, list] of byName) {
    if (q.days && q.days > 1) {
      // One line across the days, x = every minute of them.
      const days = answer.days;
      const x = [];
      const values = [];
      for (const day of days) {
        const s = list.find((c) => c.day === day);
        const from = s ? s.from : null;
        const first = from ?? (list[0].from + (days.indexOf(day) - days.indexOf(list[0].day)) * 86400);
        for (let i = 0; i < 1440; i++) {
          x.push(first + i * 60);
          values.push(s ? s.values[i] : null);
        }
        const filledDay = filled(values.slice(-1440), first);
        for (let i = 0; i < 1440; i++) values[values.length - 1440 + i] = filledDay[i];
      }
      charts.push({ name, x, multiDay: true, series: [{ label: `${days[0]}–${days[days.length - 1]}`, values }] });
    } else {
      const base = list.find((c) => c.day === q.day) || list[0];
      const x = base.values.map((_, i) => base.from + i * 60);
      const series = q.byIp
        ? list.filter((c) => c.day === q.day).map((c) => ({ label: c.ip, values: filled(c.values, c.from) }))
        : answer.days.map((day) => {
          const c = list.find((s) => s.day === day);
          return { label: day, values: c ? filled(c.values, c.from) : new Array(1440).fill(0) };
        });
      charts.push({ name, x, multiDay: false, series });
    }
  }
  return charts;
}

/** The curves answer as CSV: one line per minute and series. */
export function toCsv(answer) {
  const quote = (v) => (/[",\n]/.test(String(v)) ? `"${String(v).replaceAll('"', '""')}"` : String(v));
  const lines = ['time,day,name,ip,value'];
  for (const s of answer.series) {
    s.values.forEach((v, i) => {
      if (v === null) return;
      lines.push([new Date((s.from + i * 60) * 1000).toISOString(), s.day, s.name, s.ip || '', v].map(quote).join(','));
    });
  }
  return `${lines.join('\n')}\n`;
}
