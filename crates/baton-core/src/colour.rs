//! Colour arithmetic for agency branding: parsing `#rrggbb` and the WCAG
//! contrast ratio, so every page that wears an agency's colours (the team
//! app, the client's onboarding link) keeps text readable at 4.5:1.

/// An sRGB colour.
pub type Rgb = [u8; 3];

pub const WHITE: Rgb = [255, 255, 255];
pub const BLACK: Rgb = [0, 0, 0];

/// `#rrggbb` or `rrggbb`; anything else is `None`.
pub fn parse_hex(s: &str) -> Option<Rgb> {
    let s = s.trim().trim_start_matches('#');
    if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let c = |i: usize| u8::from_str_radix(&s[i..i + 2], 16).ok();
    Some([c(0)?, c(2)?, c(4)?])
}

/// `#rrggbb`, lower-case.
pub fn hex(c: Rgb) -> String {
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

/// WCAG relative luminance (0 for black, 1 for white).
pub fn luminance(c: Rgb) -> f64 {
    let lin = |v: u8| {
        let v = v as f64 / 255.0;
        if v <= 0.039_28 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2])
}

/// WCAG contrast ratio of two colours (1 to 21).
pub fn contrast(a: Rgb, b: Rgb) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

/// The dark text colour Baton puts on light backgrounds.
pub const INK: Rgb = [0x1b, 0x1f, 0x24];

/// The text colour for a background of colour `bg`: white, else ink, else
/// (for mid tones where neither reaches 4.5:1) pure black, which always
/// does. Every page that puts text on an agency's colour (the team app's
/// theme, the client's link) picks it here, so a light brand colour is kept
/// with dark text rather than replaced.
pub fn text_on(bg: Rgb) -> Rgb {
    if contrast(bg, WHITE) >= 4.5 {
        WHITE
    } else if contrast(bg, INK) >= 4.5 {
        INK
    } else {
        BLACK
    }
}

/// `c`, darkened until it reads on white at 4.5:1 (links, text in the
/// brand colour).
pub fn readable_on_white(c: Rgb) -> Rgb {
    let mut c = c;
    while contrast(c, WHITE) < 4.6 {
        c = c.map(|v| (v as f64 * 0.9) as u8);
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        for bad in ["", "red", "#12345", "#1234567", "zzzzzz", "1f4fd1;}body{x"] {
            assert_eq!(parse_hex(bad), None, "{bad}");
        }
        assert_eq!(parse_hex("1F4FD1"), Some([0x1f, 0x4f, 0xd1]));
        assert_eq!(hex([0x1f, 0x4f, 0xd1]), "#1f4fd1");
    }

    #[test]
    fn contrast_table() {
        for (a, b, want) in [
            (WHITE, BLACK, 21.0),
            (WHITE, WHITE, 1.0),
            ([0x76, 0x76, 0x76], WHITE, 4.54),
        ] {
            assert!((contrast(a, b) - want).abs() < 0.01, "{a:?} {b:?}");
        }
        for c in [[255, 215, 0], [127, 255, 0], WHITE, [0x1f, 0x4f, 0xd1]] {
            assert!(contrast(readable_on_white(c), WHITE) >= 4.5, "{c:?}");
        }
    }

    #[test]
    fn text_on_any_background_reads() {
        // Mid tones are the worst case: every grey level must still pass.
        for v in 0..=255u8 {
            let c = [v, v, v];
            assert!(contrast(c, text_on(c)) >= 4.5, "grey {v}");
        }
        for c in ["#1f4fd1", "#ffd700", "#f5e663", "#7fff00", "#808080"] {
            let c = parse_hex(c).unwrap();
            assert!(contrast(c, text_on(c)) >= 4.5, "{c:?}");
        }
        assert_eq!(text_on(parse_hex("#1f4fd1").unwrap()), WHITE);
        assert_eq!(
            text_on(parse_hex("#f5e663").unwrap()),
            INK,
            "light: dark text"
        );
    }
}
