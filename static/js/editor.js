// The flow editor: CodeMirror 6 over the definition's <textarea> on the flow and new-flow
// pages (docs/editor.md).
//
// The textarea stays the form's field. Without JavaScript, or if this module cannot load,
// it is the editor, as it always was. Here it is hidden from sight, from the tab order and
// from screen readers, and kept equal to the editor's text: the form posts it, htmx's live
// validation (hx-trigger="input changed delay:400ms" on it) hears the same input events as
// when someone types in it, and text a script puts into it comes into the editor.
import {
  Annotation,
  EditorState,
  EditorView,
  autocompletion,
  bracketMatching,
  closeBrackets,
  closeBracketsKeymap,
  completionKeymap,
  defaultHighlightStyle,
  defaultKeymap,
  drawSelection,
  ensureSyntaxTree,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  history,
  historyKeymap,
  indentOnInput,
  indentWithTab,
  json,
  keymap,
  lineNumbers,
  lintGutter,
  lintKeymap,
  searchKeymap,
  setDiagnostics,
  syntaxHighlighting,
  syntaxTree,
} from "../vendor/codemirror/codemirror.js";

// The textarea (and so the live validation) hears of a change this long after the last key.
const SYNC_DELAY_MS = 100;
// A diagnostic on a value longer than this many lines is marked on its first line only.
const MARK_LINES = 12;
// How long marking the diagnostics may spend parsing a large text before using what it has
// (the next validation goes on from there).
const PARSE_BUDGET_MS = 500;
const VALUES = new Set(["Object", "Array", "String", "Number", "True", "False", "Null"]);
const fromTextarea = Annotation.define();

/* --- the syntax tree of the JSON text --- */

function* children(node) {
  for (let child = node.firstChild; child; child = child.nextSibling) yield child;
}

function elements(array) {
  return [...children(array)].filter((child) => VALUES.has(child.name));
}

function topValue(tree) {
  return elements(tree.topNode)[0] || null;
}

// A string token's value, or null for anything else (or a string still being typed).
function stringValue(state, node) {
  if (!node || (node.name !== "String" && node.name !== "PropertyName")) return null;
  try {
    return JSON.parse(state.sliceDoc(node.from, node.to));
  } catch {
    return null;
  }
}

// An object's properties: key -> {key node, value node (null while it is being typed)}.
// A repeated key is the last one, as the server's JSON parser reads it.
function properties(state, object) {
  const found = new Map();
  if (!object || object.name !== "Object") return found;
  for (const property of children(object)) {
    if (property.name !== "Property") continue;
    const keyNode = property.getChild("PropertyName");
    const key = stringValue(state, keyNode);
    if (key === null) continue;
    const value = [...children(property)].find((child) => child !== keyNode && VALUES.has(child.name));
    found.set(key, { key: keyNode, value: value || null });
  }
  return found;
}

function propertyString(state, props, key) {
  const entry = props.get(key);
  return entry ? stringValue(state, entry.value) : null;
}

/* --- diagnostics: a JSON path of the server's to a place in the text --- */

// `procedures[1].params.msg` -> ["procedures", 1, "params", "msg"]; `["a b"]` is a quoted key
// (runner.engine.diagnostics.key_path writes it so). A path the page cut short (…) stops
// matching where it was cut, and the mark falls back to the nearest parent that exists.
const SEGMENT = /\.?(?:\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|([^.[]+))/y;

function parsePath(path) {
  const segments = [];
  SEGMENT.lastIndex = 0;
  for (let match; SEGMENT.lastIndex < path.length && (match = SEGMENT.exec(path));) {
    if (match[1] !== undefined) segments.push(Number(match[1]));
    else if (match[3] !== undefined) segments.push(match[3]);
    else {
      try {
        segments.push(JSON.parse(match[2]));
      } catch {
        break;
      }
    }
  }
  return segments;
}

function clipped(state, from, to) {
  const first = state.doc.lineAt(from);
  if (state.doc.lineAt(to).number - first.number >= MARK_LINES) to = first.to;
  return { from, to };
}

// The text's syntax tree, parsed to the end when that takes less than the budget; and each
// array's elements, kept for the other diagnostics of the same text (a hundred of them in a
// flow of 100,000 steps would otherwise walk the steps a hundred times).
function outline(state) {
  const tree = ensureSyntaxTree(state, state.doc.length, PARSE_BUDGET_MS) || syntaxTree(state);
  return { state, tree, arrays: new Map() };
}

// The value at `path`, or its key when the diagnostic is about the key itself (an unknown
// key); when the path does not exist (a required key left out), the nearest parent that does.
function pathRange({ state, tree, arrays }, path, onKey) {
  let node = topValue(tree);
  if (!node) return { from: 0, to: Math.min(1, state.doc.length) };
  let keyNode = null;
  for (const segment of parsePath(path)) {
    let next = null;
    let nextKey = null;
    if (typeof segment === "number" && node.name === "Array") {
      if (!arrays.has(node.from)) arrays.set(node.from, elements(node));
      next = arrays.get(node.from)[segment] || null;
    } else if (typeof segment === "string" && node.name === "Object") {
      const entry = properties(state, node).get(segment);
      if (entry) [next, nextKey] = [entry.value, entry.key];
    }
    if (!next) {
      // A key whose value is still being typed is as close as the text gets.
      const at = nextKey || node;
      return clipped(state, at.from, at.to);
    }
    [node, keyNode] = [next, nextKey];
  }
  const at = onKey && keyNode ? keyNode : node;
  return clipped(state, at.from, at.to);
}

// INVALID_JSON says where the parser stopped: "invalid JSON at line 2 column 13: ...".
function parseErrorRange(state, message) {
  const where = /line (\d+) column (\d+)/.exec(message);
  if (!where) return null;
  const line = state.doc.line(Math.min(Number(where[1]), state.doc.lines));
  const from = line.from + Math.min(Number(where[2]) - 1, line.length);
  return { from, to: Math.min(from + 1, line.to) };
}

function diagnosticRange(text, item) {
  const message = item.querySelector(".diag-message")?.textContent || "";
  const range = item.dataset.code === "INVALID_JSON" ? parseErrorRange(text.state, message) : null;
  return range || pathRange(text, item.dataset.path || "", item.dataset.mark === "key");
}

function listedDiagnostics(analysis) {
  return analysis ? [...analysis.querySelectorAll("#diagnostics li.diagnostic")] : [];
}

function showDiagnostics(view, analysis) {
  const items = listedDiagnostics(analysis);
  const text = items.length ? outline(view.state) : null;
  const marks = items.map((item) => ({
    ...diagnosticRange(text, item),
    severity: "error",
    source: item.dataset.code,
    message: (item.querySelector(".diag-message")?.textContent || item.dataset.code || "").trim(),
  }));
  view.dispatch(setDiagnostics(view.state, marks));
}

/* --- completion: mod, method, params, and references to earlier results --- */

let catalogue = null;

// GET the procedure catalogue once per page load; without it, references still complete.
function loadCatalogue(url) {
  if (!catalogue) {
    catalogue = fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((response) =>
        response.ok ? response.json() : Promise.reject(new Error(`HTTP ${response.status}`)),
      )
      .catch((error) => {
        console.warn("No procedure catalogue: mod, method, params and result keys are not completed.", error);
        return { procedures: [] };
      })
      .then(indexCatalogue);
  }
  return catalogue;
}

function indexCatalogue(data) {
  const byMod = new Map();
  for (const procedure of Array.isArray(data?.procedures) ? data.procedures : []) {
    if (typeof procedure?.mod !== "string" || typeof procedure.method !== "string") continue;
    if (!byMod.has(procedure.mod)) byMod.set(procedure.mod, []);
    byMod.get(procedure.mod).push(procedure);
  }
  return { byMod, find: (mod, method) => byMod.get(mod)?.find((p) => p.method === method) || null };
}

// The string the cursor is in: a value, a key, or one still being typed (an error node).
function stringAt(state, pos) {
  const node = syntaxTree(state).resolveInner(pos, -1);
  if (!["String", "PropertyName", "⚠"].includes(node.name) || pos <= node.from) return null;
  const raw = state.sliceDoc(node.from, node.to);
  if (raw[0] !== '"') return null;
  const closed = raw.length > 1 && /(^|[^\\])(\\\\)*"$/.test(raw.slice(1));
  if (closed && pos >= node.to) return null;
  return { node, from: node.from + 1, typed: state.sliceDoc(node.from + 1, pos) };
}

// The step the node is in: an element of the top-level "procedures" array, with its index,
// and the key of the step's property the node is under ("params", "mod", ...).
function stepAround(state, node) {
  let under = null;
  for (let at = node; at; at = at.parent) {
    const array = at.parent;
    const list = array?.parent;
    if (
      at.name === "Object" &&
      array?.name === "Array" &&
      list?.name === "Property" &&
      stringValue(state, list.getChild("PropertyName")) === "procedures" &&
      list.parent?.parent?.name === "JsonText"
    ) {
      const steps = elements(array);
      return { object: at, steps, index: steps.findIndex((s) => s.from === at.from), under };
    }
    if (at.name === "Property") under = stringValue(state, at.getChild("PropertyName"));
  }
  return null;
}

function info(text) {
  if (!text) return undefined;
  return () => {
    const box = document.createElement("div");
    box.className = "cm-flow-info";
    box.textContent = text;
    return box;
  };
}

function procedureText(procedure) {
  const lines = [`${procedure.mod} · ${procedure.method}`, procedure.doc || procedure.summary || ""];
  for (const param of procedure.params || []) {
    const what = [
      param.type,
      param.required ? "required" : param.default != null ? `default ${JSON.stringify(param.default)}` : "",
    ];
    lines.push(`  ${param.name} (${what.filter(Boolean).join(", ")}) ${param.description || ""}`.trimEnd());
  }
  if (procedure.results?.length) lines.push(`returns: ${procedure.results.map((r) => r.name).join(", ")}`);
  return lines.filter(Boolean).join("\n");
}

function modOptions(cat) {
  return [...cat.byMod].map(([mod, procedures]) => ({
    label: mod,
    type: "class",
    detail: procedures.length === 1 ? "1 procedure" : `${procedures.length} procedures`,
    info: info(procedures.map((p) => `${p.method}: ${p.summary || ""}`).join("\n")),
  }));
}

function methodOptions(cat, mod) {
  return (cat.byMod.get(mod) || []).map((procedure) => ({
    label: procedure.method,
    type: "method",
    detail: procedure.summary || "",
    info: info(procedureText(procedure)),
  }));
}

function paramOptions(state, cat, stepProps, params) {
  const procedure = cat.find(
    propertyString(state, stepProps, "mod"),
    propertyString(state, stepProps, "method"),
  );
  const given = properties(state, params);
  return (procedure?.params || [])
    .filter((param) => !given.has(param.name))
    .map((param) => ({
      label: param.name,
      type: "property",
      detail: [param.type, param.required ? "required" : ""].filter(Boolean).join(", "),
      info: info(
        [param.description, param.choices?.length ? `one of ${param.choices.join(", ")}` : ""]
          .filter(Boolean)
          .join("\n"),
      ),
      boost: param.required ? 1 : 0,
    }));
}

function referenceOptions(state, cat, step) {
  const options = [];
  step.steps.slice(0, step.index).forEach((earlier, index) => {
    const props = properties(state, earlier);
    const name = propertyString(state, props, "name");
    if (!name) return;
    const mod = propertyString(state, props, "mod");
    const method = propertyString(state, props, "method");
    const where = `result of procedures[${index}]` + (mod && method ? `, ${mod}.${method}` : "");
    // The steps first, the nearest first; then the run's own data.
    const boost = Math.max(1, 50 - (step.index - index));
    options.push({ label: `@${name}`, type: "variable", detail: where, boost });
    for (const result of cat.find(mod, method)?.results || []) {
      const label = `@${name}.${result.name}`;
      options.push({ label, type: "property", detail: result.type, info: info(result.description), boost });
    }
  });
  const inputs = properties(state, properties(state, topValue(syntaxTree(state))).get("inputs")?.value);
  for (const [name, { value }] of inputs) {
    const spec = properties(state, value);
    const type = propertyString(state, spec, "type");
    options.push({
      label: `@_input.${name}`,
      type: "variable",
      detail: type ? `input, ${type}` : "input",
      info: info(propertyString(state, spec, "description")),
    });
  }
  options.push({ label: "@_input", type: "variable", detail: "the whole run input", boost: -1 });
  options.push({
    label: "@_secret.",
    type: "keyword",
    detail: "a secret by name, read when the step runs",
    boost: -2,
  });
  return options;
}

function completer(catalogueUrl) {
  return async (context) => {
    const at = stringAt(context.state, context.pos);
    if (!at) return null;
    const step = stepAround(context.state, at.node);
    if (!step || step.index < 0) return null;
    const state = context.state;
    const cat = await loadCatalogue(catalogueUrl);
    const parent = at.node.parent;
    const stepProps = properties(state, step.object);
    let options = null;
    if (at.node.name === "PropertyName") {
      const params = stepProps.get("params")?.value;
      if (step.under === "params" && params && parent?.parent?.from === params.from) {
        options = paramOptions(state, cat, stepProps, params);
      }
    } else if (at.typed.startsWith("@")) {
      options = referenceOptions(state, cat, step);
    } else if (parent?.name === "Property" && parent.parent?.from === step.object.from) {
      if (step.under === "mod") options = modOptions(cat);
      if (step.under === "method") options = methodOptions(cat, propertyString(state, stepProps, "mod"));
    }
    return options?.length ? { from: at.from, options, validFor: /^[^"\\]*$/ } : null;
  };
}

/* --- the editor over a textarea --- */

function mount(box) {
  const textarea = box.querySelector("textarea");
  if (!textarea) return;
  const analysis = document.getElementById(box.dataset.analysis);
  const saveButton = box.dataset.save ? document.getElementById(box.dataset.save) : null;
  const keysNote = box.dataset.keys ? document.getElementById(box.dataset.keys) : null;
  const label =
    textarea.getAttribute("aria-label") || textarea.labels?.[0]?.textContent.trim() || "Flow definition";
  const describedBy = [keysNote?.id, textarea.getAttribute("aria-describedby")].filter(Boolean).join(" ");
  // CodeMirror styles itself with a <style> element: the page's policy admits it with the
  // nonce this script was given (read from the property: browsers hide the attribute).
  const nonce = [...document.scripts].find((script) => script.src === import.meta.url)?.nonce || "";
  let timer = 0;
  let echoing = false;
  let view = null;

  // The editor's text into the textarea, announced as typing would be.
  function flush() {
    clearTimeout(timer);
    timer = 0;
    const text = view.state.doc.toString();
    if (textarea.value === text) return;
    textarea.value = text;
    echoing = true;
    try {
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    } finally {
      echoing = false;
    }
  }

  function save() {
    if (!saveButton || saveButton.disabled) return false;
    flush();
    saveButton.form.requestSubmit(saveButton);
    return true;
  }

  const keys = [...closeBracketsKeymap, ...defaultKeymap, ...searchKeymap, ...historyKeymap];
  keys.push(...completionKeymap, ...lintKeymap, indentWithTab);
  if (saveButton) keys.unshift({ key: "Mod-s", run: save, preventDefault: true });

  view = new EditorView({
    parent: box,
    state: EditorState.create({
      doc: textarea.value,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        highlightSpecialChars(),
        history(),
        drawSelection(),
        indentOnInput(),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        bracketMatching(),
        // Read-only, nothing to complete: a completion taken would still change the text.
        textarea.readOnly
          ? []
          : [closeBrackets(), autocompletion({ override: [completer(box.dataset.catalogue)], icons: false })],
        highlightActiveLine(),
        lintGutter(),
        json(),
        keymap.of(keys),
        EditorView.cspNonce.of(nonce),
        EditorState.readOnly.of(textarea.readOnly),
        EditorView.contentAttributes.of({ "aria-label": label, "aria-describedby": describedBy }),
        EditorView.updateListener.of((update) => {
          if (!update.docChanged || update.transactions.some((t) => t.annotation(fromTextarea))) return;
          clearTimeout(timer);
          timer = setTimeout(flush, SYNC_DELAY_MS);
        }),
      ],
    }),
  });

  // Text put into the textarea by someone else (a script, a test's fill) wins over a change
  // of the editor's not yet passed on.
  textarea.addEventListener("input", () => {
    if (echoing) return;
    clearTimeout(timer);
    timer = 0;
    const text = textarea.value;
    if (text === view.state.doc.toString()) return;
    view.dispatch({
      changes: { from: 0, to: view.state.doc.length, insert: text },
      annotations: fromTextarea.of(true),
    });
  });
  textarea.form?.addEventListener("submit", flush, true);
  for (const labelElement of textarea.labels || []) {
    labelElement.addEventListener("click", (event) => {
      event.preventDefault();
      view.focus();
    });
  }

  textarea.tabIndex = -1;
  textarea.setAttribute("aria-hidden", "true");
  box.classList.add("code-editor-on");
  keysNote?.removeAttribute("hidden");

  if (analysis) {
    analysis.classList.add("analysis-linked");
    showDiagnostics(view, analysis);
    // htmx swaps the validation's answer into the region: mark its diagnostics.
    new MutationObserver(() => showDiagnostics(view, analysis)).observe(analysis, { childList: true });
    analysis.addEventListener("click", (event) => {
      const item = event.target.closest("li.diagnostic");
      if (!item) return;
      // Someone selecting the message to copy it is not asking to go there.
      const selection = window.getSelection();
      if (selection && !selection.isCollapsed && item.contains(selection.anchorNode)) return;
      event.preventDefault();
      const { from } = diagnosticRange(outline(view.state), item);
      view.dispatch({
        selection: { anchor: from },
        effects: EditorView.scrollIntoView(from, { y: "center" }),
      });
      view.focus();
    });
  }
  if (!textarea.readOnly) loadCatalogue(box.dataset.catalogue);
}

document.querySelectorAll("[data-code-editor]").forEach(mount);
