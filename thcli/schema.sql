-- thcli: the whole schema of a scheme's database.
--
-- Applied as migration m001 through sqlite-utils' Migrations (thcli/migrations.py);
-- every later change is its own migration. Conventions:
--   * dates are ISO text (YYYY-MM-DD), moments are ISO text in UTC
--     (YYYY-MM-DDTHH:MM:SSZ);
--   * money is INTEGER pence, never REAL;
--   * codes are lower-case text from the `codes` table (checked by the domain,
--     so that retiring a code keeps old cases valid);
--   * personal data lives in clients, addresses, contacts, perpetrators and
--     the free-text columns of cases, so that erasure knows where to look;
--   * audit and ledger are append-only: triggers refuse UPDATE and DELETE.

-- Settings of the scheme: typed and documented in thcli/settings.py.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Values that never leave the database (the county pseudonym secret).
CREATE TABLE secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Every code list: district, route, risk, tenure, gender, ethnicity, ...
-- county_code maps a scheme's own code onto the county export's code
-- (COUNTY_EXPORT.md); NULL means `unknown` there.
CREATE TABLE codes (
    list        TEXT NOT NULL,
    code        TEXT NOT NULL,
    label       TEXT NOT NULL,
    retired     INTEGER NOT NULL DEFAULT 0 CHECK (retired IN (0, 1)),
    position    INTEGER NOT NULL DEFAULT 0,
    county_code TEXT,
    PRIMARY KEY (list, code)
) WITHOUT ROWID;

-- The measures catalogue: the extra attributes of the `measure` code list.
CREATE TABLE measure_catalogue (
    list            TEXT NOT NULL DEFAULT 'measure' CHECK (list = 'measure'),
    code            TEXT NOT NULL PRIMARY KEY,
    category        TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('equipment', 'works')),
    removable       INTEGER NOT NULL CHECK (removable IN (0, 1)),
    unit_cost_pence INTEGER NOT NULL CHECK (unit_cost_pence >= 0),
    FOREIGN KEY (list, code) REFERENCES codes (list, code)
);

-- Contractors: the extra attributes of the `contractor` code list.
CREATE TABLE contractor_details (
    list     TEXT NOT NULL DEFAULT 'contractor' CHECK (list = 'contractor'),
    code     TEXT NOT NULL PRIMARY KEY,
    in_house INTEGER NOT NULL DEFAULT 0 CHECK (in_house IN (0, 1)),
    address  TEXT,
    email    TEXT,
    phone    TEXT,
    FOREIGN KEY (list, code) REFERENCES codes (list, code)
);

-- A person referred. One client can have several cases (repeat referrals).
CREATE TABLE clients (
    id                  INTEGER PRIMARY KEY,
    name                TEXT NOT NULL,
    name_key            TEXT NOT NULL,          -- lower-cased, single-spaced, for matching
    dob                 TEXT,                   -- NULL: age unknown
    gender              TEXT,
    ethnicity           TEXT,
    disabled            INTEGER CHECK (disabled IN (0, 1)),
    access_needs        TEXT,
    language            TEXT,
    interpreter         INTEGER CHECK (interpreter IN (0, 1)),
    nrpf                INTEGER CHECK (nrpf IN (0, 1)),
    lgbt                INTEGER CHECK (lgbt IN (0, 1)),
    mental_health_needs INTEGER CHECK (mental_health_needs IN (0, 1)),
    substance_use_needs INTEGER CHECK (substance_use_needs IN (0, 1)),
    anonymised_on       TEXT,
    created_at          TEXT NOT NULL
);
CREATE INDEX clients_name_key ON clients (name_key);
CREATE INDEX clients_dob ON clients (dob);

-- Addresses of a client. Only the current one may ever receive a letter.
CREATE TABLE addresses (
    id              INTEGER PRIMARY KEY,
    client_id       INTEGER NOT NULL REFERENCES clients (id),
    address         TEXT NOT NULL,
    postcode        TEXT NOT NULL,
    postcode_key    TEXT NOT NULL,              -- upper case, no spaces, for search
    do_not_disclose INTEGER NOT NULL DEFAULT 0 CHECK (do_not_disclose IN (0, 1)),
    current         INTEGER NOT NULL DEFAULT 1 CHECK (current IN (0, 1)),
    recorded_at     TEXT NOT NULL,
    ended_at        TEXT
);
CREATE INDEX addresses_client ON addresses (client_id);
CREATE INDEX addresses_postcode_key ON addresses (postcode_key);

-- Reference numbers count up within the calendar year of referral.
CREATE TABLE ref_counters (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);

-- A case: one referral, one episode of help.
CREATE TABLE cases (
    id                     INTEGER PRIMARY KEY,
    ref                    TEXT NOT NULL UNIQUE,
    client_id              INTEGER REFERENCES clients (id),   -- NULL once anonymised
    client_pseudonym       TEXT,                -- kept when the client row is erased
    address_id             INTEGER REFERENCES addresses (id),
    status                 TEXT NOT NULL DEFAULT 'new' CHECK (status IN (
                               'new', 'triage', 'survey', 'approval', 'works',
                               'fitted', 'follow_up', 'closed', 'declined',
                               'withdrawn', 'no_contact', 'on_hold')),
    status_before_hold     TEXT,
    received_on            TEXT NOT NULL,
    district               TEXT NOT NULL,
    route                  TEXT NOT NULL,
    risk_level             TEXT NOT NULL,
    emergency              INTEGER NOT NULL DEFAULT 0 CHECK (emergency IN (0, 1)),
    marac                  INTEGER CHECK (marac IN (0, 1)),
    marac_date             TEXT,
    dash_date              TEXT,
    dash_score             INTEGER CHECK (dash_score BETWEEN 0 AND 27),
    referral_form          INTEGER NOT NULL DEFAULT 0 CHECK (referral_form IN (0, 1)),
    crime_ref              TEXT,
    referrer_name          TEXT,
    referrer_org           TEXT,
    referrer_role          TEXT,
    referrer_phone         TEXT,
    referrer_email         TEXT,
    support_worker         TEXT,
    adults                 INTEGER CHECK (adults >= 0),
    children               INTEGER CHECK (children >= 0),
    children_ages          TEXT,
    pregnant               INTEGER CHECK (pregnant IN (0, 1)),
    tenure                 TEXT,
    landlord_name          TEXT,
    landlord_email         TEXT,
    landlord_phone         TEXT,
    landlord_permission    TEXT CHECK (landlord_permission IN (
                               'requested', 'granted', 'refused', 'not_needed')),
    landlord_permission_on TEXT,
    chooses_to_stay        INTEGER CHECK (chooses_to_stay IN (0, 1)),
    perpetrator_lives_there INTEGER CHECK (perpetrator_lives_there IN (0, 1)),
    perpetrator_can_enter  INTEGER CHECK (perpetrator_can_enter IN (0, 1)),
    reason                 TEXT,                -- decline/withdrawal/no-contact/outcome code
    first_contact_on       TEXT,
    fitted_on              TEXT,                -- when every approved measure was fitted
    closed_on              TEXT,                -- closed, declined, withdrawn or no contact
    legal_hold             INTEGER NOT NULL DEFAULT 0 CHECK (legal_hold IN (0, 1)),
    next_due_on            TEXT,                -- kept up to date by workflow.refresh_due
    next_due_what          TEXT,
    anonymised_on          TEXT,
    created_at             TEXT NOT NULL,
    updated_at             TEXT NOT NULL
);
CREATE INDEX cases_client ON cases (client_id);
CREATE INDEX cases_status ON cases (status, received_on);
CREATE INDEX cases_district ON cases (district, received_on);
CREATE INDEX cases_received ON cases (received_on);
CREATE INDEX cases_next_due ON cases (next_due_on) WHERE next_due_on IS NOT NULL;

-- Earlier cases of the same client, found when the referral was logged.
CREATE TABLE case_repeats (
    case_id         INTEGER NOT NULL REFERENCES cases (id),
    earlier_case_id INTEGER NOT NULL REFERENCES cases (id),
    PRIMARY KEY (case_id, earlier_case_id)
) WITHOUT ROWID;

-- How the survivor can be contacted safely: every channel unsafe unless marked safe.
CREATE TABLE contacts (
    case_id            INTEGER PRIMARY KEY REFERENCES cases (id),
    phone              TEXT,
    safe_call          INTEGER NOT NULL DEFAULT 0 CHECK (safe_call IN (0, 1)),
    safe_text          INTEGER NOT NULL DEFAULT 0 CHECK (safe_text IN (0, 1)),
    safe_voicemail     INTEGER NOT NULL DEFAULT 0 CHECK (safe_voicemail IN (0, 1)),
    email              TEXT,
    safe_email         INTEGER NOT NULL DEFAULT 0 CHECK (safe_email IN (0, 1)),
    safe_post          INTEGER NOT NULL DEFAULT 0 CHECK (safe_post IN (0, 1)),
    safe_times         TEXT,
    third_party_name   TEXT,
    third_party_phone  TEXT
);

-- The perpetrator, kept apart: never in a letter or an export.
CREATE TABLE perpetrators (
    case_id      INTEGER PRIMARY KEY REFERENCES cases (id),
    name         TEXT,
    relationship TEXT,
    whereabouts  TEXT,
    court_orders TEXT,
    notes        TEXT
);

-- Consent, one row per scope given; withdrawal is recorded, not deleted.
CREATE TABLE consents (
    id           INTEGER PRIMARY KEY,
    case_id      INTEGER NOT NULL REFERENCES cases (id),
    scope        TEXT NOT NULL CHECK (scope IN ('police', 'contractor', 'landlord', 'county')),
    given_on     TEXT NOT NULL,
    given_by     TEXT NOT NULL,
    withdrawn_on TEXT,
    withdrawn_by TEXT
);
CREATE INDEX consents_case ON consents (case_id, scope);

-- The case timeline: every event with when and who.
CREATE TABLE events (
    id      INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id),
    at      TEXT NOT NULL,
    kind    TEXT NOT NULL,
    detail  TEXT NOT NULL DEFAULT '',
    by      TEXT NOT NULL
);
CREATE INDEX events_case ON events (case_id, id);

-- Home security surveys (by the police CRO or the scheme's own assessor).
CREATE TABLE surveys (
    id           INTEGER PRIMARY KEY,
    case_id      INTEGER NOT NULL REFERENCES cases (id),
    surveyor     TEXT NOT NULL,
    requested_on TEXT,
    surveyed_on  TEXT,
    notes        TEXT,
    created_at   TEXT NOT NULL
);
CREATE INDEX surveys_case ON surveys (case_id);

-- Measure lines recommended by a survey, and what became of each.
CREATE TABLE measure_lines (
    id                   INTEGER PRIMARY KEY,
    case_id              INTEGER NOT NULL REFERENCES cases (id),
    line                 INTEGER NOT NULL,       -- 1, 2, ... within the case
    survey_id            INTEGER REFERENCES surveys (id),
    code                 TEXT NOT NULL,
    quantity             INTEGER NOT NULL CHECK (quantity > 0),
    unit_cost_pence      INTEGER NOT NULL CHECK (unit_cost_pence >= 0),
    estimated_cost_pence INTEGER NOT NULL CHECK (estimated_cost_pence >= 0),
    kind                 TEXT NOT NULL CHECK (kind IN ('equipment', 'works')),
    removable            INTEGER NOT NULL CHECK (removable IN (0, 1)),
    location             TEXT,
    status               TEXT NOT NULL DEFAULT 'recommended' CHECK (status IN (
                             'recommended', 'approved', 'declined', 'ordered',
                             'fitted', 'removed')),
    fund_id              INTEGER REFERENCES funds (id),
    approved_on          TEXT,
    over_cap_reason      TEXT,
    declined_reason      TEXT,
    contractor           TEXT,
    ordered_on           TEXT,
    fitted_on            TEXT,
    actual_cost_pence    INTEGER CHECK (actual_cost_pence >= 0),
    stock_holder         TEXT,                   -- set when issued from stock
    removed_on           TEXT,
    UNIQUE (case_id, line)
);
CREATE INDEX measure_lines_status ON measure_lines (status, code);

-- Equipment held in stock, as movements (+ added, - issued): never below zero.
CREATE TABLE stock_movements (
    id       INTEGER PRIMARY KEY,
    at       TEXT NOT NULL,
    item     TEXT NOT NULL,                      -- a measure code
    holder   TEXT NOT NULL,                      -- a stock_holder code
    quantity INTEGER NOT NULL CHECK (quantity <> 0),
    case_id  INTEGER REFERENCES cases (id),
    line_id  INTEGER REFERENCES measure_lines (id),
    by       TEXT NOT NULL
);
CREATE INDEX stock_item_holder ON stock_movements (item, holder);

-- Follow-ups after fitting (3 and 6 months by default).
CREATE TABLE followups (
    id       INTEGER PRIMARY KEY,
    case_id  INTEGER NOT NULL REFERENCES cases (id),
    done_on  TEXT NOT NULL,
    outcome  TEXT NOT NULL,
    note     TEXT,
    by       TEXT NOT NULL,
    at       TEXT NOT NULL
);
CREATE INDEX followups_case ON followups (case_id);

-- Funding pots, one per financial year (2026/27 runs 1 April to 31 March).
CREATE TABLE funds (
    id         INTEGER PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    year       TEXT NOT NULL,                    -- '2026/27'
    source     TEXT NOT NULL,                    -- a fund_source code
    district   TEXT,                             -- NULL: every district
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX funds_year ON funds (year);

-- The money ledger: never updated, never deleted; mistakes get reversing
-- entries. amount_pence is signed by its effect on the fund's remaining
-- balance, so that remaining = SUM(amount_pence) WHERE pledged = 0:
--   allocation +, contribution + (pledged = 1 until received: not counted),
--   commitment - (a line approved at its estimate), release + (a commitment
--   given back: line declined, fitted or paid for less, or paid),
--   payment -, refund +, correction = minus the entry it corrects (corrects_id).
-- A payment on a line also releases that line's open commitment (up to the
-- payment), so money is never counted twice.
CREATE TABLE ledger (
    id                INTEGER PRIMARY KEY,
    at                TEXT NOT NULL,
    on_date           TEXT NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN (
                          'allocation', 'contribution', 'commitment', 'release',
                          'payment', 'refund', 'correction')),
    amount_pence      INTEGER NOT NULL,
    fund_id           INTEGER NOT NULL REFERENCES funds (id),
    case_id           INTEGER REFERENCES cases (id),
    line_id           INTEGER REFERENCES measure_lines (id),
    invoice           TEXT,
    contributor       TEXT CHECK (contributor IN (
                          'survivor', 'landlord', 'housing_association', 'charity')),
    pledged           INTEGER NOT NULL DEFAULT 0 CHECK (pledged IN (0, 1)),
    corrects_id       INTEGER REFERENCES ledger (id),
    memo              TEXT,
    by                TEXT NOT NULL,
    prev_hash         TEXT NOT NULL,
    hash              TEXT NOT NULL
);
CREATE INDEX ledger_fund ON ledger (fund_id, kind);
CREATE INDEX ledger_case ON ledger (case_id);
CREATE INDEX ledger_line ON ledger (line_id);
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN
    SELECT RAISE(ABORT, 'ledger entries are never changed: add a correction');
END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN
    SELECT RAISE(ABORT, 'ledger entries are never deleted: add a correction');
END;

-- Letters made for a case: what, for whom, where, and the file's hash.
CREATE TABLE letters (
    id              INTEGER PRIMARY KEY,
    case_id         INTEGER NOT NULL REFERENCES cases (id),
    kind            TEXT NOT NULL,
    recipient       TEXT NOT NULL,               -- referrer, survivor, cro, landlord, contractor
    path            TEXT,
    sha256          TEXT NOT NULL,
    made_at         TEXT NOT NULL,
    made_by         TEXT NOT NULL,
    override_reason TEXT
);
CREATE INDEX letters_case ON letters (case_id);

-- A scheme's own letter templates (the defaults ship in thcli/templates/).
CREATE TABLE letter_templates (
    kind     TEXT PRIMARY KEY,
    filename TEXT NOT NULL,
    content  BLOB NOT NULL,
    sha256   TEXT NOT NULL,
    set_at   TEXT NOT NULL,
    set_by   TEXT NOT NULL
);

-- The audit log: who did what to which case, when. No personal values.
-- Each row's hash covers the previous row's hash, so a removed or altered
-- row shows (thcli db check / thcli audit --verify).
CREATE TABLE audit (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    by        TEXT NOT NULL,
    action    TEXT NOT NULL,
    ref       TEXT,
    detail    TEXT NOT NULL DEFAULT '',
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX audit_ref ON audit (ref);
CREATE INDEX audit_at ON audit (at);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
