-- Switchboard's back office: customers, their orders, payments, refunds and every contact.
-- Amounts are integer minor units (cents, öre) with an ISO 4217 currency; dates are ISO 8601
-- (YYYY-MM-DD), instants RFC 3339 UTC. Portable SQL: the same file runs on PostgreSQL with
-- INTEGER PRIMARY KEY read as a serial/identity column.

CREATE TABLE customers (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    email         TEXT NOT NULL,
    street        TEXT NOT NULL,
    postcode      TEXT NOT NULL,
    city          TEXT NOT NULL,
    market        TEXT NOT NULL,              -- ISO 3166 alpha-2: US, GB, SE, DE, FR, ES
    language      TEXT NOT NULL,              -- ISO 639-1: en, sv, de, fr, es
    date_of_birth TEXT NOT NULL,
    pin           TEXT NOT NULL,              -- four digits, keyed on the phone
    created_at    TEXT NOT NULL
);

CREATE TABLE phone_numbers (
    number      TEXT PRIMARY KEY,             -- E.164
    customer_id INTEGER NOT NULL REFERENCES customers(id)
);
CREATE INDEX phone_numbers_customer ON phone_numbers(customer_id);

CREATE TABLE orders (
    id           INTEGER PRIMARY KEY,
    number       TEXT NOT NULL UNIQUE,        -- what the caller reads out: five or six digits
    customer_id  INTEGER NOT NULL REFERENCES customers(id),
    merchant     TEXT NOT NULL,
    currency     TEXT NOT NULL,
    total_cents  INTEGER NOT NULL CHECK (total_cents >= 0),
    status       TEXT NOT NULL CHECK (status IN ('placed', 'shipped', 'delivered', 'cancelled', 'returned')),
    carrier      TEXT,
    tracking     TEXT,
    ordered_on   TEXT NOT NULL,
    shipped_on   TEXT,
    expected_on  TEXT,
    delivered_on TEXT
);
CREATE INDEX orders_customer ON orders(customer_id);

CREATE TABLE order_items (
    id         INTEGER PRIMARY KEY,
    order_id   INTEGER NOT NULL REFERENCES orders(id),
    name       TEXT NOT NULL,
    quantity   INTEGER NOT NULL CHECK (quantity > 0),
    unit_cents INTEGER NOT NULL CHECK (unit_cents >= 0)
);
CREATE INDEX order_items_order ON order_items(order_id);

CREATE TABLE payments (
    id             INTEGER PRIMARY KEY,
    order_id       INTEGER NOT NULL REFERENCES orders(id),
    instalment     INTEGER NOT NULL,
    of_instalments INTEGER NOT NULL,
    amount_cents   INTEGER NOT NULL CHECK (amount_cents >= 0),
    currency       TEXT NOT NULL,
    due_on         TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('scheduled', 'paid', 'overdue')),
    paid_on        TEXT,
    postponed      INTEGER NOT NULL DEFAULT 0  -- times the due date was moved (policy: once)
);
CREATE INDEX payments_order ON payments(order_id);

CREATE TABLE refunds (
    id           INTEGER PRIMARY KEY,
    order_id     INTEGER NOT NULL REFERENCES orders(id),
    item         TEXT,
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    currency     TEXT NOT NULL,
    reason       TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('requested', 'approved', 'paid', 'rejected')),
    created_at   TEXT NOT NULL,
    call_id      TEXT
);
CREATE INDEX refunds_order ON refunds(order_id);

CREATE TABLE payment_links (
    id         INTEGER PRIMARY KEY,
    payment_id INTEGER NOT NULL REFERENCES payments(id),
    url        TEXT NOT NULL,
    sent_to    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    call_id    TEXT
);

CREATE TABLE interactions (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER REFERENCES customers(id),
    call_id     TEXT,
    channel     TEXT NOT NULL,                -- sip, webrtc, media_stream
    started_at  TEXT NOT NULL,
    ended_at    TEXT,
    outcome     TEXT NOT NULL,                -- resolved, escalated, abandoned
    intent      TEXT,
    summary     TEXT NOT NULL DEFAULT '',
    agent       TEXT
);
CREATE INDEX interactions_customer ON interactions(customer_id);
