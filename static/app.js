// Drawbridge: small enhancements on top of pages that already work without
// JavaScript. Nothing here is needed for any feature to function.
(function () {
  "use strict";

  // Copy buttons: <button data-copy data-copy-target="id"> copies the text of
  // the element with that id. The buttons render hidden, because without
  // this script they could do nothing; show them now.
  function setUpCopyButtons() {
    if (!navigator.clipboard) {
      return;
    }
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      var target = document.getElementById(button.getAttribute("data-copy-target") || "");
      if (!target) {
        return;
      }
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(target.textContent.trim()).then(function () {
          var label = button.getAttribute("aria-label") || "";
          button.classList.add("is-copied");
          button.setAttribute("title", "Copied");
          button.setAttribute("aria-label", "Copied");
          window.setTimeout(function () {
            button.classList.remove("is-copied");
            button.setAttribute("title", "Copy");
            button.setAttribute("aria-label", label);
          }, 1600);
        });
      });
    });
  }

  // Confirmations: <details data-confirm="question"> holds a form with the
  // real submit button, which works as it is. Where <dialog> exists, ask in
  // a modal instead of unfolding the panel.
  function setUpConfirmations() {
    if (typeof HTMLDialogElement !== "function") {
      return;
    }
    document.querySelectorAll("details[data-confirm]").forEach(function (details) {
      var summary = details.querySelector("summary");
      var form = details.querySelector("form");
      var submit = form && form.querySelector("[data-confirm-submit]");
      if (!summary || !submit) {
        return;
      }
      summary.addEventListener("click", function (event) {
        event.preventDefault();
        var message = details.querySelector(".confirm-message");
        openDialog(details.getAttribute("data-confirm"), message ? message.textContent : "", submit);
      });
    });
  }

  function openDialog(title, message, submit) {
    var dialog = document.createElement("dialog");
    dialog.className = "confirm-dialog";
    dialog.setAttribute("aria-labelledby", "confirm-dialog-title");

    var heading = document.createElement("h2");
    heading.id = "confirm-dialog-title";
    heading.textContent = title;
    var body = document.createElement("p");
    body.textContent = message;

    var buttons = document.createElement("div");
    buttons.className = "confirm-buttons";
    var cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "btn btn-secondary";
    cancel.textContent = "Cancel";
    var confirm = document.createElement("button");
    confirm.type = "button";
    confirm.className = "btn btn-danger";
    confirm.textContent = submit.textContent;
    buttons.append(cancel, confirm);
    dialog.append(heading, body, buttons);

    cancel.addEventListener("click", function () { dialog.close(); });
    confirm.addEventListener("click", function () {
      confirm.disabled = true;
      dialog.close();
      // requestSubmit keeps the submit button's name/value and validation.
      if (submit.form.requestSubmit) {
        submit.form.requestSubmit(submit);
      } else {
        submit.click();
      }
    });
    dialog.addEventListener("close", function () { dialog.remove(); });

    document.body.append(dialog);
    dialog.showModal();
    // Cancel gets focus so that Enter does not destroy anything by accident.
    cancel.focus();
  }

  // Policy editor: <div data-code-editor data-error-lines="3 7"> around a
  // textarea. Add a gutter of line numbers beside it and, behind the text,
  // one stripe per line, marking the lines with errors. Both follow the
  // textarea's scrolling. The lines never wrap (wrap="off"), so line N is
  // always stripe N.
  function setUpCodeEditors() {
    document.querySelectorAll("[data-code-editor]").forEach(function (editor) {
      var textarea = editor.querySelector("textarea");
      var gutter = editor.querySelector("[data-code-gutter]");
      var backdrop = editor.querySelector("[data-code-backdrop]");
      if (!textarea || !gutter || !backdrop) {
        return;
      }
      var errors = {};
      (editor.getAttribute("data-error-lines") || "").split(" ").forEach(function (n) {
        if (n) {
          errors[n] = true;
        }
      });
      var shown = 0;

      function lines() {
        var count = textarea.value.split("\n").length;
        if (count === shown) {
          return;
        }
        var numbers = [];
        var stripes = [];
        for (var i = 1; i <= count; i++) {
          var number = document.createElement("span");
          var stripe = document.createElement("span");
          number.textContent = String(i);
          if (errors[i]) {
            number.className = "is-error";
            stripe.className = "is-error";
          }
          numbers.push(number);
          stripes.push(stripe);
        }
        gutter.replaceChildren.apply(gutter, numbers);
        backdrop.replaceChildren.apply(backdrop, stripes);
        shown = count;
        scroll();
      }

      function scroll() {
        gutter.scrollTop = textarea.scrollTop;
        backdrop.scrollTop = textarea.scrollTop;
      }

      editor.classList.add("is-enhanced");
      gutter.hidden = false;
      backdrop.hidden = false;
      lines();
      textarea.addEventListener("input", lines);
      textarea.addEventListener("scroll", scroll);
    });

    // "Line 3, column 5" under the editor puts the cursor there.
    document.querySelectorAll("a[data-goto-line]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        var textarea = document.getElementById((link.getAttribute("href") || "").slice(1));
        if (!textarea || textarea.tagName !== "TEXTAREA") {
          return;
        }
        event.preventDefault();
        var line = parseInt(link.getAttribute("data-goto-line"), 10) || 1;
        var column = parseInt(link.getAttribute("data-goto-column"), 10) || 1;
        var rows = textarea.value.split("\n");
        var offset = 0;
        for (var i = 0; i < line - 1 && i < rows.length; i++) {
          offset += rows[i].length + 1;
        }
        offset += Math.min(column - 1, (rows[line - 1] || "").length);
        textarea.focus();
        textarea.setSelectionRange(offset, offset);
        var height = parseFloat(getComputedStyle(textarea).lineHeight) || 22;
        textarea.scrollTop = Math.max(0, (line - 3) * height);
      });
    });
  }

  // Simulator: choosing a user hides the typed identity, which would be
  // ignored. Submitting fetches the same page the form would load and
  // swaps in its result, so the form keeps its state; any answer that is
  // not a plain result (field errors, a failure) falls back to loading it.
  function setUpSimulator() {
    var form = document.querySelector("form[data-sim-form]");
    if (!form) {
      return;
    }
    var user = form.querySelector("select[name=user]");
    var identity = form.querySelector("[data-sim-identity]");
    if (user && identity) {
      var toggle = function () {
        identity.hidden = user.value !== "";
        identity.querySelectorAll("input").forEach(function (input) {
          input.disabled = user.value !== "";
        });
      };
      user.addEventListener("change", toggle);
      toggle();
    }
    if (!window.fetch || !window.DOMParser) {
      return;
    }
    var busy = false;
    form.addEventListener("submit", function (event) {
      var output = document.querySelector("[data-sim-output]");
      var current = output && output.querySelector("[data-sim-result]");
      if (!current || busy) {
        return;
      }
      event.preventDefault();
      busy = true;
      current.classList.add("is-loading");
      fetch(form.action, {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        credentials: "same-origin",
        headers: { "Accept": "text/html" }
      }).then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.text();
      }).then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var result = page.querySelector("[data-sim-output] [data-sim-result]");
        if (!result || page.querySelector("[data-sim-form] [aria-invalid=true]")) {
          throw new Error("no result");
        }
        var fresh = document.importNode(result, true);
        current.replaceWith(fresh);
        busy = false;
        // On a narrow screen the result sits below the form, out of sight:
        // bring it up, and move the focus to its heading so that a screen
        // reader reads the verdict and goes on from there. Beside the form
        // it is in sight already, and the live region announces it.
        var top = fresh.getBoundingClientRect().top;
        if (top < 0 || top > window.innerHeight - 80) {
          fresh.scrollIntoView({ block: "start" });
          var heading = fresh.querySelector("h2[tabindex]");
          if (heading) {
            heading.focus({ preventScroll: true });
          }
        }
      }).catch(function () {
        form.submit();
      });
    });
  }

  // New upstream app: each preset is a link that reloads the form filled
  // in. Here it fills the fields in place from the link's data- attributes
  // instead, without a round trip, keeping what was typed elsewhere.
  function setUpAppPresets() {
    var form = document.querySelector("form[data-app-form]");
    var options = document.querySelectorAll("a[data-preset-option]");
    if (!form || options.length === 0) {
      return;
    }
    var fields = {
      "auth_url": "data-auth-url",
      "token_url": "data-token-url",
      "revocation_url": "data-revocation-url",
      "scopes": "data-scopes",
      "auth_style": "data-auth-style",
      "extra_params": "data-extra-params"
    };
    var presetInput = form.querySelector("[data-preset-input]");
    var docs = document.querySelector("[data-preset-docs]");
    options.forEach(function (option) {
      option.addEventListener("click", function (event) {
        event.preventDefault();
        var key = option.getAttribute("data-preset") || "";
        var previous = presetInput ? presetInput.value : "";
        if (presetInput) {
          presetInput.value = key;
        }
        options.forEach(function (other) {
          if (other === option) {
            other.setAttribute("aria-current", "true");
          } else {
            other.removeAttribute("aria-current");
          }
        });
        if (docs) {
          var url = option.getAttribute("data-docs-url") || "";
          if (!/^https?:\/\//.test(url)) {
            url = "";
          }
          docs.hidden = url === "";
          docs.setAttribute("href", url || "#");
          var text = docs.querySelector("[data-preset-docs-text]");
          if (text) {
            text.textContent = option.getAttribute("data-docs-text") || "";
          }
        }
        if (key === "") {
          return; // Custom: keep whatever is filled in.
        }
        Object.keys(fields).forEach(function (name) {
          var field = form.elements.namedItem(name);
          if (field) {
            field.value = option.getAttribute(fields[name]) || "";
          }
        });
        var pkce = form.elements.namedItem("pkce");
        if (pkce) {
          pkce.checked = option.getAttribute("data-pkce") === "true";
        }
        // Name the app after the preset unless someone chose a name.
        var name = form.elements.namedItem("name");
        if (name && (name.value === "" || name.value === previous)) {
          name.value = key;
        }
        var clientID = form.elements.namedItem("client_id");
        if (clientID && clientID.value === "") {
          clientID.focus();
        }
      });
    });
  }

  // Audit log live tail: [data-audit-live data-tail-url] holds a Live
  // toggle ([data-live-toggle], aria-pressed), a Pause button
  // ([data-live-pause]) and a status ([data-live-status]); all render
  // hidden, since they need this script. Live opens an EventSource on the
  // tail URL; each event named "row" carries a server-rendered <tr> (the
  // page's own row component), which goes on top of
  // tbody[data-audit-rows]. Paused, rows wait and the Resume button counts
  // them; Resume (or switching Live off) puts them in. Only a lone row with
  // a data-audit-id is taken.
  function setUpAuditLive() {
    var box = document.querySelector("[data-audit-live]");
    var tbody = document.querySelector("tbody[data-audit-rows]");
    var url = box ? box.getAttribute("data-tail-url") || "" : "";
    // Same origin only: a path, never "//host/…".
    if (!box || !tbody || !window.EventSource || !/^\/(?!\/)/.test(url)) {
      return;
    }
    var toggle = box.querySelector("[data-live-toggle]");
    var pause = box.querySelector("[data-live-pause]");
    var status = box.querySelector("[data-live-status]");
    var table = document.querySelector("[data-audit-table]");
    var empty = document.querySelector("[data-audit-empty]");
    if (!toggle || !pause || !status) {
      return;
    }
    var maxRows = 500;
    var source = null;
    var paused = false;
    var waiting = [];
    var note = "";

    function show() {
      var on = source !== null;
      toggle.setAttribute("aria-pressed", on ? "true" : "false");
      box.classList.toggle("is-live", on && !paused);
      box.classList.toggle("is-paused", on && paused);
      pause.hidden = !on;
      pause.textContent = !paused ? "Pause" : waiting.length === 0 ? "Resume" : "Resume · " + waiting.length + " new";
      var text = note;
      if (on && paused) {
        text = "Paused";
      } else if (on && source.readyState === EventSource.OPEN) {
        text = "Live";
      } else if (on) {
        text = "Connecting…";
      }
      // Only a change of state is announced, not every row.
      if (status.textContent !== text) {
        status.textContent = text;
      }
    }

    // The row is parsed in a document of its own, inside a table body (a
    // <tr> means nothing elsewhere); nothing in that document runs.
    function parseRow(html) {
      var doc = new DOMParser().parseFromString("<table><tbody>" + html + "</tbody></table>", "text/html");
      var rows = doc.querySelectorAll("body > table > tbody > tr");
      var row = rows.length === 1 ? rows[0] : null;
      if (!row || !row.hasAttribute("data-audit-id") || doc.querySelectorAll("body > *").length !== 1) {
        return null;
      }
      row.querySelectorAll("script").forEach(function (script) { script.remove(); });
      return document.importNode(row, true);
    }

    function insert(rows) {
      rows.forEach(function (row) {
        var id = row.getAttribute("data-audit-id");
        if (tbody.querySelector('tr[data-audit-id="' + CSS.escape(id) + '"]')) {
          return; // seen already, before a reconnect
        }
        row.classList.add("is-new");
        row.addEventListener("animationend", function () { row.classList.remove("is-new"); });
        tbody.insertBefore(row, tbody.firstElementChild);
      });
      while (tbody.children.length > maxRows) {
        tbody.lastElementChild.remove();
      }
      if (rows.length > 0) {
        if (table) {
          table.hidden = false;
        }
        if (empty) {
          empty.hidden = true;
        }
      }
    }

    function start() {
      note = "";
      paused = false;
      waiting = [];
      source = new EventSource(url);
      source.addEventListener("row", function (event) {
        var row = parseRow(event.data);
        if (!row) {
          return;
        }
        if (paused) {
          waiting.push(row);
          if (waiting.length > maxRows) {
            waiting.shift(); // the table keeps no more than this anyway
          }
        } else {
          insert([row]);
        }
        show();
      });
      source.addEventListener("open", show);
      source.addEventListener("error", function () {
        // EventSource retries by itself after a dropped connection; an
        // answer it cannot use (an error status, not an event stream)
        // closes it for good.
        if (source && source.readyState === EventSource.CLOSED) {
          stop("Live tail stopped: reload the page to try again.");
          return;
        }
        show();
      });
      show();
    }

    function stop(message) {
      if (source) {
        source.close();
      }
      source = null;
      insert(waiting);
      waiting = [];
      paused = false;
      note = message || "";
      show();
    }

    toggle.addEventListener("click", function () {
      if (source) {
        stop();
      } else {
        start();
      }
    });
    pause.addEventListener("click", function () {
      paused = !paused;
      if (!paused) {
        insert(waiting);
        waiting = [];
      }
      show();
    });
    // A page kept in the back-forward cache must not keep its stream.
    window.addEventListener("pagehide", function () {
      if (source) {
        stop();
      }
    });
    box.hidden = false;
    show();
  }

  function init() {
    setUpCopyButtons();
    setUpConfirmations();
    setUpCodeEditors();
    setUpSimulator();
    setUpAppPresets();
    setUpAuditLive();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
