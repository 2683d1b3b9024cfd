import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadOrCreateCA } from '../../../src/engine/ca/ca.ts';
import { trustInstructions } from '../../../src/engine/ca/trust-help.ts';
import { tmpConfdir } from './tmp-confdir.ts';

test('trust instructions list the files and a command per client', async (t) => {
  const ca = await loadOrCreateCA(tmpConfdir((fn) => t.after(fn)));
  const text = trustInstructions(ca, 'http://127.0.0.1:8080');
  const pem = ca.paths.certPem;
  for (const file of [ca.paths.key, pem, ca.paths.certCer, ca.paths.certP12]) assert.ok(text.includes(file), file);
  assert.ok(text.includes(ca.fingerprint256));
  // Without -x, curl would not go through pryx and would reject the server's real certificate.
  assert.ok(text.includes(`curl --cacert ${pem} -x http://127.0.0.1:8080 https://example.com/`), text);
  assert.ok(text.includes(`NODE_EXTRA_CA_CERTS=${pem}`));
  assert.ok(text.includes(`cp ${pem} /usr/local/share/ca-certificates/pryx.crt && sudo update-ca-certificates`));
  assert.ok(text.includes(`security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ${pem}`));
  assert.ok(text.includes(`certutil -A -n pryx -t "C,," -i ${pem} -d sql:$HOME/.pki/nssdb`));
  assert.match(text, /Android[\s\S]*network security config/);
  assert.match(text, /http:\/\/pryx\.it\//);
  assert.match(text, /Settings > General > About > Certificate Trust Settings/);
});

test('paths with spaces are quoted for the shell', async (t) => {
  const ca = await loadOrCreateCA(tmpConfdir((fn) => t.after(fn), "my pryx's conf"));
  const text = trustInstructions(ca, 'http://127.0.0.1:8080');
  const quoted = `'${ca.paths.certPem.replaceAll("'", `'\\''`)}'`;
  assert.ok(text.includes(`curl --cacert ${quoted} `), text);
  assert.ok(text.includes(`NODE_EXTRA_CA_CERTS=${quoted}`));
});
