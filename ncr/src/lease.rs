//! The NCR a DHCPv4 lease causes, made the same way by every writer of the lease table
//! (the DHCP engine granting, releasing, declining or reclaiming a lease; the API
//! deleting one): pure, from the lease's columns and the `ddns-*` parameters in force.

use std::net::IpAddr;

use tern_config::{ConflictResolutionMode as CfgMode, DdnsParams};

use crate::{ChangeType, ConflictResolutionMode, Dhcid, Fqdn, NameChangeRequest};

/// Kea's default `ddns-ttl-min` (seconds).
pub const DEFAULT_TTL_MIN: u32 = 600;

/// How the DNS TTL of a lease's records follows from its lifetime (`ddns-ttl`,
/// `ddns-ttl-percent`, `ddns-ttl-min`, `ddns-ttl-max`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TtlRule {
    /// `ddns-ttl`: this TTL whatever the lifetime.
    pub fixed: Option<u32>,
    /// `ddns-ttl-percent` of the lifetime (default one third).
    pub percent: Option<f64>,
    /// `ddns-ttl-min` (default 600).
    pub min: Option<u32>,
    /// `ddns-ttl-max`.
    pub max: Option<u32>,
}

impl TtlRule {
    /// The TTL for a lease of `valid` seconds, as Kea computes it.
    pub fn for_lease(&self, valid: u32) -> u32 {
        if let Some(t) = self.fixed {
            return t;
        }
        let t = match self.percent {
            Some(p) => (f64::from(valid) * p) as u32,
            None => valid / 3,
        };
        let t = t.max(self.min.unwrap_or(DEFAULT_TTL_MIN));
        match self.max {
            Some(max) => t.min(max),
            None => t,
        }
    }
}

/// What an NCR takes from the `ddns-*` parameters in force for a lease.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct NcrParams {
    /// `ddns-conflict-resolution-mode` (default check-with-dhcid).
    pub mode: ConflictResolutionMode,
    /// The TTL rule.
    pub ttl: TtlRule,
}

impl NcrParams {
    /// From the merged parameters of a lease's scopes ([`DdnsParams::merged`]).
    pub fn from_config(p: &DdnsParams) -> NcrParams {
        NcrParams {
            mode: match p.conflict_resolution_mode {
                Some(CfgMode::NoCheckWithDhcid) => ConflictResolutionMode::NoCheckWithDhcid,
                Some(CfgMode::CheckExistsWithDhcid) => ConflictResolutionMode::CheckExistsWithDhcid,
                Some(CfgMode::NoCheckWithoutDhcid) => ConflictResolutionMode::NoCheckWithoutDhcid,
                Some(CfgMode::CheckWithDhcid) | None => ConflictResolutionMode::CheckWithDhcid,
            },
            ttl: TtlRule {
                fixed: p.ttl,
                percent: p.ttl_percent,
                min: p.ttl_min,
                max: p.ttl_max,
            },
        }
    }
}

/// A lease's name and what its DHCID is computed from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeaseName<'a> {
    /// The FQDN.
    pub fqdn: &'a str,
    /// The forward records are (to be) updated.
    pub forward: bool,
    /// The reverse record is (to be) updated.
    pub reverse: bool,
    /// The leased address.
    pub address: IpAddr,
    /// The client identifier the lease keeps: the DHCID comes from it when present
    /// (RFC 4701 §3.3 identifier type 1), else from the hardware address.
    pub client_id: Option<&'a [u8]>,
    /// The hardware type of `hwaddr`.
    pub htype: u8,
    /// The hardware address.
    pub hwaddr: &'a [u8],
    /// The lease's lifetime, seconds.
    pub valid_lifetime: u32,
}

/// The NCR for `lease`: `None` when neither direction is to be updated or the name is
/// not a valid FQDN.
pub fn lease_ncr(
    change: ChangeType,
    lease: &LeaseName<'_>,
    params: &NcrParams,
) -> Option<NameChangeRequest> {
    if !lease.forward && !lease.reverse {
        return None;
    }
    let name = Fqdn::new(lease.fqdn).ok()?;
    let dhcid = match lease.client_id {
        Some(c) if !c.is_empty() => Dhcid::from_client_id(c, &name).ok()?,
        _ => Dhcid::from_hwaddr(lease.htype, lease.hwaddr, &name).ok()?,
    };
    let valid = lease.valid_lifetime;
    Some(NameChangeRequest {
        change_type: change,
        forward_change: lease.forward,
        reverse_change: lease.reverse,
        fqdn: name,
        ip_address: lease.address,
        dhcid,
        lease_expires_on: Some(chrono::Utc::now() + chrono::Duration::seconds(i64::from(valid))),
        lease_length: params.ttl.for_lease(valid),
        conflict_resolution_mode: params.mode,
    })
}

/// The NCR for a DHCPv6 lease (an IA_NA address): the DHCID from the client's DUID
/// (RFC 4701 §3.3, identifier type 2), so the AAAA and the ip6.arpa PTR follow the
/// client across its addresses. `None` when neither direction is updated or the name is
/// not a valid FQDN.
#[allow(clippy::too_many_arguments)]
pub fn lease6_ncr(
    change: ChangeType,
    fqdn: &str,
    forward: bool,
    reverse: bool,
    address: std::net::Ipv6Addr,
    duid: &[u8],
    valid_lifetime: u32,
    params: &NcrParams,
) -> Option<NameChangeRequest> {
    if !forward && !reverse {
        return None;
    }
    let name = Fqdn::new(fqdn).ok()?;
    let dhcid = Dhcid::from_duid(duid, &name).ok()?;
    Some(NameChangeRequest {
        change_type: change,
        forward_change: forward,
        reverse_change: reverse,
        fqdn: name,
        ip_address: IpAddr::V6(address),
        dhcid,
        lease_expires_on: Some(
            chrono::Utc::now() + chrono::Duration::seconds(i64::from(valid_lifetime)),
        ),
        lease_length: params.ttl.for_lease(valid_lifetime),
        conflict_resolution_mode: params.mode,
    })
}

/// The NCR removing the DNS entries of a lease that ends (released, declined,
/// reclaimed, deleted).
pub fn removal_ncr(lease: &LeaseName<'_>, params: &NcrParams) -> Option<NameChangeRequest> {
    lease_ncr(ChangeType::Remove, lease, params)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(fwd: bool, rev: bool) -> LeaseName<'static> {
        LeaseName {
            fqdn: "pc.example.com",
            forward: fwd,
            reverse: rev,
            address: "192.0.2.7".parse().unwrap(),
            client_id: None,
            htype: 1,
            hwaddr: &[1, 2, 3, 4, 5, 6],
            valid_lifetime: 3600,
        }
    }

    #[test]
    fn ttl_follows_kea() {
        let mut r = TtlRule::default();
        assert_eq!(r.for_lease(7200), 2400);
        assert_eq!(r.for_lease(600), 600, "at least ddns-ttl-min");
        r.percent = Some(0.5);
        r.max = Some(1000);
        assert_eq!(r.for_lease(7200), 1000);
        r.fixed = Some(60);
        assert_eq!(r.for_lease(7200), 60);
    }

    #[test]
    fn removal_carries_the_mode_and_ttl_in_force() {
        let p = NcrParams::from_config(&DdnsParams {
            conflict_resolution_mode: Some(CfgMode::NoCheckWithoutDhcid),
            ttl: Some(90),
            ..DdnsParams::default()
        });
        let n = removal_ncr(&lease(true, false), &p).unwrap();
        assert_eq!(n.change_type, ChangeType::Remove);
        assert!(n.forward_change && !n.reverse_change);
        assert_eq!(n.lease_length, 90);
        assert_eq!(
            n.conflict_resolution_mode,
            ConflictResolutionMode::NoCheckWithoutDhcid
        );
        let name = Fqdn::new("pc.example.com").unwrap();
        assert_eq!(
            n.dhcid,
            Dhcid::from_hwaddr(1, &[1, 2, 3, 4, 5, 6], &name).unwrap()
        );
        assert_eq!(removal_ncr(&lease(false, false), &p), None);
    }
}
