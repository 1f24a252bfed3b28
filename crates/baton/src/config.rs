//! Resolving configuration from flags, environment and the TOML file, and
//! setting up logging. Every bad value is reported in one line (exit code 2).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::cli::GlobalArgs;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub public_url: String,
    /// `None` until resolved by a command that needs it (see [`Config::secret_key`]).
    pub secret_key: Option<String>,
    pub log_format: LogFormat,
    /// Outbound email, when configured (both the URL and the sender).
    pub smtp: Option<baton_server::email::SmtpSettings>,
    pub trusted_proxies: baton_server::auth::client_addr::TrustedProxies,
    pub metrics_token: Option<String>,
    /// Database connections of this server: PostgreSQL's pool, or SQLite's
    /// readers (its writer is always one). `None`: the defaults (16; 4).
    pub db_pool: Option<u32>,
    /// `s3://bucket/prefix` for uploaded files; `None`: the data directory.
    pub storage_url: Option<String>,
    /// The nameserver custom-domain checks ask; `None`: the system's.
    pub dns_server: Option<SocketAddr>,
    /// When webhook deliveries are attempted.
    pub webhook_retry: baton_core::webhooks::RetrySchedule,
    /// Webhooks may go to http and private addresses (local testing).
    pub webhook_allow_private: bool,
    /// Platform URLs of the connectors (`BATON_CONNECTOR_<PLATFORM>_URL`, …).
    pub connectors: baton_server::connectors::Endpoints,
    /// `BATON_CONNECTOR_RECHECK`: how long until held access is checked again.
    pub connector_recheck_ms: i64,
}

/// Keys of the `--config` TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    data_dir: Option<PathBuf>,
    listen: Option<String>,
    public_url: Option<String>,
    secret_key: Option<String>,
    log_format: Option<String>,
    smtp_url: Option<String>,
    smtp_from: Option<String>,
    trusted_proxies: Option<String>,
    metrics_token: Option<String>,
    db_pool: Option<u32>,
    storage_url: Option<String>,
    dns_server: Option<String>,
    webhook_retry_schedule: Option<String>,
    webhook_allow_private: Option<String>,
}

impl Config {
    pub fn load(args: &GlobalArgs) -> Result<Config, String> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
                toml::from_str::<FileConfig>(&text)
                    .map_err(|e| format!("config file {}: {}", path.display(), e.message()))?
            }
            None => FileConfig::default(),
        };
        let data_dir = args
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("./baton-data"));
        let database_url = args
            .database_url
            .clone()
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("baton.db").display()));
        baton_store::db::backend_of(&database_url)
            .map_err(|e| format!("BATON_DATABASE_URL: {e}"))?;
        let listen_text = args
            .listen
            .clone()
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen: SocketAddr = listen_text.parse().map_err(|_| {
            format!("BATON_LISTEN: {listen_text:?} is not an address like 127.0.0.1:8080")
        })?;
        let public_url = args
            .public_url
            .clone()
            .or(file.public_url)
            .unwrap_or_else(|| format!("http://{listen}"));
        let public_url = validate_public_url(&public_url)?;
        let secret_key = args.secret_key.clone().or(file.secret_key);
        if let Some(k) = &secret_key {
            if k.len() < 32 {
                return Err("BATON_SECRET_KEY: must be at least 32 characters".into());
            }
        }
        let log_format = parse_log_format(args.log_format.clone().or(file.log_format).as_deref())?;
        let smtp = smtp_settings(
            args.smtp_url.clone().or(file.smtp_url),
            args.smtp_from.clone().or(file.smtp_from),
        )?;
        let trusted_proxies = baton_server::auth::client_addr::TrustedProxies::parse(
            args.trusted_proxies
                .clone()
                .or(file.trusted_proxies)
                .as_deref()
                .unwrap_or(""),
        )
        .map_err(|e| format!("BATON_TRUSTED_PROXIES: {e}"))?;
        let metrics_token = args.metrics_token.clone().or(file.metrics_token);
        check_metrics_token(metrics_token.as_deref())?;
        let db_pool = db_pool(args.db_pool.as_deref(), file.db_pool)?;
        let storage_url = args
            .storage_url
            .clone()
            .or(file.storage_url)
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty());
        if let Some(u) = &storage_url {
            baton_server::file_store::parse_s3_url(u)
                .map_err(|e| format!("BATON_STORAGE_URL: {e}"))?;
        }
        let dns_server = match args.dns_server.clone().or(file.dns_server) {
            None => None,
            Some(text) => Some(parse_dns_server(&text)?),
        };
        let webhook_retry = match args
            .webhook_retry_schedule
            .clone()
            .or(file.webhook_retry_schedule)
        {
            None => baton_core::webhooks::RetrySchedule::default(),
            // The error names the variable already.
            Some(text) => {
                baton_core::webhooks::RetrySchedule::parse(&text).map_err(|e| e.to_string())?
            }
        };
        let webhook_allow_private = parse_flag(
            "BATON_WEBHOOK_ALLOW_PRIVATE",
            args.webhook_allow_private
                .clone()
                .or(file.webhook_allow_private)
                .as_deref(),
        )?;
        let connectors = baton_server::connectors::Endpoints::from_vars(std::env::vars())?;
        let connector_recheck_ms = match std::env::var("BATON_CONNECTOR_RECHECK") {
            Ok(v) => parse_recheck(&v)?,
            Err(_) => 86_400_000,
        };
        Ok(Config {
            connectors,
            connector_recheck_ms,
            database_url,
            data_dir,
            listen,
            public_url,
            secret_key,
            log_format,
            smtp,
            trusted_proxies,
            metrics_token,
            db_pool,
            storage_url,
            dns_server,
            webhook_retry,
            webhook_allow_private,
        })
    }

    /// The configured secret key, or the one kept in the data dir (generated
    /// and saved there, readable by the owner only, on first use).
    pub fn secret_key(&self) -> anyhow::Result<String> {
        if let Some(k) = &self.secret_key {
            return Ok(k.clone());
        }
        let path = self.data_dir.join("secret.key");
        if let Ok(k) = std::fs::read_to_string(&path) {
            let k = k.trim().to_string();
            if k.len() >= 32 {
                return Ok(k);
            }
        }
        std::fs::create_dir_all(&self.data_dir)?;
        let key = baton_core::secret::random_token();
        write_private(&path, &key)?;
        tracing::info!(path = %path.display(), "generated a new secret key (set BATON_SECRET_KEY to manage it yourself)");
        Ok(key)
    }

    pub fn server_config(&self) -> anyhow::Result<baton_server::ServerConfig> {
        let mut c = baton_server::ServerConfig::for_url(&self.public_url, self.data_dir.clone());
        c.secret_key = self.secret_key()?;
        c.smtp = self.smtp.clone();
        c.trusted_proxies = self.trusted_proxies.clone();
        c.metrics_token = self.metrics_token.clone();
        if let Some(url) = &self.storage_url {
            c.files = baton_server::file_store::FileStore::s3_from_env(url)
                .map_err(|e| anyhow::anyhow!("BATON_STORAGE_URL: {e}"))?;
        }
        c.dns_server = self.dns_server;
        c.webhook_retry = self.webhook_retry.clone();
        c.webhook_allow_private = self.webhook_allow_private;
        c.connectors = self.connectors.clone();
        c.connector_recheck_ms = self.connector_recheck_ms;
        if self.webhook_allow_private {
            tracing::warn!("BATON_WEBHOOK_ALLOW_PRIVATE is on: webhooks may go to http and private addresses (local testing only)");
        }
        Ok(c)
    }
}

/// `BATON_CONNECTOR_RECHECK`: a whole number of minutes, hours or days
/// (`30m`, `24h`, `2d`), from 10 minutes to 30 days.
fn parse_recheck(text: &str) -> Result<i64, String> {
    let bad = || {
        format!("BATON_CONNECTOR_RECHECK: {text:?} is not a duration from 10m to 30d (e.g. 24h)")
    };
    let t = text.trim();
    let (digits, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let unit_ms = match unit {
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(bad()),
    };
    let ms = digits
        .parse::<i64>()
        .ok()
        .and_then(|n| n.checked_mul(unit_ms))
        .ok_or_else(bad)?;
    if !(600_000..=30 * 86_400_000).contains(&ms) {
        return Err(bad());
    }
    Ok(ms)
}

/// `BATON_LOG_FORMAT`: `pretty` (the default) or `json`.
fn parse_log_format(value: Option<&str>) -> Result<LogFormat, String> {
    match value {
        None | Some("pretty") => Ok(LogFormat::Pretty),
        Some("json") => Ok(LogFormat::Json),
        Some(other) => Err(format!("BATON_LOG_FORMAT: {other:?} is not pretty or json")),
    }
}

/// `BATON_SMTP_URL` with `BATON_SMTP_FROM`: both or neither, and a relay
/// URL the mailer accepts (nonsense is refused at start-up rather than at
/// the first email).
fn smtp_settings(
    url: Option<String>,
    from: Option<String>,
) -> Result<Option<baton_server::email::SmtpSettings>, String> {
    match (url, from) {
        (None, None) => Ok(None),
        (Some(url), Some(from)) => {
            let s = baton_server::email::SmtpSettings { url, from };
            baton_server::email::Mailer::new(&s)?;
            Ok(Some(s))
        }
        (Some(_), None) => Err("BATON_SMTP_FROM: set the sender along with BATON_SMTP_URL".into()),
        (None, Some(_)) => Err("BATON_SMTP_URL: set it along with BATON_SMTP_FROM".into()),
    }
}

/// `BATON_METRICS_TOKEN`: at least 16 visible ASCII characters.
fn check_metrics_token(token: Option<&str>) -> Result<(), String> {
    match token {
        Some(t) if t.len() < 16 || !t.bytes().all(|b| (0x21..0x7f).contains(&b)) => {
            Err("BATON_METRICS_TOKEN: must be at least 16 visible ASCII characters".into())
        }
        _ => Ok(()),
    }
}

/// `BATON_DB_POOL` (or the file's `db_pool`): a whole number from 2 to 1000.
fn db_pool(arg: Option<&str>, file: Option<u32>) -> Result<Option<u32>, String> {
    const REFUSAL: &str = "BATON_DB_POOL: must be a whole number from 2 to 1000";
    let n = match arg.map(|t| t.trim().parse::<u32>()) {
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => return Err(REFUSAL.into()),
        None => file,
    };
    match n {
        Some(n) if !(2..=1000).contains(&n) => Err(REFUSAL.into()),
        n => Ok(n),
    }
}

/// `ip:port`, or a bare address for port 53.
/// A yes/no setting: `1`/`true`/`yes` or `0`/`false`/`no` (absent: no).
fn parse_flag(name: &str, value: Option<&str>) -> Result<bool, String> {
    match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") | Some("0") | Some("false") | Some("no") => Ok(false),
        Some("1") | Some("true") | Some("yes") => Ok(true),
        Some(other) => Err(format!("{name}: {other:?} is not 1 or 0")),
    }
}

fn parse_dns_server(text: &str) -> Result<SocketAddr, String> {
    let t = text.trim();
    t.parse::<SocketAddr>()
        .or_else(|_| {
            t.parse::<std::net::IpAddr>()
                .map(|ip| SocketAddr::new(ip, 53))
        })
        .map_err(|_| {
            format!("BATON_DNS_SERVER: {text:?} is not a nameserver address like 10.0.0.2:53")
        })
}

fn validate_public_url(url: &str) -> Result<String, String> {
    let u = url.trim().trim_end_matches('/');
    let rest = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"))
        .ok_or_else(|| format!("BATON_PUBLIC_URL: {url:?} must start with http:// or https://"))?;
    if rest.is_empty()
        || rest.starts_with('/')
        || rest.contains(char::is_whitespace)
        || rest.contains(['?', '#'])
    {
        return Err(format!(
            "BATON_PUBLIC_URL: {url:?} is not a base URL like https://ops.agency.com"
        ));
    }
    Ok(u.to_string())
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(contents.as_bytes())?;
    f.write_all(b"\n")
}

pub fn init_logging(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Pretty => builder.init(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yes_no_settings() {
        let cases = [
            (None, Ok(false)),
            (Some(""), Ok(false)),
            (Some("0"), Ok(false)),
            (Some("no"), Ok(false)),
            (Some("1"), Ok(true)),
            (Some(" TRUE "), Ok(true)),
            (Some("yes"), Ok(true)),
            (Some("on"), Err("BATON_X: \"on\" is not 1 or 0".to_string())),
        ];
        for (value, want) in cases {
            assert_eq!(parse_flag("BATON_X", value), want, "{value:?}");
        }
    }

    #[test]
    fn recheck_intervals() {
        let cases = [
            ("24h", Ok(86_400_000)),
            (" 30m ", Ok(1_800_000)),
            ("2d", Ok(172_800_000)),
            ("10m", Ok(600_000)),
            ("9m", Err(())),
            ("31d", Err(())),
            ("24", Err(())),
            ("h", Err(())),
            ("1.5h", Err(())),
            ("99999999999999999d", Err(())),
        ];
        for (text, want) in cases {
            assert_eq!(parse_recheck(text).map_err(|_| ()), want, "{text}");
        }
    }

    #[test]
    fn dns_servers() {
        assert_eq!(
            parse_dns_server("10.0.0.2:5353").unwrap(),
            "10.0.0.2:5353".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(
            parse_dns_server(" 10.0.0.2 ").unwrap(),
            "10.0.0.2:53".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(
            parse_dns_server("[::1]:53").unwrap(),
            "[::1]:53".parse::<SocketAddr>().unwrap()
        );
        for bad in ["", "dns.example.com", "10.0.0.2:99999", "10.0.0.2:"] {
            let e = parse_dns_server(bad).unwrap_err();
            assert!(e.starts_with("BATON_DNS_SERVER: "), "{bad}: {e}");
        }
    }

    #[test]
    fn public_urls() {
        assert_eq!(
            validate_public_url("https://ops.agency.com/").unwrap(),
            "https://ops.agency.com"
        );
        assert_eq!(
            validate_public_url("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert!(validate_public_url("ops.agency.com").is_err());
        assert!(validate_public_url("https://").is_err());
        assert!(validate_public_url("https://a.com/?x").is_err());
    }
}
