//! The store's error type.

use std::path::PathBuf;

/// Everything that can go wrong in the store: connecting, migrating, querying, and
/// running the embedded PostgreSQL cluster. Each variant's `Display` is one line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The connection settings cannot be used (for example a malformed URL).
    #[error("invalid database settings: {0}")]
    Settings(String),

    /// PostgreSQL could not be reached or refused the login.
    #[error("cannot connect to PostgreSQL at {target}: {source}")]
    Connect {
        /// Where tern tried to connect (host:port/dbname or socket/dbname).
        target: String,
        /// What the driver reported.
        #[source]
        source: sqlx::Error,
    },

    /// A query failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),

    /// A column holds a value tern cannot read (written by other SQL).
    #[error("unreadable value in the database: {0}")]
    Decode(String),

    /// The address (or prefix) is already reserved for another host in the subnet
    /// (Kea's `ip-reservations-unique`).
    #[error("{address} is already reserved in subnet {subnet_id}")]
    AddressReserved {
        /// The address, or `prefix/length`.
        address: String,
        /// The subnet.
        subnet_id: u32,
    },

    /// A DUID tern will not store as the server's: DUIDs are 3 to 130 bytes (RFC 8415
    /// §11.1), and 00:00:00 is the empty DUID a declined lease carries.
    #[error("invalid DUID {0}: a DUID is 3 to 130 bytes and not 00:00:00")]
    InvalidDuid(String),

    /// A value too big for its column (a hardware type or MAC source above a
    /// `smallint`'s 32767).
    #[error("{column} {value} does not fit its column")]
    OutOfRange {
        /// The column.
        column: &'static str,
        /// The value given.
        value: u64,
    },

    /// A zone of that name is already in the store.
    #[error("zone {0} already exists")]
    ZoneExists(String),

    /// No zone of that name or id is in the store.
    #[error("zone {0} does not exist")]
    ZoneNotFound(String),

    /// A zone name that cannot be one (empty, a leading dot, white space).
    #[error("invalid zone name {0:?}")]
    InvalidZoneName(String),

    /// A record tern-store refuses to write (relative owner, bad type, TTL above
    /// 2^31-1, RFC 2181 §8).
    #[error("invalid record {name} {rtype}: {reason}")]
    InvalidRecord {
        /// The owner name as given.
        name: String,
        /// The type as given.
        rtype: String,
        /// Why.
        reason: String,
    },

    /// A record whose owner is not at or below its zone's name.
    #[error("{name} is not in zone {zone}")]
    OutOfZone {
        /// The owner name.
        name: String,
        /// The zone.
        zone: String,
    },

    /// A serial lower than the zone's: serials never go backwards.
    #[error("the serial of zone {zone} cannot go back from {current} to {requested}")]
    SerialBackwards {
        /// The zone.
        zone: String,
        /// Its serial.
        current: u32,
        /// The serial asked for.
        requested: u32,
    },

    /// The database's zone triggers refused a write (SQLSTATE class TD: a serial
    /// going back or past 2^32-1, a record outside its zone, a zone renamed, a
    /// TRUNCATE); the text is PostgreSQL's.
    #[error("refused by the zone rules: {0}")]
    ZoneRule(String),

    /// A zone kind, serial rule or `managed_by` value that is none of the known ones.
    #[error("{0}")]
    UnknownValue(String),

    /// The zone watcher's task ended.
    #[error("the zone watcher stopped")]
    WatcherStopped,

    /// A schema migration failed; its transaction was rolled back, so the database
    /// is as it was before this migration.
    #[error("schema migration {version} ({name}) failed: {source}")]
    Migration {
        /// Version number of the failed migration.
        version: i32,
        /// Name of the failed migration.
        name: &'static str,
        /// What PostgreSQL reported.
        #[source]
        source: sqlx::Error,
    },

    /// No PostgreSQL server binaries (`initdb`, `postgres`) on this machine.
    #[error(
        "PostgreSQL server binaries not found (looked in PATH and /usr/lib/postgresql/*/bin): \
         install the Debian package postgresql"
    )]
    BinariesNotFound,

    /// A file or process operation for the embedded cluster failed.
    #[error("{context}: {source}")]
    Io {
        /// What tern was doing.
        context: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// A root tern's data directory lies below one the PostgreSQL user may not
    /// enter, and the private view that would get it there failed.
    #[error(
        "PostgreSQL runs as uid {uid} and may not enter {blocked}, and tern could not give it \
         a view of {data_dir} of its own ({reason}): choose a --data-dir PostgreSQL's user can \
         reach (e.g. under /var/lib/tern) or make {blocked} traversable (chmod o+x)",
        blocked = .blocked.display(),
        data_dir = .data_dir.display()
    )]
    DataDirUnreachable {
        /// The PostgreSQL user.
        uid: u32,
        /// The first directory it may not enter.
        blocked: PathBuf,
        /// tern's data directory.
        data_dir: PathBuf,
        /// Why the private view failed.
        reason: String,
    },

    /// `initdb` failed while creating the embedded cluster.
    #[error("initdb failed ({status}): {output}")]
    Initdb {
        /// How initdb exited.
        status: String,
        /// The last lines initdb printed, joined into one line.
        output: String,
    },

    /// Running as root, and no unprivileged user could be found or created to run
    /// PostgreSQL as (PostgreSQL refuses to run as root).
    #[error("cannot run PostgreSQL as an unprivileged user: {0}")]
    RunAsUser(String),

    /// The data directory path is too long for a Unix socket inside it.
    #[error(
        "socket path {0} is longer than the 107 bytes a Unix socket allows: use a shorter data directory"
    )]
    SocketPathTooLong(PathBuf),

    /// The embedded PostgreSQL exited or did not become ready while starting.
    #[error("embedded PostgreSQL did not start: {reason} (log: {log_tail})")]
    ClusterStart {
        /// Why tern gave up.
        reason: String,
        /// The last lines of the server log, joined into one line.
        log_tail: String,
    },

    /// Another PostgreSQL server still runs on the embedded cluster's data directory.
    #[error("another PostgreSQL server (PID {pid}) still runs on {data_dir}")]
    ClusterBusy {
        /// The PID recorded in `postmaster.pid`.
        pid: i32,
        /// The cluster's data directory.
        data_dir: PathBuf,
    },

    /// The embedded PostgreSQL did not shut down in time.
    #[error("embedded PostgreSQL (PID {pid}) did not stop within {seconds} s")]
    ClusterStop {
        /// The postmaster's PID.
        pid: i32,
        /// How long tern waited.
        seconds: u64,
    },
}

/// The store's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}
