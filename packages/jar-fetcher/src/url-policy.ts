import dns from 'node:dns/promises';
import type { LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { PermanentFailure } from '@flink-orchestrator/domain';

/** Link-local and cloud metadata addresses: never fetched unless named in the allowlist. */
const FORBIDDEN = new BlockList();
FORBIDDEN.addSubnet('169.254.0.0', 16, 'ipv4');
FORBIDDEN.addSubnet('fe80::', 10, 'ipv6');
FORBIDDEN.addAddress('fd00:ec2::254', 'ipv6');
FORBIDDEN.addSubnet('0.0.0.0', 8, 'ipv4');

/**
 * Guards the worker's JAR downloads against server-side request forgery: only allowed
 * hosts, checked for the first URL and every redirect, and the addresses DNS returns
 * checked at connection time (so a rebinding answer cannot slip through).
 */
export class JarUrlPolicy {
  private readonly hosts: Set<string>;

  constructor(allowedHosts: string[]) {
    this.hosts = new Set(allowedHosts.map((h) => h.toLowerCase().replace(/^\[|\]$/g, '')));
  }

  checkUrl(url: URL): void {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new PermanentFailure(`JAR URL scheme "${url.protocol}" is not allowed; use http or https.`);
    }
    const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
    if (!this.hosts.has(host)) {
      throw new PermanentFailure(
        `JAR host "${host}" is not allowed (JAR_ALLOWED_HOSTS: ${[...this.hosts].join(', ')}).`,
      );
    }
    if (isIP(host)) this.checkAddress(host, isIP(host));
  }

  /** axios's `lookup` hook: resolves, then refuses forbidden addresses before any connection. */
  readonly lookup = async (hostname: string): Promise<[LookupAddress[]]> => {
    const addresses = await dns.lookup(hostname, { all: true });
    for (const a of addresses) this.checkAddress(a.address, a.family);
    return [addresses];
  };

  private checkAddress(address: string, family: number): void {
    if (this.hosts.has(address)) return;
    if (FORBIDDEN.check(address, family === 6 ? 'ipv6' : 'ipv4')) {
      throw new PermanentFailure(
        `JAR host resolves to ${address}, a link-local or metadata address, which is not allowed.`,
      );
    }
  }
}
