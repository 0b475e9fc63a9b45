//! Kea's command channel: `POST /` with `{"command", "service", "arguments"}`, answered
//! with a JSON list holding one `{"result", "text", "arguments"}` per service named (one
//! element when no service is named, as Kea's own HTTP control sockets answer).
//!
//! Result codes as Kea: 0 success, 1 error, 2 unsupported command, 3 empty (nothing found),
//! 4 conflict. Texts follow Kea's lease_cmds, host_cmds and stat_cmds hooks, so scripts
//! that match on them keep working.
//!
//! `ha-heartbeat`: a Kea server without the HA hook answers "'ha-heartbeat' command not
//! supported." (result 2); tern does the same unless `Dhcp4` loads the HA hook, in which
//! case it answers with the configured mode as its state (`hot-standby`,
//! `load-balancing`, `passive-backup`): tern appliances share one database, so there is
//! no lease synchronisation to wait for and a configured peer set is always in its
//! normal state.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use tracing::{error, info};

use crate::error::{classify, DbFault};
use crate::kea::{hosts, hosts6, leases, leases6};
use crate::kea::{parse_hex, Args, FieldError};
use crate::AppState;
use tern_store::{host, lease4, lease6, Host6Filter, HostFilter, Lease6Filter, LeaseFilter};

mod host_cmds;
mod lease_cmds;

use host_cmds::*;
use lease_cmds::*;

/// The command channel's routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/", post(handle))
}

/// Commands tern answers, as `list-commands` reports them (`ha-heartbeat` only when the
/// HA hook is configured).
pub const COMMANDS: &[&str] = &[
    "build-report",
    "config-get",
    "config-hash-get",
    "config-reload",
    "config-set",
    "config-test",
    "config-write",
    "ha-heartbeat",
    "lease4-add",
    "lease4-del",
    "lease4-get",
    "lease4-get-all",
    "lease4-get-by-client-id",
    "lease4-get-by-hostname",
    "lease4-get-by-hw-address",
    "lease4-get-page",
    "lease4-update",
    "lease4-wipe",
    "lease6-add",
    "lease6-del",
    "lease6-get",
    "lease6-get-all",
    "lease6-get-by-duid",
    "lease6-get-by-hostname",
    "lease6-get-page",
    "lease6-update",
    "lease6-wipe",
    "list-commands",
    "reservation-add",
    "reservation-del",
    "reservation-get",
    "reservation-get-all",
    "reservation-get-by-hostname",
    "reservation-get-by-id",
    "reservation-get-page",
    "reservation-update",
    "shutdown",
    "statistic-get",
    "subnet4-get",
    "subnet4-list",
    "subnet6-get",
    "subnet6-list",
    "statistic-get-all",
    "statistic-reset",
    "statistic-reset-all",
    "status-get",
    "version-get",
];

/// Kea's result codes.
pub mod result {
    /// Success.
    pub const SUCCESS: i64 = 0;
    /// Error.
    pub const ERROR: i64 = 1;
    /// Command not supported.
    pub const UNSUPPORTED: i64 = 2;
    /// Nothing found.
    pub const EMPTY: i64 = 3;
    /// Conflict.
    pub const CONFLICT: i64 = 4;
}

/// One answer element.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// Result code.
    pub result: i64,
    /// Text, when Kea gives one.
    pub text: Option<String>,
    /// Arguments, when any.
    pub arguments: Option<Value>,
}

impl Answer {
    fn new(result: i64, text: impl Into<String>) -> Self {
        Self {
            result,
            text: Some(text.into()),
            arguments: None,
        }
    }
    fn ok(text: impl Into<String>) -> Self {
        Self::new(result::SUCCESS, text)
    }
    fn err(text: impl Into<String>) -> Self {
        Self::new(result::ERROR, text)
    }
    fn with(mut self, args: Value) -> Self {
        self.arguments = Some(args);
        self
    }
    /// Kea's JSON for the answer.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("result".into(), self.result.into());
        if let Some(t) = &self.text {
            m.insert("text".into(), t.clone().into());
        }
        if let Some(a) = &self.arguments {
            m.insert("arguments".into(), a.clone());
        }
        Value::Object(m)
    }
}

impl From<FieldError> for Answer {
    fn from(e: FieldError) -> Self {
        Answer::err(e.to_string())
    }
}

fn db_answer(e: tern_store::Error) -> Answer {
    match classify(&e) {
        DbFault::Conflict(m) => Answer::new(result::CONFLICT, m),
        DbFault::Invalid(m) => Answer::err(m),
        DbFault::Other => {
            match &e {
                tern_store::Error::Database(e) => error!("API_DB_ERROR {e}"),
                e => error!("API_DB_ERROR {e}"),
            }
            Answer::err("database error (details in the server log)")
        }
    }
}

type Outcome = Result<Answer, Answer>;

trait DbExt<T> {
    fn db(self) -> Result<T, Answer>;
}

impl<T> DbExt<T> for tern_store::Result<T> {
    fn db(self) -> Result<T, Answer> {
        self.map_err(db_answer)
    }
}

fn bad_request(text: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "result": 400, "text": text })),
    )
        .into_response()
}

/// True for commands that change something (logged at info level).
fn mutates(command: &str) -> bool {
    [
        "-add",
        "-update",
        "-del",
        "-wipe",
        "-write",
        "-reset",
        "-reset-all",
    ]
    .iter()
    .any(|s| command.ends_with(s))
        || command == "shutdown"
}

async fn handle(
    State(st): State<AppState>,
    caller: Option<axum::Extension<crate::auth::Caller>>,
    body: Bytes,
) -> Response {
    let doc: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(format!("Bad Request: the body is not valid JSON: {e}")),
    };
    let Value::Object(doc) = doc else {
        return bad_request("Bad Request: the body must be a JSON map with a \"command\"".into());
    };
    let single = |a: Answer| Json(json!([a.to_json()])).into_response();
    let command = match doc.get("command") {
        Some(Value::String(c)) => c.clone(),
        Some(_) => return single(Answer::err("'command' must be a string")),
        None => return single(Answer::err("missing mandatory 'command' parameter")),
    };
    let args = match doc.get("arguments") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m.clone()),
        Some(_) => return single(Answer::err("'arguments' must be a map")),
    };
    let services: Vec<Option<String>> = match doc.get("service") {
        None | Some(Value::Null) => vec![None],
        Some(Value::Array(a)) if a.is_empty() => vec![None],
        Some(Value::Array(a)) => {
            let mut v = Vec::new();
            for s in a {
                match s.as_str() {
                    Some(s) => v.push(Some(s.to_string())),
                    None => return single(Answer::err("'service' must be a list of strings")),
                }
            }
            v
        }
        Some(_) => return single(Answer::err("'service' value must be a list")),
    };
    let empty = Map::new();
    let mut answers = Vec::new();
    for service in &services {
        let a = match service.as_deref() {
            None | Some("dhcp4" | "dhcp6" | "d2") => {
                let a = Args(args.as_ref().unwrap_or(&empty));
                run(&st, service.as_deref(), &command, &a, args.is_some()).await
            }
            Some(s) => Answer::err(format!(
                "forwarding socket is not configured for the server type {s}"
            )),
        };
        let who = caller
            .as_ref()
            .map(|c| format!("{:?}", c.0))
            .unwrap_or_default();
        if mutates(&command) {
            info!(
                "API_COMMAND {command} by {who}: result {} {}",
                a.result,
                a.text.as_deref().unwrap_or("")
            );
        } else {
            tracing::debug!("API_COMMAND {command} by {who}: result {}", a.result);
        }
        answers.push(a.to_json());
    }
    Json(Value::Array(answers)).into_response()
}

/// Runs one command.
/// Whether the named service has the command, as the Kea daemon of that name would:
/// dhcp4 has no lease6/subnet6 commands, dhcp6 no lease4/subnet4 ones, d2 none of the
/// lease, host or subnet commands.
fn served_by(service: Option<&str>, command: &str) -> bool {
    let v4 = command.starts_with("lease4-") || command.starts_with("subnet4-");
    let v6 = command.starts_with("lease6-") || command.starts_with("subnet6-");
    match service {
        Some("dhcp4") => !v6,
        Some("dhcp6") => !v4,
        Some("d2") => {
            !(v4 || v6 || command.starts_with("reservation-") || command == "ha-heartbeat")
        }
        _ => true,
    }
}

/// Kea's answer for a command the daemon does not have.
fn unsupported(command: &str) -> Answer {
    Answer::new(
        result::UNSUPPORTED,
        format!("'{command}' command not supported."),
    )
}

/// Runs one command for one service (`None`: no service named).
pub async fn run(
    st: &AppState,
    service: Option<&str>,
    command: &str,
    args: &Args<'_>,
    has_args: bool,
) -> Answer {
    if !served_by(service, command) {
        return unsupported(command);
    }
    if command == "config-set" || command == "config-reload" {
        return reconfigure(st, service, command, args, has_args).await;
    }
    if command.starts_with("reservation-") && wants_v6(service, args) {
        return match dispatch6(st, command, args).await {
            Ok(a) | Err(a) => a,
        };
    }
    match dispatch(st, command, args, has_args).await {
        Ok(a) | Err(a) => a,
    }
}

async fn dispatch(st: &AppState, command: &str, args: &Args<'_>, has_args: bool) -> Outcome {
    match command {
        "list-commands" => {
            // As Kea: ha-heartbeat exists only where the HA hook is loaded; the
            // reconfiguration commands only where something can restart the engines.
            let ha = ha_mode(st).is_some();
            let reconfigurable = st.ctx.reconfigure.is_some();
            let cmds: Vec<&str> = COMMANDS
                .iter()
                .copied()
                .filter(|c| ha || *c != "ha-heartbeat")
                .filter(|c| reconfigurable || !matches!(*c, "config-set" | "config-reload"))
                .collect();
            Ok(Answer {
                result: 0,
                text: None,
                arguments: Some(json!(cmds)),
            })
        }
        "version-get" => Ok(Answer::ok(st.ctx.version).with(json!({
            "extended": format!("tern {} (Kea-compatible command channel)", st.ctx.version)
        }))),
        "build-report" => Ok(Answer::ok(format!(
            "tern {}\nKea-compatible command channel, lease_cmds, host_cmds and stat_cmds built in\nbackend: PostgreSQL",
            st.ctx.version
        ))),
        "status-get" => Ok(status_get(st)),
        "config-get" => {
            // As Kea 2.4+: the configuration plus its hash.
            let running = st.ctx.running();
            let mut cfg = running.json.clone();
            if let Value::Object(m) = &mut cfg {
                m.insert("hash".into(), config_hash(&running.json).into());
            }
            Ok(Answer {
                result: 0,
                text: None,
                arguments: Some(cfg),
            })
        }
        "config-hash-get" => Ok(Answer {
            result: 0,
            text: None,
            arguments: Some(json!({ "hash": config_hash(&st.ctx.running().json) })),
        }),
        "config-test" => config_test(args, has_args),
        "config-write" => config_write(st, args),
        "shutdown" => {
            let f = st.ctx.on_shutdown.clone();
            info!("API_SHUTDOWN shutdown requested over the command channel");
            tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                f();
            });
            Ok(Answer::ok("Shutting down."))
        }
        "ha-heartbeat" => Ok(ha_heartbeat(st)),
        "lease4-add" => lease4_add(st, args).await,
        "lease4-update" => lease4_update(st, args).await,
        "lease4-get" => lease4_get(st, args).await,
        "lease4-get-all" => lease4_get_all(st, args).await,
        "lease4-get-page" => lease4_get_page(st, args).await,
        "lease4-get-by-hw-address" => {
            let hw = parse_hex("hw-address", args.req_str("hw-address")?)?;
            lease_list(st, LeaseFilter {
                hwaddr: Some(hw),
                ..Default::default()
            })
            .await
        }
        "lease4-get-by-client-id" => {
            let c = parse_hex("client-id", args.req_str("client-id")?)?;
            lease_list(st, LeaseFilter {
                client_id: Some(c),
                ..Default::default()
            })
            .await
        }
        "lease4-get-by-hostname" => {
            let h = args.req_str("hostname")?;
            if h.is_empty() {
                Err(Answer::err("'hostname' parameter is empty"))
            } else {
                lease_list(st, LeaseFilter {
                    hostname: Some(h.to_string()),
                    ..Default::default()
                })
                .await
            }
        }
        "lease4-del" => lease4_del(st, args).await,
        "lease4-wipe" => lease4_wipe(st, args).await,
        "lease6-add" => lease6_add(st, args).await,
        "lease6-update" => lease6_update(st, args).await,
        "lease6-get" => lease6_get(st, args).await,
        "lease6-get-all" => {
            let subnets = subnets_arg(args)?;
            lease6_list(st, Lease6Filter {
                subnets,
                ..Default::default()
            })
            .await
        }
        "lease6-get-page" => lease6_get_page(st, args).await,
        "lease6-get-by-duid" => {
            let d = parse_hex("duid", args.req_str("duid")?)?;
            lease6_list(st, Lease6Filter {
                duid: Some(d),
                ..Default::default()
            })
            .await
        }
        "lease6-get-by-hostname" => {
            let h = args.req_str("hostname")?;
            if h.is_empty() {
                Err(Answer::err("'hostname' parameter is empty"))
            } else {
                lease6_list(st, Lease6Filter {
                    hostname: Some(h.to_string()),
                    ..Default::default()
                })
                .await
            }
        }
        "lease6-del" => lease6_del(st, args).await,
        "lease6-wipe" => {
            let sid = args.int("subnet-id", 0, u32::MAX as i64)?.filter(|s| *s != 0);
            let per = lease6::wipe(st.ctx.store.pool(), sid).await.db()?;
            Ok(wipe_answer(sid, &per, "IPv6"))
        }
        "reservation-add" => reservation_add(st, args).await,
        "reservation-update" => reservation_update(st, args).await,
        "reservation-get" => reservation_get(st, args).await,
        "reservation-get-all" => {
            let sid = args.req_int("subnet-id", 0, u32::MAX as i64)?;
            host_list(st, HostFilter {
                subnet_id: Some(sid),
                ..Default::default()
            }, "IPv4 ")
            .await
        }
        "reservation-get-by-hostname" => {
            let h = args.req_str("hostname")?;
            let sid = args.int("subnet-id", 0, u32::MAX as i64)?;
            host_list(st, HostFilter {
                hostname: Some(h.to_string()),
                subnet_id: sid,
                ..Default::default()
            }, "IPv4 ")
            .await
        }
        "reservation-get-by-id" => {
            let t = hosts::identifier_code(args.req_str("identifier-type")?)?;
            let id = parse_hex("identifier", args.req_str("identifier")?)?;
            host_list(st, HostFilter {
                identifier: Some((t, id)),
                any_family: true,
                ..Default::default()
            }, "")
            .await
        }
        "reservation-get-page" => reservation_get_page(st, args).await,
        "reservation-del" => reservation_del(st, args).await,
        "subnet4-list" => Ok(subnet_list(st, "Dhcp4", "subnet4", "IPv4")),
        "subnet6-list" => Ok(subnet_list(st, "Dhcp6", "subnet6", "IPv6")),
        "subnet4-get" => subnet_get(st, args, "Dhcp4", "subnet4", "IPv4"),
        "subnet6-get" => subnet_get(st, args, "Dhcp6", "subnet6", "IPv6"),
        "statistic-get" => {
            let name = args.req_str("name")?;
            let mut m = Map::new();
            if let Some(samples) = st.ctx.stats.get(name) {
                m.insert(
                    name.to_string(),
                    Value::Array(samples.iter().map(crate::stats::render).collect()),
                );
            }
            Ok(Answer {
                result: 0,
                text: None,
                arguments: Some(Value::Object(m)),
            })
        }
        "statistic-get-all" => {
            let mut m = Map::new();
            for (name, samples) in st.ctx.stats.all() {
                m.insert(
                    name,
                    Value::Array(samples.iter().map(crate::stats::render).collect()),
                );
            }
            Ok(Answer {
                result: 0,
                text: None,
                arguments: Some(Value::Object(m)),
            })
        }
        "statistic-reset" => {
            let name = args.req_str("name")?;
            if st.ctx.stats.reset(name) {
                Ok(Answer::ok(format!("Statistic '{name}' reset.")))
            } else {
                Err(Answer::err(format!("No '{name}' statistic found")))
            }
        }
        "statistic-reset-all" => {
            st.ctx.stats.reset_all();
            Ok(Answer::ok("All statistics reset to neutral values."))
        }
        other => Err(unsupported(other)),
    }
}

/// Every subnet of a section (top level and in shared networks), with its network name.
fn subnets<'a>(
    config: &'a Value,
    section: &str,
    key: &str,
) -> Vec<(&'a Map<String, Value>, Option<&'a str>)> {
    let mut out = Vec::new();
    let Some(sec) = config.get(section) else {
        return out;
    };
    if let Some(Value::Array(a)) = sec.get(key) {
        out.extend(a.iter().filter_map(Value::as_object).map(|s| (s, None)));
    }
    if let Some(Value::Array(nets)) = sec.get("shared-networks") {
        for n in nets {
            let name = n.get("name").and_then(Value::as_str);
            if let Some(Value::Array(a)) = n.get(key) {
                out.extend(a.iter().filter_map(Value::as_object).map(|s| (s, name)));
            }
        }
    }
    out
}

/// `subnet4-list` / `subnet6-list` (Kea's subnet_cmds), from the running configuration.
fn subnet_list(st: &AppState, section: &str, key: &str, family: &str) -> Answer {
    let list: Vec<Value> = subnets(&st.ctx.running().json, section, key)
        .into_iter()
        .map(|(s, net)| {
            let mut m = Map::new();
            m.insert("id".into(), s.get("id").cloned().unwrap_or(Value::Null));
            m.insert(
                "subnet".into(),
                s.get("subnet").cloned().unwrap_or(Value::Null),
            );
            if let Some(n) = net {
                m.insert("shared-network-name".into(), n.into());
            }
            Value::Object(m)
        })
        .collect();
    let code = if list.is_empty() {
        result::EMPTY
    } else {
        result::SUCCESS
    };
    Answer::new(code, format!("{} {family} subnets found", list.len()))
        .with(json!({ "subnets": list }))
}

/// `subnet4-get` / `subnet6-get` by `id` or `subnet`.
fn subnet_get(st: &AppState, args: &Args<'_>, section: &str, key: &str, family: &str) -> Outcome {
    let id = args.int("id", 0, u32::MAX as i64)?;
    let prefix = args.str("subnet")?;
    if id.is_none() && prefix.is_none() {
        return Err(Answer::err("'id' or 'subnet' must be specified"));
    }
    let running = st.ctx.running();
    let found = subnets(&running.json, section, key)
        .into_iter()
        .find(|(s, _)| match (id, prefix) {
            (Some(i), _) => s.get("id").and_then(Value::as_i64) == Some(i),
            (None, Some(p)) => s.get("subnet").and_then(Value::as_str) == Some(p),
            (None, None) => false,
        });
    match found {
        Some((s, net)) => {
            let name = s.get("subnet").and_then(Value::as_str).unwrap_or("?");
            let sid = s.get("id").and_then(Value::as_i64).unwrap_or(0);
            let mut v = Value::Object(s.clone());
            if let Some(n) = net {
                v["shared-network-name"] = n.into();
            }
            Ok(Answer::ok(format!(
                "Info about {family} subnet {name} (id {sid}) returned"
            ))
            .with(json!({ key: [v] })))
        }
        None => Err(Answer::new(
            result::EMPTY,
            match (id, prefix) {
                (Some(i), _) => format!("No subnet with id {i} found"),
                (None, Some(p)) => format!("No {p} subnet found"),
                (None, None) => "No subnet found".to_string(),
            },
        )),
    }
}

fn status_get(st: &AppState) -> Answer {
    let up = st.started.elapsed().as_secs();
    Answer {
        result: 0,
        text: None,
        arguments: Some(json!({
            "pid": std::process::id(),
            "uptime": up,
            "reload": st.ctx.running().loaded.elapsed().as_secs(),
            "multi-threading-enabled": false,
            "thread-pool-size": 0,
            "packet-queue-size": 0,
            "sockets": { "status": "ready" },
        })),
    }
}

/// The section a Kea daemon's `config-set` takes.
fn own_section(service: Option<&str>) -> Option<&'static str> {
    match service {
        Some("dhcp4") => Some("Dhcp4"),
        Some("dhcp6") => Some("Dhcp6"),
        Some("d2") => Some("DhcpDdns"),
        _ => None,
    }
}

/// `config-set` and `config-reload`: handed to the appliance, which checks the new
/// configuration, restarts the engines on it (the API stays up) and keeps the previous
/// one running when anything is refused. Texts as Kea's daemons answer.
async fn reconfigure(
    st: &AppState,
    service: Option<&str>,
    command: &str,
    args: &Args<'_>,
    has_args: bool,
) -> Answer {
    let Some(tx) = st.ctx.reconfigure.clone() else {
        return unsupported(command);
    };
    let what = if command == "config-reload" {
        crate::Reconfigure::Reload
    } else {
        match config_set_sections(service, args, has_args) {
            Ok(m) => crate::Reconfigure::Set(m),
            Err(a) => return a,
        }
    };
    let (reply, outcome) = tokio::sync::oneshot::channel();
    let request = crate::ReconfigureRequest { what, reply };
    let result = match tx.send(request).await {
        Ok(()) => outcome
            .await
            .unwrap_or_else(|_| Err("the server is shutting down".into())),
        Err(_) => Err("the server is shutting down".into()),
    };
    match (result, command) {
        (Ok(()), _) => Answer::ok("Configuration successful.")
            .with(json!({ "hash": config_hash(&st.ctx.running().json) })),
        (Err(e), "config-reload") => Answer::err(format!("Config reload failed: {e}")),
        (Err(e), _) => Answer::err(e),
    }
}

/// The sections a `config-set` replaces. Sent to one daemon (`service`), the arguments
/// hold that daemon's section only, as Kea requires; sent to tern as a whole, any of its
/// sections. `hash` (what `config-get` adds) is ignored so its answer can be sent back.
fn config_set_sections(
    service: Option<&str>,
    args: &Args<'_>,
    has_args: bool,
) -> Result<Map<String, Value>, Answer> {
    if !has_args {
        return Err(Answer::err("Missing mandatory 'arguments' parameter."));
    }
    let mut sections = args.0.clone();
    sections.remove("hash");
    if let Some(own) = own_section(service) {
        match sections.get(own) {
            None => return Err(Answer::err(format!("Missing mandatory '{own}' parameter."))),
            Some(Value::Object(_)) => {}
            Some(_) => {
                return Err(Answer::err(format!(
                    "'{own}' parameter expected to be a map."
                )))
            }
        }
        let others: Vec<&String> = sections.keys().filter(|k| *k != own).collect();
        if let Some((first, rest)) = others.split_first() {
            let mut text = format!("Unsupported '{first}' parameter");
            for o in rest {
                text.push_str(&format!(" (and '{o}')"));
            }
            text.push('.');
            return Err(Answer::err(text));
        }
    } else if sections.is_empty() {
        return Err(Answer::err(
            "Missing configuration: give the sections to replace (Dhcp4, DhcpDdns, ...).",
        ));
    }
    for (k, v) in &sections {
        if !v.is_object() {
            return Err(Answer::err(format!(
                "'{k}' parameter expected to be a map."
            )));
        }
    }
    Ok(sections)
}

/// SHA-256 of the running configuration's JSON text, upper-case hex (Kea's "hash").
pub fn config_hash(config: &Value) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, config.to_string().as_bytes());
    d.as_ref().iter().map(|b| format!("{b:02X}")).collect()
}

fn config_test(args: &Args<'_>, has_args: bool) -> Outcome {
    if !has_args || args.0.is_empty() {
        return Err(Answer::err("Missing mandatory 'arguments' parameter."));
    }
    let text = Value::Object(args.0.clone()).to_string();
    match tern_config::parse_str(&text, "<config-test>") {
        Ok(_) => Ok(Answer::ok(
            "Configuration seems sane. Control-socket, hook-libraries, and D2 configuration were sanity checked, but not applied.",
        )),
        Err(e) => Err(Answer::err(e.to_string())),
    }
}

fn config_write(st: &AppState, args: &Args<'_>) -> Outcome {
    let dir = st
        .ctx
        .config_path
        .parent()
        .map(|p| p.to_path_buf())
        .unwrap_or_default();
    let target = match args.str("filename")? {
        Some(f) if !f.is_empty() => {
            let p = std::path::PathBuf::from(f);
            if p.is_relative() {
                dir.join(p)
            } else {
                p
            }
        }
        _ => st.ctx.config_path.clone(),
    };
    // As Kea 2.6+: only into the directory the configuration came from.
    let canon_dir = std::fs::canonicalize(if dir.as_os_str().is_empty() {
        std::path::Path::new(".")
    } else {
        &dir
    })
    .ok();
    let target_dir = target.parent().and_then(|p| {
        std::fs::canonicalize(if p.as_os_str().is_empty() {
            std::path::Path::new(".")
        } else {
            p
        })
        .ok()
    });
    if canon_dir.is_none() || canon_dir != target_dir || target.file_name().is_none() {
        return Err(Answer::err(format!(
            "not allowed to write config into {}: must be in {}",
            target.display(),
            dir.display()
        )));
    }
    let text = serde_json::to_string_pretty(&st.ctx.running().json)
        .map_err(|e| Answer::err(format!("cannot render the configuration: {e}")))?;
    std::fs::write(&target, text.as_bytes()).map_err(|e| {
        Answer::err(format!(
            "Unable to open file {} for writing: {e}",
            target.display()
        ))
    })?;
    let name = target.display().to_string();
    Ok(
        Answer::ok(format!("Configuration written to {name} successful"))
            .with(json!({ "filename": name, "size": text.len() })),
    )
}

/// The HA mode `Dhcp4` configures through Kea's HA hook, if any.
fn ha_mode(st: &AppState) -> Option<String> {
    st.ctx
        .running()
        .json
        .get("Dhcp4")
        .and_then(|d| d.get("hooks-libraries"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|h| {
            h.get("library")
                .and_then(Value::as_str)
                .is_some_and(|l| l.contains("libdhcp_ha"))
        })
        .find_map(|h| {
            let p = h.get("parameters")?.get("high-availability")?;
            let first = p.as_array().and_then(|a| a.first()).unwrap_or(p);
            first.get("mode")?.as_str().map(str::to_string)
        })
}

fn ha_heartbeat(st: &AppState) -> Answer {
    match ha_mode(st) {
        None => Answer::new(result::UNSUPPORTED, "'ha-heartbeat' command not supported."),
        Some(mode) => Answer::ok("HA peer status returned.").with(json!({
            "state": mode,
            "date-time": chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
            "scopes": [],
            "unsent-update-count": 0,
        })),
    }
}
