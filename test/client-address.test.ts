import { describe, expect, it } from 'vitest';
import { clientKey, isProxyEntry } from '../api/client-address';

describe('the client key of rate limits', () => {
  it('keeps IPv4 addresses, and unwraps IPv4-mapped IPv6', () => {
    expect(clientKey('203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('::ffff:cb00:7107')).toBe('203.0.113.7');
  });

  it('counts an IPv6 client by its /64, however it writes the address', () => {
    expect(clientKey('2001:db8:85a3::8a2e:370:7334')).toBe('2001:db8:85a3:0::/64');
    expect(clientKey('2001:0db8:85a3:0000:1234:8a2e:0370:7334')).toBe('2001:db8:85a3:0::/64');
    expect(clientKey('2001:db8:85a3:0:ffff::1')).toBe('2001:db8:85a3:0::/64');
    expect(clientKey('2001:db8:85a3:1::1')).toBe('2001:db8:85a3:1::/64');
    expect(clientKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('64:ff9b::198.51.100.1')).toBe('64:ff9b:0:0::/64');
  });

  it('accepts trusted proxies as addresses, CIDRs or range names only', () => {
    expect(['10.0.0.0/8', '127.0.0.1', 'loopback', 'uniquelocal', '::1', '2001:db8::/48'].every(isProxyEntry)).toBe(true);
    expect(['1.2.3.4/33', '::/129', 'proxy.example.org', '10.0.0.0/8/1', '', '1.2.3.4/x'].some(isProxyEntry)).toBe(false);
  });
});
