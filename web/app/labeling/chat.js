// The chat of a `<Chat>` object (red teaming): the conversation as bubbles,
// a box to write the next message (Enter sends, Shift+Enter starts a new
// line), the model's replies fetched through the server's chat proxy, and
// under each reply the per-message controls (`perRegion` controls on the
// chat: harm category, severity, whether the attack succeeded).
//
// The conversation is the annotation: each message is a `chatmessage` result
// (`{id, from_name: chat, to_name: chat, type: 'chatmessage', value:
// {chatmessage: {role, content, …}}}`) and each label of a message a result of
// its control with the message's `id`, so drafts and submits save it and a
// reload shows it again. The task's own first messages (the chat's data
// field) are shown above and are not part of the result.

import { el, button } from './dom.js';
import { newId } from './model.js';
import { choicesPanel, ratingPanel, textAreaPanel, numberPanel, taxonomyPanel } from './panels.js';

/** @typedef {import('./types.js').ObjectTag} ObjectTag */
/** @typedef {import('./types.js').ControlTag} ControlTag */
/** @typedef {import('./types.js').Entry} Entry */
/** @typedef {import('./types.js').ResultItem} ResultItem */
/** @typedef {import('./panels.js').PanelHost} PanelHost */
/** @typedef {import('./panels.js').Panel} Panel */

/**
 * What the page gives the workspace to talk to the model: the task's chat
 * status and the proxy. Absent in previews, where nothing is sent.
 * @typedef {{
 *   status: () => Promise<{configured: boolean, model: string | null}>,
 *   send: (messages: {role: string, content: string}[]) => Promise<ChatReply>,
 * }} ChatBackend
 */

/**
 * The server's answer to a chat message.
 * @typedef {{role: string, content: string, model: string, usage: any, finish_reason: string | null, latency_ms: number}} ChatReply
 */

/** The result type of the controls a message can be labelled with. */
const LABEL_TYPES = /** @type {Record<string, string>} */ ({ Choices: 'choices', TextArea: 'textarea', Number: 'number', Rating: 'rating', Taxonomy: 'taxonomy' });

/** Shown when the project has no model endpoint. */
export const NO_ENDPOINT = 'This project has no model endpoint; a manager can set one in Settings.';

/** Keys of the chat, for the keyboard map. */
export const CHAT_HELP = /** @type {[string, string][]} */ ([
  ['Enter (in the message box)', 'Send the message to the model'],
  ['Shift+Enter (in the message box)', 'New line'],
  ['Tab', 'Move to the labels under each reply'],
]);

/** Whether `control` labels single messages of a chat in `chats`. @param {ControlTag} control @param {Set<string>} chats */
export function isMessageControl(control, chats) {
  return control.per_region && Boolean(LABEL_TYPES[control.kind]) && control.to_names.some((name) => chats.has(name));
}

/** @param {unknown} item @returns {item is ResultItem} */
function isMessageItem(item) {
  return Boolean(item && typeof item === 'object' && /** @type {ResultItem} */ (item).type === 'chatmessage');
}

export class ChatView {
  /**
   * @param {ObjectTag} object
   * @param {Record<string, unknown>} data the task's data
   * @param {{
   *   entries: () => readonly Entry[],
   *   commit: (next: Entry[], mergeKey?: string | null) => void,
   *   controls: ControlTag[],
   *   host: PanelHost,
   *   readOnly: boolean,
   *   backend: ChatBackend | null,
   * }} options
   */
  constructor(object, data, options) {
    this.object = object;
    this.options = options;
    this.labelControls = options.controls.filter((c) => isMessageControl(c, new Set([object.name])));
    /** The task's first messages. @type {{role: string, content: string}[]} */
    this.seed = [];
    const raw = data[object.value];
    // One string is one user message, as LLM feedback's prompts are.
    if (typeof raw === 'string' && raw) this.seed.push({ role: 'user', content: raw });
    if (Array.isArray(raw)) {
      for (const m of raw) {
        if (m && typeof m === 'object' && typeof m.role === 'string' && typeof m.content === 'string') this.seed.push({ role: m.role, content: m.content });
      }
    }
    /** @type {'checking' | 'ready' | 'none' | 'off'} */
    this.state = options.backend ? 'checking' : 'off';
    this.model = /** @type {string | null} */ (null);
    this.waiting = false;
    this.destroyed = false;
    /** Rows of the messages in the result, by message id. @type {Map<string, {row: HTMLElement, panels: Panel[], text: HTMLElement, meta: HTMLElement, again: HTMLElement | null}>} */
    this.rows = new Map();

    this.status = el('div', { class: 'gl-chat-status', 'aria-live': 'polite' });
    this.log = el('ol', { class: 'gl-chat-log', 'aria-label': 'Conversation' });
    for (const message of this.seed) this.log.append(this.bubble(message.role, message.content, 'From the task').row);
    this.empty = el('li', { class: 'gl-chat-empty gl-muted' }, ['No messages yet: write the first one below.']);
    this.log.append(this.empty);
    this.waitingRow = el('div', { class: 'gl-chat-waiting', role: 'status', hidden: true }, ['Waiting for the model…']);
    this.error = el('div', { class: 'gl-chat-error gl-error', role: 'alert', hidden: true });
    this.retryButton = button('Retry', 'Send the conversation again', () => void this.ask(), 'gl-chat-retry');
    this.retryButton.hidden = true;
    this.input = el('textarea', {
      class: 'gl-chat-input', rows: 3, 'aria-label': 'Message to the model',
      placeholder: 'Write a message (Enter sends, Shift+Enter for a new line)',
    });
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.ctrlKey && !e.metaKey && !e.altKey && !e.isComposing) {
        e.preventDefault();
        e.stopPropagation();
        void this.sendInput();
      }
    });
    this.sendButton = el('button', { type: 'button', class: 'gl-button gl-chat-send' }, ['Send']);
    this.sendButton.addEventListener('click', () => void this.sendInput());
    const compose = el('div', { class: 'gl-chat-compose' }, [this.input, el('div', { class: 'gl-chat-actions' }, [this.retryButton, this.sendButton])]);
    compose.hidden = options.readOnly;
    this.element = el('section', { class: 'gl-chat', 'data-object': object.name, 'aria-label': `Chat ${object.name}` }, [
      this.status, this.log, this.waitingRow, this.error, compose,
    ]);
    this.update();
    void this.checkStatus();
  }

  async checkStatus() {
    const backend = this.options.backend;
    if (!backend) return;
    try {
      const status = await backend.status();
      this.state = status.configured ? 'ready' : 'none';
      this.model = status.model;
    } catch (err) {
      this.state = 'none';
      this.showError(`The chat's state could not be read: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.update();
  }

  /** The chat's messages in the result, in order. @returns {ResultItem[]} */
  messages() {
    /** @type {ResultItem[]} */
    const found = [];
    for (const e of this.options.entries()) {
      if (e.kind === 'item' && isMessageItem(e.item) && e.item.from_name === this.object.name && typeof e.item.id === 'string') found.push(e.item);
    }
    return found;
  }

  /** @param {string} role @param {string} content @param {string} [note] */
  bubble(role, content, note) {
    const who = role === 'user' ? 'You' : role === 'assistant' ? 'Model' : role === 'system' ? 'System' : role;
    const text = el('div', { class: 'gl-chat-text' }, [content]);
    const meta = el('div', { class: 'gl-chat-meta gl-muted' }, [note ?? '']);
    const row = el('li', { class: `gl-chat-message gl-chat-${role === 'user' || role === 'assistant' || role === 'system' ? role : 'other'}`, 'data-role': role }, [
      el('div', { class: 'gl-chat-who' }, [who]), text, meta,
    ]);
    return { row, text, meta };
  }

  /**
   * A host for one message's label panels: the workspace's, with the values
   * read from and written to the results that carry the message's id.
   * @param {string} messageId
   * @returns {PanelHost}
   */
  messageHost(messageId) {
    const base = this.options.host;
    /** @param {ControlTag} control */
    const valueOf = (control) => {
      for (const e of this.options.entries()) {
        if (e.kind === 'item' && e.item.id === messageId && e.item.from_name === control.name && e.item.type === LABEL_TYPES[control.kind]) return e.item.value ?? {};
      }
      return {};
    };
    /** @param {ControlTag} control @param {Record<string, unknown> | null} value @param {string | null} [mergeKey] */
    const set = (control, value, mergeKey = null) => this.setLabel(messageId, control, value, mergeKey);
    return {
      ...base,
      hotkeyOf: () => null,
      choicesOf: (control) => {
        const chosen = valueOf(control).choices;
        return Array.isArray(chosen) ? chosen.filter((c) => typeof c === 'string') : [];
      },
      toggleChoice: (control, value) => {
        const chosen = valueOf(control).choices;
        const now = Array.isArray(chosen) ? chosen.filter((c) => typeof c === 'string') : [];
        let next;
        if (control.choice === 'multiple') next = now.includes(value) ? now.filter((c) => c !== value) : [...now, value];
        else if (control.choice === 'single-radio') next = [value];
        else next = now.includes(value) ? [] : [value];
        set(control, next.length ? { choices: next } : null);
      },
      textOf: (control) => {
        const text = valueOf(control).text;
        return Array.isArray(text) ? text.join('\n') : typeof text === 'string' ? text : '';
      },
      setText: (control, text) => set(control, text ? { text: [text] } : null, `chat-text:${messageId}:${control.name}`),
      numberOf: (control) => {
        const number = valueOf(control).number;
        return { number: typeof number === 'number' && Number.isFinite(number) ? number : null };
      },
      setNumber: (control, number) => set(control, number === null ? null : { number }, `chat-number:${messageId}:${control.name}`),
      ratingOf: (control) => {
        const rating = valueOf(control).rating;
        return { rating: typeof rating === 'number' && Number.isFinite(rating) ? rating : null };
      },
      setRating: (control, rating) => set(control, rating === null ? null : { rating }),
      taxonomyOf: (control) => {
        const paths = valueOf(control).taxonomy;
        return Array.isArray(paths) ? paths.filter((p) => Array.isArray(p) && p.every((s) => typeof s === 'string')) : [];
      },
      toggleTaxonomy: (control, path) => {
        const paths = valueOf(control).taxonomy;
        const now = Array.isArray(paths) ? paths : [];
        const key = JSON.stringify(path);
        const next = now.some((p) => JSON.stringify(p) === key) ? now.filter((p) => JSON.stringify(p) !== key) : [...now, path];
        set(control, next.length ? { taxonomy: next } : null);
      },
    };
  }

  /**
   * Sets (or with null removes) a message's label from `control`.
   * @param {string} messageId @param {ControlTag} control
   * @param {Record<string, unknown> | null} value @param {string | null} mergeKey
   */
  setLabel(messageId, control, value, mergeKey) {
    if (this.options.readOnly) return;
    const type = LABEL_TYPES[control.kind];
    const current = this.options.entries();
    const index = current.findIndex((e) => e.kind === 'item' && e.item.id === messageId && e.item.from_name === control.name && e.item.type === type);
    const next = current.slice();
    if (!value) {
      if (index < 0) return;
      next.splice(index, 1);
    } else {
      const old = index >= 0 ? current[index] : null;
      const item = Object.freeze({
        ...(old && old.kind === 'item' ? old.item : { id: messageId, from_name: control.name, to_name: this.object.name, type }),
        value: { ...(old && old.kind === 'item' ? old.item.value : {}), ...value },
      });
      /** @type {Entry} */
      const entry = { kind: 'item', id: old?.id ?? newId(), item };
      if (index >= 0) next[index] = entry;
      else next.push(entry);
    }
    this.options.commit(next, mergeKey);
  }

  /** Adds a message to the result. @param {Record<string, unknown>} chatmessage */
  addMessage(chatmessage) {
    const id = newId();
    /** @type {Entry} */
    const entry = {
      kind: 'item', id,
      item: Object.freeze({ id, from_name: this.object.name, to_name: this.object.name, type: 'chatmessage', value: { chatmessage } }),
    };
    this.options.commit([...this.options.entries(), entry]);
  }

  async sendInput() {
    if (!this.canSend()) return;
    const text = this.input.value;
    if (!text.trim()) {
      this.input.focus();
      return;
    }
    this.input.value = '';
    this.addMessage({ role: 'user', content: text, createdAt: new Date().toISOString() });
    await this.ask();
  }

  canSend() {
    return this.state === 'ready' && !this.waiting && !this.options.readOnly;
  }

  /** Sends the conversation so far and adds the model's reply. */
  async ask() {
    const backend = this.options.backend;
    if (!backend || this.waiting) return;
    // The project's system prompt is the server's: the task's system
    // messages are shown, not sent.
    const conversation = [...this.seed, ...this.messages().map((m) => m.value.chatmessage)]
      .filter((m) => m && (m.role === 'user' || m.role === 'assistant'))
      .map((m) => ({ role: String(m.role), content: String(m.content) }));
    if (!conversation.length || conversation[conversation.length - 1].role !== 'user') return;
    this.waiting = true;
    this.hideError();
    this.update();
    try {
      const reply = await backend.send(conversation);
      this.waiting = false;
      // The task was left meanwhile: the reply belongs to no result now.
      if (this.destroyed) return;
      /** @type {Record<string, unknown>} */
      const message = { role: 'assistant', content: reply.content, model: reply.model, latency_ms: reply.latency_ms, createdAt: new Date().toISOString() };
      if (reply.usage && typeof reply.usage === 'object') message.usage = reply.usage;
      if (reply.finish_reason) message.finish_reason = reply.finish_reason;
      this.addMessage(message);
    } catch (err) {
      this.waiting = false;
      if (this.destroyed) return;
      const error = /** @type {any} */ (err);
      if (error?.code === 'no_model_endpoint') this.state = 'none';
      // The server's message names the endpoint's status when it answered.
      this.showError(error instanceof Error ? error.message : String(err));
    }
    this.update();
    if (this.canSend()) this.input.focus();
  }

  destroy() {
    this.destroyed = true;
  }

  /**
   * Drops the last reply (and its labels) and asks the model again.
   * @param {string} id the reply's id
   */
  async regenerate(id) {
    if (!this.canSend()) return;
    const messages = this.messages();
    if (messages[messages.length - 1]?.id !== id) return;
    this.options.commit(this.options.entries().filter((e) => !(e.kind === 'item' && e.item.id === id)));
    await this.ask();
  }

  /** @param {string} message */
  showError(message) {
    this.error.textContent = message;
    this.error.hidden = false;
  }

  hideError() {
    this.error.hidden = true;
    this.error.textContent = '';
  }

  /** Shows the result's messages and labels as they are now. */
  update() {
    const messages = this.messages();
    const ids = new Set(messages.map((m) => /** @type {string} */ (m.id)));
    for (const [id, row] of this.rows) {
      if (!ids.has(id)) {
        row.row.remove();
        this.rows.delete(id);
      }
    }
    let previous = /** @type {Element | null} */ (this.seed.length ? this.log.children[this.seed.length - 1] : null);
    for (const item of messages) {
      const id = /** @type {string} */ (item.id);
      const message = item.value?.chatmessage ?? {};
      const role = typeof message.role === 'string' ? message.role : 'user';
      const content = typeof message.content === 'string' ? message.content : '';
      let row = this.rows.get(id);
      if (!row) {
        const made = this.bubble(role, content);
        made.row.dataset.id = id;
        /** @type {Panel[]} */
        const panels = [];
        if (role === 'assistant' && this.labelControls.length) {
          const host = this.messageHost(id);
          const box = el('div', { class: 'gl-chat-labels', role: 'group', 'aria-label': 'Labels of this reply' });
          for (const control of this.labelControls) {
            const panel = labelPanel(control, host);
            if (!panel) continue;
            const title = control.attributes.title || control.name.replace(/[_-]+/g, ' ');
            box.append(el('div', { class: 'gl-chat-label', 'data-control': control.name }, [el('div', { class: 'gl-chat-label-name' }, [title]), panel.element]));
            panels.push(panel);
          }
          made.row.append(box);
        }
        /** @type {HTMLElement | null} */
        let again = null;
        if (role === 'assistant' && !this.options.readOnly) {
          again = button('Regenerate', 'Drop this reply and its labels, and ask the model again', () => void this.regenerate(id), 'gl-chat-regenerate');
          made.meta.after(again);
        }
        row = { ...made, panels, again };
        this.rows.set(id, row);
      }
      if (row.text.textContent !== content) row.text.textContent = content;
      const details = [];
      if (typeof message.model === 'string') details.push(message.model);
      if (typeof message.latency_ms === 'number') details.push(`${(message.latency_ms / 1000).toFixed(1)} s`);
      const tokens = message.usage?.completion_tokens;
      if (typeof tokens === 'number') details.push(`${tokens} tokens`);
      if (message.finish_reason === 'length') details.push('cut off at the token limit');
      const meta = details.join(' · ');
      if (row.meta.textContent !== meta) row.meta.textContent = meta;
      for (const panel of row.panels) panel.update();
      // In order, moving rows only when they are out of place (moving a
      // row would take the focus from its labels).
      const want = previous ? previous.nextElementSibling : this.log.firstElementChild;
      if (want !== row.row) {
        if (previous) previous.after(row.row);
        else this.log.prepend(row.row);
      }
      previous = row.row;
    }
    this.empty.hidden = this.seed.length + messages.length > 0 || this.state === 'none';
    this.log.append(this.empty);
    const last = messages[messages.length - 1]?.value?.chatmessage;
    const lastId = messages[messages.length - 1]?.id;
    for (const [id, row] of this.rows) {
      if (row.again) row.again.hidden = !(id === lastId && this.state === 'ready' && !this.waiting);
    }
    this.retryButton.hidden = !(this.state === 'ready' && !this.waiting && last?.role === 'user' && !this.error.hidden);
    this.waitingRow.hidden = !this.waiting;
    this.element.classList.toggle('gl-chat-busy', this.waiting);
    this.sendButton.disabled = !this.canSend();
    this.input.disabled = this.state === 'none' || this.state === 'off' || this.options.readOnly;
    const status =
      this.state === 'checking' ? 'Checking the model endpoint…'
      : this.state === 'none' ? NO_ENDPOINT
      : this.state === 'off' ? 'Chatting with the model is off in this preview.'
      : `Chatting with ${this.model ?? 'the model'}.`;
    if (this.status.textContent !== status) this.status.textContent = status;
    this.status.classList.toggle('gl-chat-unavailable', this.state === 'none');
  }
}

/** @param {ControlTag} control @param {PanelHost} host @returns {Panel | null} */
function labelPanel(control, host) {
  if (control.kind === 'Choices') return choicesPanel(control, host);
  if (control.kind === 'Rating') return ratingPanel(control, host);
  if (control.kind === 'TextArea') return textAreaPanel(control, host);
  if (control.kind === 'Number') return numberPanel(control, host);
  if (control.kind === 'Taxonomy') return taxonomyPanel(control, host);
  return null;
}
