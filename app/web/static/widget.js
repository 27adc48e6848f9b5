/*
 * Natalizumab symptom-triage chat widget.
 *
 * Embed with one tag (all data-* attributes optional):
 *   <script src="https://HOST/widget.js" defer
 *           data-title="Ask the MS nurse line" data-lang="en" data-color="#005eb8"></script>
 *
 *   data-title    the panel's heading
 *   data-lang     "en" (default) or "zh"
 *   data-color    the accent colour (any CSS colour; darkened where it is used as text)
 *   data-storage  where the conversation id and token are kept: "local" (default,
 *                 localStorage: a reload or a new tab resumes the conversation) or
 *                 "session" (sessionStorage: for shared computers, such as a clinic's
 *                 waiting-room kiosk — the conversation is forgotten when the tab is closed
 *                 and is not seen by other tabs)
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
  const CONFIRM_ID = "ntw-confirm-new";
  const COUNTER_ID = "ntw-counter";
  const ANCHOR_GAP_PX = 8; // room above an emergency turn's first message in the log
  const DEFAULT_COLOR = "#005eb8";
  const DEFAULT_RGB = [0, 94, 184];
  const MAX_CHARS = 5000; // the server's limit, in characters (code points)
  const COUNT_FROM = 4500; // the character counter shows from here on
  const POLL_MS = 3000;
  const HIDDEN_POLL_MS = 10000; // while the page is hidden: care-team replies still arrive
  const POST_TIMEOUT_MS = 30000;
  const GET_TIMEOUT_MS = 15000;

  const STRINGS = {
    en: {
      title: "Natalizumab symptom checker",
      open: "Open symptom chat",
      openUnread: "Open symptom chat (new message)",
      closeLauncher: "Close symptom chat",
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
      // {n}: a number of characters.
      tooLongCount:
        "Not sent: your message is {n} characters and the limit is 5,000. " +
        "Please shorten it; your text is still in the box.",
      counter: "{n} of 5,000 characters",
      counterOver: "{n} of 5,000 characters: {over} too many",
      newConversation: "Start a new conversation",
      confirmNew:
        "Start a new conversation? This chat will be cleared from this device. " +
        "Your care team can still see it.",
      confirmYes: "Start new conversation",
      cancel: "Cancel",
      source: "Source: {source}",
      sourceDocument: "Source: {document}, {source}",
      notSent: "Your message was not sent; it is still in the box.",
    },
    zh: {
      title: "那他珠单抗症状自查",
      open: "打开症状咨询对话",
      openUnread: "打开症状咨询对话（有新消息）",
      closeLauncher: "关闭症状咨询对话",
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
      tooLongCount: "未发送：您的消息有{n}个字符，上限为5,000个。请缩短后再发送；您的文字仍保留在输入框中。",
      counter: "已输入{n}个字符，上限5,000个",
      counterOver: "已输入{n}个字符，上限5,000个：超出{over}个",
      newConversation: "开始新的对话",
      confirmNew: "要开始新的对话吗？此对话将从这台设备上清除，但您的医护团队仍可查看。",
      confirmYes: "确定，开始新对话",
      cancel: "取消",
      source: "来源：{source}",
      sourceDocument: "来源：{document}，{source}",
      notSent: "消息未发送，仍保留在输入框中。",
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
  // Shared computers: data-storage="session" keeps the conversation for this tab only.
  const STORE = dataAttr("storage").toLowerCase() === "session" ? "sessionStorage" : "localStorage";
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
      const saved = JSON.parse(storageGet(STORE, CONV_KEY) || "null");
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
      STORE,
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

  // ------------------------------------------------------------------ text and time

  /** The template with each {name} replaced by values[name]. */
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (whole, name) =>
      Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole
    );
  }

  /** Characters as the server counts them (code points, not UTF-16 units). */
  function charCount(text) {
    return Array.from(text).length;
  }

  function formatCount(n) {
    try {
      return n.toLocaleString(LANG === "zh" ? "zh-CN" : "en");
    } catch (e) {
      return String(n);
    }
  }

  /** A Date from the server's ISO 8601 time (UTC, microseconds), or null. */
  function parseTime(iso) {
    if (typeof iso !== "string" || !iso) return null;
    // More than 3 fraction digits is outside ECMAScript's date format: keep milliseconds.
    const d = new Date(iso.replace(/(\.\d{3})\d+/, "$1"));
    return isNaN(d.getTime()) ? null : d;
  }

  function pad2(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function fullDate(d) {
    try {
      return d.toLocaleString(LANG === "zh" ? "zh-CN" : undefined, {
        weekday: "long",
        year: "numeric",
        month: "long",
        day: "numeric",
        hour: "2-digit",
        minute: "2-digit",
        timeZoneName: "short",
      });
    } catch (e) {
      return d.toString();
    }
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
    } else if (kind === "new") {
      // A pencil over a square: write a new message.
      path.setAttribute(
        "d",
        "M11 4.5H6A1.5 1.5 0 0 0 4.5 6v12A1.5 1.5 0 0 0 6 19.5h12a1.5 1.5 0 0 0 1.5-1.5v-5" +
          "M17.3 3.7a1.9 1.9 0 0 1 2.7 2.7L12.2 14.2l-3.6.9.9-3.6z"
      );
      path.setAttribute("fill", "none");
      path.setAttribute("stroke", "currentColor");
      path.setAttribute("stroke-width", "2");
      path.setAttribute("stroke-linecap", "round");
      path.setAttribute("stroke-linejoin", "round");
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
.icon-button {
  flex: none; width: 44px; height: 44px; padding: 0; border: 0; border-radius: 10px;
  background: transparent; color: ${on}; cursor: pointer;
  display: flex; align-items: center; justify-content: center;
}
.icon-button svg { width: 22px; height: 22px; }
.icon-button:hover:not(:disabled) { background: ${hoverTint}; }
.icon-button:disabled { cursor: default; opacity: 0.55; }
.icon-button:focus { outline: none; }
.icon-button:focus-visible { outline: 3px solid ${on}; outline-offset: -4px; }
.confirm {
  flex: none; margin: 0; padding: 10px 16px 12px; background: #fff8e1; color: #1a1a1a;
  border-bottom: 1px solid #e0b650;
}
.confirm-text { margin: 0 0 8px; font-size: 15px; line-height: 1.4; }
.confirm-actions { display: flex; flex-wrap: wrap; gap: 8px; }
.confirm-button {
  min-height: 44px; padding: 8px 16px; border-radius: 10px; font-size: 15px;
  font-weight: 650; cursor: pointer; border: 2px solid ${accentOnWhite};
  background: #ffffff; color: ${accentOnWhite};
}
.confirm-yes { background: ${accent}; color: ${on}; border-color: ${accent}; }
.confirm-button:focus { outline: none; }
.confirm-button:focus-visible { outline: 3px solid ${accentOnWhite}; outline-offset: 2px; }
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
.msg-source {
  max-width: 85%; margin: 4px 6px 0; font-size: 13px; line-height: 1.35; color: #41464b;
  overflow-wrap: anywhere;
}
.msg-time {
  display: block; margin: 3px 6px 0; font-size: 12px; line-height: 1.3; color: #50565c;
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
.counter {
  flex: none; margin: 0; padding: 6px 12px 0; background: #ffffff; color: #41464b;
  font-size: 13px; line-height: 1.35; text-align: right; border-top: 1px solid #d5d9de;
}
.counter-over { color: #a1190e; font-weight: 650; }
.counter:not([hidden]) + .composer { border-top: 0; }
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
@media (max-height: 500px) {
  /* Short viewports (a phone held sideways): the panel takes the height, and the header,
     banner, composer and footer are compact so that the conversation keeps its room. */
  .panel {
    top: 8px; bottom: 8px; right: calc(8px + env(safe-area-inset-right, 0px));
    width: 480px; max-width: calc(100vw - 16px); height: auto; max-height: none;
    border-radius: 10px;
  }
  .launcher[aria-expanded="true"] { display: none; }
  .header { min-height: 0; padding: 2px 4px 2px 12px; gap: 2px; }
  .title {
    font-size: 15px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
    overflow-wrap: normal;
  }
  .icon-button { width: 40px; height: 40px; }
  .emergency-banner {
    padding: 5px 12px; font-size: 14px; line-height: 1.3; border-bottom-width: 2px;
  }
  .confirm { padding: 6px 12px 8px; }
  .confirm-text { margin-bottom: 4px; font-size: 14px; }
  .confirm-button { min-height: 40px; padding: 6px 12px; }
  .log { padding: 8px 10px; gap: 8px; }
  .error { padding: 6px 12px; font-size: 14px; }
  .counter { padding: 3px 10px 0; font-size: 12px; }
  .composer { padding: 6px 8px; }
  .input { min-height: 40px; max-height: 76px; padding: 8px 10px; }
  .send { min-height: 40px; }
  .footer {
    padding: 2px 8px calc(4px + env(safe-area-inset-bottom, 0px)); font-size: 12px;
    line-height: 1.3;
  }
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
  .msg, .typing, .quick-reply, .emergency-banner, .launcher, .confirm-button {
    border: 2px solid CanvasText;
  }
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
    const newButton = el("button", "icon-button new-conversation", {
      type: "button",
      "aria-label": T.newConversation,
      title: T.newConversation,
      "aria-expanded": "false",
      "aria-controls": CONFIRM_ID,
      "data-testid": "new-conversation",
    });
    newButton.appendChild(icon("new"));
    const closeButton = el("button", "icon-button close", { type: "button", "aria-label": T.close });
    closeButton.appendChild(icon("close"));
    header.append(title, newButton, closeButton);

    // The confirm step of "Start a new conversation": nothing is cleared by one stray tap.
    const confirmBox = el("div", "confirm", {
      id: CONFIRM_ID,
      role: "group",
      "aria-labelledby": CONFIRM_ID + "-text",
      "data-testid": "confirm-new",
    });
    confirmBox.hidden = true;
    const confirmText = el("p", "confirm-text", { id: CONFIRM_ID + "-text" });
    confirmText.textContent = T.confirmNew;
    const confirmActions = el("div", "confirm-actions");
    const confirmYes = el("button", "confirm-button confirm-yes", { type: "button" });
    confirmYes.textContent = T.confirmYes;
    const confirmNo = el("button", "confirm-button confirm-no", { type: "button" });
    confirmNo.textContent = T.cancel;
    confirmActions.append(confirmYes, confirmNo);
    confirmBox.append(confirmText, confirmActions);

    const bannerArea = el("div", "banner-area");

    const log = el("div", "log", {
      role: "log",
      "aria-live": "polite",
      "aria-relevant": "additions",
      "data-testid": "log",
      tabindex: "0",
    });

    const errorArea = el("div", "error-area");

    // Shown near the limit; a longer message is refused with a message, never cut.
    const counter = el("p", "counter", { id: COUNTER_ID, "data-testid": "counter" });
    counter.hidden = true;
    const counterStatus = el("span", "sr-only", { role: "status" }); // said once typing pauses

    const form = el("form", "composer", { novalidate: "" });
    const input = el("textarea", "input", {
      "aria-label": T.inputLabel,
      placeholder: T.placeholder,
      rows: "1",
      autocomplete: "off",
      "data-testid": "input",
    });
    const sendButton = el("button", "send", { type: "submit", "data-testid": "send" });
    sendButton.textContent = T.send;
    form.append(input, sendButton);

    const footer = el("p", "footer");
    footer.textContent = T.footer;

    panel.append(header, confirmBox, bannerArea, log, errorArea, counter, form, footer);
    panel.append(counterStatus);
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
    let lastPollAt = 0;
    let historyLoaded = false;
    const known = new Set(); // seqs of the messages shown
    let watermark = 0; // every message up to this seq has been seen: polls ask after it
    let maxSeq = 0; // the highest seq seen
    let lastPatientSeq = 0; // the newest patient message: quick replies before it are stale
    const payloadTitles = new Map(); // quick-reply payload -> title, to show what was tapped
    let emergencyTurn = false; // the bot messages being added belong to an emergency turn
    let level = null; // the conversation's current level: the banner shows while "emergency"
    let levelSeq = 0; // the message that level comes from
    let anchor = null; // the first message of the newest emergency turn: kept in view
    let anchorSeq = null;
    let unconfirmed = []; // {text, row}: sent messages whose seq is not known yet
    let typingNode = null;
    let errorKind = null; // what the error shown is about ("tooLong", ...)
    let counterTimer = null;
    let titleUnread = 0; // care-team replies announced in the page's title
    let titleBase = ""; // the page's own title
    let titleShown = null; // the title we set, or null

    // ---------------------------------------------------------------- rendering

    function scrollToEnd() {
      log.scrollTop = log.scrollHeight;
    }

    /**
     * Brings the newest thing to read into view: after an emergency turn, its first message
     * (what to do now) at the top of the log, where the banner does not cover it; else the
     * end of the log.
     */
    function scrollToLatest() {
      if (anchor && anchor.isConnected) {
        const offset = anchor.getBoundingClientRect().top - log.getBoundingClientRect().top;
        log.scrollTop = Math.max(0, log.scrollTop + offset - ANCHOR_GAP_PX);
      } else {
        anchor = null;
        scrollToEnd();
      }
    }

    /** A newer message than the emergency turn's start: the end of the log is what to read. */
    function passAnchor(seq) {
      if (anchor && (seq === null || anchorSeq === null || seq > anchorSeq)) anchor = null;
    }

    function timeElement(date) {
      const time = el("time", "msg-time", { datetime: date.toISOString(), title: fullDate(date) });
      time.textContent = pad2(date.getHours()) + ":" + pad2(date.getMinutes());
      return time;
    }

    function setRowTime(row, date) {
      const old = row.querySelector(".msg-time");
      const time = timeElement(date);
      if (old) old.replaceWith(time);
      else row.appendChild(time);
    }

    /** "Source: …" for a bot message that names its source, else "". */
    function sourceText(custom) {
      if (!custom) return "";
      const source = typeof custom.source === "string" ? custom.source.trim() : "";
      const documentName = typeof custom.document === "string" ? custom.document.trim() : "";
      if (source && documentName) {
        return fill(T.sourceDocument, { document: documentName, source: source });
      }
      return source || documentName ? fill(T.source, { source: source || documentName }) : "";
    }

    /** Puts the row in seq order; a row without a seq (being sent) goes last. */
    function place(row, seq) {
      let before = null;
      for (const node of log.children) {
        if (node === row) continue;
        if (seq !== null && node.hasAttribute("data-seq")) {
          if (Number(node.getAttribute("data-seq")) > seq) {
            before = node;
            break;
          }
        } else if (node.hasAttribute("data-pending") || node === typingNode) {
          before = node;
          break;
        }
      }
      log.insertBefore(row, before);
    }

    /** options: {emergency, time (a Date), source (text)} */
    function renderMessage(role, text, seq, options) {
      const o = options || {};
      const row = el("div", "msg-row msg-row-" + role);
      if (seq !== null && seq !== undefined) row.setAttribute("data-seq", String(seq));
      else if (role === "patient") row.setAttribute("data-pending", "");
      if (role !== "coordinator") {
        const who = el("span", "sr-only");
        who.textContent = role === "patient" ? T.you : T.assistant;
        row.appendChild(who);
      }
      const bubble = el("div", "msg msg-" + role + (o.emergency ? " msg-emergency" : ""));
      if (role === "coordinator") {
        const label = el("span", "msg-label");
        label.textContent = T.careTeam;
        bubble.appendChild(label);
      }
      bubble.appendChild(document.createTextNode(text));
      row.appendChild(bubble);
      if (o.source) {
        const line = el("p", "msg-source");
        line.textContent = o.source;
        row.appendChild(line);
      }
      row.appendChild(timeElement(o.time || new Date()));
      place(row, seq === undefined ? null : seq);
      return row;
    }

    /** Our own message, shown while it was sent, is stored as `seq`. */
    function confirmRow(row, seq, time) {
      if (known.has(seq) && log.querySelector('[data-seq="' + seq + '"]')) {
        row.remove(); // already on screen (never show one seq twice)
        return;
      }
      known.add(seq);
      if (seq > maxSeq) maxSeq = seq;
      if (seq > lastPatientSeq) lastPatientSeq = seq;
      row.removeAttribute("data-pending");
      row.setAttribute("data-seq", String(seq));
      if (time) setRowTime(row, time);
      place(row, seq);
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

    function hideBanner() {
      bannerArea.textContent = "";
    }

    /** The conversation's level as of message `seq`; an older message does not change it. */
    function setLevel(value, seq) {
      if (seq !== null && seq < levelSeq) return;
      if (seq !== null) levelSeq = seq;
      level = value;
      if (level === "emergency") showBanner();
      else hideBanner();
    }

    function quickReplyGroups() {
      return Array.from(log.querySelectorAll(".quick-replies"));
    }

    /** Removes the quick replies (those of messages before `beforeSeq` when given). */
    function clearQuickReplies(beforeSeq) {
      let groups = quickReplyGroups();
      if (beforeSeq !== undefined && beforeSeq !== null) {
        groups = groups.filter((g) => {
          const row = g.closest(".msg-row");
          const s = row ? row.getAttribute("data-seq") : null;
          return s === null || Number(s) < beforeSeq;
        });
      }
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

    function showError(text, kind) {
      errorArea.textContent = "";
      const line = el("p", "error", { role: "alert", "data-testid": "error" });
      line.textContent = text;
      errorArea.appendChild(line);
      errorKind = kind || null;
    }

    function clearError() {
      errorArea.textContent = "";
      errorKind = null;
    }

    function setUnread(unread) {
      badge.hidden = !unread;
      launcherLabel(unread);
    }

    // The launcher says what a press does: open the chat (noting a new message) or close it.
    function launcherLabel(unread) {
      launcher.setAttribute(
        "aria-label", isOpen ? T.closeLauncher : unread ? T.openUnread : T.open
      );
    }

    /** "(2) Page title": care-team replies the patient has not seen yet. */
    function announceInTitle(count) {
      if (titleShown === null || document.title !== titleShown) titleBase = document.title;
      titleUnread += count;
      titleShown = "(" + titleUnread + ") " + titleBase;
      document.title = titleShown;
    }

    function restoreTitle() {
      if (titleShown === null) return;
      if (document.title === titleShown) document.title = titleBase; // unless the page changed it
      titleShown = null;
      titleUnread = 0;
    }

    function advanceWatermark() {
      while (known.has(watermark + 1)) watermark += 1;
    }

    /** Shows new messages, each in its seq order; those already shown are skipped. */
    function ingest(messages, source) {
      const list = (Array.isArray(messages) ? messages : [])
        .filter((m) => m && typeof m === "object")
        .slice()
        .sort((a, b) => (Number(a.seq) || 0) - (Number(b.seq) || 0));
      let added = 0;
      let unread = false;
      let careTeam = 0;
      for (const m of list) {
        const seq = Number.isInteger(m.seq) ? m.seq : null;
        if (seq !== null) {
          if (known.has(seq)) continue;
          known.add(seq);
          if (seq > maxSeq) maxSeq = seq;
        }
        const text = typeof m.text === "string" ? m.text : "";
        const time = parseTime(m.created_at);
        const custom = m.custom && typeof m.custom === "object" ? m.custom : null;
        if (m.role === "patient") {
          if (seq !== null && seq > lastPatientSeq) lastPatientSeq = seq;
          const pending = unconfirmed.findIndex((u) => u.text === text);
          if (pending >= 0) {
            // Our own message, already on screen: the post's reply did not tell its seq.
            const row = unconfirmed[pending].row;
            unconfirmed.splice(pending, 1);
            if (seq !== null) {
              known.delete(seq);
              confirmRow(row, seq, time);
            }
            continue;
          }
          clearQuickReplies(seq);
          emergencyTurn = false;
          passAnchor(seq);
          const shown = payloadTitles.has(text) ? payloadTitles.get(text) : text;
          renderMessage("patient", shown, seq, { time: time });
        } else if (m.role === "coordinator") {
          passAnchor(seq);
          renderMessage("coordinator", text, seq, { time: time });
          if (source === "poll") {
            unread = true;
            careTeam += 1;
          }
        } else {
          const triage = custom && custom.triage && typeof custom.triage === "object";
          const change = custom && custom.conversation && typeof custom.conversation === "object";
          let startsEmergency = false;
          if (triage) {
            emergencyTurn = custom.triage.level === "emergency";
            startsEmergency = emergencyTurn;
            const reached = custom.triage.conversation_level;
            if (typeof reached === "string") setLevel(reached, seq);
            else if (emergencyTurn) setLevel("emergency", seq);
          }
          if (change) {
            // A coordinator resolved the alert (or the level changed otherwise): the
            // conversation's level is now this one.
            emergencyTurn = false;
            if (typeof custom.conversation.level === "string") {
              setLevel(custom.conversation.level, seq);
            }
          }
          const buttons = validButtons(m.buttons);
          if (!text && !buttons.length) continue;
          if (!emergencyTurn) passAnchor(seq);
          const row = renderMessage("bot", text, seq, {
            emergency: emergencyTurn,
            time: time,
            source: sourceText(custom),
          });
          if (startsEmergency && (seq === null || seq > lastPatientSeq)) {
            anchor = row;
            anchorSeq = seq;
          }
          if (buttons.length && (seq === null || seq > lastPatientSeq)) {
            for (const b of buttons) payloadTitles.set(b.payload, b.title);
            clearQuickReplies();
            renderQuickReplies(row, buttons);
          }
          if (source === "poll") unread = true;
        }
        added += 1;
      }
      advanceWatermark();
      if (added) scrollToLatest();
      if (unread && !isOpen) setUnread(true);
      if (careTeam && (!isOpen || document.visibilityState === "hidden")) {
        announceInTitle(careTeam);
      }
      return added;
    }

    // ---------------------------------------------------------------- conversation

    function resetConversation() {
      conv = null;
      saveConversation(null);
      known.clear();
      watermark = 0;
      maxSeq = 0;
      lastPatientSeq = 0;
      payloadTitles.clear();
      emergencyTurn = false;
      level = null;
      levelSeq = 0;
      anchor = null;
      anchorSeq = null;
      unconfirmed = [];
      historyLoaded = false;
      postEpoch += 1; // a poll still running belongs to the old conversation
      clearTimeout(pollTimer);
      pollTimer = null;
      log.textContent = "";
      hideBanner();
      setUnread(false);
      restoreTitle();
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
        updateNewButton();
        creating.then(
          () => (creating = null),
          () => (creating = null)
        ).finally(updateNewButton);
      }
      return creating;
    }

    /** Creates the conversation (when there is none), the disclaimer first. */
    function beginConversation() {
      showTyping();
      ensureConversation()
        .then(() => clearError())
        .catch(() => showError(T.startFailed))
        .finally(() => {
          if (!busy) hideTyping();
        });
    }

    // ---------------------------------------------------------------- new conversation

    function updateNewButton() {
      newButton.disabled = busy || creating !== null;
    }

    function askNewConversation() {
      confirmBox.hidden = false;
      newButton.setAttribute("aria-expanded", "true");
      confirmNo.focus(); // the safe choice first
    }

    function cancelNewConversation(returnFocus) {
      confirmBox.hidden = true;
      newButton.setAttribute("aria-expanded", "false");
      if (returnFocus) newButton.focus();
    }

    function startNewConversation() {
      cancelNewConversation(false);
      if (busy || creating) return;
      resetConversation();
      clearError();
      beginConversation();
      input.focus({ preventScroll: true });
    }

    newButton.addEventListener("click", () => {
      if (confirmBox.hidden) askNewConversation();
      else cancelNewConversation(true);
    });
    confirmYes.addEventListener("click", startNewConversation);
    confirmNo.addEventListener("click", () => cancelNewConversation(true));

    // ---------------------------------------------------------------- polling

    function schedulePoll(delay) {
      clearTimeout(pollTimer);
      pollTimer = conv ? setTimeout(pollTick, delay) : null;
    }

    async function pollTick() {
      pollTimer = null;
      if (!conv) return;
      // A hidden page still polls, less often, so that a care-team reply reaches the title.
      const hidden = document.visibilityState === "hidden";
      const due = !hidden || Date.now() - lastPollAt >= HIDDEN_POLL_MS - POLL_MS / 2;
      if (due && !busy && !polling) await poll();
      if (conv && pollTimer === null) schedulePoll(POLL_MS);
    }

    async function poll() {
      const c = conv;
      if (!c) return;
      const epoch = postEpoch;
      const source = historyLoaded ? "poll" : "history";
      polling = true;
      lastPollAt = Date.now();
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
      // A disabled button loses focus to the page: keep it in the panel (Escape still works;
      // the log, not the text box, so that a phone does not reopen its keyboard).
      if (value && shadow.activeElement === sendButton) log.focus({ preventScroll: true });
      sendButton.disabled = value;
      form.setAttribute("aria-busy", value ? "true" : "false");
      updateNewButton();
    }

    function errorFor(r) {
      const status = r ? r.status : 0;
      if (status >= 400 && status < 500) {
        const detail = r.data && typeof r.data.detail === "string" ? r.data.detail.trim() : "";
        if (detail) {
          // The server's reason, said plainly, and that nothing typed was lost.
          if (LANG !== "en") return T.notSent + "（" + detail + "）";
          const sentence = detail.charAt(0).toUpperCase() + detail.slice(1);
          return sentence + (/[.!?]$/.test(sentence) ? " " : ". ") + T.notSent;
        }
        if (status === 413) return T.tooLong;
        if (status === 422) return T.invalid;
      }
      return T.network;
    }

    function updateCounter() {
      const text = input.value.trim();
      const count = text.length < COUNT_FROM ? text.length : charCount(text);
      const over = count - MAX_CHARS;
      if (count < COUNT_FROM) {
        counter.hidden = true;
        counter.textContent = "";
        counter.classList.remove("counter-over");
        input.removeAttribute("aria-describedby");
        input.removeAttribute("aria-invalid");
      } else {
        counter.hidden = false;
        counter.textContent =
          over > 0
            ? fill(T.counterOver, { n: formatCount(count), over: formatCount(over) })
            : fill(T.counter, { n: formatCount(count) });
        counter.classList.toggle("counter-over", over > 0);
        input.setAttribute("aria-describedby", COUNTER_ID);
        input.setAttribute("aria-invalid", over > 0 ? "true" : "false");
      }
      if (errorKind === "tooLong" && over <= 0) clearError();
      // Screen readers hear the count once typing pauses, not at every key.
      clearTimeout(counterTimer);
      counterTimer = setTimeout(() => {
        counterStatus.textContent = counter.hidden ? "" : counter.textContent;
      }, 1000);
    }

    /** Posts `text`; shows `display` (a quick reply's title) instead when given. */
    async function sendMessage(text, display) {
      if (busy || typeof text !== "string") return;
      const body = text.trim();
      if (!body) return;
      const fromInput = display === undefined;
      const count = charCount(body);
      if (count > MAX_CHARS) {
        // Refused here, and the text stays in the box: nothing the patient wrote is cut.
        showError(fill(T.tooLongCount, { n: formatCount(count) }), "tooLong");
        updateCounter();
        return;
      }
      clearError();
      cancelNewConversation(false);
      setBusy(true);
      postEpoch += 1;
      if (fromInput) {
        input.value = "";
        autosize();
        updateCounter();
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
            anchor = null;
            row = renderMessage("patient", shown, null);
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
          const replies = r.data.messages.filter((m) => m && typeof m === "object");
          const stored = replies.filter((m) => Number.isInteger(m.seq));
          if (stored.length) {
            // The patient's message is stored just before the turn's first reply.
            const first = stored.reduce((a, b) => (b.seq < a.seq ? b : a));
            confirmRow(row, first.seq - 1, parseTime(first.created_at));
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
            updateCounter();
          }
          showError(failure.message);
        }
        setBusy(false);
        scrollToLatest();
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
      if (document.visibilityState !== "hidden") restoreTitle();
      storageSet("sessionStorage", OPEN_KEY, "1");
      scrollToLatest();
      if (moveFocus) input.focus({ preventScroll: true });
      if (!conv) beginConversation();
    }

    function closePanel(returnFocus) {
      isOpen = false;
      panel.hidden = true;
      launcher.setAttribute("aria-expanded", "false");
      launcherIcon.textContent = "";
      launcherIcon.appendChild(icon("chat"));
      launcherLabel(!badge.hidden);
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
        if (!confirmBox.hidden && confirmBox.contains(shadow.activeElement)) {
          cancelNewConversation(true); // Escape in the confirm step only cancels it
        } else {
          closePanel(true);
        }
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
    input.addEventListener("input", () => {
      autosize();
      updateCounter();
    });

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      sendMessage(input.value);
    });

    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState !== "visible") return;
      if (isOpen) restoreTitle();
      if (conv) schedulePoll(0);
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
