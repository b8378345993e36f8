#!/usr/bin/env node
// An independent verifier of cssec's formats, written from docs/protocol.md alone, with
// nothing but Node.js's standard library (node:crypto for Ed25519, ECDSA, RSA, HMAC, SHA-256).
//
//   node docs/vectors/verify.mjs [VECTOR_DIR]
//
// Checks every case of every vector file against its expected verdict and exits 1 on any
// disagreement (0 when all agree, 2 when the files cannot be read). Section numbers (§)
// refer to docs/protocol.md.

import crypto from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const DIR = process.argv[2] ?? dirname(fileURLToPath(import.meta.url));
const FILES = [
  "codes", "canonical_json", "envelopes", "status_statements", "endorsements",
  "license_requests", "license_responses", "cert_renewals", "install_tokens", "bundles",
  "manifests", "webhooks",
];

// --- §2 canonical JSON ------------------------------------------------------------------

class NotCanonical extends Error {}

function codePoints(s) {
  return Array.from(s, (ch) => ch.codePointAt(0));
}

function compareKeys(a, b) {
  const x = codePoints(a);
  const y = codePoints(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i] - y[i];
  }
  return x.length - y.length;
}

const SHORT_ESCAPES = { 8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r", 34: '\\"', 92: "\\\\" };

function canonicalString(s) {
  // In a u-flag regex a surrogate pair is one code point: this matches unpaired ones only
  // (String.prototype.isWellFormed is newer than Debian 12's Node 18).
  if (/[\uD800-\uDFFF]/u.test(s)) throw new NotCanonical("unpaired surrogate");
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0);
    if (SHORT_ESCAPES[cp] !== undefined) out += SHORT_ESCAPES[cp];
    else if (cp < 0x20) out += "\\u" + cp.toString(16).padStart(4, "0");
    else out += ch;
  }
  return out + '"';
}

function canonicalText(value) {
  if (value === null) return "null";
  if (value === true) return "true";
  if (value === false) return "false";
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new NotCanonical("not an integer");
    return String(value);
  }
  if (typeof value === "string") return canonicalString(value);
  if (Array.isArray(value)) return "[" + value.map(canonicalText).join(",") + "]";
  if (typeof value === "object") {
    const keys = Object.keys(value).sort(compareKeys);
    return "{" + keys.map((k) => canonicalString(k) + ":" + canonicalText(value[k])).join(",") + "}";
  }
  throw new NotCanonical(typeof value);
}

function canonical(value) {
  return Buffer.from(canonicalText(value), "utf8");
}

// --- helpers ----------------------------------------------------------------------------

const isObject = (v) => typeof v === "object" && v !== null && !Array.isArray(v);
const isInt = (v) => typeof v === "number" && Number.isSafeInteger(v);
const sha256 = (data) => crypto.createHash("sha256").update(data).digest();
const sha256hex = (data) => sha256(data).toString("hex");
const hmac = (key, data) => crypto.createHmac("sha256", key).update(data).digest();
const cpLength = (s) => Array.from(s).length;

function strictBase64(text) {
  if (typeof text !== "string") return null;
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) return null;
  return Buffer.from(text, "base64");
}

function b64urlDecode(text) {
  // Unpadded and canonical (RFC 7515 §2): the unused low bits of the last symbol are zero.
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  const raw = Buffer.from(text, "base64url");
  return raw.toString("base64url") === text ? raw : null;
}

// Dates (§4): YYYY-MM-DD, a real calendar date.
function parseDate(text) {
  if (typeof text !== "string") return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = Date.UTC(y, mo - 1, d);
  const back = new Date(t);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) {
    return null;
  }
  return t;
}

// Date-times (§4): YYYY-MM-DDTHH:MM:SS[.fraction] with Z or ±HH:MM; milliseconds since 1970
// or null (no offset: null).
function parseDateTime(text) {
  if (typeof text !== "string") return null;
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (!m) return null;
  const day = parseDate(m[1]);
  const [h, mi, s] = [Number(m[2]), Number(m[3]), Number(m[4])];
  if (day === null || h > 23 || mi > 59 || s > 59) return null;
  let offset = 0;
  if (m[6] !== "Z") {
    const sign = m[6][0] === "-" ? -1 : 1;
    offset = sign * (Number(m[6].slice(1, 3)) * 60 + Number(m[6].slice(4, 6)));
  }
  const frac = m[5] ? Math.floor(Number(m[5]) * 1000) : 0;
  return day + ((h * 60 + mi - offset) * 60 + s) * 1000 + frac;
}

const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);
const isoSecond = (ms) => new Date(ms).toISOString().slice(0, 19) + "Z";

// --- §1 codes ---------------------------------------------------------------------------

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const DROP = new Set([0x2d, 0xad, 0x200b, 0x200c, 0x200d, 0x2010, 0x2011, 0x2012, 0x2013, 0x2014,
  0x2015, 0x2043, 0x2060, 0x2212, 0x30fc, 0xfe58, 0xfeff]);
const WHITESPACE = new Set([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85,
  0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009,
  0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000]);
const FOLD = { O: "0", I: "1", L: "1" };
const SKIP = -1;
const BAD = -2;

function foldCodePoint(cp) {
  if (DROP.has(cp)) return SKIP;
  const k = codePoints(String.fromCodePoint(cp).normalize("NFKC"));
  if (k.length === 1 && DROP.has(k[0])) return SKIP;
  if (k.length > 0 && k.every((c) => WHITESPACE.has(c))) return SKIP;
  if (k.length !== 1 || k[0] >= 0x80) return BAD;
  let up = String.fromCodePoint(k[0]).toUpperCase();
  up = FOLD[up] ?? up;
  const index = ALPHABET.indexOf(up);
  return index >= 0 ? index : BAD;
}

function readSymbols(text) {
  const symbols = [];
  let position = 0;
  let first = null;
  for (const ch of text) {
    position += 1;
    const value = foldCodePoint(ch.codePointAt(0));
    if (value === BAD) return { bad: position };
    if (value >= 0) {
      symbols.push(value);
      if (first === null) first = position;
    }
  }
  return { symbols, first: first ?? 1 };
}

function mul2(x) {
  const y = x << 1;
  return y & 0b100000 ? y ^ 0b100101 : y;
}

function dammInterim(values) {
  let interim = 0;
  for (const s of values) interim = mul2(interim) ^ s;
  return interim;
}

function toBig(values) {
  let n = 0n;
  for (const v of values) n = (n << 5n) | BigInt(v);
  return n;
}

function bigBytes(n, length) {
  const out = Buffer.alloc(length);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

const fail = (reason, position = null, value = null) => ({ ok: false, reason, position, value });

function formatGroups(text, groups) {
  const parts = [];
  let start = 0;
  for (const g of groups) {
    parts.push(text.slice(start, start + g));
    start += g;
  }
  return parts.join("-");
}

const AC = { length: 31, other: 18, groups: [2, 4, 5, 5, 5, 5, 5] };
const RK = { length: 18, other: 31, groups: [2, 4, 4, 4, 4] };
const PREFIXES = { CS: "CS", DC: "DCS" };

function readCode(text, kind) {
  const read = readSymbols(text);
  if (read.bad !== undefined) return { error: fail("bad_character", read.bad) };
  const count = read.symbols.length;
  if (count === 0) return { error: fail("empty") };
  if (count === kind.other) return { error: fail("wrong_kind") };
  if (count !== kind.length) return { error: fail("wrong_length") };
  if (dammInterim(read.symbols) !== 0) return { error: fail("check_failed") };
  const canonicalText = read.symbols.map((v) => ALPHABET[v]).join("");
  return { n: toBig(read.symbols), text: canonicalText, first: read.first };
}

// §1.4: structure checks 1-7; `macInput` and the decoded value for the full check.
function parseActivationCode(text, expectedProduct) {
  const read = readCode(text, AC);
  if (read.error) return read.error;
  const { n } = read;
  const field = (shift, bits) => Number((n >> BigInt(shift)) & ((1n << BigInt(bits)) - 1n));
  const version = field(141, 4);
  if (version !== 1) return fail("unsupported_version");
  const product = PREFIXES[read.text.slice(0, 2)];
  if (product === undefined) return fail("out_of_range", read.first);
  if (field(139, 2) !== 0) return fail("out_of_range");
  const seats = field(123, 16);
  if (seats === 0) return fail("out_of_range");
  const value = {
    text: read.text,
    formatted: formatGroups(read.text, AC.groups),
    version,
    kid: field(69, 6),
    serial: field(75, 32),
    mac: bigBytes((n >> 5n) & ((1n << 64n) - 1n), 8).toString("hex"),
    product,
    version_type: "full",
    seats,
    expires_on: isoDay(Date.UTC(2000, 0, 1) + field(107, 16) * 86400000),
  };
  const macInput = Buffer.concat([Buffer.from("cssec-ac1"), bigBytes(n >> 69n, 11)]);
  if (expectedProduct != null && expectedProduct !== product) {
    return { ...fail("wrong_product", read.first, value), macInput };
  }
  return { ok: true, reason: null, position: null, value, macInput };
}

function parseRegistrationKey(text) {
  const read = readCode(text, RK);
  if (read.error) return read.error;
  const { n } = read;
  const version = Number(n >> 86n);
  if (version !== 1) return fail("unsupported_version");
  const value = {
    text: read.text,
    formatted: formatGroups(read.text, RK.groups),
    version,
    kid: Number((n >> 81n) & 0x1fn),
    serial: Number((n >> 45n) & ((1n << 36n) - 1n)),
    mac: bigBytes((n >> 5n) & ((1n << 40n) - 1n), 5).toString("hex"),
  };
  const macInput = Buffer.concat([Buffer.from("cssec-rk1"), bigBytes(n >> 45n, 6)]);
  return { ok: true, reason: null, position: null, value, macInput };
}

function withMac(parsed, secrets, macLength) {
  if (parsed.value === null) return parsed;
  const secret = secrets.get(parsed.value.kid);
  const expected = secret === undefined ? null : hmac(secret, parsed.macInput).subarray(0, macLength);
  const given = Buffer.from(parsed.value.mac, "hex");
  if (expected === null || !crypto.timingSafeEqual(expected, given)) {
    return fail("mac_failed", null, parsed.value);
  }
  return parsed;
}

const strip = ({ ok, reason, position, value }) => ({ ok, reason, position, value });

function checkCode(c, keys) {
  const secrets = new Map(Object.entries(keys.hmac).map(([k, v]) => [Number(k), Buffer.from(v, "hex")]));
  if (c.kind === "activation_code") {
    const parsed = parseActivationCode(c.input, c.expected_product);
    return { structure: strip(parsed), full: strip(withMac(parsed, secrets, 8)) };
  }
  const parsed = parseRegistrationKey(c.input);
  return { structure: strip(parsed), full: strip(withMac(parsed, secrets, 5)) };
}

// The fold table of codes.json against this implementation's NFKC: code points assigned
// after the table's Unicode version may differ (the spec allows it), nothing else may.
function checkFoldTable(fold) {
  const skip = new Set(fold.skip.map((h) => parseInt(h, 16)));
  const symbols = new Map(Object.entries(fold.symbols).map(([h, s]) => [parseInt(h, 16), s]));
  const assignedBefore = new RegExp(`^\\p{Assigned}$`, "u");
  const problems = [];
  for (let cp = 0; cp < 0x110000; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const mine = foldCodePoint(cp);
    let theirs = BAD;
    if (skip.has(cp)) theirs = SKIP;
    else if (symbols.has(cp)) theirs = ALPHABET.indexOf(symbols.get(cp));
    else if (cp < 0x80) theirs = foldCodePoint(cp); // ASCII: the rules of §1.2 alone
    if (mine !== theirs) {
      const newer = theirs === BAD && assignedBefore.test(String.fromCodePoint(cp));
      problems.push({ cp: cp.toString(16).toUpperCase().padStart(4, "0"), mine, theirs, newer });
    }
  }
  return problems;
}

// --- §3 envelopes -----------------------------------------------------------------------

const kidFor = (raw) => "ed25519-" + sha256hex(raw).slice(0, 16);

// A JWK per §3's rules: {kid, key} or null.
function jwkKey(jwk) {
  if (!isObject(jwk) || jwk.kty !== "OKP" || jwk.crv !== "Ed25519") return null;
  if ("d" in jwk) return null;
  if ("alg" in jwk && jwk.alg !== "EdDSA") return null;
  const raw = b64urlDecode(jwk.x);
  if (raw === null || raw.length !== 32) return null;
  const kid = kidFor(raw);
  if ("kid" in jwk && jwk.kid !== kid) return null;
  const key = crypto.createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: jwk.x }, format: "jwk" });
  return { kid, key };
}

function vendorKeys(keys, kids) {
  const byKid = new Map();
  for (const entry of Object.values(keys.ed25519)) byKid.set(entry.kid, jwkKey(entry.jwk));
  return new Map(kids.map((kid) => [kid, byKid.get(kid)]));
}

function verifyEnvelope(envelope, keys) {
  const refuse = (reason) => ({ ok: false, reason, statement: null });
  if (!isObject(envelope)) return refuse("malformed_envelope");
  const { alg, kid } = envelope;
  if (alg !== "ed25519") return refuse("unsupported_alg");
  if (typeof kid !== "string") return refuse("malformed_envelope");
  const held = keys.get(kid);
  if (held === undefined) return refuse("unknown_kid");
  if (held.kid !== kid) return refuse("kid_mismatch");
  if (!isObject(envelope.statement)) return refuse("malformed_statement");
  if (typeof envelope.signature !== "string") return refuse("malformed_signature");
  const signature = strictBase64(envelope.signature);
  if (signature === null || signature.length !== 64) return refuse("malformed_signature");
  let signed;
  try {
    signed = canonical({ alg, kid, statement: envelope.statement });
  } catch (e) {
    if (e instanceof NotCanonical) return refuse("malformed_statement");
    throw e;
  }
  if (!crypto.verify(null, signed, held.key, signature)) return refuse("bad_signature");
  return { ok: true, reason: null, statement: envelope.statement };
}

function checkEnvelope(c, keys) {
  const { ok, reason } = verifyEnvelope(c.envelope, vendorKeys(keys, c.context.keys));
  return { ok, reason };
}

// --- §4 status statements, revocations --------------------------------------------------

class Refused extends Error {
  constructor(reason) {
    super(reason);
    this.reason = reason;
  }
}

// Steps 0-7 of §4 (step 8 for revocations; 7' for rejections); the facts or Refused.
function verifyStatus(envelope, keys, ctx, { revocation = false, rejection = false } = {}) {
  if ((revocation || rejection) && !isObject(envelope)) throw new Refused("malformed_statement");
  const checked = verifyEnvelope(envelope, keys);
  if (!checked.ok) throw new Refused(checked.reason);
  const st = checked.statement;
  if (ctx.nonce != null && st.nonce !== ctx.nonce) {
    throw new Refused("nonce" in st ? "nonce_mismatch" : "nonce_missing");
  }
  if (st.v !== 1) throw new Refused("unsupported_statement_version");
  if (st.activation_code !== ctx.activation_code) throw new Refused("activation_code_mismatch");
  if (st.server_id !== ctx.server_id) throw new Refused("server_id_mismatch");
  if (st.product !== ctx.product) throw new Refused("product_mismatch");
  if (rejection) {
    if (st.state !== "invalid" && st.state !== "unknown") throw new Refused("not_a_rejection");
    const issuedAt = parseDateTime(st.issued_at);
    if (issuedAt === null) throw new Refused("malformed_statement");
    return { st, issuedAt };
  }
  const contractEnd = parseDate(st.contract_end);
  const issuedAt = parseDateTime(st.issued_at);
  if (
    st.version_type !== "full" || contractEnd === null || !isInt(st.grace_days) ||
    st.grace_days < 0 || st.grace_days > 3650 || !isInt(st.seats) || st.seats < 1 ||
    issuedAt === null || !("state" in st)
  ) {
    throw new Refused("malformed_statement");
  }
  const facts = { st, contractEnd, issuedAt };
  if (revocation) {
    if (st.state !== "revoked") throw new Refused("not_a_revocation");
    const revokedAt = parseDateTime(st.revoked_at);
    if (revokedAt === null) throw new Refused("malformed_statement");
    facts.revokedAt = revokedAt;
  }
  return facts;
}

function checkStatus(c, keys) {
  const ctx = c.context;
  try {
    const facts = verifyStatus(c.envelope, vendorKeys(keys, ctx.keys), ctx, {
      revocation: Boolean(ctx.expect_revocation),
      rejection: Boolean(ctx.expect_rejection),
    });
    if (ctx.expect_rejection) return { ok: true, reason: null, state: facts.st.state };
    if (ctx.expect_revocation) return { ok: true, reason: null, revoked_at: isoSecond(facts.revokedAt) };
    if (ctx.last_issued_at != null && facts.issuedAt < parseDateTime(ctx.last_issued_at)) {
      return { ok: false, reason: "stale_statement" };
    }
    return {
      ok: true,
      reason: null,
      state: String(facts.st.state),
      contract_end: isoDay(facts.contractEnd),
      grace_end: isoDay(facts.contractEnd + facts.st.grace_days * 86400000),
      seats: facts.st.seats,
    };
  } catch (e) {
    if (e instanceof Refused) return { ok: false, reason: e.reason };
    throw e;
  }
}

// --- §5 endorsements --------------------------------------------------------------------

function followEndorsements(trusted, endorsements) {
  const known = new Map(trusted);
  const learned = new Map();
  let pending = [...endorsements];
  let progress = true;
  while (progress) {
    progress = false;
    for (const envelope of [...pending]) {
      const checked = verifyEnvelope(envelope, known);
      if (!checked.ok || checked.statement.kind !== "signing_key_endorsement") continue;
      pending = pending.filter((e) => e !== envelope);
      const key = jwkKey(checked.statement.jwk);
      if (key !== null && !known.has(key.kid)) {
        known.set(key.kid, key);
        learned.set(key.kid, key);
        progress = true;
      }
    }
  }
  return learned;
}

function checkEndorsements(c, keys) {
  const trusted = vendorKeys(keys, c.context.trusted);
  const learned = followEndorsements(trusted, c.endorsements);
  const verdict = { ok: true, reason: null, learned: [...learned.keys()].sort() };
  if (c.probe !== undefined) {
    const { ok, reason } = verifyEnvelope(c.probe, new Map([...trusted, ...learned]));
    verdict.probe = { ok, reason };
  }
  return verdict;
}

// --- §6 request and response files ------------------------------------------------------

const MAX_FILE_BYTES = 262144;

function loadJsonFile(text) {
  if (Buffer.byteLength(text, "utf8") > MAX_FILE_BYTES) throw new Refused("too_large");
  let value;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch {
    throw new Refused("not_json");
  }
  if (!isObject(value)) throw new Refused("malformed");
  return value;
}

function requestDigest(envelope) {
  const pick = (k) => (envelope[k] === undefined ? null : envelope[k]);
  return sha256hex(canonical({
    statement: pick("statement"), alg: pick("alg"), kid: pick("kid"), signature: pick("signature"),
  }));
}

function checkRequest(c) {
  try {
    const envelope = loadJsonFile(c.file);
    const key = jwkKey(envelope.public_key);
    if (key === null) throw new Refused("bad_public_key");
    const checked = verifyEnvelope(envelope, new Map([[key.kid, key]]));
    if (!checked.ok) throw new Refused(checked.reason);
    const st = checked.statement;
    if (st.kind !== "license_request") throw new Refused("not_a_request");
    if (st.v !== 1) throw new Refused("unsupported_version");
    if (typeof st.server_id !== "string" || !/^[A-Za-z0-9._:-]{1,64}$/.test(st.server_id)) {
      throw new Refused("malformed");
    }
    if (typeof st.nonce !== "string" || !/^[A-Za-z0-9_-]{16,64}$/.test(st.nonce)) {
      throw new Refused("malformed");
    }
    const seats = st.seats_used;
    if (seats !== null && seats !== undefined && (!isInt(seats) || seats < 0 || seats > 1e7)) {
      throw new Refused("malformed");
    }
    if (!Array.isArray(st.codes) || st.codes.length < 1 || st.codes.length > 8) {
      throw new Refused("no_codes");
    }
    for (const item of st.codes) {
      const ok = isObject(item) && typeof item.product === "string" &&
        typeof item.activation_code === "string" && cpLength(item.product) >= 1 &&
        cpLength(item.product) <= 8 && cpLength(item.activation_code) >= 1 &&
        cpLength(item.activation_code) <= 64;
      if (!ok) throw new Refused("malformed");
    }
    if (parseDateTime(st.created_at) === null) throw new Refused("malformed");
    return { ok: true, reason: null, request_sha256: requestDigest(envelope), server_kid: key.kid };
  } catch (e) {
    if (e instanceof Refused) return { ok: false, reason: e.reason };
    throw e;
  }
}

function checkResponse(c, keys) {
  const ctx = c.context;
  try {
    const body = loadJsonFile(c.file);
    if (body.kind !== "license_response") throw new Refused("not_a_response");
    if (body.v !== 1) throw new Refused("unsupported_version");
    const statements = body.statements;
    const rawKeys = "keys" in body ? body.keys : [];
    const endorsements = "endorsements" in body ? body.endorsements : [];
    if (typeof body.server_id !== "string" || typeof body.nonce !== "string") {
      throw new Refused("malformed");
    }
    if (typeof body.request_sha256 !== "string" || !/^[0-9a-f]{64}$/.test(body.request_sha256)) {
      throw new Refused("malformed");
    }
    if (!Array.isArray(statements) || statements.length < 1 || statements.length > 8 ||
        !statements.every(isObject)) {
      throw new Refused("malformed");
    }
    if (!Array.isArray(rawKeys) || !Array.isArray(endorsements)) throw new Refused("malformed");
    try {
      canonical(statements);
    } catch (e) {
      if (e instanceof NotCanonical) throw new Refused("malformed");
      throw e;
    }
    if (body.server_id !== ctx.server_id) throw new Refused("license_response_wrong_server");
    const request = ctx.request;
    if (Array.from(body.nonce).slice(0, 64).join("") !== request.nonce ||
        body.request_sha256 !== request.request_sha256) {
      throw new Refused("license_response_unknown_request");
    }
    const pinned = vendorKeys(keys, ctx.pinned);
    const verifying = new Map([...pinned, ...followEndorsements(pinned, endorsements)]);
    const byProduct = new Map(request.codes.map((x) => [x.product, x.activation_code]));
    const results = [];
    for (const envelope of statements) {
      const st = envelope.statement;
      const product = isObject(st) ? st.product : undefined;
      if (typeof product !== "string" || !byProduct.has(product)) throw new Refused("product_mismatch");
      if (st.request_sha256 !== request.request_sha256) throw new Refused("request_mismatch");
      const bind = {
        nonce: request.nonce, activation_code: byProduct.get(product), server_id: ctx.server_id,
        product,
      };
      if (st.state === "revoked") {
        verifyStatus(envelope, verifying, bind, { revocation: true });
        results.push({ product, state: "revoked" });
      } else {
        const facts = verifyStatus(envelope, verifying, bind);
        results.push({ product, state: String(facts.st.state), contract_end: isoDay(facts.contractEnd) });
      }
    }
    return { ok: true, reason: null, statements: results };
  } catch (e) {
    if (e instanceof Refused) return { ok: false, reason: e.reason };
    throw e;
  }
}

// --- §7 certificate renewals ------------------------------------------------------------

const RENEWAL_ALGS = new Set(["ES256", "RS256", "EdDSA"]);

function verifiedLink(statement) {
  if (!isObject(statement)) return null;
  const { renewal, alg, signature } = statement;
  if (!RENEWAL_ALGS.has(alg) || !isObject(renewal) || typeof signature !== "string") return null;
  let oldCert;
  let newCert;
  try {
    if (typeof renewal.old_cert !== "string" || typeof renewal.new_cert !== "string") return null;
    oldCert = new crypto.X509Certificate(renewal.old_cert);
    newCert = new crypto.X509Certificate(renewal.new_cert);
  } catch {
    return null;
  }
  const sig = strictBase64(signature);
  if (sig === null) return null;
  let signed;
  try {
    signed = canonical({ alg, renewal });
  } catch (e) {
    if (e instanceof NotCanonical) return null;
    throw e;
  }
  const oldFp = "sha256:" + sha256hex(oldCert.raw);
  const newFp = "sha256:" + sha256hex(newCert.raw);
  if (renewal.old_fingerprint !== oldFp || renewal.new_fingerprint !== newFp) return null;
  const key = oldCert.publicKey;
  const type = key.asymmetricKeyType;
  let ok = false;
  try {
    if (alg === "ES256" && type === "ec") ok = crypto.verify("sha256", signed, key, sig);
    else if (alg === "RS256" && type === "rsa") {
      ok = crypto.verify("sha256", signed, { key, padding: crypto.constants.RSA_PKCS1_PADDING }, sig);
    } else if (alg === "EdDSA" && type === "ed25519") ok = crypto.verify(null, signed, key, sig);
  } catch {
    ok = false;
  }
  return ok ? { oldFp, newFp } : null;
}

function checkRenewals(c) {
  const links = new Map();
  for (const statement of c.renewals.slice(0, 128)) {
    const link = verifiedLink(statement);
    if (link !== null && !links.has(link.oldFp)) links.set(link.oldFp, link.newFp);
  }
  let current = c.context.pinned;
  for (let i = 0; i < 32; i++) {
    if (!links.has(current)) break;
    current = links.get(current);
    if (current === c.context.presented) return { ok: true, reason: null, fingerprint: current };
  }
  return { ok: false, reason: "no_chain" };
}

// --- §8 install tokens ------------------------------------------------------------------

function stripWhitespace(text) {
  const cps = codePoints(text);
  let a = 0;
  let b = cps.length;
  while (a < b && WHITESPACE.has(cps[a])) a++;
  while (b > a && WHITESPACE.has(cps[b - 1])) b--;
  return String.fromCodePoint(...cps.slice(a, b));
}

function checkInstallToken(c) {
  const token = stripWhitespace(c.input);
  const dot = token.lastIndexOf(".");
  let secret = token;
  let fingerprint = null;
  if (dot >= 0) {
    const digits = token.slice(dot + 1).replace(/[: ]/g, "").toLowerCase();
    if (/^[0-9a-f]{64}$/.test(digits)) {
      secret = token.slice(0, dot);
      fingerprint = "sha256:" + digits;
    }
  }
  return { ok: true, reason: null, secret, fingerprint, secret_sha256: sha256hex(Buffer.from(secret, "utf8")) };
}

// --- §9 bundle.json ---------------------------------------------------------------------

function checkBundle(c, keys) {
  const ctx = c.context;
  const refuse = (reason) => ({ ok: false, reason });
  let envelope;
  try {
    envelope = JSON.parse(c.bundle_json);
  } catch {
    return refuse("bad_bundle");
  }
  const checked = verifyEnvelope(envelope, vendorKeys(keys, ctx.pinned));
  if (!checked.ok || checked.statement.kind !== "component_bundle") return refuse("bad_bundle");
  const st = checked.statement;
  const mine = new Set();
  for (const code of ctx.server_codes) {
    const parsed = parseActivationCode(code, null);
    if (parsed.value !== null) mine.add(sha256hex(Buffer.from(parsed.value.text, "ascii")));
  }
  if (!Array.isArray(st.codes) || !st.codes.some((x) => mine.has(String(x)))) return refuse("other_site");
  const issuedAt = parseDateTime(st.issued_at);
  if (issuedAt === null) return refuse("bad_bundle");
  const now = parseDateTime(ctx.now);
  if (issuedAt > now + 10 * 60 * 1000) return refuse("bad_bundle");
  if (now - issuedAt > 30 * 86400 * 1000) return refuse("bundle_too_old");
  if (sha256hex(Buffer.from(c.timestamp_json_b64, "base64")) !== st.timestamp_sha256) {
    return refuse("bad_bundle");
  }
  return { ok: true, reason: null };
}

// --- §9 manifests ----------------------------------------------------------------------

const COMPONENTS = ["virus_pattern", "damage_cleanup_template", "spyware_pattern", "scan_engine"];
const MAX_INT63 = 2n ** 63n - 1n;

class ManifestRefused extends Error {
  constructor(reason, detail) {
    super(reason);
    this.reason = reason;
    this.detail = detail;
  }
}

function manifestField(obj, name, where) {
  if (!(name in obj)) throw new ManifestRefused("missing_field", where + name);
  return obj[name];
}

// Integers within [min, max]; JSON.parse gives doubles, so beyond 2^53 only a bound check.
function manifestInt(value, where, min, max) {
  const ok = typeof value === "number" && Number.isInteger(value) &&
    BigInt(Math.trunc(value)) >= min && BigInt(Math.trunc(value)) <= max;
  if (!ok) throw new ManifestRefused("bad_field", where);
  return value;
}

function manifestTime(value, where) {
  if (typeof value !== "string" || value.length === 0 || cpLength(value) > 64 ||
      parseDateTime(value) === null) {
    throw new ManifestRefused("bad_field", where);
  }
}

function checkManifest(c, keys) {
  const checked = verifyEnvelope(c.envelope, vendorKeys(keys, c.context.keys));
  if (!checked.ok) return { ok: false, reason: checked.reason, detail: "signature" };
  const st = checked.statement;
  try {
    if (st.v !== 1) throw new ManifestRefused("unsupported_format", "v");
    if (st.kind !== "activeupdate_manifest") throw new ManifestRefused("wrong_kind", "kind");
    const serial = manifestInt(manifestField(st, "serial", ""), "serial", 0n, MAX_INT63);
    manifestTime(manifestField(st, "issued_at", ""), "issued_at");
    const entries = manifestField(st, "components", "");
    if (!isObject(entries)) throw new ManifestRefused("bad_field", "components");
    const versions = {};
    for (const name of COMPONENTS) {
      const where = `components.${name}.`;
      if (!(name in entries)) throw new ManifestRefused("missing_component", `components.${name}`);
      const entry = entries[name];
      if (!isObject(entry)) throw new ManifestRefused("bad_field", `components.${name}`);
      const sha = manifestField(entry, "sha256", where);
      if (typeof sha !== "string" || !/^[0-9a-f]{64}$/.test(sha)) {
        throw new ManifestRefused("bad_field", where + "sha256");
      }
      versions[name] = manifestInt(manifestField(entry, "version", where), where + "version", 1n, MAX_INT63);
      manifestInt(manifestField(entry, "size", where), where + "size", 0n, 268435456n);
      manifestTime(manifestField(entry, "published_at", where), where + "published_at");
    }
    return { ok: true, reason: null, serial, versions };
  } catch (e) {
    if (e instanceof ManifestRefused) return { ok: false, reason: e.reason, detail: e.detail };
    throw e;
  }
}

// --- §10 webhooks -----------------------------------------------------------------------

function checkWebhook(c) {
  const headers = Object.fromEntries(Object.entries(c.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const id = headers["webhook-id"];
  const timestamp = headers["webhook-timestamp"];
  const signature = headers["webhook-signature"];
  if (!id || !timestamp || !signature) return { ok: false, reason: "missing_header" };
  if (!/^[0-9]+$/.test(timestamp)) return { ok: false, reason: "invalid_timestamp" };
  const now = BigInt(c.context.now);
  const ts = BigInt(timestamp);
  if (ts < now - 300n) return { ok: false, reason: "timestamp_too_old" };
  if (ts > now + 300n) return { ok: false, reason: "timestamp_too_new" };
  const key = Buffer.from(c.context.secret.replace(/^whsec_/, ""), "base64");
  const mac = hmac(key, Buffer.concat([Buffer.from(`${id}.${timestamp}.`, "utf8"), Buffer.from(c.body, "utf8")]));
  const expected = Buffer.from("v1," + mac.toString("base64"));
  const match = signature.split(" ").some((entry) => {
    const given = Buffer.from(entry);
    return given.length === expected.length && crypto.timingSafeEqual(given, expected);
  });
  return match ? { ok: true, reason: null } : { ok: false, reason: "no_matching_signature" };
}

// --- running the vectors ----------------------------------------------------------------

const CHECKS = {
  codes: checkCode,
  canonical_json: (c) => {
    try {
      return { ok: true, reason: null, canonical_hex: canonical(c.value).toString("hex") };
    } catch (e) {
      if (e instanceof NotCanonical) return { ok: false, reason: "not_canonicalizable", canonical_hex: null };
      throw e;
    }
  },
  envelopes: checkEnvelope,
  status_statements: checkStatus,
  endorsements: checkEndorsements,
  license_requests: checkRequest,
  license_responses: checkResponse,
  cert_renewals: checkRenewals,
  install_tokens: checkInstallToken,
  bundles: checkBundle,
  manifests: checkManifest,
  webhooks: checkWebhook,
};

function same(a, b) {
  return canonicalText(a) === canonicalText(b);
}

function main() {
  let keys;
  const files = {};
  try {
    keys = JSON.parse(readFileSync(join(DIR, "keys.json"), "utf8"));
    for (const stem of FILES) files[stem] = JSON.parse(readFileSync(join(DIR, `${stem}.json`), "utf8"));
  } catch (e) {
    console.error(`cannot read the vectors in ${DIR}: ${e.message}`);
    return 2;
  }
  const failures = [];
  let count = 0;
  for (const stem of FILES) {
    const file = files[stem];
    if (file.format !== 1 || !Array.isArray(file.cases) || file.cases.length === 0) {
      failures.push(`${stem}.json: not a format 1 vector file with cases`);
      continue;
    }
    for (const c of file.cases) {
      count += 1;
      let actual;
      try {
        actual = CHECKS[stem](c, keys);
      } catch (e) {
        actual = { crashed: String(e && e.stack ? e.stack : e) };
      }
      if (!same(actual, c.expect)) {
        failures.push(`${stem}/${c.id}: expected ${canonicalText(c.expect)}\n    got ${canonicalText(actual)}`);
      }
    }
  }
  // Extra structure of codes.json: the MAC inputs of two valid codes, and the fold table.
  const codes = files.codes;
  for (const [id, hex] of Object.entries(codes.mac_inputs ?? {})) {
    const c = codes.cases.find((x) => x.id === id);
    const parsed = c?.kind === "activation_code" ? parseActivationCode(c.input) : c && parseRegistrationKey(c.input);
    if (!parsed || !parsed.macInput || parsed.macInput.toString("hex") !== hex) {
      failures.push(`codes.mac_inputs/${id}: expected ${hex}, got ${parsed?.macInput?.toString("hex")}`);
    }
  }
  const fold = checkFoldTable(codes.fold);
  const newer = fold.filter((p) => p.newer);
  for (const p of fold.filter((x) => !x.newer)) {
    failures.push(`codes.fold U+${p.cp}: table says ${p.theirs}, this verifier ${p.mine}`);
  }
  for (const f of failures) console.error("DISAGREE " + f);
  const note = newer.length ? ` (${newer.length} code points assigned after Unicode ${codes.fold.unicode_version} fold differently, as allowed)` : "";
  if (failures.length) {
    console.error(`${failures.length} disagreement(s) over ${count} cases`);
    return 1;
  }
  console.log(`all ${count} cases agree${note}`);
  return 0;
}

process.exitCode = main();
