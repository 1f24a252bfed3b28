//! The portal's look: its stylesheet with a content-hash version, and the
//! per-agency colour sheet (brand and accent, with readable text colours).

use std::sync::OnceLock;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use baton_core::colour::{hex, parse_hex, readable_on_white, text_on, Rgb};
use baton_store::agencies::{DEFAULT_ACCENT, DEFAULT_BRAND};
use sha2::{Digest, Sha256};

use crate::web::form::QueryData;

const PORTAL_CSS: &str = include_str!("../../../static/portal.css");
const LONG_CACHE: &str = "public, max-age=31536000, immutable";
// ----------------------------------------------------------------- assets --

fn css_version() -> &'static str {
    static V: OnceLock<String> = OnceLock::new();
    V.get_or_init(|| {
        baton_core::secret::hex(&Sha256::digest(PORTAL_CSS.as_bytes()))[..12].to_string()
    })
}

/// The portal's stylesheet, versioned by content so it can be cached.
pub fn css_href() -> String {
    format!("/o-static/portal.css?v={}", css_version())
}

/// The colour sheet of an agency's brand and accent.
pub(super) fn theme_href(brand: &str, accent: &str) -> String {
    format!(
        "/o-static/theme.css?b={}&a={}",
        brand.trim_start_matches('#'),
        accent.trim_start_matches('#')
    )
}

fn css_response(css: String) -> Response {
    let mut resp = css.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(LONG_CACHE));
    resp
}

/// `GET /o-static/portal.css`
pub(super) async fn portal_css() -> Response {
    css_response(PORTAL_CSS.to_string())
}

/// `GET /o-static/theme.css?b=rrggbb&a=rrggbb`
pub(super) async fn theme_css(q: QueryData) -> Response {
    let brand = parse_hex(q.get("b").unwrap_or(""))
        .unwrap_or_else(|| parse_hex(DEFAULT_BRAND).expect("default"));
    let accent = parse_hex(q.get("a").unwrap_or(""))
        .unwrap_or_else(|| parse_hex(DEFAULT_ACCENT).expect("default"));
    css_response(theme(brand, accent))
}

/// The portal's colour variables: the header band and the progress bar wear
/// the agency's brand colour and the primary buttons its accent, each as
/// chosen, with the text colour that reads on it picked by
/// [`text_on`] (the same rule as the team app's theme, so a light brand
/// keeps its colour with dark text); card edges take the brand as is; text
/// in the brand colour on white is darkened until it reads.
fn theme(brand: Rgb, accent: Rgb) -> String {
    format!(
        ":root{{--band:{};--on-band:{};--btn:{};--on-btn:{};--edge:{};--brand-ink:{}}}\n",
        hex(brand),
        hex(text_on(brand)),
        hex(accent),
        hex(text_on(accent)),
        hex(brand),
        hex(readable_on_white(brand)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn theme_keeps_the_agency_colours_with_readable_text() {
        use baton_core::colour::{contrast, WHITE};
        // Every grey as brand and accent: the text on it reads at 4.5:1.
        for v in 0..=255u8 {
            let c = [v, v, v];
            assert!(contrast(c, text_on(c)) >= 4.5, "grey {v}");
            assert!(contrast(readable_on_white(c), WHITE) >= 4.5, "grey {v}");
        }
        // A dark brand carries white text; a light one is kept with ink.
        assert_eq!(
            theme(parse_hex("#1f4fd1").unwrap(), parse_hex("#0f766e").unwrap()),
            ":root{--band:#1f4fd1;--on-band:#ffffff;--btn:#0f766e;--on-btn:#ffffff;\
             --edge:#1f4fd1;--brand-ink:#1f4fd1}\n"
        );
        let light = theme(parse_hex("#f5e663").unwrap(), parse_hex("#ffd700").unwrap());
        assert!(
            light.starts_with(
                ":root{--band:#f5e663;--on-band:#1b1f24;--btn:#ffd700;--on-btn:#1b1f24;"
            ),
            "{light}"
        );
    }
}
