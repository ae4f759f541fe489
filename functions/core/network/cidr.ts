/**
 * IPv4 address and CIDR arithmetic for security group, NACL and route checks.
 *
 * Addresses are unsigned 32-bit integers held in ordinary numbers. JavaScript's bitwise
 * operators work on *signed* 32-bit integers, so every result of `&`, `|` or `<<` is passed
 * through `>>> 0` to bring it back to 0…2^32−1. Shifts are taken modulo 32 (`x << 32 === x`),
 * which is why the /0 mask is special-cased instead of computed as `0xffffffff << 32`.
 *
 * Only IPv4: the facts carry IPv6 CIDRs separately (`ipv6Cidrs`, `ipv6CidrBlock`) and tasks
 * reach VPC endpoints over IPv4. Invalid input gives `null` or `false`, never an exception,
 * because facts may come from a hand-edited snapshot.
 */

/** A parsed IPv4 CIDR: `base` is the network address (host bits cleared), `prefix` 0–32. */
export interface ParsedCidr {
  readonly base: number;
  readonly prefix: number;
}

/** An inclusive range of IPv4 addresses as unsigned 32-bit integers. */
export interface AddressRange {
  readonly first: number;
  readonly last: number;
}

/** One decimal octet: no sign, no leading zero (EC2 never prints them, and `010` could mean octal). */
const OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
/** A prefix length: no sign, no leading zero. */
const PREFIX = /^(?:0|[1-9][0-9]?)$/;

/** Parses dotted-decimal IPv4 (`10.0.1.5`) to an unsigned 32-bit number; null when invalid. */
export function parseIpv4(text: string): number | null {
  if (typeof text !== 'string') return null;
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!OCTET.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    // Multiplication, not `<<`: `<<` would go negative once the top bit is set.
    value = value * 256 + octet;
  }
  return value;
}

/** Formats an unsigned 32-bit number as dotted-decimal IPv4. */
export function formatIpv4(address: number): string {
  const a = address >>> 0;
  return [a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff].join('.');
}

/** The netmask of a prefix length as an unsigned 32-bit number (/0 → 0, /32 → 0xffffffff). */
export function prefixMask(prefix: number): number {
  // `0xffffffff << 32` is `0xffffffff << 0` in JavaScript, so /0 must be special-cased.
  return prefix <= 0 ? 0 : (0xffffffff << (32 - Math.min(prefix, 32))) >>> 0;
}

/** Parses `a.b.c.d/n` (IPv4, n 0–32) with host bits masked off; null when invalid, never throws. */
export function parseCidr(text: string): ParsedCidr | null {
  if (typeof text !== 'string') return null;
  const slash = text.indexOf('/');
  if (slash < 0 || slash !== text.lastIndexOf('/')) return null;
  const address = parseIpv4(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (address === null || !PREFIX.test(prefixText)) return null;
  const prefix = Number(prefixText);
  if (prefix > 32) return null;
  // EC2 stores CIDRs with host bits cleared; masking here makes `10.0.1.5/24` mean 10.0.1.0/24 too.
  return { base: (address & prefixMask(prefix)) >>> 0, prefix };
}

/** The first and last address of a CIDR; null when invalid. */
export function cidrRange(cidr: string): AddressRange | null {
  const parsed = parseCidr(cidr);
  if (parsed === null) return null;
  return { first: parsed.base, last: (parsed.base | ~prefixMask(parsed.prefix)) >>> 0 };
}

/** The number of addresses in a CIDR (2^(32−prefix)); null when invalid. */
export function cidrSize(cidr: string): number | null {
  const parsed = parseCidr(cidr);
  return parsed === null ? null : 2 ** (32 - parsed.prefix);
}

/** True when the IPv4 address `ip` lies inside `cidr`; false when either is invalid. */
export function cidrContainsIp(cidr: string, ip: string): boolean {
  const parsed = parseCidr(cidr);
  const address = parseIpv4(ip);
  if (parsed === null || address === null) return false;
  return (address & prefixMask(parsed.prefix)) >>> 0 === parsed.base;
}

/** True when every address of `inner` is in `outer`; false when either is invalid. */
export function cidrContainsCidr(outer: string, inner: string): boolean {
  const o = parseCidr(outer);
  const i = parseCidr(inner);
  if (o === null || i === null) return false;
  // A shorter (or equal) prefix whose network bits agree with the inner base contains it.
  return o.prefix <= i.prefix && (i.base & prefixMask(o.prefix)) >>> 0 === o.base;
}

/** True when the two CIDRs share at least one address; false when either is invalid. */
export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  if (x === null || y === null) return false;
  // Two CIDR blocks are either nested or disjoint: compare them on the shorter prefix.
  const mask = prefixMask(Math.min(x.prefix, y.prefix));
  return (x.base & mask) >>> 0 === (y.base & mask) >>> 0;
}
