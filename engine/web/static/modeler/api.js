// JSON calls to the modeler API with the signed-in session: the session cookie is sent and
// writes carry the session's CSRF header (read from the page's data-csrf / data-csrf-header).
(function () {
  "use strict";

  function root() {
    return document.querySelector("[data-csrf-header]");
  }

  async function call(method, url, body) {
    var headers = { Accept: "application/json" };
    var page = root();
    if (method !== "GET" && page) {
      headers[page.dataset.csrfHeader] = page.dataset.csrf;
    }
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
    }
    var response = await fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    var text = await response.text();
    var data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (e) {
      data = { message: text };
    }
    if (!response.ok) {
      var error = new Error((data && data.message) || "请求失败（" + response.status + "）");
      error.status = response.status;
      error.data = data;
      throw error;
    }
    return data;
  }

  async function html(url, body) {
    var page = root();
    var headers = { "Content-Type": "application/json" };
    if (page) {
      headers[page.dataset.csrfHeader] = page.dataset.csrf;
    }
    var response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: headers,
      body: JSON.stringify(body),
    });
    return { ok: response.ok, status: response.status, html: await response.text() };
  }

  window.LfApi = {
    get: function (url) { return call("GET", url); },
    post: function (url, body) { return call("POST", url, body || {}); },
    put: function (url, body) { return call("PUT", url, body || {}); },
    del: function (url) { return call("DELETE", url); },
    html: html,
  };
})();
