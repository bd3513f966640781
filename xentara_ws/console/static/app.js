// The Xentara console: log in, browse the model, watch and write values, administer sub-sessions,
// suspend and resume. Preact + htm render it without a build step (ES modules straight from vendor/).
import { h, render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import htm from "htm";
import uPlot from "uplot";
import {
  ACCESS, Attribute, CATEGORIES, CATEGORY_ICONS, DATA_TYPES, ErrorCode, Opcode, QUALITIES, STAGES, Uuid,
  XentaraConnection, attributeKey, formatValue, parseInput, timeOf, unwrap, writableType,
} from "./xentara.js";

const html = htm.bind(h);
const TREND_POINTS = 300;

// -- HTTP side of the login: the server answers with an HttpOnly session cookie --------------------

async function postJson(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body ?? {}),
    credentials: "same-origin",
  });
  let data = {};
  try { data = await response.json(); } catch { /* an empty or non-JSON body */ }
  return { ok: response.ok, status: response.status, data };
}

/** Whether the login may write this element (the server refuses anyway; this only hides pointless forms). */
async function mayWrite(primaryKey) {
  try {
    const response = await fetch(`/console/access?element=${encodeURIComponent(primaryKey)}`,
      { credentials: "same-origin", cache: "no-store" });
    if (!response.ok) return true;
    return (await response.json()).write !== false;
  } catch {
    return true;
  }
}

async function consoleSession() {
  const response = await fetch("/console/session", { credentials: "same-origin", cache: "no-store" });
  return response.json();
}

// -- routing by the location's hash: #/tree, #/element/<primary key>, #/sessions, #/stage ------------

function useRoute() {
  const [hash, setHash] = useState(location.hash || "#/tree");
  useEffect(() => {
    const changed = () => setHash(location.hash || "#/tree");
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  const [, page, ...rest] = hash.split("/");
  return { page: page || "tree", argument: decodeURIComponent(rest.join("/")) };
}

function elementLink(primaryKey) {
  return `#/element/${encodeURIComponent(primaryKey)}`;
}

function errorText(error) {
  if (error && error.code === ErrorCode.ACCESS_DENIED) return `access denied: ${error.text} (${error.code})`;
  return error?.message ?? String(error);
}

// -- the application shell -------------------------------------------------------------------------

function App() {
  const [state, setState] = useState({ phase: "starting" });

  async function connect(user) {
    try {
      const connection = await XentaraConnection.open();
      connection.onClose(() => setState((now) => (now.connection === connection
        ? { phase: "login", message: "The connection to the server closed. Log in again." } : now)));
      setState({ phase: "ready", connection, user });
    } catch (error) {
      setState({ phase: "login", message: "The server did not accept the session. Log in again." });
    }
  }

  useEffect(() => {
    consoleSession()
      .then((session) => (session.user || !session.loginRequired
        ? connect(session.user) : setState({ phase: "login" })))
      .catch(() => setState({ phase: "login", message: "The server cannot be reached." }));
  }, []);

  async function logout() {
    await postJson("/console/logout");
    state.connection?.close();
    setState({ phase: "login", message: "You are logged out." });
  }

  if (state.phase === "starting") return html`<p class="loading">Connecting…</p>`;
  if (state.phase === "login") return html`<${Login} message=${state.message} onLogin=${connect} />`;
  return html`<${Shell} connection=${state.connection} user=${state.user} onLogout=${logout} />`;
}

function Login({ message, onLogin }) {
  const [mode, setMode] = useState("password");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  async function submit(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    const body = mode === "token"
      ? { token: form.get("token") }
      : { user: form.get("user"), password: form.get("password") };
    setBusy(true);
    setError(null);
    try {
      const reply = await postJson("/console/login", body);
      if (!reply.ok) setError(reply.data.error ?? `login refused (${reply.status})`);
      else await onLogin(reply.data.user);
    } catch (failure) {
      setError(String(failure));
    } finally {
      setBusy(false);
    }
  }

  return html`
    <main class="login">
      <h1>Xentara console</h1>
      ${message && html`<p class="note">${message}</p>`}
      <div class="tabs">
        <button type="button" class=${mode === "password" ? "active" : ""} onClick=${() => setMode("password")}>User and password</button>
        <button type="button" class=${mode === "token" ? "active" : ""} onClick=${() => setMode("token")}>Bearer token</button>
      </div>
      <form onSubmit=${submit} data-testid="login-form">
        ${mode === "password" ? html`
          <label>User <input name="user" autocomplete="username" required data-testid="login-user" /></label>
          <label>Password <input name="password" type="password" autocomplete="current-password" data-testid="login-password" /></label>
        ` : html`
          <label>Token <textarea name="token" rows="4" required data-testid="login-token"></textarea></label>
        `}
        <button type="submit" disabled=${busy} data-testid="login-submit">Log in</button>
      </form>
      ${error && html`<p class="error" role="alert" data-testid="login-error">${error}</p>`}
    </main>`;
}

function Shell({ connection, user, onLogout }) {
  const route = useRoute();
  const pages = [["tree", "Model"], ["sessions", "Sub-sessions"], ["stage", "Server"]];
  let content;
  if (route.page === "element") content = html`<${ElementView} connection=${connection} primaryKey=${route.argument} />`;
  else if (route.page === "sessions") content = html`<${SubSessions} connection=${connection} />`;
  else if (route.page === "stage") content = html`<${ServerStage} connection=${connection} />`;
  else content = html`<${ModelTree} connection=${connection} />`;
  return html`
    <header>
      <strong>Xentara console</strong>
      <nav>${pages.map(([page, title]) => html`<a href=${`#/${page}`} class=${route.page === page ? "active" : ""}>${title}</a>`)}</nav>
      <span class="user" data-testid="user">${user ?? "anonymous"}</span>
      <button type="button" onClick=${onLogout} data-testid="logout">Log out</button>
    </header>
    <main>${content}</main>`;
}

// -- the model tree --------------------------------------------------------------------------------

function ModelTree({ connection }) {
  const [error, setError] = useState(null);

  async function search(event) {
    event.preventDefault();
    const primaryKey = new FormData(event.target).get("key").trim();
    if (!primaryKey) return;
    try {
      await connection.lookup(primaryKey);
      location.hash = elementLink(primaryKey);
    } catch (failure) {
      setError(`${primaryKey}: ${errorText(failure)}`);
    }
  }

  return html`
    <section>
      <form class="search" onSubmit=${search}>
        <input name="key" placeholder="Primary key, e.g. Plant.Tank.Temperature" size="40" data-testid="search-key" />
        <button type="submit" data-testid="search-go">Open</button>
      </form>
      ${error && html`<p class="error">${error}</p>`}
      <ul class="tree"><${TreeChildren} connection=${connection} uuid=${Uuid.nil()} /></ul>
    </section>`;
}

function TreeChildren({ connection, uuid }) {
  const [children, setChildren] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    connection.browse(uuid, 1).then(setChildren, (failure) => setError(errorText(failure)));
  }, [uuid.toString()]);
  if (error) return html`<li class="error">${error}</li>`;
  if (children === null) return html`<li class="muted">loading…</li>`;
  if (children.length === 0) return html`<li class="muted">no children</li>`;
  return children.map((entry) => html`<${TreeNode} key=${String(entry.get(1))} connection=${connection} entry=${entry} />`);
}

function TreeNode({ connection, entry }) {
  const [open, setOpen] = useState(false);
  const primaryKey = entry.get(0);
  const category = entry.get(2);
  const name = primaryKey.split(".").pop();
  return html`
    <li>
      <button type="button" class="toggle" onClick=${() => setOpen(!open)} aria-label="expand">${open ? "▾" : "▸"}</button>
      <span class="icon" title=${CATEGORIES[category] ?? category}>${CATEGORY_ICONS[category] ?? "•"}</span>
      <a href=${elementLink(primaryKey)} data-testid="tree-node" data-key=${primaryKey}>${name}</a>
      ${open && html`<ul><${TreeChildren} connection=${connection} uuid=${entry.get(1)} /></ul>`}
    </li>`;
}

// -- one element: attributes, live values, trend, writes ---------------------------------------------

function ElementView({ connection, primaryKey }) {
  const [element, setElement] = useState(null);
  const [values, setValues] = useState(new Map());
  const [error, setError] = useState(null);
  const [trend, setTrend] = useState({ times: [], values: [] });

  useEffect(() => {
    let subscription = null;
    let gone = false;
    setElement(null);
    setError(null);
    setTrend({ times: [], values: [] });
    (async () => {
      const uuid = await connection.lookup(primaryKey);
      const meta = await connection.metaData(uuid);
      const attributes = (meta.get(2) ?? []).map((attribute) => ({
        name: attribute.get(0), id: attribute.get(1), access: attribute.get(2), dataType: attribute.get(3),
      }));
      const writable = await mayWrite(primaryKey);
      if (gone) return;
      setElement({ uuid, category: meta.get(1), attributes, writable });
      const readable = attributes.filter((attribute) => attribute.access !== 1).map((attribute) => attribute.id);
      if (readable.length === 0) return;
      const apply = (changes) => {
        setValues((previous) => {
          const next = new Map(previous);
          for (const [id, tagged] of changes) next.set(attributeKey(id), unwrap(tagged));
          return next;
        });
        const value = changes.get(Attribute.VALUE);
        if (value !== undefined) {
          const { value: number } = unwrap(value);
          const changed = timeOf(unwrap(changes.get(Attribute.CHANGE_TIME) ?? null).value);
          if (typeof number === "number" || typeof number === "bigint") {
            setTrend((previous) => {
              const time = (changed ?? Date.now()) / 1000;
              const last = previous.times[previous.times.length - 1];
              if (last !== undefined && time <= last) return previous;
              return {
                times: [...previous.times, time].slice(-TREND_POINTS),
                values: [...previous.values, Number(number)].slice(-TREND_POINTS),
              };
            });
          }
        }
      };
      apply(await connection.read(uuid, readable));
      if (gone) return;
      subscription = await connection.subscribe(uuid, readable, (_element, changes) => apply(changes));
      if (gone) connection.unsubscribe(subscription);
    })().catch((failure) => { if (!gone) setError(`${primaryKey}: ${errorText(failure)}`); });
    return () => {
      gone = true;
      if (subscription) connection.unsubscribe(subscription);
    };
  }, [primaryKey]);

  if (error) return html`<p class="error" data-testid="element-error">${error}</p>`;
  if (!element) return html`<p class="muted">loading ${primaryKey}…</p>`;
  const quality = values.get(attributeKey(Attribute.QUALITY))?.value;
  const changeTime = values.get(attributeKey(Attribute.CHANGE_TIME))?.value;
  const valueAttribute = element.attributes.find((attribute) => attribute.id === Attribute.VALUE);
  return html`
    <section class="element">
      <h2>
        <span class="icon">${CATEGORY_ICONS[element.category] ?? "•"}</span>
        <span data-testid="element-key">${primaryKey}</span>
        ${quality !== undefined && html`<span class=${`badge quality-${quality}`} data-testid="quality">${QUALITIES[quality] ?? quality}</span>`}
      </h2>
      <p class="muted">${CATEGORIES[element.category] ?? ""} · ${element.uuid.toString()}
        ${changeTime !== undefined && html` · changed ${formatValue(changeTime)}`}</p>
      ${valueAttribute && trend.times.length > 1 && html`<${Trend} trend=${trend} />`}
      <table class="attributes">
        <thead><tr><th>Attribute</th><th>Value</th><th>Type</th><th>Access</th><th>Write</th></tr></thead>
        <tbody>
          ${element.attributes.map((attribute) => html`
            <${AttributeRow} key=${attributeKey(attribute.id)} connection=${connection} uuid=${element.uuid}
              attribute=${attribute} writable=${element.writable} current=${values.get(attributeKey(attribute.id))} />`)}
        </tbody>
      </table>
    </section>`;
}

function AttributeRow({ connection, uuid, attribute, writable, current }) {
  const key = attributeKey(attribute.id);
  const shown = current === undefined ? "" : current.error ? `⚠ ${errorText(current.error)}` : formatValue(current.value, attribute.id);
  return html`
    <tr data-attribute=${attribute.name}>
      <td>${attribute.name}</td>
      <td class=${current?.error ? "error value" : "value"} data-testid=${`value-${attribute.name}`}>${shown}</td>
      <td>${DATA_TYPES[attribute.dataType] ?? attribute.dataType}</td>
      <td>${ACCESS[attribute.access] ?? attribute.access}</td>
      <td>${attribute.access === 0 || !writableType(attribute.dataType)
        ? html`<span class="muted">—</span>`
        : writable
          ? html`<${WriteForm} connection=${connection} uuid=${uuid} attribute=${attribute} key=${key} />`
          : html`<span class="muted" data-testid=${`read-only-${attribute.name}`}>read-only for you</span>`}</td>
    </tr>`;
}

function WriteForm({ connection, uuid, attribute }) {
  const [outcome, setOutcome] = useState(null);
  const boolean = DATA_TYPES[attribute.dataType] === "Boolean";

  async function submit(event) {
    event.preventDefault();
    const text = new FormData(event.target).get("value");
    try {
      await connection.write(uuid, attribute.id, parseInput(text, attribute.dataType));
      setOutcome({ ok: true, text: "written" });
    } catch (failure) {
      setOutcome({ ok: false, text: errorText(failure) });
    }
  }

  const numeric = /Integer|Float/.test(DATA_TYPES[attribute.dataType] ?? "");
  return html`
    <form class="write" onSubmit=${submit} data-testid=${`write-${attribute.name}`}>
      ${boolean
        ? html`<select name="value"><option>true</option><option>false</option></select>`
        : html`<input name="value" type=${numeric ? "number" : "text"} step="any" size="12" />`}
      <button type="submit">Write</button>
      ${outcome && html`<span class=${outcome.ok ? "ok" : "error"} data-testid="write-outcome">${outcome.text}</span>`}
    </form>`;
}

function Trend({ trend }) {
  const container = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    const options = {
      width: Math.max(320, (container.current.clientWidth || 732) - 12), height: 180,
      scales: { x: { time: true } }, legend: { show: false },
      series: [{}, { label: "Value", stroke: "#1769aa", width: 2 }],
    };
    plot.current = new uPlot(options, [trend.times, trend.values], container.current);
    return () => plot.current.destroy();
  }, []);
  useEffect(() => { plot.current?.setData([trend.times, trend.values]); }, [trend]);
  return html`<div class="trend" ref=${container} data-testid="trend"></div>`;
}

// -- sub-sessions (xentara-ws extension, opcodes 257-260) ---------------------------------------------

function SubSessions({ connection }) {
  const [list, setList] = useState(null);
  const [error, setError] = useState(null);
  const [described, setDescribed] = useState(null);
  const [note, setNote] = useState(null);

  async function refresh() {
    try {
      setList(await connection.request(Opcode.LIST_SUB_SESSIONS, new Map([[0, true]])));
      setError(null);
    } catch (failure) {
      setError(failure.code === ErrorCode.COMMAND_NOT_FOUND
        ? "This server does not offer sub-session administration (opcode 257 is unknown to it)."
        : errorText(failure));
    }
  }
  useEffect(() => { refresh(); }, []);

  async function act(label, action) {
    try {
      await action();
      setNote(`${label}: done`);
    } catch (failure) {
      setNote(`${label}: ${errorText(failure)}`);
    }
    refresh();
  }
  const describe = (id) => act("describe", async () => {
    const [entry] = await connection.request(Opcode.DESCRIBE_SUB_SESSIONS, new Map([[0, [id]]]));
    const { value, error: failure } = unwrap(entry);
    if (failure) throw failure;
    setDescribed(value);
  });
  const alterStatus = (id, status) => act(status === "banned" ? "ban" : "unban",
    () => connection.request(Opcode.ALTER_SUB_SESSION, new Map([[0, id], [1, new Map([[6, status]])]])));
  const remove = (id) => act("delete", () => connection.request(Opcode.DELETE_SUB_SESSION, new Map([[0, id]])));

  if (error) return html`<p class="note" data-testid="sessions-unavailable">${error}</p>`;
  if (list === null) return html`<p class="muted">loading…</p>`;
  const fields = ["id", "owner", "method", "status", "permanent", "keep-alive s", "expiry s", "description",
    "connected", "created", "last activity", "expires at", "health", "health reasons", "counters", "thresholds",
    "last will", "peer", "creator"];
  return html`
    <section>
      <h2>Sub-sessions <button type="button" onClick=${refresh}>Refresh</button></h2>
      ${note && html`<p class="note">${note}</p>`}
      ${list.length === 0 ? html`<p class="muted">No sub-sessions.</p>` : html`
        <table>
          <thead><tr><th>Id</th><th>Owner</th><th>Status</th><th>Permanent</th><th>Connected</th><th>Health</th><th></th></tr></thead>
          <tbody>${list.map((entry) => html`
            <tr key=${String(entry.get(0))}>
              <td><code>${String(entry.get(0))}</code></td><td>${entry.get(1)}</td><td>${entry.get(3)}</td>
              <td>${String(entry.get(4))}</td><td>${String(entry.get(8))}</td><td>${entry.get(12)}</td>
              <td class="actions">
                <button type="button" onClick=${() => describe(entry.get(0))}>Describe</button>
                ${entry.get(3) === "banned"
                  ? html`<button type="button" onClick=${() => alterStatus(entry.get(0), "normal")}>Unban</button>`
                  : html`<button type="button" onClick=${() => alterStatus(entry.get(0), "banned")}>Ban</button>`}
                <button type="button" onClick=${() => remove(entry.get(0))}>Delete</button>
              </td>
            </tr>`)}</tbody>
        </table>`}
      ${described && html`
        <dl class="description">${[...described].map(([key, value]) => html`
          <dt>${fields[key] ?? key}</dt><dd>${describeValue(value)}</dd>`)}</dl>`}
    </section>`;
}

function describeValue(value) {
  if (value instanceof Map) return [...value].map(([key, inner]) => `${key}: ${describeValue(inner)}`).join(", ");
  if (Array.isArray(value)) return value.map(describeValue).join(", ");
  return formatValue(value);
}

// -- the server: information, stage, suspend and resume ----------------------------------------------

function ServerStage({ connection }) {
  const [stage, setStage] = useState(null);
  const [info, setInfo] = useState(null);
  const [note, setNote] = useState(null);

  async function refresh() {
    try {
      setStage(await connection.request(Opcode.GET_STAGE));
      setInfo(await connection.request(Opcode.SERVER_INFORMATION, new Map([[0, [0, 1, 2]]])));
    } catch (failure) {
      setNote(errorText(failure));
    }
  }
  useEffect(() => { refresh(); }, []);

  async function change(label, opcode) {
    try {
      await connection.request(opcode);
      setNote(`${label}: done`);
    } catch (failure) {
      setNote(`${label}: ${errorText(failure)}`);
    }
    refresh();
  }

  return html`
    <section>
      <h2>Server</h2>
      ${info && html`<dl>
        <dt>Version</dt><dd>${info.get(0)}</dd><dt>Account</dt><dd>${info.get(1)}</dd><dt>Model</dt><dd>${info.get(2)}</dd>
      </dl>`}
      <p>Stage: <strong data-testid="stage">${stage === null ? "…" : STAGES[stage] ?? stage}</strong></p>
      <button type="button" disabled=${stage !== 2} onClick=${() => change("suspend", Opcode.SUSPEND)}>Suspend</button>
      <button type="button" disabled=${stage !== 5} onClick=${() => change("resume", Opcode.RESUME)}>Resume</button>
      ${note && html`<p class="note" data-testid="stage-note">${note}</p>`}
    </section>`;
}

render(html`<${App} />`, document.getElementById("app"));
