// Coordinator dashboard: keeps the alert queue live by re-fetching its rows. The rows are
// rendered (and escaped) by the server; nothing here builds HTML from patient text.
"use strict";

// Times are sent in UTC; each coordinator reads them in their own time zone.
function localTimes(root) {
  root.querySelectorAll("time[data-local]").forEach((element) => {
    const moment = new Date(element.getAttribute("datetime"));
    if (Number.isNaN(moment.getTime())) return;
    const pad = (n) => String(n).padStart(2, "0");
    element.textContent =
      `${moment.getFullYear()}-${pad(moment.getMonth() + 1)}-${pad(moment.getDate())} ` +
      `${pad(moment.getHours())}:${pad(moment.getMinutes())}`;
    element.title = `${element.getAttribute("datetime")} (UTC)`;
  });
}
localTimes(document);

(function () {
  const table = document.querySelector("table[data-refresh]");
  if (!table) return;
  const body = table.tBodies[0];
  const status = document.querySelector("[data-testid=queue-status]");
  const url = table.dataset.refresh;
  let failures = 0;
  const notify = emergencyNotifier();

  // The rows are swapped whatever has focus (a queue that stops refreshing hides new
  // emergencies); a focused link or button is found again in the new rows and refocused.
  function focusedControl() {
    const active = document.activeElement;
    if (!active || !body.contains(active)) return null;
    const row = active.closest("tr[data-alert-id]");
    return row ? { id: row.dataset.alertId, tag: active.tagName, text: active.textContent } : null;
  }

  function refocus(focused) {
    if (!focused) return;
    const row = body.querySelector(`tr[data-alert-id="${CSS.escape(focused.id)}"]`);
    const same = row && Array.from(row.querySelectorAll("a, button")).find(
      (control) => control.tagName === focused.tag && control.textContent === focused.text
    );
    (same || table).focus({ preventScroll: true });
  }

  async function refresh() {
    if (document.hidden) return;
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (response.redirected || response.status === 401) {
        window.location.assign("/coordinator/sign-in?next=/coordinator");
        return;
      }
      if (!response.ok) throw new Error(String(response.status));
      const template = document.createElement("template");
      template.innerHTML = await response.text();
      const seen = new Set(Array.from(body.querySelectorAll("tr[data-alert-id]"), (r) => r.dataset.alertId));
      const focused = focusedControl();
      localTimes(template.content);
      body.replaceChildren(template.content);
      refocus(focused);
      const fresh = Array.from(body.querySelectorAll("tr[data-alert-id]")).filter(
        (row) => !seen.has(row.dataset.alertId)
      );
      fresh.forEach((row) => row.classList.add("new"));
      notify(fresh.filter((row) => row.classList.contains("sev-critical")));
      failures = 0;
      if (status) {
        status.classList.remove("stale");
        status.textContent = "";
        if (fresh.length) {
          const critical = fresh.filter((row) => row.classList.contains("sev-critical")).length;
          status.textContent =
            `${fresh.length} new alert${fresh.length > 1 ? "s" : ""}` +
            (critical ? `, ${critical} critical (emergency)` : "") + ".";
        }
      }
    } catch (error) {
      failures += 1;
      if (status && failures >= 2) {
        status.classList.add("stale");
        status.textContent =
          "The queue is NOT up to date: the server cannot be reached. Retrying every 3 s.";
      }
    }
  }

  setInterval(refresh, 3000);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
})();

// Transcript page: while a coordinator reads or replies, tell them when the patient
// writes again (the check returns counts only; the reload is a normal, audited view).
(function () {
  const notice = document.querySelector("[data-activity]");
  if (!notice) return;
  const shown = Number(notice.dataset.messages);
  async function check() {
    if (document.hidden) return;
    try {
      const response = await fetch(notice.dataset.activity, { credentials: "same-origin" });
      if (!response.ok) return;
      const state = await response.json();
      if (state.messages > shown) notice.hidden = false;
    } catch (error) {
      /* try again on the next tick */
    }
  }
  setInterval(check, 4000);
})();

// Typed text is never lost: a reply, note or alert note is kept in this tab's
// sessionStorage while it is typed, put back when the page is shown again (after an
// expired session sent the coordinator to sign in, a reload, a conflict), and forgotten
// once the server says it was saved (the page it returns to carries ?sent=<form>).
(function () {
  const forms = document.querySelectorAll("form[data-draft]");
  if (!forms.length) return;
  const params = new URLSearchParams(window.location.search);
  const saved = params.get("sent");
  forms.forEach((form) => {
    const field = form.querySelector("textarea, input[name=note]");
    if (!field) return;
    const key = `triage-draft:${window.location.pathname}:${form.dataset.draft}`;
    if (saved === form.dataset.draft) sessionStorage.removeItem(key);
    const draft = sessionStorage.getItem(key);
    if (draft && !field.value) {
      field.value = draft;
      const notice = document.createElement("p");
      notice.className = "draft-restored";
      notice.setAttribute("role", "status");
      notice.dataset.testid = "draft-restored";
      notice.textContent = "Your unsent text was put back. Check it, then send it again.";
      form.prepend(notice);
    }
    field.addEventListener("input", () => {
      if (field.value.trim()) sessionStorage.setItem(key, field.value);
      else sessionStorage.removeItem(key);
    });
  });
  if (saved !== null) {
    // A reload or a later sign-in must not read "saved" again.
    params.delete("sent");
    const query = params.toString();
    const clean = window.location.pathname + (query ? `?${query}` : "") + window.location.hash;
    window.history.replaceState(null, "", clean);
  }
})();


// Optional, per browser: a short tone and a system notification when a new emergency
// alert arrives (for a coordinator whose queue tab is in the background). Off until
// switched on; the notification names the patient label and categories, never the text.
function emergencyNotifier() {
  const toggle = document.querySelector("[data-notify]");
  const KEY = "triage-notify-emergencies";
  if (!toggle) return () => {};
  toggle.hidden = false;
  const isOn = () => localStorage.getItem(KEY) === "1";
  function show() {
    toggle.setAttribute("aria-pressed", String(isOn()));
    toggle.textContent = `Sound and notification for emergencies: ${isOn() ? "on" : "off"}`;
  }
  toggle.addEventListener("click", async () => {
    if (isOn()) {
      localStorage.removeItem(KEY);
    } else {
      localStorage.setItem(KEY, "1");
      if ("Notification" in window && Notification.permission === "default") {
        try { await Notification.requestPermission(); } catch (error) { /* sound only */ }
      }
    }
    show();
  });
  show();

  function tone() {
    try {
      const audio = new (window.AudioContext || window.webkitAudioContext)();
      const beep = audio.createOscillator();
      const gain = audio.createGain();
      beep.frequency.value = 880;
      gain.gain.value = 0.2;
      beep.connect(gain).connect(audio.destination);
      beep.start();
      beep.stop(audio.currentTime + 0.4);
      beep.onended = () => audio.close();
    } catch (error) { /* no audio: the page still highlights the row */ }
  }

  return (rows) => {
    if (!rows.length || !isOn()) return;
    tone();
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    rows.forEach((row) => {
      const label = row.querySelector("[data-testid=patient-label]");
      const categories = row.querySelector("[data-label=Categories]");
      new Notification("Emergency alert", {
        body: `${label ? label.textContent : "A patient"}: ${categories ? categories.textContent : ""}`,
        tag: `triage-alert-${row.dataset.alertId}`,
      });
    });
  };
}
