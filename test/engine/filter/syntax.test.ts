import { describe, it, before, afterEach } from "node:test";
import assert from "node:assert/strict";
import {
  compileFilter,
  FILTER_HELP,
  OPERATORS,
  parseFilter,
  tokenize,
} from "../../../src/engine/filter/index.ts";
import type { FilterNode } from "../../../src/engine/filter/index.ts";
import { httpFlow, streamFlow } from "./flows.ts";

const clearEnv = () => {
  delete process.env.PRYX_CASE_SENSITIVE_FILTERS;
  delete process.env.MITMPROXY_CASE_SENSITIVE_FILTERS;
};
before(clearEnv);
afterEach(clearEnv);

/** A compact rendering of the AST, to assert on structure. */
function shape(node: FilterNode): string {
  switch (node.type) {
    case "and":
      return `and(${node.children.map(shape).join(", ")})`;
    case "or":
      return `or(${node.children.map(shape).join(", ")})`;
    case "not":
      return `not(${shape(node.operand)})`;
    case "flag":
      return `~${node.operator.code}`;
    case "status":
      return `~c ${node.status}`;
    case "regex":
      return `~${node.operator.code} ${JSON.stringify(node.pattern)}`;
  }
}

const tree = (expr: string) => shape(parseFilter(expr));

const noResponse = httpFlow();
const ok200 = httpFlow({ response: { status_code: 200, headers: [["Content-Type", "text/html"]], body: "x" } });

describe("precedence and grouping", () => {
  it("juxtaposition binds loosest: ~a ~b x | ~c 200 is ~a & (~b x | ~c 200)", () => {
    assert.equal(tree("~a ~b x | ~c 200"), 'and(~a, or(~b "x", ~c 200))');
    // Not an asset, status 200: (~a & ~b x) | ~c 200 would match, the real reading does not.
    assert.equal(compileFilter("~a ~b x | ~c 200")(ok200), false);
    assert.equal(compileFilter("~a & ~b x | ~c 200")(ok200), true);
  });
  it("! binds tighter than &", () => {
    assert.equal(tree("!~e & ~s"), "and(not(~e), ~s)");
    assert.equal(compileFilter("!~e & ~s")(noResponse), false);
    assert.equal(compileFilter("!(~e & ~s)")(noResponse), true);
  });
  it("& binds tighter than |", () => {
    assert.equal(tree("~q | ~s & ~e"), "or(~q, and(~s, ~e))");
    assert.equal(compileFilter("~q | ~s & ~e")(noResponse), true);
    assert.equal(compileFilter("(~q | ~s) & ~e")(noResponse), false);
  });
  it("| binds tighter than juxtaposition", () => {
    assert.equal(tree("~q ~e | ~all"), "and(~q, or(~e, ~all))");
    assert.equal(compileFilter("~q ~e | ~all")(ok200), false);
  });
  it("chains of the same operator flatten", () => {
    assert.equal(tree("~q & ~s & ~e"), "and(~q, ~s, ~e)");
    assert.equal(tree("~q | ~s | ~e"), "or(~q, ~s, ~e)");
    assert.equal(tree("~q ~s ~e"), "and(~q, ~s, ~e)");
  });
  it("! may repeat and may be followed by a space", () => {
    assert.equal(tree("!!~q"), "not(not(~q))");
    assert.equal(tree("! ~q"), "not(~q)");
    assert.equal(compileFilter("!!~q")(noResponse), true);
    assert.equal(compileFilter("! ~q")(noResponse), false);
  });
  it("an operator directly before ) parses (mitmproxy rejects it)", () => {
    assert.equal(tree("(~q & ~s)"), "and(~q, ~s)");
    assert.equal(tree("(~q)"), "~q");
    assert.equal(tree("(~q )"), "~q");
    assert.equal(tree("(~c 200)"), "~c 200");
    assert.equal(tree("!(~q | ~s)"), "not(or(~q, ~s))");
  });
  it("parentheses may contain juxtaposition and nest", () => {
    assert.equal(tree("(~q ~s) | ((~e))"), "or(and(~q, ~s), ~e)");
    assert.equal(tree("~http (~c 200 | ~c 404)"), "and(~http, or(~c 200, ~c 404))");
  });
  it("a group can follow a bare regex without a space", () => {
    assert.equal(tree("~u get(Info|Routers)"), 'and(~u "get", ~u "Info|Routers")');
  });
  it("whitespace of every kind separates tokens", () => {
    assert.equal(tree("\t~q\n&\r\n~s  "), "and(~q, ~s)");
  });
  it("the help examples parse", () => {
    assert.equal(tree("google\\.com"), '~u "google\\\\.com"');
    assert.equal(tree("~q ~b test"), 'and(~q, ~b "test")');
    assert.equal(tree('!(~q & ~t "text/html")'), 'not(and(~q, ~t "text/html"))');
  });
});

describe("regex arguments and quoting", () => {
  it("a quoted regex may contain parentheses, spaces, ~ and the other quote", () => {
    assert.equal(tree('~u "get(Info|Routers)"'), '~u "get(Info|Routers)"');
    assert.equal(tree("~b 'say \"hi\" ~ (now)'"), '~b "say \\"hi\\" ~ (now)"');
    const f = httpFlow({ url: "https://example.com/getRouters" });
    assert.equal(compileFilter('~u "get(Info|Routers)"')(f), true);
  });
  it("\\<quote> is unescaped, other backslash pairs reach the regex unchanged", () => {
    assert.equal(tree("'it\\'s'"), '~u "it\'s"');
    assert.equal(tree('"a\\"b"'), '~u "a\\"b"');
    assert.equal(tree('"google\\.com"'), '~u "google\\\\.com"');
    assert.equal(tree('"end\\\\"'), '~u "end\\\\\\\\"');
    assert.equal(compileFilter('~d "google\\.com"')(httpFlow({ host: "googleXcom" })), false);
    assert.equal(compileFilter('~d "google\\.com"')(httpFlow({ host: "www.google.com" })), true);
    assert.equal(compileFilter('"a\\\\b"')(httpFlow({ url: "a\\b" })), true);
  });
  it("an empty quoted regex matches everything", () => {
    assert.equal(compileFilter('~b ""')(httpFlow({ body: "x" })), true);
    assert.equal(compileFilter("~comment ''")(streamFlow("tcp")), true);
  });
  it("an unquoted regex runs to whitespace, so a|b and a&b are regexes", () => {
    assert.equal(tree("~d example.com|~d foo"), 'and(~d "example.com|", ~d "foo")');
    assert.equal(tree("a&b"), '~u "a&b"');
    assert.equal(tree("foo!"), '~u "foo!"');
  });
  it("an argument may start with !, & or |", () => {
    assert.equal(tree("~u !x"), '~u "!x"');
    assert.equal(tree("~b &"), '~b "&"');
    assert.equal(tree("~h |"), '~h "|"');
  });
  it("a bare regex is ~u and marked as bare", () => {
    const node = parseFilter("example");
    assert.equal(node.type, "regex");
    assert.ok(node.type === "regex" && node.bare && node.operator.code === "u");
    const explicit = parseFilter("~u example");
    assert.ok(explicit.type === "regex" && !explicit.bare);
  });
  it("a quoted word and the next token need no space between them", () => {
    assert.equal(tree('"a"b'), 'and(~u "a", ~u "b")');
    assert.equal(tree('"a"&~q'), 'and(~u "a", ~q)');
  });
  it("regexes are JavaScript RegExp used as a search", () => {
    const f = httpFlow({ url: "https://example.com/v2/items?id=42" });
    assert.equal(compileFilter("~u items")(f), true, "search, not full match");
    assert.equal(compileFilter("~u \\d{2}$")(f), true);
    assert.equal(compileFilter("~u '(?<version>v\\d)/items'")(f), true);
    assert.equal(compileFilter("~u '/v(?=2)'")(f), true);
  });
});

describe("case sensitivity", () => {
  const post = httpFlow({ method: "POST", body: "Hello", headers: [["X-Token", "Secret"]] });
  it("is case-insensitive by default for every regex operator", () => {
    assert.equal(compileFilter("~m post")(post), true);
    assert.equal(compileFilter("~b HELLO")(post), true);
    assert.equal(compileFilter("~h 'x-token: secret'")(post), true);
    assert.equal(compileFilter("EXAMPLE.COM")(post), true);
  });
  it("PRYX_CASE_SENSITIVE_FILTERS=1 makes regexes case-sensitive", () => {
    process.env.PRYX_CASE_SENSITIVE_FILTERS = "1";
    assert.equal(compileFilter("~m post")(post), false);
    assert.equal(compileFilter("~m POST")(post), true);
    assert.equal(compileFilter("~b hello")(post), false);
    assert.equal(compileFilter("~b Hello").description, "body matches /Hello/s");
  });
  it("MITMPROXY_CASE_SENSITIVE_FILTERS=1 is honoured too", () => {
    process.env.MITMPROXY_CASE_SENSITIVE_FILTERS = "1";
    assert.equal(compileFilter("~m post")(post), false);
  });
  it("other values leave filters case-insensitive", () => {
    process.env.PRYX_CASE_SENSITIVE_FILTERS = "0";
    assert.equal(compileFilter("~m post")(post), true);
  });
  it("the caseSensitive option overrides the environment", () => {
    process.env.PRYX_CASE_SENSITIVE_FILTERS = "1";
    assert.equal(compileFilter("~m post", { caseSensitive: false })(post), true);
    clearEnv();
    assert.equal(compileFilter("~m post", { caseSensitive: true })(post), false);
  });
  it("~a ignores case whatever the setting, as media types do", () => {
    const img = httpFlow({ response: { headers: [["Content-Type", "IMAGE/PNG"]] } });
    assert.equal(compileFilter("~a", { caseSensitive: true })(img), true);
  });
  it("~h uses the m flag and ~b the s flag", () => {
    const f = httpFlow({ headers: [["A", "1"], ["B", "2"]], body: "one\ntwo" });
    assert.equal(compileFilter("~h ^b:")(f), true);
    assert.equal(compileFilter("~b one.two")(f), true);
    assert.equal(compileFilter("~u ^https")(f), true);
    assert.equal(compileFilter("~comment ^b", {})(httpFlow({ comment: "a\nb" })), true);
  });
});

describe("compiled filters", () => {
  it("carry the expression and a readable description", () => {
    const f = compileFilter("foo");
    assert.equal(typeof f, "function");
    assert.equal(f.expression, "foo");
    assert.equal(f.description, "url matches /foo/i");
  });
  it("describe every node type", () => {
    assert.equal(compileFilter("~h rex").description, "header matches /rex/im");
    assert.equal(compileFilter("~b rex").description, "body matches /rex/is");
    assert.equal(compileFilter("~c 200").description, "response code is 200");
    assert.equal(compileFilter("~q").description, "request with no response");
    assert.equal(
      compileFilter("~a ~b x | ~c 200").description,
      "asset in response and (body matches /x/is or response code is 200)",
    );
    assert.equal(compileFilter("!(~q & ~s)").description, "not (request with no response and has response)");
    assert.equal(compileFilter("!~e").description, "not has error");
    assert.equal(compileFilter("~u /api/").description, "url matches /\\/api\\//i");
  });
  it("can be reused across many flows", () => {
    const f = compileFilter("~c 200 | ~q");
    const flows = [noResponse, ok200, httpFlow({ response: { status_code: 500 } }), streamFlow("tcp")];
    assert.deepEqual(flows.map(f), [true, true, false, false]);
    assert.deepEqual(flows.map(f), [true, true, false, false]);
  });
  it("expose spans on AST nodes", () => {
    const node = parseFilter("~q & ~h foo");
    assert.equal(node.start, 0);
    assert.equal(node.end, 11);
    assert.ok(node.type === "and");
    assert.deepEqual(
      node.children.map((c) => [c.start, c.end]),
      [
        [0, 2],
        [5, 11],
      ],
    );
  });
});

describe("lexer", () => {
  it("produces tokens with source offsets", () => {
    assert.deepEqual(
      tokenize('!~h "a b" | x').map((t) => [t.kind, t.value, t.start, t.end]),
      [
        ["not", "!", 0, 1],
        ["operator", "h", 1, 3],
        ["quoted", "a b", 4, 9],
        ["or", "|", 10, 11],
        ["word", "x", 12, 13],
        ["eof", "", 13, 13],
      ],
    );
  });
});

describe("help table", () => {
  it("lists every operator once, sorted, then the connectives", () => {
    const ops = FILTER_HELP.map((h) => h.op);
    assert.equal(ops.length, OPERATORS.length + 4);
    assert.deepEqual(ops.slice(-4), ["!", "&", "|", "(...)"]);
    const operators = ops.slice(0, -4);
    assert.deepEqual(operators, [...operators].sort());
    for (const code of [
      "a", "all", "b", "bq", "bs", "c", "comment", "d", "dns", "dst", "e", "h", "hq", "hs", "http", "m",
      "marked", "marker", "meta", "q", "replay", "replayq", "replays", "s", "src", "t", "tq", "ts", "tcp",
      "udp", "websocket", "u",
    ]) {
      assert.equal(operators.filter((op) => op.split(" ")[0] === `~${code}`).length, 1, code);
    }
    assert.ok(ops.includes("~b regex"));
    assert.ok(ops.includes("~c int"));
    assert.ok(ops.includes("~websocket"));
    assert.equal(FILTER_HELP[0].op, "~a");
    assert.match(FILTER_HELP[0].help, /asset/i);
  });
});

describe("mitmproxy's Python regex spellings", () => {
  it("(?i) (?s) as leading flags, (?P<name>) and (?P=name) groups, \\A and \\Z anchors mean what they mean in mitmproxy", () => {
    assert.equal(compileFilter('~h "(?i)x-custom"')(httpFlow({ headers: [["X-Custom", "1"]] })), true);
    assert.equal(compileFilter('~bq "(?s)line.*SECRET"')(httpFlow({ body: "line one\nSECRET" })), true);
    assert.equal(compileFilter('~u "(?P<w>json)/(?P=w)"')(httpFlow({ url: "http://a.test/json/json" })), true);
    assert.equal(compileFilter("~u json\\Z")(httpFlow({ url: "http://a.test/json" })), true);
    assert.equal(compileFilter("~u json\\Z")(httpFlow({ url: "http://a.test/json/more" })), false);
    assert.equal(compileFilter('~u "\\Ahttp://a"')(httpFlow({ url: "http://a.test/" })), true);
    // An escaped backslash before Z stays a backslash and a Z.
    assert.equal(compileFilter('"a\\\\Z"')(httpFlow({ url: "http://x.test/a\\Z" })), true);
  });
  it("\\A and \\Z are the ends of the text even where ^ and $ are a line's (~h, ~hq); $ matches before a last newline as Python's does; $ in a class is a character", () => {
    const f = httpFlow({ headers: [["Host", "a.test"], ["User-Agent", "curl/8.5.0"]], body: "one two three\n" });
    assert.equal(compileFilter("~hq \\AUser-Agent")(f), false, "User-Agent is not the first header");
    assert.equal(compileFilter("~hq \\AHost")(f), true);
    assert.equal(compileFilter("~hq ^User-Agent")(f), true, "^ is a header line's start in ~h, as in pryx's header text");
    assert.equal(compileFilter("~bq three$")(f), true);
    assert.equal(compileFilter("~bq two$")(f), false);
    assert.equal(compileFilter("~bq three\\Z")(f), false, "\\Z is the very end, after the newline");
    assert.equal(compileFilter('~u "[$]x"')(httpFlow({ url: "http://a.test/$x" })), true);
  });
  it("~c's digits end before | or &: ~c 404|~c 500 is an or, as in mitmproxy; ~c 200x is still an error", () => {
    const filter = compileFilter("~c 404|~c 500");
    const status = (status_code: number) => httpFlow({ response: { status_code } });
    assert.equal(filter(status(500)), true);
    assert.equal(filter(status(404)), true);
    assert.equal(filter(status(200)), false);
    assert.equal(compileFilter("~c 404&~m GET")(status(404)), true);
    assert.throws(() => compileFilter("~c 200x"));
  });
  it("a scoped flag group, which JavaScript has not, is refused saying so", () => {
    assert.throws(() => compileFilter('~u "(?i:upper)"'), /invalid regex: .*regexes here are JavaScript's: Python's scoped flags such as \(\?i:…\) have no match/);
  });
});
