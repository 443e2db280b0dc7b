//! The back-office database: SQLite by default (one file, WAL mode, foreign keys on), schema
//! migrations from `migrations/` applied in order on open; `user_version` holds the number of
//! the last one applied (the `NNNN_` prefix, so a gap in the numbering is fine).
//! Every query is parameterised; amounts are integer minor units.

pub mod calls;
pub mod demo;
pub mod history;
pub mod model;
pub mod reviews;
pub mod staff;
pub mod verification;

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{params, Connection, OptionalExtension, Row};

use model::{Customer, Interaction, Order, OrderItem, OrderStatus, Payment, PaymentStatus, Refund};

/// The migrations, in order of their number (strictly increasing, gaps allowed). Never edit a
/// shipped one: add the next.
const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_back_office", include_str!("../../migrations/0001_back_office.sql")),
    ("0002_staff", include_str!("../../migrations/0002_staff.sql")),
    ("0003_callbacks", include_str!("../../migrations/0003_callbacks.sql")),
    ("0004_calls", include_str!("../../migrations/0004_calls.sql")),
    ("0005_verification_failures", include_str!("../../migrations/0005_verification_failures.sql")),
    ("0006_turn_speaker", include_str!("../../migrations/0006_turn_speaker.sql")),
    ("0007_call_events", include_str!("../../migrations/0007_call_events.sql")),
    ("0008_reviews", include_str!("../../migrations/0008_reviews.sql")),
    ("0009_retention", include_str!("../../migrations/0009_retention.sql")),
    ("0010_agent_presence", include_str!("../../migrations/0010_agent_presence.sql")),
    ("0011_card_payments", include_str!("../../migrations/0011_card_payments.sql")),
];

/// A migration's number: its name's `NNNN_` prefix.
fn migration_number(name: &str) -> i64 {
    name.split('_').next().and_then(|n| n.parse().ok()).expect("migration names start with a number")
}

/// What can go wrong with the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file could not be opened or created (path, permissions, disk).
    #[error("cannot open database {path}: {source}")]
    Open { path: String, source: rusqlite::Error },
    /// A schema migration failed; the database is left at the last good version.
    #[error("migration {name} failed: {source}")]
    Migration { name: String, source: rusqlite::Error },
    /// The database is newer than this build understands.
    #[error("database schema version {found} is newer than this build's {known}: upgrade Switchboard")]
    TooNew { found: i64, known: i64 },
    /// A query failed (busy, I/O, constraint); a retry may help when the database was busy.
    #[error("database error: {0}")]
    Query(#[from] rusqlite::Error),
    /// A record the operation needs does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The operation breaks a rule of the data (an amount over the order's total, ...).
    #[error("{0}")]
    Invalid(String),
}

/// A handle on the database, cheap to clone and shared by every call.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

/// A time as the database keeps it: RFC 3339, UTC, milliseconds (so text order is time order).
pub fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Now, as the database keeps times.
pub fn now_rfc3339() -> String {
    rfc3339(chrono::Utc::now())
}

/// A stored time as ms since the epoch (0 when it does not parse).
pub fn stored_ms(at: &str) -> u64 {
    chrono::DateTime::parse_from_rfc3339(at).map(|t| t.timestamp_millis().max(0) as u64).unwrap_or(0)
}

impl Store {
    /// Open (creating if needed) the database at `path` and bring its schema up to date.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(dir);
        }
        let open_err = |source| StoreError::Open { path: path.display().to_string(), source };
        let conn = Connection::open(path).map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(open_err)?;
        Self::init(conn)
    }

    /// A private in-memory database (tests, simulations).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        let conn =
            Connection::open_in_memory().map_err(|source| StoreError::Open { path: ":memory:".into(), source })?;
        Self::init(conn)
    }

    fn init(mut conn: Connection) -> Result<Self, StoreError> {
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let known = MIGRATIONS.last().map(|(name, _)| migration_number(name)).unwrap_or(0);
        if version > known {
            return Err(StoreError::TooNew { found: version, known });
        }
        for (name, sql) in MIGRATIONS.iter().filter(|(name, _)| migration_number(name) > version) {
            let migration = |source| StoreError::Migration { name: name.to_string(), source };
            let tx = conn.transaction().map_err(migration)?;
            tx.execute_batch(sql).map_err(migration)?;
            tx.pragma_update(None, "user_version", migration_number(name)).map_err(migration)?;
            tx.commit().map_err(migration)?;
            tracing::info!(migration = name, "database migrated");
        }
        Ok(Self { conn: Arc::new(Mutex::new(conn)) })
    }

    /// The schema version (the number of the last migration applied).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self.lock().query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (statements are
        // atomic), so a poisoned lock is still a usable connection.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Run `f` inside one transaction.
    pub fn transaction<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Number of customers.
    pub fn customer_count(&self) -> Result<i64, StoreError> {
        Ok(self.lock().query_row("SELECT COUNT(*) FROM customers", [], |r| r.get(0))?)
    }

    /// The customer a phone number belongs to (E.164, as the network presents it).
    pub fn customer_by_phone(&self, phone: &str) -> Result<Option<Customer>, StoreError> {
        let conn = self.lock();
        let id: Option<i64> = conn
            .query_row("SELECT customer_id FROM phone_numbers WHERE number = ?1", [phone], |r| r.get(0))
            .optional()?;
        match id {
            Some(id) => customer(&conn, id),
            None => Ok(None),
        }
    }

    /// A customer by id.
    pub fn customer(&self, id: i64) -> Result<Option<Customer>, StoreError> {
        customer(&self.lock(), id)
    }

    /// Every customer, by id.
    pub fn customers(&self) -> Result<Vec<Customer>, StoreError> {
        let conn = self.lock();
        let ids: Vec<i64> = conn
            .prepare("SELECT id FROM customers ORDER BY id")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        ids.into_iter().filter_map(|id| customer(&conn, id).transpose()).collect()
    }

    /// A customer's orders, newest first.
    pub fn orders(&self, customer_id: i64) -> Result<Vec<Order>, StoreError> {
        let conn = self.lock();
        let mut orders: Vec<Order> = conn
            .prepare(&format!("{ORDER_SELECT} WHERE customer_id = ?1 ORDER BY ordered_on DESC, id DESC"))?
            .query_map([customer_id], order_row)?
            .collect::<Result<_, _>>()?;
        for o in &mut orders {
            o.items = items(&conn, o.id)?;
        }
        Ok(orders)
    }

    /// An order by the number the caller reads out, whoever it belongs to.
    pub fn order_by_number(&self, number: &str) -> Result<Option<Order>, StoreError> {
        let conn = self.lock();
        let mut order = conn.query_row(&format!("{ORDER_SELECT} WHERE number = ?1"), [number], order_row).optional()?;
        if let Some(o) = order.as_mut() {
            o.items = items(&conn, o.id)?;
        }
        Ok(order)
    }

    /// A customer's payment instalments, by due date.
    pub fn payments(&self, customer_id: i64) -> Result<Vec<Payment>, StoreError> {
        let conn = self.lock();
        let rows = conn
            .prepare(&format!("{PAYMENT_SELECT} WHERE o.customer_id = ?1 ORDER BY p.due_on, p.id"))?
            .query_map([customer_id], payment_row)?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// One payment instalment.
    pub fn payment(&self, id: i64) -> Result<Option<Payment>, StoreError> {
        Ok(self.lock().query_row(&format!("{PAYMENT_SELECT} WHERE p.id = ?1"), [id], payment_row).optional()?)
    }

    /// A customer's refunds, newest first.
    /// The customer a payment (instalment) belongs to.
    pub fn payment_owner(&self, payment_id: i64) -> Result<Option<i64>, StoreError> {
        let conn = self.lock();
        let mut stmt =
            conn.prepare("SELECT o.customer_id FROM payments p JOIN orders o ON o.id = p.order_id WHERE p.id = ?1")?;
        let mut rows = stmt.query_map([payment_id], |r| r.get::<_, i64>(0))?;
        Ok(rows.next().transpose()?)
    }

    pub fn refunds(&self, customer_id: i64) -> Result<Vec<Refund>, StoreError> {
        let conn = self.lock();
        let rows = conn
            .prepare(&format!("{REFUND_SELECT} WHERE o.customer_id = ?1 ORDER BY r.created_at DESC, r.id DESC"))?
            .query_map([customer_id], refund_row)?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Record a refund request on an order. The amount must be positive and, with the
    /// order's earlier refunds, not exceed what was paid for it.
    pub fn create_refund(
        &self,
        order_id: i64,
        item: Option<&str>,
        amount_cents: i64,
        reason: &str,
        call_id: Option<&str>,
    ) -> Result<Refund, StoreError> {
        self.transaction(|tx| {
            let (total, currency): (i64, String) = tx
                .query_row("SELECT total_cents, currency FROM orders WHERE id = ?1", [order_id], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?
                .ok_or_else(|| StoreError::NotFound(format!("order {order_id}")))?;
            let refunded: i64 = tx.query_row(
                "SELECT COALESCE(SUM(amount_cents), 0) FROM refunds WHERE order_id = ?1 AND status != 'rejected'",
                [order_id],
                |r| r.get(0),
            )?;
            if amount_cents <= 0 || amount_cents + refunded > total {
                return Err(StoreError::Invalid(format!(
                    "refund of {} would exceed the order's {} (already refunded {})",
                    model::format_cents(amount_cents),
                    model::format_cents(total),
                    model::format_cents(refunded)
                )));
            }
            tx.execute(
                "INSERT INTO refunds (order_id, item, amount_cents, currency, reason, status, created_at, call_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'approved', ?6, ?7)",
                params![order_id, item, amount_cents, currency, reason, now_rfc3339(), call_id],
            )?;
            let id = tx.last_insert_rowid();
            Ok(tx.query_row(&format!("{REFUND_SELECT} WHERE r.id = ?1"), [id], refund_row)?)
        })
    }

    /// Move an instalment's due date (the policy of how often and how far is the caller's).
    pub fn postpone_payment(&self, payment_id: i64, new_due_on: &str) -> Result<Payment, StoreError> {
        let changed = self.lock().execute(
            "UPDATE payments SET due_on = ?2, postponed = postponed + 1 WHERE id = ?1 AND status != 'paid'",
            params![payment_id, new_due_on],
        )?;
        if changed == 0 {
            return Err(StoreError::NotFound(format!("unpaid payment {payment_id}")));
        }
        self.payment(payment_id)?.ok_or_else(|| StoreError::NotFound(format!("payment {payment_id}")))
    }

    /// Record a payment link sent to the customer; returns the link.
    pub fn create_payment_link(
        &self,
        payment_id: i64,
        sent_to: &str,
        call_id: Option<&str>,
    ) -> Result<String, StoreError> {
        let token: String = (0..12).map(|_| fastrand::alphanumeric()).collect();
        let url = format!("https://pay.example.com/p/{token}");
        self.lock().execute(
            "INSERT INTO payment_links (payment_id, url, sent_to, created_at, call_id) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![payment_id, url, sent_to, now_rfc3339(), call_id],
        )?;
        Ok(url)
    }

    /// Mark an unpaid instalment paid by card on `paid_on` (YYYY-MM-DD), keeping the card's
    /// brand and last four digits only.
    pub fn pay_by_card(
        &self,
        payment_id: i64,
        paid_on: &str,
        brand: &str,
        last4: &str,
        call_id: Option<&str>,
    ) -> Result<Payment, StoreError> {
        self.transaction(|tx| {
            let changed = tx.execute(
                "UPDATE payments SET status = 'paid', paid_on = ?2 WHERE id = ?1 AND status != 'paid'",
                params![payment_id, paid_on],
            )?;
            if changed == 0 {
                return Err(StoreError::NotFound(format!("unpaid payment {payment_id}")));
            }
            tx.execute(
                "INSERT INTO card_payments (payment_id, brand, last4, created_at, call_id) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![payment_id, brand, last4, now_rfc3339(), call_id],
            )?;
            Ok(())
        })?;
        self.payment(payment_id)?.ok_or_else(|| StoreError::NotFound(format!("payment {payment_id}")))
    }

    /// Change a customer's e-mail address.
    pub fn update_email(&self, customer_id: i64, email: &str) -> Result<(), StoreError> {
        self.update_customer(customer_id, "UPDATE customers SET email = ?2 WHERE id = ?1", params![customer_id, email])
    }

    /// Change a customer's postal address.
    pub fn update_address(&self, customer_id: i64, street: &str, postcode: &str, city: &str) -> Result<(), StoreError> {
        self.update_customer(
            customer_id,
            "UPDATE customers SET street = ?2, postcode = ?3, city = ?4 WHERE id = ?1",
            params![customer_id, street, postcode, city],
        )
    }

    /// Add a phone number to a customer (numbers are unique across customers).
    pub fn add_phone(&self, customer_id: i64, number: &str) -> Result<(), StoreError> {
        self.lock()
            .execute("INSERT INTO phone_numbers (number, customer_id) VALUES (?1, ?2)", params![number, customer_id])
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                    StoreError::Invalid(format!("{number} is already registered"))
                }
                e => e.into(),
            })?;
        Ok(())
    }

    fn update_customer(&self, id: i64, sql: &str, params: impl rusqlite::Params) -> Result<(), StoreError> {
        match self.lock().execute(sql, params)? {
            0 => Err(StoreError::NotFound(format!("customer {id}"))),
            _ => Ok(()),
        }
    }

    /// Record the start of a contact; returns its id.
    pub fn start_interaction(
        &self,
        customer_id: Option<i64>,
        call_id: &str,
        channel: &str,
        started_at: &str,
    ) -> Result<i64, StoreError> {
        let conn = self.lock();
        conn.execute(
            "INSERT INTO interactions (customer_id, call_id, channel, started_at, outcome) VALUES (?1, ?2, ?3, ?4, 'in_progress')",
            params![customer_id, call_id, channel, started_at],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// Record how a contact ended.
    pub fn finish_interaction(
        &self,
        id: i64,
        customer_id: Option<i64>,
        outcome: &str,
        intent: Option<&str>,
        summary: &str,
        agent: Option<&str>,
    ) -> Result<(), StoreError> {
        let changed = self.lock().execute(
            "UPDATE interactions SET ended_at = ?2, outcome = ?3, intent = ?4, summary = ?5, agent = ?6,
             customer_id = COALESCE(?7, customer_id) WHERE id = ?1",
            params![id, now_rfc3339(), outcome, intent, summary, agent, customer_id],
        )?;
        if changed == 0 {
            return Err(StoreError::NotFound(format!("interaction {id}")));
        }
        Ok(())
    }

    /// A customer's contacts, newest first.
    pub fn interactions(&self, customer_id: i64) -> Result<Vec<Interaction>, StoreError> {
        let conn = self.lock();
        let rows = conn
            .prepare(
                "SELECT id, customer_id, call_id, channel, started_at, ended_at, outcome, intent, summary, agent
                 FROM interactions WHERE customer_id = ?1 ORDER BY started_at DESC, id DESC",
            )?
            .query_map([customer_id], interaction_row)?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }
}

fn interaction_row(r: &Row) -> rusqlite::Result<Interaction> {
    Ok(Interaction {
        id: r.get(0)?,
        customer_id: r.get(1)?,
        call_id: r.get(2)?,
        channel: r.get(3)?,
        started_at: r.get(4)?,
        ended_at: r.get(5)?,
        outcome: r.get(6)?,
        intent: r.get(7)?,
        summary: r.get(8)?,
        agent: r.get(9)?,
    })
}

fn customer(conn: &Connection, id: i64) -> Result<Option<Customer>, StoreError> {
    let c = conn
        .query_row(
            "SELECT id, name, email, street, postcode, city, market, language, date_of_birth, pin FROM customers WHERE id = ?1",
            [id],
            |r| {
                Ok(Customer {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    email: r.get(2)?,
                    street: r.get(3)?,
                    postcode: r.get(4)?,
                    city: r.get(5)?,
                    market: r.get(6)?,
                    language: r.get(7)?,
                    date_of_birth: r.get(8)?,
                    pin: r.get(9)?,
                    phones: Vec::new(),
                })
            },
        )
        .optional()?;
    let Some(mut c) = c else { return Ok(None) };
    c.phones = conn
        .prepare("SELECT number FROM phone_numbers WHERE customer_id = ?1 ORDER BY number")?
        .query_map([id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(Some(c))
}

const ORDER_SELECT: &str =
    "SELECT id, number, customer_id, merchant, currency, total_cents, status, carrier, tracking, \
     ordered_on, shipped_on, expected_on, delivered_on FROM orders";

fn order_row(r: &Row) -> rusqlite::Result<Order> {
    let status: String = r.get(6)?;
    Ok(Order {
        id: r.get(0)?,
        number: r.get(1)?,
        customer_id: r.get(2)?,
        merchant: r.get(3)?,
        currency: r.get(4)?,
        total_cents: r.get(5)?,
        status: OrderStatus::parse(&status).ok_or_else(|| bad_enum(6, &status))?,
        carrier: r.get(7)?,
        tracking: r.get(8)?,
        ordered_on: r.get(9)?,
        shipped_on: r.get(10)?,
        expected_on: r.get(11)?,
        delivered_on: r.get(12)?,
        items: Vec::new(),
    })
}

fn bad_enum(col: usize, value: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        col,
        rusqlite::types::Type::Text,
        format!("unknown value {value:?}").into(),
    )
}

fn items(conn: &Connection, order_id: i64) -> Result<Vec<OrderItem>, StoreError> {
    Ok(conn
        .prepare("SELECT name, quantity, unit_cents FROM order_items WHERE order_id = ?1 ORDER BY id")?
        .query_map([order_id], |r| Ok(OrderItem { name: r.get(0)?, quantity: r.get(1)?, unit_cents: r.get(2)? }))?
        .collect::<Result<_, _>>()?)
}

const PAYMENT_SELECT: &str = "SELECT p.id, p.order_id, o.number, p.instalment, p.of_instalments, p.amount_cents, \
     p.currency, p.due_on, p.status, p.paid_on, p.postponed FROM payments p JOIN orders o ON o.id = p.order_id";

fn payment_row(r: &Row) -> rusqlite::Result<Payment> {
    let status: String = r.get(8)?;
    Ok(Payment {
        id: r.get(0)?,
        order_id: r.get(1)?,
        order_number: r.get(2)?,
        instalment: r.get(3)?,
        of_instalments: r.get(4)?,
        amount_cents: r.get(5)?,
        currency: r.get(6)?,
        due_on: r.get(7)?,
        status: PaymentStatus::parse(&status).ok_or_else(|| bad_enum(8, &status))?,
        paid_on: r.get(9)?,
        postponed: r.get(10)?,
    })
}

const REFUND_SELECT: &str =
    "SELECT r.id, r.order_id, o.number, r.item, r.amount_cents, r.currency, r.reason, r.status, \
     r.created_at, r.call_id FROM refunds r JOIN orders o ON o.id = r.order_id";

fn refund_row(r: &Row) -> rusqlite::Result<Refund> {
    Ok(Refund {
        id: r.get(0)?,
        order_id: r.get(1)?,
        order_number: r.get(2)?,
        item: r.get(3)?,
        amount_cents: r.get(4)?,
        currency: r.get(5)?,
        reason: r.get(6)?,
        status: r.get(7)?,
        created_at: r.get(8)?,
        call_id: r.get(9)?,
    })
}

#[cfg(test)]
mod tests;
