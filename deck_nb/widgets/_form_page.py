"""The browser half of the interaction form: an ES module and its stylesheet, run by anywidget.

It draws the controls from the JSON description it is given (never values), keeps what the person
types on the page, and sends every value at once, in one custom message, when Submit is pressed.
Everything from the source (message, labels, options, errors) goes in through ``textContent``:
shown, never rendered as markup.
"""

ESM = r"""
function node(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined && text !== null) el.textContent = String(text);
  return el;
}

// The notebook's own selection is the person's: a click, a press or a focus inside the form must not
// make the form's cell the active one (JupyterLab and Notebook 7 select a cell on mousedown and
// focusin), or the next Shift+Enter would run that cell again. After Submit, the keyboard goes back
// to the notebook, so Shift+Enter carries on from where the person was.
function keepTheNotebooksPlace(root, el) {
  for (const name of ["mousedown", "pointerdown", "mouseup", "click", "dblclick", "focusin", "focusout"]) {
    root.addEventListener(name, (event) => event.stopPropagation());
  }
  // The notebook, not told that focus is in a field, would take typed letters as its command-mode
  // shortcuts (its key handler listens on the document, before the field): keys typed in the form
  // stop at the window (the field still gets its text: that is the key's default action).
  const keys = (event) => {
    if (!root.isConnected) window.removeEventListener("keydown", keys, true);
    else if (root.contains(event.target)) event.stopPropagation();
  };
  window.addEventListener("keydown", keys, true);
  root.addEventListener("submit", () => {
    const notebook = el.closest(".jp-Notebook");
    if (notebook) setTimeout(() => notebook.focus({ preventScroll: true }), 0);
  });
}

// Run All scrolls to the last cell while a form waits far above: a form that opens is scrolled into
// view, once (a re-render of the same form, e.g. on reload, leaves the page where it is).
const shown = new WeakSet();
function bringIntoView(model, el) {
  if (shown.has(model) || model.get("closed")) return;
  shown.add(model);
  const scroll = () => { if (el.isConnected) el.scrollIntoView({ block: "center", behavior: "auto" }); };
  requestAnimationFrame(() => setTimeout(scroll, 300));  // after the notebook's own Run All scroll
}

function render({ model, el }) {
  const uid = Math.random().toString(36).slice(2, 10);
  const root = node("form", "deck-nb-form-page");
  root.noValidate = true;
  root.autocomplete = "off";
  const title = node("div", "deck-nb-title");
  const message = node("div", "deck-nb-message");
  const grid = node("div", "deck-nb-grid");
  const formError = node("div", "deck-nb-error deck-nb-form-error");
  const footer = node("div", "deck-nb-footer");
  const button = node("button", "deck-nb-submit", "Submit");
  button.type = "submit";
  const countdown = node("span", "deck-nb-countdown");
  const attempts = node("span", "deck-nb-attempts");
  const note = node("div", "deck-nb-note");
  footer.append(button, countdown, attempts);
  root.append(title, message, grid, formError, footer, note);
  el.append(root);

  const rows = [];
  const controls = model.get("controls") || [];
  controls.forEach((c, i) => {
    const id = `deck-nb-${uid}-${i}`;
    const label = node("label", "deck-nb-label", c.label + (c.required || c.kind === "checkbox" ? "" : " (optional)"));
    label.htmlFor = id;
    let input;
    if (c.kind === "dropdown") {
      input = node("select", "deck-nb-input");
      const blank = node("option", "", "— choose —");
      blank.value = "";
      input.append(blank);
      (c.options || []).forEach((o, k) => {
        const option = node("option", "", o.label);
        option.value = String(k);
        input.append(option);
      });
    } else if (c.kind === "checkbox") {
      input = node("input", "deck-nb-input");
      input.type = "checkbox";
    } else {
      input = node("input", "deck-nb-input");
      input.type = c.masked ? "password" : "text";
      input.autocomplete = c.masked ? "new-password" : "off";
      if (c.numeric) input.inputMode = "decimal";
      if (c.placeholder) input.placeholder = c.placeholder;
    }
    input.id = id;
    input.name = c.name;
    const cell = node("div", `deck-nb-field deck-nb-field-${i} deck-nb-kind-${c.kind}`);
    const error = node("div", "deck-nb-error");
    cell.append(input, error);
    grid.append(label, cell);
    rows.push({ c, input, error });
  });

  function values() {
    const out = {};
    for (const { c, input } of rows) {
      if (c.kind === "checkbox") out[c.name] = input.checked;
      else if (c.kind === "dropdown") out[c.name] = input.value === "" ? null : c.options[Number(input.value)].value;
      else out[c.name] = input.value;
    }
    return out;
  }

  function setDisabled(disabled) {
    for (const { input } of rows) input.disabled = disabled;
    button.disabled = disabled;
  }

  function clear() {
    for (const { c, input } of rows) {
      if (c.kind === "checkbox") input.checked = false;
      else input.value = "";
    }
  }

  function showText() {
    title.textContent = model.get("title") || "";
    message.textContent = model.get("message") || "";
    note.textContent = model.get("note") || "";
    countdown.textContent = model.get("countdown") || "";
    attempts.textContent = model.get("attempts") || "";
  }

  function showErrors() {
    const errors = model.get("errors") || {};
    for (const { c, error } of rows) error.textContent = errors[c.name] || "";
    formError.textContent = errors[""] || "";
  }

  function showClosed() {
    if (model.get("closed")) {
      clear();  // nothing typed lingers on the page once the answer is sent or the prompt is gone
      setDisabled(true);
    } else {
      setDisabled(false);
    }
  }

  root.addEventListener("submit", (event) => {
    event.preventDefault();
    if (button.disabled) return;
    setDisabled(true);  // until Python has judged the answer
    note.textContent = "Sending…";
    // ONE custom message carries every value: see the comment in form.py for why.
    model.send({ event: "submit", values: values() });
  });
  root.addEventListener("keydown", (event) => event.stopPropagation());  // keys are for the fields
  keepTheNotebooksPlace(root, el);
  bringIntoView(model, el);

  const onText = () => showText();
  const onErrors = () => showErrors();
  const onClosed = () => showClosed();
  const onVerdict = () => { showText(); showErrors(); showClosed(); };
  for (const name of ["title", "message", "note", "countdown", "attempts"]) model.on(`change:${name}`, onText);
  model.on("change:errors", onErrors);
  model.on("change:closed", onClosed);
  model.on("change:verdicts", onVerdict);
  showText();
  showErrors();
  showClosed();
  model.send({ event: "ready" });  // drawn: tells the kernel a front end is there (notebook/_frontend.py)
  return () => {
    for (const name of ["title", "message", "note", "countdown", "attempts"]) model.off(`change:${name}`, onText);
    model.off("change:errors", onErrors);
    model.off("change:closed", onClosed);
    model.off("change:verdicts", onVerdict);
  };
}

export default { render };
"""

CSS = """
.deck-nb-form-page { display: flex; flex-direction: column; gap: 6px; padding: 4px 0; max-width: 100%; }
.deck-nb-title { font-weight: bold; }
.deck-nb-title:empty, .deck-nb-message:empty, .deck-nb-note:empty, .deck-nb-form-error:empty { display: none; }
.deck-nb-grid { display: grid; grid-template-columns: max-content minmax(14em, max-content);
  column-gap: 12px; row-gap: 6px; align-items: start; }
.deck-nb-label { padding-top: 4px; text-align: right; }
.deck-nb-field { display: flex; flex-direction: column; gap: 2px; }
.deck-nb-field input[type=text], .deck-nb-field input[type=password] { min-width: 14em; }
.deck-nb-field select { width: auto; min-width: 14em; max-width: 100%; }
.deck-nb-field input[type=checkbox] { align-self: flex-start; margin-top: 6px; }
.deck-nb-error { color: var(--jp-error-color1, #c62828); font-size: 0.9em; }
.deck-nb-error:empty { display: none; }
.deck-nb-footer { display: flex; gap: 12px; align-items: center; }
.deck-nb-countdown, .deck-nb-attempts, .deck-nb-note { color: var(--jp-ui-font-color2, #666); font-size: 0.9em; }
.deck-nb-submit { padding: 3px 14px; color: white; background: var(--jp-brand-color1, #1976d2);
  border: none; border-radius: 2px; cursor: pointer; }
.deck-nb-submit:disabled { opacity: 0.5; cursor: default; }
"""
