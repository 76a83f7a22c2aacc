// The plugin's logic, free of WIT imports so that `node --test` can run it
// without building a component.

/**
 * The greeting for `name`.
 * @param {string} name
 * @returns {string}
 * @throws {Error} when `name` is empty: there is nobody to greet.
 */
export function greet(name) {
  if (name.trim() === "") {
    throw new Error("expected a name, got an empty string");
  }
  return `Hello, ${name}!`;
}
