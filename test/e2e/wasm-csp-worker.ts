/**
 * The worker bundled by wasm-csp.test.ts: reports which transport AEAD it got under the policy it
 * was served with, and whether a packet sealed by it opens again.
 */
import { createTransportCipher, transportCipherImplementation } from '../../src/wireguard/transport-cipher.ts';
import { wasmTransportAeadStatus } from '../../src/wireguard/wasm/wasm-transport-aead.ts';

const scope = self as unknown as { postMessage(m: unknown): void };
const aead = createTransportCipher(new Uint8Array(32).fill(1));
const buf = new Uint8Array(16 + 1420 + 16).fill(7, 16, 16 + 1420);
aead.seal(buf, 16, 1420, 3, 0);
const opens = aead.open(buf, 16, 1420, buf, 16, 3, 0) && buf.subarray(16, 16 + 1420).every((b) => b === 7);
scope.postMessage({ impl: transportCipherImplementation(), status: wasmTransportAeadStatus(), opens });
