// Coordinator dashboard: keeps the alert queue live by re-fetching its rows. The rows are
// rendered (and escaped) by the server; nothing here builds HTML from patient text.
"use strict";

(function () {
  const table = document.querySelector("table[data-refresh]");
  if (!table) return;
  const body = table.tBodies[0];
  const status = document.querySelector("[data-testid=queue-status]");
  const url = table.dataset.refresh;
  let failures = 0;

  function busy() {
    // Don't swap rows under someone who is about to press a button in them.
    return body.contains(document.activeElement);
  }

  async function refresh() {
    if (document.hidden || busy()) return;
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (response.redirected || response.status === 401) {
        window.location.assign("/coordinator/sign-in?next=/coordinator");
        return;
      }
      if (!response.ok) throw new Error(String(response.status));
      const template = document.createElement("template");
      template.innerHTML = await response.text();
      const before = body.querySelectorAll("tr[data-alert-id]").length;
      body.replaceChildren(template.content);
      const after = body.querySelectorAll("tr[data-alert-id]").length;
      failures = 0;
      if (status) {
        status.textContent = after > before ? `${after - before} new alert(s).` : "";
      }
    } catch (error) {
      failures += 1;
      if (status && failures >= 2) status.textContent = "Cannot reach the server; retrying.";
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
