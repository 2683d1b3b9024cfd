import { test } from "node:test";
import assert from "node:assert/strict";
import { shaCrypt } from "../../../src/engine/proxy/sha-crypt.ts";

test("SHA-crypt gives the specification's test vectors: default rounds, rounds=, a salt cut to 16 characters, and rounds held to at least 1000", () => {
  // From https://www.akkadia.org/drepper/SHA-crypt.txt, and what glibc crypt(3) and openssl passwd -5/-6 give for them.
  const vectors: [string, string, string][] = [
    ["$5$saltstring", "Hello world!", "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"],
    ["$5$rounds=10000$saltstringsaltstring", "Hello world!", "$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA"],
    ["$5$rounds=10$roundstoolow", "the minimum number is still observed", "$5$rounds=1000$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC"],
    ["$6$saltstring", "Hello world!", "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"],
    ["$6$rounds=10000$saltstringsaltstring", "Hello world!", "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."],
  ];
  for (const [setting, password, hash] of vectors) assert.equal(shaCrypt(password, setting), hash, setting);
  assert.equal(shaCrypt("pw", "$1$abc$"), undefined, "not SHA-crypt");
});
