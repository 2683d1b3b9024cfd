/**
 * The one input router: every key goes through layers by priority (a prompt or editor, then an
 * overlay, then the screen's keymap context, then global), and the first layer that consumes it wins.
 * Layers decide from the console's state at the moment of the key, not from which components have
 * mounted, so keys typed right after `:` already reach the prompt.
 */
import type { KeyPress } from "./keys.ts";

export const Priority = {
  Global: 0,
  Screen: 100,
  Overlay: 200,
  Editor: 300,
} as const;

/** Returns true when it consumed the key. */
export type KeyHandler = (key: KeyPress) => boolean;

interface Layer {
  priority: number;
  seq: number;
  handler: KeyHandler;
}

export class InputRouter {
  private layers: Layer[] = [];
  private seq = 0;

  register(priority: number, handler: KeyHandler): () => void {
    const layer: Layer = { priority, seq: this.seq++, handler };
    // Higher priority first; among equals, the earlier registration first.
    this.layers = [...this.layers, layer].sort((a, b) => b.priority - a.priority || a.seq - b.seq);
    return () => {
      this.layers = this.layers.filter((l) => l !== layer);
    };
  }

  dispatch(key: KeyPress): boolean {
    for (const l of this.layers) if (l.handler(key)) return true;
    return false;
  }
}
