/** How a host's agent is doing, in one small label: its state badge and the load of its host. */
import { h, badge } from './dom.js';

const pct = (n) => (typeof n === 'number' ? `${n.toFixed(1)} %` : '—');

/** { state, cpuPercent, memUsedPercent } (a host of GET /api/capacity) → "alive cpu 12.5 %, mem 40.1 %". */
export function agentState(d) {
  return [badge(d.state, 'agent-state'),
    typeof d.cpuPercent === 'number' ? h('span', { class: 'muted' }, ` cpu ${pct(d.cpuPercent)}, mem ${pct(d.memUsedPercent)}`) : null];
}
