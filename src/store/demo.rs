//! Deterministic demo data: customers in six markets (US, GB, SE, DE, FR, ES; languages en,
//! sv, de, fr, es) with orders in every state, payment plans with instalments paid, due and
//! overdue, and a refund history. The first six customers are fixed personas that the test
//! scenarios and the README script calls against; the rest come from a seeded generator, so
//! the same `--customers N` always gives the same people, orders and numbers. Dates are laid
//! out relative to `today`, so a demo seeded on any day has deliveries due this week.

use chrono::{Duration, NaiveDate};
use rusqlite::params;

use super::{Store, StoreError};

/// A market: country, language, currency, phone prefix, and what is bought there.
struct Market {
    code: &'static str,
    language: &'static str,
    currency: &'static str,
    /// Price multiplier from the catalogue's base (USD-like) prices.
    price_factor: i64,
    phone_prefix: &'static str,
    first_names: &'static [&'static str],
    last_names: &'static [&'static str],
    streets: &'static [&'static str],
    cities: &'static [(&'static str, &'static str)],
    carriers: &'static [&'static str],
}

const MARKETS: &[Market] = &[
    Market {
        code: "US",
        language: "en",
        currency: "USD",
        price_factor: 1,
        phone_prefix: "+1555",
        first_names: &["James", "Mary", "Robert", "Linda", "Michael", "Sarah", "David", "Karen"],
        last_names: &["Smith", "Johnson", "Brown", "Davis", "Miller", "Moore", "Taylor", "Clark"],
        streets: &["Maple Avenue", "Oak Street", "Pine Road", "Cedar Lane"],
        cities: &[("94107", "San Francisco"), ("10001", "New York"), ("60601", "Chicago"), ("78701", "Austin")],
        carriers: &["UPS", "FedEx", "USPS"],
    },
    Market {
        code: "GB",
        language: "en",
        currency: "GBP",
        price_factor: 1,
        phone_prefix: "+447700",
        first_names: &["Oliver", "Amelia", "Harry", "Isla", "George", "Ava", "Jack", "Emily"],
        last_names: &["Jones", "Williams", "Evans", "Thomas", "Roberts", "Walker", "Wright", "Hughes"],
        streets: &["Baker Street", "High Street", "Station Road", "Church Lane"],
        cities: &[("NW1 6XE", "London"), ("M1 1AE", "Manchester"), ("LS1 4DY", "Leeds"), ("BS1 5TR", "Bristol")],
        carriers: &["Royal Mail", "DPD", "Evri"],
    },
    Market {
        code: "SE",
        language: "sv",
        currency: "SEK",
        price_factor: 10,
        phone_prefix: "+46701",
        first_names: &["Erik", "Anna", "Lars", "Maria", "Johan", "Karin", "Anders", "Sara"],
        last_names: &["Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson"],
        streets: &["Storgatan", "Drottninggatan", "Kungsgatan", "Vasagatan"],
        cities: &[("111 22", "Stockholm"), ("411 01", "Göteborg"), ("211 20", "Malmö"), ("753 10", "Uppsala")],
        carriers: &["PostNord", "DHL", "Budbee"],
    },
    Market {
        code: "DE",
        language: "de",
        currency: "EUR",
        price_factor: 1,
        phone_prefix: "+49151",
        first_names: &["Lukas", "Anna", "Felix", "Lena", "Jonas", "Marie", "Paul", "Sophie"],
        last_names: &["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker"],
        streets: &["Hauptstraße", "Bahnhofstraße", "Gartenweg", "Lindenallee"],
        cities: &[("10115", "Berlin"), ("80331", "München"), ("20095", "Hamburg"), ("50667", "Köln")],
        carriers: &["DHL", "Hermes", "DPD"],
    },
    Market {
        code: "FR",
        language: "fr",
        currency: "EUR",
        price_factor: 1,
        phone_prefix: "+33612",
        first_names: &["Camille", "Louis", "Léa", "Gabriel", "Chloé", "Jules", "Manon", "Hugo"],
        last_names: &["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand"],
        streets: &["rue de la Paix", "avenue Victor Hugo", "rue Nationale", "boulevard Voltaire"],
        cities: &[("75002", "Paris"), ("69001", "Lyon"), ("13001", "Marseille"), ("31000", "Toulouse")],
        carriers: &["Colissimo", "Chronopost", "Mondial Relay"],
    },
    Market {
        code: "ES",
        language: "es",
        currency: "EUR",
        price_factor: 1,
        phone_prefix: "+34612",
        first_names: &["Lucía", "Hugo", "Martina", "Mateo", "Sofía", "Leo", "Paula", "Daniel"],
        last_names: &["García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez", "Pérez"],
        streets: &["Calle Mayor", "Gran Vía", "Calle de Alcalá", "Paseo del Prado"],
        cities: &[("28013", "Madrid"), ("08001", "Barcelona"), ("46001", "Valencia"), ("41001", "Sevilla")],
        carriers: &["Correos", "SEUR", "MRW"],
    },
];

/// (merchant, item, base price in cents)
const CATALOGUE: &[(&str, &str, i64)] = &[
    ("Northwind Sports", "running shoes", 12_900),
    ("Northwind Sports", "rain jacket", 8_950),
    ("Northwind Sports", "yoga mat", 2_900),
    ("Lumen Home", "table lamp", 4_500),
    ("Lumen Home", "bed linen set", 6_900),
    ("Lumen Home", "coffee machine", 24_900),
    ("Pixel Electronics", "wireless headphones", 19_900),
    ("Pixel Electronics", "phone case", 1_900),
    ("Pixel Electronics", "smart watch", 29_900),
    ("Atelier Mode", "wool sweater", 7_900),
    ("Atelier Mode", "leather boots", 15_900),
    ("Atelier Mode", "summer dress", 5_900),
    ("Pixel Electronics", "laptop", 129_900),
];

/// A fixed persona: market index, name, phone, birth date, PIN, address index, orders.
struct Persona {
    market: usize,
    name: &'static str,
    phone: &'static str,
    date_of_birth: &'static str,
    pin: &'static str,
    /// (order number, catalogue item, status, days ago ordered)
    orders: &'static [(&'static str, usize, &'static str, i64)],
}

/// The personas scripted calls use. John Carter's number is the SIP test caller's.
const PERSONAS: &[Persona] = &[
    Persona {
        market: 0,
        name: "John Carter",
        phone: "+15550100",
        date_of_birth: "1985-04-12",
        pin: "1234",
        orders: &[
            ("45678", 6, "shipped", 3),
            ("45679", 0, "delivered", 12),
            ("45680", 8, "delivered", 90),
            ("45681", 12, "delivered", 10),
        ],
    },
    Persona {
        market: 1,
        name: "Emma Wilson",
        phone: "+447700900123",
        date_of_birth: "1990-09-23",
        pin: "4321",
        orders: &[("51234", 9, "delivered", 8), ("51235", 4, "placed", 1)],
    },
    Persona {
        market: 2,
        name: "Anna Lindqvist",
        phone: "+46701234567",
        date_of_birth: "1979-02-03",
        pin: "2580",
        orders: &[("62345", 3, "shipped", 4), ("62346", 10, "delivered", 20)],
    },
    Persona {
        market: 3,
        name: "Lukas Müller",
        phone: "+4915112345678",
        date_of_birth: "1988-11-30",
        pin: "1357",
        orders: &[("73456", 1, "shipped", 2), ("73457", 5, "delivered", 15)],
    },
    Persona {
        market: 4,
        name: "Camille Dubois",
        phone: "+33612345678",
        date_of_birth: "1992-06-17",
        pin: "8642",
        orders: &[("84567", 11, "delivered", 6), ("84568", 7, "cancelled", 30)],
    },
    Persona {
        market: 5,
        name: "Lucía García",
        phone: "+34612345678",
        date_of_birth: "1983-03-08",
        pin: "9753",
        orders: &[("95678", 2, "shipped", 3), ("95679", 6, "delivered", 25)],
    },
];

/// What seeding did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Seeded {
    pub customers: usize,
    pub orders: usize,
    pub payments: usize,
    pub refunds: usize,
}

fn day(today: NaiveDate, offset: i64) -> String {
    (today + Duration::days(offset)).format("%Y-%m-%d").to_string()
}

/// Seed `customers` customers (at least the six personas) into an empty database. Refuses a
/// database that already has customers, so a real back office is never mixed with demo data.
pub fn seed(store: &Store, customers: usize, today: NaiveDate) -> Result<Seeded, StoreError> {
    if store.customer_count()? > 0 {
        return Err(StoreError::Invalid(
            "the database already has customers: demo data goes into an empty database only".into(),
        ));
    }
    let mut rng = fastrand::Rng::with_seed(0x5157_c4b0_a7d0);
    let mut out = Seeded { customers: 0, orders: 0, payments: 0, refunds: 0 };
    let created = day(today, -400) + "T09:00:00Z";
    store.transaction(|tx| {
        let mut next_order = 100_000u32;
        for i in 0..customers.max(PERSONAS.len()) {
            let persona = PERSONAS.get(i);
            let m = &MARKETS[persona.map(|p| p.market).unwrap_or(i % MARKETS.len())];
            let name = match persona {
                Some(p) => p.name.to_string(),
                None => format!("{} {}", m.first_names[rng.usize(..m.first_names.len())], m.last_names[rng.usize(..m.last_names.len())]),
            };
            let phone = match persona {
                Some(p) => p.phone.to_string(),
                None => format!("{}{:06}", m.phone_prefix, 200_000 + i),
            };
            let dob = match persona {
                Some(p) => p.date_of_birth.to_string(),
                None => format!("{}-{:02}-{:02}", 1950 + rng.i32(0..55), rng.u8(1..=12), rng.u8(1..=28)),
            };
            let pin = persona.map(|p| p.pin.to_string()).unwrap_or_else(|| format!("{:04}", rng.u16(0..10_000)));
            let (postcode, city) = m.cities[if persona.is_some() { 0 } else { rng.usize(..m.cities.len()) }];
            let street = format!("{} {}", m.streets[if persona.is_some() { 0 } else { rng.usize(..m.streets.len()) }], 1 + rng.u8(..120));
            let email = format!(
                "{}@example.com",
                name.to_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '.' }).collect::<String>()
            );
            tx.execute(
                "INSERT INTO customers (name, email, street, postcode, city, market, language, date_of_birth, pin, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![name, email, street, postcode, city, m.code, m.language, dob, pin, created],
            )?;
            let customer_id = tx.last_insert_rowid();
            tx.execute("INSERT INTO phone_numbers (number, customer_id) VALUES (?1, ?2)", params![phone, customer_id])?;
            out.customers += 1;

            // Orders: the persona's, or one to three random ones.
            let generated: Vec<(String, usize, &str, i64)> = match persona {
                Some(p) => p.orders.iter().map(|(n, item, s, ago)| (n.to_string(), *item, *s, *ago)).collect(),
                None => (0..1 + rng.usize(..3))
                    .map(|_| {
                        next_order += 1 + rng.u32(..40);
                        let status = ["placed", "shipped", "shipped", "delivered", "delivered", "delivered", "cancelled", "returned"]
                            [rng.usize(..8)];
                        let ago = match status {
                            "placed" => rng.i64(0..2),
                            "shipped" => rng.i64(1..6),
                            _ => rng.i64(7..120),
                        };
                        (next_order.to_string(), rng.usize(..CATALOGUE.len() - 1), status, ago)
                    })
                    .collect(),
            };
            for (number, item, status, ago) in generated {
                let (merchant, item_name, base) = CATALOGUE[item];
                let unit = base * m.price_factor;
                let quantity = if persona.is_none() && rng.u8(..5) == 0 { 2 } else { 1 };
                let total = unit * quantity;
                let carrier = m.carriers[rng.usize(..m.carriers.len())];
                let tracking = format!("{}{:010}", &carrier[..2].to_uppercase(), rng.u64(..10_000_000_000));
                let shipped = matches!(status, "shipped" | "delivered" | "returned");
                let (shipped_on, expected_on, delivered_on) = match status {
                    "shipped" => (Some(day(today, -ago + 1)), Some(day(today, (4 - ago).max(1))), None),
                    "delivered" | "returned" => (Some(day(today, -ago + 1)), Some(day(today, -ago + 4)), Some(day(today, -ago + 4))),
                    "placed" => (None, Some(day(today, 5)), None),
                    _ => (None, None, None),
                };
                tx.execute(
                    "INSERT INTO orders (number, customer_id, merchant, currency, total_cents, status, carrier, tracking,
                     ordered_on, shipped_on, expected_on, delivered_on) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                    params![
                        number,
                        customer_id,
                        merchant,
                        m.currency,
                        total,
                        status,
                        shipped.then_some(carrier),
                        shipped.then_some(tracking),
                        day(today, -ago),
                        shipped_on,
                        expected_on,
                        delivered_on
                    ],
                )?;
                let order_id = tx.last_insert_rowid();
                tx.execute(
                    "INSERT INTO order_items (order_id, name, quantity, unit_cents) VALUES (?1, ?2, ?3, ?4)",
                    params![order_id, item_name, quantity, unit],
                )?;
                out.orders += 1;
                // Pay in three (every 30 days from the order) for most live orders.
                if status != "cancelled" && (persona.is_some() || rng.bool()) {
                    let part = total / 3;
                    for k in 0..3i64 {
                        let amount = if k == 2 { total - 2 * part } else { part };
                        let due = -ago + 30 * k;
                        let state = if due <= 0 {
                            if persona.is_none() && k > 0 && rng.u8(..6) == 0 {
                                "overdue"
                            } else {
                                "paid"
                            }
                        } else {
                            "scheduled"
                        };
                        tx.execute(
                            "INSERT INTO payments (order_id, instalment, of_instalments, amount_cents, currency, due_on, status, paid_on)
                             VALUES (?1, ?2, 3, ?3, ?4, ?5, ?6, ?7)",
                            params![
                                order_id,
                                k + 1,
                                amount,
                                m.currency,
                                day(today, due),
                                state,
                                (state == "paid").then(|| day(today, due))
                            ],
                        )?;
                        out.payments += 1;
                    }
                }
                if status == "returned" {
                    tx.execute(
                        "INSERT INTO refunds (order_id, item, amount_cents, currency, reason, status, created_at)
                         VALUES (?1, ?2, ?3, ?4, 'returned item', 'paid', ?5)",
                        params![order_id, item_name, total, m.currency, day(today, -ago + 10) + "T12:00:00Z"],
                    )?;
                    out.refunds += 1;
                }
            }
        }
        Ok(())
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeding_is_deterministic_and_refuses_a_used_database() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        let a = Store::open_in_memory().unwrap();
        let b = Store::open_in_memory().unwrap();
        let sa = seed(&a, 40, today).unwrap();
        assert_eq!(sa, seed(&b, 40, today).unwrap());
        assert_eq!(sa.customers, 40);
        let (ca, cb) = (a.customers().unwrap(), b.customers().unwrap());
        assert_eq!(ca, cb);
        assert_eq!(a.orders(ca[20].id).unwrap(), b.orders(cb[20].id).unwrap());
        // Every market and language is there.
        for lang in ["en", "sv", "de", "fr", "es"] {
            assert!(ca.iter().any(|c| c.language == lang), "{lang}");
        }
        assert!(matches!(seed(&a, 10, today), Err(StoreError::Invalid(_))));
    }

    #[test]
    fn personas_are_fixed() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        let s = Store::open_in_memory().unwrap();
        seed(&s, 6, today).unwrap();
        let john = s.customer_by_phone("+15550100").unwrap().unwrap();
        assert_eq!((john.name.as_str(), john.pin.as_str(), john.language.as_str()), ("John Carter", "1234", "en"));
        let orders = s.orders(john.id).unwrap();
        let o = orders.iter().find(|o| o.number == "45678").unwrap();
        assert_eq!(o.status, crate::store::model::OrderStatus::Shipped);
        assert_eq!(o.expected_on.as_deref(), Some("2026-11-30"));
        let anna = s.customer_by_phone("+46701234567").unwrap().unwrap();
        assert_eq!((anna.market.as_str(), anna.language.as_str()), ("SE", "sv"));
        let due: Vec<_> = s
            .payments(john.id)
            .unwrap()
            .into_iter()
            .filter(|p| p.status != crate::store::model::PaymentStatus::Paid)
            .collect();
        assert!(!due.is_empty());
        assert!(due.iter().all(|p| p.due_on.as_str() > "2026-11-29"));
    }
}
