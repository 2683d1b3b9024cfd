/**
 * Ink renders only the final frame when it believes it runs in CI, and it decides once,
 * when it is first imported (the is-in-ci package reads CI / CONTINUOUS_INTEGRATION).
 * The console is interactive wherever it runs, including a CI job driving it under tmux,
 * so this module must be imported before ink.
 */
delete process.env["CI"];
delete process.env["CONTINUOUS_INTEGRATION"];
export {};
