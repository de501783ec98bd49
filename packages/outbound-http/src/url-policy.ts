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

/** What a policy guards, for its messages: "JAR host ... (JAR_ALLOWED_HOSTS: ...)". */
export interface PolicySubject {
  what: string;
  setting: string;
}

/**
 * Guards requests to addresses users give (JAR downloads, webhooks) against server-side
 * request forgery: only allowed hosts, checked for the first URL and every redirect, and
 * the addresses DNS returns checked at connection time (so a rebinding answer cannot slip
 * through). One class for both, so both refuse the same addresses.
 */
export class OutboundUrlPolicy {
  private readonly hosts: Set<string>;

  constructor(
    allowedHosts: string[],
    private readonly subject: PolicySubject,
  ) {
    this.hosts = new Set(allowedHosts.map((h) => h.toLowerCase().replace(/^\[|\]$/g, '')));
  }

  checkUrl(url: URL): void {
    const { what, setting } = this.subject;
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new PermanentFailure(`${what} URL scheme "${url.protocol}" is not allowed; use http or https.`);
    }
    const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
    if (!this.hosts.has(host)) {
      const allowed = this.hosts.size > 0 ? [...this.hosts].join(', ') : 'empty';
      throw new PermanentFailure(`${what} host "${host}" is not allowed (${setting}: ${allowed}).`);
    }
    if (isIP(host)) this.checkAddress(host, isIP(host));
  }

  /** axios options that apply the policy to DNS answers and to every hop of a redirect chain. */
  requestOptions(): {
    lookup: OutboundUrlPolicy['lookup'];
    beforeRedirect: (options: { href?: string; protocol?: string; hostname?: string; path?: string }) => void;
  } {
    return {
      lookup: this.lookup,
      // follow-redirects' options for the next request.
      beforeRedirect: (options) => {
        this.checkUrl(new URL(options.href ?? `${options.protocol}//${options.hostname}${options.path}`));
      },
    };
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
        `${this.subject.what} host resolves to ${address}, a link-local or metadata address, which is not allowed.`,
      );
    }
  }
}

/** The policy's refusal may arrive wrapped (axios, follow-redirects): found in the cause chain. */
export function permanentCause(error: unknown): PermanentFailure | null {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof PermanentFailure) return e;
  }
  return null;
}

/** The JAR downloads' policy (JAR_ALLOWED_HOSTS). */
export class JarUrlPolicy extends OutboundUrlPolicy {
  constructor(allowedHosts: string[]) {
    super(allowedHosts, { what: 'JAR', setting: 'JAR_ALLOWED_HOSTS' });
  }
}

/** The webhooks' policy (WEBHOOK_ALLOWED_HOSTS). */
export class WebhookUrlPolicy extends OutboundUrlPolicy {
  constructor(allowedHosts: string[]) {
    super(allowedHosts, { what: 'Webhook', setting: 'WEBHOOK_ALLOWED_HOSTS' });
  }
}
