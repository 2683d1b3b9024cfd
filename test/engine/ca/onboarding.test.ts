import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { loadOrCreateCA } from '../../../src/engine/ca/ca.ts';
import { onboardingResponse } from '../../../src/engine/ca/onboarding.ts';
import type { OnboardingResponse } from '../../../src/engine/ca/onboarding.ts';
import { tmpConfdir } from './tmp-confdir.ts';

function header(res: OnboardingResponse, name: string): string | undefined {
  return res.headers.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
}

test('the onboarding page links every download and shows the fingerprint', async (t) => {
  const ca = await loadOrCreateCA(tmpConfdir((fn) => t.after(fn)));
  const res = onboardingResponse('/', ca);
  assert.equal(res.status, 200);
  assert.equal(header(res, 'content-type'), 'text/html; charset=utf-8');
  assert.equal(header(res, 'content-length'), String(res.body.length));
  const html = res.body.toString();
  for (const href of ['/cert/pem', '/cert/cer', '/cert/p12']) assert.ok(html.includes(`href="${href}"`), href);
  assert.ok(html.includes(ca.fingerprint256));
  assert.match(html, /Certificate Trust Settings/);
  assert.match(html, /Android/);
});

test('the downloads are the CA files, byte for byte, with install-friendly headers', async (t) => {
  const ca = await loadOrCreateCA(tmpConfdir((fn) => t.after(fn)));
  const cases = [
    { path: '/cert/pem', file: ca.paths.certPem, type: 'application/x-x509-ca-cert', name: 'pryx-ca-cert.pem' },
    { path: '/cert/cer', file: ca.paths.certCer, type: 'application/x-x509-ca-cert', name: 'pryx-ca-cert.cer' },
    { path: '/cert/p12', file: ca.paths.certP12, type: 'application/x-pkcs12', name: 'pryx-ca-cert.p12' },
  ];
  for (const c of cases) {
    const res = onboardingResponse(c.path, ca);
    assert.equal(res.status, 200, c.path);
    assert.deepEqual(res.body, fs.readFileSync(c.file), c.path);
    assert.equal(header(res, 'content-type'), c.type, c.path);
    assert.equal(header(res, 'content-disposition'), `attachment; filename="${c.name}"`, c.path);
    assert.equal(header(res, 'content-length'), String(res.body.length), c.path);
    assert.equal(header(res, 'cache-control'), 'no-store', c.path);
  }
  assert.deepEqual(onboardingResponse('/cert/pem?x=1', ca).body, fs.readFileSync(ca.paths.certPem));

  // Once reloaded from disk the same bytes are served.
  const again = await loadOrCreateCA(ca.paths.dir);
  assert.deepEqual(onboardingResponse('/cert/pem', again).body, fs.readFileSync(ca.paths.certPem));
  assert.deepEqual(onboardingResponse('/cert/p12', again).body, fs.readFileSync(ca.paths.certP12));
});

test('other paths are 404', async (t) => {
  const ca = await loadOrCreateCA(tmpConfdir((fn) => t.after(fn)));
  for (const path of ['/cert', '/cert/pem/', '/cert/key', '/toString', '/__proto__', '/../pryx-ca.pem']) {
    const res = onboardingResponse(path, ca);
    assert.equal(res.status, 404, path);
    assert.ok(!res.body.toString().includes('PRIVATE KEY'), path);
  }
});
