-- Instalments the assistant took by a card keyed in secure capture. The built-in back office is
-- a demo ledger, not a payment processor: it keeps the card's brand and last four digits only
-- (PCI DSS allows no more to be stored in clear), never the number.

CREATE TABLE card_payments (
    id         INTEGER PRIMARY KEY,
    payment_id INTEGER NOT NULL REFERENCES payments(id),
    brand      TEXT NOT NULL,             -- visa, mastercard, amex, discover, card
    last4      TEXT NOT NULL,
    created_at TEXT NOT NULL,             -- RFC 3339
    call_id    TEXT
);
