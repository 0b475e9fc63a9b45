//! Kea's JSON for a `lease4` row ([`tern_store::Lease4`]) and the checks of
//! `lease4-add`/`lease4-update` arguments against the running `Dhcp4`.

use serde_json::{json, Map, Value};
use tern_config::Dhcp4;
use tern_ncr::{NameChangeRequest, NcrParams};
use tern_store::{Lease4, LeaseFilter};

use super::{hex_colon, parse_hex, Args, FieldError};

/// Kea's default `valid-lifetime` (seconds), when no scope sets one.
pub const DEFAULT_VALID_LIFETIME: u32 = 7200;

/// Kea's JSON for the lease (`lease4-get` and friends).
pub fn to_kea(l: &Lease4) -> Value {
    let lft = i64::from(l.valid_lifetime);
    let mut m = Map::new();
    m.insert("ip-address".into(), l.address.to_string().into());
    m.insert(
        "hw-address".into(),
        hex_colon(l.hwaddr.as_deref().unwrap_or_default()).into(),
    );
    if let Some(c) = l.client_id.as_deref().filter(|c| !c.is_empty()) {
        m.insert("client-id".into(), hex_colon(c).into());
    }
    m.insert("valid-lft".into(), lft.into());
    m.insert("cltt".into(), (l.expire.timestamp() - lft).into());
    super::lease_tail_json(
        &mut m,
        l.subnet_id,
        l.pool_id,
        (l.fqdn_fwd, l.fqdn_rev),
        l.hostname.as_deref(),
        l.state,
    );
    super::user_context_json(&mut m, l.user_context.as_deref());
    Value::Object(m)
}

/// Checks `lease4-add`/`lease4-update` arguments against the running `Dhcp4`: when it
/// has subnets, the subnet must exist and hold the address, and a missing `subnet-id`
/// is taken from the subnet holding the address. A missing `valid-lft` is the
/// subnet's `valid-lifetime`, inherited as Kea does: subnet, shared network, global.
pub fn parse_new(args: &Args<'_>, dhcp4: Option<&Dhcp4>) -> Result<Lease4, FieldError> {
    let address = args.req_v4("ip-address")?;
    let given = args.int("subnet-id", 0, u32::MAX as i64)?.map(|i| i as u32);
    let subnet = super::lease_subnet(dhcp4, given, address, false)?;
    let subnet_id = subnet.map_or(given.unwrap_or(0), |s| s.id);
    let hwaddr = parse_hex("hw-address", args.req_str("hw-address")?)?;
    if hwaddr.len() > 20 {
        return Err(FieldError::new("hw-address", "longer than 20 bytes"));
    }
    let client_id = args
        .str("client-id")?
        .map(|c| parse_hex("client-id", c))
        .transpose()?;
    let valid_lifetime = match args.int("valid-lft", 0, u32::MAX as i64)? {
        Some(v) => v as u32,
        None => super::timer(
            &super::lease_timers(dhcp4, subnet),
            |t| t.valid_lifetime,
            DEFAULT_VALID_LIFETIME,
        ),
    };
    Ok(Lease4 {
        address,
        hwaddr: Some(hwaddr),
        client_id,
        valid_lifetime,
        expire: super::expire_arg(args, valid_lifetime)?,
        subnet_id,
        fqdn_fwd: args.bool("fqdn-fwd")?.unwrap_or(false),
        fqdn_rev: args.bool("fqdn-rev")?.unwrap_or(false),
        hostname: Some(super::lease_hostname_arg(args)?),
        state: super::state_arg(args)?,
        user_context: super::user_context_arg(args)?,
        pool_id: 0,
    })
}

/// The NCR removing the DNS entries of a lease deleted through the API, made with the
/// `ddns-*` parameters of its address's scopes (pool, subnet, shared network, global),
/// by the function the DHCP engine uses on a release. `None` when the lease has no DNS
/// entries or its subnet is not configured.
pub fn removal_ncr(dhcp4: &Dhcp4, lease: &Lease4) -> Option<NameChangeRequest> {
    let subnet = dhcp4.subnet(lease.subnet_id)?;
    let params = NcrParams::from_config(&dhcp4.ddns_for(subnet, lease.address));
    tern_ncr::removal_ncr(&lease.dns_name()?, &params)
}

/// The filter for the lease an identifier (`hw-address` or `client-id`) holds in a subnet.
pub fn identifier_filter(kind: &str, id: Vec<u8>, subnet: i64) -> Result<LeaseFilter, FieldError> {
    let mut f = LeaseFilter {
        subnets: Some(vec![subnet]),
        limit: Some(1),
        ..Default::default()
    };
    match kind {
        "hw-address" => f.hwaddr = Some(id),
        "client-id" => f.client_id = Some(id),
        other => {
            return Err(FieldError::new(
                "identifier-type",
                format!("'{other}' is not supported for IPv4 leases (use hw-address or client-id)"),
            ))
        }
    }
    Ok(f)
}

/// Kea's JSON for several leases.
pub fn to_kea_list(rows: &[Lease4]) -> Value {
    json!(rows.iter().map(to_kea).collect::<Vec<_>>())
}
