//! Where and how to connect to PostgreSQL.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sqlx::postgres::PgConnectOptions;

use crate::error::{Error, Result};

/// Everything but unreserved characters (RFC 3986) is escaped in URL parts.
const URL_ESCAPE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Where the PostgreSQL server listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PgHost {
    /// A TCP host name or IP address.
    Tcp(String),
    /// The directory holding the server's Unix socket (`.s.PGSQL.<port>`).
    Socket(PathBuf),
}

/// Connection settings for [`Store::connect`](crate::Store::connect).
///
/// `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectSettings {
    /// Server address or socket directory.
    pub host: PgHost,
    /// Server port (for a socket: the number in the socket's file name).
    pub port: u16,
    /// Database name.
    pub dbname: String,
    /// Role to log in as.
    pub user: String,
    /// Password, if the server asks for one.
    pub password: Option<String>,
    /// Most connections the pool opens.
    pub max_connections: u32,
    /// How long to wait for a pooled connection (and for the first connect).
    pub acquire_timeout: Duration,
    /// `application_name` the server shows in `pg_stat_activity`.
    pub application_name: String,
}

impl fmt::Debug for ConnectSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("dbname", &self.dbname)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("application_name", &self.application_name)
            .finish()
    }
}

/// Shows where the settings point (never the password).
impl fmt::Display for ConnectSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.target())
    }
}

impl ConnectSettings {
    /// Default size of the connection pool.
    pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

    fn new(host: PgHost, port: u16, dbname: &str, user: &str) -> Self {
        ConnectSettings {
            host,
            port,
            dbname: dbname.to_owned(),
            user: user.to_owned(),
            password: None,
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
            acquire_timeout: Duration::from_secs(30),
            application_name: "tern".to_owned(),
        }
    }

    /// Settings for a server reached over TCP.
    pub fn tcp(host: &str, port: u16, dbname: &str, user: &str) -> Self {
        Self::new(PgHost::Tcp(host.to_owned()), port, dbname, user)
    }

    /// The role libpq logs in as when none is given: the OS user's name.
    pub fn default_user() -> String {
        os_user_name()
    }

    /// Settings from a libpq-style host: a path (starting with `/`) is a socket
    /// directory, anything else a TCP host name or address.
    pub fn from_host(host: &str, port: u16, dbname: &str, user: &str) -> Self {
        if host.starts_with('/') {
            Self::socket(Path::new(host), port, dbname, user)
        } else {
            Self::tcp(host, port, dbname, user)
        }
    }

    /// Settings for a server reached through the Unix socket in `dir`.
    pub fn socket(dir: &Path, port: u16, dbname: &str, user: &str) -> Self {
        Self::new(PgHost::Socket(dir.to_owned()), port, dbname, user)
    }

    /// The same settings with a password.
    pub fn with_password(mut self, password: &str) -> Self {
        self.password = Some(password.to_owned());
        self
    }

    /// The same settings for another database on the same server.
    pub fn with_dbname(mut self, dbname: &str) -> Self {
        self.dbname = dbname.to_owned();
        self
    }

    /// The same settings with another pool size.
    pub fn with_max_connections(mut self, max_connections: u32) -> Self {
        self.max_connections = max_connections;
        self
    }

    /// Parses a libpq-style URL: `postgresql://user:password@host:port/dbname`, or
    /// for a socket `postgresql:///dbname?host=/run/postgresql&user=tern`.
    pub fn from_url(url: &str) -> Result<Self> {
        let parsed = url::Url::parse(url).map_err(|e| Error::Settings(format!("{url}: {e}")))?;
        if !matches!(parsed.scheme(), "postgres" | "postgresql") {
            return Err(Error::Settings(format!(
                "URL scheme must be postgresql://, not {}://",
                parsed.scheme()
            )));
        }
        let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
        let mut host = match parsed.host_str() {
            Some(h) if !h.is_empty() => {
                Some(h.trim_start_matches('[').trim_end_matches(']').to_owned())
            }
            _ => None,
        };
        let mut port = parsed.port().unwrap_or(5432);
        let mut user = (!parsed.username().is_empty()).then(|| decode(parsed.username()));
        let mut password = parsed.password().map(decode);
        let mut dbname = {
            let path = parsed.path().trim_start_matches('/');
            (!path.is_empty()).then(|| decode(path))
        };
        for (key, value) in parsed.query_pairs() {
            let value = value.into_owned();
            match &*key {
                "host" => host = Some(value),
                "port" => {
                    port = value
                        .parse()
                        .map_err(|_| Error::Settings(format!("bad port {value:?} in URL")))?
                }
                "user" => user = Some(value),
                "password" => password = Some(value),
                "dbname" => dbname = Some(value),
                _ => {}
            }
        }
        let user = user.unwrap_or_else(os_user_name);
        let dbname = dbname.unwrap_or_else(|| user.clone());
        let host = match host {
            Some(h) if h.starts_with('/') => PgHost::Socket(PathBuf::from(h)),
            Some(h) => PgHost::Tcp(h),
            None => PgHost::Socket(PathBuf::from("/var/run/postgresql")),
        };
        let mut settings = Self::new(host, port, &dbname, &user);
        settings.password = password;
        Ok(settings)
    }

    /// A libpq URL for these settings, usable with `psql` (includes the password).
    pub fn url(&self) -> String {
        let enc = |s: &str| utf8_percent_encode(s, URL_ESCAPE).to_string();
        match &self.host {
            PgHost::Tcp(host) => {
                let host = if host.contains(':') {
                    format!("[{host}]")
                } else {
                    host.clone()
                };
                let auth = match &self.password {
                    Some(pw) => format!("{}:{}", enc(&self.user), enc(pw)),
                    None => enc(&self.user),
                };
                format!(
                    "postgresql://{auth}@{host}:{}/{}",
                    self.port,
                    enc(&self.dbname)
                )
            }
            PgHost::Socket(dir) => {
                let mut url = format!(
                    "postgresql:///{}?host={}&port={}&user={}",
                    enc(&self.dbname),
                    enc(&dir.to_string_lossy()),
                    self.port,
                    enc(&self.user)
                );
                if let Some(pw) = &self.password {
                    url.push_str("&password=");
                    url.push_str(&enc(pw));
                }
                url
            }
        }
    }

    /// A libpq keyword/value string (`host=... port=... dbname=... user=...`).
    pub fn keyword_string(&self) -> String {
        let quote = |s: &str| format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"));
        let mut out = format!(
            "host={} port={} dbname={} user={}",
            quote(&self.host_string()),
            self.port,
            quote(&self.dbname),
            quote(&self.user)
        );
        if let Some(pw) = &self.password {
            out.push_str(" password=");
            out.push_str(&quote(pw));
        }
        out
    }

    /// The host as libpq's `-h` takes it: a name, an address or a socket directory.
    pub fn host_string(&self) -> String {
        match &self.host {
            PgHost::Tcp(h) => h.clone(),
            PgHost::Socket(dir) => dir.to_string_lossy().into_owned(),
        }
    }

    /// Where these settings point, for messages (never includes the password).
    pub fn target(&self) -> String {
        match &self.host {
            PgHost::Tcp(h) if h.contains(':') => format!("[{h}]:{}/{}", self.port, self.dbname),
            PgHost::Tcp(h) => format!("{h}:{}/{}", self.port, self.dbname),
            PgHost::Socket(dir) => {
                format!("{}/.s.PGSQL.{}/{}", dir.display(), self.port, self.dbname)
            }
        }
    }

    /// sqlx options for these settings.
    pub fn pg_options(&self) -> PgConnectOptions {
        let opts = PgConnectOptions::new_without_pgpass()
            .port(self.port)
            .username(&self.user)
            .database(&self.dbname)
            .application_name(&self.application_name);
        let opts = match &self.host {
            PgHost::Tcp(h) => opts.host(h),
            PgHost::Socket(dir) => opts.socket(dir),
        };
        match &self.password {
            Some(pw) => opts.password(pw),
            None => opts,
        }
    }
}

/// libpq's default role: the name of the OS user running the process.
pub(crate) fn os_user_name() -> String {
    // SAFETY: getpwuid_r writes only into pwd and buf, owned here and sized as
    // passed; pw_name is read only when the lookup succeeded.
    let from_passwd = unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut buf = vec![0 as libc::c_char; 16 * 1024];
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(
            libc::geteuid(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        );
        (rc == 0 && !result.is_null()).then(|| {
            std::ffi::CStr::from_ptr(pwd.pw_name)
                .to_string_lossy()
                .into_owned()
        })
    };
    from_passwd
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "postgres".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_url_round_trips() {
        let s = ConnectSettings::tcp("127.0.0.1", 5433, "kea db", "kea").with_password("p@ss:w/rd");
        assert_eq!(
            s.url(),
            "postgresql://kea:p%40ss%3Aw%2Frd@127.0.0.1:5433/kea%20db"
        );
        let back = ConnectSettings::from_url(&s.url()).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn socket_url_round_trips() {
        let s = ConnectSettings::socket(Path::new("/var/lib/tern/pg-socket"), 5432, "tern", "tern");
        let back = ConnectSettings::from_url(&s.url()).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.target(), "/var/lib/tern/pg-socket/.s.PGSQL.5432/tern");
    }

    #[test]
    fn url_defaults_and_errors() {
        let s = ConnectSettings::from_url("postgres://db.example/kea").unwrap();
        assert_eq!(s.host, PgHost::Tcp("db.example".into()));
        assert_eq!((s.port, s.dbname.as_str()), (5432, "kea"));
        assert_eq!(s.user, ConnectSettings::default_user());
        assert!(ConnectSettings::from_url("mysql://x/y").is_err());
        assert!(ConnectSettings::from_url("not a url").is_err());
    }

    #[test]
    fn keyword_string_quotes() {
        let s = ConnectSettings::tcp("::1", 5432, "a'b", "u").with_password("x y");
        assert_eq!(
            s.keyword_string(),
            r"host='::1' port=5432 dbname='a\'b' user='u' password='x y'"
        );
        assert_eq!(s.target(), "[::1]:5432/a'b");
        assert!(!format!("{s:?}").contains("x y"));
        assert!(!s.to_string().contains("x y"));
    }

    #[test]
    fn host_strings_like_libpq() {
        let s = ConnectSettings::from_host("/run/postgresql", 5432, "kea", "kea");
        assert_eq!(s.host, PgHost::Socket(PathBuf::from("/run/postgresql")));
        let t = ConnectSettings::from_host("db.example", 5433, "kea", "kea");
        assert_eq!(t.host, PgHost::Tcp("db.example".into()));
        assert_eq!(t.to_string(), "db.example:5433/kea");
    }
}
