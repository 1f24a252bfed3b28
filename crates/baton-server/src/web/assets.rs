//! Static files compiled into the binary (`static/`), and the per-agency
//! colour sheet. URLs carry a content hash (`?v=`) so they can be cached for a
//! year; the colour sheet's URL names its colours, so it never goes stale.

use std::sync::OnceLock;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use baton_core::colour::{hex, parse_hex, readable_on_white, text_on, Rgb};
use baton_store::agencies::{DEFAULT_ACCENT, DEFAULT_BRAND};

use super::form::QueryData;

const APP_CSS: &str = include_str!("../../static/app.css");
const APP_JS: &str = include_str!("../../static/app.js");
const FAVICON: &[u8] = include_bytes!("../../static/favicon.svg");

const LONG_CACHE: &str = "public, max-age=31536000, immutable";

fn version() -> &'static str {
    static V: OnceLock<String> = OnceLock::new();
    V.get_or_init(|| {
        let all = [APP_CSS.as_bytes(), APP_JS.as_bytes(), FAVICON].concat();
        baton_core::secret::hex(&<sha2::Sha256 as sha2::Digest>::digest(&all))[..12].to_string()
    })
}

pub fn css_href() -> String {
    format!("/static/app.css?v={}", version())
}

pub fn js_href() -> String {
    format!("/static/app.js?v={}", version())
}

/// The colour sheet for an agency's brand and accent (`#rrggbb`).
pub fn theme_href(brand: &str, accent: &str) -> String {
    format!(
        "/static/theme.css?b={}&a={}",
        brand.trim_start_matches('#'),
        accent.trim_start_matches('#')
    )
}

fn asset(content_type: &'static str, body: &'static [u8]) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(LONG_CACHE));
    resp
}

/// `GET /static/app.css`
pub async fn app_css() -> Response {
    asset("text/css; charset=utf-8", APP_CSS.as_bytes())
}

/// `GET /static/app.js`
pub async fn app_js() -> Response {
    asset("text/javascript; charset=utf-8", APP_JS.as_bytes())
}

/// `GET /static/favicon.svg`
pub async fn favicon() -> Response {
    asset("image/svg+xml", FAVICON)
}

/// `GET /static/theme.css?b=rrggbb&a=rrggbb`: CSS variables for the agency's
/// colours, each with a text colour that keeps a contrast of at least 4.5:1.
/// Anything that is not a hex colour falls back to Baton's defaults.
pub async fn theme_css(q: QueryData) -> Response {
    let brand = parse_hex(q.get("b").unwrap_or("")).unwrap_or_else(|| default(DEFAULT_BRAND));
    let accent = parse_hex(q.get("a").unwrap_or("")).unwrap_or_else(|| default(DEFAULT_ACCENT));
    let css = theme(brand, accent);
    let mut resp = css.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(LONG_CACHE));
    resp
}

fn default(hex: &str) -> Rgb {
    parse_hex(hex).expect("default colours are valid")
}

/// A pale tint of `c` for selected and highlighted backgrounds.
fn tint(c: Rgb) -> Rgb {
    c.map(|v| (v as f64 * 0.1 + 255.0 * 0.9).round() as u8)
}

fn theme(brand: Rgb, accent: Rgb) -> String {
    format!(
        ":root{{--brand:{};--on-brand:{};--accent:{};--on-accent:{};--link:{};--accent-ink:{};--accent-tint:{}}}\n",
        hex(brand),
        hex(text_on(brand)),
        hex(accent),
        hex(text_on(accent)),
        hex(readable_on_white(brand)),
        hex(readable_on_white(accent)),
        hex(tint(accent)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_core::colour::{contrast, WHITE};

    #[test]
    fn theme_keeps_contrast_for_any_colour() {
        for brand in [
            "#1f4fd1", "#ffffff", "#000000", "#ffd700", "#7fff00", "#808080",
        ] {
            let c = parse_hex(brand).unwrap();
            assert!(contrast(c, text_on(c)) >= 4.5, "{brand}");
            assert!(contrast(readable_on_white(c), WHITE) >= 4.5, "{brand}");
        }
        // Mid tones are the worst case: every grey level must still pass.
        for v in 0..=255u8 {
            let c = [v, v, v];
            assert!(contrast(c, text_on(c)) >= 4.5, "grey {v}");
        }
    }

    #[test]
    fn default_theme() {
        let css = theme(default(DEFAULT_BRAND), default(DEFAULT_ACCENT));
        assert!(css.contains("--brand:#1f4fd1;--on-brand:#ffffff"), "{css}");
        assert!(
            css.contains("--accent:#0f766e;--on-accent:#ffffff"),
            "{css}"
        );
    }

    #[test]
    fn bad_colours_are_refused() {
        for bad in ["", "red", "#12345", "#1234567", "zzzzzz", "1f4fd1;}body{x"] {
            assert_eq!(parse_hex(bad), None, "{bad}");
        }
        assert_eq!(parse_hex("1F4FD1"), Some([0x1f, 0x4f, 0xd1]));
        assert_eq!(
            theme_href("#1f4fd1", "#0f766e"),
            "/static/theme.css?b=1f4fd1&a=0f766e"
        );
    }
}
