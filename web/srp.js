// SRP-6a as Amazon Cognito's USER_SRP_AUTH does it (the same math as amazon-cognito-identity-js).
// Pure functions: every random value comes in as an argument, so fixed inputs give fixed
// outputs (tests/web/srp_vectors.json). Hashing and HMAC use WebCrypto, hence async.

import { base64ToBytes, bytesToBase64, bytesToHex, concatBytes, hexToBytes, utf8 } from "./bytes.js";

// The 3072-bit MODP group of RFC 3526, which Cognito uses; generator 2.
export const N_HEX =
  "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD" +
  "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED" +
  "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F" +
  "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B" +
  "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510" +
  "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7" +
  "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C" +
  "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF";
export const N = BigInt(`0x${N_HEX}`);
export const g = 2n;
export const SMALL_A_BYTES = 128; // how many random bytes the caller passes to smallA
const DERIVED_KEY_INFO = "Caldera Derived Key";
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function subtle() {
  return globalThis.crypto.subtle;
}

export function fromHex(hex) {
  if (!/^[0-9a-fA-F]+$/.test(hex)) {
    throw new TypeError("not a hex number");
  }
  return BigInt(`0x${hex}`);
}

export function toHex(value) {
  return value.toString(16);
}

// Hex of a non-negative number as Cognito hashes it: an even number of digits, and a
// leading 00 when the first digit has its high bit set (so it reads as positive).
export function padHex(value) {
  if (value < 0n) {
    throw new RangeError("padHex takes non-negative numbers");
  }
  const hex = toHex(value);
  if (hex.length % 2 === 1) {
    return `0${hex}`;
  }
  return "89abcdef".includes(hex[0]) ? `00${hex}` : hex;
}

export function modPow(base, exponent, modulus) {
  let result = 1n;
  let square = ((base % modulus) + modulus) % modulus;
  let rest = exponent;
  while (rest > 0n) {
    if (rest & 1n) {
      result = (result * square) % modulus;
    }
    square = (square * square) % modulus;
    rest >>= 1n;
  }
  return result;
}

async function sha256(bytes) {
  return new Uint8Array(await subtle().digest("SHA-256", bytes));
}

// SHA-256 of the bytes a hex string spells, as 64 hex digits.
export async function hashHex(hex) {
  return bytesToHex(await sha256(hexToBytes(hex)));
}

// k = H(pad(N) | pad(g))
export async function multiplierK() {
  return fromHex(await hashHex(padHex(N) + padHex(g)));
}

// The client's secret a from random bytes (128 of them, as Cognito's own clients use).
export function smallA(randomBytes) {
  const a = fromHex(bytesToHex(randomBytes)) % N;
  if (a === 0n) {
    throw new RangeError("the random bytes gave a = 0: draw again");
  }
  return a;
}

// A = g^a mod N, sent as SRP_A (plain hex).
export function largeA(a) {
  const A = modPow(g, a, N);
  if (A % N === 0n) {
    throw new RangeError("A mod N is 0: draw another a");
  }
  return A;
}

// u = H(pad(A) | pad(B))
export async function scramblingU(A, B) {
  const u = fromHex(await hashHex(padHex(A) + padHex(B)));
  if (u === 0n) {
    throw new RangeError("u is 0: start the sign-in again");
  }
  return u;
}

// x = H(pad(salt) | H(poolName | userId | ":" | password))
export async function privateX(poolName, userId, password, saltHex) {
  const inner = bytesToHex(await sha256(utf8(`${poolName}${userId}:${password}`)));
  return fromHex(await hashHex(padHex(fromHex(saltHex)) + inner));
}

// S = (B - k * g^x) ^ (a + u * x) mod N
export function premasterS({ B, k, x, a, u }) {
  const base = (((B - k * modPow(g, x, N)) % N) + N) % N;
  return modPow(base, a + u * x, N);
}

// HKDF-SHA256(ikm = pad(S), salt = pad(u), info = "Caldera Derived Key"), 16 bytes.
export async function derivedKey(S, u) {
  const ikm = await subtle().importKey("raw", hexToBytes(padHex(S)), "HKDF", false, [
    "deriveBits",
  ]);
  const bits = await subtle().deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: hexToBytes(padHex(u)), info: utf8(DERIVED_KEY_INFO) },
    ikm,
    128,
  );
  return new Uint8Array(bits);
}

// The pool's name: the part of its id after the region ("eu-west-1_AbCdEf" -> "AbCdEf").
export function poolName(userPoolId) {
  const name = userPoolId.split("_")[1];
  if (!name) {
    throw new TypeError(`not a user pool id: ${userPoolId}`);
  }
  return name;
}

// "Tue Dec 2 01:23:45 UTC 2026": UTC, the day of the month not zero-padded.
export function cognitoTimestamp(date) {
  const two = (n) => String(n).padStart(2, "0");
  return (
    `${DAYS[date.getUTCDay()]} ${MONTHS[date.getUTCMonth()]} ${date.getUTCDate()} ` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} ` +
    `UTC ${date.getUTCFullYear()}`
  );
}

// base64(HMAC-SHA256(key, poolName | userId | secretBlock bytes | timestamp))
export async function claimSignature({ key, poolName: name, userId, secretBlock, timestamp }) {
  const hmacKey = await subtle().importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const message = concatBytes(utf8(name), utf8(userId), base64ToBytes(secretBlock), utf8(timestamp));
  return bytesToBase64(new Uint8Array(await subtle().sign("HMAC", hmacKey, message)));
}

// Every intermediate value of one PASSWORD_VERIFIER answer (the tests compare them all).
export async function passwordVerifier({ userPoolId, password, challenge, a, date }) {
  const name = poolName(userPoolId);
  const userId = challenge.USER_ID_FOR_SRP;
  const B = fromHex(challenge.SRP_B);
  if (B % N === 0n) {
    throw new RangeError("the server's B is invalid");
  }
  const A = largeA(a);
  const k = await multiplierK();
  const u = await scramblingU(A, B);
  const x = await privateX(name, userId, password, challenge.SALT);
  const S = premasterS({ B, k, x, a, u });
  const key = await derivedKey(S, u);
  const timestamp = cognitoTimestamp(date);
  const signature = await claimSignature({
    key,
    poolName: name,
    userId,
    secretBlock: challenge.SECRET_BLOCK,
    timestamp,
  });
  return {
    A,
    k,
    u,
    x,
    S,
    key,
    timestamp,
    responses: {
      USERNAME: challenge.USERNAME || userId,
      PASSWORD_CLAIM_SECRET_BLOCK: challenge.SECRET_BLOCK,
      PASSWORD_CLAIM_SIGNATURE: signature,
      TIMESTAMP: timestamp,
    },
  };
}
