//! The command line. Every option can also come from the environment
//! (`BATON_…`) or the TOML file given with `--config`; flags win over the
//! environment, which wins over the file.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "baton",
    version,
    about = "Baton: delivery operations for social media agencies, in one binary.",
    after_help = "Configuration (flag, environment variable, or key in the --config TOML file):\n  \
      --database-url  BATON_DATABASE_URL  database_url  sqlite://PATH (default: sqlite://<data dir>/baton.db) or postgres://USER@HOST/DB\n  \
      --data-dir      BATON_DATA_DIR      data_dir      where the SQLite file, uploads and the secret key live (default ./baton-data)\n  \
      --listen        BATON_LISTEN        listen        address to serve on (default 127.0.0.1:8080)\n  \
      --public-url    BATON_PUBLIC_URL    public_url    base of every link Baton hands out (default http://<listen>)\n  \
      --secret-key    BATON_SECRET_KEY    secret_key    signing key; generated into <data dir>/secret.key when absent\n  \
      --log-format    BATON_LOG_FORMAT    log_format    pretty or json (default pretty)\n  \
      --trusted-proxies BATON_TRUSTED_PROXIES trusted_proxies  reverse proxies (CIDRs) whose X-Forwarded-For is believed (default none)\n  \
      --metrics-token BATON_METRICS_TOKEN metrics_token /metrics requires this bearer token when set\n  \
      --db-pool       BATON_DB_POOL       db_pool       database connections per server (PostgreSQL default 16; SQLite readers default 4)\n  \
      --storage-url   BATON_STORAGE_URL   storage_url   s3://BUCKET/PREFIX keeps uploaded files in S3-compatible storage (AWS_* variables); default: <data dir>/uploads\n  \
      --dns-server    BATON_DNS_SERVER    dns_server    nameserver (ip:port) that custom-domain checks ask (default: the system's resolver)\n  \
      --webhook-retry-schedule BATON_WEBHOOK_RETRY_SCHEDULE webhook_retry_schedule  delays before each delivery attempt, e.g. 0s,1s,2s (default: 0s,5s,5m,30m,2h,5h,10h,14h,20h,24h)\n  \
      --webhook-allow-private BATON_WEBHOOK_ALLOW_PRIVATE webhook_allow_private  1: webhooks may use http and private/loopback addresses (local testing only)\n  \
      RUST_LOG sets log levels (default info).\n\n\
      Quick start: baton demo --serve"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// TOML configuration file.
    #[arg(long, global = true, env = "BATON_CONFIG")]
    pub config: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://…
    #[arg(long, global = true, env = "BATON_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Folder for the SQLite database, uploads and the generated secret key.
    #[arg(long, global = true, env = "BATON_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8080.
    #[arg(long, global = true, env = "BATON_LISTEN")]
    pub listen: Option<String>,
    /// Public base URL; links are built from it, never from the Host header.
    #[arg(long, global = true, env = "BATON_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Secret signing key (at least 32 characters).
    #[arg(long, global = true, env = "BATON_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
    /// Log format: pretty or json.
    #[arg(long, global = true, env = "BATON_LOG_FORMAT")]
    pub log_format: Option<String>,
    /// Outbound email: smtp://host:25, smtp://user:pass@host:587?tls=required or smtps://user:pass@host:465.
    #[arg(long, global = true, env = "BATON_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The sender of outbound email, e.g. "Baton <baton@agency.example>".
    #[arg(long, global = true, env = "BATON_SMTP_FROM")]
    pub smtp_from: Option<String>,
    /// Reverse proxies whose X-Forwarded-For / Forwarded is believed: CIDRs
    /// or addresses, comma-separated (default none).
    #[arg(long, global = true, env = "BATON_TRUSTED_PROXIES")]
    pub trusted_proxies: Option<String>,
    /// Database connections per server (PostgreSQL pool, or SQLite readers).
    #[arg(long, global = true, env = "BATON_DB_POOL")]
    pub db_pool: Option<String>,
    /// Where uploaded files are kept: `s3://bucket/prefix` (endpoint, region
    /// and credentials from the usual `AWS_*` variables); default: the data
    /// directory.
    #[arg(long, global = true, env = "BATON_STORAGE_URL")]
    pub storage_url: Option<String>,
    /// Nameserver custom-domain checks ask, ip:port (default: the system's
    /// resolver configuration).
    #[arg(long, global = true, env = "BATON_DNS_SERVER")]
    pub dns_server: Option<String>,
    /// Delays before each webhook delivery attempt (comma-separated
    /// durations; default the Standard Webhooks schedule).
    #[arg(long, global = true, env = "BATON_WEBHOOK_RETRY_SCHEDULE")]
    pub webhook_retry_schedule: Option<String>,
    /// `1`: outbound webhooks may use http and private, loopback or
    /// link-local addresses. For local testing only.
    #[arg(long, global = true, env = "BATON_WEBHOOK_ALLOW_PRIVATE")]
    pub webhook_allow_private: Option<String>,
    /// Bearer token `/metrics` requires (default: open).
    #[arg(
        long,
        global = true,
        env = "BATON_METRICS_TOKEN",
        hide_env_values = true
    )]
    pub metrics_token: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web app and the API.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Create (or refresh) the demo agency and print how to log in.
    Demo {
        /// Start serving right after.
        #[arg(long)]
        serve: bool,
    },
    /// Manage agencies.
    #[command(subcommand)]
    Agency(AgencyCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Audit log tools.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Export or import the agency's SOP library as TOML.
    #[command(subcommand)]
    Sop(SopCommand),
    /// Export or import the agency's cadences (recurring meetings) as TOML.
    #[command(subcommand)]
    Cadence(CadenceCommand),
    /// Write a consistent copy of the SQLite database to PATH (safe while serving).
    Backup {
        /// Destination file; must not exist yet.
        path: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum AgencyCommand {
    /// Create an agency with its first admin; prints the admin's password and an admin API token.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        admin_email: String,
        /// The admin's display name (default: the part of the email before @).
        #[arg(long)]
        admin_name: Option<String>,
        /// IANA time zone (default UTC).
        #[arg(long)]
        timezone: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token acting as a member.
    Create {
        /// The member's email.
        #[arg(long)]
        member: String,
        /// read, write or admin (default: admin for admins, write otherwise).
        #[arg(long)]
        scope: Option<String>,
        /// What the token is for.
        #[arg(long, default_value = "CLI token")]
        name: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Verify every agency's audit hash chain; exits 1 naming the first broken entry.
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum SopCommand {
    /// Write the agency's current SOP library as TOML (to stdout unless --output).
    Export {
        /// The agency's slug (may be left out when there is only one agency).
        #[arg(long)]
        agency: Option<String>,
        /// Write to this file instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Load SOPs from a TOML file as written by `sop export`: checks every SOP
    /// first, then saves each changed one as a new version.
    Import {
        /// The TOML file.
        file: PathBuf,
        /// The agency's slug (may be left out when there is only one agency).
        #[arg(long)]
        agency: Option<String>,
        /// The changelog line of every SOP the import changes (default "Imported from <file name>").
        #[arg(long)]
        reason: Option<String>,
        /// Show what would change and save nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CadenceCommand {
    /// Write the agency's current cadences as TOML (to stdout unless --output).
    Export {
        /// The agency's slug (may be left out when there is only one agency).
        #[arg(long)]
        agency: Option<String>,
        /// Write to this file instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Load cadences from a TOML file as written by `cadence export`: checks
    /// every cadence first, then saves each changed one as a new version.
    Import {
        /// The TOML file.
        file: PathBuf,
        /// The agency's slug (may be left out when there is only one agency).
        #[arg(long)]
        agency: Option<String>,
        /// The changelog line of every cadence the import changes (default "Imported from <file name>").
        #[arg(long)]
        reason: Option<String>,
        /// Show what would change and save nothing.
        #[arg(long)]
        dry_run: bool,
    },
}
