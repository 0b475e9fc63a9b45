//! Kea's command channel: `POST /` with `{"command", "service", "arguments"}`, answered
//! with a JSON list holding one `{"result", "text", "arguments"}` per service named (one
//! element when no service is named, as Kea's own HTTP control sockets answer).
//!
//! Result codes as Kea: 0 success, 1 error, 2 unsupported command, 3 empty (nothing found),
//! 4 conflict. Texts follow Kea's lease_cmds, host_cmds and stat_cmds hooks, so scripts
//! that match on them keep working.
//!
//! Every command is one row of [`TABLE`]: its name, the daemons that have it, whether it
//! changes something, and its handler; `list-commands`, the service check, the log level
//! and the dispatch are all read from there.
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
use tracing::info;

use crate::kea::{hosts, parse_hex, Args};
use crate::AppState;
use tern_store::{lease6, HostFilter, Lease6Filter, LeaseFilter};

mod answer;
mod host_cmds;
mod lease_cmds;

pub use answer::{result, Answer, Outcome};
use answer::{unsupported, DbExt};

use host_cmds::*;
use lease_cmds::*;

/// The command channel's routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/", post(handle))
}

/// The Kea daemons a command can be sent to (`"service": [...]`); any other service is
/// answered "forwarding socket is not configured" before a command is looked up.
pub const DAEMONS: [&str; 3] = ["dhcp4", "dhcp6", "d2"];

/// The daemons that have a command, as Kea's own daemons do: dhcp4 has no lease6/subnet6
/// commands, dhcp6 no lease4/subnet4 ones, d2 none of the lease, host, subnet or HA
/// commands. A command sent with no service is answered by tern as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Daemons(u8);

impl Daemons {
    /// dhcp4, dhcp6 and d2 (the daemon commands).
    pub const ALL: Daemons = Daemons(0b111);
    /// dhcp4 and dhcp6 (host_cmds, HA).
    pub const DHCP: Daemons = Daemons(0b011);
    /// dhcp4 only (lease4-*, subnet4-*).
    pub const DHCP4: Daemons = Daemons(0b001);
    /// dhcp6 only (lease6-*, subnet6-*).
    pub const DHCP6: Daemons = Daemons(0b010);

    /// Whether a command with these daemons is served when sent to `service`.
    pub fn serve(self, service: Option<&str>) -> bool {
        match service.and_then(|s| DAEMONS.iter().position(|d| *d == s)) {
            Some(i) => self.0 & (1 << i) != 0,
            // No service named: tern answers as a whole.
            None => true,
        }
    }
}

/// When a command exists at all (as Kea: only where its hook or daemon feature is there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Always.
    Nothing,
    /// `Dhcp4` loads the HA hook (`ha-heartbeat`).
    Ha,
    /// Something can restart the engines (`config-set`, `config-reload`).
    Reconfigure,
}

/// What a command's handler gets: the request, for one service.
pub struct Call<'a> {
    /// Shared state.
    pub st: &'a AppState,
    /// The service the command was sent to (`None`: none named).
    pub service: Option<&'a str>,
    /// The command's name.
    pub name: &'static str,
    /// Its arguments (an empty map when none were given).
    pub args: &'a Args<'a>,
    /// Whether `arguments` was given at all.
    pub has_args: bool,
}

/// A running handler.
pub type Reply<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Outcome> + Send + 'a>>;

/// Runs a command.
pub type Handler = for<'a> fn(&'a Call<'a>) -> Reply<'a>;

/// One command: everything tern knows about it is here.
pub struct Command {
    /// Its name, as `list-commands` reports it.
    pub name: &'static str,
    /// The daemons that have it.
    pub daemons: Daemons,
    /// Whether it changes what tern stores, counts or writes: its outcome is then logged
    /// at info level (`API_COMMAND`). `config-set` and `config-reload` are not: the
    /// reconfiguration logs its own outcome.
    pub mutates: bool,
    /// When it exists.
    pub needs: Needs,
    /// Whether it has a DHCPv6 form (host_cmds' reservations with IPv6 parts, or sent to
    /// dhcp6), run by `host_cmds::dispatch6` instead of the handler.
    pub v6_hosts: bool,
    /// What runs it.
    pub handler: Handler,
}

const READS: bool = false;
const CHANGES: bool = true;

const fn cmd(name: &'static str, daemons: Daemons, mutates: bool, handler: Handler) -> Command {
    Command {
        name,
        daemons,
        mutates,
        needs: Needs::Nothing,
        v6_hosts: false,
        handler,
    }
}

impl Command {
    const fn needs(mut self, needs: Needs) -> Self {
        self.needs = needs;
        self
    }

    /// host_cmds: reservations with IPv6 parts go to `dispatch6`.
    const fn hosts(mut self) -> Self {
        self.v6_hosts = true;
        self
    }

    /// Whether the command exists on this server (`list-commands` names it).
    fn exists(&self, ha: bool, reconfigurable: bool) -> bool {
        match self.needs {
            Needs::Nothing => true,
            Needs::Ha => ha,
            Needs::Reconfigure => reconfigurable,
        }
    }
}

/// An answer known at once.
fn now<'a>(outcome: Outcome) -> Reply<'a> {
    Box::pin(std::future::ready(outcome))
}

use Daemons as D;

/// Every command tern answers, in `list-commands`' order: `list-commands`, the service
/// check, the log level and the dispatch in [`run`] all read this table (a command is
/// added here and nowhere else).
#[rustfmt::skip]
pub static TABLE: &[Command] = &[
    cmd("build-report",                 D::ALL,   READS,   |c| now(Ok(build_report(c.st)))),
    cmd("config-get",                   D::ALL,   READS,   |c| now(Ok(config_get(c.st)))),
    cmd("config-hash-get",              D::ALL,   READS,   |c| now(Ok(config_hash_get(c.st)))),
    cmd("config-reload",                D::ALL,   READS,   |c| Box::pin(reconfigure(c))).needs(Needs::Reconfigure),
    cmd("config-set",                   D::ALL,   READS,   |c| Box::pin(reconfigure(c))).needs(Needs::Reconfigure),
    cmd("config-test",                  D::ALL,   READS,   |c| now(config_test(c.args, c.has_args))),
    cmd("config-write",                 D::ALL,   CHANGES, |c| now(config_write(c.st, c.args))),
    cmd("ha-heartbeat",                 D::DHCP,  READS,   |c| now(Ok(ha_heartbeat(c.st)))).needs(Needs::Ha),
    cmd("lease4-add",                   D::DHCP4, CHANGES, |c| Box::pin(lease4_add(c.st, c.args))),
    cmd("lease4-del",                   D::DHCP4, CHANGES, |c| Box::pin(lease4_del(c.st, c.args))),
    cmd("lease4-get",                   D::DHCP4, READS,   |c| Box::pin(lease4_get(c.st, c.args))),
    cmd("lease4-get-all",               D::DHCP4, READS,   |c| Box::pin(lease4_get_all(c.st, c.args))),
    cmd("lease4-get-by-client-id",      D::DHCP4, READS,   |c| Box::pin(lease4_get_by_client_id(c))),
    cmd("lease4-get-by-hostname",       D::DHCP4, READS,   |c| Box::pin(lease4_get_by_hostname(c))),
    cmd("lease4-get-by-hw-address",     D::DHCP4, READS,   |c| Box::pin(lease4_get_by_hw_address(c))),
    cmd("lease4-get-page",              D::DHCP4, READS,   |c| Box::pin(lease4_get_page(c.st, c.args))),
    cmd("lease4-update",                D::DHCP4, CHANGES, |c| Box::pin(lease4_update(c.st, c.args))),
    cmd("lease4-wipe",                  D::DHCP4, CHANGES, |c| Box::pin(lease4_wipe(c.st, c.args))),
    cmd("lease6-add",                   D::DHCP6, CHANGES, |c| Box::pin(lease6_add(c.st, c.args))),
    cmd("lease6-del",                   D::DHCP6, CHANGES, |c| Box::pin(lease6_del(c.st, c.args))),
    cmd("lease6-get",                   D::DHCP6, READS,   |c| Box::pin(lease6_get(c.st, c.args))),
    cmd("lease6-get-all",               D::DHCP6, READS,   |c| Box::pin(lease6_get_all(c))),
    cmd("lease6-get-by-duid",           D::DHCP6, READS,   |c| Box::pin(lease6_get_by_duid(c))),
    cmd("lease6-get-by-hostname",       D::DHCP6, READS,   |c| Box::pin(lease6_get_by_hostname(c))),
    cmd("lease6-get-page",              D::DHCP6, READS,   |c| Box::pin(lease6_get_page(c.st, c.args))),
    cmd("lease6-update",                D::DHCP6, CHANGES, |c| Box::pin(lease6_update(c.st, c.args))),
    cmd("lease6-wipe",                  D::DHCP6, CHANGES, |c| Box::pin(lease6_wipe(c))),
    cmd("list-commands",                D::ALL,   READS,   |c| now(Ok(list_commands(c.st)))),
    cmd("reservation-add",              D::DHCP,  CHANGES, |c| Box::pin(reservation_add(c.st, c.args))).hosts(),
    cmd("reservation-del",              D::DHCP,  CHANGES, |c| Box::pin(reservation_del(c.st, c.args))).hosts(),
    cmd("reservation-get",              D::DHCP,  READS,   |c| Box::pin(reservation_get(c.st, c.args))).hosts(),
    cmd("reservation-get-all",          D::DHCP,  READS,   |c| Box::pin(reservation_get_all(c))).hosts(),
    cmd("reservation-get-by-hostname",  D::DHCP,  READS,   |c| Box::pin(reservation_get_by_hostname(c))).hosts(),
    cmd("reservation-get-by-id",        D::DHCP,  READS,   |c| Box::pin(reservation_get_by_id(c))).hosts(),
    cmd("reservation-get-page",         D::DHCP,  READS,   |c| Box::pin(reservation_get_page(c.st, c.args))).hosts(),
    cmd("reservation-update",           D::DHCP,  CHANGES, |c| Box::pin(reservation_update(c.st, c.args))).hosts(),
    cmd("shutdown",                     D::ALL,   CHANGES, |c| Box::pin(shutdown(c.st))),
    cmd("statistic-get",                D::ALL,   READS,   |c| now(statistic_get(c))),
    cmd("subnet4-get",                  D::DHCP4, READS,   |c| now(subnet_get(c.st, c.args, "Dhcp4", "subnet4", "IPv4"))),
    cmd("subnet4-list",                 D::DHCP4, READS,   |c| now(Ok(subnet_list(c.st, "Dhcp4", "subnet4", "IPv4")))),
    cmd("subnet6-get",                  D::DHCP6, READS,   |c| now(subnet_get(c.st, c.args, "Dhcp6", "subnet6", "IPv6"))),
    cmd("subnet6-list",                 D::DHCP6, READS,   |c| now(Ok(subnet_list(c.st, "Dhcp6", "subnet6", "IPv6")))),
    cmd("statistic-get-all",            D::ALL,   READS,   |c| now(Ok(statistic_get_all(c.st)))),
    cmd("statistic-reset",              D::ALL,   CHANGES, |c| now(statistic_reset(c))),
    cmd("statistic-reset-all",          D::ALL,   CHANGES, |c| now(Ok(statistic_reset_all(c.st)))),
    cmd("status-get",                   D::ALL,   READS,   |c| now(Ok(status_get(c.st)))),
    cmd("version-get",                  D::ALL,   READS,   |c| now(Ok(version_get(c.st)))),
];

/// The command of that name.
pub fn lookup(name: &str) -> Option<&'static Command> {
    TABLE.iter().find(|c| c.name == name)
}

/// The commands that exist on a server with (or without) the HA hook and something to
/// restart the engines, in the table's order.
fn listed(ha: bool, reconfigurable: bool) -> Vec<&'static str> {
    TABLE
        .iter()
        .filter(|c| c.exists(ha, reconfigurable))
        .map(|c| c.name)
        .collect()
}

fn bad_request(text: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "result": 400, "text": text })),
    )
        .into_response()
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
            Some(s) if !DAEMONS.contains(&s) => Answer::err(format!(
                "forwarding socket is not configured for the server type {s}"
            )),
            service => {
                let a = Args(args.as_ref().unwrap_or(&empty));
                run(&st, service, &command, &a, args.is_some()).await
            }
        };
        let who = caller
            .as_ref()
            .map(|c| format!("{:?}", c.0))
            .unwrap_or_default();
        if lookup(&command).is_some_and(|c| c.mutates) {
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

/// Runs one command for one service (`None`: no service named).
pub async fn run(
    st: &AppState,
    service: Option<&str>,
    command: &str,
    args: &Args<'_>,
    has_args: bool,
) -> Answer {
    let Some(cmd) = lookup(command).filter(|c| c.daemons.serve(service)) else {
        return unsupported(command);
    };
    let ha = cmd.needs == Needs::Ha && ha_mode(st).is_some();
    if !cmd.exists(ha, st.ctx.reconfigure.is_some()) {
        return unsupported(command);
    }
    let outcome = if cmd.v6_hosts && wants_v6(service, args) {
        dispatch6(st, cmd.name, args).await
    } else {
        let call = Call {
            st,
            service,
            name: cmd.name,
            args,
            has_args,
        };
        (cmd.handler)(&call).await
    };
    match outcome {
        Ok(a) | Err(a) => a,
    }
}

/// `list-commands`. As Kea: ha-heartbeat exists only where the HA hook is loaded; the
/// reconfiguration commands only where something can restart the engines.
fn list_commands(st: &AppState) -> Answer {
    let cmds = listed(ha_mode(st).is_some(), st.ctx.reconfigure.is_some());
    Answer {
        result: 0,
        text: None,
        arguments: Some(json!(cmds)),
    }
}

fn version_get(st: &AppState) -> Answer {
    Answer::ok(st.ctx.version).with(json!({
        "extended": format!("tern {} (Kea-compatible command channel)", st.ctx.version)
    }))
}

fn build_report(st: &AppState) -> Answer {
    Answer::ok(format!(
        "tern {}\nKea-compatible command channel, lease_cmds, host_cmds and stat_cmds built in\nbackend: PostgreSQL",
        st.ctx.version
    ))
}

/// As Kea 2.4+: the configuration plus its hash.
fn config_get(st: &AppState) -> Answer {
    let running = st.ctx.running();
    let mut cfg = running.json.clone();
    if let Value::Object(m) = &mut cfg {
        m.insert("hash".into(), config_hash(&running.json).into());
    }
    Answer {
        result: 0,
        text: None,
        arguments: Some(cfg),
    }
}

fn config_hash_get(st: &AppState) -> Answer {
    Answer {
        result: 0,
        text: None,
        arguments: Some(json!({ "hash": config_hash(&st.ctx.running().json) })),
    }
}

/// `shutdown`: handed to the appliance's main loop like a reconfiguration, so the
/// services stop in their usual order; it answers before the API stops (the API's
/// graceful stop lets this answer out). Answered "Shutting down." as Kea does, also when
/// a stop is already under way.
async fn shutdown(st: &AppState) -> Outcome {
    info!("API_SHUTDOWN shutdown requested over the command channel");
    if let Some(tx) = st.ctx.reconfigure.clone() {
        let (reply, outcome) = tokio::sync::oneshot::channel();
        let what = crate::Reconfigure::Shutdown;
        if tx
            .send(crate::ReconfigureRequest { what, reply })
            .await
            .is_ok()
        {
            // Ok(()) once the main loop has it; a closed channel means it is stopping.
            let _ = outcome.await;
        }
    }
    Ok(Answer::ok("Shutting down."))
}

async fn lease4_get_by_hw_address(c: &Call<'_>) -> Outcome {
    let hw = parse_hex("hw-address", c.args.req_str("hw-address")?)?;
    lease_list(
        c.st,
        LeaseFilter {
            hwaddr: Some(hw),
            ..Default::default()
        },
    )
    .await
}

async fn lease4_get_by_client_id(c: &Call<'_>) -> Outcome {
    let id = parse_hex("client-id", c.args.req_str("client-id")?)?;
    lease_list(
        c.st,
        LeaseFilter {
            client_id: Some(id),
            ..Default::default()
        },
    )
    .await
}

/// The `hostname` argument of the `-get-by-hostname` commands: given and not empty.
fn hostname_arg<'a>(args: &Args<'a>) -> Result<&'a str, Answer> {
    let h = args.req_str("hostname")?;
    if h.is_empty() {
        Err(Answer::err("'hostname' parameter is empty"))
    } else {
        Ok(h)
    }
}

async fn lease4_get_by_hostname(c: &Call<'_>) -> Outcome {
    let h = hostname_arg(c.args)?;
    lease_list(
        c.st,
        LeaseFilter {
            hostname: Some(h.to_string()),
            ..Default::default()
        },
    )
    .await
}

async fn lease6_get_all(c: &Call<'_>) -> Outcome {
    let subnets = subnets_arg(c.args)?;
    lease6_list(
        c.st,
        Lease6Filter {
            subnets,
            ..Default::default()
        },
    )
    .await
}

async fn lease6_get_by_duid(c: &Call<'_>) -> Outcome {
    let d = parse_hex("duid", c.args.req_str("duid")?)?;
    lease6_list(
        c.st,
        Lease6Filter {
            duid: Some(d),
            ..Default::default()
        },
    )
    .await
}

async fn lease6_get_by_hostname(c: &Call<'_>) -> Outcome {
    let h = hostname_arg(c.args)?;
    lease6_list(
        c.st,
        Lease6Filter {
            hostname: Some(h.to_string()),
            ..Default::default()
        },
    )
    .await
}

async fn lease6_wipe(c: &Call<'_>) -> Outcome {
    let sid = c
        .args
        .int("subnet-id", 0, u32::MAX as i64)?
        .filter(|s| *s != 0);
    let per = lease6::wipe(c.st.ctx.store.pool(), sid).await.db()?;
    Ok(wipe_answer(sid, &per, "IPv6"))
}

async fn reservation_get_all(c: &Call<'_>) -> Outcome {
    let sid = c.args.req_int("subnet-id", 0, u32::MAX as i64)?;
    host_list(
        c.st,
        HostFilter {
            subnet_id: Some(sid),
            ..Default::default()
        },
        "IPv4 ",
    )
    .await
}

async fn reservation_get_by_hostname(c: &Call<'_>) -> Outcome {
    let h = c.args.req_str("hostname")?;
    let sid = c.args.int("subnet-id", 0, u32::MAX as i64)?;
    host_list(
        c.st,
        HostFilter {
            hostname: Some(h.to_string()),
            subnet_id: sid,
            ..Default::default()
        },
        "IPv4 ",
    )
    .await
}

async fn reservation_get_by_id(c: &Call<'_>) -> Outcome {
    let t = hosts::identifier_code(c.args.req_str("identifier-type")?)?;
    let id = parse_hex("identifier", c.args.req_str("identifier")?)?;
    host_list(
        c.st,
        HostFilter {
            identifier: Some((t, id)),
            any_family: true,
            ..Default::default()
        },
        "",
    )
    .await
}

/// Samples as Kea lists them: `[[value, timestamp], ...]`.
fn samples(samples: &[crate::stats::Sample]) -> Value {
    Value::Array(samples.iter().map(crate::stats::render).collect())
}

fn statistic_get(c: &Call<'_>) -> Outcome {
    let name = c.args.req_str("name")?;
    let mut m = Map::new();
    if let Some(s) = c.st.ctx.stats.get(name) {
        m.insert(name.to_string(), samples(&s));
    }
    Ok(Answer {
        result: 0,
        text: None,
        arguments: Some(Value::Object(m)),
    })
}

fn statistic_get_all(st: &AppState) -> Answer {
    let mut m = Map::new();
    for (name, s) in st.ctx.stats.all() {
        m.insert(name, samples(&s));
    }
    Answer {
        result: 0,
        text: None,
        arguments: Some(Value::Object(m)),
    }
}

fn statistic_reset(c: &Call<'_>) -> Outcome {
    let name = c.args.req_str("name")?;
    if c.st.ctx.stats.reset(name) {
        Ok(Answer::ok(format!("Statistic '{name}' reset.")))
    } else {
        Err(Answer::err(format!("No '{name}' statistic found")))
    }
}

fn statistic_reset_all(st: &AppState) -> Answer {
    st.ctx.stats.reset_all();
    Answer::ok("All statistics reset to neutral values.")
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
async fn reconfigure(c: &Call<'_>) -> Outcome {
    let (st, command) = (c.st, c.name);
    let Some(tx) = st.ctx.reconfigure.clone() else {
        return Err(unsupported(command));
    };
    let what = if command == "config-reload" {
        crate::Reconfigure::Reload
    } else {
        crate::Reconfigure::Set(config_set_sections(c.service, c.args, c.has_args)?)
    };
    let (reply, outcome) = tokio::sync::oneshot::channel();
    let request = crate::ReconfigureRequest { what, reply };
    let result = match tx.send(request).await {
        Ok(()) => outcome
            .await
            .unwrap_or_else(|_| Err("the server is shutting down".into())),
        Err(_) => Err("the server is shutting down".into()),
    };
    Ok(match (result, command) {
        (Ok(()), _) => Answer::ok("Configuration successful.")
            .with(json!({ "hash": config_hash(&st.ctx.running().json) })),
        (Err(e), "config-reload") => Answer::err(format!("Config reload failed: {e}")),
        (Err(e), _) => Answer::err(e),
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every entry is found by its name (no name is there twice, so none is shadowed), and
    /// `list-commands` on a server with the HA hook and a reconfiguration channel is the
    /// table, in order.
    #[test]
    fn every_entry_is_reachable_and_listed() {
        for c in TABLE {
            assert!(
                std::ptr::eq(lookup(c.name).unwrap(), c),
                "{} shadowed",
                c.name
            );
        }
        let names: Vec<&str> = TABLE.iter().map(|c| c.name).collect();
        assert_eq!(listed(true, true), names);
        assert_eq!(names.len(), 47);
        let without: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| !matches!(*n, "ha-heartbeat" | "config-set" | "config-reload"))
            .collect();
        assert_eq!(listed(false, false), without);
        assert!(lookup("lease4-nothing").is_none());
    }

    /// The daemons follow Kea's split: lease4/subnet4 only in dhcp4, lease6/subnet6 only in
    /// dhcp6, no lease, host, subnet or HA command in d2; everything without a service.
    #[test]
    fn services_as_kea_daemons() {
        for c in TABLE {
            let n = c.name;
            let v4 = n.starts_with("lease4-") || n.starts_with("subnet4-");
            let v6 = n.starts_with("lease6-") || n.starts_with("subnet6-");
            let dhcp_only = v4 || v6 || n.starts_with("reservation-") || n == "ha-heartbeat";
            assert_eq!(c.daemons.serve(Some("dhcp4")), !v6, "{n} dhcp4");
            assert_eq!(c.daemons.serve(Some("dhcp6")), !v4, "{n} dhcp6");
            assert_eq!(c.daemons.serve(Some("d2")), !dhcp_only, "{n} d2");
            assert!(c.daemons.serve(None), "{n} with no service");
            assert_eq!(c.v6_hosts, n.starts_with("reservation-"), "{n} v6 form");
        }
    }

    /// The writes are the ones logged at info level: Kea's -add, -update, -del, -wipe,
    /// -write and -reset commands, and shutdown.
    #[test]
    fn writes_are_marked() {
        let writes: Vec<&str> = TABLE.iter().filter(|c| c.mutates).map(|c| c.name).collect();
        assert_eq!(
            writes,
            [
                "config-write",
                "lease4-add",
                "lease4-del",
                "lease4-update",
                "lease4-wipe",
                "lease6-add",
                "lease6-del",
                "lease6-update",
                "lease6-wipe",
                "reservation-add",
                "reservation-del",
                "reservation-update",
                "shutdown",
                "statistic-reset",
                "statistic-reset-all",
            ]
        );
    }
}
