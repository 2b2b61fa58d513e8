// The stored password format, in Node: the same as src/domain/password.rs writes
// through WebCrypto. pbkdf2_sha256$<iterations>$<salt, base64>$<hash, base64>
import { pbkdf2Sync, randomBytes } from "node:crypto";

export const DEFAULT_ITERATIONS = 100_000;

export function hashPassword(password, iterations = DEFAULT_ITERATIONS) {
  const salt = randomBytes(16);
  const hash = pbkdf2Sync(password, salt, iterations, 32, "sha256");
  return `pbkdf2_sha256$${iterations}$${salt.toString("base64")}$${hash.toString("base64")}`;
}
