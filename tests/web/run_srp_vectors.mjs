// Feeds tests/web/srp_vectors.json to web/srp.js in Node and prints what srp.js derives.
// Usage: node run_srp_vectors.mjs <url of srp.js> <vectors.json>
// (tests/web/test_srp_js_node.py runs it on a copy of web/ marked as ES modules.)
import { readFileSync } from "node:fs";

const [srpUrl, vectorsPath] = process.argv.slice(2);
const srp = await import(srpUrl);
const vectors = JSON.parse(readFileSync(vectorsPath, "utf-8"));
const hexToBytes = (hex) => Uint8Array.from(hex.match(/../g), (pair) => parseInt(pair, 16));

const results = [];
for (const vector of vectors.cases) {
  const input = vector.input;
  const a = srp.smallA(hexToBytes(input.random_a_hex));
  const out = await srp.passwordVerifier({
    userPoolId: input.user_pool_id,
    password: input.password,
    challenge: input.challenge,
    a,
    date: new Date(input.time_utc),
  });
  results.push({
    name: vector.name,
    small_a_hex: srp.toHex(a),
    srp_a_hex: srp.toHex(out.A),
    k_hex: srp.toHex(out.k),
    u_hex: srp.toHex(out.u),
    x_hex: srp.toHex(out.x),
    s_hex: srp.toHex(out.S),
    hkdf_hex: Buffer.from(out.key).toString("hex"),
    timestamp: out.timestamp,
    challenge_responses: out.responses,
  });
}
process.stdout.write(JSON.stringify(results));
