-- Verification attempts that did not succeed, per customer, across calls and transports: the
-- assistant locks a customer's verification after N of them within a window
-- ([assistant.policy] verification_lock_failures / verification_lock_window_minutes).
-- An attempt is written 'pending' before its factor is checked (so parallel calls cannot
-- outrun the count) and becomes 'failed', or is deleted when it succeeded or was never checked.
-- A success does not clear earlier failures: they expire only with the window (rows older
-- than it are pruned as new attempts come in).
-- customer_id is the back office's id (no foreign key: an HTTP back office's customers are
-- not in this database). at_ms is Unix time in milliseconds.
CREATE TABLE verification_failures (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL,
    call_id TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'failed'))
);
CREATE INDEX verification_failures_customer ON verification_failures(customer_id, at_ms);
CREATE INDEX verification_failures_at ON verification_failures(at_ms);
