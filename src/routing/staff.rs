//! The demo center's staff: five agents with different languages, skills and regions, a
//! supervisor and an admin, with known demo passwords (`switchboard demo-data` seeds them on
//! an empty staff table; change the passwords before real use: `switchboard users passwd`).

use super::model::{Agent, AgentId, Proficiency, Skill};
use crate::auth::{Auth, AuthError, Role};

/// (login, password, role, agent profile)
pub struct DemoLogin {
    pub username: &'static str,
    pub password: &'static str,
    pub role: Role,
    pub agent: Option<Agent>,
}

fn agent(
    id: &str,
    name: &str,
    languages: &[(&str, Proficiency)],
    skills: &[Skill],
    regions: &[&str],
    seniority: u8,
) -> Agent {
    Agent {
        id: AgentId(id.into()),
        name: name.into(),
        languages: languages.iter().map(|(l, p)| (l.to_string(), *p)).collect(),
        skills: skills.to_vec(),
        regions: regions.iter().map(|r| r.to_string()).collect(),
        seniority,
        max_calls: 1,
    }
}

/// The demo logins.
pub fn demo_logins() -> Vec<DemoLogin> {
    use Proficiency::*;
    use Skill::*;
    let a = |u, p, ag| DemoLogin { username: u, password: p, role: Role::Agent, agent: Some(ag) };
    vec![
        a(
            "anna",
            "anna-demo-pass",
            agent(
                "anna",
                "Anna Berg",
                &[("sv", Native), ("en", Fluent)],
                &[Orders, Refunds, Payments, Account, General],
                &["SE", "NO", "DK"],
                2,
            ),
        ),
        a(
            "james",
            "james-demo-pass",
            agent(
                "james",
                "James Okafor",
                &[("en", Native)],
                &[Orders, Refunds, Payments, Account, General],
                &["US", "GB", "NG"],
                1,
            ),
        ),
        a(
            "lena",
            "lena-demo-pass",
            agent(
                "lena",
                "Lena Vogel",
                &[("de", Native), ("en", Fluent)],
                &[Payments, Fraud, Complaints, General],
                &["DE", "AT", "CH"],
                3,
            ),
        ),
        a(
            "sofia",
            "sofia-demo-pass",
            agent(
                "sofia",
                "Sofía Martín",
                &[("es", Native), ("fr", Fluent), ("en", Fluent)],
                &[Orders, Refunds, Complaints, General],
                &["ES", "FR", "MX"],
                2,
            ),
        ),
        a(
            "priya",
            "priya-demo-pass",
            agent(
                "priya",
                "Priya Nair",
                &[("en", Native), ("hi", Native)],
                &[Fraud, Complaints, Payments, General],
                &["IN", "GB"],
                3,
            ),
        ),
        DemoLogin { username: "sam", password: "sam-demo-pass", role: Role::Supervisor, agent: None },
        DemoLogin { username: "admin", password: "admin-demo-pass", role: Role::Admin, agent: None },
    ]
}

/// Seed the demo staff unless there are logins already. Returns how many were added.
pub fn seed(auth: &Auth) -> Result<usize, AuthError> {
    if !auth.store().users()?.is_empty() {
        return Ok(0);
    }
    let logins = demo_logins();
    for l in &logins {
        if let Some(a) = &l.agent {
            auth.store().put_agent(&a.id.0, a)?;
        }
        auth.add_user(l.username, l.password, l.role, l.agent.as_ref().map(|a| a.id.0.as_str()))?;
    }
    Ok(logins.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_staff_seeds_once_and_logs_in() {
        let store = crate::store::Store::open_in_memory().unwrap();
        let auth = Auth::new(store.clone(), std::time::Duration::from_secs(60)).unwrap();
        assert_eq!(seed(&auth).unwrap(), 7);
        assert_eq!(seed(&auth).unwrap(), 0, "only on an empty staff table");
        let agents: Vec<(String, Agent)> = store.agents().unwrap();
        assert_eq!(agents.len(), 5);
        assert!(agents.iter().any(|(id, a)| id == "anna" && a.languages[0].0 == "sv"));
        let (user, _) = auth.login("anna", "anna-demo-pass", "test").unwrap();
        assert_eq!((user.role, user.agent_id.as_deref()), (Role::Agent, Some("anna")));
    }
}
