#!/bin/sh
':' //; case "$GLIBC_TUNABLES" in *malloc.hugetlb*) ;; *) export GLIBC_TUNABLES="${GLIBC_TUNABLES:+$GLIBC_TUNABLES:}glibc.malloc.hugetlb=1";; esac; f=$(readlink -f "$0" 2>/dev/null) || f=$0; c=${f%/*}/../config/openssl.cnf; [ -r "$c" ] && exec node --openssl-config="$c" "$f" "$@"; exec node "$f" "$@"
// The line above is for sh, and a string and a comment for JavaScript: run as a program (npx,
// a global install, ./bin/pryx.mjs), the file starts Node with config/openssl.cnf, which stops
// TLS 1.3 session tickets no client could use; where the file cannot be found (no `readlink -f`),
// without it. `node bin/pryx.mjs` runs it as it is.
// GLIBC_TUNABLES (glibc 2.35+; other C libraries ignore it; a user's own hugetlb setting is
// kept) has malloc ask for transparent huge pages. The console keeps every flow, so its memory
// grows for the whole session, and each new 4 KiB page costs a fault: ~11 µs on the virtual
// machine pryx is measured on, where a keep-alive flood through the console faulted ~0.6 times a
// flow against dump's 0.08. Bodies and the console's summaries live in malloc'd memory (Buffers);
// with huge pages it is faulted in 2 MiB at a time (~0.4 µs per 4 KiB there), and the console
// faulted ~0.25 times a flow.
// Registers TypeScript support, then runs the CLI from source (no build step needed).
// React's development build checks every render; the console wants the production one.
process.env.NODE_ENV ??= "production";
const { register } = await import("tsx/esm/api");
const { register: registerHooks } = await import("node:module");

register();
// pryx's own modules without tsx's keepNames (see src/ts-loader.mjs).
registerHooks("../src/ts-loader.mjs", import.meta.url);
// As in the engine's worker: addon scripts anywhere import "pryx" and load as ES modules (the
// option and command listings load them in this thread).
registerHooks("../src/engine/pryx-resolve.mjs", import.meta.url);
await import("../src/cli.ts");
