// The conformance world in JavaScript, built with componentize-js
// (StarlingMonkey) or with jco's QuickJS backend.
//
// Each function follows the doc comment of its declaration in
// tests/conformance/wit/conformance.wit. WIT values arrive as both engines
// map them: list<u8> as Uint8Array, option as the value or undefined/null,
// variants as { tag, val }, enums as strings, flags as objects of booleans;
// an `err` result is thrown. They differ on s64 and u64: see `int64`.

import { recordEvent, lookup } from "wasmplug:conformance/events@0.1.0";

// StarlingMonkey maps s64 and u64 to BigInt. QuickJS maps them to Number,
// exact only up to 2^53, and its runtime is the one that defines the
// global `wit`. 64-bit values are made with `int64` so one source serves both.
const int64 = typeof globalThis.wit === "object" ? Number : BigInt;

const S32_MIN = -(2 ** 31);
const S32_MAX = 2 ** 31 - 1;
const NEXT_COLOR = { red: "green", green: "blue", blue: "red" };

class Counter {
  #current;

  constructor(start) {
    this.#current = start;
  }

  add(by) {
    this.#current += by;
    return this.#current;
  }

  value() {
    return this.#current;
  }

  fork() {
    return new Counter(this.#current);
  }
}

// The Unicode scalar value after `letter`, stepping over the surrogates
// (U+D800..U+DFFF), which are not scalar values.
function nextScalar(letter) {
  const next = letter.codePointAt(0) + 1;
  return String.fromCodePoint(next === 0xd800 ? 0xe000 : next);
}

export const api = {
  Counter,

  reverseString(s) {
    // Spreading a string splits it into code points, not UTF-16 units.
    return [...s].reverse().join("");
  },

  reverseBytes(data) {
    return Uint8Array.from(data).reverse();
  },

  splitWords(s) {
    return s.split(" ");
  },

  sum(values) {
    let total = int64(0);
    for (const value of values) total += value;
    return total;
  },

  minMax(values) {
    if (values.length === 0) return undefined;
    let min = values[0];
    let max = values[0];
    for (const value of values) {
      if (value < min) min = value;
      if (value > max) max = value;
    }
    return [min, max];
  },

  translate(p, dx, dy) {
    return { x: p.x + dx, y: p.y + dy };
  },

  bump(s) {
    return {
      flag: !s.flag,
      tiny: s.tiny + 1,
      small: s.small + 1,
      medium: s.medium + 1,
      large: s.large + int64(1),
      single: Math.fround(s.single * 2),
      double: s.double * 2,
      letter: nextScalar(s.letter),
    };
  },

  describe(p) {
    let text = `${p.name} (${p.age})`;
    if (p.nicknames.length > 0) text += ` aka ${p.nicknames.join(", ")}`;
    if (p.email !== undefined && p.email !== null) text += ` <${p.email}>`;
    return text;
  },

  birthday(p, nickname) {
    return { ...p, age: p.age + 1, nicknames: [...p.nicknames, nickname] };
  },

  area(s) {
    // The u64 result goes past 2^53: computed in 64-bit values, not in
    // the Numbers the u32 and s32 inputs arrive as.
    switch (s.tag) {
      case "circle":
        return int64(3) * int64(s.val) * int64(s.val);
      case "rectangle": {
        const product = int64(s.val.x) * int64(s.val.y);
        return product < 0 ? -product : product;
      }
      default:
        return int64(0);
    }
  },

  nextColor(c) {
    return NEXT_COLOR[c];
  },

  flip(p, toggle) {
    return {
      // A flag that is not set may be false or missing.
      read: Boolean(p.read) !== Boolean(toggle.read),
      write: Boolean(p.write) !== Boolean(toggle.write),
      execute: Boolean(p.execute) !== Boolean(toggle.execute),
    };
  },

  firstEven(values) {
    for (const value of values) {
      if (value % 2 === 0) return value;
    }
    return undefined;
  },

  parseNumber(s) {
    if (s === "") throw { tag: "empty" };
    if (!/^-?[0-9]+$/.test(s)) throw { tag: "invalid", val: s };
    // Long inputs round, but only far outside the s32 range.
    const value = Number(s);
    if (value < S32_MIN || value > S32_MAX) throw { tag: "too-large" };
    return value;
  },

  recordAll(points) {
    let count = 0;
    points.forEach((point, index) => {
      count = recordEvent(`p${index}`, point);
    });
    return count;
  },

  lookupAll(keys) {
    return keys.map((key) => {
      const value = lookup(key);
      return value === undefined || value === null ? `${key}?` : `${key}=${value}`;
    });
  },

  merge(a, b) {
    return new Counter(a.value() + b.value());
  },
};
