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

  function init() {
    setUpCopyButtons();
    setUpConfirmations();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
