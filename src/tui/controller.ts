/**
 * The console's state and its command registry, outside React.
 *
 * Keys resolve through the keymap to command strings, and every command string runs here: `console.*`
 * commands and the few view commands whose state the console owns (order, marked-only, focus) are
 * handled locally; anything else goes to the engine with `@focus` replaced by the focused flow's id.
 * Components subscribe to `state` and the flow store and only draw; all behaviour is testable here.
 */
import { assignmentText } from "../engine/options.ts";
import { CommandHistory } from "./command-history.ts";
import type { EngineHandle } from "../engine-client.ts";
import { FLOOD_BATCH_ROWS, shownAt, type CommandInfo, type EngineEvent, type FlowDetail, type FlowSummary, type LogEntry, type LogLevel, type OptionInfo, type ReadyInfo } from "../protocol.ts";
import { deleteToArgumentStart, joinArgs, quoteAlways, quoteArg, replaceFocus, signatureParam, tokenize, typedText, wordAt } from "./command-line.ts";
import { completePath, expandHome } from "./path-complete.ts";
import { asWholeWord, cycleCompletion, firstCompletion, type CompletionCycle, type Completions } from "./tab-complete.ts";
import { completeOptionValue } from "./option-complete.ts";
import { VIEW_NAMES, searchLines, type Line, type LineList, type ViewName } from "./contentviews/index.ts";
import { DEFAULT_MAX_LINES, bodyCut, tabContent, tabsFor, type Tab, type TabContent, type TabId } from "./detail-lines.ts";
import { clockTime, flowRowLines, sanitize, wrapColumns } from "./format.ts";
import { sameLineRow } from "./wrap-lines.ts";
import { schemasFrom } from "../proto-definitions.ts";
import { InputRouter, Priority } from "./input.ts";
import type { KeyPress } from "./keys.ts";
import { displayKey, parseKeySpec } from "./keys.ts";
import { CONTEXTS, Keymap, KeymapError, isContext, parseBindings, readBindingsFile, userKeymapFiles, type Binding, type Context } from "./keymap.ts";
import * as le from "./line-edit.ts";
import { bodyHeight, isLayout, LAYOUTS, mainHeight, splitPanes, type ConsoleLayout, type ScreenKind } from "./layout.ts";
import { CONSOLE_PALETTES, CONTENT_VIEWS, FLOWLIST_LAYOUTS, FLOWLIST_LAYOUT_HELP } from "../console-choices.ts";
import { LogStore } from "./log-store.ts";
import { ORDERS, isOrderKey } from "./order.ts";
import { FlowStore } from "./store.ts";
import type { Theme } from "./theme.ts";
import { UNICODE_GLYPHS } from "./format.ts";
import { calcTop, clamp, clampScroll } from "./window.ts";
import { FlowEditor, type EditHost } from "./edit/flow-editor.ts";
import { LINE_OPS, lineKey } from "./edit/line-keys.ts";
import type { EditScreen, GridEditorScreen, TextEditorScreen } from "./edit/screens.ts";
import { MOUSE_OFF, MOUSE_ON, NO_TERMINAL, RESET_COLOURS, terminalColours, type TerminalHandover } from "./edit/terminal.ts";
import { paletteGround } from "./palettes.ts";
import type { MouseReport } from "./mouse.ts";
import { conciseError } from "./errors.ts";
import { copyToClipboard } from "./clipboard.ts";
import { WholeBodies } from "./render/whole-bodies.ts";
import type { BodyRendering } from "./render/body-renderer.ts";
import { FILTER_HELP } from "../engine/filter/operators.ts";
import { markerChoices } from "../markers.ts";
import { EXPORT_FORMATS } from "../engine/flow/export.ts";
import { BODY_ENCODINGS } from "../engine/flow/encoding.ts";
import { FLOW_SET_ATTRS } from "../engine/flow/set-attrs.ts";
import { checkArgumentCount } from "../engine/commands.ts";
import { CUT_SPECS } from "../cut-specs.ts";
import { completeOperator } from "./filter-complete.ts";

/** Body bytes asked for when a flow view opens; `f` asks for everything up to FULL_BODY_LIMIT. */
export const BODY_LIMIT = 1024 * 1024;
export const FULL_BODY_LIMIT = 64 * 1024 * 1024;
/** How long a message stays in the status bar. */
export const MESSAGE_MS = 5000;
/**
 * The longest a key's unfinished work holds the keys typed after it. Opening a chooser takes one
 * round trip to the engine (a millisecond or so); work that takes longer (an addon's slow command,
 * a busy engine) must not freeze the keyboard, so after this the held keys go to the screen as it is.
 */
export const KEY_HOLD_MS = 300;
/** How long the focus rests before a split layout's preview fetches it. */
export const PREVIEW_SETTLE_MS = 60;
/** The preview's flow view is not on the stack, so it has no key of its own. */
const PREVIEW_KEY = -1;
/** How long after a command the replay counts are asked for (a burst of commands asks once). */
const REPLAY_SETTLE_MS = 100;
/** How long `r` in the flow view waits for its replay to show it (a long replay queue sends it later: the view then stays). */
const REPLAY_FOLLOW_MS = 5000;
/** How many flows remember their content views (see Controller.viewModes). */
const VIEW_MODES_KEPT = 10_000;

interface ScreenBase {
  /** Identity across updates, so an async reply finds its screen even after others were pushed. */
  readonly key: number;
}

/** What `/` found on a screen that searches (flow view, help, event log). */
interface Searched {
  /** The row of the current hit. */
  readonly highlight: number | undefined;
  /** The term whose matches are marked, once searched for here. */
  readonly match?: string;
}

export interface FlowListScreen extends ScreenBase {
  readonly kind: "flowlist";
}

export interface FlowViewScreen extends ScreenBase, Searched {
  readonly kind: "flowview";
  readonly id: string;
  /** The store's summary when the detail was last requested: a newer one triggers a refetch. */
  readonly fetchedFor: FlowSummary | undefined;
  readonly tabs: readonly Tab[];
  readonly tab: number;
  readonly scroll: number;
  readonly modes: Readonly<Partial<Record<TabId, ViewName>>>;
  readonly full: boolean;
  readonly detail: FlowDetail | undefined;
  readonly loading: boolean;
  readonly error: string | undefined;
  readonly content: TabContent | undefined;
}

export interface TextScreen extends ScreenBase, Searched {
  readonly kind: "help";
  readonly title: string;
  readonly lines: readonly Line[];
  readonly scroll: number;
  /** Lays the lines out for a width: a resize lays them out again (help's columns, the data viewer's wrapping). */
  readonly layout: (width: number) => readonly Line[];
}

export interface EventLogScreen extends ScreenBase, Searched {
  readonly kind: "eventlog";
  /** While true the view stays on the newest entries. */
  readonly follow: boolean;
  readonly scroll: number;
}

export interface ListScreen extends ScreenBase {
  readonly kind: "options" | "commands" | "keybindings";
  readonly focus: number;
  readonly top: number;
  /** Options only: the option being edited in place, and its text so far. */
  readonly editing?: OptionEdit | undefined;
}

export interface OptionEdit {
  readonly name: string;
  readonly line: le.LineState;
  /** Completions of the value being cycled with Tab, as the prompt cycles them. */
  readonly completion?: CompletionCycle | undefined;
}

export type Screen = FlowListScreen | FlowViewScreen | TextScreen | EventLogScreen | ListScreen | GridEditorScreen | TextEditorScreen;
export type { GridEditorScreen, TextEditorScreen };

export interface ChooserOverlay {
  readonly kind: "chooser";
  readonly title: string;
  readonly choices: readonly string[];
  readonly focus: number;
  readonly current: string | undefined;
  readonly onPick: (choice: string) => void | Promise<void>;
}

export interface ConfirmOverlay {
  readonly kind: "confirm";
  readonly prompt: string;
  readonly onYes: () => void | Promise<void>;
}

export type Overlay = ChooserOverlay | ConfirmOverlay;

/** One-key shortcuts for chooser entries, as mitmproxy's (no q: it cancels). */
export const CHOOSER_SHORTCUTS = "123456789abcdefghijklmnoprstuvwxyz";

/** What Tab offers for a command's argument, by the name its signature gives it. */
/** mitmproxy's flow specs; a filter or an id names flows too. */
const FLOW_SPECS = ["@focus", "@all", "@shown", "@hidden", "@marked", "@unmarked"] as const;

const PARAM_VALUES: Record<string, readonly string[]> = {
  format: EXPORT_FORMATS,
  cuts: CUT_SPECS,
  bool: ["true", "false"],
  // mitmproxy's Choice arguments: flow.set's attributes, the encodings, content views, orders.
  attr: FLOW_SET_ATTRS,
  part: ["request", "response"],
  encoding: BODY_ENCODINGS,
  view: CONTENT_VIEWS,
  order: ORDERS,
  flows: FLOW_SPECS,
  flow: FLOW_SPECS,
  // Every emoji name once the console has loaded them: ":gr" and Tab offers ":grapes:".
  get marker(): readonly string[] {
    return markerChoices();
  },
};

export interface PromptState {
  /** `edit`: a single value of a flow, handed to onSubmit instead of being run. */
  readonly kind: "command" | "search" | "edit";
  readonly label: string;
  readonly line: le.LineState;
  /** Completion candidates being cycled with Tab, listed above the prompt. */
  readonly completion: CompletionCycle | undefined;
  /** Where up/down stand in the history, the prefix they keep to, and the line as typed before the first step, which stepping past the newest brings back. */
  readonly history: { readonly index: number; readonly prefix: string; readonly draft: le.LineState } | undefined;
  /** Shown above the prompt: completion candidates. */
  readonly hint: string | undefined;
  readonly onSubmit?: ((text: string) => Promise<void>) | undefined;
  /**
   * The flow `@focus` meant when a command prompt opened: the command runs on it, not on a flow
   * that took the focus while the user typed (follow mode moves it to each new flow).
   */
  readonly focusAtOpen?: string | undefined;
}

export interface Message {
  readonly text: string;
  readonly level: "info" | "warn" | "error";
  readonly id: number;
  /** The whole text is in the event log: the status bar says so, however much of `text` fits. */
  readonly more: boolean;
  /** `text` is in the event log too: cut short to fit, the status bar says where to read it whole. */
  readonly logged?: boolean;
}

export interface ConsoleState {
  readonly stack: readonly Screen[];
  readonly overlay: Overlay | undefined;
  readonly prompt: PromptState | undefined;
  readonly message: Message | undefined;
  readonly options: ReadonlyMap<string, OptionInfo>;
  readonly commands: readonly CommandInfo[];
  readonly viewFilter: string;
  /** The view filter turned off with `console.view_filter.toggle`, which turns it back on. */
  readonly pausedViewFilter: string | undefined;
  readonly width: number;
  readonly height: number;
  readonly listen: readonly string[];
  readonly modes: readonly string[];
  /** With a split layout, the focused flow as the preview pane shows it. */
  readonly preview: FlowViewScreen | undefined;
  /** With a split layout: the preview pane has the keys (ctrl right / ctrl left), so j/k scroll it. */
  readonly previewFocused: boolean;
  /** Requests waiting in the client replay queue and recorded responses waiting to answer (the status line's [cplayback:N] [splayback:N]). */
  readonly replay: { readonly client: number; readonly server: number };
  /** The engine is still applying a view filter, and has taken long enough to say so. */
  readonly filtering?: boolean;
}

/** What a console command runs with besides its words. */
interface CommandCall {
  /** The line after the command's name, as typed, for a command that reads it whole. */
  readonly rest: string;
  /** The flow `@focus` means for this line (see `execute`). */
  readonly focus: string | undefined;
}

interface LocalCommand {
  signature: string;
  help: string;
  /** Reads `rest` whole: its words are not counted against the signature. */
  takesRest: boolean;
  /** Returns a value for `console.choose.cmd`; a string is also shown as a message. */
  run(args: string[], call: CommandCall): unknown;
}

/** How long a view filter may take before the status line says the engine is filtering. */
export const FILTER_BUSY_MS = 150;
/** Lines (or flows) one notch of the mouse wheel moves. */
const WHEEL_LINES = 3;

/** Options the console keeps itself when the engine does not define them (the engine's win when it does). */
export const LOCAL_OPTIONS: OptionInfo[] = [
  { name: "console_focus_follow", type: "bool", value: "false", default: "false", help: "The console's focus follows new flows.", choices: undefined },
  { name: "view_order", type: "choice", value: "time", default: "time", help: "Flow list order.", choices: [...ORDERS] },
  { name: "view_order_reversed", type: "bool", value: "false", default: "false", help: "Reverse the flow list order.", choices: undefined },
  { name: "console_layout", type: "choice", value: "single", default: "single", help: "The flow list alone, or split with a preview of the focused flow (vertical: below, horizontal: beside); - cycles.", choices: [...LAYOUTS] },
  { name: "console_layout_headers", type: "bool", value: "true", default: "true", help: "Show the title row of the help, event log, options, commands and key bindings screens; off gives the row to their contents.", choices: undefined },
  { name: "console_quickhelp_visible", type: "bool", value: "true", default: "true", help: "Show the quick help line under the status bar.", choices: undefined },
  { name: "console_palette_transparent", type: "bool", value: "true", default: "true", help: "Draw on the terminal's own background; off, the palette's text and background colours are the terminal's while pryx runs (OSC 10/11).", choices: undefined },
  { name: "console_palette", type: "choice", value: "dark", default: "dark", help: "Colour palette.", choices: [...CONSOLE_PALETTES] },
  { name: "console_mouse", type: "bool", value: "false", default: "false", help: "Mouse in the console: the wheel scrolls, a click on a flow opens it.", choices: undefined },
  { name: "console_flowlist_layout", type: "choice", value: "table", default: "table", help: FLOWLIST_LAYOUT_HELP, choices: [...FLOWLIST_LAYOUTS] },
];

export interface ControllerOptions {
  engine: EngineHandle;
  ready: ReadyInfo;
  keymap: Keymap;
  theme?: Theme;
  onExit: (error?: Error) => void;
  width?: number;
  height?: number;
  messageMs?: number;
  /** Events the engine sent before the console subscribed (start-up logs, flows read with -r), applied first. */
  initialEvents?: readonly EngineEvent[];
  /** Hands the terminal to an external editor and back; without one (tests) the editor just runs. */
  terminal?: TerminalHandover;
  /** Writes a terminal escape (the OSC 52 clipboard); without one (tests) nothing is written. */
  writeEscape?: (escape: string) => void;
  /** Stops pryx as a shell job (Ctrl-Z), returning when it is continued (`fg`); without one, console.suspend says it cannot. */
  stopJob?: () => void;
  /** Where $EDITOR and friends are read from, and $TMUX (a copy goes through tmux inside it). */
  env?: NodeJS.ProcessEnv;
  /** The prompt's history; by default one kept for the session only. */
  history?: CommandHistory;
  /** Renders large bodies shown whole; by default on a worker thread of the console's own. */
  bodyRenderer?: BodyRendering;
}

export function contextOf(s: Screen): Context {
  // The inline text editor takes every key itself: it has no bindings of its own.
  return s.kind === "texteditor" ? "global" : s.kind;
}

export class Controller {
  readonly store = new FlowStore();
  readonly logs = new LogStore();
  readonly router = new InputRouter();
  readonly keymap: Keymap;
  private readonly engine: EngineHandle;
  private readonly theme: Theme | undefined;
  private readonly onExit: (error?: Error) => void;
  private readonly terminal: TerminalHandover;
  private readonly stopJob: (() => void) | undefined;
  private readonly messageMs: number;
  /** Where the user's keybindings.json is, for console.keymap.load. */
  private readonly confdir: string;
  private readonly local = new Map<string, LocalCommand>();
  private readonly localOptions = new Map<string, OptionInfo>();
  private _state: ConsoleState;
  private readonly listeners = new Set<() => void>();
  private nextKey = 1;
  /**
   * Content views chosen with `m`, per flow and tab as mitmproxy keeps them: hex for one binary
   * flow does not follow the user to the next JSON one. Oldest forgotten past a bound.
   */
  private readonly viewModes = new Map<string, FlowViewScreen["modes"]>();
  /** The tab the flow view was last on: the next flow opened from the list opens on it, as mitmproxy's long-lived flow view does. */
  private lastFlowTab = 0;
  private messageId = 0;
  private messageTimer: NodeJS.Timeout | undefined;
  private readonly history: CommandHistory;
  /** Where commands.history.prev/next stand, and the prefix they keep to. */
  private historyWalk = { prefix: "", index: Number.MAX_SAFE_INTEGER };
  /** mitmproxy's view.settings store: per flow, key → value. */
  private readonly flowSettings = new Map<string, Map<string, string>>();
  /** Bodies shown whole, rendered on a thread of their own when large. */
  private readonly wholeBodies: WholeBodies;
  private searchTerm = "";
  /** protobuf_definitions: gRPC bodies by field name (the engine checked the file when it was set). */
  private readonly schemaFor = schemasFrom(() => this.option("protobuf_definitions") || undefined, (msg) => this.message(msg, "warn"));
  private readonly inflight = new Set<number>();
  private readonly refetch = new Set<number>();
  private exited = false;
  private readonly unsubscribe: (() => void)[] = [];
  /** The last command run from a key or the prompt, for tests and the event log. */
  lastCommand: string | undefined;
  private readonly editor: FlowEditor;
  /** Redraws the whole screen after an external program used the terminal; set by the App. */
  private repaintFn: (() => void) | undefined;
  /** After `view.flows.duplicate`, `.create` or `r` in the flow view: finds the flow that is to take the focus once its batch arrives (null: no longer). */
  private pendingFocus: (() => FlowSummary | undefined | null) | undefined;
  private logRowsCache: { readonly version: number; readonly width: number; readonly verbosity: string | undefined; readonly entries: number; readonly rows: readonly LogRow[] } | undefined;
  /** While a key is being dispatched: the work it started that is still pending. */
  private keyWork: Promise<void>[] | undefined;
  /** Set while an earlier key's work is pending; keys typed meanwhile wait in heldKeys. */
  private hold: { readonly timer: NodeJS.Timeout } | undefined;
  private readonly heldKeys: KeyPress[] = [];

  private readonly writeEscape: (escape: string) => void;
  /** Where $EDITOR is read from, and $TMUX, which decides how a copy reaches the clipboard. */
  private readonly env: NodeJS.ProcessEnv;

  constructor(o: ControllerOptions) {
    this.engine = o.engine;
    this.keymap = o.keymap;
    this.theme = o.theme;
    this.onExit = o.onExit;
    this.writeEscape = o.writeEscape ?? (() => undefined);
    this.history = o.history ?? new CommandHistory();
    this.messageMs = o.messageMs ?? MESSAGE_MS;
    this.confdir = o.ready.confdir;
    this.terminal = o.terminal ?? NO_TERMINAL;
    this.stopJob = o.stopJob;
    this.env = o.env ?? process.env;
    this.editor = new FlowEditor(this.editHost(this.terminal, this.env));
    this.wholeBodies = new WholeBodies(
      () => this.linesCutoff(),
      FULL_BODY_LIMIT,
      () => this.recontent((s) => s.content?.rendering === true),
      (text) => this.message(text, "error"),
      o.bodyRenderer,
    );
    this.registerLocalCommands();
    for (const opt of LOCAL_OPTIONS) this.localOptions.set(opt.name, opt);
    const options = new Map<string, OptionInfo>();
    for (const opt of o.ready.options) options.set(opt.name, opt);
    this._state = {
      stack: [{ kind: "flowlist", key: this.nextKey++ }],
      overlay: undefined,
      prompt: undefined,
      message: undefined,
      options: this.withLocalOptions(options),
      commands: o.ready.commands,
      viewFilter: options.get("view_filter")?.value ?? "",
      pausedViewFilter: undefined,
      width: o.width ?? 100,
      height: o.height ?? 24,
      listen: o.ready.listen,
      modes: o.ready.modes,
      preview: undefined,
      previewFocused: false,
      replay: { client: 0, server: 0 },
    };
    // -C and -S files start replays before the console does.
    this.scheduleReplayCounts(REPLAY_SETTLE_MS);
    this.reportHistoryProblem();
    this.applyViewOptions();
    this.syncViewport();
    this.router.register(Priority.Editor, (k) => this.editorKey(k));
    this.router.register(Priority.Overlay, (k) => this.overlayKey(k));
    this.router.register(Priority.Screen, (k) => this.screenKey(k));
    this.router.register(Priority.Global, (k) => this.globalKey(k));
    this.unsubscribe.push(this.engine.on((ev) => this.onEvent(ev)));
    this.unsubscribe.push(this.store.subscribe(() => this.onStoreChange()));
    for (const ev of o.initialEvents ?? []) this.onEvent(ev);
  }

  /** Names of the console's own commands, for validating keybindings. */
  static consoleCommandNames(): Set<string> {
    return new Set([...Controller.localCommandNames()].filter((n) => n.startsWith("console.")));
  }

  /** Every command the console runs itself (console.* and the view commands whose state it owns). */
  static localCommandNames(): Set<string> {
    const c = new Controller({
      engine: { request: () => Promise.reject(new Error("no engine")), on: () => () => undefined, shutdown: () => Promise.resolve() },
      ready: { listen: [], modes: [], confdir: "", caCreated: false, caCert: "", options: [], commands: [] },
      keymap: new Keymap([]),
      onExit: () => undefined,
    });
    c.dispose();
    return new Set(c.local.keys());
  }

  dispose(): void {
    for (const u of this.unsubscribe.splice(0)) u();
    void this.wholeBodies.close();
    this.store.dispose();
    clearTimeout(this.replayTimer);
    this.replayTimer = undefined;
    clearTimeout(this.messageTimer);
    clearTimeout(this.hold?.timer);
    this.hold = undefined;
    this.heldKeys.length = 0;
  }

  // ---- state plumbing ----

  get state(): ConsoleState {
    return this._state;
  }

  getState = (): ConsoleState => this._state;

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  private set(patch: Partial<ConsoleState>): void {
    this._state = { ...this._state, ...patch };
    this.syncViewport();
    for (const l of this.listeners) l();
  }

  private top(): Screen {
    return this._state.stack[this._state.stack.length - 1]!;
  }

  private updateScreen<S extends Screen>(key: number, fn: (s: S) => S): void {
    const stack = this._state.stack;
    const i = stack.findIndex((s) => s.key === key);
    if (i < 0) return;
    const next = fn(stack[i] as S);
    if (next === stack[i]) return;
    const copy = stack.slice();
    copy[i] = next;
    this.set({ stack: copy });
  }

  private updateTop<S extends Screen>(fn: (s: S) => S): void {
    this.updateScreen<S>(this.top().key, fn);
  }

  private push(s: Screen): void {
    this.set({ stack: [...this._state.stack, s] });
  }

  /** Rows the given screen scrolls at the current size. */
  bodyRows(kind: ScreenKind = this.top().kind): number {
    const o = this._state.overlay;
    return bodyHeight(kind, mainHeight(this._state.height, o?.kind === "chooser" ? o.choices.length : undefined), this.layoutHeaders());
  }

  private syncViewport(): void {
    const { list } = this.panes();
    this.store.setViewport(list.height / this.listRowLines(list.width));
  }

  /** Lines each flow takes in a list `width` columns wide (`console_flowlist_layout`). */
  listRowLines(width: number): 1 | 2 {
    return flowRowLines(this.option("console_flowlist_layout"), width);
  }

  layout(): ConsoleLayout {
    const v = this.option("console_layout");
    return isLayout(v) ? v : "single";
  }

  /** The flow list's pane and the preview's, at the current size and layout. */
  panes(): ReturnType<typeof splitPanes> {
    const o = this._state.overlay;
    const main = mainHeight(this._state.height, o?.kind === "chooser" ? o.choices.length : undefined);
    return splitPanes(this.layout(), this._state.width, main);
  }

  private previewTimer: ReturnType<typeof setTimeout> | undefined;
  private previewSeq = 0;

  /**
   * A split layout previews the focused flow. Fetched once the focus rests (a held j does not ask
   * the engine for every flow it passes) and again when the flow changes.
   */
  private schedulePreview(): void {
    if (this.layout() === "single") {
      if (this._state.preview) this.set({ preview: undefined, previewFocused: false });
      return;
    }
    const f = this.store.focused();
    const cur = this._state.preview;
    if (f && cur && cur.id === f.id && cur.fetchedFor === f) return;
    if (!f && !cur) return;
    clearTimeout(this.previewTimer);
    this.previewTimer = setTimeout(() => this.loadPreview(), PREVIEW_SETTLE_MS);
    this.previewTimer.unref?.();
  }

  private loadPreview(): void {
    const f = this.store.focused();
    if (!f || this.layout() === "single") {
      this.set({ preview: undefined, previewFocused: false });
      return;
    }
    const prev = this._state.preview;
    const tabs = tabsFor(f);
    // The response is what a preview is for (mitmproxy#3550); then the tab last chosen with Tab.
    const tab = prev ? prev.tab : Math.max(0, tabs.findIndex((t) => t.id === "response"));
    const seq = ++this.previewSeq;
    // The same flow refetched keeps showing what it showed until the new detail comes.
    const screen = prev?.id === f.id ? { ...this.flowViewScreen(f, PREVIEW_KEY, tab), detail: prev.detail, content: prev.content } : this.flowViewScreen(f, PREVIEW_KEY, tab);
    this.set({ preview: screen });
    void this.loadDetail(f.id, BODY_LIMIT, (change) => {
      // A later focus has asked for another flow: this answer is stale.
      if (seq === this.previewSeq && this._state.preview) this.set({ preview: change(this._state.preview) });
    });
  }

  setSize(width: number, height: number): void {
    if (width === this._state.width && height === this._state.height) return;
    const relaid = width !== this._state.width;
    this.set({ width, height });
    this.rewrapFlowViews();
    if (relaid) this.relayoutTextScreens();
  }

  /** Help and data viewers laid out for another width: again for this one (a search hit's row moved, so it goes). */
  private relayoutTextScreens(): void {
    const { stack, width } = this._state;
    if (!stack.some((s) => s.kind === "help")) return;
    this.set({ stack: stack.map((s) => (s.kind === "help" ? { ...s, lines: s.layout(width), highlight: undefined } : s)) });
  }

  message(text: string, level: Message["level"] = "info", more = false, logged = false): void {
    clearTimeout(this.messageTimer);
    const id = ++this.messageId;
    this.set({ message: { text, level, id, more, ...(logged ? { logged } : {}) } });
    this.messageTimer = setTimeout(() => {
      if (this._state.message?.id === id) this.set({ message: undefined });
    }, this.messageMs);
    this.messageTimer.unref?.();
  }

  /**
   * A command's error: the status bar shows it for a few seconds, in one line; the event log keeps
   * it whole, as mitmproxy's does, so a failed save.file in a run of commands can be read later.
   */
  private error(err: unknown): void {
    const text = err instanceof Error ? err.message : String(err);
    const { short, full } = conciseError(text);
    // A message with more than its first line (a filter error's caret line) says where the rest is.
    this.message(short, "error", full !== undefined, true);
    this.logs.append([{ ts: Date.now() / 1000, level: "error", msg: full ?? text }]);
  }

  /** The App's way to redraw everything (Ink's own full repaint). */
  setRepaint(fn: (() => void) | undefined): void {
    this.repaintFn = fn;
  }

  repaint(): void {
    // After a child program had the terminal: it may have left mouse reporting off.
    this.mouseOn = undefined;
    this.syncMouse();
    this.repaintFn?.();
  }

  /** Whether the terminal was last told to report the mouse (undefined: not told since it was handed back). */
  private mouseOn: boolean | undefined = false;

  /** Tells the terminal to report the mouse, or not, as `console_mouse` says. */
  private syncMouse(): void {
    const on = this.option("console_mouse") === "true";
    if (on === this.mouseOn) return;
    this.mouseOn = on;
    this.writeEscape(on ? MOUSE_ON : MOUSE_OFF);
  }

  /** The terminal colours last set (OSC 10/11), or "" when the terminal's own are in use. */
  private colours = "";

  /** `console_palette_transparent` off: the palette's own text and background colours become the terminal's. */
  private syncColours(): void {
    // NO_COLOR asks for no colour at all: the terminal's own stay.
    const opaque = this.option("console_palette_transparent") === "false" && this.theme?.noColor !== true;
    const ground = paletteGround(this.option("console_palette"));
    const want = opaque ? terminalColours(ground.fg, ground.bg) : "";
    if (want === this.colours) return;
    this.writeEscape(want || RESET_COLOURS);
    this.colours = want;
  }

  /** What gives the terminal its own colours back on the way out; "" when they were never changed. */
  terminalRestore(): string {
    return this.colours ? RESET_COLOURS : "";
  }

  /**
   * A mouse report (with `console_mouse` on). The wheel moves as three arrow presses would,
   * wherever the arrows go (over a split layout's preview, it scrolls the preview), except in
   * the prompt, whose arrows walk the history. A click on a flow in the list focuses and opens
   * it, as in mitmproxy.
   */
  mouse(m: MouseReport): void {
    if (this._state.prompt) return;
    const onList = this.top().kind === "flowlist" && !this._state.overlay;
    const { list } = this.panes();
    const inList = m.x <= list.width && m.y <= list.height;
    if (m.kind === "wheel") {
      const preview = this._state.preview;
      // Over a split layout's preview, the wheel scrolls the preview whichever pane has the keys.
      if (onList && preview && !inList) {
        let scroll = preview.scroll;
        for (let i = 0; i < WHEEL_LINES; i++) scroll = this.scrolled(scroll, m.up ? "up" : "down", preview.content?.lines.length ?? 0, this.previewBodyRows());
        this.set({ preview: { ...preview, scroll } });
      } else for (let i = 0; i < WHEEL_LINES; i++) this.key({ name: m.up ? "up" : "down", text: "" });
      return;
    }
    if (m.kind !== "press" || m.button !== 0 || !onList || !inList) return;
    const index = this.store.window().top + Math.floor((m.y - 1) / this.listRowLines(list.width));
    if (index >= this.store.counts().shown) return;
    this.store.focusTo(index);
    const f = this.store.focused();
    if (f) this.openFlow(f.id);
  }

  private exit(error?: Error): void {
    if (this.exited) return;
    this.exited = true;
    this.dispose();
    this.onExit(error);
  }

  // ---- engine events ----

  private onEvent(ev: EngineEvent): void {
    switch (ev.t) {
      case "batch":
        this.store.applyBatch(ev, ev.add.count + ev.update.count > FLOOD_BATCH_ROWS);
        if (ev.logs.length) this.addLogs(ev.logs);
        break;
      case "options": {
        const options = new Map(this._state.options);
        for (const o of ev.changed) options.set(o.name, o);
        this.set({ options, viewFilter: options.get("view_filter")?.value ?? this._state.viewFilter });
        // A filter set by anyone replaces the one the toggle parked. A report of the filter turned
        // off does not: while one is parked the filter is off already, and the engine reports no
        // change that changes nothing, so that report is the toggle's own turning it off.
        if (ev.changed.some((o) => o.name === "view_filter" && o.value !== "")) this.dropParkedViewFilter();
        this.applyViewOptions();
        break;
      }
      case "view":
        this.set({ viewFilter: ev.filter });
        // No filter means every flow is shown; the engine then sends no list at all.
        if (ev.filter === "") this.store.showAll();
        else this.store.applyView(ev.shown);
        break;
      case "fatal":
        this.addLogs([{ ts: Date.now() / 1000, level: "error", msg: `engine failed: ${ev.error}` }]);
        this.exit(new Error(`the engine failed: ${ev.error}`));
        break;
      case "stopped":
        this.exit();
        break;
      case "listening":
        // The status bar's [mode] or [modes:N] follows a `set mode` as the addresses do.
        this.set({ listen: ev.listen, modes: ev.modes });
        break;
      case "ready":
      case "reply":
      // Like mitmproxy's console, the console keeps serving after a read file or a replay.
      case "served":
      // Dump's standard output and live connections; the console's terminal is its screen.
      case "print":
      case "stream":
        break;
    }
  }

  private addLogs(logs: readonly LogEntry[]): void {
    this.logs.append(logs);
    // Like mitmproxy, errors and warnings also flash in the status bar.
    for (let i = logs.length - 1; i >= 0; i--) {
      const l = logs[i]!;
      if (l.level === "error" || l.level === "warn" || l.level === "alert") {
        const first = l.msg.split("\n")[0]!;
        this.message(first, l.level === "error" ? "error" : "warn", first.length < l.msg.length, true);
        break;
      }
    }
  }

  /**
   * The event log as terminal rows: every line of every entry, wrapped at the screen's width. A
   * multi-line entry (a filter error's caret, an addon's stack trace) is what the status bar sends
   * the user here for, so it is shown whole. Scrolling and search count these rows.
   */
  eventLogRows(): readonly LogRow[] {
    const width = this._state.width;
    const verbosity = this.option("console_eventlog_verbosity");
    const c = this.logRowsCache;
    if (c && c.version === this.logs.version && c.width === width && c.verbosity === verbosity) return c.rows;
    const rows: LogRow[] = [];
    let entries = 0;
    for (const e of this.logs.all()) {
      if (!shownAt(e.level, verbosity)) continue;
      entries++;
      // Each entry is wrapped once per width: a batch of new entries does not re-wrap the 10,000 before it.
      let wrapped = this.logEntryWraps.get(e);
      if (wrapped?.width !== width) {
        wrapped = { width, rows: logEntryRows(e, width).map((text, i) => ({ text, level: e.level, wraps: i > 0 })) };
        this.logEntryWraps.set(e, wrapped);
      }
      for (const r of wrapped.rows) rows.push(r);
    }
    this.logRowsCache = { version: this.logs.version, width, verbosity, entries, rows };
    return rows;
  }

  /** How many entries the event log shows at its verbosity (as of the last `eventLogRows`). */
  eventLogEntries(): number {
    return this.logRowsCache?.entries ?? this.logs.size;
  }

  private readonly logEntryWraps = new WeakMap<LogEntry, { width: number; rows: LogRow[] }>();

  private withLocalOptions(engine: Map<string, OptionInfo>): Map<string, OptionInfo> {
    const out = new Map(engine);
    for (const [name, o] of this.localOptions) if (!out.has(name)) out.set(name, o);
    return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  private isLocalOption(name: string): boolean {
    return this.localOptions.has(name) && this._state.options.get(name) === this.localOptions.get(name);
  }

  /** mitmproxy's `console_layout_headers`: the screens' title rows. */
  layoutHeaders(): boolean {
    return this.option("console_layout_headers") !== "false";
  }

  option(name: string): string | undefined {
    return this._state.options.get(name)?.value;
  }

  /** The store follows the view options, wherever they are kept. */
  private applyViewOptions(): void {
    this.syncMouse();
    this.syncColours();
    const order = this.option("view_order") ?? "time";
    if (isOrderKey(order)) this.store.setOrder(order);
    this.store.setReversed(this.option("view_order_reversed") === "true");
    this.store.setFollow(this.option("console_focus_follow") === "true");
    this.schedulePreview();
    // A preview beside the list is narrower than one below it.
    this.rewrapFlowViews();
  }

  private onStoreChange(): void {
    if (this.pendingFocus) this.focusArrived(this.pendingFocus);
    if (this.layout() !== "single" || this._state.preview) this.schedulePreview();
    const top = this.top();
    if (top.kind !== "flowview") return;
    const now = this.store.get(top.id);
    if (now === top.fetchedFor) return;
    if (!now) {
      if (top.fetchedFor) {
        this.set({ stack: this._state.stack.slice(0, -1) });
        this.message("the flow was removed");
      }
      return;
    }
    this.updateScreen<FlowViewScreen>(top.key, (s) => ({ ...s, fetchedFor: now, tabs: tabsFor(now) }));
    this.fetchDetail(top.key);
  }

  // ---- keys ----

  private editorKey(k: KeyPress): boolean {
    const p = this._state.prompt;
    if (p) {
      const b = this.keymap.lookup("prompt", k.name);
      if (b) this.runKey(b.command);
      else if (k.text) this.setPromptLine(le.insert(p.line, p.kind === "command" ? typedText(p.line.value, p.line.cursor, k.text) : k.text));
      return true;
    }
    const top = this.top();
    // A question over an editor (discard the changes?) answers first.
    if (this._state.overlay) return false;
    if (top.kind === "grideditor") return this.editor.gridKey(top, k);
    if (top.kind === "texteditor") return this.editor.textKey(top, k);
    if (top.kind === "options" && top.editing !== undefined) {
      this.optionEditKey(top.editing, k);
      return true;
    }
    return false;
  }

  private overlayKey(k: KeyPress): boolean {
    const o = this._state.overlay;
    if (!o) return false;
    if (o.kind === "confirm") {
      if (k.name === "y" || k.name === "Y") {
        this.set({ overlay: undefined });
        this.track(this.guard(o.onYes()));
      } else if (k.name === "n" || k.name === "N" || k.name === "esc" || k.name === "q" || k.name === "ctrl c") {
        this.set({ overlay: undefined });
      }
      return true;
    }
    const idx = k.text.length === 1 ? CHOOSER_SHORTCUTS.indexOf(k.text) : -1;
    if (idx >= 0 && idx < o.choices.length) {
      this.pick(o, idx);
      return true;
    }
    const b = this.keymap.resolve(["chooser", "global"], k.name);
    if (b) {
      const name = b.command.split(" ")[0]!;
      // Over a chooser only moving, picking, cancelling and quitting make sense.
      if (name.startsWith("console.nav.") || name === "console.view.pop" || name === "console.exit") this.runKey(b.command);
    }
    return true;
  }

  private screenKey(k: KeyPress): boolean {
    const b = this.keymap.lookup(contextOf(this.top()), k.name);
    if (!b) return false;
    this.runKey(b.command);
    return true;
  }

  private globalKey(k: KeyPress): boolean {
    const b = this.keymap.lookup("global", k.name);
    if (!b) return false;
    this.runKey(b.command);
    return true;
  }

  /**
   * Feeds one key press through the router (what Ink's input ends up calling). Keys are handled in
   * the order typed, as if each waited for the one before: while a key's work is pending (`x` asking
   * the engine for the export formats before its chooser opens), later keys are held and replayed
   * when it settles, so `x1` picks the first format even when both keys arrive in one read. A held
   * key counts as consumed.
   */
  key(k: KeyPress): boolean {
    if (this.hold) {
      this.heldKeys.push(k);
      return true;
    }
    return this.dispatch(k);
  }

  /**
   * Text the terminal says was pasted (bracketed paste): typed into the prompt or editor that has
   * the keyboard, a line break as a space in a one-line field and a new line in the body editor.
   * Anywhere else it is not taken as keys: pasting "dzz" over the flow list would have deleted
   * one flow and cleared the rest.
   */
  paste(text: string): void {
    const top = this.top();
    const overlay = this._state.overlay !== undefined;
    const body = !this._state.prompt && !overlay && top.kind === "texteditor";
    const field = this._state.prompt !== undefined || (!overlay && (top.kind === "grideditor" || (top.kind === "options" && top.editing !== undefined)));
    if (!body && !field) {
      this.message("paste ignored: no text field has the keyboard (: opens the command prompt, f the view filter)", "warn");
      return;
    }
    const lines = text.replace(/\r\n?/g, "\n").split("\n");
    // A copied line often brings its line break along: it is not a space to type.
    if (!body && lines.length > 1 && lines.at(-1) === "") lines.pop();
    lines.forEach((line, i) => {
      if (i > 0 && body) this.key({ name: "enter", text: "" });
      const typed = i > 0 && !body ? ` ${line}` : line;
      if (typed !== "") this.key({ name: "paste", text: typed });
    });
  }

  private dispatch(k: KeyPress): boolean {
    const work: Promise<void>[] = [];
    this.keyWork = work;
    let used: boolean;
    try {
      used = this.router.dispatch(k);
    } finally {
      this.keyWork = undefined;
    }
    if (work.length > 0) this.holdUntil(Promise.all(work));
    return used;
  }

  /** Records work the key being dispatched started; outside a dispatch there is nothing to hold. */
  private track(p: Promise<void>): void {
    this.keyWork?.push(p);
  }

  /** Holds later keys until `work` settles or KEY_HOLD_MS passes, whichever is first, then replays them. */
  private holdUntil(work: Promise<unknown>): void {
    const release = () => {
      if (this.hold !== hold) return;
      clearTimeout(hold.timer);
      this.hold = undefined;
      this.replayHeldKeys();
    };
    const hold = { timer: setTimeout(release, KEY_HOLD_MS) };
    hold.timer.unref?.();
    this.hold = hold;
    work.then(release, release);
  }

  private replayHeldKeys(): void {
    // A replayed key may start a hold of its own: the rest then wait for that one.
    while (!this.hold && !this.exited) {
      const k = this.heldKeys.shift();
      if (!k) return;
      this.dispatch(k);
    }
  }

  // ---- running commands ----

  private async guard(p: unknown): Promise<void> {
    try {
      await p;
    } catch (err) {
      this.error(err);
    }
  }

  /**
   * Runs a command line: console and view commands here, the rest in the engine. Errors end up in
   * the status bar, and so does a command's text result (a list only when run from the prompt).
   */
  async run(line: string, fromPrompt = true, focus = this.focusedId()): Promise<void> {
    this.lastCommand = line;
    const busy = this.filterBusy(line);
    try {
      const value = await this.execute(line, focus);
      // `set`'s answer only confirms what was typed (a long filter from `f`): the status line, cut to fit, not a viewer over the list.
      this.showResult(value, fromPrompt && !/^\s*set\s/.test(line));
    } catch (err) {
      this.error(err);
    } finally {
      busy();
    }
  }

  /**
   * A view filter over a few hundred thousand flows takes the engine a while: past FILTER_BUSY_MS
   * the status line says it is filtering (mitmproxy#7694 asks for that) until the engine answers.
   * Returns what ends it; a line that sets no view filter gets a no-op.
   */
  private filterBusy(line: string): () => void {
    if (!setsViewFilter(line)) return () => undefined;
    const timer = setTimeout(() => this.set({ filtering: true }), FILTER_BUSY_MS);
    return () => {
      clearTimeout(timer);
      if (this._state.filtering) this.set({ filtering: false });
    };
  }

  /**
   * A key's command, as run() but without a detour through a promise when the command finishes at
   * once, so that only work that is really pending holds the keys typed after it.
   */
  private runKey(line: string): void {
    this.lastCommand = line;
    let value: unknown;
    try {
      value = this.execute(line, this.focusedId());
    } catch (err) {
      this.error(err);
      return;
    }
    if (isPromiseLike(value)) {
      const done = Promise.resolve(value).then((v: unknown) => this.showResult(v, false), (err: unknown) => this.error(err));
      if (!this.isEngineCommand(line)) this.track(done);
      return;
    }
    this.showResult(value, false);
  }

  /**
   * Whether a command line runs in the engine. Engine commands open nothing in the console, so the
   * keys typed after one are not held for its reply: a `j` after setting a view filter over 100,000
   * flows moves the focus at once instead of waiting for the filter.
   */
  private isEngineCommand(line: string): boolean {
    const [name, arg] = tokenize(line, true);
    return name !== undefined && !name.value.startsWith("console.") && !this.runsHere(name.value, arg?.value);
  }

  /** Whether the console runs this command itself (its own commands and its own options) rather than the engine. */
  private runsHere(name: string, firstArg: string | undefined): boolean {
    return this.local.has(name) || (name === "set" && firstArg !== undefined && this.isLocalOption(firstArg));
  }

  private showResult(value: unknown, fromPrompt: boolean): void {
    if (fromPrompt && this.openDataViewer(value)) return;
    // One line, its line end (a CSV row's CRLF) no part of what the status line says.
    if (typeof value === "string" && value !== "") this.message(value.replace(/\r?\n$/, ""));
    else if (Array.isArray(value) && fromPrompt) this.message(value.join(", "));
  }

  /**
   * A command's value, or a promise of it when the command (or the engine) has work to do.
   * `focus` is the flow `@focus` means: the caller's, since the focus may have moved since the
   * line was begun (a prompt's, with follow mode on).
   */
  private execute(line: string, focus: string | undefined): unknown {
    const toks = tokenize(line);
    const first = toks[0];
    if (!first) return undefined;
    const name = first.value;
    const args = toks.slice(1).map((t) => t.value);
    const rest = line.slice(first.end).replace(/^ /, "");
    if (this.runsHere(name, args[0])) {
      const local = this.local.get(name);
      if (!local) return this.setLocalOption(args[0]!, args.slice(1).join(" "));
      // A command that reads the rest of the line whole said so when added (takesRest).
      checkArgumentCount(local.signature, args, local.takesRest);
      return local.run(args, { rest, focus });
    }
    if (name.startsWith("console.")) throw new Error(`unknown console command "${name}"`);
    // mitmproxy replays a flow in place, so `r` in its flow view shows the answer there. pryx's
    // replay is a new flow: the view goes over to it once it comes, or `r` would seem to do nothing.
    // The engine names the replay it queued; another flow of the same URL is not it.
    const following = name === "replay.client" && args[0] === "@focus" && this.top().kind === "flowview" && focus !== undefined;
    const reply = following ? this.startAndFocus(replaceFocus(line, focus), REPLAY_FOLLOW_MS) : this.engine.request({ op: "command", line: replaceFocus(line, focus) });
    // Gone from the list at once, not when the engine's batch says so: `ddd` typed fast deleted one
    // flow three times. Back in the list if the engine refuses.
    const removed = name === "view.flows.remove" && args[0] === "@focus" && focus !== undefined ? this.store.get(focus) : undefined;
    if (removed) {
      this.store.forget([removed.id]);
      reply.catch(() => this.store.restore(removed));
    }
    // Replay starts and stops by command (r, S, replay.*): the status line learns of it after any.
    reply.then(
      () => this.scheduleReplayCounts(REPLAY_SETTLE_MS),
      () => undefined,
    );
    if (setsViewFilter(line)) reply.then(() => this.dropParkedViewFilter(), () => undefined);
    return reply;
  }

  /**
   * Runs a command line that starts flows (a replay, copies) and focuses the first the engine
   * names once it comes; within `withinMs` only, for a flow that may never come (a replay whose
   * queue was stopped). The reply is what the engine says, as any command's.
   */
  private async startAndFocus(line: string, withinMs = Infinity): Promise<string | undefined> {
    const { said, ids } = await this.engine.request({ op: "start", line });
    const id = ids[0];
    if (id !== undefined) {
      const until = Date.now() + withinMs;
      this.focusArrived(() => (Date.now() > until ? null : this.store.get(id)));
    }
    return said;
  }

  private replayTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Asks the engine for the replay counts in `ms`, and every second while a replay is under way
   * (its count falls as requests go out or recorded responses are used), as mitmproxy's status
   * bar shows them. An engine without the replay commands (a test's) is not asked.
   */
  private scheduleReplayCounts(ms: number): void {
    if (this.exited || !this._state.commands.some((c) => c.name === "replay.client.count")) return;
    clearTimeout(this.replayTimer);
    this.replayTimer = setTimeout(() => void this.refreshReplayCounts(), ms);
    this.replayTimer.unref?.();
  }

  private async refreshReplayCounts(): Promise<void> {
    const count = (line: string): Promise<number> =>
      this.engine.request({ op: "command", line }).then(
        (v) => Number(v) || 0,
        () => 0,
      );
    const [client, server] = await Promise.all([count("replay.client.count"), count("replay.server.count")]);
    const cur = this._state.replay;
    if (cur.client !== client || cur.server !== server) this.set({ replay: { client, server } });
    if (client || server) this.scheduleReplayCounts(1000);
  }

  /**
   * A command's result as a list (for choosers): arrays as they are, text split into lines, and a
   * single line split at commas (the engine's list commands, e.g. export.formats, answer "a,b,c"
   * so that they read on the one-line status bar when run from the prompt).
   */
  private async valueList(line: string): Promise<string[]> {
    const v = await this.execute(line, this.focusedId());
    if (Array.isArray(v)) return v.map(String);
    if (typeof v !== "string") return [];
    const t = v.trim();
    if (t.startsWith("[")) {
      try {
        const parsed = JSON.parse(t) as unknown;
        if (Array.isArray(parsed)) return parsed.map(String);
      } catch {
        // Not JSON after all: fall through to lines.
      }
    }
    const lines = t.split(/\r?\n/);
    const items = lines.length === 1 ? t.split(",") : lines;
    return items.map((s) => s.trim()).filter(Boolean);
  }

  /** The flow `@focus` means: the one in the flow view on top, else the list's focus. */
  focusedId(): string | undefined {
    const stack = this._state.stack;
    for (let i = stack.length - 1; i >= 0; i--) {
      const s = stack[i]!;
      if (s.kind === "flowview") return s.id;
    }
    return this.store.focused()?.id;
  }

  private toggleFullContents(): string {
    const top = this.top();
    if (top.kind !== "flowview") throw new Error("no flow view is open");
    this.updateTop<FlowViewScreen>((s) => this.withContent({ ...s, full: !s.full }));
    // Per flow, as mitmproxy's fullcontents setting: the flow opens whole again next time.
    this.rememberFlowSetting(top.id, "fullcontents", String(!top.full));
    // The whole body is fetched only when some of it is missing: a body kept is one rendered once.
    const d = top.detail;
    if (!top.full && (!d || d.messages.length > 0 || [d.request, d.response].some((m) => m && bodyCut(m)))) this.fetchDetail(top.key);
    return !top.full ? "showing full contents" : "showing the first lines only";
  }

  private rememberFlowSetting(id: string, key: string, value: string): void {
    const settings = this.flowSettings.get(id) ?? new Map<string, string>();
    settings.set(key, value);
    this.flowSettings.set(id, settings);
  }

  /** A flow's view.settings value; fullcontents reads the open flow view's own state. */
  private flowSetting(id: string, key: string): string | undefined {
    const top = this.top();
    if (key === "fullcontents" && top.kind === "flowview" && top.id === id) return String(top.full);
    return this.flowSettings.get(id)?.get(key);
  }

  private setFlowSetting(id: string, key: string, value: string): string {
    if (!key) throw new Error("a setting needs a key, e.g. fullcontents");
    const top = this.top();
    if (key === "fullcontents" && top.kind === "flowview" && top.id === id && top.full !== (value === "true")) return this.toggleFullContents();
    this.rememberFlowSetting(id, key, value);
    return assignmentText(key, value);
  }

  /** commands.history.prev/next: a step through the lines that start with the filter's prefix. */
  private walkHistory(dir: -1 | 1): string {
    const index = this.history.find(this.historyWalk.index, dir, this.historyWalk.prefix);
    this.historyWalk = { ...this.historyWalk, index };
    return this.history.entries[index] ?? "";
  }

  private resolveFlowArg(arg: string | undefined, focus: string | undefined): string {
    if (arg === undefined || arg === "@focus") {
      if (focus === undefined) throw new Error("no flow is in focus");
      return focus;
    }
    if (!this.store.get(arg)) throw new Error(`no flow with id ${arg}`);
    return arg;
  }

  /** One command by name, the console's own over the engine's as in commandList, without building and sorting the whole list (the prompt's hint asks on each repaint). */
  private commandInfo(name: string | undefined): CommandInfo | undefined {
    if (name === undefined) return undefined;
    const local = this.local.get(name);
    return local ? { name, signature: local.signature, help: local.help } : this._state.commands.find((c) => c.name === name);
  }

  commandList(): CommandInfo[] {
    const out = new Map<string, CommandInfo>();
    for (const c of this._state.commands) out.set(c.name, c);
    for (const [name, c] of this.local) out.set(name, { name, signature: c.signature, help: c.help });
    return [...out.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  private refreshCommands(): void {
    this.engine.request({ op: "commands" }).then(
      (commands) => this.set({ commands }),
      () => undefined,
    );
  }

  // ---- options ----

  private setLocalOption(name: string, raw: string): string {
    const o = this.localOptions.get(name)!;
    const text = raw.trim();
    let value: string;
    if (o.type === "bool") {
      const t = text.toLowerCase();
      if (t === "toggle") value = o.value === "true" ? "false" : "true";
      else if (["", "true", "1", "yes", "on"].includes(t)) value = "true";
      else if (["false", "0", "no", "off"].includes(t)) value = "false";
      else throw new Error(`option ${name} expects a boolean, got ${JSON.stringify(raw)}`);
    } else if (o.choices) {
      if (!o.choices.includes(text)) throw new Error(`option ${name} expects one of ${o.choices.join(", ")}, got ${JSON.stringify(raw)}`);
      value = text;
    } else value = raw;
    const next = { ...o, value };
    this.localOptions.set(name, next);
    const options = new Map(this._state.options);
    options.set(name, next);
    this.set({ options });
    this.applyViewOptions();
    return assignmentText(name, value);
  }

  /**
   * A view filter set (or cleared) other than by the toggle replaces the one the toggle parked: by
   * an addon (the engine's options event), a command line (`f`) or the options screen. The last two
   * count even when the value does not change, for which the engine sends no event: `f` emptied while
   * the filter was toggled off cleared nothing, and left `[f off:…]` for T to bring back.
   */
  private dropParkedViewFilter(): void {
    if (this._state.pausedViewFilter !== undefined) this.set({ pausedViewFilter: undefined });
  }

  /** Sets an option through the engine's registry (or the console's own), showing the error if it refuses. */
  async setOption(name: string, value: string): Promise<boolean> {
    try {
      if (this.isLocalOption(name)) {
        this.setLocalOption(name, value);
        return true;
      }
      const info = await this.engine.request({ op: "setOption", name, value });
      const options = new Map(this._state.options);
      options.set(info.name, info);
      this.set({ options });
      this.applyViewOptions();
      return true;
    } catch (err) {
      this.error(err);
      return false;
    }
  }

  optionList(): OptionInfo[] {
    return [...this._state.options.values()];
  }

  private async refreshOptions(): Promise<void> {
    try {
      const all = await this.engine.request({ op: "options" });
      const m = new Map<string, OptionInfo>();
      for (const o of all) m.set(o.name, o);
      this.set({ options: this.withLocalOptions(m) });
    } catch {
      // The options from `ready` and later events are still there.
    }
  }

  private focusedOption(): OptionInfo | undefined {
    const top = this.top();
    if (top.kind !== "options") return undefined;
    return this.optionList()[top.focus];
  }

  async submitOptionEdit(name: string, value: string): Promise<void> {
    const ok = await this.setOption(name, value);
    if (ok && name === "view_filter") this.dropParkedViewFilter();
    if (ok) {
      const top = this.top();
      if (top.kind === "options" && top.editing?.name === name) this.updateTop<ListScreen>((s) => ({ ...s, editing: undefined }));
      this.message(assignmentText(name, this.option(name) ?? value));
    }
  }

  cancelOptionEdit(): void {
    this.updateTop<ListScreen>((s) => (s.kind === "options" ? { ...s, editing: undefined } : s));
  }

  private editFocusedOption(): void {
    const o = this.focusedOption();
    if (!o) return;
    if (o.type === "bool") {
      void this.setOption(o.name, o.value === "true" ? "false" : "true");
      return;
    }
    if (o.choices?.length) {
      this.choose(`Set ${o.name}`, o.choices, o.value, (c) => this.setOption(o.name, c).then(() => undefined));
      return;
    }
    this.updateTop<ListScreen>((s) => ({ ...s, editing: { name: o.name, line: le.line(o.value) } }));
  }

  /**
   * The in-place editor answers the prompt's keys, one key press at a time: a paste or a fast
   * typist's "value + Enter" arrives as one chunk, which must submit rather than become part of the value.
   */
  private optionEditKey(edit: OptionEdit, k: KeyPress): void {
    const r = lineKey(this.keymap, k, edit.line);
    if (r.kind === "line") this.setOptionEdit({ name: edit.name, line: r.line });
    else if (r.kind === "submit") this.track(this.submitOptionEdit(edit.name, edit.line.value));
    else if (r.kind === "abort") this.cancelOptionEdit();
    else if (r.kind === "complete") this.track(this.completeOptionEdit(edit));
  }

  /**
   * Tab in an option's value completes it by the option's type as `:set` does (a filter's
   * operator, a path, a choice, a bool): one that fits is filled in; several are cycled through,
   * listed in the status line. The value is the option's own text, not a command's argument:
   * nothing in it is quoted.
   */
  private async completeOptionEdit(edit: OptionEdit): Promise<void> {
    const asTyped = (candidate: string) => candidate;
    const again = cycleCompletion(edit.line, edit.completion, 1, asTyped);
    if (again) {
      this.setOptionEdit({ name: edit.name, line: again.line, completion: again.cycle });
      return;
    }
    const o = this._state.options.get(edit.name);
    const found = o && (await completeOptionValue(o, edit.line.value, edit.line.cursor));
    if (!found) {
      if (o?.type === "filter") this.message("Tab completes a filter operator after ~", "info");
      return;
    }
    const top = this.top();
    // A directory read takes a moment: a value typed on or an editor closed meanwhile stays as it is.
    if (top.kind !== "options" || top.editing?.name !== edit.name || top.editing.line !== edit.line) return;
    const tab = firstCompletion(edit.line, found, 1, asTyped);
    this.setOptionEdit({ name: edit.name, line: tab.line, completion: tab.cycle });
    if (tab.hint) this.message(tab.hint, "info");
  }

  /** The options screen's in-place editor on `edit`, while it is still editing that option. */
  private setOptionEdit(edit: OptionEdit): void {
    this.updateTop<ListScreen>((s) => (s.kind === "options" && s.editing?.name === edit.name ? { ...s, editing: edit } : s));
  }

  // ---- overlays ----

  choose(title: string, choices: readonly string[], current: string | undefined, onPick: (c: string) => void | Promise<void>): void {
    if (choices.length === 0) {
      this.message(`${title}: nothing to choose from`, "warn");
      return;
    }
    const focus = Math.max(0, current === undefined ? 0 : choices.indexOf(current));
    this.set({ overlay: { kind: "chooser", title, choices, focus, current, onPick } });
  }

  confirm(prompt: string, onYes: () => void | Promise<void>): void {
    this.set({ overlay: { kind: "confirm", prompt, onYes } });
  }

  private pick(o: ChooserOverlay, idx: number): void {
    this.set({ overlay: undefined });
    const c = o.choices[idx];
    if (c !== undefined) this.track(this.guard(o.onPick(c)));
  }

  // ---- prompt ----

  openPrompt(text: string, cursor = text.length, kind: PromptState["kind"] = "command"): void {
    this.set({
      prompt: {
        kind,
        label: kind === "search" ? "Search for: " : ": ",
        line: le.line(text, cursor),
        completion: undefined,
        history: undefined,
        hint: undefined,
        focusAtOpen: kind === "command" ? this.focusedId() : undefined,
      },
    });
    if (kind === "command") this.refreshCommands();
  }

  /** The prompt on a flow's value (as mitmproxy's `flow.set @focus method `), handing the text to onSubmit. */
  openValuePrompt(label: string, value: string, onSubmit: (text: string) => Promise<void>): void {
    this.set({ prompt: { kind: "edit", label, line: le.line(value), completion: undefined, history: undefined, hint: undefined, onSubmit } });
  }

  private setPromptLine(line: le.LineState): void {
    const p = this._state.prompt;
    if (!p) return;
    this.set({ prompt: { ...p, line, completion: undefined, history: undefined, hint: undefined } });
  }

  private async submitPrompt(): Promise<void> {
    const p = this._state.prompt;
    if (!p) return;
    this.set({ prompt: undefined });
    const text = p.line.value;
    if (p.kind === "search") {
      if (text !== "") this.searchTerm = text;
      this.search(false, true);
      return;
    }
    if (p.kind === "edit") {
      await this.guard(p.onSubmit?.(text));
      return;
    }
    const line = text.trim();
    if (line === "") return;
    // What an earlier command said is not this one's: a success that says nothing leaves no old error up.
    if (this._state.message) this.set({ message: undefined });
    this.history.add(line);
    this.reportHistoryProblem();
    const running = this.run(line, true, this.promptFocus(p));
    // Only a console command's work holds the keys typed after Enter (see isEngineCommand).
    if (!this.isEngineCommand(line)) await running;
  }

  /** A history file that could not be read or written: said once, and the console goes on without it. */
  private reportHistoryProblem(): void {
    const problem = this.history.takeProblem();
    if (problem) this.message(problem, "error");
  }

  private historyStep(dir: -1 | 1): void {
    const p = this._state.prompt;
    if (!p || p.kind !== "command") return;
    const lines = this.history.entries;
    // What is before the cursor: `f` opens `set view_filter '…'` with the cursor inside the
    // quotes, so up recalls earlier filters whatever the current one is.
    const prefix = p.history?.prefix ?? p.line.value.slice(0, p.line.cursor);
    const draft = p.history?.draft ?? p.line;
    const i = this.history.find(p.history?.index ?? lines.length, dir, prefix);
    if (i < 0) return;
    if (i >= lines.length) {
      this.set({ prompt: { ...p, line: draft, history: undefined, completion: undefined } });
      return;
    }
    this.set({ prompt: { ...p, line: le.line(lines[i]!), history: { index: i, prefix, draft }, completion: undefined } });
  }

  /** The flow `@focus` means on a prompt's line: the one focused when it opened, while that flow is still there. */
  private promptFocus(p: PromptState | undefined): string | undefined {
    return p?.focusAtOpen !== undefined && this.store.get(p.focusAtOpen) ? p.focusAtOpen : this.focusedId();
  }

  private editableParts(): string[] {
    try {
      // Completed on the prompt: the parts of the flow its command will edit.
      return this.editor.options(this.promptFocus(this._state.prompt));
    } catch {
      // No flow in focus: nothing to edit, so nothing to offer.
      return [];
    }
  }

  /**
   * The parameters still to give after what is typed (mitmproxy's prompt draws them after the
   * cursor): `cut.save ` hints `flows cuts path`. Empty for no known command, or all given.
   */
  argumentHint(line: string): string {
    let words: string[];
    try {
      words = tokenize(line, true).map((t) => t.value);
    } catch {
      return "";
    }
    const cmd = this.commandInfo(words[0]);
    if (!cmd) return "";
    // Every word after the command counts as given, the one being typed too: the hint goes on from the next.
    return cmd.signature.trim().split(/\s+/).slice(words.length).join(" ");
  }

  /** Parameters whose values depend on the session, by their name in signatures: option names, the focused flow's editable parts. */
  private readonly sessionValues: Record<string, () => readonly string[]> = {
    option: () => [...this._state.options.keys()],
    flowpart: () => this.editableParts(),
    cmd: () => this.commandList().map((c) => c.name),
    contexts: () => CONTEXTS,
  };

  /**
   * Completion candidates for the word at the cursor: command names, option names, option values,
   * files for a command's `path` parameter, else the engine's.
   */
  async completions(value: string, cursor: number): Promise<Completions> {
    const w = wordAt(value, cursor);
    const words = tokenize(value.slice(0, cursor), true).map((t) => t.value);
    const startsWith = (xs: Iterable<string>) => [...new Set(xs)].filter((x) => x.startsWith(w.value)).sort();
    const cmd = w.index > 0 ? this.commandInfo(words[0]) : undefined;
    if (cmd && signatureParam(cmd.signature, w.index - 1) === "path") {
      return { start: w.start, end: w.end, candidates: await completePath(w.value), typed: w.value, paths: true };
    }
    const param = cmd ? signatureParam(cmd.signature, w.index - 1) : undefined;
    if (this.isFilterArgument(words, w.index, param)) {
      const ops = completeOperator(value, w.start, cursor);
      if (ops) return ops;
    }
    let candidates: string[] = [];
    // An argument of a kind with known values: an export format, cut specs (the one after the
    // last comma of a list of them), a bool.
    const known = param === undefined ? undefined : (this.sessionValues[param]?.() ?? PARAM_VALUES[param]);
    if (known) {
      const head = param === "cuts" ? w.value.slice(0, w.value.lastIndexOf(",") + 1) : "";
      candidates = startsWith(known.map((v) => head + v));
    } else if (w.index === 0) candidates = startsWith(this.commandList().map((c) => c.name));
    else if (words[0] === "set" && w.index === 2) {
      const o = this._state.options.get(words[1] ?? "");
      const found = o && (await completeOptionValue(o, w.value, w.value.length));
      if (found) return asWholeWord(w, found);
    } else if (w.value.startsWith("@")) candidates = startsWith(FLOW_SPECS);
    if (candidates.length === 0) {
      try {
        candidates = startsWith(await this.engine.request({ op: "completions", partial: value.slice(0, cursor) }));
      } catch {
        candidates = [];
      }
    }
    return { start: w.start, end: w.end, candidates, typed: w.value, paths: false };
  }

  private isFilterOption(name: string): boolean {
    return this._state.options.get(name)?.type === "filter";
  }

  /** Whether argument `index` of a line is a filter: a filter option's value, or a command's filter or flows (a filter names flows). */
  private isFilterArgument(words: readonly string[], index: number, param: string | undefined): boolean {
    if (words[0] === "set") return index >= 2 && this.isFilterOption(words[1] ?? "");
    return param === "filter" || param === "flows" || param === "flow";
  }

  private async complete(dir: 1 | -1): Promise<void> {
    const p = this._state.prompt;
    if (!p || p.kind !== "command") return;
    const again = cycleCompletion(p.line, p.completion, dir, quoteArg);
    if (again) {
      this.set({ prompt: { ...p, line: again.line, completion: again.cycle } });
      return;
    }
    const found = await this.completions(p.line.value, p.line.cursor);
    const now = this._state.prompt;
    if (!now || now.line !== p.line) return;
    const tab = firstCompletion(now.line, found, dir, quoteArg);
    this.set({ prompt: { ...now, line: tab.line, completion: tab.cycle, hint: tab.hint } });
  }

  // ---- navigation ----

  private nav(what: "up" | "down" | "pageup" | "pagedown" | "start" | "end" | "left" | "right" | "next" | "prev" | "select"): void {
    const o = this._state.overlay;
    if (o?.kind === "chooser") {
      if (what === "select") return this.pick(o, o.focus);
      const n = o.choices.length;
      const page = Math.max(1, this.bodyRows("flowlist"));
      const focus =
        what === "up" ? o.focus - 1 : what === "down" ? o.focus + 1 : what === "pageup" ? o.focus - page : what === "pagedown" ? o.focus + page : what === "start" ? 0 : what === "end" ? n - 1 : o.focus;
      this.set({ overlay: { ...o, focus: clamp(focus, 0, n - 1) } });
      return;
    }
    const top = this.top();
    const rows = this.bodyRows(top.kind);
    switch (top.kind) {
      case "grideditor":
        this.editor.gridNav(top, what);
        return;
      case "texteditor":
        return;
      case "flowlist": {
        const s = this.store;
        const { list } = this.panes();
        const page = Math.max(1, Math.floor(list.height / this.listRowLines(list.width)));
        const preview = this._state.preview;
        // With a split layout, Tab and left/right switch the preview's tab, as in the flow view.
        if (preview && (what === "next" || what === "right" || what === "left" || what === "prev")) {
          const d = what === "next" || what === "right" ? 1 : -1;
          this.set({ preview: this.withContent({ ...preview, tab: (preview.tab + d + preview.tabs.length) % preview.tabs.length, scroll: 0 }) });
          return;
        }
        // The preview pane has the keys: the movement keys scroll it, as in the flow view.
        if (preview && this._state.previewFocused && what !== "select") {
          const count = preview.content?.lines.length ?? 0;
          this.set({ preview: { ...preview, scroll: this.scrolled(preview.scroll, what, count, this.previewBodyRows()) } });
          return;
        }
        if (what === "up") s.focusBy(-1);
        else if (what === "down") s.focusBy(1);
        else if (what === "pageup") s.focusBy(-page);
        else if (what === "pagedown") s.focusBy(page);
        else if (what === "start") s.focusTo(0);
        else if (what === "end") s.focusTo(s.size - 1);
        else if (what === "select") {
          const f = s.focused();
          if (f) this.openFlow(f.id);
        }
        return;
      }
      case "flowview": {
        if (what === "next" || what === "right" || what === "left" || what === "prev") {
          const d = what === "next" || what === "right" ? 1 : -1;
          this.updateTop<FlowViewScreen>((s) => {
            const tab = (s.tab + d + s.tabs.length) % s.tabs.length;
            this.lastFlowTab = tab;
            return this.withContent({ ...s, tab, scroll: 0, highlight: undefined });
          });
          return;
        }
        const count = top.content?.lines.length ?? 0;
        this.updateTop<FlowViewScreen>((s) => ({ ...s, scroll: this.scrolled(s.scroll, what, count, rows) }));
        return;
      }
      case "help": {
        this.updateTop<TextScreen>((s) => ({ ...s, scroll: this.scrolled(s.scroll, what, s.lines.length, rows) }));
        return;
      }
      case "eventlog": {
        const count = this.eventLogRows().length;
        this.updateTop<EventLogScreen>((s) => {
          const from = s.follow ? Math.max(0, count - rows) : s.scroll;
          const scroll = this.scrolled(from, what, count, rows);
          return { ...s, scroll, follow: scroll >= Math.max(0, count - rows) };
        });
        return;
      }
      case "options":
      case "commands":
      case "keybindings": {
        if (what === "select") return this.selectListItem(top);
        const count = top.kind === "options" ? this._state.options.size : top.kind === "commands" ? this.commandList().length : this.keymap.all().length;
        const focus = clamp(
          what === "up" ? top.focus - 1 : what === "down" ? top.focus + 1 : what === "pageup" ? top.focus - rows : what === "pagedown" ? top.focus + rows : what === "start" ? 0 : what === "end" ? count - 1 : top.focus,
          0,
          Math.max(0, count - 1),
        );
        this.updateTop<ListScreen>((s) => ({ ...s, focus, top: calcTop({ count, height: rows, focus, top: s.top }) }));
        return;
      }
    }
  }

  /** The preview pane's body rows, as PreviewPane lays it out (its rule takes a row below the list). */
  private previewBodyRows(): number {
    const pane = this.panes().preview;
    if (!pane) return 1;
    return bodyHeight("flowview", this.layout() === "horizontal" ? pane.height : pane.height - 1);
  }

  /** ctrl right / ctrl left (mitmproxy's console.panes.next/prev): the keys go to the other pane of a split layout. */
  private switchPane(): void {
    if (this.layout() === "single" || !this._state.preview) {
      this.message("one pane only: - splits the screen with a preview of the focused flow");
      return;
    }
    this.set({ previewFocused: !this._state.previewFocused });
  }

  private scrolled(scroll: number, what: string, count: number, rows: number): number {
    const step = what === "up" ? -1 : what === "down" ? 1 : what === "pageup" ? -Math.max(1, rows - 1) : what === "pagedown" ? Math.max(1, rows - 1) : 0;
    if (what === "start") return 0;
    if (what === "end") return clampScroll(count, count, rows);
    return clampScroll(scroll + step, count, rows);
  }

  private selectListItem(top: ListScreen): void {
    if (top.kind === "options") return this.editFocusedOption();
    if (top.kind === "commands") {
      const c = this.commandList()[top.focus];
      if (c) this.openPrompt(`${c.name} `);
      return;
    }
    this.editFocusedBinding();
  }

  /** mitmproxy's console.key.edit.focus: the focused binding as a `console.key.bind` line to change. */
  private editFocusedBinding(): void {
    const top = this.top();
    if (top.kind !== "keybindings") return;
    const b = this.keymap.all()[top.focus];
    if (b) this.openPrompt(`console.key.bind ${b.context} ${quoteArg(b.key)} ${b.command}`);
  }

  /** Whether a command name is one the console or the engine (addons included) has. */
  private knownCommand = (name: string): boolean => this.local.has(name) || this._state.commands.some((c) => c.name === name);

  /** `console.key.bind contexts key command...`: contexts comma-separated, as mitmproxy's list argument. */
  private bindKey(args: string[]): string {
    const [contexts, key, ...command] = args;
    if (!contexts || !key || command.length === 0) throw new Error("usage: console.key.bind contexts key command [args...]");
    // The command's words quoted again as typed ('Delete all flows' stays one argument); one word is the whole command line.
    const line = command.length === 1 ? (command[0] as string) : joinArgs(command);
    let bindings: Binding[];
    try {
      bindings = parseBindings([{ key, context: contexts.split(","), command: line, help: "" }], "console.key.bind", (n) => this.local.has(n), this.knownCommand);
    } catch (err) {
      if (!(err instanceof KeymapError)) throw err;
      // Said of the key typed, not of "entry 0" of a file there is none of.
      const why = err.problems.map((p) => p.replace(/^console\.key\.bind: entry 0( \(key "[^"]*"\))?: /, "")).join("; ");
      const quoting = /cannot parse key/.test(why) ? ` (a key of several words is quoted: console.key.bind ${contexts} 'ctrl x' ${line})` : "";
      throw new Error(`cannot bind ${key} in ${contexts}: ${why}${quoting}`);
    }
    // No help of its own, as mitmproxy's: the key bindings screen and `?` show its command.
    for (const b of bindings) this.keymap.bind(b);
    this.set({});
    return `bound ${displayKey(bindings[0]!.key)} in ${contexts} to ${line}`;
  }

  /**
   * mitmproxy's console.keymap.load: a keybindings file's entries over the session's, checked as at
   * start-up; without a file, the confdir's keybindings.json and keys.yaml, as at start-up.
   */
  private loadKeymapFile(file: string | undefined): string {
    const targets = file ? [expandHome(file)] : userKeymapFiles(this.confdir);
    const read = targets.map((target) => ({ target, bindings: readBindingsFile(target, (n) => this.local.has(n), this.knownCommand) }));
    const found = read.filter((r) => r.bindings !== undefined);
    if (found.length === 0) throw new Error(`${targets.join(" or ")}: no such file`);
    for (const r of found) for (const b of r.bindings ?? []) this.keymap.bind(b);
    this.set({});
    const count = found.reduce((n, r) => n + (r.bindings?.length ?? 0), 0);
    return `loaded ${count} key binding${count === 1 ? "" : "s"} from ${found.map((r) => r.target).join(" and ")}`;
  }

  private unbindKey(contexts: string, key: string): string {
    const spec = parseKeySpec(key);
    const gone = contexts.split(",").filter((c) => {
      if (!isContext(c)) throw new Error(`unknown context ${JSON.stringify(c)} (known: ${CONTEXTS.join(", ")})`);
      return this.keymap.unbind(c, spec);
    });
    if (gone.length === 0) throw new Error(`${displayKey(spec)} is not bound in ${contexts}`);
    // The key bindings screen keeps its focus on a row that is still there.
    const last = this.keymap.all().length - 1;
    if (this.top().kind === "keybindings") this.updateTop<ListScreen>((t) => ({ ...t, focus: Math.max(0, Math.min(t.focus, last)) }));
    this.set({});
    return `unbound ${displayKey(spec)} in ${gone.join(",")}`;
  }

  // ---- screens ----

  /** A flow view of `f` (the stack's, or the split layout's preview) before its detail arrives; `tab` is clamped to its tabs. */
  private flowViewScreen(f: FlowSummary, key: number, tab: number): FlowViewScreen {
    const tabs = tabsFor(f);
    return { kind: "flowview", key, id: f.id, fetchedFor: f, tabs, tab: tab < tabs.length ? tab : 0, scroll: 0, modes: this.viewModes.get(f.id) ?? {}, full: this.flowSettings.get(f.id)?.get("fullcontents") === "true", detail: undefined, loading: true, error: undefined, content: undefined, highlight: undefined };
  }

  openFlow(id: string): void {
    const f = this.store.get(id);
    if (!f) {
      this.message(`no flow with id ${id}`, "error");
      return;
    }
    const prev = this._state.stack.find((s): s is FlowViewScreen => s.kind === "flowview");
    // Keep the tab the user was on when stepping to the next flow, or the one the preview shows.
    const tab = prev ? prev.tab : this._state.preview?.id === id ? this._state.preview.tab : this.lastFlowTab;
    const screen = this.flowViewScreen(f, this.nextKey++, tab);
    const top = this.top();
    if (top.kind === "flowview") this.set({ stack: [...this._state.stack.slice(0, -1), screen] });
    else this.push(screen);
    this.fetchDetail(screen.key);
  }

  private fetchDetail(key: number): void {
    const sc = this._state.stack.find((s) => s.key === key);
    if (!sc || sc.kind !== "flowview") return;
    if (this.inflight.has(key)) {
      this.refetch.add(key);
      return;
    }
    this.inflight.add(key);
    void this.loadDetail(sc.id, sc.full ? FULL_BODY_LIMIT : BODY_LIMIT, (change) => this.updateScreen<FlowViewScreen>(key, change)).finally(() => {
      this.inflight.delete(key);
      if (this.refetch.delete(key)) this.fetchDetail(key);
    });
  }

  /**
   * Asks the engine for a flow's detail; `apply` gets the change to make to whichever screen
   * shows the flow (a flow view, or the split layout's preview).
   */
  private loadDetail(id: string, bodyLimit: number, apply: (change: (s: FlowViewScreen) => FlowViewScreen) => void): Promise<void> {
    return this.engine.request({ op: "detail", id, bodyLimit }).then(
      (detail) => apply((s) => this.withContent({ ...s, detail: detail ?? s.detail, loading: false, error: detail ? undefined : "the engine no longer has this flow" })),
      (err: unknown) => apply((s) => ({ ...s, loading: false, error: err instanceof Error ? err.message : String(err) })),
    );
  }

  /** Recomputes the current tab's lines (on a new detail, tab or view mode). */
  private withContent(s: FlowViewScreen): FlowViewScreen {
    if (!s.detail) return s;
    const tab = s.tabs[s.tab] ?? s.tabs[0]!;
    const content = tabContent(tab.id, s.detail, {
      mode: s.modes[tab.id] ?? this.defaultViewMode(),
      maxLines: s.full ? Infinity : this.linesCutoff(),
      glyphs: this.theme?.glyphs ?? UNICODE_GLYPHS,
      width: this.flowViewWidth(s),
      schemaFor: this.schemaFor,
      render: this.wholeBodies.render,
    });
    const rows = s.key === PREVIEW_KEY ? this.previewBodyRows() : this.bodyRows("flowview");
    // Wrapped for another width (a resize), the view stays at the line it began at.
    const rewrapped = s.content !== undefined && s.content.wrapped?.width !== content.wrapped?.width;
    const scroll = rewrapped ? sameLineRow(s.content?.wrapped, content.wrapped, s.scroll) : s.scroll;
    return { ...s, content, scroll: clampScroll(scroll, content.lines.length, rows), highlight: rewrapped ? undefined : s.highlight };
  }

  /** The columns a flow view's lines have: the screen's, or the preview pane's, less its rule beside the list. */
  private flowViewWidth(s: FlowViewScreen): number {
    if (s.key !== PREVIEW_KEY) return this._state.width;
    const pane = this.panes().preview;
    if (!pane) return this._state.width;
    return this.layout() === "horizontal" ? Math.max(1, pane.width - 1) : pane.width;
  }

  /** content_view_lines_cutoff: the lines of a body shown until `f`. */
  private linesCutoff(): number {
    return Number(this.option("content_view_lines_cutoff") ?? DEFAULT_MAX_LINES) || DEFAULT_MAX_LINES;
  }

  /** After a resize or a new layout, flow views wrapped for another width are wrapped again. */
  private rewrapFlowViews(): void {
    this.recontent((s) => s.content !== undefined && s.content.wrapped?.width !== this.flowViewWidth(s));
  }

  /** Computes the lines again of the flow views (on the stack, and the preview) that `stale` picks. */
  private recontent(stale: (s: FlowViewScreen) => boolean): void {
    const pick = (s: Screen | undefined): s is FlowViewScreen => s?.kind === "flowview" && stale(s);
    const { stack, preview } = this._state;
    if (!stack.some(pick) && !pick(preview)) return;
    this.set({ stack: stack.map((s) => (pick(s) ? this.withContent(s) : s)), preview: pick(preview) ? this.withContent(preview) : preview });
  }

  private defaultViewMode(): ViewName {
    const v = this.option("console_default_contentview");
    return v && (VIEW_NAMES as readonly string[]).includes(v) ? (v as ViewName) : "auto";
  }

  /** The normal screen and cooked mode for the shell while stopped; the console again once continued. */
  private suspend(): void {
    const stop = this.stopJob;
    if (!stop) throw new Error("console.suspend: pryx has no terminal of its own here to give back to a shell");
    this.terminal.run(stop);
  }

  private pop(): void {
    if (this._state.overlay) {
      this.set({ overlay: undefined });
      return;
    }
    const top = this.top();
    // Leaving the grid writes it back; the editor closes the screen once the engine has taken it.
    if (top.kind === "grideditor") {
      this.track(this.guard(this.editor.leaveGrid(top)));
      return;
    }
    const stack = this._state.stack;
    if (stack.length > 1) {
      this.set({ stack: stack.slice(0, -1) });
      // A flow view that was under another screen may have missed changes to its flow.
      this.onStoreChange();
      return;
    }
    this.askToQuit();
  }

  private askToQuit(): void {
    this.confirm(`Quit pryx?${this.pausedOnExit()}`, () => this.exit());
  }

  /** What the quit prompt says of paused flows, which quitting kills or resumes (intercept_on_exit). */
  private pausedOnExit(): string {
    const paused = this.store.counts().intercepted;
    if (paused === 0) return "";
    return ` ${paused === 1 ? "1 paused flow" : `${paused} paused flows`} will be ${this.option("intercept_on_exit") === "resume" ? "resumed" : "killed"}.`;
  }

  private openHelp(): void {
    const under = this.top();
    const context = contextOf(under);
    const layout = (width: number): readonly Line[] => helpLines(this.keymap, context === "help" ? "flowlist" : context, width);
    this.push({ kind: "help", key: this.nextKey++, title: "Help", lines: layout(this._state.width), layout, scroll: 0, highlight: undefined });
  }

  /**
   * mitmproxy's data viewer: a result typed at the prompt that the status line cannot hold (more
   * than one line, or wider than the screen) opens as a screen of its own, scrolled and searched
   * as help is, and `q` goes back. Returns whether it opened.
   */
  private openDataViewer(value: unknown): boolean {
    // CRLF too: a raw HTTP export's lines end so.
    const lines = typeof value === "string" ? value.replace(/\r?\n$/, "").split(/\r?\n/) : Array.isArray(value) ? value.map(String) : undefined;
    if (!lines) return false;
    const shown = typeof value === "string" ? value : lines.join(", ");
    if (shown.length <= Math.max(1, this._state.width) && (typeof value !== "string" || lines.length === 1)) return false;
    // Long lines wrap at the screen's width, between words where they can: the viewer does not scroll sideways.
    const layout = (width: number): readonly Line[] => lines.flatMap((l) => wrapColumns(sanitize(l), Math.max(1, width), Math.max(1, width)).map((text): Line => [{ text }]));
    this.push({ kind: "help", key: this.nextKey++, title: "Data viewer", lines: layout(this._state.width), layout, scroll: 0, highlight: undefined });
    return true;
  }

  /** Opens a screen, or goes back to it if it is already open, so the stack does not grow without end. */
  private openSingleton(kind: "options" | "commands" | "keybindings" | "eventlog"): void {
    const stack = this._state.stack;
    const i = stack.findIndex((s) => s.kind === kind);
    if (i >= 0) {
      this.set({ stack: [...stack.slice(0, i), ...stack.slice(i + 1), stack[i]!] });
      return;
    }
    if (kind === "eventlog") this.push({ kind, key: this.nextKey++, follow: true, scroll: 0, highlight: undefined });
    else this.push({ kind, key: this.nextKey++, focus: 0, top: 0, editing: undefined });
  }

  // ---- search ----

  /** What `/` searches: the screen's rows, and which of them go on into the next (one line wrapped). */
  private searchable(): { lines: LineList; from: number; continues?: (row: number) => boolean } | undefined {
    const top = this.top();
    if (top.kind === "flowview" && top.content) {
      const owner = top.content.wrapped?.lineOfRow;
      return { lines: top.content.lines, from: top.highlight ?? top.scroll - 1, ...(owner ? { continues: (row: number) => owner[row + 1] === owner[row] } : {}) };
    }
    if (top.kind === "help") return { lines: top.lines, from: top.highlight ?? top.scroll - 1 };
    if (top.kind === "eventlog") {
      const logRows = this.eventLogRows();
      const lines = logRows.map((r) => [{ text: r.text }]);
      const rows = this.bodyRows("eventlog");
      const scroll = top.follow ? Math.max(0, lines.length - rows) : top.scroll;
      return { lines, from: top.highlight ?? scroll - 1, continues: (row) => logRows[row + 1]?.wraps === true };
    }
    return undefined;
  }

  private search(backwards: boolean, fresh = false): void {
    const t = this.searchable();
    if (!t) return;
    if (!this.searchTerm) {
      this.message("no search term: press / first", "warn");
      return;
    }
    const from = fresh ? this.scrollOf(this.top()) - 1 : t.from;
    const hit = searchLines(t.lines, this.searchTerm, from, backwards, t.continues);
    if (hit === undefined) {
      // A body shown only in part (content_view_lines_cutoff, the first megabyte) is searched as shown: say so, and how to search all of it.
      const top = this.top();
      const cut = top.kind === "flowview" && !top.full && top.content?.cut === true;
      this.message(`not found: ${this.searchTerm}${cut ? " (in what is shown; f shows all)" : ""}`, "warn");
      return;
    }
    // A found term clears what an earlier search said.
    if (this._state.message?.text.startsWith("not found: ")) this.set({ message: undefined });
    const rows = this.bodyRows();
    const count = t.lines.length;
    this.updateTop((s) => {
      if (s.kind !== "flowview" && s.kind !== "help" && s.kind !== "eventlog") return s;
      const cur = this.scrollOf(s);
      const scroll = hit >= cur && hit < cur + rows ? cur : clampScroll(hit - Math.floor(rows / 3), count, rows);
      const match = this.searchTerm;
      return s.kind === "eventlog" ? { ...s, highlight: hit, scroll, follow: false, match } : { ...s, highlight: hit, scroll, match };
    });
  }

  private scrollOf(s: Screen): number {
    if (s.kind === "eventlog") return s.follow ? Math.max(0, this.eventLogRows().length - this.bodyRows("eventlog")) : s.scroll;
    if (s.kind === "flowview" || s.kind === "help") return s.scroll;
    return 0;
  }

  // ---- editing flows ----

  private editHost(terminal: TerminalHandover, env: NodeJS.ProcessEnv): EditHost {
    return {
      engine: this.engine,
      keymap: this.keymap,
      terminal,
      env,
      summary: (id) => this.store.get(id),
      message: (text, level) => this.message(text, level),
      confirm: (prompt, onYes) => this.confirm(prompt, onYes),
      choose: (title, choices, current, onPick) => this.choose(title, choices, current, onPick),
      prompt: (label, value, onSubmit) => this.openValuePrompt(label, value, onSubmit),
      newKey: () => this.nextKey++,
      push: (screen) => this.push(screen),
      update: <S extends EditScreen>(key: number, fn: (s: S) => S) => this.updateScreen<S>(key, fn),
      close: (key) => this.closeScreen(key),
      option: (name) => this.option(name),
      rows: (kind) => this.bodyRows(kind),
    };
  }

  /** Runs `fn` on the grid editor on top; a command for it elsewhere is an error. */
  private onGrid<T>(fn: (s: GridEditorScreen) => T): T {
    const top = this.top();
    if (top.kind !== "grideditor") throw new Error("no grid editor is open");
    return fn(top);
  }

  /** Removes one screen wherever it is; the flow view it uncovers catches up with its flow. */
  private closeScreen(key: number): void {
    const stack = this._state.stack;
    if (!stack.some((s) => s.key === key) || stack.length < 2) return;
    this.set({ stack: stack.filter((s) => s.key !== key) });
    this.onStoreChange();
  }

  // ---- the console's commands ----

  private registerLocalCommands(): void {
    const add = (name: string, signature: string, help: string, run: LocalCommand["run"], takesRest = false) => this.local.set(name, { signature, help, run, takesRest });
    const navs = ["up", "down", "pageup", "pagedown", "start", "end", "left", "right", "next", "prev", "select"] as const;
    for (const n of navs) add(`console.nav.${n}`, `console.nav.${n}`, `Navigation: ${n}`, () => this.nav(n));

    add("console.view.flow", "console.view.flow flow", "View a flow's details", (a, { focus }) => this.openFlow(this.resolveFlowArg(a[0], focus)));
    add("console.view.pop", "console.view.pop", "Close the current view or overlay (asks to quit on the flow list)", () => this.pop());
    add("console.view.help", "console.view.help", "View help for the current view", () => this.openHelp());
    add("console.suspend", "console.suspend", "Suspend pryx to the shell, as Ctrl-Z does other programs (fg brings it back)", () => this.suspend());
    add("console.view.options", "console.view.options", "View and edit options", () => {
      this.openSingleton("options");
      void this.refreshOptions();
    });
    add("console.view.eventlog", "console.view.eventlog", "View the event log", () => this.openSingleton("eventlog"));
    add("console.view.commands", "console.view.commands", "View all commands", () => {
      this.openSingleton("commands");
      this.refreshCommands();
    });
    add("console.view.keybindings", "console.view.keybindings", "View all key bindings", () => this.openSingleton("keybindings"));
    add("console.exit", "console.exit", "Exit pryx at once", () => this.exit());
    // Ctrl-C's: the key pressed by reflex asks first, as mitmproxy's console does on SIGINT, and says what happens to paused flows.
    add("console.quit", "console.quit", "Ask, then exit pryx", () => this.askToQuit());

    add("console.command", "console.command *partial", "Open the command prompt, pre-filled with the arguments", (_a, { rest }) => {
      // A quoted empty argument at the end is where the user types: put the cursor inside it.
      const inside = rest.endsWith("''") || rest.endsWith('""');
      // Otherwise after a space, as mitmproxy's console.command adds one: the next argument is typed
      // straight away (`a` on the key bindings screen opens `console.key.bind flowlist `).
      const text = inside || rest === "" || rest.endsWith(" ") ? rest : `${rest} `;
      this.openPrompt(text, inside ? text.length - 1 : text.length);
    }, true);
    add("console.command.set", "console.command.set option", "Open the prompt to set an option, pre-filled with its value", (a) => {
      const name = a[0];
      if (!name) throw new Error("console.command.set needs an option name");
      const o = this._state.options.get(name);
      if (!o) throw new Error(`unknown option "${name}"`);
      // `f` while the view filter is toggled off: the parked filter, to edit.
      const value = name === "view_filter" && !o.value && this._state.pausedViewFilter ? this._state.pausedViewFilter : o.value;
      const text = `set ${name} ${quoteAlways(value)}`;
      this.openPrompt(text, text.length - 1);
    });
    add("console.command.confirm", "console.command.confirm prompt cmd *args", "Run a command after a y/n confirmation", (a) => {
      const [prompt, ...cmd] = a;
      if (!prompt || cmd.length === 0) throw new Error("console.command.confirm needs a prompt and a command");
      this.confirm(`${prompt}?`, () => this.run(joinArgs(cmd), false));
    });
    add("console.choose", "console.choose prompt choices cmd *args", "Pick one of comma-separated choices, then run cmd with {choice} replaced", (a) => {
      const [prompt, choices, ...cmd] = a;
      if (!prompt || choices === undefined || cmd.length === 0) throw new Error("console.choose needs a prompt, choices and a command");
      this.choose(prompt, choices.split(",").map((c) => c.trim()).filter(Boolean), undefined, (c) => this.run(substitute(cmd, c), false));
    });
    add("console.choose.cmd", "console.choose.cmd prompt choicecmd subcmd *args", "Pick one of the values a command returns, then run subcmd with {choice} replaced", async (a) => {
      const [prompt, choiceCmd, ...cmd] = a;
      if (!prompt || !choiceCmd || cmd.length === 0) throw new Error("console.choose.cmd needs a prompt, a choice command and a command");
      const choices = await this.valueList(choiceCmd);
      const current = choiceCmd === "view.order.options" ? this.option("view_order") : choiceCmd === "console.flowview.mode.options" ? this.currentViewMode() : undefined;
      this.choose(prompt, choices, current, (c) => this.run(substitute(cmd, c), false));
    });

    add("console.flowview.mode.options", "console.flowview.mode.options", "The content views", () => [...VIEW_NAMES]);
    add("console.flowview.mode", "console.flowview.mode", "The content view of the current tab", () => this.currentViewMode());
    add("console.flowview.mode.set", "console.flowview.mode.set view", "Set the content view of the current tab", (a) => {
      const mode = a[0];
      if (!mode || !(VIEW_NAMES as readonly string[]).includes(mode)) throw new Error(`unknown content view ${JSON.stringify(mode ?? "")}; one of ${VIEW_NAMES.join(", ")}`);
      const top = this.top();
      if (top.kind !== "flowview") throw new Error("no flow view is open");
      const tab = top.tabs[top.tab]!.id;
      const modes = { ...top.modes, [tab]: mode as ViewName };
      this.viewModes.delete(top.id);
      this.viewModes.set(top.id, modes);
      if (this.viewModes.size > VIEW_MODES_KEPT) this.viewModes.delete(this.viewModes.keys().next().value as string);
      this.updateTop<FlowViewScreen>((s) => this.withContent({ ...s, modes, highlight: undefined }));
    });
    add("console.flowview.fullcontents", "console.flowview.fullcontents", "Toggle loading the whole body and every line", () => this.toggleFullContents());

    add("console.edit.focus.options", "console.edit.focus.options", "The parts of the focused flow that can be edited", (_a, { focus }) => this.editor.options(focus));
    add("console.edit.focus", "console.edit.focus [flowpart]", "Edit a part of the focused flow (without a part: choose one)", (a, { focus }) => this.editor.start(a.join(" "), focus));
    add("console.bodyview.options", "console.bodyview.options", "The parts console.bodyview shows", () => ["request", "response"]);
    add("console.bodyview", "console.bodyview flow part", "View a flow's request or response body in an external viewer ($PAGER)", (a, { focus }) => this.editor.viewBody(this.resolveFlowArg(a[0], focus), a[1]));
    const grid = (name: string, help: string, fn: (s: GridEditorScreen) => void) => add(`console.grideditor.${name}`, `console.grideditor.${name}`, help, () => this.onGrid(fn));
    add("console.grideditor.load", "console.grideditor.load path", "Read a file into the current cell", (a) => this.onGrid((s) => this.editor.gridLoad(s, a[0])));
    add("console.grideditor.load_escaped", "console.grideditor.load_escaped path", "Read a file of escaped text (\\n, \\xNN) into the current cell", (a) => this.onGrid((s) => this.editor.gridLoad(s, a[0], true)));
    add("console.grideditor.save", "console.grideditor.save path", "Save the rows to a file as CSV", (a) => this.onGrid((s) => this.editor.gridSave(s, a[0])));
    add("console.grideditor.editor", "console.grideditor.editor", "Edit the current cell in the external editor", () => this.onGrid((s) => this.editor.gridEditor(s)));
    grid("add", "Add a row after the cursor", (s) => this.editor.gridAdd(s, "after"));
    grid("insert", "Insert a row before the cursor", (s) => this.editor.gridAdd(s, "before"));
    grid("delete", "Delete the row under the cursor", (s) => this.editor.gridDelete(s));

    add("console.options.reset.focus", "console.options.reset.focus", "Reset the focused option to its default", async () => {
      const o = this.focusedOption();
      if (!o || !(await this.setOption(o.name, o.default))) return undefined;
      return `${o.name} reset to its default${o.default === "" ? "" : `: ${o.default}`}`;
    });
    add("console.eventlog.clear", "console.eventlog.clear", "Clear the event log", () => this.logs.clear());
    add("console.eventlog.follow", "console.eventlog.follow", "Jump to the newest entry and stay there", () =>
      this.updateTop<EventLogScreen>((s) => (s.kind === "eventlog" ? { ...s, follow: true, highlight: undefined } : s)),
    );
    add("console.key.contexts", "console.key.contexts", "The key binding contexts", () => [...CONTEXTS]);
    add("console.key.bind", "console.key.bind contexts key cmd *args", "Bind a key in contexts (comma-separated) to a command, for this session", (a) => this.bindKey(a));
    add("console.key.unbind", "console.key.unbind contexts key", "Remove a key's binding in contexts (comma-separated), for this session", (a) => {
      if (!a[0] || !a[1]) throw new Error("usage: console.key.unbind contexts key");
      return this.unbindKey(a[0], a[1]);
    });
    add("console.key.unbind.focus", "console.key.unbind.focus", "Unbind the focused key binding", () => {
      const top = this.top();
      const b = top.kind === "keybindings" ? this.keymap.all()[top.focus] : undefined;
      return b ? this.unbindKey(b.context, b.key) : undefined;
    });
    add("console.key.edit.focus", "console.key.edit.focus", "Edit the focused key binding", () => this.editFocusedBinding());
    add("console.keymap.load", "console.keymap.load path", "Load key bindings from a JSON file (the confdir's keybindings.json when none is given) over the current ones", (a) => this.loadKeymapFile(a[0]));
    add("console.key.execute.focus", "console.key.execute.focus", "Open the prompt with the focused key binding's command, to run it", () => {
      const top = this.top();
      if (top.kind !== "keybindings") return;
      const b = this.keymap.all()[top.focus];
      // As mitmproxy's: the prompt, filled with the command, for Enter to run (or an edit first);
      // run at once, `x` on `d` deleted a flow the screen hid.
      if (b) this.openPrompt(b.command, b.command.length);
    });

    add("console.search", "console.search", "Search in the current view", () => this.openPrompt("", 0, "search"));
    add("console.search.next", "console.search.next", "Next match of the last search", () => this.search(false));
    add("console.search.prev", "console.search.prev", "Previous match of the last search", () => this.search(true));

    for (const op of LINE_OPS) {
      add(`console.prompt.${op.name}`, `console.prompt.${op.name}`, op.help, () => {
        const pr = this._state.prompt;
        if (!pr) return;
        const fn = op.name === "delete.start" && pr.kind === "command" ? deleteToArgumentStart : op.fn;
        this.setPromptLine(fn(pr.line));
      });
    }
    add("console.prompt.submit", "console.prompt.submit", "Run the prompt's command", () => this.submitPrompt());
    add("console.prompt.abort", "console.prompt.abort", "Close the prompt", () => this.set({ prompt: undefined }));
    add("console.prompt.complete", "console.prompt.complete", "Complete the word at the cursor", () => this.complete(1));
    add("console.prompt.complete.prev", "console.prompt.complete.prev", "Previous completion", () => this.complete(-1));
    add("console.prompt.history.prev", "console.prompt.history.prev", "Previous command in history", () => this.historyStep(-1));
    add("console.prompt.history.next", "console.prompt.history.next", "Next command in history", () => this.historyStep(1));

    // View state the console owns: the engine sees only the commands that act on flows.
    add("view.properties.marked.toggle", "view.properties.marked.toggle", "Toggle showing marked flows only", () => {
      const on = !this.store.viewSettings.markedOnly;
      this.store.setMarkedOnly(on);
      // The engine resolves @shown and @hidden (w, Z, view.flows.remove @shown): it must know too.
      void this.engine.request({ op: "command", line: `view.properties.marked.set ${on}` }).catch((err: Error) => this.message(err.message, "error"));
      return on ? "showing marked flows only" : "showing all flows";
    });
    // mitmproxy#4604: a look at every flow and back to the filtered few, without retyping the filter.
    add("console.view_filter.toggle", "console.view_filter.toggle", "Turn the view filter off, or back on", async () => {
      const current = this._state.viewFilter;
      const paused = this._state.pausedViewFilter;
      if (!current && paused === undefined) throw new Error("no view filter to turn off: set one with f");
      const next = current ? "" : (paused as string);
      if (!(await this.setOption("view_filter", next))) return undefined;
      this.set({ pausedViewFilter: current || undefined });
      return current ? `view filter off: ${current}` : `view filter on: ${next}`;
    });
    add("view.order.options", "view.order.options", "The flow list orders", () => [...ORDERS]);
    add("view.order", "view.order", "The flow list's current order", () => this.option("view_order"));
    // mitmproxy's command_history addon, for keybindings and scripts that walk it themselves.
    add("commands.history.add", "commands.history.add command", "Add a line to the command history", (_a, { rest }) => void this.history.add(rest), true);
    add("commands.history.get", "commands.history.get", "The whole command history, oldest first", () => this.history.entries.join("\n"));
    add("commands.history.clear", "commands.history.clear", "Forget the command history", () => {
      this.history.clear();
      this.historyWalk = { prefix: "", index: 0 };
      return "command history cleared";
    });
    add("commands.history.filter", "commands.history.filter prefix", "Walk only the history lines that start with prefix", (_a, { rest }) => {
      this.historyWalk = { prefix: rest, index: this.history.entries.length };
    }, true);
    add("commands.history.prev", "commands.history.prev", "The previous history line (of the filter's)", () => this.walkHistory(-1));
    add("commands.history.next", "commands.history.next", "The next history line (of the filter's)", () => this.walkHistory(1));
    // mitmproxy's per-flow settings (view.settings.*); fullcontents is what f in the flow view toggles.
    add("view.settings.getval", "view.settings.getval flow key default", "A flow's setting, or the default", (a, { focus }) => this.flowSetting(this.resolveFlowArg(a[0], focus), a[1] ?? "") ?? a[2] ?? "");
    add("view.settings.setval", "view.settings.setval flow key value", "Set a flow's setting", (a, { focus }) => this.setFlowSetting(this.resolveFlowArg(a[0], focus), a[1] ?? "", a[2] ?? ""));
    add("view.settings.setval.toggle", "view.settings.setval.toggle flow key", "Toggle a flow's setting between true and false", (a, { focus }) => {
      const id = this.resolveFlowArg(a[0], focus);
      return this.setFlowSetting(id, a[1] ?? "", this.flowSetting(id, a[1] ?? "") === "true" ? "false" : "true");
    });
    // The rest of mitmproxy's view.* commands, for user keybindings and the prompt: each a name for
    // what a key or an option already does.
    add("view.order.set", "view.order.set order", `Order the flow list: ${ORDERS.join(", ")}`, (a) => this.setOption("view_order", a[0] ?? "").then(() => undefined));
    add("view.order.reverse", "view.order.reverse [true|false]", "Reverse the flow list's order (toggled without an argument)", (a) => this.setOption("view_order_reversed", a[0] ?? "toggle").then(() => undefined));
    // Quoted, as mitmproxy's prompt and key bindings write it ('~m POST', '' for none), the filter is
    // the one argument; unquoted words are taken as typed.
    add("view.filter.set", "view.filter.set filter", "Set the view filter (empty for none)", (a, { rest }) => this.setOption("view_filter", a.length === 1 ? (a[0] as string) : rest).then(() => undefined), true);
    add("view.focus.go", "view.focus.go index", "Focus the flow at this place in the list; a negative index counts from the end", (a) => {
      const n = Number(a[0]);
      const shown = this.store.counts().shown;
      if (!Number.isInteger(n)) throw new Error(`view.focus.go needs an index, not ${JSON.stringify(a[0] ?? "")}`);
      if (shown === 0) throw new Error("no flows to focus");
      this.store.focusTo(n < 0 ? Math.max(0, shown + n) : Math.min(n, shown - 1));
    });
    add("view.properties.length", "view.properties.length", "How many flows the list shows", () => String(this.store.counts().shown));
    add("view.properties.marked", "view.properties.marked", "Whether the list shows marked flows only", () => String(this.store.viewSettings.markedOnly));
    add("view.properties.inbounds", "view.properties.inbounds index", "Whether an index is within the list", (a) => {
      const n = Number(a[0]);
      return String(Number.isInteger(n) && n >= 0 && n < this.store.counts().shown);
    });
    add("view.clear_unmarked", "view.clear_unmarked", "Remove every flow that is not marked", () => this.engine.request({ op: "command", line: "view.flows.remove !~marked" }));
    add("eventstore.clear", "eventstore.clear", "Clear the event log (as console.eventlog.clear)", () => this.logs.clear());
    // As mitmproxy, the first copy takes the focus, so `D` then `e` edits the copy and leaves the original as recorded.
    // The engine names the copies: another client's flow arriving first is not the copy.
    add("view.flows.duplicate", "view.flows.duplicate flows", "Copy flows, for editing and replay; the first copy takes the focus", async (_a, { rest, focus }) => {
      return this.startAndFocus(replaceFocus(`view.flows.duplicate ${rest}`, focus));
    }, true);
    // The engine answers with the new flow's id, which told the user nothing: the status line names
    // the flow instead, and it takes the focus as a copy does, so `e` or `r` acts on it next.
    add("view.flows.create", "view.flows.create method url", "Create a new flow (for editing and replay); it takes the focus", async (a, { rest }) => {
      const id = await this.engine.request({ op: "command", line: `view.flows.create ${rest}` });
      if (typeof id !== "string" || id === "") return id;
      this.focusArrived(() => this.store.get(id));
      const made = this.store.get(id);
      return `new flow: ${made ? `${made.method} ${made.url}` : `${a[0]!.toUpperCase()} ${a[1]!}`} (e edits it, r sends it)`;
    }, true);
    // The clipboard is the user's terminal (OSC 52), which only the console can write to.
    const toClipboard = async (engineLine: string, focus: string | undefined): Promise<string> => {
      const text = (await this.engine.request({ op: "command", line: replaceFocus(engineLine, focus) })) ?? "";
      const where = await copyToClipboard(text, this.env, this.writeEscape);
      return `copied ${Buffer.byteLength(text)} bytes to ${where}`;
    };
    add("console.layout.options", "console.layout.options", "The console's layouts", () => [...LAYOUTS]);
    add("console.panes.next", "console.panes.next", "Focus the next layout pane", () => this.switchPane());
    add("console.panes.prev", "console.panes.prev", "Focus the previous layout pane", () => this.switchPane());
    add("console.layout.cycle", "console.layout.cycle", "Cycle to the next layout (single, vertical, horizontal)", () => {
      const next = LAYOUTS[(LAYOUTS.indexOf(this.layout()) + 1) % LAYOUTS.length] as ConsoleLayout;
      return this.run(`set console_layout ${next}`, false);
    });
    // Both words are needed: the engine's complaint would name its own command (`cut`), not the one typed.
    const clip = (engineCommand: string, usage: string): LocalCommand["run"] => (a, { rest, focus }) => {
      if (a.length < 2) throw new Error(usage);
      return toClipboard(`${engineCommand} ${rest}`, focus);
    };
    add("export.clip", "export.clip format flow", "Export a flow to the clipboard (the terminal's, by OSC 52)", clip("export", "export.clip needs a format and a flow, e.g. export.clip curl @focus"), true);
    add("cut.clip", "cut.clip flows cuts", "Send cuts to the clipboard (the terminal's, by OSC 52); several values as CSV", clip("cut", "cut.clip needs flows and cuts, e.g. cut.clip @focus request.url"), true);
    add("view.focus.next", "view.focus.next", "Focus the next flow", () => this.stepFlow(1));
    add("view.focus.prev", "view.focus.prev", "Focus the previous flow", () => this.stepFlow(-1));
  }

  /** Focuses the flow `find` finds, once it is in the store (the batch may come after the reply); `find` gives null to stop waiting. */
  private focusArrived(find: () => FlowSummary | undefined | null): void {
    const copy = find();
    if (copy === undefined) {
      this.pendingFocus = find;
      return;
    }
    this.pendingFocus = undefined;
    if (copy === null) return;
    this.store.focusFlow(copy.id);
    // mitmproxy's flow view shows the focused flow: `D` there shows the copy, so `e` edits the
    // copy and leaves the original as recorded (the view replaces the original's, as `p` and space do).
    if (this.top().kind === "flowview") this.openFlow(copy.id);
  }

  private stepFlow(d: 1 | -1): void {
    const top = this.top();
    if (top.kind === "flowview") {
      const i = this.store.indexOfId(top.id);
      const next = this.store.at((i < 0 ? this.store.focusIndex() : i) + d);
      // mitmproxy says so, rather than a key that seems to do nothing.
      if (!next) return void this.message("No more flows", "warn");
      this.store.focusFlow(next.id);
      this.openFlow(next.id);
      return;
    }
    this.store.focusBy(d);
  }

  private currentViewMode(): ViewName | undefined {
    const top = this.top();
    if (top.kind !== "flowview") return undefined;
    return top.modes[top.tabs[top.tab]!.id] ?? this.defaultViewMode();
  }
}

/** Whether a command line sets the view filter (`f`'s prompt, a key bound to `set view_filter …`). */
function setsViewFilter(line: string): boolean {
  const [name, option] = tokenize(line, true);
  return name?.value === "set" && option?.value === "view_filter";
}

function isPromiseLike(v: unknown): v is PromiseLike<unknown> {
  return typeof (v as { then?: unknown } | null | undefined)?.then === "function";
}

function substitute(cmd: readonly string[], choice: string): string {
  return joinArgs(cmd.map((a) => a.replaceAll("{choice}", choice)));
}

/** One terminal row of the event log. */
export interface LogRow {
  readonly text: string;
  readonly level: LogLevel;
  /** A row the entry goes on onto (a wrapped line, or a further line of the message). */
  readonly wraps?: boolean;
}

/**
 * An entry's rows: time and level, then the message; its further lines and the pieces of a line
 * longer than the width are indented under the message's start, so a caret line stays under the
 * column it points at.
 */
export function logEntryRows(e: LogEntry, width: number): string[] {
  const prefix = `${clockTime(e.ts)} ${e.level.padEnd(5)} `;
  // On a very narrow screen the indent would leave no room for the text.
  const indent = width - prefix.length >= 20 ? prefix.length : 0;
  const pad = " ".repeat(indent);
  const out: string[] = [];
  e.msg.split(/\r?\n/).forEach((raw, i) => {
    const lead = i === 0 ? prefix : pad;
    wrapColumns(sanitize(raw), width - lead.length, width - indent).forEach((row, j) => out.push((j === 0 ? lead : pad) + row));
  });
  return out;
}

/** Help generated from the keymap: the keys of the view the user came from, then the global ones it does not shadow. */
export function helpLines(keymap: Keymap, context: Context, width = Infinity): Line[] {
  const lines: Line[] = [];
  const own = context === "global" ? [] : keymap.forContext(context);
  const shadowed = new Set(own.map((b) => b.key));
  const global = keymap.forContext("global").filter((b) => !shadowed.has(b.key));
  // One key and help column for both sections, so they read as one table.
  const all = [...own, ...global];
  const w = Math.max(6, ...all.map((b) => displayKey(b.key).length));
  const hw = Math.min(44, Math.max(...all.map((b) => (b.help || b.command).length)));
  const section = (title: string, bindings: { key: string; help: string; command: string }[]) => {
    lines.push([{ text: title, style: "heading" }]);
    for (const b of bindings) {
      const key = `  ${displayKey(b.key).padEnd(w)}  `;
      const help = b.help || b.command;
      // Too narrow for the three columns: the command goes on a row of its own under the help,
      // rather than the help and the command both being cut.
      // A help longer than the column (it is capped) counts whole: `r` in the grid editor was cut.
      if (b.help && key.length + Math.max(hw, help.length) + 2 + b.command.length > width) {
        const room = Math.max(8, width - key.length);
        const pad = " ".repeat(key.length);
        wrapColumns(help, room, room).forEach((text, i) => lines.push(i === 0 ? [{ text: key, style: "key" }, { text }] : [{ text: pad + text }]));
        for (const text of wrapColumns(b.command, room, room)) lines.push([{ text: pad + text, style: "dim" }]);
        continue;
      }
      lines.push([
        { text: key, style: "key" },
        { text: help.padEnd(hw) },
        { text: b.help ? `  ${b.command}` : "", style: "dim" },
      ]);
    }
    lines.push([]);
  };
  if (own.length) section(`Keys for this view (${context})`, own);
  section("Global keys", global);
  // The engine's own operator table, so every operator the filter language has is listed.
  lines.push([{ text: "Filter expressions", style: "heading" }]);
  for (const { op, help } of FILTER_HELP) lines.push([{ text: `  ${op.padEnd(16)}`, style: "key" }, { text: help }]);
  lines.push([]);
  lines.push([{ text: "Examples", style: "heading" }]);
  for (const [k, v] of FILTER_EXAMPLES) lines.push([{ text: `  ${k.padEnd(26)}`, style: "key" }, { text: v }]);
  return lines;
}

/** mitmproxy's examples under its filter help. */
const FILTER_EXAMPLES: [string, string][] = [
  ["google\\.com", "URL containing \"google.com\" (a bare word is ~u)"],
  ["~q ~b test", "Requests whose body contains \"test\""],
  ["!(~q & ~t \"text/html\")", "Anything but requests with a text/html content type"],
];
