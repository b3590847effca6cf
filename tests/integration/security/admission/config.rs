//! A1 from the environment: `SSO_ALLOWED_ORGANIZATIONS`, `SSO_ALLOWED_CONNECTIONS` and
//! `SSO_ALLOWED_PROVIDERS` are read as comma-separated selectors, each validated, `*` admitting
//! any organization; a bad entry is a start-up error naming its variable.

use std::process::Command;

/// Run by [`a1_from_env_reads_the_admitted_set`] in a child process with its own environment.
#[test]
#[ignore = "a helper: runs in a child process started by a1_from_env_reads_the_admitted_set"]
fn a1_from_env_child() {
    if std::env::var_os("A1_FROM_ENV_CHILD").is_none() {
        return;
    }
    match tower_workos_sso::SsoConfig::from_env() {
        Ok(config) => println!(
            "A1RESULT=ok|{:?}|any={}",
            config.allowed_selectors(),
            config.allows_any_organization()
        ),
        Err(error) => println!(
            "A1RESULT={}|{}|{error}",
            error.env_var().unwrap_or("-"),
            error.setting()
        ),
    }
}

#[test]
fn a1_from_env_reads_the_admitted_set() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[], "ok|[]|any=false"),
        (
            &[("SSO_ALLOWED_ORGANIZATIONS", " org_01A, org_01B ,,")],
            "ok|[Selector(organization=org_01A), Selector(organization=org_01B)]|any=false",
        ),
        (&[("SSO_ALLOWED_ORGANIZATIONS", "*")], "ok|[]|any=true"),
        (
            &[("SSO_ALLOWED_ORGANIZATIONS", "*,org_01A")],
            "ok|[Selector(organization=org_01A)]|any=true",
        ),
        (
            &[
                ("SSO_ALLOWED_CONNECTIONS", "conn_01A"),
                ("SSO_ALLOWED_PROVIDERS", "GoogleOAuth,MicrosoftOAuth"),
            ],
            "ok|[Selector(connection=conn_01A), Selector(provider=GoogleOAuth), Selector(provider=MicrosoftOAuth)]|any=false",
        ),
        (
            &[("SSO_ALLOWED_ORGANIZATIONS", "org_01A,conn_01A")],
            "SSO_ALLOWED_ORGANIZATIONS|allowed_organizations",
        ),
        (
            &[("SSO_ALLOWED_ORGANIZATIONS", "org_01A;org_01B")],
            "SSO_ALLOWED_ORGANIZATIONS|allowed_organizations",
        ),
        (
            &[("SSO_ALLOWED_CONNECTIONS", "*")],
            "SSO_ALLOWED_CONNECTIONS|allowed_connections",
        ),
        (
            &[("SSO_ALLOWED_CONNECTIONS", "conn_01A,org_01A")],
            "SSO_ALLOWED_CONNECTIONS|allowed_connections",
        ),
        (
            &[("SSO_ALLOWED_PROVIDERS", "GoogleOAuth,google")],
            "SSO_ALLOWED_PROVIDERS|allowed_providers",
        ),
        (
            &[("SSO_ALLOWED_PROVIDERS", "Google OAuth")],
            "SSO_ALLOWED_PROVIDERS|allowed_providers",
        ),
    ];
    let base = [
        ("WORKOS_API_KEY", "sk_test_a1_env"),
        ("WORKOS_CLIENT_ID", "client_01A1"),
        (
            "WORKOS_REDIRECT_URI",
            "https://app.example.test/auth/callback",
        ),
        (
            "SSO_SESSION_SECRET",
            "a1-session-secret-of-at-least-32-bytes!",
        ),
    ];
    let exe = std::env::current_exe().unwrap();
    for (vars, expected) in cases {
        let mut child = Command::new(&exe);
        child.args([
            "--exact",
            "security::admission::config::a1_from_env_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ]);
        for (name, _) in std::env::vars() {
            if name.starts_with("SSO_") || name.starts_with("WORKOS_") {
                child.env_remove(name);
            }
        }
        child
            .env("A1_FROM_ENV_CHILD", "1")
            .envs(base)
            .envs(vars.iter().copied());
        let output = child.output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let line = stdout
            .lines()
            .find_map(|l| l.split_once("A1RESULT=").map(|(_, result)| result))
            .unwrap_or_else(|| panic!("no result from the child: {stdout}"));
        assert!(line.starts_with(expected), "{vars:?}: {line}");
        assert!(!line.contains("a1-session-secret"), "{line}");
    }
}
