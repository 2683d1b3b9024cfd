import { EventEmitter } from "node:events";

/** A terminal's input as Ink sees one: a TTY in raw mode whose reads are the chunks written, one a read. */
export class FakeTtyIn extends EventEmitter {
  isTTY = true;
  /** How many 'readable' listeners it has: whether anyone is reading the terminal. */
  listening = 0;
  private chunks: string[] = [];
  constructor() {
    super();
    this.on("newListener", (e: string) => e === "readable" && this.listening++);
    this.on("removeListener", (e: string) => e === "readable" && this.listening--);
  }
  write(s: string) {
    this.chunks.push(s);
    this.emit("readable");
  }
  read() {
    return this.chunks.shift() ?? null;
  }
  setRawMode() {
    return this;
  }
  setEncoding() {}
  ref() {}
  unref() {}
  resume() {}
  pause() {}
}

/** A terminal's output with a size, keeping everything written to it. */
export class FakeTtyOut extends EventEmitter {
  isTTY = true;
  columns = 90;
  rows = 25;
  out = "";
  write = (s: string) => {
    this.out += s;
    return true;
  };
}

export function tty() {
  const stdin = new FakeTtyIn();
  const stdout = new FakeTtyOut();
  return { stdin, stdout, streams: { stdin: stdin as unknown as NodeJS.ReadStream, stdout: stdout as unknown as NodeJS.WriteStream } };
}
