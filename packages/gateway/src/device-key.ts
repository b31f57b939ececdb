/**
 * This install's Ed25519 device key (DESIGN §5): made on first need, the private key kept in
 * `device-key.pem` in the data folder (0600 in a 0700 folder, written atomically). The hub records
 * the public key at `gateway connect`; every hello signs the hub's nonce with it, so a copied
 * `gateway-session.json` is useless without this file.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { GantryError } from '@gantry/protocol';
import { writeSecretFile } from '@gantry/protocol/node';

export interface DeviceKey {
  /** SPKI PEM, as sent to the hub. */
  publicKey: string;
  /** Signs the hub's `welcome` nonce (base64url). */
  sign(nonce: string): string;
}

export function deviceKeyPath(dataDir: string): string {
  return join(dataDir, 'device-key.pem');
}

/** Loads the device key, or makes one when `create` and there is none. */
export function loadDeviceKey(dataDir: string, options: { create: boolean }): DeviceKey | undefined {
  const path = deviceKeyPath(dataDir);
  let key: KeyObject;
  if (existsSync(path)) {
    try {
      key = createPrivateKey(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new GantryError(
        'invalid_request',
        `${path} is not a valid private key (${(err as Error).message})`,
      );
    }
  } else if (options.create) {
    key = generateKeyPairSync('ed25519').privateKey;
    writeSecretFile(path, key.export({ type: 'pkcs8', format: 'pem' }) as string);
  } else {
    return undefined;
  }
  const publicKey = createPublicKey(key).export({ type: 'spki', format: 'pem' }) as string;
  return {
    publicKey,
    sign: (nonce) => sign(null, Buffer.from(nonce, 'utf8'), key).toString('base64url'),
  };
}

/** The OS user this gateway runs as: part of its fingerprint. */
export function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? String(process.getuid?.() ?? '?');
  }
}
