/** Building DOM without innerHTML: every text from the host (file names, error messages) goes in as text. */
type Child = Node | string | null | undefined | false;
type Attributes = Record<string, string | number | boolean | null | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}

/** Replaces the children of `parent`. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/** The header of a chart card: its title and a button that saves the chart as PNG. */
export function cardHeader(title: string, what: string, onSavePng: () => void): HTMLElement {
  return h('header', { class: 'card-header' }, h('h3', {}, title), button('PNG', `Save ${what} as PNG`, onSavePng, 'icon-button'));
}

/** A real button (focusable, Enter and Space work) with an accessible name. */
export function button(label: string, ariaLabel: string, onClick: (event: MouseEvent) => void, className = 'button'): HTMLButtonElement {
  const element = h('button', { type: 'button', class: className, 'aria-label': ariaLabel, title: ariaLabel }, label);
  element.addEventListener('click', onClick);
  return element;
}
