// keydialog.js: the API key dialog, shared by both views. The Client
// calls askKey when the server answers 401; the key typed in is
// remembered in localStorage by api.js.

import {$} from './dom.js';
import {forgetKey, storedKey} from './api.js';

// askKey opens the dialog with the server's message and resolves to the
// key entered, or to null when the dialog is cancelled.
export function askKey(message, triedKey) {
  const dialog = $('key-dialog');
  const form = $('key-form');
  const input = $('key-input');
  $('key-message').textContent = triedKey
    ? `The server refused the remembered API key: ${message}`
    : `This server needs an API key for that: ${message}`;
  input.value = '';
  return new Promise((resolve) => {
    const done = (value) => {
      form.removeEventListener('submit', onSubmit);
      dialog.removeEventListener('cancel', onCancel);
      $('key-cancel').removeEventListener('click', onCancel);
      if (dialog.open) dialog.close();
      showKeyState();
      resolve(value);
    };
    const onSubmit = (e) => {
      e.preventDefault();
      const v = input.value.trim();
      if (v) done(v);
    };
    const onCancel = (e) => {
      e.preventDefault();
      done(null);
    };
    form.addEventListener('submit', onSubmit);
    dialog.addEventListener('cancel', onCancel);
    $('key-cancel').addEventListener('click', onCancel);
    dialog.showModal();
    input.focus();
  });
}

// showKeyState shows the "Forget API key" button while a key is
// remembered, and wires it once.
export function showKeyState() {
  const b = $('key-forget');
  b.hidden = !storedKey();
  if (!b.dataset.wired) {
    b.dataset.wired = '1';
    b.addEventListener('click', () => {
      forgetKey();
      showKeyState();
    });
  }
}
