/**
 * Cryptokey routing table (WireGuard paper §2): IPv4 and IPv6 prefixes, each owned by one peer.
 * Outgoing packets go to the owner of the longest prefix containing their destination; an
 * incoming packet is accepted only if the longest prefix containing its source belongs to the
 * peer whose key decrypted it.
 *
 * One binary trie per family, a node per bit of prefix. Lookups walk at most 32 or 128 nodes,
 * read the address in place from the packet and allocate nothing. As with `wg set ... allowed-ips`,
 * inserting a prefix another peer owns moves it; host bits are cleared on insertion.
 */
import { maskAddress, type IpAddress, type IpPrefix } from '../shared/ip-address.ts';

interface TrieNode<T> {
  zero: TrieNode<T> | undefined;
  one: TrieNode<T> | undefined;
  value: T | undefined;
}

function newNode<T>(): TrieNode<T> {
  return { zero: undefined, one: undefined, value: undefined };
}

/** Longest-prefix-match table mapping IPv4/IPv6 prefixes to owners of type `T`. */
export class AllowedIps<T> {
  private v4: TrieNode<T> = newNode();
  private v6: TrieNode<T> = newNode();

  /**
   * Makes `value` the owner of `prefix` (replacing any other owner of exactly that prefix).
   * @throws {RangeError} for an address that is not 4/16 bytes or a prefix length out of range.
   */
  insert(prefix: IpPrefix, value: T): void {
    const { address, prefixLength } = checkPrefix(prefix);
    let node = address.length === 4 ? this.v4 : this.v6;
    for (let bit = 0; bit < prefixLength; bit++) {
      if (bitAt(address, 0, bit)) node = node.one ??= newNode();
      else node = node.zero ??= newNode();
    }
    node.value = value;
  }

  /**
   * The owner of the longest prefix containing the address stored at `bytes[offset..]`
   * (4 bytes when `length` is 4, 16 when it is 16).
   */
  lookupAt(bytes: Uint8Array, offset: number, length: 4 | 16): T | undefined {
    let node: TrieNode<T> | undefined = length === 4 ? this.v4 : this.v6;
    let best = node.value;
    const bits = length * 8;
    for (let bit = 0; bit < bits; bit++) {
      node = bitAt(bytes, offset, bit) ? node.one : node.zero;
      if (!node) break;
      if (node.value !== undefined) best = node.value;
    }
    return best;
  }

  /** The owner of the longest prefix containing `address`, or `undefined`. */
  lookup(address: IpAddress): T | undefined {
    if (address.length !== 4 && address.length !== 16) return undefined;
    return this.lookupAt(address, 0, address.length);
  }

  /** Removes `prefix` if `value` (or, when omitted, anyone) owns it. */
  remove(prefix: IpPrefix, value?: T): void {
    const { address, prefixLength } = checkPrefix(prefix);
    const path: TrieNode<T>[] = [];
    let node: TrieNode<T> | undefined = address.length === 4 ? this.v4 : this.v6;
    for (let bit = 0; bit < prefixLength && node; bit++) {
      path.push(node);
      node = bitAt(address, 0, bit) ? node.one : node.zero;
    }
    if (!node || node.value === undefined || (value !== undefined && node.value !== value)) return;
    node.value = undefined;
    this.prune(path, node, address);
  }

  /** Removes every prefix owned by `value`. */
  removeValue(value: T): void {
    this.v4 = this.filterTree(this.v4, value) ?? newNode();
    this.v6 = this.filterTree(this.v6, value) ?? newNode();
  }

  /** Every prefix owned by `value`, IPv4 first, in address order. */
  entriesFor(value: T): IpPrefix[] {
    const out: IpPrefix[] = [];
    this.collect(this.v4, value, new Uint8Array(4), 0, out);
    this.collect(this.v6, value, new Uint8Array(16), 0, out);
    return out;
  }

  /** Removes everything. */
  clear(): void {
    this.v4 = newNode();
    this.v6 = newNode();
  }

  private collect(node: TrieNode<T>, value: T, address: Uint8Array, depth: number, out: IpPrefix[]): void {
    if (node.value === value) out.push({ address: address.slice(), prefixLength: depth });
    if (node.zero) this.collect(node.zero, value, address, depth + 1, out);
    if (node.one) {
      address[depth >> 3] |= 0x80 >> (depth & 7);
      this.collect(node.one, value, address, depth + 1, out);
      address[depth >> 3] &= ~(0x80 >> (depth & 7));
    }
  }

  /** Drops `value` from the subtree; returns the subtree or `undefined` when it became empty. */
  private filterTree(node: TrieNode<T>, value: T): TrieNode<T> | undefined {
    if (node.value === value) node.value = undefined;
    node.zero = node.zero && this.filterTree(node.zero, value);
    node.one = node.one && this.filterTree(node.one, value);
    return node.value === undefined && !node.zero && !node.one ? undefined : node;
  }

  private prune(path: TrieNode<T>[], leaf: TrieNode<T>, address: IpAddress): void {
    let child = leaf;
    for (let i = path.length - 1; i >= 0; i--) {
      if (child.value !== undefined || child.zero || child.one) return;
      const parent = path[i];
      if (bitAt(address, 0, i)) parent.one = undefined;
      else parent.zero = undefined;
      child = parent;
    }
  }
}

function bitAt(bytes: Uint8Array, offset: number, bit: number): boolean {
  return (bytes[offset + (bit >> 3)] & (0x80 >> (bit & 7))) !== 0;
}

function checkPrefix(prefix: IpPrefix): IpPrefix {
  if (!prefix || !(prefix.address instanceof Uint8Array) || (prefix.address.length !== 4 && prefix.address.length !== 16)) {
    throw new RangeError('an allowed IP needs a 4- or 16-byte address');
  }
  const max = prefix.address.length * 8;
  if (!Number.isInteger(prefix.prefixLength) || prefix.prefixLength < 0 || prefix.prefixLength > max) {
    throw new RangeError(`prefix length must be 0 to ${max}, got ${prefix.prefixLength}`);
  }
  return { address: maskAddress(prefix.address, prefix.prefixLength), prefixLength: prefix.prefixLength };
}
