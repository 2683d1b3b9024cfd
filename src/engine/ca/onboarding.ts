/**
 * The pages pryx serves itself at http://pryx.it/ so a device that is already
 * proxied can fetch and install the CA without copying files around. Pure: the
 * proxy decides when a request is for this host and writes the response.
 */
import { CA_FILE_NAMES } from './ca.ts';
import type { CertificateAuthority } from './ca.ts';

export const ONBOARDING_HOST = 'pryx.it';

export interface OnboardingResponse {
  status: number;
  headers: [string, string][];
  body: Buffer;
}

/**
 * The content type is what makes browsers offer to install rather than display:
 * Firefox and iOS open their CA import flow for application/x-x509-ca-cert,
 * Android and Windows for either form.
 */
const DOWNLOADS: Record<string, { file: string; type: string; bytes: (ca: CertificateAuthority) => Buffer }> = {
  '/cert/pem': { file: CA_FILE_NAMES.certPem, type: 'application/x-x509-ca-cert', bytes: (ca) => Buffer.from(ca.certPem) },
  '/cert/cer': { file: CA_FILE_NAMES.certCer, type: 'application/x-x509-ca-cert', bytes: (ca) => ca.certDer },
  '/cert/p12': { file: CA_FILE_NAMES.certP12, type: 'application/x-pkcs12', bytes: (ca) => ca.p12 },
};

/** `path` is the request target's path; a query string is ignored. */
export function onboardingResponse(path: string, ca: CertificateAuthority): OnboardingResponse {
  const pathname = path.split(/[?#]/, 1)[0] ?? '';
  if (pathname === '/' || pathname === '/index.html') {
    return respond(200, 'text/html; charset=utf-8', Buffer.from(indexPage(ca)));
  }
  const download = Object.hasOwn(DOWNLOADS, pathname) ? DOWNLOADS[pathname] : undefined;
  if (download !== undefined) {
    return respond(200, download.type, download.bytes(ca), [
      ['Content-Disposition', `attachment; filename="${download.file}"`],
    ]);
  }
  return respond(404, 'text/plain; charset=utf-8', Buffer.from(`Not found: ${pathname}\n`));
}

function respond(status: number, type: string, body: Buffer, extra: [string, string][] = []): OnboardingResponse {
  return {
    status,
    headers: [
      ['Content-Type', type],
      ['Content-Length', String(body.length)],
      // A user who recreates the CA must not be handed the old certificate from a cache.
      ['Cache-Control', 'no-store'],
      ...extra,
    ],
    body,
  };
}

function indexPage(ca: CertificateAuthority): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pryx CA certificate</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }
code { word-break: break-all; }
li { margin-bottom: .5rem; }
</style>
</head>
<body>
<h1>Install the pryx CA certificate</h1>
<p>You are browsing through pryx. To let it decrypt HTTPS, trust its CA on this device.
Do this only on devices you control: whoever holds the CA key can read all HTTPS traffic of a device that trusts it.</p>
<p>SHA-256 fingerprint: <code>${escapeHtml(ca.fingerprint256)}</code></p>
<h2>Download</h2>
<ul>
<li><a href="/cert/pem">${CA_FILE_NAMES.certPem}</a> (PEM): iOS, macOS, Linux, Firefox</li>
<li><a href="/cert/cer">${CA_FILE_NAMES.certCer}</a> (DER): Android, Windows</li>
<li><a href="/cert/p12">${CA_FILE_NAMES.certP12}</a> (PKCS#12, no password): stores that import only .p12</li>
</ul>
<h2>Then</h2>
<ul>
<li><b>iOS / iPadOS</b>: download the PEM in Safari, install the profile in Settings &gt; General &gt; VPN &amp; Device Management,
then enable full trust in Settings &gt; General &gt; About &gt; Certificate Trust Settings.</li>
<li><b>Android</b>: download the .cer, then Settings &gt; Security &gt; Encryption &amp; credentials &gt; Install a certificate &gt; CA certificate.
Apps trust user CAs only if their network security config allows it.</li>
<li><b>macOS</b>: open the PEM in Keychain Access, add it to the System keychain and set it to Always Trust.</li>
<li><b>Windows</b>: open the .cer, Install Certificate &gt; Local Machine &gt; Trusted Root Certification Authorities.</li>
<li><b>Firefox</b>: download the PEM and tick “Trust this CA to identify websites”.</li>
<li><b>Linux and command-line tools</b>: run <code>pryx ca</code> on the machine running pryx for the commands.</li>
</ul>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
