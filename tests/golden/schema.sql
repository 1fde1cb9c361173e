-- index addresses_client
CREATE INDEX addresses_client ON addresses (client_id);

-- index addresses_postcode_key
CREATE INDEX addresses_postcode_key ON addresses (postcode_key);

-- index audit_at
CREATE INDEX audit_at ON audit (at);

-- index audit_ref
CREATE INDEX audit_ref ON audit (ref);

-- index cases_client
CREATE INDEX cases_client ON cases (client_id);

-- index cases_district
CREATE INDEX cases_district ON cases (district, received_on);

-- index cases_next_due
CREATE INDEX cases_next_due ON cases (next_due_on) WHERE next_due_on IS NOT NULL;

-- index cases_received
CREATE INDEX cases_received ON cases (received_on);

-- index cases_status
CREATE INDEX cases_status ON cases (status, received_on);

-- index clients_dob
CREATE INDEX clients_dob ON clients (dob);

-- index clients_name_key
CREATE INDEX clients_name_key ON clients (name_key);

-- index consents_case
CREATE INDEX consents_case ON consents (case_id, scope);

-- index eligibility_overrides_case
CREATE INDEX eligibility_overrides_case ON eligibility_overrides (case_id, rule);

-- index events_case
CREATE INDEX events_case ON events (case_id, id);

-- index followups_case
CREATE INDEX followups_case ON followups (case_id);

-- index funds_year
CREATE INDEX funds_year ON funds (year);

-- index idx__sqlite_migrations_migration_set_name
CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name");

-- index ledger_case
CREATE INDEX ledger_case ON ledger (case_id);

-- index ledger_fund
CREATE INDEX ledger_fund ON ledger (fund_id, kind);

-- index ledger_line
CREATE INDEX ledger_line ON ledger (line_id);

-- index letters_case
CREATE INDEX letters_case ON letters (case_id);

-- index measure_lines_status
CREATE INDEX measure_lines_status ON measure_lines (status, code);

-- index stock_item_holder
CREATE INDEX stock_item_holder ON stock_movements (item, holder);

-- index subject_access_files_case
CREATE INDEX subject_access_files_case ON subject_access_files (case_id);

-- index surveys_case
CREATE INDEX surveys_case ON surveys (case_id);

-- table _sqlite_migrations
CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
);

-- table addresses
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

-- table assessor_details
CREATE TABLE assessor_details (
        list    TEXT NOT NULL DEFAULT 'assessor' CHECK (list = 'assessor'),
        code    TEXT NOT NULL PRIMARY KEY,
        kind    TEXT NOT NULL CHECK (kind IN ('police', 'scheme', 'contractor')),
        address TEXT,
        email   TEXT,
        phone   TEXT,
        FOREIGN KEY (list, code) REFERENCES codes (list, code)
    );

-- table audit
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

-- table case_repeats
CREATE TABLE case_repeats (
    case_id         INTEGER NOT NULL REFERENCES cases (id),
    earlier_case_id INTEGER NOT NULL REFERENCES cases (id),
    PRIMARY KEY (case_id, earlier_case_id)
) WITHOUT ROWID;

-- table cases
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
, received_at TEXT, next_due_at TEXT, landlord_address TEXT, landlord_postcode TEXT);

-- table clients
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

-- table codes
CREATE TABLE codes (
    list        TEXT NOT NULL,
    code        TEXT NOT NULL,
    label       TEXT NOT NULL,
    retired     INTEGER NOT NULL DEFAULT 0 CHECK (retired IN (0, 1)),
    position    INTEGER NOT NULL DEFAULT 0,
    county_code TEXT,
    PRIMARY KEY (list, code)
) WITHOUT ROWID;

-- table consents
CREATE TABLE consents (
    id           INTEGER PRIMARY KEY,
    case_id      INTEGER NOT NULL REFERENCES cases (id),
    scope        TEXT NOT NULL CHECK (scope IN ('police', 'contractor', 'landlord', 'county')),
    given_on     TEXT NOT NULL,
    given_by     TEXT NOT NULL,
    withdrawn_on TEXT,
    withdrawn_by TEXT
);

-- table contacts
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

-- table contractor_details
CREATE TABLE contractor_details (
    list     TEXT NOT NULL DEFAULT 'contractor' CHECK (list = 'contractor'),
    code     TEXT NOT NULL PRIMARY KEY,
    in_house INTEGER NOT NULL DEFAULT 0 CHECK (in_house IN (0, 1)),
    address  TEXT,
    email    TEXT,
    phone    TEXT,
    FOREIGN KEY (list, code) REFERENCES codes (list, code)
);

-- table district_details
CREATE TABLE district_details (
    list       TEXT NOT NULL DEFAULT 'district' CHECK (list = 'district'),
    code       TEXT NOT NULL PRIMARY KEY,
    letterhead TEXT,
    address    TEXT,
    email      TEXT,
    phone      TEXT,
    FOREIGN KEY (list, code) REFERENCES codes (list, code)
);

-- table eligibility_overrides
CREATE TABLE eligibility_overrides (
        id      INTEGER PRIMARY KEY,
        case_id INTEGER NOT NULL REFERENCES cases (id),
        rule    TEXT NOT NULL,
        step    TEXT NOT NULL,
        reason  TEXT,
        at      TEXT NOT NULL,
        by      TEXT NOT NULL
    );

-- table events
CREATE TABLE events (
    id      INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id),
    at      TEXT NOT NULL,
    kind    TEXT NOT NULL,
    detail  TEXT NOT NULL DEFAULT '',
    by      TEXT NOT NULL
);

-- table followups
CREATE TABLE followups (
    id       INTEGER PRIMARY KEY,
    case_id  INTEGER NOT NULL REFERENCES cases (id),
    done_on  TEXT NOT NULL,
    outcome  TEXT NOT NULL,
    note     TEXT,
    by       TEXT NOT NULL,
    at       TEXT NOT NULL
, early_reason TEXT);

-- table funds
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

-- table ledger
CREATE TABLE "ledger" (
    id                INTEGER PRIMARY KEY,
    at                TEXT NOT NULL,
    on_date           TEXT NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN (
                          'allocation', 'contribution', 'commitment', 'release',
                          'payment', 'refund', 'correction', 'stock')),
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
    hash              TEXT NOT NULL,
    details_sha256    TEXT,
    redacted_on       TEXT
);

-- table letter_templates
CREATE TABLE letter_templates (
    kind     TEXT PRIMARY KEY,
    filename TEXT NOT NULL,
    content  BLOB NOT NULL,
    sha256   TEXT NOT NULL,
    set_at   TEXT NOT NULL,
    set_by   TEXT NOT NULL
);

-- table letters
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
, made_in TEXT);

-- table measure_catalogue
CREATE TABLE measure_catalogue (
    list            TEXT NOT NULL DEFAULT 'measure' CHECK (list = 'measure'),
    code            TEXT NOT NULL PRIMARY KEY,
    category        TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('equipment', 'works')),
    removable       INTEGER NOT NULL CHECK (removable IN (0, 1)),
    unit_cost_pence INTEGER NOT NULL CHECK (unit_cost_pence >= 0),
    FOREIGN KEY (list, code) REFERENCES codes (list, code)
);

-- table measure_lines
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

-- table perpetrators
CREATE TABLE perpetrators (
    case_id      INTEGER PRIMARY KEY REFERENCES cases (id),
    name         TEXT,
    relationship TEXT,
    whereabouts  TEXT,
    court_orders TEXT,
    notes        TEXT
);

-- table ref_counters
CREATE TABLE ref_counters (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);

-- table secrets
CREATE TABLE secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- table settings
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- table stock_movements
CREATE TABLE stock_movements (
    id       INTEGER PRIMARY KEY,
    at       TEXT NOT NULL,
    item     TEXT NOT NULL,                      -- a measure code
    holder   TEXT NOT NULL,                      -- a stock_holder code
    quantity INTEGER NOT NULL CHECK (quantity <> 0),
    case_id  INTEGER REFERENCES cases (id),
    line_id  INTEGER REFERENCES measure_lines (id),
    by       TEXT NOT NULL
, unit_cost_pence INTEGER CHECK (unit_cost_pence >= 0), fund_id INTEGER REFERENCES funds (id), cost_pence INTEGER CHECK (cost_pence >= 0));

-- table subject_access_files
CREATE TABLE subject_access_files (
        id       INTEGER PRIMARY KEY,
        case_id  INTEGER NOT NULL REFERENCES cases (id),
        path     TEXT NOT NULL,
        sha256   TEXT NOT NULL,
        made_in  TEXT,
        made_at  TEXT NOT NULL,
        made_by  TEXT NOT NULL
    );

-- table surveys
CREATE TABLE surveys (
    id           INTEGER PRIMARY KEY,
    case_id      INTEGER NOT NULL REFERENCES cases (id),
    surveyor     TEXT NOT NULL,
    requested_on TEXT,
    surveyed_on  TEXT,
    notes        TEXT,
    created_at   TEXT NOT NULL
, assessor TEXT);

-- trigger audit_no_delete
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

-- trigger audit_no_update
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

-- trigger ledger_no_delete
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN
    SELECT RAISE(ABORT, 'ledger entries are never deleted: add a correction');
END;

-- trigger ledger_no_update
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
WHEN NOT (old.redacted_on IS NULL AND new.redacted_on IS NOT NULL AND old.details_sha256 IS NOT NULL
          AND new.invoice IS NULL AND new.memo IS NULL
          AND new.id IS old.id AND new.at IS old.at AND new.on_date IS old.on_date AND new.kind IS old.kind
          AND new.amount_pence IS old.amount_pence AND new.fund_id IS old.fund_id
          AND new.case_id IS old.case_id AND new.line_id IS old.line_id AND new.contributor IS old.contributor
          AND new.pledged IS old.pledged AND new.corrects_id IS old.corrects_id AND new.by IS old.by
          AND new.details_sha256 IS old.details_sha256 AND new.prev_hash IS old.prev_hash
          AND new.hash IS old.hash)
BEGIN
    SELECT RAISE(ABORT, 'ledger entries are never changed: add a correction');
END;
