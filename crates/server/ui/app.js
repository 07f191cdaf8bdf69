// The console's single page: login, the password change that the first
// login requires, navigation between pages by the URL's hash.

import { api, setCsrf } from './api.js';
import { el, toast, PAGES } from './pages.js';

const ROLE_RANK = { 'read-only': 0, 'security-analyst': 1, admin: 2 };
const state = { user: null, page: null, cleanup: null };

/** True when the logged-in user has at least this role. */
export function can(role) {
  return state.user && ROLE_RANK[state.user.role] >= ROLE_RANK[role];
}

function showLogin(message) {
  state.user = null;
  setCsrf(null);
  document.getElementById('app-view').hidden = true;
  document.getElementById('login-view').hidden = false;
  const error = document.getElementById('login-error');
  error.hidden = !message;
  error.textContent = message || '';
  document.getElementById('login-username').focus();
}

function showApp(session) {
  state.user = session.user;
  setCsrf(session.csrf_token);
  document.getElementById('login-view').hidden = true;
  document.getElementById('app-view').hidden = false;
  document.getElementById('whoami').textContent = `${session.user.username} · ${session.user.role}`;
  for (const link of document.querySelectorAll('.sidebar a[data-role]')) link.hidden = !can(link.dataset.role);
  if (session.must_change_password) location.hash = '#/password';
  route();
}

async function route() {
  if (!state.user) return;
  const hash = location.hash.replace(/^#\/?/, '') || 'overview';
  const [name, ...rest] = hash.split('?')[0].split('/');
  const query = new URLSearchParams(hash.includes('?') ? hash.slice(hash.indexOf('?') + 1) : '');
  let page = PAGES[name] ? name : 'overview';
  if (name === 'devices' && rest[0]) page = 'device';
  if (state.user.must_change_password) page = 'password';
  const section = page === 'device' ? 'devices' : page;
  for (const link of document.querySelectorAll('.sidebar a')) link.classList.toggle('active', link.dataset.page === section);
  if (state.cleanup) { try { state.cleanup(); } catch { /* page already gone */ } }
  state.cleanup = null;
  const main = document.getElementById('main');
  main.replaceChildren(el('div', { class: 'empty' }, 'Loading…'));
  try {
    const node = await PAGES[page]({ args: rest, query, user: state.user, can, onLeave: (f) => { state.cleanup = f; }, refreshUser });
    main.replaceChildren(node);
    main.focus({ preventScroll: true });
  } catch (e) {
    if (e.status === 401) return;
    main.replaceChildren(el('div', { class: 'card error' }, `Could not load this page: ${e.message}`));
  }
}

async function refreshUser() {
  const session = await api('GET', '/auth/me');
  state.user = session.user;
  setCsrf(session.csrf_token);
  document.getElementById('whoami').textContent = `${session.user.username} · ${session.user.role}`;
  return session;
}

async function loadSiteName() {
  try {
    const settings = await api('GET', '/settings', undefined, { quiet: true });
    const name = settings.items.find((s) => s.key === 'site_name');
    document.getElementById('site-name').textContent = (name && name.value) || '';
  } catch { /* only admins read settings */ }
}

document.getElementById('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  const button = document.getElementById('login-submit');
  button.disabled = true;
  try {
    const session = await api('POST', '/auth/login', { username: form.username.value, password: form.password.value }, { quiet: true });
    form.password.value = '';
    showApp(session);
    loadSiteName();
  } catch (e) {
    showLogin(e.message);
  } finally {
    button.disabled = false;
  }
});

document.getElementById('logout').addEventListener('click', async () => {
  try { await api('POST', '/auth/logout'); } catch { /* logged out anyway */ }
  showLogin();
});

window.addEventListener('hashchange', route);
window.addEventListener('palisade:logged-out', () => showLogin('Your session ended; please log in again.'));
window.addEventListener('palisade:toast', (e) => toast(e.detail.message, e.detail.bad));

(async () => {
  try {
    const session = await api('GET', '/auth/me', undefined, { quiet: true });
    showApp(session);
    loadSiteName();
  } catch {
    showLogin();
  }
})();
