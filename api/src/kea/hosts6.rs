//! Kea's JSON for a DHCPv6 host reservation ([`tern_store::Host`] with its
//! `ipv6_reservations`) and the checks of one given to `reservation-add` against the
//! running `Dhcp6`.

use std::net::Ipv6Addr;

use serde_json::{Map, Value};
use tern_config::Dhcp6;
use tern_store::{Host, Reservation6, Reservation6Kind};

use super::hosts::{identifier_arg, identifier_key};
use super::{hex_colon, strings, Args, FieldError};

/// Kea's JSON for the host.
pub fn to_kea(h: &Host) -> Value {
    let mut m = Map::new();
    m.insert(
        identifier_key(h.identifier_type).into(),
        hex_colon(&h.identifier).into(),
    );
    m.insert("subnet-id".into(), h.dhcp6_subnet_id.unwrap_or(0).into());
    let of = |kind: Reservation6Kind| -> Vec<Value> {
        h.reservations6
            .iter()
            .filter(|r| r.kind == kind)
            .map(|r| match kind {
                Reservation6Kind::Address => r.address.to_string().into(),
                Reservation6Kind::Prefix => format!("{}/{}", r.address, r.prefix_len).into(),
            })
            .collect()
    };
    m.insert("ip-addresses".into(), of(Reservation6Kind::Address).into());
    m.insert("prefixes".into(), of(Reservation6Kind::Prefix).into());
    m.insert(
        "hostname".into(),
        h.hostname.clone().unwrap_or_default().into(),
    );
    m.insert(
        "client-classes".into(),
        super::classes_json(h.dhcp6_client_classes.as_deref()),
    );
    m.insert("option-data".into(), Value::Array(Vec::new()));
    super::user_context_json(&mut m, h.user_context.as_deref());
    Value::Object(m)
}

/// Checks a DHCPv6 reservation map against the running `Dhcp6`: a subnet-id other
/// than 0 must name a configured subnet holding every reserved address (prefixes are
/// delegated outside it by design), as Kea's host_cmds checks.
pub fn parse_new(r: &Map<String, Value>, dhcp6: Option<&Dhcp6>) -> Result<Host, FieldError> {
    let args = Args(r);
    let subnet_id = args.req_int("subnet-id", 0, u32::MAX as i64)? as u32;
    let (kind, identifier) = identifier_arg(&args, "duid")?;
    if args.has("ip-address") {
        return Err(FieldError::new(
            "ip-address",
            "a DHCPv6 reservation takes \"ip-addresses\" (a list)",
        ));
    }
    let mut addresses = Vec::new();
    for a in strings(&args, "ip-addresses")? {
        addresses.push(a.parse::<Ipv6Addr>().map_err(|_| {
            FieldError::new("ip-addresses", format!("'{a}' is not an IPv6 address"))
        })?);
    }
    let mut reservations6: Vec<Reservation6> = addresses
        .iter()
        .map(|a| Reservation6 {
            address: *a,
            prefix_len: 128,
            kind: Reservation6Kind::Address,
        })
        .collect();
    for p in strings(&args, "prefixes")? {
        let bad = || {
            FieldError::new(
                "prefixes",
                format!("'{p}' is not an IPv6 prefix (address/length)"),
            )
        };
        let (a, l) = p.split_once('/').ok_or_else(bad)?;
        let address: Ipv6Addr = a.parse().map_err(|_| bad())?;
        let prefix_len: u8 = l
            .parse()
            .ok()
            .filter(|l| (1..=128).contains(l))
            .ok_or_else(bad)?;
        reservations6.push(Reservation6 {
            address,
            prefix_len,
            kind: Reservation6Kind::Prefix,
        });
    }
    if let Some(Value::Array(opts)) = args.get("option-data") {
        if !opts.is_empty() {
            return Err(FieldError::new(
                "option-data",
                "per-host DHCPv6 options are not supported by the API yet",
            ));
        }
    }
    let client_classes = super::classes_arg(&strings(&args, "client-classes")?)?;
    let hostname = args.str("hostname")?.filter(|h| !h.is_empty());
    if hostname.is_some_and(|h| h.len() > 255) {
        return Err(FieldError::new("hostname", "longer than 255 characters"));
    }
    super::reservation_subnet(dhcp6, subnet_id, &addresses, "ip-addresses")?;
    Ok(Host {
        identifier_type: i16::from(kind.kea_code()),
        identifier,
        dhcp6_subnet_id: Some(subnet_id),
        hostname: hostname.map(str::to_string),
        dhcp6_client_classes: client_classes,
        user_context: super::user_context_arg(&args)?,
        reservations6,
        ..Host::default()
    })
}
