// The {{name}} plugin: implements the `run` export of the world in wit/.
// Imports named like "wasmplug:plugin/host@0.1.0" are the host's
// interfaces, provided when the component is instantiated.

import { log } from "wasmplug:plugin/host@0.1.0";

import { greet } from "./greeting.js";

/**
 * `run: func(input: string) -> result<string, string>`: the returned string
 * is the `ok` value; a thrown string is the `err` message the user sees.
 * @param {string} input
 * @returns {string}
 */
export function run(input) {
  let greeting;
  try {
    greeting = greet(input);
  } catch (error) {
    throw error.message;
  }
  // Log levels are the names of the WIT enum `level`: "trace" ... "error".
  log("info", `greeted ${input}`);
  return greeting;
}
