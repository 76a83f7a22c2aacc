// The handler's logic, apart from the fetch event so that Node tests it.

/**
 * @param {string} name
 * @returns {string}
 */
export function greeting(name) {
  return `hello from ${name}\n`;
}
