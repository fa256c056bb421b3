// Check that a webhook message really comes from salescore, with node:crypto only.
//
// salescore signs each message the Standard Webhooks way: HMAC-SHA256, keyed with the
// endpoint's secret (the bytes that `whsec_<base64>` stands for), over
// `<webhook-id>.<webhook-timestamp>.<raw body>`, sent as `v1,<base64 of the digest>` in
// `webhook-signature`. During a secret rotation the header holds two signatures,
// separated by a space; one matching is enough.

import { createHmac, timingSafeEqual } from "node:crypto";

const TOLERANCE_SECONDS = 5 * 60; // refuse messages signed more than five minutes from now

export function verifyWebhook(
  secret: string,
  headers: Record<string, string>,
  body: string,
): boolean {
  const named = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    named.set(name.toLowerCase(), value);
  }
  const messageId = named.get("webhook-id") ?? "";
  const timestamp = named.get("webhook-timestamp") ?? "";
  const signatures = named.get("webhook-signature") ?? "";
  if (messageId === "" || !/^[0-9]+$/.test(timestamp) || signatures === "") {
    return false;
  }
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > TOLERANCE_SECONDS) {
    return false;
  }
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = Buffer.from(
    createHmac("sha256", key)
      .update(`${messageId}.${timestamp}.`, "utf8")
      .update(body, "utf8") // the raw body, exactly as received
      .digest("base64"),
  );
  for (const candidate of signatures.split(" ")) {
    const comma = candidate.indexOf(",");
    if (comma < 0 || candidate.slice(0, comma) !== "v1") {
      continue;
    }
    const given = Buffer.from(candidate.slice(comma + 1));
    if (given.length === expected.length && timingSafeEqual(given, expected)) {
      return true;
    }
  }
  return false;
}
