//! Post/Redirect/Get for every web form: the answer to a POST is never a page
//! the browser would post again on reload or Back.

use axum::response::Response;

/// Where the page a form's answer shows is seen after the redirect: a path on
/// this site, optionally with a `#fragment` (the field or card to scroll to).
/// Without it, the page the form was on (the `Referer`) is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowAt(pub String);

/// Marks `resp` to be shown at `path` after the redirect.
pub fn show_at(mut resp: Response, path: impl Into<String>) -> Response {
    resp.extensions_mut().insert(ShowAt(path.into()));
    resp
}
