//! The request flow: one function per message type, each returning
//! [`Outcome::Respond`] or [`Outcome::NoResponse`]. Decisions are the pure functions of
//! [`crate::decide`]; this module adds the store queries around them. Store errors are
//! turned into a dropped packet once, in [`Engine::handle`] (the client retransmits).

use std::net::Ipv4Addr;
use std::sync::Arc;

use sqlx::PgConnection;
use tern_store::ncr_queue::{self, NcrSource};
use tern_store::{lease4, Lease4, LeaseState, NewLease4, Owner, Store};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{debug, error, info, warn};

use crate::batch::{answer_all, Answer, Batcher};
use crate::commit::{Committed, Committer, Job};
use crate::hosts::HostCache;

use crate::classify;
use crate::config::{Host, ServerConfig, Subnet};
use crate::ddns::{self, decide_name};
use crate::decide::{
    build_reply, client_identifiers, config_host, config_reserved_for_other, destination,
    lifetimes_for, select_subnet, serving_subnet, start_offset, times_for, Destination, Ingress,
    ReplyPlan,
};
use crate::packet::{Reply, ReplyKind, Request, RequestKind};
use crate::request::{self, request_state, Facts, NakReason, Refusal, RequestState, SilenceReason};
use crate::stats::{bump, Stats};

/// What to do with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Send this reply there.
    Respond(Reply, Destination),
    /// Stay silent (the reason is logged where it is decided).
    NoResponse,
}

pub use crate::error::EngineError;

type Result<T> = std::result::Result<T, EngineError>;

/// The DHCPv4 engine: configuration, store, reservations, lease committer and
/// statistics. Clones share everything.
#[derive(Clone)]
pub struct Engine {
    cfg: Arc<ServerConfig>,
    store: Store,
    stats: Arc<Stats>,
    hosts: Arc<HostCache>,
    committer: Committer,
    prober: Prober,
    background: Arc<Background>,
}

/// DHCPDISCOVER lookups, many to a query.
type Prober = Batcher<lease4::Probe, (Option<Lease4>, bool)>;

/// Runs a batch of DHCPDISCOVER lookups in one query.
fn start_prober(store: Store, workers: usize) -> (Prober, Vec<JoinHandle<()>>) {
    Batcher::start(
        64,
        workers,
        move |batch: Vec<(lease4::Probe, Answer<_>)>| {
            let store = store.clone();
            async move {
                let (probes, answers): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
                let result = async {
                    let mut conn = store.pool().acquire().await?;
                    Ok::<_, EngineError>(
                        lease4::find_by_owner_or_probe_many(&mut conn, &probes).await?,
                    )
                }
                .await;
                answer_all(answers, result);
            }
        },
    )
}

/// The engine's tasks (host cache upkeep, commit workers); they end with the last
/// clone of the engine, or at [`Engine::stop`].
struct Background {
    stop: watch::Sender<bool>,
    tasks: std::sync::Mutex<Vec<JoinHandle<()>>>,
}

/// How DHCPREQUEST commits are grouped: up to `max_batch` requests per transaction,
/// `workers` transactions at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitSettings {
    /// Requests per transaction at most (1: no batching).
    pub max_batch: usize,
    /// Transactions in progress at once.
    pub workers: usize,
}

impl Default for CommitSettings {
    fn default() -> Self {
        CommitSettings {
            max_batch: 64,
            workers: 3,
        }
    }
}

impl CommitSettings {
    /// The defaults, or `TERN_DHCP4_COMMIT_BATCH` requests per transaction (a
    /// benchmark knob: 1 commits every request on its own, 8 at once).
    pub fn from_env() -> CommitSettings {
        match std::env::var("TERN_DHCP4_COMMIT_BATCH")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
        {
            Some(n) if n <= 1 => CommitSettings {
                max_batch: 1,
                workers: 8,
            },
            Some(n) => CommitSettings {
                max_batch: n,
                ..CommitSettings::default()
            },
            None => CommitSettings::default(),
        }
    }
}

/// What a reply carries besides the lease.
#[derive(Debug, Default, Clone, Copy)]
struct Extra<'a> {
    /// DHCPNAK text (option 56).
    message: Option<&'a str>,
    /// Option 81.
    client_fqdn: Option<&'a [u8]>,
    /// Option 12, when not the reservation's.
    hostname: Option<&'a str>,
}

/// A pool connection taken when first needed.
struct LazyConn<'s> {
    store: &'s Store,
    conn: Option<sqlx::pool::PoolConnection<sqlx::Postgres>>,
}

impl<'s> LazyConn<'s> {
    fn new(store: &'s Store) -> Self {
        LazyConn { store, conn: None }
    }

    async fn get(&mut self) -> Result<&mut PgConnection> {
        if self.conn.is_none() {
            self.conn = Some(self.store.pool().acquire().await?);
        }
        Ok(self.conn.as_mut().expect("just acquired"))
    }
}

/// An address [`Engine::offer`] found: in `subnet`, for `req` with the classes its
/// reservation lookup added.
struct Offered<'c> {
    subnet: &'c Subnet,
    host: Option<Found>,
    req: Request,
    address: Ipv4Addr,
}

/// Why [`Engine::offer`] found none.
enum NoOffer {
    /// The client is in class DROP.
    Dropped,
    /// No subnet the client may use has a free address.
    Exhausted,
}

/// A host reservation in force for a request, with where it came from.
#[derive(Debug, Clone)]
struct Found {
    host: Host,
    /// A global reservation (not the subnet's).
    global: bool,
}

impl Found {
    fn reserved(&self) -> classify::Reserved<'_> {
        classify::Reserved {
            host: &self.host,
            global: self.global,
        }
    }
}

impl Engine {
    /// An engine over this configuration and store: loads the hosts table's
    /// reservations and starts keeping them current, and starts the commit workers.
    pub async fn start(
        cfg: Arc<ServerConfig>,
        store: Store,
        stats: Arc<Stats>,
        commit: CommitSettings,
    ) -> std::result::Result<Self, tern_store::Error> {
        let (stop, stop_rx) = watch::channel(false);
        let (hosts, hosts_task) = HostCache::start(store.clone(), stop_rx).await?;
        let (committer, mut tasks) =
            crate::commit::start(cfg.clone(), store.clone(), commit.max_batch, commit.workers);
        tasks.push(hosts_task);
        let (prober, probe_tasks) = start_prober(store.clone(), 1);
        tasks.extend(probe_tasks);
        Ok(Engine {
            cfg,
            store,
            stats,
            hosts,
            committer,
            prober,
            background: Arc::new(Background {
                stop,
                tasks: std::sync::Mutex::new(tasks),
            }),
        })
    }

    /// Stops the background tasks; call when no request is in progress any more.
    pub async fn stop(&self) {
        let _ = self.background.stop.send(true);
        let tasks: Vec<JoinHandle<()>> =
            std::mem::take(&mut *self.background.tasks.lock().expect("engine tasks"));
        for t in tasks {
            // The commit workers idle on their queue: nothing is lost by ending them.
            t.abort();
            let _ = t.await;
        }
    }

    /// The hosts table's reservations as the engine sees them.
    pub fn hosts(&self) -> &HostCache {
        &self.hosts
    }

    /// The statistics.
    pub fn stats(&self) -> &Arc<Stats> {
        &self.stats
    }

    /// Processes one datagram; returns the encoded reply and where to send it.
    pub async fn handle(&self, buf: &[u8], ingress: &Ingress) -> Option<(Vec<u8>, Destination)> {
        let req = match Request::parse(buf) {
            Ok(r) => r,
            Err(e) => {
                bump(&self.stats.parse_failed);
                bump(&self.stats.receive_drop);
                debug!(
                    "DHCP4_PACKET_DROP_0001 failed to parse packet of {} bytes on {}: {e}",
                    buf.len(),
                    ingress.iface
                );
                return None;
            }
        };
        let counter = match req.kind {
            RequestKind::Discover => &self.stats.discover_received,
            RequestKind::Request => &self.stats.request_received,
            RequestKind::Release => &self.stats.release_received,
            RequestKind::Decline => &self.stats.decline_received,
            RequestKind::Inform => &self.stats.inform_received,
            RequestKind::Bootp => &self.stats.request_received,
            RequestKind::Other(_) => &self.stats.unknown_received,
        };
        bump(counter);
        debug!(
            "DHCP4_PACKET_RECEIVED {}: {} received on interface {}",
            req.label(),
            req.kind.name(),
            ingress.iface
        );
        match self.dispatch(&req, ingress).await {
            Ok(Outcome::Respond(reply, dest)) => {
                bump(match reply.kind {
                    ReplyKind::Offer => &self.stats.offer_sent,
                    ReplyKind::Ack => &self.stats.ack_sent,
                    ReplyKind::Nak => &self.stats.nak_sent,
                });
                bump(&self.stats.sent);
                debug!(
                    "DHCP4_PACKET_SEND {}: trying to send packet {} to {dest:?}",
                    req.label(),
                    reply.kind.name()
                );
                Some((reply.encode(), dest))
            }
            Ok(Outcome::NoResponse) => None,
            Err(e) => {
                bump(&self.stats.receive_drop);
                error!(
                    "DHCP4_PACKET_DROP_0007 {}: failed to process packet: {} dropped: {e}",
                    req.label(),
                    req.kind.name()
                );
                None
            }
        }
    }

    /// Reclaims expired leases (Kea's `expired-leases-processing`): each becomes
    /// expired-reclaimed and, if it had DNS entries, their removal is queued in the
    /// same transaction. Returns how many were reclaimed.
    pub async fn reclaim(&self, limit: u32) -> Result<usize> {
        let ids: Vec<u32> = self.cfg.subnets.iter().map(|s| s.id).collect();
        let mut tx = self.store.pool().begin().await?;
        let leases = lease4::reclaim_expired(&mut tx, &ids, limit).await?;
        for l in leases.iter().filter(|l| l.state == LeaseState::Default) {
            if let Some(subnet) = self.cfg.subnet(l.subnet_id) {
                if let Some(n) = ddns::removal(subnet.ddns_for(l.address), l) {
                    ncr_queue::enqueue(&mut *tx, &n, NcrSource::Dhcp4).await?;
                }
            }
        }
        tx.commit().await?;
        for l in &leases {
            if l.state == LeaseState::Declined {
                // The probation is over: the address is usable again.
                self.stats.adjust_subnet(l.subnet_id, 0, -1);
                self.stats.reclaimed_declined(l.subnet_id, 1);
                debug!(
                    "ALLOC_ENGINE_V4_DECLINED_RECOVERED address {} of subnet {} was declined and is available again",
                    l.address, l.subnet_id
                );
                continue;
            }
            self.stats.adjust_subnet(l.subnet_id, -1, 0);
            self.stats.reclaimed(l.subnet_id, 1);
            debug!(
                "ALLOC_ENGINE_V4_LEASE_RECLAIM lease {} of subnet {} expired and was reclaimed",
                l.address, l.subnet_id
            );
        }
        if !leases.is_empty() {
            info!(
                "ALLOC_ENGINE_V4_LEASES_RECLAMATION_COMPLETE reclaimed {} expired lease(s)",
                leases.len()
            );
        }
        Ok(leases.len())
    }

    /// Sets the subnets' assigned and declined gauges from the lease table, which other
    /// writers share (another tern on the same database, the API, plain SQL).
    pub async fn recount(&self) -> Result<()> {
        let mut conn = self.store.pool().acquire().await?;
        for s in &self.cfg.subnets {
            let (assigned, declined) = lease4::count_active(&mut conn, s.id).await?;
            self.stats
                .set_gauges(s.id, assigned as i64, declined as i64);
        }
        Ok(())
    }

    /// Deletes reclaimed and released leases older than `hold-reclaimed-time`
    /// (Kea's flush of reclaimed leases); a hold time of 0 keeps them.
    pub async fn flush_reclaimed(&self) -> Result<u64> {
        if self.cfg.hold_reclaimed_time == 0 {
            return Ok(0);
        }
        let ids: Vec<u32> = self.cfg.subnets.iter().map(|s| s.id).collect();
        let mut conn = self.store.pool().acquire().await?;
        let n = lease4::flush_reclaimed(&mut conn, &ids, self.cfg.hold_reclaimed_time).await?;
        if n > 0 {
            debug!("ALLOC_ENGINE_V4_RECLAIMED_LEASES_DELETE_COMPLETE deleted {n} reclaimed lease(s) past hold-reclaimed-time");
        }
        Ok(n)
    }

    /// One function per message type.
    pub async fn dispatch(&self, req: &Request, ingress: &Ingress) -> Result<Outcome> {
        let mut req = req.clone();
        classify::on_arrival(&self.cfg, &mut req, ingress);
        if self.drop_class(&req) {
            return Ok(Outcome::NoResponse);
        }
        let req = &req;
        match req.kind {
            RequestKind::Discover => self.discover(req, ingress).await,
            RequestKind::Request => self.request(req, ingress).await,
            RequestKind::Release => self.release(req, ingress).await,
            RequestKind::Decline => self.decline(req, ingress).await,
            RequestKind::Inform => self.inform(req, ingress).await,
            RequestKind::Bootp => self.bootp(req, ingress).await,
            RequestKind::Other(t) => {
                bump(&self.stats.receive_drop);
                debug!(
                    "DHCP4_PACKET_DROP_0006 {}: unsupported DHCPv4 message type {t}",
                    req.label()
                );
                Ok(Outcome::NoResponse)
            }
        }
    }

    /// A packet in class DROP gets no answer (Kea's DHCP4_PACKET_DROP_0010).
    fn drop_class(&self, req: &Request) -> bool {
        if !classify::dropped(req) {
            return false;
        }
        bump(&self.stats.receive_drop);
        debug!(
            "DHCP4_PACKET_DROP_0010 {}: dropped as member of the special class 'DROP'",
            req.label()
        );
        true
    }

    /// `req` with the classes that follow from the reservation lookup (KNOWN/UNKNOWN,
    /// the reservation's own, the tests that depend on them).
    fn known(
        &self,
        req: &Request,
        ingress: &Ingress,
        subnet: &Subnet,
        host: Option<&Found>,
    ) -> Request {
        let mut r = req.clone();
        classify::after_host_lookup(
            &self.cfg,
            &mut r,
            ingress,
            host.map(Found::reserved),
            subnet,
        );
        r
    }

    fn subnet(&self, req: &Request, ingress: &Ingress) -> Option<&Subnet> {
        let s = select_subnet(&self.cfg, req, ingress);
        if s.is_none() {
            info!(
                "DHCP4_PACKET_DROP_0002 {}: no suitable subnet configured for the client ({} on {}, giaddr {})",
                req.label(),
                req.kind.name(),
                ingress.iface,
                req.giaddr
            );
        }
        s
    }

    fn owner<'r>(req: &'r Request, subnet: &Subnet) -> Owner<'r> {
        Owner {
            hwaddr: &req.chaddr,
            client_id: if subnet.match_client_id {
                req.client_id.as_deref()
            } else {
                None
            },
        }
    }

    /// The client's reservation: the configuration's, then the hosts table's.
    fn find_host(&self, req: &Request, subnet: &Subnet) -> Option<Found> {
        let ids = client_identifiers(req, &self.cfg.identifiers);
        if let Some(h) = config_host(&self.cfg, subnet, &ids) {
            return Some(Found {
                host: h.clone(),
                global: !subnet.hosts.contains(h),
            });
        }
        let mode = subnet.reservations_mode;
        let mut row = None;
        if mode.in_subnet {
            row = self.hosts.find(subnet.id, &ids).map(|h| (h, false));
        }
        if row.is_none() && mode.global {
            row = self.hosts.find(0, &ids).map(|h| (h, true));
        }
        row.map(|(h, global)| Found {
            host: (*h).clone(),
            global,
        })
    }

    /// Whether `a` is reserved for a client other than this one.
    fn reserved_for_other(&self, req: &Request, subnet: &Subnet, a: Ipv4Addr) -> bool {
        let ids = client_identifiers(req, &self.cfg.identifiers);
        config_reserved_for_other(subnet, a, &ids)
            || self.hosts.reserved_for_other(subnet.id, a, &ids)
    }

    /// An address the client may be given: in the subnet, and either reserved for it
    /// or in a pool and reserved for nobody else.
    fn usable(&self, req: &Request, subnet: &Subnet, host: Option<&Found>, a: Ipv4Addr) -> bool {
        if !subnet.prefix.contains(a) {
            return false;
        }
        if host.and_then(|h| h.host.address) == Some(a) {
            return true;
        }
        subnet.pool_for(a, &req.classes).is_some() && !self.reserved_for_other(req, subnet, a)
    }

    #[allow(clippy::too_many_arguments)]
    fn reply(
        &self,
        req: &Request,
        kind: ReplyKind,
        ingress: &Ingress,
        subnet: Option<&Subnet>,
        host: Option<&Found>,
        yiaddr: Ipv4Addr,
        extra: Extra<'_>,
    ) -> Outcome {
        let pool = subnet.and_then(|s| s.in_pool(yiaddr));
        // The lease's lifetime comes from the classes so far; the classes added after
        // the allocation serve the options and boot fields.
        let lifetimes = match (kind, subnet) {
            (ReplyKind::Nak, _) | (_, None) => None,
            _ if yiaddr.is_unspecified() => None,
            (_, Some(s)) => Some(lifetimes_for(
                &times_for(s, &classify::defs(&self.cfg, req)),
                req.lease_time,
            )),
        };
        let mut req = req.clone();
        if let (Some(s), true) = (subnet, kind != ReplyKind::Nak) {
            classify::after_allocation(
                &self.cfg,
                &mut req,
                ingress,
                s,
                pool,
                host.map(Found::reserved),
            );
        }
        let req = &req;
        let classes = classify::defs(&self.cfg, req);
        let reply = build_reply(&ReplyPlan {
            req,
            kind,
            server_id: ingress.addr,
            subnet,
            pool,
            host: host.map(|h| &h.host),
            yiaddr,
            lifetimes,
            hostname: extra.hostname,
            message: extra.message,
            client_fqdn: extra.client_fqdn,
            echo_client_id: self.cfg.echo_client_id,
            global: &self.cfg.global_options,
            classes: &classes,
        });
        let mut reply = reply;
        classify::flex(&self.cfg, &mut reply, req, ingress);
        Outcome::Respond(reply, destination(req, kind))
    }

    fn nak(&self, req: &Request, ingress: &Ingress, subnet: Option<&Subnet>, why: &str) -> Outcome {
        self.reply(
            req,
            ReplyKind::Nak,
            ingress,
            subnet,
            None,
            Ipv4Addr::UNSPECIFIED,
            Extra {
                message: Some(why),
                ..Extra::default()
            },
        )
    }

    /// A DHCPREQUEST refused by [`crate::request`]: its log line, then the DHCPNAK
    /// (in `subnet`) or nothing.
    fn refused(
        &self,
        req: &Request,
        ingress: &Ingress,
        subnet: Option<&Subnet>,
        address: Ipv4Addr,
        why: Refusal,
    ) -> Outcome {
        let label = req.label();
        let reason = match why {
            Refusal::Silence(s) => {
                match s {
                    SilenceReason::Malformed => {
                        bump(&self.stats.receive_drop);
                        debug!(
                            "DHCP4_PACKET_DROP_0007 {label}: failed to process packet: DHCPREQUEST without requested address or ciaddr"
                        );
                    }
                    SilenceReason::ForeignServer(server_id) => debug!(
                        "DHCP4_PACKET_DROP_0003 {label}, from interface {}: it contains a foreign server identifier {server_id}",
                        ingress.iface
                    ),
                    SilenceReason::NoLease => debug!(
                        "DHCP4_NO_LEASE_INIT_REBOOT {label}: client in INIT-REBOOT state asks for {address}, which it has no lease for"
                    ),
                }
                return Outcome::NoResponse;
            }
            Refusal::Nak(r) => r,
        };
        match reason {
            NakReason::WrongNetwork => info!(
                "DHCP4_PACKET_NAK_0004 {label}: failed to grant a lease: the address {address} is not in subnet {}",
                subnet.map(|s| s.prefix.to_string()).unwrap_or_default()
            ),
            NakReason::ReservedElsewhere(reserved) => info!(
                "DHCP4_PACKET_NAK_0004 {label}: failed to grant a lease: {address} requested, but {reserved} is reserved for the client"
            ),
            NakReason::UnknownLease => info!(
                "DHCP4_PACKET_NAK_0002 {label}: invalid address {address} requested by INIT-REBOOT (authoritative)"
            ),
            NakReason::NotAvailable => info!(
                "DHCP4_PACKET_NAK_0004 {label}: failed to grant a lease for {address}: not available to this client"
            ),
            NakReason::InUse => info!(
                "DHCP4_PACKET_NAK_0004 {label}: failed to grant a lease for {address}: in use by another client"
            ),
        }
        self.nak(req, ingress, subnet, reason.message())
    }

    /// DHCPDISCOVER → DHCPOFFER. Nothing is written (as Kea without `offer-lifetime`):
    /// the address is taken when the DHCPREQUEST commits it, and if someone else took
    /// it meanwhile the client gets a NAK and starts over.
    async fn discover(&self, req: &Request, ingress: &Ingress) -> Result<Outcome> {
        let Some(selected) = self.subnet(req, ingress) else {
            bump(&self.stats.receive_drop);
            return Ok(Outcome::NoResponse);
        };
        match self.offer(req, ingress, selected).await? {
            Ok(Offered {
                subnet,
                host,
                req,
                address,
            }) => {
                info!(
                    "DHCP4_LEASE_ADVERT {}: lease {address} will be advertised",
                    req.label()
                );
                // RFC 4702 §4: the offer already says what the server will do with
                // the client's name.
                let reserved = host.as_ref().and_then(|h| h.host.hostname.as_deref());
                let name = decide_name(subnet.ddns_for(address), &req, reserved, address);
                return Ok(self.reply(
                    &req,
                    ReplyKind::Offer,
                    ingress,
                    Some(subnet),
                    host.as_ref(),
                    address,
                    Extra {
                        client_fqdn: name.reply_fqdn.as_deref(),
                        hostname: name.reply_hostname.as_deref(),
                        message: None,
                    },
                ));
            }
            Err(NoOffer::Dropped) => return Ok(Outcome::NoResponse),
            Err(NoOffer::Exhausted) => {}
        }
        bump(&self.stats.allocation_fail);
        warn!(
            "DHCP4_PACKET_NAK_0003 {}: failed to advertise a lease in subnet {} ({}): pools exhausted",
            req.label(),
            selected.id,
            selected.prefix
        );
        Ok(Outcome::NoResponse)
    }

    /// The address a DHCPDISCOVER is offered: in the selected subnet, then the others of
    /// its shared network that the client's classes may use, each with the classes its
    /// reservation lookup adds.
    async fn offer<'c>(
        &'c self,
        req: &Request,
        ingress: &Ingress,
        selected: &'c Subnet,
    ) -> Result<std::result::Result<Offered<'c>, NoOffer>> {
        // A connection only for the lookups the batched probe does not cover: waiting
        // for the probe while holding one could starve the pool.
        let mut conn = LazyConn::new(&self.store);
        for subnet in self.cfg.network_of(selected) {
            if !subnet.admits(&req.classes) {
                continue;
            }
            let host = self.find_host(req, subnet);
            let req = self.known(req, ingress, subnet, host.as_ref());
            if self.drop_class(&req) {
                return Ok(Err(NoOffer::Dropped));
            }
            if let Some(address) = self.choose(&mut conn, &req, subnet, host.as_ref()).await? {
                return Ok(Ok(Offered {
                    subnet,
                    host,
                    req,
                    address,
                }));
            }
        }
        Ok(Err(NoOffer::Exhausted))
    }

    /// The address to offer in `subnet`: the reserved one if nobody holds it, else the
    /// client's previous one, else the one it asks for, else a free one searched from
    /// the client's own starting point.
    async fn choose(
        &self,
        conn: &mut LazyConn<'_>,
        req: &Request,
        subnet: &Subnet,
        host: Option<&Found>,
    ) -> Result<Option<Ipv4Addr>> {
        let owner = Self::owner(req, subnet);
        if let Some(a) = host.and_then(|h| h.host.address) {
            if subnet.prefix.contains(a)
                && lease4::is_available(conn.get().await?, a, owner).await?
            {
                return Ok(Some(a));
            }
        }
        // One round trip asks for the client's previous lease and probes the first
        // free-looking candidate of the pool search.
        let offset = start_offset(req);
        let probe = self.candidates(req, subnet, offset, 0, 1).pop();
        let (own, probe_free) = match probe {
            Some(candidate) => {
                self.prober
                    .submit(lease4::Probe {
                        subnet_id: subnet.id,
                        hwaddr: owner.hwaddr.to_vec(),
                        client_id: owner.client_id.map(<[u8]>::to_vec),
                        candidate,
                    })
                    .await?
            }
            None => (
                lease4::find_by_owner(conn.get().await?, subnet.id, owner).await?,
                false,
            ),
        };
        // The client's own lease (not declined) is free for it by definition.
        if let Some(l) = own {
            if self.usable(req, subnet, host, l.address) {
                return Ok(Some(l.address));
            }
        }
        if let Some(a) = req.requested_ip {
            if self.usable(req, subnet, host, a)
                && lease4::is_available(conn.get().await?, a, owner).await?
            {
                return Ok(Some(a));
            }
        }
        if probe_free {
            return Ok(probe);
        }
        self.find_free(conn.get().await?, req, subnet, offset).await
    }

    /// The pool search's candidates at positions `from..from + n` counted from
    /// `offset` (wrapping around the pools), less reserved addresses (configuration
    /// and hosts table).
    fn candidates(
        &self,
        req: &Request,
        subnet: &Subnet,
        offset: u64,
        from: u64,
        n: u64,
    ) -> Vec<Ipv4Addr> {
        // Only the pools the client's classes may use.
        let ranges = subnet.ranges_for(&req.classes);
        let total: u64 = ranges.iter().map(|r| r.size()).sum();
        if total == 0 {
            return Vec::new();
        }
        let reserved = subnet.reserved_addresses();
        (from..(from + n).min(total))
            .filter_map(|i| lease4::nth_address(&ranges, (offset + i) % total).map(|(a, _)| a))
            .filter(|a| !reserved.contains(a) && !self.hosts.is_reserved(subnet.id, *a))
            .collect()
    }

    /// A free address in the subnet's pools, searched from `offset` and wrapping
    /// around: not reserved (configuration or hosts table), no unexpired lease.
    async fn find_free(
        &self,
        conn: &mut PgConnection,
        req: &Request,
        subnet: &Subnet,
        offset: u64,
    ) -> Result<Option<Ipv4Addr>> {
        let total: u64 = subnet
            .ranges_for(&req.classes)
            .iter()
            .map(|r| r.size())
            .sum();
        // A step of 256 candidates per query keeps each query cheap however big the
        // pool is.
        let mut done = 0u64;
        while done < total {
            let n = 256.min(total - done);
            let candidates = self.candidates(req, subnet, offset, done, n);
            if let Some(i) = lease4::first_unleased(conn, &candidates).await? {
                return Ok(Some(candidates[i]));
            }
            done += n;
        }
        Ok(None)
    }

    /// DHCPREQUEST → DHCPACK / DHCPNAK / nothing, as [`crate::request`] decides.
    async fn request(&self, req: &Request, ingress: &Ingress) -> Result<Outcome> {
        let state = match request::screen(request_state(req, false), ingress.addr) {
            Ok(s) => s,
            Err(r) => return Ok(self.refused(req, ingress, None, Ipv4Addr::UNSPECIFIED, r)),
        };
        let address = state.address();
        let renewing = matches!(
            state,
            RequestState::Renewing { .. } | RequestState::Rebinding { .. }
        );
        let Some(selected) = self.subnet(req, ingress) else {
            bump(&self.stats.receive_drop);
            return Ok(Outcome::NoResponse);
        };
        // The address may be in another subnet of the same shared network.
        let subnet = serving_subnet(&self.cfg, selected, address);
        let host = self.find_host(req, subnet);
        let req = &self.known(req, ingress, subnet, host.as_ref());
        if self.drop_class(req) {
            return Ok(Outcome::NoResponse);
        }
        let facts = Facts::new(
            state,
            subnet,
            host.as_ref().and_then(|h| h.host.address),
            self.reserved_for_other(req, subnet, address),
        );
        if let Err(r) = request::check(&facts) {
            return Ok(self.refused(req, ingress, Some(subnet), address, r));
        }
        let owner = Self::owner(req, subnet);
        // As Kea decides it when it assigns the lease: the classes so far.
        let times = lifetimes_for(
            &times_for(subnet, &classify::defs(&self.cfg, req)),
            req.lease_time,
        );
        let reserved_name = host.as_ref().and_then(|h| h.host.hostname.as_deref());
        let name = decide_name(subnet.ddns_for(address), req, reserved_name, address);
        let job = Job {
            new: NewLease4 {
                address,
                hwaddr: req.chaddr.clone(),
                // With match-client-id false Kea does not record the client id either.
                client_id: owner.client_id.map(<[u8]>::to_vec),
                valid_lifetime: times.valid,
                subnet_id: subnet.id,
                fqdn_fwd: name.fwd,
                fqdn_rev: name.rev,
                hostname: name.hostname.clone(),
                pool_id: subnet.in_pool(address).map_or(0, |p| p.range.pool_id),
            },
            htype: req.htype,
            facts,
            name,
        };
        let (lease, existing, mine, ncrs) = match self.committer.submit(job.clone()).await? {
            Committed::Refused(r) => {
                return Ok(self.refused(req, ingress, Some(subnet), address, r));
            }
            Committed::Granted(g) => (g.lease, g.existing, g.mine, g.ncrs),
        };
        for n in &ncrs {
            debug!("DHCP4_NCR_CREATED {}: {}", req.label(), n.to_text());
        }
        // The statistics count rows by state: a row still in the default state (active,
        // or expired and not reclaimed, whoever's) was counted as assigned already; a
        // declined one moves from declined to assigned.
        match existing.as_ref().map(|l| l.state) {
            Some(LeaseState::Default) => {}
            Some(LeaseState::Declined) => self.stats.adjust_subnet(subnet.id, 1, -1),
            _ => self.stats.adjust_subnet(subnet.id, 1, 0),
        }
        let active_mine = mine
            && existing
                .as_ref()
                .is_some_and(|l| l.state == LeaseState::Default && l.expire > chrono_now());
        if renewing || active_mine {
            info!(
                "DHCP4_LEASE_ALLOC {}: lease {address} has been renewed for {} seconds",
                req.label(),
                lease.valid_lifetime
            );
        } else {
            info!(
                "DHCP4_LEASE_ALLOC {}: lease {address} has been allocated for {} seconds",
                req.label(),
                lease.valid_lifetime
            );
        }
        Ok(self.reply(
            req,
            ReplyKind::Ack,
            ingress,
            Some(subnet),
            host.as_ref(),
            address,
            Extra {
                client_fqdn: job.name.reply_fqdn.as_deref(),
                hostname: job.name.reply_hostname.as_deref(),
                message: None,
            },
        ))
    }

    fn for_us(req: &Request, ingress: &Ingress) -> bool {
        req.server_id.is_none_or(|s| s == ingress.addr)
    }

    /// DHCPRELEASE: the lease becomes released (see [`lease4::release`]). No reply.
    async fn release(&self, req: &Request, ingress: &Ingress) -> Result<Outcome> {
        if !Self::for_us(req, ingress) {
            return Ok(Outcome::NoResponse);
        }
        let Some(subnet) = self.subnet(req, ingress) else {
            return Ok(Outcome::NoResponse);
        };
        let owner = Self::owner(req, subnet);
        let mut tx = self.store.pool().begin().await?;
        match lease4::release(&mut tx, req.ciaddr, owner).await? {
            Some(before) => {
                if let Some(n) = ddns::removal(subnet.ddns_for(before.address), &before) {
                    ncr_queue::enqueue(&mut *tx, &n, NcrSource::Dhcp4).await?;
                }
                tx.commit().await?;
                self.stats.adjust_subnet(subnet.id, -1, 0);
                info!(
                    "DHCP4_RELEASE {}: address {} was released properly",
                    req.label(),
                    req.ciaddr
                );
            }
            None => {
                info!(
                    "DHCP4_RELEASE_FAIL_NO_LEASE {}: client is trying to release {}, which it has no lease for",
                    req.label(),
                    req.ciaddr
                );
            }
        }
        Ok(Outcome::NoResponse)
    }

    /// DHCPDECLINE: the address is held for `decline-probation-period` (see
    /// [`lease4::decline`]). No reply.
    async fn decline(&self, req: &Request, ingress: &Ingress) -> Result<Outcome> {
        if !Self::for_us(req, ingress) {
            return Ok(Outcome::NoResponse);
        }
        let Some(address) = req.requested_ip else {
            info!(
                "DHCP4_DECLINE_FAIL {}: DHCPDECLINE without a requested address (option 50)",
                req.label()
            );
            return Ok(Outcome::NoResponse);
        };
        let Some(subnet) = self.subnet(req, ingress) else {
            return Ok(Outcome::NoResponse);
        };
        let owner = Self::owner(req, subnet);
        let mut tx = self.store.pool().begin().await?;
        match lease4::decline(&mut tx, address, owner, self.cfg.decline_probation).await? {
            Some(before) => {
                if let Some(n) = ddns::removal(subnet.ddns_for(before.address), &before) {
                    ncr_queue::enqueue(&mut *tx, &n, NcrSource::Dhcp4).await?;
                }
                tx.commit().await?;
                self.stats.adjust_subnet(subnet.id, -1, 1);
                info!(
                    "DHCP4_DECLINE_LEASE {}: lease {address} was declined by the client and is held for {} seconds",
                    req.label(),
                    self.cfg.decline_probation
                );
            }
            None => info!(
                "DHCP4_DECLINE_LEASE_NOT_FOUND {}: the client declined {address}, which it has no lease for",
                req.label()
            ),
        }
        Ok(Outcome::NoResponse)
    }

    /// A BOOTREQUEST, with the bootp hook configured (built in), as Kea's hook has it
    /// served: a DHCPREQUEST for the address a DHCPDISCOVER would be offered, committed
    /// with an infinite lifetime, answered with a BOOTREPLY (no DHCP message type, none
    /// of the DHCP-only options). Without the hook it is dropped, as Kea drops a packet
    /// without a message type.
    async fn bootp(&self, req: &Request, ingress: &Ingress) -> Result<Outcome> {
        if !self.cfg.bootp {
            bump(&self.stats.receive_drop);
            debug!(
                "DHCP4_PACKET_DROP_0009 {}: BOOTREQUEST without a DHCP message type dropped (no libdhcp_bootp.so in hooks-libraries)",
                req.label()
            );
            return Ok(Outcome::NoResponse);
        }
        debug!(
            "BOOTP_BOOTP_QUERY recognized a BOOTP query: {}",
            req.label()
        );
        let Some(selected) = self.subnet(req, ingress) else {
            bump(&self.stats.receive_drop);
            return Ok(Outcome::NoResponse);
        };
        match self.offer(req, ingress, selected).await? {
            Ok(Offered { address, .. }) => {
                // As the DHCPREQUEST selecting that address (its reservation's classes
                // are added again on that path).
                let mut as_request = req.clone();
                as_request.requested_ip = Some(address);
                as_request.server_id = Some(ingress.addr);
                as_request.kind = RequestKind::Request;
                return self.request(&as_request, ingress).await;
            }
            Err(NoOffer::Dropped) => return Ok(Outcome::NoResponse),
            Err(NoOffer::Exhausted) => {}
        }
        bump(&self.stats.allocation_fail);
        warn!(
            "DHCP4_PACKET_NAK_0003 {}: failed to allocate a lease for a BOOTP client in subnet {} ({}): pools exhausted",
            req.label(),
            selected.id,
            selected.prefix
        );
        Ok(Outcome::NoResponse)
    }

    /// DHCPINFORM → DHCPACK with configuration only (RFC 2131 §4.3.5): no lease, no
    /// lease time, yiaddr zero.
    async fn inform(&self, req: &Request, ingress: &Ingress) -> Result<Outcome> {
        let Some(subnet) = self.subnet(req, ingress) else {
            return Ok(Outcome::NoResponse);
        };
        let host = self.find_host(req, subnet);
        let req = &self.known(req, ingress, subnet, host.as_ref());
        if self.drop_class(req) {
            return Ok(Outcome::NoResponse);
        }
        debug!(
            "DHCP4_INFORM_DIRECT_REPLY {}: answering DHCPINFORM from {}",
            req.label(),
            req.ciaddr
        );
        Ok(self.reply(
            req,
            ReplyKind::Ack,
            ingress,
            Some(subnet),
            host.as_ref(),
            Ipv4Addr::UNSPECIFIED,
            // A reservation's host name as it is (DHCPINFORM decides no name).
            Extra {
                hostname: host.as_ref().and_then(|h| h.host.hostname.as_deref()),
                ..Extra::default()
            },
        ))
    }
}

fn chrono_now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}
