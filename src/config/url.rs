//! Checks for the URLs and names a configuration holds.

use http::Uri;

use super::ConfigError;

/// The parts of a configured URL the crate needs.
pub(crate) struct ParsedUrl {
    pub(crate) scheme: String,
    /// `scheme://host[:port]`, as browsers serialise it in `Origin`.
    pub(crate) origin: String,
    pub(crate) path: String,
    pub(crate) has_query: bool,
}

/// Parses an absolute URL that must be `https`, or `http` on a loopback host.
pub(crate) fn parse_url(setting: &'static str, text: &str) -> Result<ParsedUrl, ConfigError> {
    let uri: Uri = text
        .parse()
        .map_err(|_| ConfigError::new(setting, "is not a valid absolute URL"))?;
    let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
        return Err(ConfigError::new(setting, "must be an absolute URL"));
    };
    if authority.as_str().contains('@') {
        return Err(ConfigError::new(setting, "must not contain credentials"));
    }
    let loopback = matches!(authority.host(), "localhost" | "127.0.0.1" | "[::1]");
    match scheme {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(ConfigError::new(
                setting,
                "must use https (plain http is allowed only for localhost)",
            ));
        }
        _ => return Err(ConfigError::new(setting, "must be an http(s) URL")),
    }
    // The origin as browsers serialise it in `Origin`: lowercase host, no default port.
    let host = authority.host().to_ascii_lowercase();
    let origin = match (scheme, authority.port_u16()) {
        ("https", Some(443)) | ("http", Some(80)) | (_, None) => format!("{scheme}://{host}"),
        (_, Some(port)) => format!("{scheme}://{host}:{port}"),
    };
    Ok(ParsedUrl {
        scheme: scheme.to_owned(),
        origin,
        path: uri.path().to_owned(),
        has_query: uri.query().is_some(),
    })
}

/// Letters, digits, `-` and `_`: safe in a cookie name and a WorkOS id.
pub(crate) fn is_token_text(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Printable ASCII without `\`: safe in a path and a `Location` header.
pub(crate) fn is_path_text(path: &str) -> bool {
    path.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
}

/// A local path a redirect may go to: `/`, not `//`.
pub(crate) fn is_local_path(path: &str) -> bool {
    path.starts_with('/') && !path.starts_with("//") && is_path_text(path)
}
