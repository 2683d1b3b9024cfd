/**
 * The text `pryx ca` prints: where the CA is and how to make each kind of client trust it.
 * Commands are ready to paste, so paths are shell-quoted.
 */
import { CA_FILE_NAMES } from './ca.ts';
import type { CertificateAuthority } from './ca.ts';
import { ONBOARDING_HOST } from './onboarding.ts';

/**
 * `proxyUrl` is where pryx listens (`http://127.0.0.1:8080`): the curl example goes through it;
 * `onboardingHost` is where devices get the certificate through pryx (onboarding_host).
 */
export function trustInstructions(ca: CertificateAuthority, proxyUrl: string, onboardingHost = ONBOARDING_HOST): string {
  const { paths } = ca;
  const pem = shellQuote(paths.certPem);
  const files: [string, string][] = [
    [paths.key, 'private key + certificate: keep it secret (mode 0600)'],
    [paths.certPem, 'certificate, PEM: what most clients trust'],
    [paths.certCer, 'certificate, DER: Android, Windows'],
    [paths.certP12, 'certificate, PKCS#12 without password: stores that import only .p12'],
  ];
  const width = Math.max(...files.map(([file]) => file.length));
  return `pryx CA certificate
  SHA-256 fingerprint  ${ca.fingerprint256}
  valid until          ${ca.notAfter.toISOString().slice(0, 10)}

Files
${files.map(([file, what]) => `  ${file.padEnd(width)}  ${what}`).join('\n')}

Trust it only on machines you control: anyone with ${paths.key} can read the traffic of every client that trusts it.

curl (one request through pryx at ${proxyUrl}; change it if you start pryx with -p or --listen-host)
  curl --cacert ${pem} -x ${proxyUrl} https://example.com/

Node.js (added to the built-in roots)
  export NODE_EXTRA_CA_CERTS=${pem}

Debian / Ubuntu (system store: curl, wget, Go and other tools that read /etc/ssl/certs)
  sudo cp ${pem} /usr/local/share/ca-certificates/pryx.crt && sudo update-ca-certificates

macOS (System keychain: Safari, Chrome and other apps that use the system trust)
  sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ${pem}

Windows (Administrator prompt)
  certutil -addstore -f Root ${cmdQuote(paths.certCer)}

Chrome / Chromium on Linux and other NSS users (certutil is in libnss3-tools)
  certutil -A -n pryx -t "C,," -i ${pem} -d sql:$HOME/.pki/nssdb
Firefox keeps its own store per profile: use -d sql:<profile directory> above, or
  Settings > Privacy & Security > Certificates > View Certificates > Authorities > Import.

Android
  Copy ${CA_FILE_NAMES.certCer} to the device (or open http://${onboardingHost}/ in its browser through pryx), then
  Settings > Security > Encryption & credentials > Install a certificate > CA certificate (menus vary by vendor).
  Chrome trusts user CAs, but apps targeting Android 7+ do not unless the app's network security config
  says so: <certificates src="user" /> in network_security_config.xml (or in <debug-overrides>).

iOS / iPadOS
  With the device proxied through pryx, open http://${onboardingHost}/ in Safari and download the certificate,
  install the profile (Settings > General > VPN & Device Management), then enable full trust in
  Settings > General > About > Certificate Trust Settings.
`;
}

/** POSIX single-quoting, left out when the word is plain, so the common case reads cleanly. */
function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** cmd.exe has no single quotes; double quotes suffice for a path. */
function cmdQuote(word: string): string {
  return /[\s&^|<>()]/.test(word) ? `"${word}"` : word;
}
