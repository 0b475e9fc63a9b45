//! Kea's JSON for a DHCPv4 host reservation ([`tern_store::Host`]) and the checks of a
//! reservation given to `reservation-add` or `POST /api/v1/reservations` against the
//! running `Dhcp4`: its subnets, its option definitions (Kea's standard table and the
//! configuration's `option-def`, as the DHCP engine encodes them) and the identifier
//! types and limits of tern-config.

use std::net::Ipv4Addr;

use serde_json::{Map, Value};
use tern_config::{option_defs, Dhcp4, IdentifierType};
use tern_store::{Host, HostOption};

use super::{hex_colon, parse_hex, Args, FieldError};

/// The standard option space.
const DHCP4: &str = "dhcp4";

/// The names of Kea's host identifier types, in the order of their codes.
pub fn identifier_names() -> Vec<&'static str> {
    IdentifierType::ALL.iter().map(|t| t.key()).collect()
}

/// The code of an identifier type name.
pub fn identifier_code(name: &str) -> Result<i16, FieldError> {
    IdentifierType::from_key(name)
        .map(|t| i16::from(t.kea_code()))
        .ok_or_else(|| {
            FieldError::new(
                "identifier-type",
                format!(
                    "'{name}' is not a host identifier type (one of {})",
                    identifier_names().join(", ")
                ),
            )
        })
}

/// The one identifier a reservation map gives, checked against its type's limit:
/// (type, bytes). `missing` names the field blamed when there is none.
pub(crate) fn identifier_arg(
    args: &Args<'_>,
    missing: &str,
) -> Result<(IdentifierType, Vec<u8>), FieldError> {
    let given: Vec<IdentifierType> = IdentifierType::ALL
        .into_iter()
        .filter(|t| args.has(t.key()))
        .collect();
    let kind = match given.as_slice() {
        [one] => *one,
        [] => {
            return Err(FieldError::new(
                missing,
                format!(
                    "one of the supported identifiers must be specified for host reservation: {}",
                    identifier_names().join(", ")
                ),
            ))
        }
        [_, second, ..] => {
            let names: Vec<&str> = given.iter().map(|t| t.key()).collect();
            return Err(FieldError::new(
                second.key(),
                format!(
                    "only one identifier may be given, found {}",
                    names.join(" and ")
                ),
            ));
        }
    };
    let value = parse_hex(kind.key(), args.req_str(kind.key())?)?;
    if value.len() > kind.max_len() {
        return Err(FieldError::new(
            kind.key(),
            format!("longer than {} bytes", kind.max_len()),
        ));
    }
    Ok((kind, value))
}

/// Kea's name for a host identifier type code.
pub(crate) fn identifier_key(code: i16) -> &'static str {
    IdentifierType::from_code(code).map_or("flex-id", IdentifierType::key)
}

/// The option of `space` that `is` picks by (name, code), as (name, code): the
/// configuration's `option-def` first (it may redefine a standard code, as in Kea),
/// then Kea's standard table, as the DHCP engine encodes them.
fn option_def(
    dhcp4: Option<&Dhcp4>,
    space: &str,
    is: impl Fn(&str, u8) -> bool,
) -> Option<(String, u8)> {
    let custom = dhcp4
        .into_iter()
        .flat_map(|d| &d.option_defs)
        .find(|d| d.space == space && is(&d.name, d.code))
        .map(|d| (d.name.clone(), d.code));
    let standard = || {
        option_defs::STANDARD
            .iter()
            .find(|d| space == DHCP4 && is(d.name, d.code))
            .map(|d| (d.name.to_string(), d.code))
    };
    custom.or_else(standard)
}

/// Kea's `option-data` entry for a stored option.
pub(crate) fn option_json(o: &HostOption, dhcp4: Option<&Dhcp4>) -> Value {
    let space = o.space.as_deref().unwrap_or(DHCP4);
    let mut m = Map::new();
    m.insert("code".into(), o.code.into());
    if let Some((n, _)) = option_def(dhcp4, space, |_, c| c == o.code) {
        m.insert("name".into(), n.into());
    }
    m.insert("space".into(), space.into());
    // Text when Kea (or tern) stored it as text, else the binary value as hex.
    let (data, csv) = match (
        o.formatted_value.as_deref().filter(|f| !f.is_empty()),
        &o.value,
    ) {
        (Some(f), _) => (f.to_string(), true),
        (None, Some(r)) => (r.iter().map(|b| format!("{b:02X}")).collect(), false),
        (None, None) => (String::new(), true),
    };
    m.insert("csv-format".into(), csv.into());
    m.insert("data".into(), data.into());
    m.insert("always-send".into(), o.persistent.into());
    m.insert("never-send".into(), false.into());
    Value::Object(m)
}

/// Kea's JSON for the host (`reservation-get`), without tern's `id`; option names
/// from the definitions of `dhcp4`.
pub fn to_kea(h: &Host, dhcp4: Option<&Dhcp4>) -> Value {
    let mut m = Map::new();
    m.insert(
        identifier_key(h.identifier_type).into(),
        hex_colon(&h.identifier).into(),
    );
    m.insert(
        "subnet-id".into(),
        h.dhcp4_subnet_id.or(h.dhcp6_subnet_id).unwrap_or(0).into(),
    );
    let addr = |a: Option<Ipv4Addr>| a.unwrap_or(Ipv4Addr::UNSPECIFIED).to_string();
    m.insert("ip-address".into(), addr(h.ipv4_address).into());
    m.insert(
        "hostname".into(),
        h.hostname.clone().unwrap_or_default().into(),
    );
    m.insert(
        "client-classes".into(),
        super::classes_json(h.dhcp4_client_classes.as_deref()),
    );
    m.insert("next-server".into(), addr(h.next_server).into());
    m.insert(
        "server-hostname".into(),
        h.server_hostname.clone().unwrap_or_default().into(),
    );
    m.insert(
        "boot-file-name".into(),
        h.boot_file_name.clone().unwrap_or_default().into(),
    );
    m.insert(
        "option-data".into(),
        h.options4.iter().map(|o| option_json(o, dhcp4)).collect(),
    );
    super::user_context_json(&mut m, h.user_context.as_deref());
    Value::Object(m)
}

/// tern's REST JSON: Kea's plus the row's `id`.
pub fn to_rest(h: &Host, dhcp4: Option<&Dhcp4>) -> Value {
    let mut v = to_kea(h, dhcp4);
    v["id"] = h.host_id.into();
    v
}

fn parse_option(o: &Value, i: usize, dhcp4: Option<&Dhcp4>) -> Result<HostOption, FieldError> {
    let field = format!("option-data[{i}]");
    let m = o
        .as_object()
        .ok_or_else(|| FieldError::new(&field, "must be a map"))?;
    let args = Args(m);
    let space = args.str("space")?.unwrap_or(DHCP4).to_string();
    let code = match (args.int("code", 1, 254)?, args.str("name")?) {
        (Some(c), _) => c as u8,
        (None, Some(n)) => option_def(dhcp4, &space, |name, _| name == n)
            .map(|(_, c)| c)
            .ok_or_else(|| {
                let why = if space == DHCP4 {
                    format!("option '{n}' is not known by name here: give its \"code\"")
                } else {
                    format!("option '{n}' in space {space}: give its \"code\"")
                };
                FieldError::new(&field, why)
            })?,
        (None, None) => return Err(FieldError::new(&field, "needs \"code\" or \"name\"")),
    };
    if args.bool("csv-format")? == Some(false) {
        // Raw hex data: check it now rather than hand the engine garbage.
        if let Some(d) = args.str("data")? {
            if !d.is_empty() {
                parse_hex(&field, d)?;
            }
        }
    }
    Ok(HostOption {
        code,
        value: None,
        formatted_value: Some(args.str("data")?.unwrap_or("").to_string()),
        space: Some(space),
        persistent: args.bool("always-send")?.unwrap_or(false),
    })
}

fn bounded(args: &Args<'_>, k: &str, max: usize) -> Result<Option<String>, FieldError> {
    match args.str(k)? {
        Some(s) if s.len() > max => {
            Err(FieldError::new(k, format!("longer than {max} characters")))
        }
        Some("") | None => Ok(None),
        Some(s) => Ok(Some(s.to_string())),
    }
}

/// Checks a reservation map (Kea's `reservation` argument) against the running `Dhcp4`:
/// as Kea's host_cmds does, a subnet-id other than 0 (global) must name a configured
/// subnet that holds the reserved address. Without `Dhcp4` subnets (an API-only or
/// D2-only tern) there is nothing to check against.
pub fn parse_new(r: &Map<String, Value>, dhcp4: Option<&Dhcp4>) -> Result<Host, FieldError> {
    let args = Args(r);
    let subnet_id = args.req_int("subnet-id", 0, u32::MAX as i64)? as u32;
    let (kind, identifier) = identifier_arg(&args, "hw-address")?;
    for k in ["ip-addresses", "prefixes"] {
        if args.has(k) {
            return Err(FieldError::new(
                k,
                "IPv6 reservations are not supported by this command yet",
            ));
        }
    }
    let options4 = match args.get("option-data") {
        None => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, o)| parse_option(o, i, dhcp4))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(FieldError::new("option-data", "must be a list")),
    };
    let client_classes = match args.get("client-classes") {
        None => None,
        Some(Value::Array(a)) => {
            // A non-string entry reads as an empty name, which is refused.
            let names: Vec<&str> = a.iter().map(|c| c.as_str().unwrap_or("")).collect();
            super::classes_arg(&names)?
        }
        Some(_) => return Err(FieldError::new("client-classes", "must be a list")),
    };
    let ipv4_address = args.v4("ip-address")?.filter(|a| !a.is_unspecified());
    super::reservation_subnet(dhcp4, subnet_id, ipv4_address.as_slice(), "ip-address")?;
    Ok(Host {
        identifier_type: i16::from(kind.kea_code()),
        identifier,
        dhcp4_subnet_id: Some(subnet_id),
        ipv4_address,
        hostname: bounded(&args, "hostname", 255)?,
        dhcp4_client_classes: client_classes,
        next_server: args.v4("next-server")?.filter(|a| !a.is_unspecified()),
        server_hostname: bounded(&args, "server-hostname", 64)?,
        boot_file_name: bounded(&args, "boot-file-name", 128)?,
        user_context: super::user_context_arg(&args)?,
        options4,
        ..Host::default()
    })
}
