/**
 * The root component: reads the terminal size once for everyone, feeds every key to the router,
 * and lays out the current screen, an overlay and the status bar.
 */
import { memo, useCallback, useContext, useEffect, useLayoutEffect, useMemo, useRef, useState, useSyncExternalStore, type ReactNode } from "react";
import { Box, Text, useInput, useStdin, useStdout, type Key } from "ink";
import { parseMouse } from "./mouse.ts";
import type { Controller, FlowViewScreen, GridEditorScreen, TextEditorScreen } from "./controller.ts";
import { keyPressesFromInk } from "./keys.ts";
import { bodyHeight, mainHeight, overlayHeight, splitPanes, type Pane } from "./layout.ts";
import { ThemeContext, themeFromEnv, withPalette, type Theme } from "./theme.ts";
import { FlowList } from "./components/flow-list.tsx";
import { FlowView } from "./components/flow-view.tsx";
import { CommandsView, EventLogView, HelpView, KeybindingsView, OptionsView, TitlesContext } from "./components/screens.tsx";
import { StatusBar } from "./components/status-bar.tsx";
import { Chooser } from "./components/chooser.tsx";
import { GridEditorView, TextEditorView } from "./components/editors.tsx";

export interface AppProps {
  ctrl: Controller;
  /** Fixed size (tests); otherwise the terminal's, following resizes. */
  width?: number;
  height?: number;
  theme?: Theme;
}

/**
 * The terminal size, every row of it (Ink clears the whole screen for a frame as tall as the
 * terminal, and FrameDiffOutput writes only the rows that changed all the same). Without a known
 * height (a test's fake stdout) it is 24 rows.
 */
export function useTerminalSize(fixedWidth?: number, fixedHeight?: number): { width: number; height: number } {
  const { stdout } = useStdout();
  const read = useCallback(() => ({ cols: stdout.columns || 80, rows: stdout.rows || 0 }), [stdout]);
  const [size, setSize] = useState(read);
  useEffect(() => {
    const onResize = () => setSize(read());
    stdout.on("resize", onResize);
    return () => {
      stdout.off("resize", onResize);
    };
  }, [stdout, read]);
  return { width: fixedWidth ?? size.cols, height: fixedHeight ?? (size.rows > 0 ? size.rows : 24) };
}

const MemoFlowList = memo(FlowList);

function FlowViewContainer({ ctrl, screen, width, height, bodyRows }: { ctrl: Controller; screen: FlowViewScreen; width: number; height: number; bodyRows: number }) {
  const flow = useSyncExternalStore(ctrl.store.subscribe, () => ctrl.store.get(screen.id));
  return <FlowView screen={screen} flow={flow} width={width} height={height} bodyRows={bodyRows} />;
}

/** A split layout's other pane: the focused flow as the flow view shows it, or a hint until it is fetched. */
function PreviewPane({ ctrl, screen, pane, beside, focused }: { ctrl: Controller; screen: FlowViewScreen | undefined; pane: Pane; beside: boolean; focused: boolean }) {
  const theme = useContext(ThemeContext);
  // A line between the panes: on the left beside the list, on top below it.
  const width = beside ? pane.width - 1 : pane.width;
  const height = beside ? pane.height : pane.height - 1;
  const rule = beside ? theme.glyphs.ruleV : theme.glyphs.ruleH;
  // The rule is bright while the preview has the keys (ctrl right / ctrl left), dim while the list has them.
  const line = beside ? (
    <Box flexDirection="column" width={1} height={pane.height}>
      <Text dimColor={!focused} bold={focused}>{Array.from({ length: pane.height }, () => rule).join("\n")}</Text>
    </Box>
  ) : (
    <Text dimColor={!focused} bold={focused}>{rule.repeat(pane.width)}</Text>
  );
  return (
    <Box flexDirection={beside ? "row" : "column"} width={pane.width} height={pane.height} overflow="hidden">
      {line}
      <Box flexDirection="column" width={width} height={height} overflow="hidden">
        {screen ? <FlowViewContainer ctrl={ctrl} screen={screen} width={width} height={height} bodyRows={bodyHeight("flowview", height)} /> : <Text dimColor>No flow to preview.</Text>}
      </Box>
    </Box>
  );
}

function EditorContainer({ ctrl, screen, width, height, bodyRows }: { ctrl: Controller; screen: GridEditorScreen | TextEditorScreen; width: number; height: number; bodyRows: number }) {
  const flow = useSyncExternalStore(ctrl.store.subscribe, () => ctrl.store.get(screen.flowId));
  return screen.kind === "grideditor" ? (
    <GridEditorView screen={screen} flow={flow} width={width} height={height} bodyRows={bodyRows} />
  ) : (
    <TextEditorView screen={screen} flow={flow} width={width} height={height} bodyRows={bodyRows} />
  );
}

export function App({ ctrl, width: fixedWidth, height: fixedHeight, theme }: AppProps) {
  const { width, height } = useTerminalSize(fixedWidth, fixedHeight);
  // Ink's write() clears its frame, writes, and draws the last frame again in full: after an
  // external editor had the terminal, that is the repaint the controller asks for.
  const { write } = useStdout();
  useEffect(() => {
    ctrl.setRepaint(() => write(""));
    return () => ctrl.setRepaint(undefined);
  }, [ctrl, write]);
  const [base] = useState(() => theme ?? themeFromEnv(process.env));
  useLayoutEffect(() => ctrl.setSize(width, height), [ctrl, width, height]);
  const state = useSyncExternalStore(ctrl.subscribe, ctrl.getState);
  const paletteName = ctrl.option("console_palette");
  const th = useMemo(() => withPalette(base, paletteName), [base, paletteName]);

  // The sequence each key came as: Ink gives function keys, Insert and Delete no name of their
  // own. Ink emits it to this listener before useInput's handler, which subscribes after it.
  const { internal_eventEmitter: inputEvents } = useStdin();
  const sequence = useRef("");
  useEffect(() => {
    const record = (data: string | Buffer): void => void (sequence.current = String(data));
    inputEvents.on("input", record);
    return () => void inputEvents.off("input", record);
  }, [inputEvents]);
  // One input handler for the whole console; the controller's router decides who gets the key.
  const onInput = useCallback(
    (input: string, key: Key) => {
      const mouse = parseMouse(input);
      if (mouse) ctrl.mouse(mouse);
      else for (const k of keyPressesFromInk(input, key, sequence.current)) ctrl.key(k);
    },
    [ctrl],
  );
  useInput(onInput);

  const overlay = state.overlay;
  const chooserChoices = overlay?.kind === "chooser" ? overlay.choices.length : undefined;
  const main = mainHeight(height, chooserChoices);
  const screen = state.stack[state.stack.length - 1]!;
  const rows = bodyHeight(screen.kind, main, ctrl.layoutHeaders());
  const panes = splitPanes(ctrl.layout(), width, main);
  const split = panes.preview !== undefined && screen.kind === "flowlist";

  let body: ReactNode = null;
  switch (screen.kind) {
    case "flowlist":
      // Drawn below, always mounted.
      break;
    case "flowview":
      body = <FlowViewContainer ctrl={ctrl} screen={screen} width={width} height={main} bodyRows={rows} />;
      break;
    case "help":
      body = <HelpView screen={screen} height={main} bodyRows={rows} />;
      break;
    case "eventlog":
      body = <EventLogView ctrl={ctrl} screen={screen} height={main} bodyRows={rows} />;
      break;
    case "options":
      body = <OptionsView screen={screen} options={ctrl.optionList()} width={width} height={main} bodyRows={rows} />;
      break;
    case "commands":
      body = <CommandsView screen={screen} commands={ctrl.commandList()} width={width} height={main} bodyRows={rows} />;
      break;
    case "keybindings":
      body = <KeybindingsView screen={screen} bindings={ctrl.keymap.all()} width={width} height={main} bodyRows={rows} />;
      break;
    case "grideditor":
    case "texteditor":
      body = <EditorContainer ctrl={ctrl} screen={screen} width={width} height={main} bodyRows={rows} />;
      break;
  }

  return (
    <ThemeContext.Provider value={th}>
      <TitlesContext.Provider value={ctrl.layoutHeaders()}>
        <Box flexDirection="column" width={width} height={height} overflowY="hidden">
          <Box flexDirection="column" height={main} overflowY="hidden">
            {/* The list stays mounted (hidden) under other screens: going back to it with q is then a
                change of display, not 40 rows built anew. */}
            <Box flexDirection={ctrl.layout() === "horizontal" ? "row" : "column"} height={main} display={screen.kind === "flowlist" ? "flex" : "none"}>
              <Box flexDirection="column" width={split ? panes.list.width : width} height={split ? panes.list.height : main} overflow="hidden">
                <MemoFlowList store={ctrl.store} width={split ? panes.list.width : width} height={split ? panes.list.height : main} lines={ctrl.listRowLines(split ? panes.list.width : width)} />
              </Box>
              {split && panes.preview ? <PreviewPane ctrl={ctrl} screen={state.preview} pane={panes.preview} beside={ctrl.layout() === "horizontal"} focused={state.previewFocused} /> : null}
            </Box>
            {body}
          </Box>
          {overlay?.kind === "chooser" ? <Chooser overlay={overlay} height={overlayHeight(chooserChoices, height)} width={width} /> : null}
          <StatusBar ctrl={ctrl} state={state} width={width} />
        </Box>
      </TitlesContext.Provider>
    </ThemeContext.Provider>
  );
}
