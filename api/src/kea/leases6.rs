//! Kea's JSON for a `lease6` row ([`tern_store::Lease6`], addresses and delegated
//! prefixes) and the checks of `lease6-add`/`lease6-update` arguments against the
//! running `Dhcp6`.

use std::net::Ipv6Addr;

use serde_json::{json, Map, Value};
use tern_config::Dhcp6;
use tern_store::{Lease6, LeaseType};

use super::{hex_colon, parse_hex, Args, FieldError};

/// Kea's default `valid-lifetime` for DHCPv6 (seconds).
pub const DEFAULT_VALID_LIFETIME: u32 = 7200;
/// Kea's default `preferred-lifetime` (seconds).
pub const DEFAULT_PREFERRED_LIFETIME: u32 = 3600;

/// Kea's JSON for the lease.
pub fn to_kea(l: &Lease6) -> Value {
    let lft = i64::from(l.valid_lifetime);
    let mut m = Map::new();
    m.insert("ip-address".into(), l.address.to_string().into());
    m.insert(
        "duid".into(),
        hex_colon(l.duid.as_deref().unwrap_or_default()).into(),
    );
    m.insert("iaid".into(), l.iaid.into());
    m.insert("type".into(), l.lease_type.name().into());
    m.insert("prefix-len".into(), l.prefix_len.into());
    m.insert("valid-lft".into(), lft.into());
    m.insert("preferred-lft".into(), l.pref_lifetime.into());
    m.insert("cltt".into(), (l.expire.timestamp() - lft).into());
    super::lease_tail_json(
        &mut m,
        l.subnet_id,
        l.pool_id,
        (l.fqdn_fwd, l.fqdn_rev),
        l.hostname.as_deref(),
        l.state,
    );
    if let Some(hw) = l.hwaddr.as_deref().filter(|h| !h.is_empty()) {
        m.insert("hw-address".into(), hex_colon(hw).into());
    }
    super::user_context_json(&mut m, l.user_context.as_deref());
    Value::Object(m)
}

/// The lease type of a `type` argument.
pub fn parse_type(args: &Args<'_>) -> Result<Option<LeaseType>, FieldError> {
    match args.str("type")? {
        None => Ok(None),
        Some(t) => LeaseType::from_name(t)
            .map(Some)
            .ok_or_else(|| FieldError::new("type", format!("'{t}' is not IA_NA, IA_TA or IA_PD"))),
    }
}

/// Checks `lease6-add`/`lease6-update` arguments; as for IPv4, the subnet is checked
/// against (or found in) the running `Dhcp6` when it has subnets, and missing
/// lifetimes are inherited as Kea does (subnet, shared network, global).
pub fn parse_new(args: &Args<'_>, dhcp6: Option<&Dhcp6>) -> Result<Lease6, FieldError> {
    let address: Ipv6Addr = {
        let s = args.req_str("ip-address")?;
        s.parse()
            .map_err(|_| FieldError::new("ip-address", format!("'{s}' is not an IPv6 address")))?
    };
    let lease_type = parse_type(args)?.unwrap_or(LeaseType::Na);
    let given = args.int("subnet-id", 0, u32::MAX as i64)?.map(|i| i as u32);
    let subnet = super::lease_subnet(dhcp6, given, address, lease_type == LeaseType::Pd)?;
    let duid = parse_hex("duid", args.req_str("duid")?)?;
    let iaid = args.req_int("iaid", 0, u32::MAX as i64)? as u32;
    let scopes = super::lease_timers(dhcp6, subnet);
    let valid_lifetime = match args.int("valid-lft", 0, u32::MAX as i64)? {
        Some(v) => v as u32,
        None => super::timer(&scopes, |t| t.valid_lifetime, DEFAULT_VALID_LIFETIME),
    };
    let pref_lifetime = match args.int("preferred-lft", 0, u32::MAX as i64)? {
        Some(v) => v as u32,
        None => super::timer(
            &scopes,
            |t| t.preferred_lifetime,
            DEFAULT_PREFERRED_LIFETIME,
        ),
    };
    let default_len = if lease_type == LeaseType::Pd { 64 } else { 128 };
    let prefix_len = args.int("prefix-len", 1, 128)?.unwrap_or(default_len) as u8;
    if lease_type != LeaseType::Pd && prefix_len != 128 {
        return Err(FieldError::new(
            "prefix-len",
            "must be 128 for an address lease",
        ));
    }
    let hwaddr = args
        .str("hw-address")?
        .map(|h| parse_hex("hw-address", h))
        .transpose()?;
    Ok(Lease6 {
        address,
        duid: Some(duid),
        valid_lifetime,
        expire: super::expire_arg(args, valid_lifetime)?,
        subnet_id: subnet.map_or(given.unwrap_or(0), |s| s.id),
        pref_lifetime,
        lease_type,
        iaid,
        prefix_len,
        fqdn_fwd: args.bool("fqdn-fwd")?.unwrap_or(false),
        fqdn_rev: args.bool("fqdn-rev")?.unwrap_or(false),
        hostname: Some(super::lease_hostname_arg(args)?),
        state: super::state_arg(args)?,
        // As Kea's lease6-add writes a given hw-address: Ethernet, source unknown (0).
        hwtype: hwaddr.as_ref().map(|_| 1),
        hwaddr_source: hwaddr.as_ref().map(|_| 0),
        hwaddr,
        user_context: super::user_context_arg(args)?,
        pool_id: 0,
    })
}

/// Kea's JSON for several leases.
pub fn to_kea_list(rows: &[Lease6]) -> Value {
    json!(rows.iter().map(to_kea).collect::<Vec<_>>())
}
