// What the editor modules import besides code: HTML templates (as text) and CSS (bundled into a
// <style> of the node's HTML file, see scripts/build.mjs).
declare module '*.html' {
  const text: string;
  export default text;
}

declare module '*.css';
