// The cluster page: lists each kind once, then follows it with a `?watch=1` stream
// (fetch streaming, newline-delimited JSON events), and redraws from what it holds.
// Every request carries the user's bearer token; no cookie is ever used, so other
// sites cannot make requests on the user's behalf. Data is put into the page as
// text nodes only (never as HTML).
"use strict";
(() => {
  const TOKEN_KEY = "pocketkube.token";
  const KINDS = {
    nodes: "/api/v1/nodes",
    pods: "/api/v1/pods",
    services: "/api/v1/services",
    endpointslices: "/apis/discovery.k8s.io/v1/endpointslices",
    events: "/api/v1/events",
  };
  const METRICS_PERIOD_MS = 3000;
  const state = { items: {}, watching: new Set(), rates: null };
  for (const kind of Object.keys(KINDS)) state.items[kind] = new Map();

  class AuthError extends Error {}

  // The token arrives in the address's fragment (never sent to the server); it is
  // kept in this tab's sessionStorage and taken out of the address bar at once.
  function takeToken() {
    const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
    if (m) {
      sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
      history.replaceState(null, "", location.pathname + location.search);
    }
    return sessionStorage.getItem(TOKEN_KEY);
  }

  async function request(path, accept = "application/json") {
    const r = await fetch(path, {
      headers: { Accept: accept, Authorization: "Bearer " + sessionStorage.getItem(TOKEN_KEY) },
      cache: "no-store", credentials: "omit",
    });
    if (r.status === 401 || r.status === 403) {
      let msg = r.status + " " + r.statusText;
      try { msg = (await r.json()).message || msg; } catch (e) { /* not a Status */ }
      throw new AuthError(msg);
    }
    return r;
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const keyOf = (o) => (o.metadata.namespace ? o.metadata.namespace + "/" : "") + o.metadata.name;

  // One kind: list, then watch from the list's resourceVersion; a watch that ends is
  // resumed from the last version seen, one that expired (410) starts with a new list.
  async function follow(kind) {
    const path = KINDS[kind];
    let rv = null;
    let backoff = 500;
    for (;;) {
      try {
        if (rv === null) {
          const r = await request(path);
          if (!r.ok) throw new Error(`${path}: ${r.status}`);
          const list = await r.json();
          state.items[kind] = new Map(list.items.map((o) => [keyOf(o), o]));
          rv = list.metadata.resourceVersion;
          changed();
        }
        const r = await request(`${path}?watch=1&allowWatchBookmarks=true&resourceVersion=${rv}`);
        if (!r.ok) { rv = null; throw new Error(`${path} watch: ${r.status}`); }
        state.watching.add(kind);
        changed();
        backoff = 500;
        rv = await readEvents(kind, r.body, rv);
      } catch (e) {
        if (e instanceof AuthError) { showLogin(e.message); return; }
        console.warn("watch", kind, e);
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 8000);
      } finally {
        state.watching.delete(kind);
        changed();
      }
    }
  }

  // Applies the stream's events; returns the version to resume from (null: list again).
  async function readEvents(kind, body, rv) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return rv;
      buf += value;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        const ev = JSON.parse(line);
        if (ev.type === "ERROR") { await reader.cancel(); return null; }
        rv = ev.object.metadata.resourceVersion || rv;
        if (ev.type === "BOOKMARK") continue;
        if (ev.type === "DELETED") state.items[kind].delete(keyOf(ev.object));
        else state.items[kind].set(keyOf(ev.object), ev.object);
        changed();
      }
    }
  }

  // --- request rates, from the API server's /metrics -----------------------------
  function parseMetrics(text) {
    const sums = { total: 0, inflight: 0, watches: 0, clients: {} };
    for (const line of text.split("\n")) {
      if (line.startsWith("#")) continue;
      const m = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
      if (!m) continue;
      const value = Number(m[3]);
      if (m[1] === "apiserver_request_total") sums.total += value;
      else if (m[1] === "apiserver_current_inflight_requests") sums.inflight += value;
      else if (m[1] === "apiserver_longrunning_requests") sums.watches += value;
      else if (m[1] === "pocketkube_apiserver_requests_by_client_total") {
        const c = /client="([^"]*)"/.exec(m[2] || "");
        if (c) sums.clients[c[1]] = (sums.clients[c[1]] || 0) + value;
      }
    }
    return sums;
  }

  async function pollMetrics() {
    let prev = null;
    for (;;) {
      try {
        const r = await request("/metrics", "text/plain");
        if (r.ok) {
          const now = { at: performance.now(), sums: parseMetrics(await r.text()) };
          if (prev) {
            const dt = (now.at - prev.at) / 1000;
            const clients = {};
            for (const [c, v] of Object.entries(now.sums.clients)) clients[c] = (v - (prev.sums.clients[c] || 0)) / dt;
            state.rates = { total: (now.sums.total - prev.sums.total) / dt, inflight: now.sums.inflight,
                            watches: now.sums.watches, clients };
            changed();
          }
          prev = now;
        }
      } catch (e) {
        if (e instanceof AuthError) { state.rates = { denied: e.message }; changed(); return; }
      }
      await sleep(METRICS_PERIOD_MS);
    }
  }

  // --- drawing -----------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    for (const c of children) if (c !== null && c !== undefined) e.append(c);   // strings become text nodes
    return e;
  }

  let pending = false;
  function changed() {
    if (pending) return;
    pending = true;
    setTimeout(() => { pending = false; render(); }, 50);
  }

  function condition(obj, type) {
    const c = ((obj.status || {}).conditions || []).find((x) => x.type === type);
    return c ? c.status : "Unknown";
  }

  function podClass(p) {
    const phase = (p.status || {}).phase || "Pending";
    if (p.metadata.deletionTimestamp) return "terminating";
    if (phase === "Running") return condition(p, "Ready") === "True" ? "running-ready" : "running-unready";
    return { Pending: "pending", Succeeded: "succeeded", Failed: "failed" }[phase] || "pending";
  }

  function podChip(p) {
    const phase = (p.status || {}).phase || "Pending";
    return el("li", { class: "pod " + podClass(p), "data-pod": keyOf(p), "data-phase": phase,
                      title: `${keyOf(p)}: ${phase}, ready ${condition(p, "Ready")}` }, keyOf(p));
  }

  const byName = (a, b) => keyOf(a).localeCompare(keyOf(b));
  const rate = (v) => (v === undefined ? "-" : v.toFixed(1) + "/s");

  function renderComponents() {
    const r = state.rates;
    const cards = [el("div", { class: "card apiserver", "data-component": "apiserver" },
      el("h3", {}, "API server"),
      el("div", { class: "rate" }, r && !r.denied ? rate(r.total) : "-"),
      el("div", { class: "detail" }, r && r.denied ? "metrics: " + r.denied
        : r ? `${r.inflight} in flight, ${r.watches} watches and streams` : "measuring"))];
    const names = { "kube-controller-manager": "controller manager and scheduler", kubelet: "node agents",
                    "kube-proxy": "Service proxies", dns: "cluster DNS", kubectl: "kubectl", browser: "browsers",
                    other: "other clients" };
    const clients = (r && r.clients) || {};
    for (const [client, label] of Object.entries(names)) {
      if (!(client in clients)) continue;
      cards.push(el("div", { class: "card", "data-component": client },
        el("h3", {}, label), el("div", { class: "rate" }, rate(clients[client]))));
    }
    document.getElementById("components").replaceChildren(...cards);
  }

  function renderNodes() {
    const pods = [...state.items.pods.values()].sort(byName);
    const nodes = [...state.items.nodes.values()].sort(byName);
    const cards = nodes.map((n) => {
      const ready = condition(n, "Ready");
      const info = (n.status || {}).nodeInfo || {};
      const own = pods.filter((p) => (p.spec || {}).nodeName === n.metadata.name);
      return el("div", { class: "card node" + (ready === "True" ? "" : " notready"), "data-node": n.metadata.name },
        el("h3", {}, n.metadata.name),
        el("div", { class: "detail" }, `Ready: ${ready}` + (info.kubeletVersion ? `, ${info.kubeletVersion}` : "")
          + `, ${own.length} pods`),
        el("ul", { class: "pods" }, ...own.map(podChip)));
    });
    const unbound = pods.filter((p) => !(p.spec || {}).nodeName);
    if (unbound.length) {
      cards.push(el("div", { class: "card node", "data-node": "" }, el("h3", {}, "not yet scheduled"),
        el("ul", { class: "pods" }, ...unbound.map(podChip))));
    }
    document.getElementById("nodes").replaceChildren(...cards);
  }

  function renderServices() {
    const rows = [...state.items.services.values()].sort(byName).map((s) => {
      const spec = s.spec || {};
      const ports = (spec.ports || []).map((p) => `${p.port}/${p.protocol || "TCP"}`).join(", ");
      const chips = [];
      for (const slice of state.items.endpointslices.values()) {
        if (slice.metadata.namespace !== s.metadata.namespace
            || (slice.metadata.labels || {})["kubernetes.io/service-name"] !== s.metadata.name) continue;
        const port = ((slice.ports || [])[0] || {}).port;
        for (const e of slice.endpoints || []) {
          const ready = (e.conditions || {}).ready !== false;
          const who = e.targetRef ? ` (${e.targetRef.name})` : "";
          for (const ip of e.addresses || []) {
            chips.push(el("li", { class: "pod " + (ready ? "running-ready" : "running-unready") },
              `${ip}${port ? ":" + port : ""}${who}`));
          }
        }
      }
      return el("tr", { "data-service": keyOf(s) }, el("td", {}, keyOf(s)), el("td", {}, spec.type || "ClusterIP"),
        el("td", {}, spec.clusterIP || ""), el("td", {}, ports),
        el("td", {}, chips.length ? el("ul", { class: "pods" }, ...chips) : "none"));
    });
    document.querySelector("#services tbody").replaceChildren(...rows);
  }

  function renderEvents() {
    const when = (e) => e.lastTimestamp || e.eventTime || e.metadata.creationTimestamp || "";
    const events = [...state.items.events.values()].sort((a, b) => when(b).localeCompare(when(a))).slice(0, 60);
    document.getElementById("events").replaceChildren(...events.map((e) => {
      const obj = e.involvedObject || {};
      return el("li", { class: (e.type || "").toLowerCase() },
        el("time", {}, when(e).replace("T", " ").replace("Z", "")),
        `${obj.kind || ""} ${obj.namespace ? obj.namespace + "/" : ""}${obj.name || ""}: ${e.reason || ""}: `
        + `${e.message || ""}` + (e.count > 1 ? ` (x${e.count})` : ""));
    }));
  }

  function render() {
    const live = state.watching.size === Object.keys(KINDS).length;
    const conn = document.getElementById("conn");
    conn.textContent = live ? "live" : `watching ${state.watching.size} of ${Object.keys(KINDS).length}`;
    conn.className = "conn " + (live ? "up" : "down");
    renderComponents();
    renderNodes();
    renderServices();
    renderEvents();
  }

  function showLogin(message) {
    document.getElementById("cluster").hidden = true;
    document.getElementById("login").hidden = false;
    document.getElementById("login-error").textContent = message || "";
  }

  async function start() {
    document.getElementById("login").hidden = true;
    document.getElementById("cluster").hidden = false;
    try {
      const v = await (await request("/version")).json();
      document.getElementById("version").textContent = v.gitVersion || "";
    } catch (e) { /* the version is decoration */ }
    for (const kind of Object.keys(KINDS)) follow(kind);
    pollMetrics();
    render();
  }

  document.getElementById("token-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const input = document.getElementById("token-input");
    if (!input.value.trim()) return;
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    input.value = "";
    start();
  });

  // An address with a token opened in this tab again only changes the fragment:
  // take the new token and start over with it.
  window.addEventListener("hashchange", () => {
    if (/(?:^#|&)token=/.test(location.hash)) { takeToken(); location.reload(); }
  });

  document.documentElement.dataset.script = "running";   // for tests: the script ran
  if (takeToken()) start(); else showLogin("");
})();
