//! The DHCPv6 request flow: one function per message type around the pure decisions of
//! [`crate::v6::decide`] and the store's `lease6` queries. A lease is committed before
//! the REPLY that carries it leaves; REQUESTs, RENEWs, REBINDs and rapid-commit
//! SOLICITs arriving together share one transaction (group commit). Store errors drop
//! the packet once, in [`Engine6::handle`] (the client retransmits).

use std::net::{Ipv6Addr, SocketAddrV6};
use std::sync::Arc;

use sqlx::PgConnection;
use std::collections::{HashMap, HashSet};
use tern_ncr::NameChangeRequest;

use tern_store::lease6::{self, ClientKey, NewLease6};
use tern_store::ncr_queue::{self, NcrSource};
use tern_store::{Lease6, LeaseState, LeaseType, Store};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{debug, error, info, warn};

use crate::analyze::{Analyzer, Table};
use crate::batch::{answer_all, Answer, Batcher};
use crate::error::EngineError;
use crate::v6::config::{Config6, Host6, Subnet6};
use crate::v6::ddns::{self, NameDecision6};
use crate::v6::decide::{
    self, client_identifiers, config_host, destination, hardware_address, lifetimes, rapid_commit,
    reply_type, requested_options, screen, select_subnet, sort_options, start_offset, status_opt,
    text, wrap, Drop, IaOutcome, Ingress6, Lifetimes,
};
use crate::v6::hosts::HostCache6;
use crate::v6::stats::{bump, Stats6};
use crate::v6::wire::{code, msg, status, Message, Opt, Packet};

type Result<T> = std::result::Result<T, EngineError>;

/// UDP ports: 547 and 546 unless `TERN_DHCP6_SERVER_PORT` / `TERN_DHCP6_CLIENT_PORT`
/// say otherwise (tests and benchmarks; Kea files stay unchanged).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports6 {
    /// Where the server listens and relays are answered.
    pub server: u16,
    /// Where clients are answered.
    pub client: u16,
}

impl Default for Ports6 {
    fn default() -> Self {
        Ports6 {
            server: 547,
            client: 546,
        }
    }
}

/// One IA of a client message, as the server reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct IaAsk {
    pd: bool,
    iaid: u32,
    /// (address or prefix, prefix length, (preferred, valid) hint).
    hints: Vec<(Ipv6Addr, u8, (u32, u32))>,
}

fn ias(m: &Message) -> Vec<IaAsk> {
    let mut out = Vec::new();
    for o in &m.options {
        match o {
            Opt::IaNa(ia) => out.push(IaAsk {
                pd: false,
                iaid: ia.iaid,
                hints: ia
                    .options
                    .iter()
                    .filter_map(|o| match o {
                        Opt::IaAddr(a) => Some((a.addr, 128, (a.preferred, a.valid))),
                        _ => None,
                    })
                    .collect(),
            }),
            Opt::IaPd(ia) => out.push(IaAsk {
                pd: true,
                iaid: ia.iaid,
                hints: ia
                    .options
                    .iter()
                    .filter_map(|o| match o {
                        Opt::IaPrefix(p) => Some((p.prefix, p.prefix_len, (p.preferred, p.valid))),
                        _ => None,
                    })
                    .collect(),
            }),
            // IA_TA is deprecated by RFC 9915 and ignored as Kea ignores it.
            _ => {}
        }
    }
    out
}

fn lease_type(pd: bool) -> LeaseType {
    if pd {
        LeaseType::Pd
    } else {
        LeaseType::Na
    }
}

/// What one request commits: its leases, each with the NCRs it causes if written;
/// written together or lost one by one.
type CommitJob = Vec<(NewLease6, Vec<NameChangeRequest>)>;

/// The committer: many requests' leases in one transaction.
type Committer6 = Batcher<CommitJob, Vec<Option<Lease6>>>;

fn start_committer(
    store: Store,
    max_batch: usize,
    workers: usize,
) -> (Committer6, Vec<JoinHandle<()>>) {
    let analyzer = Arc::new(Analyzer::new(Table::Lease6));
    Batcher::start(
        max_batch,
        workers,
        move |batch: Vec<(CommitJob, Answer<Vec<Option<Lease6>>>)>| {
            let (store, analyzer) = (store.clone(), analyzer.clone());
            async move {
                let (jobs, answers): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
                // One address per statement: a later job asking for an address an
                // earlier one of the batch took loses it, as it would to another server.
                let mut seen = std::collections::HashSet::new();
                let mut all = Vec::new();
                let mut place = Vec::new();
                for (j, job) in jobs.iter().enumerate() {
                    for (k, (l, _)) in job.iter().enumerate() {
                        if seen.insert(l.address) {
                            place.push((j, k));
                            all.push(l.clone());
                        }
                    }
                }
                let result = async {
                    let any_ncr = place.iter().any(|(j, k)| !jobs[*j][*k].1.is_empty());
                    if !any_ncr {
                        // One statement is its own transaction: no BEGIN and COMMIT
                        // round trips when there is no NCR to write with the leases.
                        let mut conn = store.pool().acquire().await?;
                        let written = lease6::commit_many(&mut conn, &all).await?;
                        analyzer.wrote(written.len(), &store);
                        return Ok::<_, EngineError>(written);
                    }
                    let mut tx = store.pool().begin().await?;
                    let written = lease6::commit_many(&mut tx, &all).await?;
                    // The NCRs of the leases written, in the same transaction (the
                    // outbox): a name is queued if and only if its lease is.
                    let done: HashSet<Ipv6Addr> = written.iter().map(|w| w.address).collect();
                    let ncrs: Vec<NameChangeRequest> = place
                        .iter()
                        .filter(|(j, k)| done.contains(&jobs[*j][*k].0.address))
                        .flat_map(|(j, k)| jobs[*j][*k].1.iter().cloned())
                        .collect();
                    ncr_queue::enqueue_batch(&mut tx, &ncrs, NcrSource::Dhcp6).await?;
                    tx.commit().await?;
                    analyzer.wrote(written.len(), &store);
                    Ok::<_, EngineError>(written)
                }
                .await;
                // Each written row goes to the job whose lease was placed in the
                // statement (a later job asking for the same address lost it).
                let result = result.map(|written| {
                    let mut by_address: HashMap<Ipv6Addr, Lease6> =
                        written.into_iter().map(|w| (w.address, w)).collect();
                    let mut out: Vec<Vec<Option<Lease6>>> =
                        jobs.iter().map(|job| vec![None; job.len()]).collect();
                    for (j, k) in &place {
                        out[*j][*k] = by_address.remove(&jobs[*j][*k].0.address);
                    }
                    out
                });
                answer_all(answers, result);
            }
        },
    )
}

/// What one request asks the lease table before it chooses: each IA's own leases and
/// which of its candidate addresses are taken.
struct ProbeJob {
    keys: Vec<ClientKey>,
    candidates: Vec<Ipv6Addr>,
}

/// Each key's leases, and the candidates that are taken.
type ProbeAnswer = (Vec<Vec<Lease6>>, HashSet<Ipv6Addr>);

/// The prober: the lookups of many requests in two queries.
type Prober6 = Batcher<ProbeJob, ProbeAnswer>;

fn start_prober(store: Store, workers: usize) -> (Prober6, Vec<JoinHandle<()>>) {
    Batcher::start(
        64,
        workers,
        move |batch: Vec<(ProbeJob, Answer<ProbeAnswer>)>| {
            let store = store.clone();
            async move {
                let (jobs, answers): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
                let keys: Vec<ClientKey> =
                    jobs.iter().flat_map(|j| j.keys.iter().cloned()).collect();
                let candidates: Vec<Ipv6Addr> = jobs
                    .iter()
                    .flat_map(|j| j.candidates.iter().copied())
                    .collect::<HashSet<_>>()
                    .into_iter()
                    .collect();
                let result = async {
                    let mut conn = store.pool().acquire().await?;
                    Ok::<_, EngineError>(lease6::probe(&mut conn, &keys, &candidates).await?)
                }
                .await;
                let result = result.map(|(own, taken)| {
                    let mut own = own.into_iter();
                    jobs.iter()
                        .map(|job| {
                            let mine: Vec<Vec<Lease6>> =
                                own.by_ref().take(job.keys.len()).collect();
                            let t: HashSet<Ipv6Addr> = job
                                .candidates
                                .iter()
                                .filter(|c| taken.contains(c))
                                .copied()
                                .collect();
                            (mine, t)
                        })
                        .collect()
                });
                answer_all(answers, result);
            }
        },
    )
}

/// Pool candidates probed with a request's lookups: enough that one of them is free
/// unless the pool is nearly full (then the search goes on in the database).
const PROBED_CANDIDATES: usize = 4;

struct Background {
    stop: watch::Sender<bool>,
    tasks: std::sync::Mutex<Vec<JoinHandle<()>>>,
}

/// The DHCPv6 engine. Clones share everything.
#[derive(Clone)]
pub struct Engine6 {
    cfg: Arc<Config6>,
    store: Store,
    stats: Arc<Stats6>,
    duid: Arc<Vec<u8>>,
    ports: Ports6,
    committer: Committer6,
    prober: Prober6,
    hosts: Arc<HostCache6>,
    background: Arc<Background>,
}

/// One IA of a request while it is served.
struct IaWork {
    out: IaOutcome,
    choice: Option<Choice>,
    /// The client's leases for this IA before (any state).
    own: Vec<Lease6>,
    name: Option<NameDecision6>,
    committed: bool,
}

/// What every IA of one request shares.
struct Ctx<'a> {
    m: &'a Message,
    asks: &'a [IaAsk],
    duid: &'a [u8],
    hw: Option<&'a (u16, Vec<u8>, u32)>,
    network: &'a [&'a Subnet6],
    host: Option<&'a Host6>,
    fqdn: Option<&'a crate::v6::wire::ClientFqdn>,
}

/// A granted or offered lease of one IA.
struct Choice {
    subnet: u32,
    address: Ipv6Addr,
    prefix_len: u8,
    pool_id: u32,
}

impl Engine6 {
    /// An engine over this configuration and store, answering with `duid`: loads the
    /// hosts table's DHCPv6 reservations and starts the commit workers.
    pub async fn start(
        cfg: Arc<Config6>,
        store: Store,
        stats: Arc<Stats6>,
        duid: Vec<u8>,
        ports: Ports6,
    ) -> std::result::Result<Engine6, tern_store::Error> {
        let (stop, stop_rx) = watch::channel(false);
        let (hosts, hosts_task) = HostCache6::start(store.clone(), stop_rx).await?;
        let (committer, mut tasks) = start_committer(store.clone(), 64, 3);
        tasks.push(hosts_task);
        let (prober, probe_tasks) = start_prober(store.clone(), 1);
        tasks.extend(probe_tasks);
        Ok(Engine6 {
            cfg,
            store,
            stats,
            duid: Arc::new(duid),
            ports,
            committer,
            prober,
            hosts,
            background: Arc::new(Background {
                stop,
                tasks: std::sync::Mutex::new(tasks),
            }),
        })
    }

    /// The hosts table's DHCPv6 reservations as the engine sees them.
    pub fn hosts(&self) -> &HostCache6 {
        &self.hosts
    }

    /// Stops the commit workers; call when no request is in progress any more.
    pub async fn stop(&self) {
        let _ = self.background.stop.send(true);
        let tasks: Vec<JoinHandle<()>> =
            std::mem::take(&mut *self.background.tasks.lock().expect("engine tasks"));
        for t in tasks {
            t.abort();
            let _ = t.await;
        }
    }

    /// The statistics.
    pub fn stats(&self) -> &Arc<Stats6> {
        &self.stats
    }

    /// The server's DUID.
    pub fn duid(&self) -> &[u8] {
        &self.duid
    }

    /// The configuration served.
    pub fn config(&self) -> &Config6 {
        &self.cfg
    }

    /// Processes one datagram; returns the encoded reply and where to send it.
    pub async fn handle(&self, buf: &[u8], ingress: &Ingress6) -> Option<(Vec<u8>, SocketAddrV6)> {
        let pkt = match Packet::decode(buf) {
            Ok(p) => p,
            Err(e) => {
                bump(&self.stats.parse_failed);
                bump(&self.stats.receive_drop);
                debug!(
                    "DHCP6_PACKET_DROP_PARSE_FAIL failed to parse a packet of {} bytes from {} on {}: {e}",
                    buf.len(),
                    ingress.src,
                    ingress.iface
                );
                return None;
            }
        };
        let m = pkt.client();
        bump(self.stats.received_counter(m.msg_type));
        let label = label(m);
        debug!(
            "DHCP6_PACKET_RECEIVED {label}: {} ({}) received from {} on interface {}",
            type_name(m.msg_type),
            m.msg_type,
            ingress.src,
            ingress.iface
        );
        let relayed = matches!(pkt, Packet::Relay(_));
        if let Err(d) = screen(m, relayed, ingress.multicast, &self.duid, self.cfg.unicast) {
            bump(&self.stats.receive_drop);
            match d {
                Drop::RfcViolation(why) => {
                    bump(&self.stats.rfc_violation);
                    debug!(
                        "DHCP6_RFC_VIOLATION {label}: {} dropped: {why}",
                        type_name(m.msg_type)
                    );
                }
                Drop::NotForUs => {
                    bump(&self.stats.not_for_us);
                    debug!("DHCP6_PACKET_DROP_SERVERID_MISMATCH {label}: dropping a packet with another server's identifier");
                }
                Drop::Unicast => debug!(
                    "DHCP6_PACKET_DROP_UNICAST {label}: dropping a unicast {} (not relayed)",
                    type_name(m.msg_type)
                ),
                Drop::Unsupported => debug!(
                    "DHCP6_UNKNOWN_MSG_RECEIVED {label}: a server does not take message type {}",
                    m.msg_type
                ),
            }
            return None;
        }
        let reply = match self.dispatch(&pkt, ingress).await {
            Ok(Some(r)) => r,
            Ok(None) => return None,
            Err(e) => {
                bump(&self.stats.receive_drop);
                error!(
                    "DHCP6_PACKET_PROCESS_FAIL {label}: processing of {} failed, dropped: {e}",
                    type_name(m.msg_type)
                );
                return None;
            }
        };
        bump(if reply.msg_type == msg::ADVERTISE {
            &self.stats.advertise_sent
        } else {
            &self.stats.reply_sent
        });
        bump(&self.stats.sent);
        let to = destination(&pkt, ingress, self.ports.client, self.ports.server);
        debug!(
            "DHCP6_PACKET_SEND {label}: trying to send {} to {to}",
            type_name(reply.msg_type)
        );
        Some((wrap(&pkt, reply).encode(), to))
    }

    async fn dispatch(&self, pkt: &Packet, ingress: &Ingress6) -> Result<Option<Message>> {
        let m = pkt.client();
        let subnet = select_subnet(&self.cfg, pkt, ingress);
        if subnet.is_none() && m.msg_type != msg::INFORMATION_REQUEST {
            info!(
                "DHCP6_SUBNET_SELECTION_FAILED {}: failed to select a subnet for the {} from {} on {}",
                label(m),
                type_name(m.msg_type),
                ingress.src,
                ingress.iface
            );
        }
        match m.msg_type {
            msg::SOLICIT => {
                let rapid = rapid_commit(m, subnet);
                self.assign(pkt, ingress, subnet, rapid, rapid)
                    .await
                    .map(Some)
            }
            msg::REQUEST => self
                .assign(pkt, ingress, subnet, true, false)
                .await
                .map(Some),
            msg::RENEW | msg::REBIND => self.extend(pkt, ingress, subnet).await.map(Some),
            msg::RELEASE => self.release(pkt, subnet).await.map(Some),
            msg::DECLINE => self.decline(pkt, subnet).await.map(Some),
            msg::CONFIRM => Ok(self.confirm(m, subnet)),
            msg::INFORMATION_REQUEST => Ok(Some(self.information(pkt, ingress, subnet))),
            _ => Ok(None),
        }
    }

    /// The reply's frame: type, transaction id, client and server id.
    fn reply_base(&self, m: &Message, msg_type: u8) -> Message {
        let mut options = Vec::new();
        if let Some(c) = m.client_id() {
            options.push(Opt::ClientId(c.to_vec()));
        }
        options.push(Opt::ServerId(self.duid.to_vec()));
        Message {
            msg_type,
            xid: m.xid,
            options,
        }
    }

    /// Finishes a reply: configured options, then Kea's option order.
    fn finish(
        &self,
        m: &Message,
        mut reply: Message,
        subnet: Option<&Subnet6>,
        host: Option<&Host6>,
        pool_options: &[&crate::v6::config::OptionSet6],
    ) -> Message {
        let mut scopes: Vec<&crate::v6::config::OptionSet6> = Vec::new();
        if let Some(h) = host {
            scopes.push(&h.options);
        }
        scopes.extend(pool_options.iter().copied());
        match subnet {
            Some(s) => scopes.push(&s.options),
            None => scopes.push(&self.cfg.global_options),
        }
        let have: Vec<u16> = reply.options.iter().map(Opt::code).collect();
        reply.options.extend(
            requested_options(m, &scopes)
                .into_iter()
                .filter(|o| !have.contains(&o.code())),
        );
        sort_options(&mut reply.options);
        reply
    }

    /// The client's reservation: the configuration's (subnet, then global), then the
    /// hosts table's (subnet, then global).
    fn host_for(&self, pkt: &Packet, ingress: &Ingress6, subnet: &Subnet6) -> Option<Host6> {
        let ids = client_identifiers(pkt, ingress.src.ip(), &self.cfg.identifiers);
        config_host(&self.cfg, subnet, &ids).cloned().or_else(|| {
            self.hosts
                .find(subnet.id, &ids)
                .or_else(|| self.hosts.find(0, &ids))
                .map(|h| (*h).clone())
        })
    }

    /// Whether `a`/`len` may be leased to this client in `s`: reserved for it, or in a
    /// pool and reserved for nobody else.
    fn usable(&self, s: &Subnet6, host: Option<&Host6>, pd: bool, a: Ipv6Addr, len: u8) -> bool {
        if pd {
            if host.is_some_and(|h| h.prefixes.contains(&(a, len))) {
                return true;
            }
            s.pd_pool_of(a, len).is_some()
                && !s.hosts.iter().any(|h| h.prefixes.contains(&(a, len)))
                && !self.hosts.reserved_for_other(s.id, a, &host_ids(host))
        } else {
            if !s.prefix.contains(a) {
                return false;
            }
            if host.is_some_and(|h| h.addresses.contains(&a)) {
                return true;
            }
            s.pool_of(a).is_some()
                && !s.reserved_addresses().any(|r| r == a)
                && !self.hosts.reserved_for_other(s.id, a, &host_ids(host))
        }
    }

    /// The lease to offer or commit for one IA: the client's reservation, else its own
    /// lease, else its hint, else a free one from the pools (searched from the client's
    /// hashed offset). Reads only; the commit decides between competing servers.
    async fn choose(
        &self,
        conn: &mut PgConnection,
        ctx: &Ctx<'_>,
        ask: &IaAsk,
        own: &[Lease6],
        salt: u8,
        taken: &[Ipv6Addr],
    ) -> Result<Option<Choice>> {
        let (network, host, duid) = (ctx.network, ctx.host, ctx.duid);
        let pd = ask.pd;
        let free = |a: &Ipv6Addr| !taken.contains(a);
        for s in network {
            let tries = tries(s, host, own, ask);
            let mine: Vec<Ipv6Addr> = own.iter().map(|l| l.address).collect();
            for (a, len) in tries {
                if !free(&a) || !self.usable(s, host, pd, a, len) {
                    continue;
                }
                if mine.contains(&a) || lease6::first_unleased(conn, &[a]).await?.is_some() {
                    return Ok(Some(self.choice(s, pd, a, len)));
                }
            }
            if let Some(c) = self
                .find_free(conn, s, pd, duid, ask.iaid, salt, taken)
                .await?
            {
                return Ok(Some(c));
            }
        }
        Ok(None)
    }

    /// [`Engine6::choose`] on what the probe found, without another query: the
    /// reservation, the client's own lease, a hint, or a probed pool candidate, in
    /// that order, in the selected subnet. `None`: search the database.
    fn choose_probed(
        &self,
        ctx: &Ctx<'_>,
        ask: &IaAsk,
        own: &[Lease6],
        cand: &Candidates,
        probed_taken: &HashSet<Ipv6Addr>,
        taken: &[Ipv6Addr],
    ) -> Option<Choice> {
        // The selected subnet (its network's others are left to the database search).
        let s = ctx.network[0];
        let pd = ask.pd;
        let host = ctx.host;
        let tries = tries(s, host, own, ask);
        let mine = |a: &Ipv6Addr| own.iter().any(|l| l.address == *a);
        for (a, len) in tries {
            if taken.contains(&a) || !self.usable(s, host, pd, a, len) {
                continue;
            }
            // Free for this client: its own lease, or probed and not taken.
            if mine(&a) || (cand.all.contains(&a) && !probed_taken.contains(&a)) {
                return Some(self.choice(s, pd, a, len));
            }
        }
        cand.pool
            .iter()
            .copied()
            .find(|(a, len)| {
                !taken.contains(a)
                    && !probed_taken.contains(a)
                    && self.usable(s, None, pd, *a, *len)
            })
            .map(|(a, len)| self.choice(s, pd, a, len))
    }

    fn choice(&self, s: &Subnet6, pd: bool, a: Ipv6Addr, len: u8) -> Choice {
        let pool_id = if pd {
            s.pd_pool_of(a, len).map_or(0, |p| p.pool_id)
        } else {
            s.pool_of(a).map_or(0, |p| p.pool_id)
        };
        Choice {
            subnet: s.id,
            address: a,
            prefix_len: len,
            pool_id,
        }
    }

    /// A free address or prefix in `s`'s pools, searched from the client's offset in
    /// steps of 64 candidates, at most 16 steps per pool (a pool of 2^64 addresses is
    /// never full in practice; a small full one is searched completely).
    #[allow(clippy::too_many_arguments)]
    async fn find_free(
        &self,
        conn: &mut PgConnection,
        s: &Subnet6,
        pd: bool,
        duid: &[u8],
        iaid: u32,
        salt: u8,
        taken: &[Ipv6Addr],
    ) -> Result<Option<Choice>> {
        const STEP: usize = 64;
        const STEPS: usize = 16;
        // Each pool searched for at most STEP × STEPS candidates from the offset.
        let per_pool: Vec<Box<dyn Iterator<Item = (Ipv6Addr, u8)> + Send + '_>> = if pd {
            (0..s.pd_pools.len())
                .map(|i| pool_search_one(s, pd, i, duid, iaid, salt))
                .collect()
        } else {
            (0..s.pools.len())
                .map(|i| pool_search_one(s, pd, i, duid, iaid, salt))
                .collect()
        };
        for search in per_pool {
            let mut search = search.take(STEP * STEPS).peekable();
            while search.peek().is_some() {
                let step: Vec<(Ipv6Addr, u8)> = search
                    .by_ref()
                    .take(STEP)
                    .filter(|(a, len)| !taken.contains(a) && self.usable(s, None, pd, *a, *len))
                    .collect();
                let addrs: Vec<Ipv6Addr> = step.iter().map(|c| c.0).collect();
                if let Some(i) = lease6::first_unleased(conn, &addrs).await? {
                    return Ok(Some(self.choice(s, pd, step[i].0, step[i].1)));
                }
            }
        }
        Ok(None)
    }

    /// SOLICIT (ADVERTISE, or with rapid commit REPLY) and REQUEST (REPLY): an address
    /// per IA_NA, a prefix per IA_PD; committed when `commit`, with the NCRs the names
    /// cause.
    async fn assign(
        &self,
        pkt: &Packet,
        ingress: &Ingress6,
        subnet: Option<&Subnet6>,
        commit: bool,
        rapid: bool,
    ) -> Result<Message> {
        let m = pkt.client();
        let mut reply = self.reply_base(m, reply_type(m, rapid));
        if rapid {
            reply.options.push(Opt::RapidCommit);
        }
        let asks = ias(m);
        let Some(subnet) = subnet else {
            for a in &asks {
                let c = if a.pd {
                    status::NO_PREFIX_AVAIL
                } else {
                    status::NO_ADDRS_AVAIL
                };
                reply.options.push(
                    IaOutcome {
                        pd: a.pd,
                        iaid: a.iaid,
                        bindings: Vec::new(),
                        status: Some((c, text::NO_SUBNET.to_string())),
                    }
                    .to_opt(None, &|_, _| None),
                );
            }
            return Ok(self.finish(m, reply, None, None, &[]));
        };
        let duid = m.client_id().unwrap_or_default().to_vec();
        let host = self.host_for(pkt, ingress, subnet);
        let network = self.cfg.network_of(subnet);
        let ids: Vec<u32> = network.iter().map(|s| s.id).collect();
        let hw = hardware_address(pkt, ingress.src.ip());
        let fqdn = match m.opt(code::CLIENT_FQDN) {
            Some(Opt::ClientFqdn(f)) => Some(f.clone()),
            _ => None,
        };
        let ctx = Ctx {
            m,
            asks: &asks,
            duid: &duid,
            hw: hw.as_ref(),
            network: &network,
            host: host.as_ref(),
            fqdn: fqdn.as_ref(),
        };
        // One batched round trip answers every IA's own leases and probes its likely
        // candidates; the database is searched further only when none of them will do.
        let cands: Vec<Candidates> = asks.iter().map(|a| candidates(&ctx, subnet, a)).collect();
        let probe = ProbeJob {
            keys: asks
                .iter()
                .map(|a| ClientKey {
                    subnet_ids: ids.clone(),
                    duid: duid.clone(),
                    iaid: a.iaid,
                    ty: lease_type(a.pd),
                })
                .collect(),
            candidates: cands.iter().flat_map(|c| c.all.iter().copied()).collect(),
        };
        let (owns, probed_taken) = self.prober.submit(probe).await?;
        let mut conn = None;
        let mut work: Vec<IaWork> = Vec::new();
        let mut taken: Vec<Ipv6Addr> = Vec::new();
        for ((a, own), cand) in asks.iter().zip(owns).zip(&cands) {
            let mut c = self.choose_probed(&ctx, a, &own, cand, &probed_taken, &taken);
            if c.is_none() {
                if conn.is_none() {
                    conn = Some(self.store.pool().acquire().await?);
                }
                let conn = conn.as_mut().expect("acquired");
                c = self.choose(conn, &ctx, a, &own, 0, &taken).await?;
            }
            if let Some(c) = &c {
                taken.push(c.address);
            }

            let name = c.as_ref().map(|c| self.name_for(&ctx, a.pd, c));
            work.push(IaWork {
                out: IaOutcome {
                    pd: a.pd,
                    iaid: a.iaid,
                    bindings: Vec::new(),
                    status: None,
                },
                choice: c,
                own,
                name,
                committed: false,
            });
        }
        drop(conn);
        if commit {
            self.commit_choices(&ctx, &mut work).await?;
        }
        let mut pool_opts = Vec::new();
        for (i, w) in work.iter_mut().enumerate() {
            let ask = &asks[i];
            match &w.choice {
                Some(c) => {
                    let s = network
                        .iter()
                        .find(|s| s.id == c.subnet)
                        .copied()
                        .unwrap_or(subnet);
                    let hint = ask.hints.first().map(|h| h.2);
                    w.out
                        .bindings
                        .push((c.address, c.prefix_len, lifetimes(&s.times, hint)));
                    if ask.pd {
                        if let Some(p) = s.pd_pool_of(c.address, c.prefix_len) {
                            pool_opts.push(&p.options);
                        }
                    } else if let Some(p) = s.pool_of(c.address) {
                        pool_opts.push(&p.options);
                    }
                    if !commit {
                        info!(
                            "DHCP6_LEASE_ADVERT {}: {} {}/{} will be advertised (IAID {})",
                            label(m),
                            if ask.pd { "prefix" } else { "address" },
                            c.address,
                            c.prefix_len,
                            ask.iaid
                        );
                    }
                }
                None => {
                    bump(&self.stats.allocation_fail);
                    let (code, why) = if ask.pd {
                        (status::NO_PREFIX_AVAIL, text::NO_PREFIX)
                    } else {
                        (status::NO_ADDRS_AVAIL, text::NO_ADDRS)
                    };
                    warn!(
                        "DHCP6_LEASE_ALLOC_FAIL {}: failed to {} a {} for IAID {} in subnet {} ({}): pools exhausted",
                        label(m),
                        if commit { "grant" } else { "advertise" },
                        if ask.pd { "prefix" } else { "address" },
                        ask.iaid,
                        subnet.id,
                        subnet.prefix
                    );
                    w.out.status = Some((code, why.to_string()));
                }
            }
        }
        let times = subnet.times;
        for w in &work {
            reply.options.push(
                w.out
                    .to_opt(Some(&times), &|a, len| self.exclude(subnet, m, a, len)),
            );
        }
        // RFC 4704 §5: the server's answer to the client's option 39 (Kea answers
        // whenever the client sent one, also without an address to name).
        let answer = work
            .iter()
            .filter(|w| !w.out.pd)
            .find_map(|w| w.name.as_ref().and_then(|n| n.reply.clone()))
            .or_else(|| {
                fqdn.as_ref().and_then(|f| {
                    ddns::decide(
                        &subnet.ddns,
                        Some(f),
                        host.as_ref().and_then(|h| h.hostname.as_deref()),
                        Ipv6Addr::UNSPECIFIED,
                    )
                    .reply
                })
            });
        if let Some(f) = answer {
            reply.options.push(Opt::ClientFqdn(f));
        }
        Ok(self.finish(m, reply, Some(subnet), host.as_ref(), &pool_opts))
    }

    /// The name decision for a lease (addresses only: delegated prefixes keep the name
    /// but get no DNS entries, as in Kea).
    fn name_for(&self, ctx: &Ctx<'_>, pd: bool, c: &Choice) -> NameDecision6 {
        let s = ctx
            .network
            .iter()
            .find(|s| s.id == c.subnet)
            .expect("chosen in the network");
        let reserved = ctx.host.and_then(|h| h.hostname.as_deref());
        let mut d = ddns::decide(s.ddns_for(c.address), ctx.fqdn, reserved, c.address);
        if pd {
            d.fwd = false;
            d.rev = false;
        }
        d
    }

    /// RFC 6603: the excluded prefix of a delegated prefix, only when the client's ORO
    /// asks for option 67.
    fn exclude(&self, s: &Subnet6, m: &Message, a: Ipv6Addr, len: u8) -> Option<Vec<u8>> {
        let asked = matches!(m.opt(code::ORO), Some(Opt::Oro(v)) if v.contains(&code::PD_EXCLUDE));
        if !asked {
            return None;
        }
        let p = s.pd_pool_of(a, len)?;
        let (e, elen) = p.excluded?;
        // The excluded prefix's subnet-id bits, put under this delegated prefix.
        let mask = if len == 0 {
            0
        } else {
            u128::MAX << (128 - u32::from(len))
        };
        let inside = (u128::from(a) & mask) | (u128::from(e) & !mask);
        decide::pd_exclude_data(Ipv6Addr::from(inside), elen, len)
    }

    /// Commits the chosen leases of one request with their NCRs; an IA whose address
    /// another client took meanwhile chooses once more elsewhere, then goes without.
    async fn commit_choices(&self, ctx: &Ctx<'_>, work: &mut [IaWork]) -> Result<()> {
        for round in 0..2u8 {
            let pending: Vec<usize> = work
                .iter()
                .enumerate()
                .filter(|(_, w)| w.choice.is_some() && !w.committed)
                .map(|(i, _)| i)
                .collect();
            if pending.is_empty() {
                return Ok(());
            }
            let job: CommitJob = pending
                .iter()
                .map(|i| {
                    let w = &work[*i];
                    let c = w.choice.as_ref().expect("pending has a choice");
                    let ask = &ctx.asks[*i];
                    let s = ctx
                        .network
                        .iter()
                        .find(|s| s.id == c.subnet)
                        .expect("chosen in the network");
                    let l = lifetimes(&s.times, ask.hints.first().map(|h| h.2));
                    let name = w.name.clone().unwrap_or_default();
                    let ncrs = if ask.pd {
                        Vec::new()
                    } else {
                        let old = w.own.iter().find(|o| o.address == c.address);
                        ddns::lease_ncrs(
                            s.ddns_for(c.address),
                            ctx.duid,
                            old,
                            &name,
                            c.address,
                            l.valid,
                        )
                    };
                    (
                        NewLease6 {
                            address: c.address,
                            duid: ctx.duid.to_vec(),
                            iaid: ask.iaid,
                            lease_type: lease_type(ask.pd),
                            prefix_len: c.prefix_len,
                            valid_lifetime: l.valid,
                            pref_lifetime: l.preferred,
                            subnet_id: c.subnet,
                            fqdn_fwd: name.fwd,
                            fqdn_rev: name.rev,
                            hostname: name.fqdn.clone(),
                            hwaddr: ctx.hw.map(|h| h.1.clone()),
                            hwtype: ctx.hw.map(|h| h.0),
                            hwaddr_source: ctx.hw.map(|h| h.2),
                            pool_id: c.pool_id,
                        },
                        ncrs,
                    )
                })
                .collect();
            let ncr_counts: Vec<usize> = job.iter().map(|(_, n)| n.len()).collect();
            let written = self.committer.submit(job).await?;
            let mut lost = Vec::new();
            for ((i, w), n) in pending.iter().zip(written).zip(ncr_counts) {
                let pd = ctx.asks[*i].pd;
                let iaid = ctx.asks[*i].iaid;
                let work_i = &mut work[*i];
                let c = work_i.choice.as_ref().expect("pending has a choice");
                match w {
                    Some(l) => {
                        work_i.committed = true;
                        let renewed = work_i.own.iter().any(|o| {
                            o.address == l.address
                                && o.state == LeaseState::Default
                                && o.expire > chrono::Utc::now()
                        });
                        if !renewed {
                            self.stats.assigned(c.subnet, pd);
                        }
                        info!(
                            "DHCP6_LEASE_ALLOC {}: {} {}/{} has been {} for {} seconds (IAID {})",
                            label(ctx.m),
                            if pd { "prefix" } else { "address" },
                            l.address,
                            l.prefix_len,
                            if renewed { "renewed" } else { "allocated" },
                            l.valid_lifetime,
                            iaid
                        );
                        if n > 0 {
                            debug!(
                                "DHCP6_NCR_CREATED {}: {n} name change request(s) queued for {}",
                                label(ctx.m),
                                l.address
                            );
                        }
                    }
                    None => lost.push(*i),
                }
            }
            if lost.is_empty() {
                return Ok(());
            }
            let mut conn = self.store.pool().acquire().await?;
            for i in lost {
                let taken: Vec<Ipv6Addr> = work
                    .iter()
                    .filter_map(|w| w.choice.as_ref().map(|c| c.address))
                    .collect();
                debug!(
                    "DHCP6_LEASE_RACE {}: {} was taken by another client meanwhile; choosing again",
                    label(ctx.m),
                    work[i]
                        .choice
                        .as_ref()
                        .map(|c| c.address.to_string())
                        .unwrap_or_default()
                );
                let again = if round == 0 {
                    self.choose(&mut conn, ctx, &ctx.asks[i], &work[i].own, 1, &taken)
                        .await?
                } else {
                    None
                };
                work[i].name = again
                    .as_ref()
                    .map(|c| self.name_for(ctx, ctx.asks[i].pd, c));
                work[i].choice = again;
            }
        }
        // What is still not committed after the second round goes without.
        for w in work.iter_mut().filter(|w| !w.committed) {
            w.choice = None;
            w.name = None;
        }
        Ok(())
    }

    /// RENEW and REBIND (RFC 8415 §18.3.4, §18.3.5): the client's leases extended;
    /// addresses it names that it cannot keep come back with lifetimes 0; an IA the
    /// server has no binding for gets a new lease (RFC 7550 §4.2, as Kea does).
    async fn extend(
        &self,
        pkt: &Packet,
        ingress: &Ingress6,
        subnet: Option<&Subnet6>,
    ) -> Result<Message> {
        let m = pkt.client();
        let Some(subnet) = subnet else {
            let mut reply = self.reply_base(m, msg::REPLY);
            for a in ias(m) {
                reply.options.push(
                    IaOutcome {
                        pd: a.pd,
                        iaid: a.iaid,
                        bindings: Vec::new(),
                        status: Some((status::NO_BINDING, text::NO_BINDING.to_string())),
                    }
                    .to_opt(None, &|_, _| None),
                );
            }
            return Ok(self.finish(m, reply, None, None, &[]));
        };
        let mut reply = self.assign(pkt, ingress, Some(subnet), true, false).await?;
        // Addresses the client named and did not get back: lifetimes 0 (§18.3.4).
        let asks = ias(m);
        for o in reply.options.iter_mut() {
            let (ia, pd) = match o {
                Opt::IaNa(ia) => (ia, false),
                Opt::IaPd(ia) => (ia, true),
                _ => continue,
            };
            let Some(ask) = asks.iter().find(|a| a.iaid == ia.iaid && a.pd == pd) else {
                continue;
            };
            let granted: Vec<Ipv6Addr> = ia
                .options
                .iter()
                .filter_map(|o| match o {
                    Opt::IaAddr(a) if a.valid > 0 => Some(a.addr),
                    Opt::IaPrefix(p) if p.valid > 0 => Some(p.prefix),
                    _ => None,
                })
                .collect();
            for (a, len, _) in &ask.hints {
                if a.is_unspecified() || granted.contains(a) {
                    continue;
                }
                let zero = Lifetimes {
                    preferred: 0,
                    valid: 0,
                };
                let o = IaOutcome {
                    pd,
                    iaid: ia.iaid,
                    bindings: vec![(*a, *len, zero)],
                    status: None,
                }
                .to_opt(None, &|_, _| None);
                if let Opt::IaNa(x) | Opt::IaPd(x) = o {
                    let at = ia
                        .options
                        .iter()
                        .position(|o| o.code() == code::STATUS_CODE)
                        .unwrap_or(ia.options.len());
                    ia.options.insert(at, x.options[0].clone());
                }
            }
        }
        Ok(reply)
    }

    /// RELEASE (RFC 8415 §18.3.7): each named lease of the client released (kept with
    /// lifetime 0 as Kea ≥ 2.7 keeps it, so the client gets it back if it returns);
    /// a status per IA and a summary.
    async fn release(&self, pkt: &Packet, subnet: Option<&Subnet6>) -> Result<Message> {
        let m = pkt.client();
        let duid = m.client_id().unwrap_or_default().to_vec();
        let mut reply = self.reply_base(m, msg::REPLY);
        let mut general = status::SUCCESS;
        let mut tx = self.store.pool().begin().await?;
        let mut released: Vec<Lease6> = Vec::new();
        for a in ias(m) {
            let mut ok = !a.hints.is_empty();
            for (addr, _, _) in &a.hints {
                match lease6::release(&mut tx, *addr, lease_type(a.pd), &duid, a.iaid).await? {
                    Some(l) => {
                        self.queue_removal(&mut tx, &l).await?;
                        released.push(l);
                    }
                    None => ok = false,
                }
            }
            let st = if ok {
                (status::SUCCESS, text::RELEASED)
            } else {
                general = status::NO_BINDING;
                (status::NO_BINDING, text::RELEASE_NO_BINDING)
            };
            reply.options.push(
                IaOutcome {
                    pd: a.pd,
                    iaid: a.iaid,
                    bindings: Vec::new(),
                    status: Some((st.0, st.1.to_string())),
                }
                .to_opt(None, &|_, _| None),
            );
        }
        tx.commit().await?;
        for l in &released {
            let pd = l.lease_type == LeaseType::Pd;
            if l.expire > chrono::Utc::now() {
                self.stats
                    .adjust(l.subnet_id, -i64::from(!pd), -i64::from(pd), 0);
            }
            info!(
                "DHCP6_RELEASE {}: {} {}/{} was released properly (IAID {})",
                label(m),
                if pd { "prefix" } else { "address" },
                l.address,
                l.prefix_len,
                l.iaid
            );
        }
        reply
            .options
            .push(status_opt(general, text::RELEASE_SUMMARY));
        Ok(self.finish(m, reply, subnet, None, &[]))
    }

    /// DECLINE (RFC 8415 §18.3.8): each named address of the client held for
    /// `decline-probation-period`; a status per IA.
    async fn decline(&self, pkt: &Packet, subnet: Option<&Subnet6>) -> Result<Message> {
        let m = pkt.client();
        let duid = m.client_id().unwrap_or_default().to_vec();
        let mut reply = self.reply_base(m, msg::REPLY);
        let mut tx = self.store.pool().begin().await?;
        let mut declined: Vec<Lease6> = Vec::new();
        for a in ias(m).into_iter().filter(|a| !a.pd) {
            let mut ok = !a.hints.is_empty();
            for (addr, _, _) in &a.hints {
                match lease6::decline(&mut tx, *addr, &duid, a.iaid, self.cfg.decline_probation)
                    .await?
                {
                    Some(l) => {
                        self.queue_removal(&mut tx, &l).await?;
                        declined.push(l);
                    }
                    None => ok = false,
                }
            }
            let st = if ok {
                (status::SUCCESS, text::DECLINED)
            } else {
                (status::NO_BINDING, text::DECLINE_NO_BINDING)
            };
            reply.options.push(
                IaOutcome {
                    pd: false,
                    iaid: a.iaid,
                    bindings: Vec::new(),
                    status: Some((st.0, st.1.to_string())),
                }
                .to_opt(None, &|_, _| None),
            );
        }
        tx.commit().await?;
        for l in &declined {
            // Kea keeps assigned-nas until the declined lease is reclaimed.
            self.stats.adjust(l.subnet_id, 0, 0, 1);
            info!(
                "DHCP6_DECLINE_LEASE {}: address {} was declined by the client and is held for {} seconds",
                label(m),
                l.address,
                self.cfg.decline_probation
            );
        }
        Ok(self.finish(m, reply, subnet, None, &[]))
    }

    /// CONFIRM (RFC 8415 §18.3.3): whether the client's addresses are on this link.
    fn confirm(&self, m: &Message, subnet: Option<&Subnet6>) -> Option<Message> {
        let addrs: Vec<Ipv6Addr> = ias(m)
            .into_iter()
            .filter(|a| !a.pd)
            .flat_map(|a| a.hints.into_iter().map(|h| h.0))
            .collect();
        if addrs.is_empty() {
            debug!(
                "DHCP6_CONFIRM_NO_ADDRESSES {}: a CONFIRM without addresses is not answered",
                label(m)
            );
            return None;
        }
        let mut reply = self.reply_base(m, msg::REPLY);
        let st = match subnet {
            None => status_opt(status::NOT_ON_LINK, text::NO_SUBNET_SELECTED),
            Some(s) => {
                let network = self.cfg.network_of(s);
                match addrs
                    .iter()
                    .find(|a| !network.iter().any(|n| n.prefix.contains(**a)))
                {
                    None => status_opt(status::SUCCESS, text::ON_LINK),
                    Some(a) => status_opt(status::NOT_ON_LINK, &text::not_on_link(*a)),
                }
            }
        };
        reply.options.push(st);
        Some(self.finish(m, reply, subnet, None, &[]))
    }

    /// INFORMATION-REQUEST (RFC 8415 §18.3.6): options only; without a subnet, the
    /// global ones.
    fn information(&self, pkt: &Packet, ingress: &Ingress6, subnet: Option<&Subnet6>) -> Message {
        let m = pkt.client();
        let reply = self.reply_base(m, msg::REPLY);
        let host = subnet.and_then(|s| self.host_for(pkt, ingress, s));
        self.finish(m, reply, subnet, host.as_ref(), &[])
    }

    /// Queues the removal of a lease's DNS entries (if it had any) in `conn`'s
    /// transaction.
    async fn queue_removal(&self, conn: &mut PgConnection, l: &Lease6) -> Result<()> {
        if !(l.fqdn_fwd || l.fqdn_rev) {
            return Ok(());
        }
        let Some(s) = self.cfg.subnet(l.subnet_id) else {
            return Ok(());
        };
        if let Some(n) = ddns::removal(s.ddns_for(l.address), l) {
            debug!(
                "DHCP6_NCR_CREATED removal of {} for {}",
                n.fqdn.as_str(),
                l.address
            );
            ncr_queue::enqueue(&mut *conn, &n, NcrSource::Dhcp6).await?;
        }
        Ok(())
    }

    /// Reclaims expired leases; returns how many.
    pub async fn reclaim(&self, limit: u32) -> Result<usize> {
        let ids: Vec<u32> = self.cfg.subnets.iter().map(|s| s.id).collect();
        let mut tx = self.store.pool().begin().await?;
        let leases = lease6::reclaim_expired(&mut tx, &ids, limit).await?;
        for l in leases.iter().filter(|l| l.state == LeaseState::Default) {
            self.queue_removal(&mut tx, l).await?;
        }
        tx.commit().await?;
        for l in &leases {
            let pd = l.lease_type == LeaseType::Pd;
            if l.state == LeaseState::Declined {
                self.stats.adjust(l.subnet_id, -1, 0, -1);
            } else {
                self.stats
                    .adjust(l.subnet_id, -i64::from(!pd), -i64::from(pd), 0);
            }
            self.stats.reclaimed(l.subnet_id, 1);
            debug!(
                "ALLOC_ENGINE_V6_LEASE_RECLAIM lease {}/{} of subnet {} expired and was reclaimed",
                l.address, l.prefix_len, l.subnet_id
            );
        }
        if !leases.is_empty() {
            info!(
                "ALLOC_ENGINE_V6_LEASES_RECLAMATION_COMPLETE reclaimed {} expired lease(s)",
                leases.len()
            );
        }
        Ok(leases.len())
    }

    /// Deletes reclaimed and released leases older than `hold-reclaimed-time`.
    pub async fn flush_reclaimed(&self) -> Result<u64> {
        if self.cfg.hold_reclaimed_time == 0 {
            return Ok(0);
        }
        let ids: Vec<u32> = self.cfg.subnets.iter().map(|s| s.id).collect();
        let mut conn = self.store.pool().acquire().await?;
        Ok(lease6::flush_reclaimed(&mut conn, &ids, self.cfg.hold_reclaimed_time).await?)
    }

    /// Sets the subnets' gauges from the lease table (other writers share it).
    pub async fn recount(&self) -> Result<()> {
        let mut conn = self.store.pool().acquire().await?;
        for s in &self.cfg.subnets {
            let (nas, declined) = lease6::count_active(&mut conn, s.id, LeaseType::Na).await?;
            let (pds, _) = lease6::count_active(&mut conn, s.id, LeaseType::Pd).await?;
            let mut g = self.stats.subnet(s.id).unwrap_or_default();
            g.assigned_nas = nas as i64;
            g.assigned_pds = pds as i64;
            g.declined = declined as i64;
            self.stats.set_subnet(s.id, g);
        }
        Ok(())
    }
}

/// What an IA tries first in `s`, in order: its reservation, its own leases (not
/// declined), its hints. A prefix hint may name only a length (`::/len`): that is a
/// preference for the size, not an address.
fn tries(s: &Subnet6, host: Option<&Host6>, own: &[Lease6], ask: &IaAsk) -> Vec<(Ipv6Addr, u8)> {
    let pd = ask.pd;
    let mut out: Vec<(Ipv6Addr, u8)> = Vec::new();
    if let Some(h) = host {
        if pd {
            out.extend(h.prefixes.iter().copied());
        } else {
            out.extend(
                h.addresses
                    .iter()
                    .filter(|a| s.prefix.contains(**a))
                    .map(|a| (*a, 128)),
            );
        }
    }
    out.extend(
        own.iter()
            .filter(|l| l.subnet_id == s.id && l.state != LeaseState::Declined)
            .map(|l| (l.address, l.prefix_len)),
    );
    out.extend(
        ask.hints
            .iter()
            .filter(|h| !h.0.is_unspecified())
            .map(|h| (h.0, if pd { h.1 } else { 128 })),
    );
    out
}

/// What one IA's probe asks about: its first tries without its own leases (reservation,
/// hints) and the first few of its pool search from its hashed offset.
struct Candidates {
    /// The pool candidates, with their prefix length.
    pool: Vec<(Ipv6Addr, u8)>,
    /// Everything probed: the tries' addresses and the pool candidates.
    all: Vec<Ipv6Addr>,
}

fn candidates(ctx: &Ctx<'_>, s: &Subnet6, ask: &IaAsk) -> Candidates {
    let pool: Vec<(Ipv6Addr, u8)> = pool_search(s, ask.pd, ctx.duid, ask.iaid, 0)
        .take(PROBED_CANDIDATES)
        .collect();
    let all = tries(s, ctx.host, &[], ask)
        .into_iter()
        .chain(pool.iter().copied())
        .map(|c| c.0)
        .collect();
    Candidates { pool, all }
}

/// The pool search's candidates for one IA in `s`, from its hashed offset, pool by
/// pool: (address or prefix, prefix length). Endless for big pools: take what is needed.
fn pool_search<'s>(
    s: &'s Subnet6,
    pd: bool,
    duid: &[u8],
    iaid: u32,
    salt: u8,
) -> Box<dyn Iterator<Item = (Ipv6Addr, u8)> + Send + 's> {
    let n = if pd { s.pd_pools.len() } else { s.pools.len() };
    let duid = duid.to_vec();
    Box::new((0..n).flat_map(move |i| pool_search_one(s, pd, i, &duid, iaid, salt)))
}

/// [`pool_search`] in the `i`th pool (address pool, or pd-pool with `pd`) only.
fn pool_search_one<'s>(
    s: &'s Subnet6,
    pd: bool,
    i: usize,
    duid: &[u8],
    iaid: u32,
    salt: u8,
) -> Box<dyn Iterator<Item = (Ipv6Addr, u8)> + Send + 's> {
    let offset = start_offset(duid, iaid, salt);
    if pd {
        let p = &s.pd_pools[i];
        let size = p.size().max(1);
        let start = offset % size;
        Box::new((0..p.size()).map(move |k| (p.nth((start + k) % size), p.delegated_len)))
    } else {
        let p = &s.pools[i];
        let (first, size) = (u128::from(p.first), p.size().max(1));
        let start = offset % size;
        Box::new((0..p.size()).map(move |k| (Ipv6Addr::from(first + (start + k) % size), 128)))
    }
}

/// The identifiers of the client's own reservation (whose addresses are its own).
fn host_ids(host: Option<&Host6>) -> Vec<(i16, Vec<u8>)> {
    host.map(|h| vec![h.identifier.clone()]).unwrap_or_default()
}

/// Kea's name of a message type.
pub fn type_name(t: u8) -> &'static str {
    match t {
        msg::SOLICIT => "SOLICIT",
        msg::ADVERTISE => "ADVERTISE",
        msg::REQUEST => "REQUEST",
        msg::CONFIRM => "CONFIRM",
        msg::RENEW => "RENEW",
        msg::REBIND => "REBIND",
        msg::REPLY => "REPLY",
        msg::RELEASE => "RELEASE",
        msg::DECLINE => "DECLINE",
        msg::RECONFIGURE => "RECONFIGURE",
        msg::INFORMATION_REQUEST => "INFORMATION_REQUEST",
        msg::RELAY_FORW => "RELAY_FORW",
        msg::RELAY_REPL => "RELAY_REPL",
        _ => "UNKNOWN",
    }
}

/// Kea's packet label: `duid=[..], tid=0x..`.
fn label(m: &Message) -> String {
    let duid = m
        .client_id()
        .map(|d| {
            d.iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":")
        })
        .unwrap_or_else(|| "no info".into());
    format!("duid=[{duid}], tid=0x{:x}", m.xid)
}
