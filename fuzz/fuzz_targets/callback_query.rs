//! Arbitrary query strings through `CallbackQuery::parse`, `LoginRequest::parse` and the
//! callback's first step (no cookies): both parsers match an independent statement of their
//! rules, a parsed login query survives re-encoding, its `return_to` is safe, and the callback
//! never exchanges a code without a flow nor answers with anything built from the request.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tower_workos_sso::fuzz_bridge::{
    API_BASE_URL, CallbackAnswer, LoginParts, begin_callback, callback_query, login_query,
};
use tower_workos_sso_fuzz::{assert_safe_return_to, is_fixed_page};

const MAX_QUERY: usize = 8 * 1024;

fuzz_target!(|query: &str| {
    assert_eq!(
        callback_query(query),
        expected_callback(query),
        "callback query"
    );
    match (&login_query(query), expected_login(query)) {
        (Ok(parts), Ok(expected)) => {
            assert_eq!(*parts, expected, "login query");
            assert_safe_return_to(parts.return_to.as_deref(), &parts.safe_return_to);
            // Re-encoding may grow a query past the length limit (`=` becomes `%3D`); what
            // fits must parse back the same.
            let reencoded = reencode(parts, parts.return_to.as_deref());
            if reencoded.len() <= MAX_QUERY {
                assert_eq!(
                    login_query(&reencoded).as_ref(),
                    Ok(parts),
                    "login query changed through re-encoding: {reencoded:?}"
                );
            } else {
                assert!(login_query(&reencoded).is_err());
            }
            // A link carrying the sanitised return_to (as the retry link does) always fits
            // and keeps everything.
            let sanitised = reencode(parts, Some(&parts.safe_return_to));
            let again = login_query(&sanitised).expect("a sanitised login link is refused");
            assert_eq!(again.selector, parts.selector);
            assert_eq!(again.login_hint, parts.login_hint);
            assert_eq!(again.domain_hint, parts.domain_hint);
            assert_eq!(again.safe_return_to, parts.safe_return_to);
        }
        (Err(_), Err(())) => {}
        (got, _) => panic!("login query: crate says {got:?}"),
    }
    let CallbackAnswer::Respond {
        status,
        location,
        body,
    } = begin_callback(query)
    else {
        panic!("a code would be exchanged without a flow");
    };
    match &location {
        Some(location) => {
            assert_eq!(status, 302);
            assert!(location.starts_with(&format!("{API_BASE_URL}/sso/authorize?")));
        }
        None => {
            assert!(
                is_fixed_page(&body),
                "the callback page is built from the request"
            );
            assert!(matches!(status, 400 | 403 | 502), "status {status}");
        }
    }
});

fn expected_callback(query: &str) -> Option<[Option<String>; 4]> {
    if query.len() > MAX_QUERY {
        return None;
    }
    let mut slots: [Option<String>; 4] = Default::default();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        let Some(index) = ["code", "state", "error", "connection_id"]
            .iter()
            .position(|known| *known == name)
        else {
            continue;
        };
        let valid = value.len() <= 2048 && value.bytes().all(|b| (0x21..0x7f).contains(&b));
        if slots[index].is_some() || !valid {
            return None;
        }
        slots[index] = Some(value.into_owned());
    }
    Some(slots)
}

fn expected_login(query: &str) -> Result<LoginParts, ()> {
    if query.len() > MAX_QUERY {
        return Err(());
    }
    let id = |value: &str, prefix: &str| {
        value.strip_prefix(prefix).is_some_and(|rest| {
            !rest.is_empty() && rest.len() <= 64 && rest.chars().all(|c| c.is_ascii_alphanumeric())
        })
    };
    let mut parts = LoginParts {
        selector: None,
        login_hint: None,
        domain_hint: None,
        return_to: None,
        safe_return_to: String::new(),
    };
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        let valid_selector = match &*name {
            "organization" => Some(id(&value, "org_")),
            "connection" => Some(id(&value, "conn_")),
            "provider" => Some(
                !value.is_empty()
                    && value.len() <= 64
                    && value.starts_with(|c: char| c.is_ascii_uppercase())
                    && value.chars().all(|c| c.is_ascii_alphanumeric()),
            ),
            _ => None,
        };
        if let Some(valid) = valid_selector {
            if parts.selector.is_some() || !valid {
                return Err(());
            }
            parts.selector = Some((name.into_owned(), value.into_owned()));
            continue;
        }
        let (slot, max) = match &*name {
            "login_hint" => (&mut parts.login_hint, 320),
            "domain_hint" => (&mut parts.domain_hint, 253),
            // Any value: `safe_return_to` replaces what is not a local path.
            "return_to" => {
                parts.return_to = Some(value.into_owned());
                continue;
            }
            _ => continue,
        };
        if value.len() > max || value.chars().any(char::is_control) {
            return Err(());
        }
        *slot = Some(value.into_owned());
    }
    // The sanitised form is the crate's; assert_safe_return_to checks it separately.
    parts.safe_return_to = match login_query(query) {
        Ok(got) => got.safe_return_to,
        Err(_) => return Err(()),
    };
    Ok(parts)
}

fn reencode(parts: &LoginParts, return_to: Option<&str>) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some((name, value)) = &parts.selector {
        query.append_pair(name, value);
    }
    for (name, value) in [
        ("login_hint", parts.login_hint.as_deref()),
        ("domain_hint", parts.domain_hint.as_deref()),
        ("return_to", return_to),
    ] {
        if let Some(value) = value {
            query.append_pair(name, value);
        }
    }
    query.finish()
}
