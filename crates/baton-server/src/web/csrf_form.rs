//! `CsrfForm<T>`: a signed-in member's url-encoded form, its CSRF token
//! checked before the handler runs and its fields read into `T` by serde.
//!
//! Browsers send forms as flat key/value pairs, so the reading follows what a
//! form means rather than `serde_urlencoded`'s stricter rules:
//! - a repeated key (a group of checkboxes) fills a `Vec<String>` with every
//!   value; any other field takes the first value, so a doubled hidden input
//!   does not fail the form;
//! - an `Option` is `None` when the field is missing or blank;
//! - a `bool` is whether the box was sent (unless its value is `false`, `0`
//!   or `off`);
//! - a missing field takes the struct's default (`#[serde(default)]` on every
//!   form struct), so a form never fails field by field: the handler says
//!   which field is wrong, in words, at the field.

use std::collections::BTreeMap;

use axum::extract::{FromRequest, FromRequestParts, Request};
use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;

use super::form::{csrf_refused, FormData};
use super::WebError;
use crate::auth::session::WebSession;
use crate::state::AppState;

/// A form posted by a signed-in member whose `csrf` field is their session's
/// token, read into `T`. Without a session the request goes to the login page
/// (as [`WebSession`] does); with a wrong token it is refused (403) before
/// the handler runs.
#[derive(Debug, Clone)]
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = axum::response::Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        use axum::response::IntoResponse;
        let (mut parts, body) = req.into_parts();
        let session = WebSession::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let req = Request::from_parts(parts, body);
        let form = FormData::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        if !session.csrf_ok(form.get("csrf")) {
            return Err(csrf_refused().into_response());
        }
        read(form.pairs())
            .map(CsrfForm)
            .map_err(IntoResponse::into_response)
    }
}

/// A form whose only field is its CSRF token (a button: "Complete",
/// "Resume").
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct NoFields {}

/// Reads form pairs into `T` (the rules in the module's doc).
pub fn read<T: DeserializeOwned>(pairs: &[(String, String)]) -> Result<T, WebError> {
    let mut fields: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (k, v) in pairs {
        fields.entry(k.as_str()).or_default().push(v.as_str());
    }
    let map = MapDeserializer::<_, FieldError>::new(
        fields.into_iter().map(|(k, values)| (k, Values(values))),
    );
    T::deserialize(map)
        .map_err(|e| WebError::BadRequest(format!("The form could not be read: {e}.")))
}

/// Why a form's fields did not fit the struct (a number that is not one, a
/// value outside a choice): a 400, since Baton's own pages never send it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FieldError(String);

impl de::Error for FieldError {
    fn custom<M: std::fmt::Display>(msg: M) -> Self {
        FieldError(msg.to_string())
    }
}

/// Every value sent under one key, in order.
struct Values<'a>(Vec<&'a str>);

impl Values<'_> {
    fn first(&self) -> &str {
        self.0.first().copied().unwrap_or("")
    }
}

impl<'de> IntoDeserializer<'de, FieldError> for Values<'de> {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

macro_rules! parse_number {
    ($($method:ident => $visit:ident),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
            let v = self.first().trim();
            match v.parse() {
                Ok(n) => visitor.$visit(n),
                Err(_) => Err(FieldError(format!("'{v}' is not a number"))),
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Values<'de> {
    type Error = FieldError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_borrowed_str(self.0.first().copied().unwrap_or(""))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_seq(SeqDeserializer::new(self.0.into_iter()))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        if self.first().trim().is_empty() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        let off = matches!(self.first().trim(), "false" | "0" | "off");
        visitor.visit_bool(!off)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        visitor.visit_enum(self.first().to_string().into_deserializer())
    }

    parse_number! {
        deserialize_i8 => visit_i8, deserialize_i16 => visit_i16,
        deserialize_i32 => visit_i32, deserialize_i64 => visit_i64,
        deserialize_u8 => visit_u8, deserialize_u16 => visit_u16,
        deserialize_u32 => visit_u32, deserialize_u64 => visit_u64,
        deserialize_f32 => visit_f32, deserialize_f64 => visit_f64,
    }

    forward_to_deserialize_any! {
        i128 u128 char str string bytes byte_buf unit unit_struct tuple
        tuple_struct map struct identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default)]
    struct Example {
        name: String,
        note: Option<String>,
        roles: Vec<String>,
        notify: bool,
        minutes: Option<u32>,
        kind: Kind,
    }

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        #[default]
        Minor,
        Major,
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn reads_forms_as_browsers_send_them() {
        type Case<'a> = (&'a [(&'a str, &'a str)], Example);
        let cases: Vec<Case> = vec![
            (&[], Example::default()),
            (
                &[("name", "Ana"), ("name", "ignored"), ("csrf", "x")],
                Example {
                    name: "Ana".into(),
                    ..Default::default()
                },
            ),
            (
                &[("roles", "analyst"), ("note", ""), ("roles", "ops")],
                Example {
                    roles: vec!["analyst".into(), "ops".into()],
                    note: None,
                    ..Default::default()
                },
            ),
            (
                &[("note", " hi ")],
                Example {
                    note: Some(" hi ".into()),
                    ..Default::default()
                },
            ),
            (&[("minutes", "")], Example::default()),
            (
                &[("notify", "on")],
                Example {
                    notify: true,
                    ..Default::default()
                },
            ),
            (
                &[("notify", "")],
                Example {
                    notify: true,
                    ..Default::default()
                },
            ),
            (&[("notify", "false")], Example::default()),
            (
                &[("minutes", " 45 ")],
                Example {
                    minutes: Some(45),
                    ..Default::default()
                },
            ),
            (
                &[("kind", "major")],
                Example {
                    kind: Kind::Major,
                    ..Default::default()
                },
            ),
        ];
        for (input, want) in cases {
            let got: Example = read(&pairs(input)).expect("reads");
            assert_eq!(got, want, "{input:?}");
        }
    }

    #[test]
    fn refuses_values_that_cannot_fit() {
        for input in [&[("minutes", "soon")][..], &[("kind", "huge")][..]] {
            let err = read::<Example>(&pairs(input)).expect_err("refused");
            assert!(matches!(err, WebError::BadRequest(_)), "{input:?}: {err:?}");
        }
    }
}
