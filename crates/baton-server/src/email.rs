//! Outbound email over SMTP, when the operator configures it
//! (`BATON_SMTP_URL`, `BATON_SMTP_FROM`). Messages are never sent from inside
//! a transaction: a write enqueues an `email` outbox job with the message,
//! and the outbox worker sends it here after commit, retrying with backoff.

use lettre::message::Mailbox;
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

/// The SMTP settings of a deployment.
#[derive(Clone)]
pub struct SmtpSettings {
    /// `smtp://host:25` (plain, for a local relay), `smtp://user:pass@host:587?tls=required`
    /// (STARTTLS) or `smtps://user:pass@host:465` (TLS).
    pub url: String,
    /// The sender, e.g. `Northwind Social <onboarding@northwind.example>`.
    pub from: String,
}

impl std::fmt::Debug for SmtpSettings {
    /// Never prints the password in the URL.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("url", &redact(&self.url))
            .field("from", &self.from)
            .finish()
    }
}

/// `scheme://user:***@host…`: an SMTP URL safe to log.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

/// A message waiting in the outbox (`kind = "email"`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OutgoingEmail {
    pub to: String,
    pub subject: String,
    pub text: String,
    /// Shown as the sender's name, e.g. the agency ("Northwind Social").
    #[serde(default)]
    pub from_name: Option<String>,
    /// An onboarding link (`lnk_…`) whose URL goes where `text` holds
    /// [`baton_core::onboarding::LINK_SLOT`], made at sending so the queued
    /// message never holds it; when it cannot be made, `fallback_text` is
    /// sent instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onboarding_link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_text: Option<String>,
}

/// A ready SMTP transport and sender.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// Checks the settings and builds the transport (no connection yet).
    pub fn new(s: &SmtpSettings) -> Result<Mailer, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&s.url)
            .map_err(|e| format!("BATON_SMTP_URL {}: {e}", redact(&s.url)))?
            .timeout(Some(std::time::Duration::from_secs(20)))
            .build();
        let from: Mailbox = s
            .from
            .parse()
            .map_err(|e| format!("BATON_SMTP_FROM {:?}: {e}", s.from))?;
        Ok(Mailer { transport, from })
    }

    /// Sends one message; the error says why, without secrets. `id` (the
    /// outbox job's) makes its `Message-ID`, the same on every attempt, so
    /// a retry after the relay already took it is recognisable downstream
    /// as the same message.
    pub async fn send(&self, id: &str, m: &OutgoingEmail) -> Result<(), String> {
        let to: Mailbox =
            m.to.parse()
                .map_err(|e| format!("recipient {:?}: {e}", m.to))?;
        let from = match &m.from_name {
            Some(name) if !name.trim().is_empty() => {
                Mailbox::new(Some(name.trim().to_string()), self.from.email.clone())
            }
            _ => self.from.clone(),
        };
        let domain = self.from.email.domain().to_string();
        let message = Message::builder()
            .message_id(Some(format!("<{id}.baton@{domain}>")))
            .from(from)
            .to(to)
            .subject(m.subject.clone())
            .body(m.text.clone())
            .map_err(|e| format!("building the message: {e}"))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("SMTP: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redacted_and_checked() {
        assert_eq!(
            redact("smtps://apikey:s3cret@smtp.example.com:465"),
            "smtps://apikey:***@smtp.example.com:465"
        );
        assert_eq!(redact("smtp://localhost:25"), "smtp://localhost:25");
        let ok = SmtpSettings {
            url: "smtp://127.0.0.1:2525".into(),
            from: "Baton <baton@agency.example>".into(),
        };
        assert!(Mailer::new(&ok).is_ok());
        assert!(!format!(
            "{:?}",
            SmtpSettings {
                url: "smtps://u:pw@h".into(),
                from: "a@b.co".into()
            }
        )
        .contains("pw"));
        let bad_from = SmtpSettings {
            from: "not an address".into(),
            ..ok.clone()
        };
        assert!(Mailer::new(&bad_from).is_err());
        let bad_url = SmtpSettings {
            url: "ftp://x".into(),
            ..ok
        };
        assert!(Mailer::new(&bad_url).is_err());
    }
}
