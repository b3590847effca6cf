//! The HTML the fake shows in a browser: the test sign-in page and its error page.
//!
//! Every value that comes from the seed or a request goes through `escape_html`.

use crate::response::escape_html;

use super::seed::{Seed, UserRef, full_name};

/// The page listing the selected connections' users; each entry links to the approve step.
pub(super) fn sign_in(
    seed: &Seed,
    approve_path: &str,
    authorization: &str,
    connections: &[usize],
) -> String {
    let items: String = seed
        .users(connections)
        .map(|user| user_item(seed, approve_path, authorization, user))
        .collect();
    let list = if items.is_empty() {
        "<p class=\"empty\">No users are seeded for this connection.</p>".to_owned()
    } else {
        format!("<ul>{items}</ul>")
    };
    layout(
        "Sign in",
        &format!(
            "<h1>Choose who to sign in as</h1>\
             <p class=\"lead\">No password needed: this page stands in for your identity provider.</p>\
             {list}"
        ),
    )
}

/// One user as a link: avatar initial, name, email, and where they sign in from.
fn user_item(seed: &Seed, approve_path: &str, authorization: &str, user: UserRef) -> String {
    let (connection, user) = seed.get(user);
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("authorization", authorization)
        .append_pair("profile", &user.profile_id)
        .finish();
    let href = escape_html(&format!("{approve_path}?{query}"));
    let name = full_name(user).unwrap_or_else(|| user.email.clone());
    let initial: String = name
        .chars()
        .next()
        .into_iter()
        .flat_map(char::to_uppercase)
        .collect();
    let organization = connection
        .organization_name
        .as_deref()
        .unwrap_or("No organization");
    format!(
        "<li><a href=\"{href}\"><span class=\"avatar\">{initial}</span>\
         <span class=\"who\"><strong>{name}</strong><span>{email}</span></span>\
         <span class=\"where\">{organization}<br>{connection_type}</span></a></li>",
        initial = escape_html(&initial),
        name = escape_html(&name),
        email = escape_html(&user.email),
        organization = escape_html(organization),
        connection_type = escape_html(&connection.connection_type),
    )
}

/// A 400 page for authorize requests that cannot be redirected back.
pub(super) fn error(title: &str, message: &str) -> String {
    let title = escape_html(title);
    let message = escape_html(message);
    layout(
        &title,
        &format!("<h1>{title}</h1><p class=\"lead\">{message}</p>"),
    )
}

/// The page frame; `title` and `body` must already be escaped.
fn layout(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · WorkOS test sign-in</title><style>{STYLE}</style></head>\
         <body><main><p class=\"badge\">WorkOS test sign-in — fake, for development</p>{body}</main></body></html>"
    )
}

const STYLE: &str = "\
:root{color-scheme:light dark;font-family:system-ui,-apple-system,'Segoe UI',sans-serif}\
body{margin:0;min-height:100vh;display:grid;place-items:center;background:#f3f4f8;color:#1c1d21}\
main{width:min(30rem,92vw);background:#fff;border-radius:14px;padding:2rem;\
box-shadow:0 10px 30px rgba(20,20,60,.12)}\
.badge{display:inline-block;margin:0 0 1rem;padding:.25rem .6rem;border-radius:99px;\
background:#fff4d6;color:#7a5200;font-size:.8rem;font-weight:600}\
h1{font-size:1.35rem;margin:0 0 .4rem}.lead,.empty{color:#5b5e6b;margin:0 0 1.2rem}\
ul{list-style:none;margin:0;padding:0;display:grid;gap:.6rem}\
a{display:flex;align-items:center;gap:.8rem;padding:.75rem .9rem;border:1px solid #e2e4ec;\
border-radius:10px;color:inherit;text-decoration:none}\
a:hover,a:focus{border-color:#6363f1;background:#f7f7ff;outline:none}\
.avatar{flex:none;width:2.3rem;height:2.3rem;border-radius:50%;display:grid;place-items:center;\
background:#6363f1;color:#fff;font-weight:700}\
.who{display:grid;flex:1;min-width:0}.who span{color:#5b5e6b;font-size:.9rem;overflow-wrap:anywhere}\
.where{font-size:.75rem;color:#5b5e6b;text-align:right}\
@media (prefers-color-scheme:dark){body{background:#15161b;color:#e9e9ee}main{background:#1f2028}\
a{border-color:#33343f}a:hover,a:focus{background:#272838}.lead,.empty,.who span,.where{color:#a3a5b3}}";
