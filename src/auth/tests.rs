use std::time::Duration;

use super::*;

fn auth() -> Auth {
    Auth::new(Store::open_in_memory().unwrap(), Duration::from_secs(3600)).unwrap()
}

#[test]
fn passwords_are_hashed_and_checked() {
    let h = hash_password("correct horse").unwrap();
    assert!(h.starts_with("$argon2id$"), "{h}");
    assert!(verify_password(&h, "correct horse"));
    assert!(!verify_password(&h, "correct horsE"));
    assert!(!verify_password("not a hash", "x"));
    assert!(matches!(hash_password("short"), Err(AuthError::Invalid(_))));
}

#[test]
fn login_session_logout() {
    let a = auth();
    let u = a.add_user("maria", "maria-demo-1", Role::Agent, None).unwrap();
    assert_eq!(u.role, Role::Agent);
    assert!(
        matches!(a.add_user("Maria", "another-pass", Role::Agent, None), Err(AuthError::Invalid(_))),
        "names are unique, any case"
    );
    assert!(matches!(a.add_user("bad name!", "another-pass", Role::Agent, None), Err(AuthError::Invalid(_))));
    let (who, token) = a.login("maria", "maria-demo-1", "127.0.0.1").unwrap();
    assert_eq!(who.username, "maria");
    assert_eq!(token.len(), 64);
    assert_eq!(a.session(&token).unwrap().id, u.id);
    assert!(a.session(&"0".repeat(64)).is_none(), "a forged token");
    assert!(a.session("short").is_none());
    a.logout(&token);
    assert!(a.session(&token).is_none(), "logged out");
}

#[test]
fn expired_sessions_are_refused() {
    let a = Auth::new(Store::open_in_memory().unwrap(), Duration::from_millis(1)).unwrap();
    a.add_user("sam", "sam-demo-pass", Role::Supervisor, None).unwrap();
    let (_, token) = a.login("sam", "sam-demo-pass", "x").unwrap();
    std::thread::sleep(Duration::from_millis(10));
    assert!(a.session(&token).is_none());
}

#[test]
fn wrong_passwords_block_the_address_not_the_user() {
    let a = auth();
    a.add_user("maria", "maria-demo-1", Role::Agent, None).unwrap();
    for _ in 0..5 {
        assert_eq!(a.login("maria", "guess", "10.0.0.1").unwrap_err(), AuthError::BadCredentials);
    }
    assert!(
        matches!(a.login("maria", "maria-demo-1", "10.0.0.1"), Err(AuthError::RateLimited(_))),
        "the guessing address is blocked, even with the right password"
    );
    assert!(matches!(a.login("nobody", "x", "10.0.0.1"), Err(AuthError::RateLimited(_))), "for any user");
    assert_eq!(a.stats().password_checks, 5, "a blocked attempt checks no password");
    let (who, _) = a.login("Maria", "maria-demo-1", "10.0.0.2").expect("Maria from her own address");
    assert_eq!(who.username, "maria");
    assert_eq!(
        a.login("nobody", "x", "10.0.0.3").unwrap_err(),
        AuthError::BadCredentials,
        "unknown users look the same"
    );
}

#[test]
fn parallel_guesses_get_no_more_checks_than_the_limit() {
    let a = std::sync::Arc::new(auth());
    a.add_user("maria", "maria-demo-1", Role::Agent, None).unwrap();
    let outcomes: Vec<AuthError> = (0..40)
        .map(|i| {
            let a = a.clone();
            std::thread::spawn(move || a.login("maria", &format!("guess-{i}"), "10.0.0.1").unwrap_err())
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    let failed = outcomes.iter().filter(|e| **e == AuthError::BadCredentials).count();
    let limited = outcomes.iter().filter(|e| matches!(e, AuthError::RateLimited(_))).count();
    assert_eq!((failed, limited), (5, 35), "{outcomes:?}");
    assert_eq!(a.stats().password_checks, 5);
    assert!(a.login("maria", "maria-demo-1", "10.0.0.9").is_ok());
}
