//! Which IP addresses a fetched URL must not reach unless allow-listed:
//! everything that is not a public unicast address, because a URL given by a
//! user must not become a way into the server's own network (SSRF).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why `address` is not a public address ("a loopback address"), or `None`
/// when it is one.
pub(crate) fn special_purpose(address: IpAddr) -> Option<&'static str> {
    match address {
        IpAddr::V4(v4) => ipv4(v4),
        IpAddr::V6(v6) => ipv6(v6),
    }
}

fn ipv4(address: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = address.octets();
    let reason = if address.is_unspecified() {
        "an unspecified address"
    } else if a == 0 {
        "a \"this network\" address"
    } else if address.is_loopback() {
        "a loopback address"
    } else if address == Ipv4Addr::new(169, 254, 169, 254) {
        // AWS, GCP, Azure and others answer here with instance credentials.
        "a cloud metadata address"
    } else if address == Ipv4Addr::new(168, 63, 129, 16) {
        // Azure's platform endpoint: public-looking but host-internal.
        "a cloud platform address"
    } else if address.is_link_local() {
        "a link-local address"
    } else if address.is_private() {
        "a private address"
    } else if a == 100 && (64..128).contains(&b) {
        "a shared (carrier-grade NAT) address"
    } else if address.is_broadcast() {
        "the broadcast address"
    } else if address.is_multicast() {
        "a multicast address"
    } else if address.is_documentation() {
        "a documentation address"
    } else if a == 198 && (b == 18 || b == 19) {
        "a benchmarking address"
    } else if a == 192 && b == 0 && c == 0 {
        "an IETF protocol address"
    } else if a == 192 && b == 88 && c == 99 {
        "a 6to4 relay address"
    } else if a >= 240 {
        "a reserved address"
    } else {
        return None;
    };
    Some(reason)
}

fn ipv6(address: Ipv6Addr) -> Option<&'static str> {
    let segments = address.segments();
    let reason = if address.is_unspecified() {
        "an unspecified address"
    } else if address.is_loopback() {
        "a loopback address"
    } else if let Some(v4) = address.to_ipv4_mapped() {
        // ::ffff:a.b.c.d reaches a.b.c.d over IPv4.
        return ipv4(v4);
    } else if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        // NAT64 (64:ff9b::/96) reaches the IPv4 address in the last 32 bits.
        let [.., high, low] = segments;
        return ipv4(Ipv4Addr::from((u32::from(high) << 16) | u32::from(low)));
    } else if address == Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254) {
        "a cloud metadata address"
    } else if segments[0] & 0xfe00 == 0xfc00 {
        "a private (unique local) address"
    } else if segments[0] & 0xffc0 == 0xfe80 {
        "a link-local address"
    } else if segments[0] & 0xffc0 == 0xfec0 {
        "a site-local address"
    } else if segments[0] & 0xff00 == 0xff00 {
        "a multicast address"
    } else if (segments[0] == 0x2001 && segments[1] == 0x0db8)
        || (segments[0] == 0x3fff && segments[1] < 0x1000)
    {
        "a documentation address"
    } else if segments[0] == 0x2002 {
        "a 6to4 address, which can reach any IPv4 address"
    } else if segments[0] == 0x2001 && segments[1] < 0x0200 {
        // 2001::/23, Teredo among them.
        "an IETF protocol address"
    } else if segments[0] & 0xe000 != 0x2000 {
        // Only 2000::/3 is handed out as global unicast; the rest includes
        // the deprecated IPv4-compatible ::a.b.c.d and NAT64's local prefix.
        "a reserved address"
    } else {
        return None;
    };
    Some(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_addresses() {
        let table: &[(&str, Option<&str>)] = &[
            // Public.
            ("8.8.8.8", None),
            ("1.1.1.1", None),
            ("93.184.216.34", None),
            ("172.15.255.255", None),
            ("172.32.0.1", None),
            ("100.63.255.255", None),
            ("100.128.0.1", None),
            ("192.169.0.1", None),
            ("2606:4700:4700::1111", None),
            ("2a00:1450:4001::200e", None),
            ("::ffff:8.8.8.8", None),
            ("64:ff9b::808:808", None),
            // IPv4 special purpose.
            ("0.0.0.0", Some("an unspecified address")),
            ("0.1.2.3", Some("a \"this network\" address")),
            ("127.0.0.1", Some("a loopback address")),
            ("127.255.255.254", Some("a loopback address")),
            ("10.0.0.1", Some("a private address")),
            ("172.16.0.1", Some("a private address")),
            ("172.31.255.255", Some("a private address")),
            ("192.168.1.1", Some("a private address")),
            ("169.254.1.1", Some("a link-local address")),
            ("169.254.169.254", Some("a cloud metadata address")),
            ("168.63.129.16", Some("a cloud platform address")),
            ("100.64.0.1", Some("a shared (carrier-grade NAT) address")),
            (
                "100.127.255.255",
                Some("a shared (carrier-grade NAT) address"),
            ),
            ("224.0.0.1", Some("a multicast address")),
            ("239.255.255.250", Some("a multicast address")),
            ("255.255.255.255", Some("the broadcast address")),
            ("192.0.2.1", Some("a documentation address")),
            ("198.51.100.7", Some("a documentation address")),
            ("203.0.113.9", Some("a documentation address")),
            ("198.18.0.1", Some("a benchmarking address")),
            ("192.0.0.8", Some("an IETF protocol address")),
            ("192.88.99.1", Some("a 6to4 relay address")),
            ("240.0.0.1", Some("a reserved address")),
            // IPv6 special purpose.
            ("::", Some("an unspecified address")),
            ("::1", Some("a loopback address")),
            ("fc00::1", Some("a private (unique local) address")),
            ("fd12:3456::1", Some("a private (unique local) address")),
            ("fd00:ec2::254", Some("a cloud metadata address")),
            ("fe80::1", Some("a link-local address")),
            ("febf::1", Some("a link-local address")),
            ("fec0::1", Some("a site-local address")),
            ("ff02::1", Some("a multicast address")),
            ("2001:db8::1", Some("a documentation address")),
            ("3fff::1", Some("a documentation address")),
            (
                "2002:7f00:1::1",
                Some("a 6to4 address, which can reach any IPv4 address"),
            ),
            ("2001::1", Some("an IETF protocol address")),
            ("::127.0.0.1", Some("a reserved address")),
            ("100::1", Some("a reserved address")),
            ("64:ff9b:1::1", Some("a reserved address")),
            // IPv4 forms inside IPv6 are judged as the IPv4 address they reach.
            ("::ffff:127.0.0.1", Some("a loopback address")),
            ("::ffff:10.1.2.3", Some("a private address")),
            ("::ffff:169.254.169.254", Some("a cloud metadata address")),
            (
                "::ffff:100.64.0.1",
                Some("a shared (carrier-grade NAT) address"),
            ),
            ("::ffff:0.0.0.0", Some("an unspecified address")),
            ("64:ff9b::7f00:1", Some("a loopback address")),
            ("64:ff9b::a9fe:a9fe", Some("a cloud metadata address")),
        ];
        for (text, expected) in table {
            let address: IpAddr = text.parse().unwrap();
            assert_eq!(special_purpose(address), *expected, "{text}");
        }
    }
}
