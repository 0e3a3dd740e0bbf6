/**
 * One chart of the Monitor page, drawn by uPlot (bundled, /vendor/uPlot.esm.js): per-minute
 * values on a time axis, the legend showing the values under the cursor, a PNG download of the
 * canvas. Series colors are fixed so a test (and a user) can tell them apart.
 */
import uPlot from '/vendor/uPlot.esm.js';
import { h } from './dom.js';

export const PALETTE = ['#2563eb', '#f59e0b', '#16a34a', '#dc2626', '#9333ea', '#0891b2', '#db2777', '#65a30d', '#ea580c', '#4f46e5'];

let cssLoaded = false;
function loadCss() {
  if (cssLoaded) return;
  cssLoaded = true;
  document.head.append(h('link', { rel: 'stylesheet', href: '/vendor/uPlot.min.css' }));
}

const pad = (n) => String(n).padStart(2, '0');
/** Epoch seconds → HH:MM (local time), or MM-DD HH:MM across days. */
function timeLabel(seconds, withDay) {
  const d = new Date(seconds * 1000);
  return `${withDay ? `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` : ''}${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/**
 * makeChart(parent, { title, x: [epoch s…], series: [{ label, values, color? }], width, multiDay })
 * → { el, plot, update(x, series), pngBlob() }
 */
export function makeChart(parent, { title, x, series, width, multiDay = false, testid }) {
  loadCss();
  const holder = h('div', { class: 'chart-plot' });
  const png = h('button', { type: 'button', class: 'small', 'data-testid': 'chart-png' }, 'PNG');
  const el = h('section', { class: 'card chart', 'data-testid': testid || 'chart', 'data-name': title },
    h('div', { class: 'section-head' }, h('h2', { class: 'mono' }, title), png), holder);
  parent.append(el);
  const opts = {
    width: Math.max(320, width),
    height: 220,
    cursor: { drag: { x: true, y: false } },
    scales: { x: { time: true } },
    axes: [
      { values: (_u, ticks) => ticks.map((t) => timeLabel(t, multiDay)) },
      { size: 60 },
    ],
    series: [{ label: 'time', value: (_u, v) => (v === null || v === undefined ? '' : timeLabel(v, true)) },
      ...series.map((s, i) => ({ label: s.label, stroke: s.color || PALETTE[i % PALETTE.length], width: 1.5, spanGaps: false, value: (_u, v) => (v === null || v === undefined ? '—' : String(Math.round(v * 1000) / 1000)) }))],
  };
  const plot = new uPlot(opts, [x, ...series.map((s) => s.values)], holder);
  const chart = {
    el,
    plot,
    title,
    /** New values with the same series (live update). */
    update(nextX, nextSeries) {
      plot.setData([nextX, ...nextSeries.map((s) => s.values)]);
    },
    pngBlob() {
      return new Promise((resolve) => {
        const source = holder.querySelector('canvas');
        const canvas = document.createElement('canvas');
        canvas.width = source.width;
        canvas.height = source.height + 28;
        const g = canvas.getContext('2d');
        g.fillStyle = '#fff';
        g.fillRect(0, 0, canvas.width, canvas.height);
        g.fillStyle = '#1f2328';
        g.font = '14px system-ui, sans-serif';
        g.fillText(`${title}  ${series.map((s) => s.label).join(' / ')}`, 8, 18);
        g.drawImage(source, 0, 28);
        canvas.toBlob(resolve, 'image/png');
      });
    },
  };
  png.addEventListener('click', async () => {
    download(await chart.pngBlob(), `${fileName(title)}.png`);
  });
  return chart;
}

export function fileName(text) {
  return String(text).replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80) || 'chart';
}

/** Saves a Blob as a file (an anchor with a blob: URL; no data leaves the page). */
export function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
