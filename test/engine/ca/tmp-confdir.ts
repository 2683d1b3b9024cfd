import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * A fresh temporary directory for one test, removed when it ends. The confdir
 * itself is a not-yet-existing child, so tests also cover pryx creating it.
 */
export function tmpConfdir(cleanup: (fn: () => void) => void, name = 'conf'): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pryx-ca-test-'));
  cleanup(() => fs.rmSync(root, { recursive: true, force: true }));
  return path.join(root, name);
}
