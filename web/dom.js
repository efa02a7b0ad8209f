// Small DOM helpers: find by data-testid, build elements, mark a form busy or a field wrong.
// Text goes in as textContent only, never as HTML.

export function byTestId(testId, root = document) {
  const found = root.querySelector(`[data-testid="${testId}"]`);
  if (!found) {
    throw new Error(`index.html has no [data-testid="${testId}"]`);
  }
  return found;
}

// el("li", { testid: "gallery-item", class: "card", dataset: { imageId: id } }, [children])
export function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "testid") node.dataset.testid = value;
    else if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name === "hidden") node.hidden = true;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

export function setBusy(form, busy) {
  form.setAttribute("aria-busy", busy ? "true" : "false");
  for (const button of form.querySelectorAll("button")) {
    button.disabled = busy;
  }
}

// Marks a field wrong (aria-invalid) and puts the cursor in it.
export function flagField(input) {
  input.setAttribute("aria-invalid", "true");
  input.focus();
}

export function clearFlags(form) {
  for (const input of form.querySelectorAll("[aria-invalid]")) {
    input.removeAttribute("aria-invalid");
  }
}
