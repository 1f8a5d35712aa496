// Help widget: plain JS, no build step. Talks to POST /widget/api/message.
(function () {
  "use strict";
  var params = new URLSearchParams(location.search);
  var insurer = params.get("insurer") || "";
  var token = params.get("token") || "";
  var BACKOFF_MS = [1000, 2000, 4000];   // retries on network errors / 5xx
  var TIMEOUT_MS = 25000;

  var list = document.getElementById("messages");
  var quick = document.getElementById("quick");
  var typing = document.getElementById("typing");
  var statusEl = document.getElementById("status");
  var form = document.getElementById("composer");
  var input = document.getElementById("input");
  var sendBtn = document.getElementById("send");

  function sessionId() {
    var key = "hw_session";
    var id = null;
    try { id = sessionStorage.getItem(key); } catch (e) { /* storage disabled in some web views */ }
    if (!id) {
      var bytes = new Uint8Array(12);
      crypto.getRandomValues(bytes);
      id = Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
      try { sessionStorage.setItem(key, id); } catch (e) { /* keep it in memory */ }
    }
    return id;
  }
  var session = sessionId();

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text) node.textContent = text;
    return node;
  }

  function scroll() { list.scrollTop = list.scrollHeight; }

  function setStatus(text) {
    statusEl.hidden = !text;
    statusEl.textContent = text || "";
  }

  function addUser(text) {
    list.appendChild(el("div", "msg user", text));
    scroll();
  }

  function addBot(m) {
    var box = el("div", "msg bot" + (m.kind === "unavailable" ? " error" : ""));
    if (m.text) box.appendChild(el("div", "text", m.text));
    if (m.items && m.items.length) {
      var ul = el("ul");
      m.items.slice(0, 50).forEach(function (it) { ul.appendChild(el("li", null, it)); });
      box.appendChild(ul);
      if (m.items.length > 50) box.appendChild(el("div", "more", "……共 " + m.items.length + " 项"));
    }
    (m.sources || []).forEach(function (s) { box.appendChild(el("div", "cite", "来源：" + s)); });
    list.appendChild(box);
    scroll();
    return box;
  }

  function setOptions(options) {
    quick.textContent = "";
    (options || []).forEach(function (o) {
      var b = el("button", null, o.title);
      b.type = "button";
      b.addEventListener("click", function () { send(o.title, o.payload); });
      quick.appendChild(b);
    });
  }

  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  function post(body) {
    var ctl = new AbortController();
    var timer = setTimeout(function () { ctl.abort(); }, TIMEOUT_MS);
    return fetch("/widget/api/message", {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body), signal: ctl.signal
    }).finally(function () { clearTimeout(timer); });
  }

  // Network errors and 5xx are retried with backoff; 4xx answers are shown as they are.
  async function postWithRetry(body) {
    for (var attempt = 0; ; attempt++) {
      try {
        var resp = await post(body);
        if (resp.status < 500) {
          setStatus("");
          var data = await resp.json().catch(function () { return {}; });
          return {ok: resp.ok, data: data};
        }
      } catch (e) { /* offline, aborted, connection refused */ }
      if (attempt >= BACKOFF_MS.length) { setStatus(""); return null; }
      setStatus("网络不稳定，正在重新连接…");
      await sleep(BACKOFF_MS[attempt]);
    }
  }

  var busy = false;
  async function send(text, payload) {
    text = (text || "").trim();
    if (!text || busy) return;
    busy = true;
    sendBtn.disabled = true;
    addUser(text);
    setOptions([]);
    typing.hidden = false;
    scroll();
    var result = await postWithRetry({text: text, payload: payload || null, insurer: insurer || null,
                                      token: token || null, session: session});
    typing.hidden = true;
    busy = false;
    sendBtn.disabled = false;
    if (!result) {
      var box = addBot({text: "网络连接失败，消息没有发出去。", kind: "unavailable"});
      var retry = el("button", "retry", "重新发送");
      retry.type = "button";
      retry.addEventListener("click", function () { retry.remove(); list.removeChild(box); send(text, payload); });
      box.appendChild(retry);
      return;
    }
    if (!result.ok) {
      var err = (result.data && result.data.error) || {};
      addBot({text: err.message || "请求没有成功，请稍后再试。", kind: "unavailable"});
      return;
    }
    (result.data.messages || []).forEach(addBot);
    setOptions(result.data.options);
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value;
    input.value = "";
    send(text);
  });

  addBot({text: "您好！我是在线客服助手，可以帮您查询服务内容、城市和医院覆盖、申请条件和办理流程。请问有什么可以帮您？"});
})();
