-- Sign-in sessions with rotating refresh tokens, TOTP two-factor, recovery codes, the one-time
-- second-step (mfa) tokens, and the tenant's 2FA policy. Secrets are stored hashed or sealed only.

-- One row per sign-in. A refresh keeps the session (so its sockets and its line in "my sessions"
-- stay) and replaces its refresh token; revoking a family revokes every session that shares it.
CREATE TABLE sessions (
  id                   uuid PRIMARY KEY,
  tenant_id            uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  user_id              uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  family_id            uuid NOT NULL,
  -- How the person proved who they are: a password alone, or a password and a second factor.
  auth_method          text NOT NULL CHECK (auth_method IN ('password', 'password+totp', 'password+recovery_code', 'oidc', 'oidc+totp', 'oidc+recovery_code')),
  created_at           timestamptz NOT NULL,
  last_used_at         timestamptz NOT NULL,
  idle_expires_at      timestamptz NOT NULL,
  absolute_expires_at  timestamptz NOT NULL,
  revoked_at           timestamptz,
  revoked_reason       text CHECK (revoked_reason IN ('logout', 'logout_all', 'refresh_reuse', 'admin', 'user_disabled', 'two_factor_reset', 'policy', 'account_deleted')),
  ip                   text CHECK (length(ip) <= 100),
  user_agent           text CHECK (length(user_agent) <= 500),
  CHECK (idle_expires_at <= absolute_expires_at),
  CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
);
CREATE INDEX sessions_user_live_idx ON sessions (user_id) WHERE revoked_at IS NULL;
CREATE INDEX sessions_family_idx ON sessions (family_id);
CREATE INDEX sessions_tenant_time_idx ON sessions (tenant_id, created_at DESC);
-- For pruning expired and revoked sessions (the maintenance job).
CREATE INDEX sessions_absolute_expiry_idx ON sessions (absolute_expires_at);

-- Every refresh token ever issued for a session, by SHA-256 of the token (the token itself is never
-- stored). `rotated_at` set means "already used": presenting it again is reuse.
CREATE TABLE refresh_tokens (
  token_hash   bytea PRIMARY KEY CHECK (octet_length(token_hash) = 32),
  session_id   uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  family_id    uuid NOT NULL,
  generation   integer NOT NULL CHECK (generation >= 0),
  created_at   timestamptz NOT NULL,
  rotated_at   timestamptz,
  UNIQUE (session_id, generation)
);

-- A user's TOTP secret, sealed by the vault (AAD: user_totp|secret_sealed|<user id>).
-- enabled_at NULL: enrolment started, not yet confirmed with a code.
CREATE TABLE user_totp (
  user_id          uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  secret_sealed    bytea NOT NULL,
  created_at       timestamptz NOT NULL,
  enabled_at       timestamptz,
  -- RFC 6238 §5.2: the last time step accepted; any step <= it is refused (a code works once).
  last_used_step   bigint CHECK (last_used_step >= 0),
  -- Failed attempts inside the sliding window, and the lockout they caused.
  recent_failures  timestamptz[] NOT NULL DEFAULT '{}',
  locked_until     timestamptz
);

-- Single-use recovery codes (>= 120 random bits each, so SHA-256 is an adequate hash, ASVS 6.5.2).
CREATE TABLE recovery_codes (
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_hash   bytea NOT NULL CHECK (octet_length(code_hash) = 32),
  created_at  timestamptz NOT NULL,
  used_at     timestamptz,
  PRIMARY KEY (user_id, code_hash)
);

-- The second sign-in step's tokens (JWT typ sb-mfa+jwt): the jti is consumed here exactly once.
CREATE TABLE mfa_challenges (
  jti         uuid PRIMARY KEY,
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- How the first factor was proved, so the session records e.g. 'password+totp'.
  primary_method  text NOT NULL CHECK (primary_method IN ('password', 'oidc')),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);
CREATE INDEX mfa_challenges_expiry_idx ON mfa_challenges (expires_at);

-- Roles that must use two-factor sign-in in this tenant (e.g. '{owner,admin}').
ALTER TABLE tenants
  ADD COLUMN require_2fa_roles text[] NOT NULL DEFAULT '{}'
  CHECK (require_2fa_roles <@ ARRAY['owner', 'admin', 'member', 'agent', 'auditor']::text[]);
