// The sandbox chat page. Plain DOM, no framework: every text the bot or a
// person sent goes into the page through textContent or text nodes, never
// innerHTML, and formatting is rebuilt from Telegram's entities.
"use strict";

const $ = (id) => document.getElementById(id);

// T are the page's own texts in its language, which the server picked by
// the browser's language or the switch (page.toml); fill replaces {name}.
const T = JSON.parse($("texts").textContent);
const fill = (s, vars) => s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? vars[k] : m));

const state = {
  cfg: null,
  persona: null,
  staffOpen: false,
  tab: "private",
  source: null,
  // Per pane: message id -> message, plus the ids the bot deleted.
  chats: { private: new Map(), staff: new Map() },
  deleted: { private: new Set(), staff: new Set() },
  // Bumped by every live event, so a history answer never undoes a newer one.
  seq: 0,
};

function chatId(pane) {
  return pane === "staff" ? state.cfg.staff_chat : state.persona.id;
}

function paneOf(chat) {
  if (state.persona && chat === state.persona.id) return "private";
  if (state.cfg && chat === state.cfg.staff_chat) return "staff";
  return null;
}

async function api(path, body) {
  const opts = body === undefined ? {} : {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  };
  const res = await fetch(path, opts);
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error || res.statusText);
  return data;
}

// ---- formatting ----

function safeHref(raw) {
  try {
    const u = new URL(raw, "https://invalid.example/");
    if (u.protocol === "http:" || u.protocol === "https:") return u.href;
  } catch (_) { /* not a URL */ }
  return null;
}

function link(href, child) {
  const a = document.createElement("a");
  a.href = href;
  a.target = "_blank";
  a.rel = "noopener noreferrer";
  a.append(child);
  return a;
}

// wrap puts node inside the element for entity e; whole is the entity's
// full text, for url entities split across segments.
function wrap(node, e, whole) {
  const el = (tag, cls) => {
    const x = document.createElement(tag);
    if (cls) x.className = cls;
    x.append(node);
    return x;
  };
  switch (e.type) {
    case "bold": return el("b");
    case "italic": return el("i");
    case "underline": return el("u");
    case "strikethrough": return el("s");
    case "code": return el("code");
    case "pre": return el("pre");
    case "blockquote": case "expandable_blockquote": return el("blockquote");
    case "spoiler": {
      const s = el("span", "spoiler");
      s.addEventListener("click", () => s.classList.add("shown"));
      return s;
    }
    case "text_link": {
      const href = e.url && safeHref(e.url);
      return href ? link(href, node) : node;
    }
    case "url": {
      const href = safeHref(/^[a-z]+:\/\//i.test(whole) ? whole : "https://" + whole);
      return href ? link(href, node) : node;
    }
    case "email": return link("mailto:" + whole, node);
    case "phone_number": return link("tel:" + whole.replace(/[^+\d]/g, ""), node);
    case "bot_command": {
      const s = el("span", "cmd");
      s.title = fill(T.send_cmd, { cmd: whole });
      s.addEventListener("click", () => sendText(currentPane(s), whole));
      return s;
    }
    default: return node;
  }
}

function currentPane(el) {
  const pane = el.closest(".pane");
  return pane ? pane.dataset.pane : "private";
}

// renderText cuts the text at every entity boundary (offsets are UTF-16
// code units, which is how JavaScript strings index) and wraps each piece in
// the entities covering it, inner ones first.
function renderText(text, entities) {
  const frag = document.createDocumentFragment();
  const ents = (entities || []).filter((e) => e.length > 0 && e.offset >= 0 && e.offset < text.length);
  if (ents.length === 0) {
    frag.append(text);
    return frag;
  }
  const cuts = new Set([0, text.length]);
  for (const e of ents) {
    cuts.add(e.offset);
    cuts.add(Math.min(e.offset + e.length, text.length));
  }
  const points = [...cuts].sort((a, b) => a - b);
  // Longer entities are outer ones: wrap the shorter ones first.
  const byLength = [...ents].sort((a, b) => a.length - b.length);
  for (let i = 0; i + 1 < points.length; i++) {
    const a = points[i], b = points[i + 1];
    let node = document.createTextNode(text.slice(a, b));
    for (const e of byLength) {
      if (e.offset <= a && e.offset + e.length >= b) {
        node = wrap(node, e, text.slice(e.offset, e.offset + e.length));
      }
    }
    frag.append(node);
  }
  return frag;
}

// ---- messages ----

function clock(unix) {
  const d = new Date(unix * 1000);
  return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
}

function div(cls, ...children) {
  const d = document.createElement("div");
  if (cls) d.className = cls;
  d.append(...children);
  return d;
}

function placeView(p, icon) {
  const coords = p.lat.toFixed(5) + ", " + p.lon.toFixed(5);
  const body = div("");
  if (p.title) body.append(div("title", p.title));
  if (p.address) body.append(div("", p.address));
  body.append(div("coords", coords));
  body.append(link(p.map, document.createTextNode(T.open_map)));
  return div("place", div("pin", icon), body);
}

function sizeText(n) {
  if (n >= 1 << 20) return (n / (1 << 20)).toFixed(1) + " MB";
  if (n >= 1 << 10) return Math.round(n / (1 << 10)) + " KB";
  return n + " B";
}

function renderMessage(pane, m) {
  const wrapEl = div("msg" + (m.own ? " own" : ""));
  wrapEl.dataset.id = m.id;
  const bubble = div("bubble");
  if (pane === "staff" && !m.own) {
    bubble.append(div("from", m.from_bot ? state.cfg.bot_name : m.from_name));
  }
  if (m.venue) bubble.append(placeView(m.venue, "📍"));
  if (m.location) bubble.append(placeView(m.location, "📍"));
  if (m.contact) {
    bubble.append(div("contact", div("icon", "👤"), div("", div("title", m.contact.name), div("", m.contact.phone))));
  }
  if (m.photo) {
    if (m.photo.url && m.photo.url.startsWith("/api/")) {
      const img = document.createElement("img");
      img.src = m.photo.url;
      img.alt = "photo";
      bubble.append(div("photo", img));
    } else {
      bubble.append(div("doc", div("icon", "🖼"), div("", m.photo.url ? link(m.photo.url, document.createTextNode("photo")) : "photo")));
    }
  }
  if (m.document) {
    const name = m.document.name || "document";
    const info = div("");
    if (m.document.url) {
      const a = link(m.document.url, document.createTextNode(name));
      if (m.document.url.startsWith("/api/")) a.download = name;
      info.append(a);
    } else {
      info.append(div("title", name));
    }
    if (m.document.size) info.append(div("coords", sizeText(m.document.size)));
    bubble.append(div("doc", div("icon", "📄"), info));
  }
  if (m.other) bubble.append(div("muted", m.other));
  if (m.text) {
    const t = div("text");
    t.append(renderText(m.text, m.entities));
    bubble.append(t);
  }
  const meta = document.createElement("span");
  meta.className = "meta";
  meta.textContent = (m.edited ? T.edited + " " : "") + clock(m.date);
  bubble.append(meta);
  wrapEl.append(bubble);

  if (m.inline && m.inline.length) {
    const kb = div("inline");
    for (const row of m.inline) {
      const r = div("row");
      for (const b of row) {
        if (b.data) {
          const btn = document.createElement("button");
          btn.type = "button";
          btn.textContent = b.text;
          btn.addEventListener("click", () => press(pane, m.id, b.data));
          r.append(btn);
        } else if (b.url) {
          const a = link(b.url, document.createTextNode(b.text + " ↗"));
          a.className = "button";
          r.append(a);
        }
      }
      kb.append(r);
    }
    wrapEl.append(kb);
  }
  return wrapEl;
}

function nearBottom(box) {
  return box.scrollHeight - box.scrollTop - box.clientHeight < 80;
}

// upsert shows a new or edited message; an edit replaces the old element in
// place, so the chat does not jump.
function upsert(pane, m, fromEvent) {
  if (state.deleted[pane].has(m.id)) return;
  if (fromEvent) m._seq = ++state.seq;
  state.chats[pane].set(m.id, m);
  const box = $("messages-" + pane);
  const el = renderMessage(pane, m);
  const old = box.querySelector(`.msg[data-id="${m.id}"]`);
  if (old) {
    old.replaceWith(el);
  } else {
    const stick = nearBottom(box);
    // Keep id order even if a history answer races an event.
    let next = null;
    for (const child of box.children) {
      if (Number(child.dataset.id) > m.id) { next = child; break; }
    }
    box.insertBefore(el, next);
    if (stick || m.own) box.scrollTop = box.scrollHeight;
  }
  refreshChrome(pane);
}

function remove(pane, id) {
  state.deleted[pane].add(id);
  state.chats[pane].delete(id);
  const el = $("messages-" + pane).querySelector(`.msg[data-id="${id}"]`);
  if (el) el.remove();
  refreshChrome(pane);
}

// refreshChrome shows the reply keyboard of the last bot message that set
// or removed one, and the START button of an empty private chat.
function refreshChrome(pane) {
  const msgs = [...state.chats[pane].values()].sort((a, b) => a.id - b.id);
  let kb = null;
  for (const m of msgs) {
    if (!m.from_bot) continue;
    if (m.keyboard) kb = m.keyboard;
    else if (m.remove_keyboard) kb = null;
  }
  const box = $("keyboard-" + pane);
  box.replaceChildren();
  box.hidden = !kb;
  if (kb) {
    for (const row of kb) {
      const r = div("row");
      for (const b of row) {
        const btn = document.createElement("button");
        btn.type = "button";
        btn.textContent = b.text;
        btn.addEventListener("click", () => keyPress(pane, b));
        r.append(btn);
      }
      box.append(r);
    }
  }
  if (pane === "private") $("start-wrap").hidden = msgs.length > 0;
}

async function loadHistory(pane) {
  const since = state.seq;
  const chat = chatId(pane);
  const list = await api(`/api/history?as=${state.persona.id}&chat=${chat}`);
  if (chat !== chatId(pane)) return; // the persona changed meanwhile
  const fresh = new Set(list.map((m) => m.id));
  for (const [id, m] of state.chats[pane]) {
    if (!fresh.has(id) && !(m._seq > since)) remove(pane, id);
  }
  for (const m of list) {
    const have = state.chats[pane].get(m.id);
    if (!have || !(have._seq > since)) upsert(pane, m, false);
  }
  const box = $("messages-" + pane);
  box.scrollTop = box.scrollHeight;
  refreshChrome(pane);
}

// ---- actions ----

function toast(text) {
  const t = $("toast");
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 3500);
}

function report(err) {
  toast("⚠ " + err.message);
}

function sendText(pane, text) {
  return api("/api/send", { as: state.persona.id, chat: chatId(pane), text }).catch(report);
}

function press(pane, messageId, data) {
  return api("/api/press", { as: state.persona.id, chat: chatId(pane), message_id: messageId, data }).catch(report);
}

function keyPress(pane, b) {
  if (b.location && pane === "private") return openLocation();
  if (b.contact && pane === "private") {
    return api("/api/contact", { as: state.persona.id, chat: chatId(pane) }).catch(report);
  }
  return sendText(pane, b.text);
}

function openLocation() {
  const sel = $("settlement");
  sel.replaceChildren(new Option(T.choose, ""));
  const lang = state.persona.lang;
  for (const s of state.cfg.settlements) {
    const opt = new Option(lang === "ru" ? s.ru : s.kk, s.center);
    sel.append(opt);
  }
  $("lat").value = "";
  $("lon").value = "";
  $("location-error").hidden = true;
  $("location-dialog").showModal();
}

function pickSettlement() {
  const s = state.cfg.settlements.find((x) => x.center === $("settlement").value);
  if (!s) return;
  $("lat").value = s.lat;
  $("lon").value = s.lon;
}

async function sendLocation(ev) {
  ev.preventDefault();
  const lat = Number($("lat").value.replace(",", "."));
  const lon = Number($("lon").value.replace(",", "."));
  const err = $("location-error");
  if ($("lat").value.trim() === "" || !Number.isFinite(lat) || lat < -90 || lat > 90 ||
      $("lon").value.trim() === "" || !Number.isFinite(lon) || lon < -180 || lon > 180) {
    err.textContent = T.location_error;
    err.hidden = false;
    return;
  }
  $("location-dialog").close();
  await api("/api/location", { as: state.persona.id, chat: state.persona.id, lat, lon }).catch(report);
}

// ---- live events ----

function connect() {
  if (state.source) state.source.close();
  const src = new EventSource(`/api/events?as=${state.persona.id}`);
  state.source = src;
  // Every (re)connection reloads the history: events sent while the stream
  // was down are not replayed.
  src.addEventListener("open", () => {
    loadHistory("private").catch(report);
    if (state.staffOpen) loadHistory("staff").catch(report);
  });
  src.addEventListener("message", (ev) => {
    const e = JSON.parse(ev.data);
    const pane = paneOf(e.chat);
    if (!pane) return;
    switch (e.kind) {
      case "message":
      case "edit":
        upsert(pane, e.message, true);
        break;
      case "delete":
        state.seq++;
        remove(pane, e.message_id);
        break;
      case "callback_answer":
        if (!e.text) break;
        if (e.show_alert) {
          $("alert-text").textContent = e.text;
          $("alert-dialog").showModal();
        } else {
          toast(e.text);
        }
        break;
    }
  });
}

// ---- layout ----

const narrow = window.matchMedia("(max-width: 799px)");

function layout() {
  const panes = $("panes");
  panes.classList.toggle("staff-open", state.staffOpen);
  $("pane-staff").hidden = !state.staffOpen;
  $("tabs").hidden = !(state.staffOpen && narrow.matches);
  for (const b of $("tabs").querySelectorAll("button")) b.classList.toggle("active", b.dataset.tab === state.tab);
  for (const p of panes.querySelectorAll(".pane")) p.classList.toggle("inactive", p.dataset.pane !== state.tab);
  $("staff-toggle").setAttribute("aria-pressed", String(state.staffOpen));
  const young = state.persona && state.persona.role === "young";
  $("composer-staff").hidden = young;
  $("staff-readonly").hidden = !young;
}

function setStaff(open) {
  state.staffOpen = open;
  state.tab = open ? "staff" : "private";
  if (!narrow.matches) state.tab = "private";
  layout();
  if (open && state.persona) loadHistory("staff").catch(report);
}

function choose(id) {
  const p = state.cfg.personas.find((x) => x.id === id);
  if (!p) return;
  state.persona = p;
  try { localStorage.setItem("jastar-sandbox-persona", String(id)); } catch (_) { /* private mode */ }
  $("persona").value = String(id);
  $("picker").hidden = true;
  for (const pane of ["private", "staff"]) {
    state.chats[pane].clear();
    state.deleted[pane].clear();
    $("messages-" + pane).replaceChildren();
  }
  // The chat is in the persona's language, the page around it in its own.
  $("panes").lang = p.lang;
  $("private-sub").textContent = fill(T.sub_as, { bot: state.cfg.bot_username, who: label(p) });
  layout();
  connect();
}

// label is how the page lists a persona, in the page's language:
// "Әлия (kk)", "Гүлнар (қызметкер, kk)".
function label(p) {
  const role = { staff: T.role_staff, admin: T.role_admin }[p.role];
  return p.name + " (" + (role ? role + ", " : "") + p.lang + ")";
}

async function init() {
  $("page-lang").addEventListener("change", (ev) => {
    // The server remembers the choice in a cookie and renders the page in it.
    const u = new URL(location.href);
    u.searchParams.set("lang", ev.target.value);
    location.assign(u);
  });
  state.cfg = await api("/api/config");
  const sel = $("persona");
  const list = $("picker-list");
  for (const p of state.cfg.personas) {
    sel.append(new Option(label(p), String(p.id)));
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.persona = String(p.id);
    b.textContent = label(p);
    b.addEventListener("click", () => choose(p.id));
    list.append(b);
  }
  $("staff-title").textContent = state.cfg.staff_title;
  sel.addEventListener("change", () => choose(Number(sel.value)));
  $("staff-toggle").addEventListener("click", () => setStaff(!state.staffOpen));
  for (const b of $("tabs").querySelectorAll("button")) {
    b.addEventListener("click", () => { state.tab = b.dataset.tab; layout(); });
  }
  narrow.addEventListener("change", layout);
  for (const pane of ["private", "staff"]) {
    $("composer-" + pane).addEventListener("submit", (ev) => {
      ev.preventDefault();
      const input = ev.target.elements.text;
      const text = input.value;
      if (text.trim() === "") return;
      input.value = "";
      sendText(pane, text);
    });
  }
  $("start").addEventListener("click", () => sendText("private", "/start"));
  $("attach").addEventListener("click", openLocation);
  $("settlement").addEventListener("change", pickSettlement);
  $("location-form").addEventListener("submit", sendLocation);
  $("location-cancel").addEventListener("click", () => $("location-dialog").close());

  let saved = NaN;
  try { saved = Number(localStorage.getItem("jastar-sandbox-persona")); } catch (_) { /* private mode */ }
  if (state.cfg.personas.some((p) => p.id === saved)) {
    choose(saved);
  } else {
    sel.value = "";
    $("picker").hidden = false;
  }
  layout();
}

init().catch(report);
