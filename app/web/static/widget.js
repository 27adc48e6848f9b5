/*
 * Natalizumab symptom-triage chat widget.
 *
 * Embed with one tag (all data-* attributes optional):
 *   <script src="https://HOST/widget.js" defer
 *           data-title="Ask the MS nurse line" data-lang="en" data-color="#005eb8"></script>
 *
 * Plain ES2020, no dependencies, no build step. Everything is drawn inside an open shadow
 * root so the page's CSS and ours stay apart. Text from the server or the patient is only
 * ever inserted with textContent: nothing here parses HTML.
 */
(function () {
  "use strict";

  // Captured while the script runs: currentScript is null afterwards (in callbacks).
  const SCRIPT =
    document.currentScript || document.querySelector('script[src*="widget.js"]');

  const HOST_ID = "natalizumab-triage-widget";
  const PANEL_ID = "ntw-panel";
  const DEFAULT_COLOR = "#005eb8";
  const DEFAULT_RGB = [0, 94, 184];
  const MAX_CHARS = 5000;
  const POLL_MS = 3000;
  const POST_TIMEOUT_MS = 30000;
  const GET_TIMEOUT_MS = 15000;

  const STRINGS = {
    en: {
      title: "Natalizumab symptom checker",
      open: "Open symptom chat",
      openUnread: "Open symptom chat (new message)",
      close: "Close chat",
      inputLabel: "Type your message",
      placeholder: "Describe how you feel…",
      send: "Send",
      typing: "Assistant is typing",
      careTeam: "Care team",
      you: "You said:",
      assistant: "Assistant said:",
      quickReplies: "Suggested answers",
      banner:
        "Call your local emergency number now if you feel very unwell. " +
        "Tell the infusion nurse if you are at your infusion.",
      footer:
        "Automated assistant — not a doctor. In an emergency call your local emergency number.",
      network:
        "Could not send your message. Check your connection and try again. " +
        "If this is an emergency, call your local emergency number.",
      startFailed:
        "Could not start the chat. Check your connection and try again. " +
        "If this is an emergency, call your local emergency number.",
      invalid: "This message could not be sent. Please shorten or reword it and try again.",
      tooLong: "Your message is too long. Please shorten it to 5000 characters or fewer.",
      lost: "Your earlier conversation is no longer available, so a new one has been started.",
    },
    zh: {
      title: "那他珠单抗症状自查",
      open: "打开症状咨询对话",
      openUnread: "打开症状咨询对话（有新消息）",
      close: "关闭对话",
      inputLabel: "输入您的消息",
      placeholder: "请描述您的感受…",
      send: "发送",
      typing: "助手正在输入",
      careTeam: "医护团队",
      you: "您说：",
      assistant: "助手说：",
      quickReplies: "建议的回答",
      banner: "如果您感到非常不适，请立即拨打当地急救电话。如果您正在输液，请告诉输液护士。",
      footer: "自动助手，不是医生。紧急情况请拨打当地急救电话。",
      network: "消息发送失败。请检查网络连接后重试。如遇紧急情况，请拨打当地急救电话。",
      startFailed: "无法开始对话。请检查网络连接后重试。如遇紧急情况，请拨打当地急救电话。",
      invalid: "无法发送这条消息。请缩短或修改后重试。",
      tooLong: "您的消息太长。请缩短到5000个字符以内。",
      lost: "您之前的对话已无法使用，已为您开始新的对话。",
    },
  };

  if (document.getElementById(HOST_ID)) return; // the tag was put on the page twice

  // ------------------------------------------------------------------ configuration

  function dataAttr(name) {
    const value = SCRIPT ? SCRIPT.getAttribute("data-" + name) : null;
    return typeof value === "string" ? value.trim() : "";
  }

  function findApiOrigin() {
    try {
      if (SCRIPT && SCRIPT.src) return new URL(SCRIPT.src, location.href).origin;
    } catch (e) {
      /* fall through */
    }
    return location.origin;
  }

  const LANG = dataAttr("lang") === "zh" ? "zh" : "en";
  const T = STRINGS[LANG];
  const TITLE = dataAttr("title") || T.title;
  const API = findApiOrigin();
  const CONV_KEY = "natalizumab-triage:" + API;
  const OPEN_KEY = CONV_KEY + ":open";

  // ------------------------------------------------------------------ colours

  /** The colour as [r, g, b], or null when it is not a valid opaque colour. */
  function resolveColor(value) {
    if (!value) return null;
    try {
      if (!(window.CSS && CSS.supports && CSS.supports("color", value))) return null;
      const canvas = document.createElement("canvas");
      canvas.width = 1;
      canvas.height = 1;
      const ctx = canvas.getContext("2d");
      if (!ctx) return null;
      // A value the canvas cannot use (var(), …) leaves the previous fill style in place.
      ctx.fillStyle = "#000000";
      ctx.fillStyle = value;
      const first = String(ctx.fillStyle);
      ctx.fillStyle = "#ffffff";
      ctx.fillStyle = value;
      if (String(ctx.fillStyle) !== first) return null;
      const hex = /^#([0-9a-f]{6})$/i.exec(first);
      if (hex) {
        const n = parseInt(hex[1], 16);
        return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
      }
      ctx.clearRect(0, 0, 1, 1);
      ctx.fillRect(0, 0, 1, 1);
      const d = ctx.getImageData(0, 0, 1, 1).data;
      return d[3] === 255 ? [d[0], d[1], d[2]] : null;
    } catch (e) {
      return null;
    }
  }

  function linear(c) {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
  }

  function luminance(rgb) {
    return 0.2126 * linear(rgb[0]) + 0.7152 * linear(rgb[1]) + 0.0722 * linear(rgb[2]);
  }

  function contrast(a, b) {
    const la = luminance(a);
    const lb = luminance(b);
    return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
  }

  function css(rgb) {
    return "rgb(" + rgb.map((c) => Math.round(c)).join(", ") + ")";
  }

  const WHITE = [255, 255, 255];
  const BLACK = [0, 0, 0];
  const ACCENT = resolveColor(dataAttr("color")) || resolveColor(DEFAULT_COLOR) || DEFAULT_RGB;
  // Text on the accent colour: white when it reads well enough (AA), else black.
  const ON_ACCENT = contrast(ACCENT, WHITE) >= 4.5 ? WHITE : BLACK;
  // The accent used as text or outline on white: darkened until it reaches 4.5:1.
  let accentText = ACCENT;
  for (let k = 0.05; contrast(accentText, WHITE) < 4.5 && k <= 1; k += 0.05) {
    accentText = ACCENT.map((c) => c * (1 - k));
  }

  // ------------------------------------------------------------------ storage

  function storageGet(store, key) {
    try {
      return window[store].getItem(key);
    } catch (e) {
      return null; // storage blocked (privacy settings, sandboxed frames)
    }
  }

  function storageSet(store, key, value) {
    try {
      if (value === null) window[store].removeItem(key);
      else window[store].setItem(key, value);
    } catch (e) {
      /* not kept: the chat still works for this page view */
    }
  }

  function loadConversation() {
    try {
      const saved = JSON.parse(storageGet("localStorage", CONV_KEY) || "null");
      if (saved && typeof saved.id === "string" && typeof saved.token === "string") {
        return { id: saved.id, token: saved.token };
      }
    } catch (e) {
      /* unreadable: start afresh */
    }
    return null;
  }

  function saveConversation(value) {
    storageSet(
      "localStorage",
      CONV_KEY,
      value ? JSON.stringify({ id: value.id, token: value.token }) : null
    );
  }

  // ------------------------------------------------------------------ HTTP

  /** {status, ok, data}; status 0 for a network failure or a timeout. */
  async function request(method, path, body, token, timeoutMs) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = "Bearer " + token;
    const controller = typeof AbortController === "function" ? new AbortController() : null;
    const timer = controller ? setTimeout(() => controller.abort(), timeoutMs) : null;
    try {
      const response = await fetch(API + path, {
        method: method,
        headers: headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        mode: "cors",
        credentials: "omit",
        cache: "no-store",
        signal: controller ? controller.signal : undefined,
      });
      let data = null;
      try {
        data = await response.json();
      } catch (e) {
        data = null;
      }
      return { status: response.status, ok: response.ok, data: data };
    } catch (e) {
      return { status: 0, ok: false, data: null };
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  function messagesPath(c) {
    return "/api/conversations/" + encodeURIComponent(c.id) + "/messages";
  }

  // ------------------------------------------------------------------ DOM helpers

  function el(tag, className, attrs) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (attrs) {
      for (const name of Object.keys(attrs)) node.setAttribute(name, attrs[name]);
    }
    return node;
  }

  const SVG_NS = "http://www.w3.org/2000/svg";

  function icon(kind) {
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const path = document.createElementNS(SVG_NS, "path");
    if (kind === "chat") {
      // A speech bubble with a tail at the lower left.
      path.setAttribute(
        "d",
        "M5 3.5h14a2.5 2.5 0 0 1 2.5 2.5v9a2.5 2.5 0 0 1-2.5 2.5H10l-4.5 3.8V17.5H5" +
          "A2.5 2.5 0 0 1 2.5 15V6A2.5 2.5 0 0 1 5 3.5z"
      );
      path.setAttribute("fill", "currentColor");
    } else {
      path.setAttribute("d", "M6 6l12 12M18 6L6 18");
      path.setAttribute("fill", "none");
      path.setAttribute("stroke", "currentColor");
      path.setAttribute("stroke-width", "2.4");
      path.setAttribute("stroke-linecap", "round");
    }
    svg.appendChild(path);
    return svg;
  }

  function stylesheet() {
    const accent = css(ACCENT);
    const on = css(ON_ACCENT);
    const accentOnWhite = css(accentText);
    const hoverTint = ON_ACCENT === WHITE ? "rgba(255, 255, 255, 0.18)" : "rgba(0, 0, 0, 0.12)";
    return `
:host { all: initial; }
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
.root {
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Helvetica Neue",
    Arial, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif;
  font-size: 16px; line-height: 1.45; color: #1a1a1a;
}
button { font: inherit; }
.sr-only {
  position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}
.launcher {
  position: fixed; right: 20px; bottom: calc(20px + env(safe-area-inset-bottom, 0px));
  z-index: 2147483000; width: 60px; height: 60px; padding: 0; border: 0; border-radius: 50%;
  background: ${accent}; color: ${on}; cursor: pointer;
  display: flex; align-items: center; justify-content: center;
  box-shadow: 0 4px 14px rgba(0, 0, 0, 0.3);
  transition: transform 0.15s ease, box-shadow 0.15s ease;
}
.launcher:hover { transform: scale(1.05); box-shadow: 0 6px 18px rgba(0, 0, 0, 0.35); }
.launcher:focus { outline: none; }
.launcher:focus-visible {
  outline: 3px solid ${accentOnWhite}; outline-offset: 3px;
  box-shadow: 0 0 0 3px #ffffff, 0 4px 14px rgba(0, 0, 0, 0.3);
}
.launcher svg { width: 30px; height: 30px; }
.badge {
  position: absolute; top: 0; right: 0; width: 18px; height: 18px; border-radius: 50%;
  background: #c4200f; border: 3px solid #ffffff;
}
.panel {
  position: fixed; right: 20px; bottom: calc(92px + env(safe-area-inset-bottom, 0px));
  z-index: 2147483000; width: 370px; max-width: calc(100vw - 40px);
  height: 560px; max-height: calc(100vh - 112px);
  display: flex; flex-direction: column; overflow: hidden;
  background: #ffffff; color: #1a1a1a; border: 1px solid rgba(0, 0, 0, 0.14);
  border-radius: 14px; box-shadow: 0 12px 40px rgba(0, 0, 0, 0.28);
}
.header {
  flex: none; display: flex; align-items: center; gap: 8px;
  padding: 8px 8px 8px 16px; min-height: 60px; background: ${accent}; color: ${on};
}
.title {
  flex: 1; min-width: 0; margin: 0; font-size: 17px; font-weight: 650; line-height: 1.3;
  overflow-wrap: anywhere;
}
.close {
  flex: none; width: 44px; height: 44px; padding: 0; border: 0; border-radius: 10px;
  background: transparent; color: ${on}; cursor: pointer;
  display: flex; align-items: center; justify-content: center;
}
.close svg { width: 22px; height: 22px; }
.close:hover { background: ${hoverTint}; }
.close:focus { outline: none; }
.close:focus-visible { outline: 3px solid ${on}; outline-offset: -4px; }
.banner-area { flex: none; }
.emergency-banner {
  margin: 0; padding: 12px 16px; background: #b3261e; color: #ffffff;
  font-weight: 650; line-height: 1.4; border-bottom: 3px solid #7a1610;
}
.log {
  flex: 1; min-height: 0; overflow-y: auto; overscroll-behavior: contain;
  padding: 16px 12px; display: flex; flex-direction: column; gap: 10px; background: #f7f8fa;
}
.log:focus { outline: none; }
.log:focus-visible { outline: 3px solid ${accentOnWhite}; outline-offset: -3px; }
.msg-row { display: flex; flex-direction: column; align-items: flex-start; max-width: 100%; }
.msg-row-patient { align-items: flex-end; }
.msg {
  max-width: 85%; padding: 10px 14px; border-radius: 18px; border: 1px solid transparent;
  white-space: pre-wrap; overflow-wrap: anywhere;
}
.msg-patient { background: ${accent}; color: ${on}; border-bottom-right-radius: 5px; }
.msg-bot { background: #e9ecf0; color: #1a1a1a; border-bottom-left-radius: 5px; }
.msg-coordinator {
  background: #fff4d4; color: #1a1a1a; border: 1px solid #e0b650;
  border-left: 5px solid #8a5300; border-bottom-left-radius: 5px;
}
.msg-label {
  display: block; margin-bottom: 2px; font-size: 13px; font-weight: 700;
  letter-spacing: 0.02em; color: #6b3f00; white-space: normal;
}
.msg-bot.msg-emergency {
  background: #fdecea; color: #5c0b06; border: 2px solid #b3261e; font-weight: 500;
}
.typing {
  align-self: flex-start; padding: 6px 16px 10px; border-radius: 18px;
  border-bottom-left-radius: 5px; background: #e9ecf0; color: #1a1a1a;
  font-size: 22px; line-height: 1; letter-spacing: 2px;
  animation: ntw-pulse 1.2s ease-in-out infinite;
}
@keyframes ntw-pulse { 0%, 100% { opacity: 1; } 50% { opacity: 0.45; } }
.quick-replies { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 8px; max-width: 100%; }
.quick-reply {
  min-height: 44px; padding: 8px 16px; border: 2px solid ${accentOnWhite}; border-radius: 22px;
  background: #ffffff; color: ${accentOnWhite}; font-size: 15px; font-weight: 600;
  line-height: 1.3; text-align: left; cursor: pointer;
}
.quick-reply:hover:not(:disabled) { background: ${accentOnWhite}; color: #ffffff; }
.quick-reply:disabled { cursor: default; opacity: 0.6; }
.quick-reply:focus { outline: none; }
.quick-reply:focus-visible { outline: 3px solid ${accentOnWhite}; outline-offset: 2px; }
.notice {
  align-self: center; margin: 2px 8px; text-align: center; font-size: 14px; color: #3d4247;
}
.error-area { flex: none; }
.error {
  margin: 0; padding: 10px 16px; background: #fdecea; color: #8a1c14; font-size: 15px;
  border-top: 1px solid #f0b8b2;
}
.composer {
  flex: none; display: flex; align-items: flex-end; gap: 8px;
  padding: 10px 12px; border-top: 1px solid #d5d9de; background: #ffffff;
}
.input {
  flex: 1; min-width: 0; min-height: 46px; max-height: 140px; margin: 0;
  padding: 11px 12px; border: 1px solid #6b7178; border-radius: 12px; resize: none;
  font: inherit; font-size: 16px; line-height: 1.4; color: #1a1a1a; background: #ffffff;
  overflow-y: auto;
}
.input::placeholder { color: #5c6166; opacity: 1; }
.input:focus { outline: none; }
.input:focus-visible, .input:focus {
  border-color: ${accentOnWhite}; outline: 3px solid ${accentOnWhite}; outline-offset: 1px;
}
.send {
  flex: none; min-height: 46px; padding: 0 18px; border: 0; border-radius: 12px;
  background: ${accent}; color: ${on}; font-weight: 650; cursor: pointer;
}
.send:disabled { cursor: progress; opacity: 0.6; }
.send:focus { outline: none; }
.send:focus-visible { outline: 3px solid ${accentOnWhite}; outline-offset: 2px; }
.footer {
  flex: none; margin: 0; padding: 4px 12px calc(8px + env(safe-area-inset-bottom, 0px));
  background: #ffffff; color: #4a4f55; font-size: 13px; line-height: 1.35; text-align: center;
}
@media (max-width: 480px) {
  .panel {
    top: 0; left: 0; right: 0; bottom: auto; width: 100vw; max-width: none;
    height: 100vh; height: 100dvh; max-height: none; border: 0; border-radius: 0;
  }
  .launcher[aria-expanded="true"] { display: none; }
}
@media (prefers-reduced-motion: reduce) {
  .launcher, .typing { transition: none; animation: none; }
  .launcher:hover { transform: none; }
}
@media (forced-colors: active) {
  .msg, .typing, .quick-reply, .emergency-banner, .launcher { border: 2px solid CanvasText; }
}
`;
  }

  // ------------------------------------------------------------------ the widget

  function start() {
    const host = el("div", "", { id: HOST_ID, lang: LANG });
    const shadow = host.attachShadow({ mode: "open" });
    // A constructed stylesheet is not an inline <style>, so clinic pages whose
    // Content-Security-Policy forbids inline styles still show the widget correctly.
    if ("adoptedStyleSheets" in shadow && typeof CSSStyleSheet === "function") {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(stylesheet());
      shadow.adoptedStyleSheets = [sheet];
    } else {
      const style = document.createElement("style");
      style.textContent = stylesheet();
      shadow.appendChild(style);
    }

    const root = el("div", "root");
    shadow.appendChild(root);

    const launcher = el("button", "launcher", {
      type: "button",
      "aria-label": T.open,
      "aria-expanded": "false",
      "aria-controls": PANEL_ID,
      "data-testid": "launcher",
    });
    const launcherIcon = el("span");
    launcherIcon.style.display = "contents";
    launcherIcon.appendChild(icon("chat"));
    const badge = el("span", "badge", { "aria-hidden": "true" });
    badge.hidden = true;
    launcher.append(launcherIcon, badge);

    const panel = el("section", "panel", {
      id: PANEL_ID,
      role: "dialog",
      "aria-label": TITLE,
    });
    panel.hidden = true;

    const header = el("div", "header");
    const title = el("h2", "title");
    title.textContent = TITLE;
    const closeButton = el("button", "close", { type: "button", "aria-label": T.close });
    closeButton.appendChild(icon("close"));
    header.append(title, closeButton);

    const bannerArea = el("div", "banner-area");

    const log = el("div", "log", {
      role: "log",
      "aria-live": "polite",
      "aria-relevant": "additions",
      "data-testid": "log",
      tabindex: "0",
    });

    const errorArea = el("div", "error-area");

    const form = el("form", "composer", { novalidate: "" });
    const input = el("textarea", "input", {
      "aria-label": T.inputLabel,
      placeholder: T.placeholder,
      maxlength: String(MAX_CHARS),
      rows: "1",
      autocomplete: "off",
      "data-testid": "input",
    });
    const sendButton = el("button", "send", { type: "submit", "data-testid": "send" });
    sendButton.textContent = T.send;
    form.append(input, sendButton);

    const footer = el("p", "footer");
    footer.textContent = T.footer;

    panel.append(header, bannerArea, log, errorArea, form, footer);
    root.append(panel, launcher);
    document.body.appendChild(host);

    // ---------------------------------------------------------------- state

    let conv = loadConversation(); // {id, token} or null
    let creating = null; // the promise of a conversation being created
    let isOpen = false;
    let busy = false; // a patient message is being posted
    let postEpoch = 0; // bumped by every post: a poll started before one is ignored
    let polling = false;
    let pollTimer = null;
    let historyLoaded = false;
    const known = new Set(); // seqs of the messages shown
    let watermark = 0; // every message up to this seq has been seen: polls ask after it
    let maxSeq = 0; // the highest seq seen
    const payloadTitles = new Map(); // quick-reply payload -> title, to show what was tapped
    let emergencyTurn = false; // the bot messages being added belong to an emergency turn
    let unconfirmed = []; // {text, row}: sent messages whose seq is not known yet
    let typingNode = null;

    // ---------------------------------------------------------------- rendering

    function scrollToEnd() {
      log.scrollTop = log.scrollHeight;
    }

    function renderMessage(role, text, seq, emergency) {
      const row = el("div", "msg-row msg-row-" + role);
      if (seq !== null && seq !== undefined) row.setAttribute("data-seq", String(seq));
      if (role !== "coordinator") {
        const who = el("span", "sr-only");
        who.textContent = role === "patient" ? T.you : T.assistant;
        row.appendChild(who);
      }
      const bubble = el("div", "msg msg-" + role + (emergency ? " msg-emergency" : ""));
      if (role === "coordinator") {
        const label = el("span", "msg-label");
        label.textContent = T.careTeam;
        bubble.appendChild(label);
      }
      bubble.appendChild(document.createTextNode(text));
      row.appendChild(bubble);
      log.insertBefore(row, typingNode && typingNode.parentNode === log ? typingNode : null);
      return row;
    }

    function addNotice(text) {
      const notice = el("p", "notice");
      notice.textContent = text;
      log.appendChild(notice);
    }

    function showBanner() {
      if (bannerArea.querySelector(".emergency-banner")) return;
      const banner = el("p", "emergency-banner", {
        role: "alert",
        "data-testid": "emergency-banner",
      });
      banner.textContent = T.banner;
      bannerArea.appendChild(banner);
    }

    function quickReplyGroups() {
      return Array.from(log.querySelectorAll(".quick-replies"));
    }

    function clearQuickReplies() {
      const groups = quickReplyGroups();
      const hadFocus = groups.some((g) => g.contains(shadow.activeElement));
      groups.forEach((g) => g.remove());
      if (hadFocus && isOpen) log.focus({ preventScroll: true });
    }

    function setQuickRepliesDisabled(disabled) {
      for (const button of log.querySelectorAll(".quick-reply")) button.disabled = disabled;
    }

    function renderQuickReplies(row, buttons) {
      const group = el("div", "quick-replies", { role: "group", "aria-label": T.quickReplies });
      for (const b of buttons) {
        const button = el("button", "quick-reply", { type: "button" });
        button.textContent = b.title;
        button.addEventListener("click", (event) => {
          if (busy) return;
          const inside = group.contains(shadow.activeElement);
          sendMessage(b.payload, b.title);
          // The buttons are disabled, then removed: keep focus in the panel. After a key
          // press (detail 0) go to the text box; after a tap, to the log, so that a phone
          // does not open its keyboard.
          if (inside) (event.detail === 0 ? input : log).focus({ preventScroll: true });
        });
        group.appendChild(button);
      }
      row.appendChild(group);
    }

    function validButtons(buttons) {
      if (!Array.isArray(buttons)) return [];
      return buttons.filter(
        (b) =>
          b &&
          typeof b.title === "string" &&
          typeof b.payload === "string" &&
          b.title.trim() !== "" &&
          b.payload.trim() !== ""
      );
    }

    function showTyping() {
      if (!typingNode) {
        typingNode = el("div", "typing", { role: "img", "aria-label": T.typing });
        typingNode.textContent = "…";
      }
      log.appendChild(typingNode); // (re)placed last
      scrollToEnd();
    }

    function hideTyping() {
      if (typingNode) typingNode.remove();
    }

    function showError(text) {
      errorArea.textContent = "";
      const line = el("p", "error", { role: "alert" });
      line.textContent = text;
      errorArea.appendChild(line);
    }

    function clearError() {
      errorArea.textContent = "";
    }

    function setUnread(unread) {
      badge.hidden = !unread;
      launcher.setAttribute("aria-label", unread ? T.openUnread : T.open);
    }

    function advanceWatermark() {
      while (known.has(watermark + 1)) watermark += 1;
    }

    /** Shows new messages in seq order; those already shown are skipped. */
    function ingest(messages, source) {
      const list = (Array.isArray(messages) ? messages : [])
        .filter((m) => m && typeof m === "object")
        .slice()
        .sort((a, b) => (Number(a.seq) || 0) - (Number(b.seq) || 0));
      let added = 0;
      let unread = false;
      for (const m of list) {
        const seq = Number.isInteger(m.seq) ? m.seq : null;
        if (seq !== null) {
          if (known.has(seq)) continue;
          known.add(seq);
          if (seq > maxSeq) maxSeq = seq;
        }
        const text = typeof m.text === "string" ? m.text : "";
        if (m.role === "patient") {
          const pending = unconfirmed.findIndex((u) => u.text === text);
          if (pending >= 0) {
            // Our own message, already on screen: the post's reply did not tell its seq.
            if (seq !== null) unconfirmed[pending].row.setAttribute("data-seq", String(seq));
            unconfirmed.splice(pending, 1);
            continue;
          }
          clearQuickReplies();
          emergencyTurn = false;
          const shown = payloadTitles.has(text) ? payloadTitles.get(text) : text;
          renderMessage("patient", shown, seq, false);
        } else if (m.role === "coordinator") {
          renderMessage("coordinator", text, seq, false);
          if (source === "poll") unread = true;
        } else {
          const custom = m.custom && typeof m.custom === "object" ? m.custom : null;
          const triage = custom && custom.triage && typeof custom.triage === "object";
          if (triage) emergencyTurn = custom.triage.level === "emergency";
          const buttons = validButtons(m.buttons);
          if (!text && !buttons.length) continue;
          const row = renderMessage("bot", text, seq, emergencyTurn);
          if (emergencyTurn) showBanner();
          if (buttons.length) {
            for (const b of buttons) payloadTitles.set(b.payload, b.title);
            clearQuickReplies();
            renderQuickReplies(row, buttons);
          }
          if (source === "poll") unread = true;
        }
        added += 1;
      }
      advanceWatermark();
      if (added) scrollToEnd();
      if (unread && !isOpen) setUnread(true);
      return added;
    }

    // ---------------------------------------------------------------- conversation

    function resetConversation() {
      conv = null;
      saveConversation(null);
      known.clear();
      watermark = 0;
      maxSeq = 0;
      payloadTitles.clear();
      emergencyTurn = false;
      unconfirmed = [];
      historyLoaded = false;
      postEpoch += 1; // a poll still running belongs to the old conversation
      clearTimeout(pollTimer);
      pollTimer = null;
      log.textContent = "";
      bannerArea.textContent = "";
      setUnread(false);
    }

    /** The stored conversation is gone (404): forget it and say so. */
    function conversationLost() {
      resetConversation();
      addNotice(T.lost);
    }

    function ensureConversation() {
      if (conv) return Promise.resolve(conv);
      if (!creating) {
        creating = (async () => {
          const r = await request("POST", "/api/conversations", { lang: LANG }, null, POST_TIMEOUT_MS);
          const d = r.data;
          if (!r.ok || !d || typeof d.id !== "string" || typeof d.token !== "string") {
            throw new Error("could not create a conversation (" + r.status + ")");
          }
          conv = { id: d.id, token: d.token };
          saveConversation(conv);
          historyLoaded = true;
          ingest(d.messages, "opening");
          schedulePoll(POLL_MS);
          return conv;
        })();
        creating.then(
          () => (creating = null),
          () => (creating = null)
        );
      }
      return creating;
    }

    // ---------------------------------------------------------------- polling

    function schedulePoll(delay) {
      clearTimeout(pollTimer);
      pollTimer = conv ? setTimeout(pollTick, delay) : null;
    }

    async function pollTick() {
      pollTimer = null;
      if (!conv) return;
      if (document.visibilityState !== "hidden" && !busy && !polling) await poll();
      if (conv && pollTimer === null) schedulePoll(POLL_MS);
    }

    async function poll() {
      const c = conv;
      if (!c) return;
      const epoch = postEpoch;
      const source = historyLoaded ? "poll" : "history";
      polling = true;
      try {
        const r = await request(
          "GET",
          messagesPath(c) + "?after=" + watermark,
          undefined,
          c.token,
          GET_TIMEOUT_MS
        );
        if (c !== conv || epoch !== postEpoch) return; // a post or a reset came in between
        if (r.status === 404) {
          conversationLost();
          return;
        }
        if (!r.ok || !r.data || !Array.isArray(r.data.messages)) return; // tried again later
        const messages = r.data.messages;
        ingest(messages, source);
        // Every message after the watermark up to the newest one returned has now been seen.
        for (const m of messages) {
          if (m && Number.isInteger(m.seq) && m.seq > watermark) watermark = m.seq;
        }
        advanceWatermark();
        historyLoaded = true;
      } finally {
        polling = false;
      }
    }

    // ---------------------------------------------------------------- sending

    function setBusy(value) {
      busy = value;
      sendButton.disabled = value;
      form.setAttribute("aria-busy", value ? "true" : "false");
    }

    function errorFor(r) {
      if (r && (r.status === 413 || r.status === 422)) {
        const detail = r.data && r.data.detail;
        if (typeof detail === "string" && detail.trim()) return detail;
        return r.status === 413 ? T.tooLong : T.invalid;
      }
      return T.network;
    }

    /** Posts `text`; shows `display` (a quick reply's title) instead when given. */
    async function sendMessage(text, display) {
      if (busy || typeof text !== "string") return;
      const body = text.trim();
      if (!body) return;
      const fromInput = display === undefined;
      if (body.length > MAX_CHARS) {
        showError(T.tooLong);
        return;
      }
      clearError();
      setBusy(true);
      postEpoch += 1;
      if (fromInput) {
        input.value = "";
        autosize();
      }
      setQuickRepliesDisabled(true);
      let row = null;
      let failure = null;
      try {
        for (let attempt = 0; attempt < 2; attempt += 1) {
          showTyping();
          let c;
          try {
            c = await ensureConversation();
          } catch (e) {
            failure = { message: T.startFailed };
            return;
          }
          if (!row || !row.isConnected) {
            const shown = fromInput ? (payloadTitles.has(body) ? payloadTitles.get(body) : body) : display;
            row = renderMessage("patient", shown, null, false);
            emergencyTurn = false;
            showTyping();
          }
          postEpoch += 1;
          const r = await request("POST", messagesPath(c), { text: body }, c.token, POST_TIMEOUT_MS);
          if (c !== conv) {
            failure = { message: T.network }; // the conversation was reset meanwhile
            return;
          }
          if (r.status === 404 && attempt === 0) {
            conversationLost(); // deleted: start a new one and send the message there
            row = null;
            continue;
          }
          if (!r.ok || !r.data || !Array.isArray(r.data.messages)) {
            failure = { message: errorFor(r) };
            return;
          }
          const replies = r.data.messages;
          const seqs = replies.map((m) => m && m.seq).filter((s) => Number.isInteger(s));
          if (seqs.length) {
            // The patient's message is stored just before the turn's first reply.
            const own = Math.min.apply(null, seqs) - 1;
            row.setAttribute("data-seq", String(own));
            known.add(own);
            if (own > maxSeq) maxSeq = own;
          } else {
            unconfirmed.push({ text: body, row: row });
          }
          hideTyping();
          clearQuickReplies();
          ingest(replies, "reply");
          return;
        }
      } finally {
        hideTyping();
        if (failure) {
          if (row) row.remove();
          setQuickRepliesDisabled(false);
          if (fromInput) {
            input.value = input.value ? text + "\n" + input.value : text;
            autosize();
          }
          showError(failure.message);
        }
        setBusy(false);
        scrollToEnd();
        if (conv) schedulePoll(POLL_MS);
      }
    }

    // ---------------------------------------------------------------- open / close

    function openPanel(moveFocus) {
      isOpen = true;
      panel.hidden = false;
      launcher.setAttribute("aria-expanded", "true");
      launcherIcon.textContent = "";
      launcherIcon.appendChild(icon("close"));
      setUnread(false);
      storageSet("sessionStorage", OPEN_KEY, "1");
      scrollToEnd();
      if (moveFocus) input.focus({ preventScroll: true });
      if (!conv) {
        showTyping();
        ensureConversation()
          .then(() => clearError())
          .catch(() => showError(T.startFailed))
          .finally(() => {
            if (!busy) hideTyping();
          });
      }
    }

    function closePanel(returnFocus) {
      isOpen = false;
      panel.hidden = true;
      launcher.setAttribute("aria-expanded", "false");
      launcherIcon.textContent = "";
      launcherIcon.appendChild(icon("chat"));
      storageSet("sessionStorage", OPEN_KEY, "0");
      if (returnFocus) launcher.focus();
    }

    function autosize() {
      input.style.height = "auto";
      input.style.height = Math.min(input.scrollHeight + 2, 140) + "px";
    }

    launcher.addEventListener("click", () => {
      if (isOpen) closePanel(true);
      else openPanel(true);
    });
    closeButton.addEventListener("click", () => closePanel(true));

    shadow.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && isOpen && !event.isComposing) {
        event.preventDefault();
        event.stopPropagation();
        closePanel(true);
      }
    });

    input.addEventListener("keydown", (event) => {
      if (
        event.key === "Enter" &&
        !event.shiftKey &&
        !event.isComposing &&
        event.keyCode !== 229 // an input method is composing
      ) {
        event.preventDefault();
        sendMessage(input.value);
      }
    });
    input.addEventListener("input", autosize);

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      sendMessage(input.value);
    });

    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && conv) schedulePoll(0);
    });

    // ---------------------------------------------------------------- resume

    const wasOpen = storageGet("sessionStorage", OPEN_KEY) === "1";
    if (conv) {
      poll().then(() => schedulePoll(POLL_MS)); // the whole history first
    }
    if (wasOpen) openPanel(false);
  }

  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start, { once: true });
})();
