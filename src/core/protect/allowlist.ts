import { BlockList, isIP } from 'node:net';
import { ExpectedError } from '../errors.js';

/** An allowlist entry that is neither an IPv4/IPv6 address nor a CIDR range. */
export class AllowlistError extends ExpectedError {
  constructor(readonly entry: string) {
    super(`"${entry}" is not an IPv4 or IPv6 address or CIDR range (e.g. 203.0.113.0/24, 2001:db8::/32)`);
    this.name = 'AllowlistError';
  }
}

/**
 * Client addresses allowed to call an endpoint: IPv4 and IPv6 addresses and CIDR ranges, matched by
 * Node's net.BlockList, which also matches an IPv4 entry against the IPv4-mapped IPv6 form
 * (`::ffff:203.0.113.7`) a dual-stack server reports, and the other way round.
 */
export class AddressAllowlist {
  private constructor(
    private readonly list: BlockList,
    readonly entries: readonly string[],
  ) {}

  /** Entries separated by commas, spaces or new lines; throws AllowlistError on the first bad one. */
  static parse(text: string): AddressAllowlist {
    const list = new BlockList();
    const entries = text.split(/[\s,]+/).filter(Boolean);
    for (const entry of entries) {
      const slash = entry.indexOf('/');
      const address = slash < 0 ? entry : entry.slice(0, slash);
      const version = isIP(address);
      if (version === 0) throw new AllowlistError(entry);
      const family = version === 4 ? 'ipv4' : 'ipv6';
      if (slash < 0) {
        list.addAddress(address, family);
        continue;
      }
      const prefixText = entry.slice(slash + 1);
      const prefix = Number(prefixText);
      if (!/^\d{1,3}$/.test(prefixText) || prefix > (version === 4 ? 32 : 128))
        throw new AllowlistError(entry);
      list.addSubnet(address, prefix, family);
    }
    return new AddressAllowlist(list, entries);
  }

  get empty(): boolean {
    return this.entries.length === 0;
  }

  /** Whether `address` (as a socket or Express reports it; an IPv6 zone is ignored) is allowed. */
  allows(address: string | undefined): boolean {
    if (!address) return false;
    const plain = address.replace(/%.*$/, '');
    const version = isIP(plain);
    if (version === 0) return false;
    return this.list.check(plain, version === 4 ? 'ipv4' : 'ipv6');
  }
}
