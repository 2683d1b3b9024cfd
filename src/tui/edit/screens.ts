/** The editor screens on the console's stack: their state is data, like every other screen's. */
import type { FlowDetail } from "../../protocol.ts";
import type { GridState, Row } from "./grid.ts";
import type { BodyPart, GridPart } from "./parts.ts";
import type { TextState } from "./text-editor.ts";

export interface GridEditorScreen {
  readonly kind: "grideditor";
  readonly key: number;
  readonly flowId: string;
  readonly part: GridPart;
  readonly title: string;
  readonly grid: GridState;
  /** The rows it opened with: leaving without a change sends nothing. */
  readonly original: readonly Row[];
  /** The detail it was built from (the form needs the request's headers to write back). */
  readonly detail: FlowDetail;
  /** Rows the engine refused; leaving again with exactly these discards them. */
  readonly refused: readonly Row[] | undefined;
  /** An edit request is on its way: keys wait for its answer. */
  readonly saving: boolean;
}

export interface TextEditorScreen {
  readonly kind: "texteditor";
  readonly key: number;
  readonly flowId: string;
  readonly part: BodyPart;
  /** Which message a message part edits (the flow's last when the editor opened). */
  readonly messageIndex?: number;
  readonly title: string;
  readonly text: TextState;
  readonly original: string;
  readonly saving: boolean;
}

export type EditScreen = GridEditorScreen | TextEditorScreen;
