import { test } from "node:test";
import assert from "node:assert/strict";
import type { Key } from "ink";
import { KeySpecError, displayKey, keyPressFromChar, keyPressesFromInk, parseKeySpec } from "../../src/tui/keys.ts";

const NO_KEY: Key = {
  upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false, end: false,
  return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false,
  super: false, hyper: false, capsLock: false, numLock: false,
};
const k = (over: Partial<Key>): Key => ({ ...NO_KEY, ...over });

test("parseKeySpec accepts mitmproxy's spellings and aliases", () => {
  assert.equal(parseKeySpec("j"), "j");
  assert.equal(parseKeySpec("G"), "G");
  assert.equal(parseKeySpec(" "), "space");
  assert.equal(parseKeySpec("space"), "space");
  assert.equal(parseKeySpec("enter"), "enter");
  assert.equal(parseKeySpec("return"), "enter");
  assert.equal(parseKeySpec("esc"), "esc");
  assert.equal(parseKeySpec("page down"), "pagedown");
  assert.equal(parseKeySpec("PgUp"), "pageup");
  assert.equal(parseKeySpec("ctrl f"), "ctrl f");
  assert.equal(parseKeySpec("ctrl+F"), "ctrl f");
  assert.equal(parseKeySpec("ctrl-b"), "ctrl b");
  assert.equal(parseKeySpec("shift tab"), "shift tab");
  assert.equal(parseKeySpec("alt x"), "meta x");
  assert.equal(parseKeySpec("ctrl right"), "ctrl right");
  assert.equal(parseKeySpec("-"), "-");
  assert.equal(parseKeySpec("|"), "|");
});

test("parseKeySpec rejects what is not a key, naming it", () => {
  assert.throws(() => parseKeySpec(""), KeySpecError);
  assert.throws(() => parseKeySpec("bogus"), /cannot parse key "bogus"/);
  assert.throws(() => parseKeySpec("ctrl bogus"), /unknown key name "bogus"/);
  assert.throws(() => parseKeySpec("\x01"), /control character/);
});

test("keyPressesFromInk names special keys", () => {
  assert.deepEqual(keyPressesFromInk("", k({ downArrow: true })), [{ name: "down", text: "" }]);
  assert.deepEqual(keyPressesFromInk("", k({ escape: true, meta: true })), [{ name: "esc", text: "" }]);
  assert.deepEqual(keyPressesFromInk("\r", k({ return: true })), [{ name: "enter", text: "" }]);
  assert.deepEqual(keyPressesFromInk("", k({ tab: true, shift: true })), [{ name: "shift tab", text: "" }]);
  assert.deepEqual(keyPressesFromInk("", k({ pageDown: true })), [{ name: "pagedown", text: "" }]);
  assert.deepEqual(keyPressesFromInk("", k({ delete: true })), [{ name: "backspace", text: "" }]);
  assert.deepEqual(keyPressesFromInk("", k({ rightArrow: true, ctrl: true })), [{ name: "ctrl right", text: "" }]);
});

test("keyPressesFromInk: ctrl and meta letters, space, and upper case", () => {
  assert.deepEqual(keyPressesFromInk("f", k({ ctrl: true })), [{ name: "ctrl f", text: "" }]);
  assert.deepEqual(keyPressesFromInk("b", k({ meta: true })), [{ name: "meta b", text: "" }]);
  assert.deepEqual(keyPressesFromInk(" ", k({})), [{ name: "space", text: " " }]);
  assert.deepEqual(keyPressesFromInk("G", k({ shift: true })), [{ name: "G", text: "G" }]);
});

test("keyPressesFromInk splits several characters read at once", () => {
  assert.deepEqual(
    keyPressesFromInk("jj\rq", k({})).map((p) => p.name),
    ["j", "j", "enter", "q"],
  );
  assert.deepEqual(keyPressFromChar("\x7f"), { name: "backspace", text: "" });
  assert.deepEqual(keyPressFromChar("\x06"), { name: "ctrl f", text: "" });
});

test("displayKey uses short labels", () => {
  assert.equal(displayKey("enter"), "⏎");
  assert.equal(displayKey("ctrl f"), "ctrl-f");
  assert.equal(displayKey("pagedown"), "PgDn");
  assert.equal(displayKey("j"), "j");
});
