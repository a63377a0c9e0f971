-- oauthd schema: the one source of the schema. src/store/mod.rs embeds this file.
-- Each "-- version N" section upgrades a database from version N-1 to N and ends by setting
-- PRAGMA user_version = N; a new database runs every section in order, an existing one only
-- those after its user_version. Append new sections; never edit one that has been released.
-- Every credential (client secret, code, token, session id) is stored as its SHA-256 only.

-- version 1: users, groups, applications, grants and tokens

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    email         TEXT    NOT NULL DEFAULT '',
    password_hash TEXT    NOT NULL,           -- argon2id PHC string
    is_admin      INTEGER NOT NULL DEFAULT 0,
    is_active     INTEGER NOT NULL DEFAULT 1,
    created       INTEGER NOT NULL            -- unix seconds
);

CREATE TABLE groups (
    id   INTEGER PRIMARY KEY,
    name TEXT    NOT NULL UNIQUE
);

CREATE TABLE user_groups (
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, group_id)
);
CREATE INDEX user_groups_group ON user_groups (group_id);

CREATE TABLE applications (
    id                 INTEGER PRIMARY KEY,
    client_id          TEXT    NOT NULL UNIQUE,
    client_secret_hash BLOB,                  -- NULL for public clients
    name               TEXT    NOT NULL,
    client_type        TEXT    NOT NULL CHECK (client_type IN ('confidential', 'public')),
    grant_types        TEXT    NOT NULL,      -- space-separated wire names
    redirect_uris      TEXT    NOT NULL DEFAULT '',  -- space-separated, as in DOT
    allowed_scopes     TEXT,                  -- space-separated; NULL: every configured scope
    skip_authorization INTEGER NOT NULL DEFAULT 0,
    enabled            INTEGER NOT NULL DEFAULT 1,
    owner_id           INTEGER REFERENCES users (id) ON DELETE CASCADE,
    created            INTEGER NOT NULL
);
CREATE INDEX applications_owner ON applications (owner_id);

-- One row per original authorization: every token issued from it, through any
-- number of refreshes, carries its id, so a family can be revoked as one.
CREATE TABLE grants (
    id             INTEGER PRIMARY KEY,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id        INTEGER REFERENCES users (id) ON DELETE CASCADE,  -- NULL: client_credentials
    scope          TEXT    NOT NULL,          -- what the resource owner granted
    created        INTEGER NOT NULL
);
CREATE INDEX grants_application ON grants (application_id);
CREATE INDEX grants_user ON grants (user_id);

CREATE TABLE access_tokens (
    id         INTEGER PRIMARY KEY,
    token_hash BLOB    NOT NULL UNIQUE,
    grant_id   INTEGER NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    scope      TEXT    NOT NULL,
    created    INTEGER NOT NULL,
    expires    INTEGER NOT NULL
);
CREATE INDEX access_tokens_grant ON access_tokens (grant_id);
CREATE INDEX access_tokens_expires ON access_tokens (expires);

CREATE TABLE refresh_tokens (
    id              INTEGER PRIMARY KEY,
    token_hash      BLOB    NOT NULL UNIQUE,
    grant_id        INTEGER NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    access_token_id INTEGER REFERENCES access_tokens (id) ON DELETE SET NULL,
    created         INTEGER NOT NULL,
    revoked         INTEGER                   -- unix seconds; NULL while live
);
CREATE INDEX refresh_tokens_grant ON refresh_tokens (grant_id);
CREATE INDEX refresh_tokens_access ON refresh_tokens (access_token_id);

PRAGMA user_version = 1;

-- version 2: browser sessions, for login and CSRF
CREATE TABLE sessions (
    id         INTEGER PRIMARY KEY,
    id_hash    BLOB    NOT NULL UNIQUE,       -- SHA-256 of the cookie value
    user_id    INTEGER REFERENCES users (id) ON DELETE CASCADE,  -- NULL before login
    csrf_token TEXT    NOT NULL,              -- compared in constant time to the form's
    created    INTEGER NOT NULL,
    expires    INTEGER NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires);
CREATE INDEX sessions_user ON sessions (user_id);

PRAGMA user_version = 2;

-- version 3: authorization codes
CREATE TABLE authorization_codes (
    id                    INTEGER PRIMARY KEY,
    code_hash             BLOB    NOT NULL UNIQUE,
    application_id        INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id               INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri          TEXT    NOT NULL,   -- where the code was sent
    redirect_uri_given    INTEGER NOT NULL,   -- the request named it, so the exchange must too
    scope                 TEXT    NOT NULL,
    code_challenge        TEXT,
    code_challenge_method TEXT,
    created               INTEGER NOT NULL,
    expires               INTEGER NOT NULL,
    used                  INTEGER,            -- unix seconds of the exchange; NULL while unused
    grant_id              INTEGER REFERENCES grants (id) ON DELETE SET NULL  -- what it was exchanged for
);
CREATE INDEX authorization_codes_expires ON authorization_codes (expires);
CREATE INDEX authorization_codes_application ON authorization_codes (application_id);

PRAGMA user_version = 3;

-- version 4: self-service. `enabled` becomes the owner's switch and `disabled_by_admin` the
-- administrator's, which only an administrator lifts; an app is usable when both allow it and
-- its owner is active. Until now only administrators (the CLI) disabled apps.
ALTER TABLE applications ADD COLUMN disabled_by_admin INTEGER NOT NULL DEFAULT 0;
UPDATE applications SET disabled_by_admin = 1, enabled = 1 WHERE NOT enabled;

-- A disabled user is signed out everywhere, at once and for good: enabling them again does not
-- bring back a session that someone else may hold.
CREATE TRIGGER users_disabled_end_sessions AFTER UPDATE OF is_active ON users
WHEN NOT NEW.is_active
BEGIN
    DELETE FROM sessions WHERE user_id = NEW.id;
END;

PRAGMA user_version = 4;

-- version 5: OpenID Connect.
-- Every user gets a subject (the id_token's `sub`): random, unique and never reassigned, unlike
-- the username (which can change) and the row id (which SQLite may reuse after a delete).
ALTER TABLE users ADD COLUMN subject TEXT;
UPDATE users SET subject = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX users_subject ON users (subject);
CREATE TRIGGER users_new_subject AFTER INSERT ON users
WHEN NEW.subject IS NULL
BEGIN
    UPDATE users SET subject = lower(hex(randomblob(16))) WHERE id = NEW.id;
END;
-- The display name for the `profile` scope's `name` claim; empty when unknown.
ALTER TABLE users ADD COLUMN name TEXT NOT NULL DEFAULT '';
-- Whether `email` was set by an administrator or the CLI (the `email_verified` claim). An
-- address from before cannot say who set it (POST /users/ took the caller's word), so it
-- counts as unverified: relying parties may link accounts by a verified address.
ALTER TABLE users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0;

-- When the session's user last proved who they are (password), for max_age and `auth_time`.
ALTER TABLE sessions ADD COLUMN auth_time INTEGER;
UPDATE sessions SET auth_time = created WHERE user_id IS NOT NULL;

-- The OpenID parts of an authorization request, kept with its code until the exchange.
ALTER TABLE authorization_codes ADD COLUMN nonce TEXT;
ALTER TABLE authorization_codes ADD COLUMN auth_time INTEGER;
-- ... and with the grant, so that a refresh's id_token carries the original auth_time.
ALTER TABLE grants ADD COLUMN auth_time INTEGER;

-- RP-initiated logout: where an app may send the browser after logout, space-separated.
ALTER TABLE applications ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '';

-- The public halves of the id_token signing keys. The private halves are never stored here:
-- they live in the key file next to the database (mode 0600). The current key (retired NULL)
-- signs; a retired key stays published in the JWKS until the id_tokens it signed expired.
CREATE TABLE signing_keys (
    kid        TEXT    PRIMARY KEY,
    alg        TEXT    NOT NULL,
    public_jwk TEXT    NOT NULL,              -- the JWK as the JWKS serves it
    created    INTEGER NOT NULL,
    retired    INTEGER                        -- unix seconds; NULL for the current key
);
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys ((retired IS NULL))
    WHERE retired IS NULL;

PRAGMA user_version = 5;

-- version 6: a grace period for retried refreshes. A refresh token retired by rotation names
-- the token that replaced it; one revoked (RFC 7009, a family revocation, a superseded retry)
-- names none. Tokens retired before this version name none, so they get no grace. Not a
-- foreign key, and no index: a successor the sweep removed leaves a number that the lookup
-- only accepts for a live token of the same grant, and every rotation stays one index lighter
-- (refresh with rotation ran 16 % slower with the foreign key and its index).
ALTER TABLE refresh_tokens ADD COLUMN successor_id INTEGER;

PRAGMA user_version = 6;

-- version 7: usernames are unique regardless of case (SQLite's NOCASE: ASCII letters), so that
-- `alice` and `Alice` cannot both exist. A UNIQUE index would make this migration fail on a
-- database that already holds such a pair, so triggers refuse new clashes instead and oauthd
-- reports the old ones at start-up, for an administrator to resolve (`oauthd user remove`).
CREATE INDEX users_username_nocase ON users (username COLLATE NOCASE);
CREATE TRIGGER users_username_unique_on_insert BEFORE INSERT ON users
WHEN EXISTS (SELECT 1 FROM users WHERE username = NEW.username COLLATE NOCASE)
BEGIN
    SELECT RAISE(ABORT, 'username taken');
END;
CREATE TRIGGER users_username_unique_on_update BEFORE UPDATE OF username ON users
WHEN EXISTS (SELECT 1 FROM users WHERE username = NEW.username COLLATE NOCASE AND id <> NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'username taken');
END;

PRAGMA user_version = 7;

-- version 8: public ids. The pages and their forms name applications and grants by a public id,
-- not the bare row id, which SQLite hands out again once the newest row is deleted: a button on
-- a stale page must not act on a newer record that got the old number. A public id is the row
-- id and a random 64-bit salt kept with the row, as 32 hex digits: the row id finds the row
-- through its primary key (no index to keep up), and the salt tells it from a later row that
-- got the same id. The salt is drawn when a row is inserted without one.
ALTER TABLE applications ADD COLUMN salt INTEGER;
UPDATE applications SET salt = random();
CREATE TRIGGER applications_new_salt AFTER INSERT ON applications
WHEN NEW.salt IS NULL
BEGIN
    UPDATE applications SET salt = random() WHERE id = NEW.id;
END;

ALTER TABLE grants ADD COLUMN salt INTEGER;
UPDATE grants SET salt = random();
CREATE TRIGGER grants_new_salt AFTER INSERT ON grants
WHEN NEW.salt IS NULL
BEGIN
    UPDATE grants SET salt = random() WHERE id = NEW.id;
END;

PRAGMA user_version = 8;

-- version 9: remembered consent. A user who ticks "Remember this decision" on the consent page
-- is not asked again by that application for these scopes (or fewer) until they forget it on
-- the authorized-tokens page; it goes with the user or the application.
CREATE TABLE remembered_consents (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused (stale Forget buttons)
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    scope          TEXT    NOT NULL,          -- space-separated, sorted
    created        INTEGER NOT NULL,
    UNIQUE (user_id, application_id, scope)
);
CREATE INDEX remembered_consents_application ON remembered_consents (application_id);

PRAGMA user_version = 9;

-- version 10: dynamic client registration (RFC 7591). An application a client registered itself
-- at the registration endpoint is marked, so that the admin page can tell it from one a person
-- made. In the `token` mode a registration needs an initial access token (RFC 7591 §3), made with
-- `oauthd registration-token add`: only its SHA-256 is kept, with how many registrations it has
-- left (NULL: any number) and when it expires (NULL: never). Ids are never reused, so a
-- `registration-token remove ID` typed from an old listing cannot hit a newer token.
ALTER TABLE applications ADD COLUMN dynamically_registered INTEGER NOT NULL DEFAULT 0;

CREATE TABLE registration_tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash BLOB    NOT NULL UNIQUE,
    uses_left  INTEGER CHECK (uses_left >= 0),  -- NULL: unlimited
    expires    INTEGER,                         -- NULL: never
    created    INTEGER NOT NULL
);

PRAGMA user_version = 10;

-- version 11: device authorization (RFC 8628). A device asks for a code pair and polls the token
-- endpoint while its user types the user code on /o/device/ and approves. The device code is
-- kept as its SHA-256; the user code as the SHA-256 of its normal form (eight upper-case
-- letters, no dash), unique, so that what the user types finds exactly one row. A row is
-- pending until its user decides; a used one keeps the grant it gave, to revoke on a replay.
CREATE TABLE device_codes (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    device_code_hash BLOB    NOT NULL UNIQUE,
    user_code_hash   BLOB    NOT NULL UNIQUE,
    application_id   INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    scope            TEXT    NOT NULL,          -- asked for, then approved
    resources        TEXT,                      -- RFC 8707 resources asked for; NULL: none
    interval         INTEGER NOT NULL,          -- seconds between polls at first (the pace is kept in memory)
    status           TEXT    NOT NULL DEFAULT 'pending'
                             CHECK (status IN ('pending', 'approved', 'denied')),
    user_id          INTEGER REFERENCES users (id) ON DELETE CASCADE,  -- who decided
    auth_time        INTEGER,                   -- when they last authenticated
    created          INTEGER NOT NULL,
    expires          INTEGER NOT NULL,
    used             INTEGER,
    grant_id         INTEGER REFERENCES grants (id) ON DELETE SET NULL  -- what it was exchanged for
);
CREATE INDEX device_codes_application ON device_codes (application_id);
CREATE INDEX device_codes_user ON device_codes (user_id);
CREATE INDEX device_codes_expires ON device_codes (expires);
CREATE INDEX device_codes_grant ON device_codes (grant_id);

PRAGMA user_version = 11;

-- version 12: allowed origins (CORS). The web origins whose pages may read the answers of the
-- token, revocation, introspection, userinfo and resource endpoints, as browsers send them
-- (scheme://host[:port]). A request with an Origin header asks "has some usable app registered
-- this origin?": one probe of the index on origin.
CREATE TABLE app_origins (
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    origin         TEXT    NOT NULL,
    created        INTEGER NOT NULL,
    UNIQUE (application_id, origin)             -- also lists an app's origins, in order
);
CREATE INDEX app_origins_origin ON app_origins (origin);

PRAGMA user_version = 12;

-- version 13: resource indicators (RFC 8707). An application may be limited to a list of
-- resources (space-separated absolute URIs; empty: any resource). A code keeps the resources
-- its authorization request named, a grant those the user authorized (or, without a code, the
-- token request named), an access token its audience: the grant's, or fewer. NULL: none named.
-- Plain columns, so issuing and introspecting a token costs no extra query.
ALTER TABLE applications ADD COLUMN allowed_resources TEXT NOT NULL DEFAULT '';
ALTER TABLE authorization_codes ADD COLUMN resources TEXT;
ALTER TABLE grants ADD COLUMN resources TEXT;
ALTER TABLE access_tokens ADD COLUMN resources TEXT;

PRAGMA user_version = 13;
