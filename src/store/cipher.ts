import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from "node:crypto";
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

// AES-256-GCM for the secrets the store keeps (provider keys, virtual keys' secret metadata). A sealed value
// is "v1:" + base64(iv | tag | ciphertext); the version lets a later format or key rotation tell them apart.

const VERSION = "v1:";
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
// Fixed, so the same SWITCHYARD_ENCRYPTION_KEY derives the same key on every start and every instance.
const KDF_SALT = "switchyard/secret-cipher/v1";
const KEY_FILE = "encryption.key";
const SHORT_PASSPHRASE = 16;

export type CipherSource = "env" | "generated-file" | "ephemeral";

export interface CipherFromEnv {
  readonly cipher: SecretCipher;
  readonly source: CipherSource;
  /** A start-up line for the operator; never contains the key. */
  readonly warning?: string;
}

export class SecretCipher {
  readonly #key: Buffer;

  /** `key` is the 32-byte AES key itself. */
  constructor(key: Uint8Array) {
    if (key.length !== KEY_BYTES) throw new RangeError(`a secret cipher's key is ${KEY_BYTES} bytes`);
    this.#key = Buffer.from(key);
  }

  /** A cipher keyed by any passphrase (scrypt with a fixed salt). */
  static fromPassphrase(passphrase: string): SecretCipher {
    return new SecretCipher(scryptSync(passphrase, KDF_SALT, KEY_BYTES));
  }

  /**
   * The key from SWITCHYARD_ENCRYPTION_KEY; without it, one generated into `<appDir>/encryption.key` (0600) and
   * reused on later starts; without an app directory, one held in memory for this process only.
   */
  static fromEnv(env: Readonly<Record<string, string | undefined>>, appDir?: string): CipherFromEnv {
    const passphrase = env.SWITCHYARD_ENCRYPTION_KEY;
    if (passphrase !== undefined && passphrase !== "") {
      const cipher = SecretCipher.fromPassphrase(passphrase);
      if (passphrase.length >= SHORT_PASSPHRASE) return { cipher, source: "env" };
      return {
        cipher,
        source: "env",
        warning: `SWITCHYARD_ENCRYPTION_KEY is short (${passphrase.length} characters); use 32 random bytes, e.g. \`openssl rand -base64 32\``,
      };
    }
    if (appDir !== undefined) {
      const path = join(appDir, KEY_FILE);
      return {
        cipher: new SecretCipher(readOrCreateKeyFile(appDir, path)),
        source: "generated-file",
        warning: `SWITCHYARD_ENCRYPTION_KEY is not set: stored secrets are encrypted with the key in ${path}; keep that file with the database, or set SWITCHYARD_ENCRYPTION_KEY`,
      };
    }
    return {
      cipher: new SecretCipher(randomBytes(KEY_BYTES)),
      source: "ephemeral",
      warning:
        "SWITCHYARD_ENCRYPTION_KEY is not set and there is no app directory: stored secrets are encrypted with a key held in memory and will not be readable after a restart",
    };
  }

  seal(plain: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    const ciphertext = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
    return VERSION + Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString("base64");
  }

  /** Throws when the value was sealed with another key or altered; the message never quotes the value. */
  open(sealed: string): string {
    if (!sealed.startsWith(VERSION)) throw new Error("sealed secret: unknown format");
    const bytes = Buffer.from(sealed.slice(VERSION.length), "base64");
    if (bytes.length < IV_BYTES + TAG_BYTES) throw new Error("sealed secret: truncated");
    const decipher = createDecipheriv("aes-256-gcm", this.#key, bytes.subarray(0, IV_BYTES));
    decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([
        decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]).toString("utf8");
    } catch {
      throw new Error(
        "sealed secret cannot be opened: it was sealed with another key (SWITCHYARD_ENCRYPTION_KEY) or altered",
      );
    }
  }
}

function readOrCreateKeyFile(appDir: string, path: string): Buffer {
  mkdirSync(appDir, { recursive: true });
  // Written aside and linked into place: of two processes starting at once, one key wins whole, and
  // neither reads a half-written file.
  const pending = `${path}.${process.pid}.${randomBytes(4).toString("hex")}`;
  writeFileSync(pending, `${randomBytes(KEY_BYTES).toString("base64")}\n`, { flag: "wx", mode: 0o600 });
  try {
    linkSync(pending, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    unlinkSync(pending);
  }
  const key = Buffer.from(readFileSync(path, "utf8").trim(), "base64");
  // A new key would make every stored secret unreadable: refuse rather than replace a damaged file.
  if (key.length !== KEY_BYTES) throw new Error(`${path} does not hold a base64 ${KEY_BYTES}-byte key`);
  return key;
}
