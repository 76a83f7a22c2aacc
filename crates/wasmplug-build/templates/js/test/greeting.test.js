import assert from "node:assert/strict";
import { test } from "node:test";

import { greet } from "../src/greeting.js";

test("greets by name", () => {
  assert.equal(greet("world"), "Hello, world!");
});

test("keeps non-ASCII names whole", () => {
  assert.equal(greet("wörld 🌍"), "Hello, wörld 🌍!");
});

test("refuses an empty name", () => {
  assert.throws(() => greet(""), /empty/);
  assert.throws(() => greet("   "), /empty/);
});
