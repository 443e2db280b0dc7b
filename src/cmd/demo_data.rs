//! `switchboard demo-data`: seed the back office with demo customers, or list them with what a
//! tester needs to script a call (phone, language, verification answers, orders, payments due).

use std::path::Path;

use crate::store::model::{format_cents, PaymentStatus};
use crate::store::{demo, Store};

/// Seed `customers` demo customers into the database at `db`. With `if_empty`, a database that
/// already has customers is left alone (the run command seeds on first start only).
pub fn seed(db: &Path, customers: usize, if_empty: bool) -> anyhow::Result<()> {
    let store = Store::open(db)?;
    let existing = store.customer_count()?;
    if existing > 0 && if_empty {
        eprintln!("{}: {existing} customers already, not seeding", db.display());
        return Ok(());
    }
    // The demo center's staff (agents, a supervisor, an admin), on an empty staff table.
    let auth = crate::auth::Auth::new(store.clone(), std::time::Duration::from_secs(3600))?;
    let staff = crate::routing::staff::seed(&auth)?;
    if staff > 0 {
        eprintln!("{}: added {staff} demo staff logins (see `switchboard demo-data --print`)", db.display());
    }
    let today = chrono::Local::now().date_naive();
    let s = demo::seed(&store, customers, today)?;
    eprintln!(
        "{}: seeded {} customers, {} orders, {} payment instalments, {} refunds (dates relative to {today})",
        db.display(),
        s.customers,
        s.orders,
        s.payments,
        s.refunds
    );
    Ok(())
}

/// List the demo customers (`limit` of them) as text or JSON lines.
pub fn print(db: &Path, json: bool, limit: usize) -> anyhow::Result<()> {
    if !db.exists() {
        anyhow::bail!("{} does not exist: run `switchboard demo-data` first", db.display());
    }
    let store = Store::open(db)?;
    for c in store.customers()?.into_iter().take(limit) {
        let orders = store.orders(c.id)?;
        let due: Vec<_> = store.payments(c.id)?.into_iter().filter(|p| p.status != PaymentStatus::Paid).collect();
        if json {
            println!(
                "{}",
                serde_json::json!({
                    "name": c.name, "phones": c.phones, "language": c.language, "market": c.market,
                    "verification": {"date_of_birth": c.date_of_birth, "postcode": c.postcode, "pin": c.pin},
                    "email": c.email,
                    "orders": orders.iter().map(|o| serde_json::json!({
                        "number": o.number, "status": o.status, "total": format_cents(o.total_cents), "currency": o.currency,
                        "items": o.items.iter().map(|i| i.name.clone()).collect::<Vec<_>>(),
                        "expected_on": o.expected_on, "delivered_on": o.delivered_on})).collect::<Vec<_>>(),
                    "payments_due": due.iter().map(|p| serde_json::json!({
                        "order": p.order_number, "amount": format_cents(p.amount_cents), "currency": p.currency,
                        "due_on": p.due_on, "status": p.status, "instalment": format!("{}/{}", p.instalment, p.of_instalments)})).collect::<Vec<_>>(),
                })
            );
            continue;
        }
        println!(
            "{} ({}, {})  phone {}  born {}  postcode {}  PIN {}",
            c.name,
            c.language,
            c.market,
            c.phones.join(", "),
            c.date_of_birth,
            c.postcode,
            c.pin
        );
        for o in &orders {
            let when = match (&o.delivered_on, &o.expected_on) {
                (Some(d), _) => format!("delivered {d}"),
                (None, Some(e)) => format!("expected {e}"),
                _ => String::new(),
            };
            let items: Vec<&str> = o.items.iter().map(|i| i.name.as_str()).collect();
            println!(
                "    order {} {:<9} {:>9} {}  {}  {when}",
                o.number,
                o.status.as_str(),
                format_cents(o.total_cents),
                o.currency,
                items.join(", ")
            );
        }
        for p in &due {
            println!(
                "    payment {}/{} of order {}: {} {} due {} ({})",
                p.instalment,
                p.of_instalments,
                p.order_number,
                format_cents(p.amount_cents),
                p.currency,
                p.due_on,
                p.status.as_str()
            );
        }
    }
    if !json {
        print_staff(&store)?;
    }
    Ok(())
}

/// The demo staff logins still present, with their demo passwords and profiles.
fn print_staff(store: &Store) -> anyhow::Result<()> {
    let users = store.users()?;
    let demo: Vec<_> = crate::routing::staff::demo_logins()
        .into_iter()
        .filter(|l| users.iter().any(|u| u.username == l.username))
        .collect();
    if demo.is_empty() {
        return Ok(());
    }
    println!("\nStaff logins (demo passwords; POST /api/login, see the README):");
    for l in demo {
        let profile = l.agent.map(|a| {
            let langs: Vec<String> = a.languages.iter().map(|(l, p)| format!("{l} ({p:?})").to_lowercase()).collect();
            let skills: Vec<String> = a.skills.iter().map(|s| format!("{s:?}").to_lowercase()).collect();
            format!("{}: {}; skills {}; regions {}", a.name, langs.join(", "), skills.join(", "), a.regions.join(" "))
        });
        println!("    {:<7} {:<16} {:<10} {}", l.username, l.password, l.role.as_str(), profile.unwrap_or_default());
    }
    Ok(())
}
