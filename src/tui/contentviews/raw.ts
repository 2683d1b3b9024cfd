import type { ContentView } from "./types.ts";
import { pushTextLines } from "./text.ts";

export const rawView: ContentView = {
  title: "Raw",
  render(body, _ctx, sink) {
    pushTextLines(body, 0, body.length, sink);
  },
};

// Deliberately not a formatter: reflowing minified code risks misleading the reader, and raw lines are enough to read and search.
export const javascriptView: ContentView = {
  title: "JavaScript",
  render(body, _ctx, sink) {
    pushTextLines(body, 0, body.length, sink);
  },
};
