// A small DOM builder for the runs dashboard (plain DOM: the full-page view has no jQuery).

type Attrs = Record<string, string | ((event: Event) => void) | undefined>;
type Child = Node | string | null | undefined | false;

/** Element `tag` with attributes (`text`: its text; `on…`: a listener) and children. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  children: Child[] = [],
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined) continue;
    if (name === 'text') node.textContent = value as string;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value as (event: Event) => void);
    else node.setAttribute(name, value as string);
  }
  for (const child of children)
    if (child !== null && child !== undefined && child !== false)
      node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  return node;
}

export function option(value: string, label: string): HTMLOptionElement {
  return el('option', { value, text: label });
}
