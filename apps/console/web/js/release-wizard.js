/**
 * #/release/new?service=First.Second: the release wizard. Four steps — hosts, versions, rollout,
 * confirm — kept in memory while the page shows; the last one creates the plan, starts it and
 * opens its page. The console checks everything again (and says why in `detail`).
 */
import { api } from './api.js';
import { h, append, replace, badge } from './dom.js';
import { field, guarded } from './forms.js';
import { inputError, showNotice } from './banner.js';
import { loadTree, serviceHref, servicePath } from './services-data.js';
import { NEEDS, RELEASE_TYPES, planHref, planPath, typeLabel, wizardHref } from './releases-data.js';

const STEPS = [['hosts', 'Hosts'], ['versions', 'Versions'], ['rollout', 'Rollout'], ['confirm', 'Confirm']];

/** When no service is named: pick one (standard second-level services). */
async function chooseService(root) {
  const services = (await loadTree()).flatMap((s) => (s.children || []).map((c) => ({ ...c, fullName: c.fullName || `${s.name}.${c.name}` })))
    .filter((c) => c.kind !== 'odd');
  const select = h('select', { id: 'wizard-service' }, services.map((c) => h('option', { value: c.fullName }, c.fullName)));
  root.append(h('div', { id: 'release-wizard', 'data-step': 'service' },
    h('h1', {}, 'New release'),
    h('section', { class: 'card' },
      services.length
        ? h('div', { class: 'inline-form' }, field('Service', select),
          h('button', { type: 'button', class: 'primary', id: 'wizard-service-next', onclick: () => (location.hash = wizardHref(select.value)) }, 'Next'))
        : h('p', { class: 'muted' }, 'No standard second-level service yet.'))));
}

export async function renderReleaseWizard(root, { query }) {
  const name = query.get('service');
  if (!name) return chooseService(root);
  document.title = `Release ${name} · msec console`;
  const [service, artifactsAnswer, librariesAnswer, installedAnswer] = await Promise.all([
    api.get(servicePath(name)), api.get(`${servicePath(name)}/artifacts`), api.get(`${servicePath(name)}/libraries`),
    api.get(`${servicePath(name)}/installed`)]);
  const hosts = service.hosts || [];
  const configs = service.configs || [];
  const idls = service.idls || [];
  const artifacts = artifactsAnswer.artifacts || [];
  const libraries = librariesAnswer.libraries || [];
  const installedOf = new Map((installedAnswer.hosts || []).map((x) => [`${x.ip}:${x.port}`, x.installed]));
  const last = (list) => list[list.length - 1]?.tag ?? '';

  let step = 0;
  const wizard = h('div', { id: 'release-wizard', 'data-service': name, 'data-step': STEPS[0][0] });
  const stepsBar = h('ol', { id: 'wizard-steps', class: 'wizard-steps' });

  // ---- step 1: hosts --------------------------------------------------------------------------------
  const hostChecks = hosts.map((x) => h('input', { type: 'checkbox', 'data-testid': 'wizard-host', 'data-addr': `${x.ip}:${x.port}`, value: `${x.ip}:${x.port}` }));
  const all = h('input', { type: 'checkbox', id: 'wizard-hosts-all', onchange: (e) => hostChecks.forEach((c) => (c.checked = e.currentTarget.checked)) });
  const runs = (addr) => {
    const i = installedOf.get(addr);
    if (!i) return h('span', { class: 'muted' }, 'not installed');
    return h('span', { class: 'mono' }, [i.config && `config ${i.config}`, i.artifact && `artifact ${i.artifact}`].filter(Boolean).join(', ') || '—', ' (', i.state, ')');
  };
  const hostsPanel = h('div', { id: 'wizard-step-hosts', class: 'wizard-panel' },
    h('p', { class: 'hint' }, 'The hosts that get this release (hosts of the service; each needs an enrolled agent).'),
    hosts.length
      ? h('table', { class: 'grid', id: 'wizard-hosts' },
        h('thead', {}, h('tr', {}, h('th', {}, h('label', {}, all, ' all')), h('th', {}, 'Host'), h('th', {}, 'Routing'), h('th', {}, 'Runs now'))),
        h('tbody', {}, hosts.map((x, i) => h('tr', { 'data-testid': 'wizard-host-row', 'data-addr': `${x.ip}:${x.port}` },
          h('td', {}, hostChecks[i]),
          h('td', {}, h('label', { class: 'mono' }, `${x.ip}:${x.port}`)),
          h('td', {}, badge(x.enabled ? 'enabled' : 'disabled')),
          h('td', {}, runs(`${x.ip}:${x.port}`))))))
      : h('p', { class: 'muted' }, 'This service has no hosts yet: add them on its page first.'));

  // ---- step 2: versions ---------------------------------------------------------------------------
  const options = (list, latest) => [h('option', { value: '' }, '— none —'),
    [...list].reverse().map((v) => h('option', { value: v.tag, selected: v.tag === latest }, `${v.tag}${v.memo ? ` · ${v.memo}` : ''}`))];
  const type = h('select', { id: 'wizard-type', name: 'type' }, RELEASE_TYPES.map(([v, label]) => h('option', { value: v }, label)));
  const config = h('select', { id: 'wizard-config', name: 'config' }, options(configs, last(configs)));
  const idl = h('select', { id: 'wizard-idl', name: 'idl' }, options(idls, last(idls)));
  const artifact = h('select', { id: 'wizard-artifact', name: 'artifact' }, options(artifacts, last(artifacts)));
  config.value = last(configs);
  idl.value = last(idls);
  artifact.value = last(artifacts);
  const libraryNote = h('p', { class: 'hint', id: 'wizard-libraries' },
    libraries.length ? `Library files released with a complete or library-only release: ${libraries.map((l) => l.name).join(', ')}.` : 'No library files.');
  const typeChanged = () => {
    const needs = NEEDS[type.value] || {};
    config.disabled = !needs.config;
    artifact.disabled = !needs.artifact;
  };
  type.addEventListener('change', typeChanged);
  typeChanged();
  const versionsPanel = h('div', { id: 'wizard-step-versions', class: 'wizard-panel', hidden: true },
    h('div', { class: 'row' }, field('Release type', type, 'grow')),
    h('div', { class: 'row' }, field('Config version', config), field('IDL version (recorded)', idl), field('Artifact', artifact)),
    libraryNote);

  // ---- step 3: rollout ----------------------------------------------------------------------------
  const num = (id, value, min, max) => h('input', { id, type: 'number', min, max, value });
  const canary = num('wizard-canary', 0, 0, 1000);
  const canaryAuto = num('wizard-canary-auto', 0, 0, 86400);
  const batch = num('wizard-batch', 0, 0, 1000);
  const healthTimeout = num('wizard-health-timeout', 30, 1, 600);
  const enable = h('input', { type: 'checkbox', id: 'wizard-enable', checked: true });
  const autoRollback = h('input', { type: 'checkbox', id: 'wizard-auto-rollback' });
  const memo = h('input', { id: 'wizard-memo', maxlength: 140, placeholder: 'what this release brings', autocomplete: 'off' });
  const reason = h('input', { id: 'wizard-reason', maxlength: 500, placeholder: 'optional, recorded in audit', autocomplete: 'off' });
  const rolloutPanel = h('div', { id: 'wizard-step-rollout', class: 'wizard-panel', hidden: true },
    h('div', { class: 'row' },
      field('Canary hosts (0: none)', canary), field('Go on after a healthy canary (s; 0: wait for Resume)', canaryAuto),
      field('Then hosts at a time (0: all)', batch), field('Health timeout (s)', healthTimeout)),
    h('label', { class: 'check' }, enable, ' Routing follows: out of routing before the stop, back in once healthy (enables the hosts)'),
    h('label', { class: 'check' }, autoRollback, ' Automatic rollback: a failed host rolls back every host released so far'),
    h('div', { class: 'row' }, field('Memo', memo, 'grow'), field('Reason', reason, 'reason grow')));

  // ---- step 4: confirm ----------------------------------------------------------------------------
  const summary = h('dl', { id: 'wizard-summary', class: 'summary' });
  const created = h('p', { id: 'wizard-created', class: 'hint', hidden: true });
  const confirmPanel = h('div', { id: 'wizard-step-confirm', class: 'wizard-panel', hidden: true },
    h('p', { class: 'hint' }, 'The plan is created and started at once; its page follows each host.'), summary, created);

  const panels = [hostsPanel, versionsPanel, rolloutPanel, confirmPanel];
  const chosenHosts = () => hostChecks.filter((c) => c.checked).map((c) => c.value);
  const int = (input, what) => {
    const n = Number(input.value || 0);
    if (!Number.isInteger(n) || n < Number(input.min) || n > Number(input.max)) throw inputError(`${what} must be a whole number from ${input.min} to ${input.max}`);
    return n;
  };
  /** The request as it will be sent (checked as far as the page can). */
  const body = () => {
    const needs = NEEDS[type.value];
    const b = {
      service: name, hosts: chosenHosts(), type: type.value,
      config: needs.config ? config.value : undefined, idl: idl.value, artifact: needs.artifact ? artifact.value : undefined,
      canary: int(canary, 'Canary hosts'), canaryAutoSeconds: int(canaryAuto, 'The canary\'s wait'), batch: int(batch, 'Hosts at a time'),
      healthTimeoutSeconds: int(healthTimeout, 'The health timeout'), enable: enable.checked, autoRollback: autoRollback.checked,
      memo: memo.value.trim(), reason: reason.value.trim(),
    };
    return b;
  };
  const check = (at) => {
    if (at >= 0 && !chosenHosts().length) throw inputError('choose at least one host');
    if (at >= 1) {
      const needs = NEEDS[type.value];
      if (needs.config && !config.value) throw inputError(`a ${typeLabel(type.value)} release needs a config version`);
      if (needs.artifact && !artifact.value) throw inputError(`a ${typeLabel(type.value)} release needs an artifact (upload one on the service page)`);
      if (type.value === 'only_library' && !libraries.length) throw inputError(`${name} has no library files to release`);
    }
    if (at >= 2) {
      const b = body();
      const n = b.hosts.length;
      if (b.canary > 0 && b.canary >= n) throw inputError(`the canary is some of the hosts: at most ${n - 1} of the ${n} chosen`);
      if (b.batch > n) throw inputError(`hosts at a time: at most ${n}`);
    }
  };

  const item = (key, label, value) => [h('dt', {}, label), h('dd', { 'data-testid': 'wizard-summary-item', 'data-key': key }, value)];
  const fillSummary = () => {
    const b = body();
    replace(summary,
      item('service', 'Service', b.service),
      item('hosts', 'Hosts', b.hosts.join(', ')),
      item('type', 'Type', typeLabel(b.type)),
      item('config', 'Config', b.config || '—'),
      item('idl', 'IDL', b.idl || '—'),
      item('artifact', 'Artifact', b.artifact || '—'),
      item('libraries', 'Library files', b.type === 'complete' || b.type === 'only_library' ? String(libraries.length) : 'kept'),
      item('rollout', 'Rollout', `${b.canary ? `canary ${b.canary}${b.canaryAutoSeconds ? ` (goes on after ${b.canaryAutoSeconds} s)` : ' (waits for Resume)'}, then ` : ''}`
        + `${b.batch ? `${b.batch} at a time` : 'all at once'}`),
      item('enable', 'Routing follows', b.enable ? 'yes' : 'no'),
      item('autoRollback', 'Automatic rollback', b.autoRollback ? 'yes' : 'no'),
      item('healthTimeout', 'Health timeout', `${b.healthTimeoutSeconds} s`),
      item('memo', 'Memo', b.memo || '—'));
  };

  const back = h('button', { type: 'button', id: 'wizard-back', onclick: () => go(step - 1) }, 'Back');
  const next = h('button', { type: 'button', class: 'primary', id: 'wizard-next', onclick: () => guarded(next, async () => go(step + 1)) }, 'Next');
  const submit = h('button', { type: 'button', class: 'primary', id: 'wizard-submit', onclick: () => guarded(submit, create) }, 'Create and start');

  const go = (to) => {
    if (to > step) check(step);
    step = Math.max(0, Math.min(STEPS.length - 1, to));
    if (STEPS[step][0] === 'confirm') fillSummary();
    wizard.dataset.step = STEPS[step][0];
    panels.forEach((p, i) => (p.hidden = i !== step));
    replace(stepsBar, STEPS.map(([key, label], i) => h('li', {
      'data-step': key, class: i === step ? 'current' : i < step ? 'done' : null, 'aria-current': i === step ? 'step' : null,
    }, `${i + 1}. ${label}`)));
    back.disabled = step === 0;
    next.hidden = step === STEPS.length - 1;
    submit.hidden = step !== STEPS.length - 1;
  };

  let planId = null;
  const create = async () => {
    check(2);
    if (!planId) {
      planId = (await api.post('/api/releases', body())).planId;
      created.textContent = `Created release plan ${planId}.`;
      created.hidden = false;
    }
    try {
      await api.post(`${planPath(planId)}/start`, { reason: reason.value.trim() });
    } catch (err) {
      replace(created, `Release plan ${planId} was created but not started: `, h('a', { href: planHref(planId), id: 'wizard-created-link' }, 'open it'), '.');
      throw err;
    }
    showNotice(`Started release plan ${planId} of ${name}`);
    location.hash = planHref(planId);
  };

  append(wizard, [
    h('div', { class: 'section-head' }, h('h1', {}, 'Release ', h('a', { href: serviceHref(name), class: 'mono' }, name))),
    stepsBar,
    h('section', { class: 'card' }, panels, h('div', { class: 'actions wizard-actions' }, back, next, submit)),
  ]);
  go(0);
  root.append(wizard);
}
