import { test } from "node:test";
import assert from "node:assert/strict";
import dnsPacket from "dns-packet";
import { DNSMessage, ResourceRecord } from "../../../src/engine/flow/dns.ts";

/** A response as it comes off the wire: dns-packet's own records. */
function decoded(): DNSMessage {
  const wire = dnsPacket.encode({
    type: "response",
    id: 7,
    questions: [{ name: "app.test", type: "A", class: "IN" }],
    answers: [
      { name: "app.test", type: "CNAME", class: "IN", ttl: 60, data: "edge.test" },
      { name: "edge.test", type: "A", class: "IN", ttl: 60, data: "10.0.0.9" },
      { name: "edge.test", type: "AAAA", class: "IN", ttl: 60, data: "2001:db8::9" },
      { name: "edge.test", type: "TXT", class: "IN", ttl: 60, data: ["v=spf1 -all"] },
    ],
  });
  return new DNSMessage(dnsPacket.decode(wire));
}

test("a message's records read as mitmproxy's ResourceRecord: str(), ipv4_address, ipv6_address, domain_name, text and class_", () => {
  const [cname, a, aaaa, txt] = decoded().answers;
  assert.deepEqual([cname, a, aaaa, txt].map(String), ["edge.test", "10.0.0.9", "2001:db8::9", "v=spf1 -all"]);
  assert.equal(a?.ipv4_address, "10.0.0.9");
  assert.equal(aaaa?.ipv6_address, "2001:db8::9");
  assert.equal(cname?.domain_name, "edge.test");
  assert.equal(txt?.text, "v=spf1 -all");
  assert.equal((a as unknown as { class_: string }).class_, "IN");
  // Another type's reading is undefined, not a wrong value.
  assert.equal(a?.ipv6_address, undefined);
  assert.equal(cname?.ipv4_address, undefined);
});

test("records keep being the objects the message encodes: one appended is sent, and the records' own fields are dns-packet's", () => {
  const msg = decoded();
  msg.answers.push(ResourceRecord.A("more.test", "10.0.0.10").toAnswer() as never);
  const again = new DNSMessage(dnsPacket.decode(dnsPacket.encode(msg.packet)));
  assert.deepEqual(again.answers.map((r) => `${r.name} ${String(r)}`), ["app.test edge.test", "edge.test 10.0.0.9", "edge.test 2001:db8::9", "edge.test v=spf1 -all", "more.test 10.0.0.10"]);
  assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(msg.answers[1]))).sort(), ["class", "data", "flush", "name", "ttl", "type"]);
  assert.equal(String(ResourceRecord.A("made.test", "10.1.2.3")), "10.1.2.3");
  assert.equal(ResourceRecord.CNAME("a.test", "b.test").domain_name, "b.test");
});

test("ResourceRecord.DEFAULT_TTL is mitmproxy's 60, the TTL of a record made without one", () => {
  assert.equal(ResourceRecord.DEFAULT_TTL, 60);
  assert.equal(new ResourceRecord({ name: "app.test", type: "AAAA", data: "::1" }).ttl, 60);
  assert.equal(ResourceRecord.A("app.test", "10.0.0.1").ttl, 60);
});
