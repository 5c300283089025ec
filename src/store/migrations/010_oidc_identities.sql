-- Sign in with Google (OpenID Connect) and GitHub (OAuth2): the identities linked to users, the
-- sign-ins in flight (single-use state, then a one-time hand-off to the page), and the tenant's
-- auto-provisioning policy. No secret is stored: the flow keeps SHA-256 digests only.

-- A provider account linked to a user. Linked once through a verified email; later sign-ins find
-- the user by (provider, subject) and never by email again.
CREATE TABLE oauth_identities (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id      uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  provider       text NOT NULL CHECK (provider IN ('google', 'github')),
  -- Google's `sub`, GitHub's numeric user id: stable for the account, unlike its email.
  subject        text NOT NULL CHECK (length(subject) BETWEEN 1 AND 255),
  -- The verified email that linked it (shown to admins; never used to find the user again).
  email          text NOT NULL CHECK (length(email) BETWEEN 3 AND 320),
  created_at     timestamptz NOT NULL,
  last_login_at  timestamptz NOT NULL,
  UNIQUE (tenant_id, provider, subject),
  -- One account per provider per user: a second Google account with the same email is refused.
  UNIQUE (user_id, provider)
);
CREATE INDEX oauth_identities_subject_idx ON oauth_identities (provider, subject);

-- One started sign-in. The browser holds a random binding secret in an HttpOnly cookie; state,
-- nonce and PKCE verifier are derived from it, and only SHA-256(state) is stored here. The state
-- is spent once (callback_at); a successful callback then records who was proved and the digest
-- of a one-time hand-off secret the page exchanges (completed_at) for the usual sign-in answer.
CREATE TABLE oidc_flows (
  state_hash          bytea PRIMARY KEY CHECK (octet_length(state_hash) = 32),
  provider            text NOT NULL CHECK (provider IN ('google', 'github')),
  tenant_slug         text CHECK (tenant_slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  created_at          timestamptz NOT NULL,
  expires_at          timestamptz NOT NULL,
  callback_at         timestamptz,
  user_id             uuid REFERENCES users (id) ON DELETE CASCADE,
  handoff_hash        bytea UNIQUE CHECK (octet_length(handoff_hash) = 32),
  handoff_expires_at  timestamptz,
  completed_at        timestamptz,
  CHECK (expires_at > created_at),
  CHECK ((handoff_hash IS NULL) = (handoff_expires_at IS NULL)),
  CHECK (handoff_hash IS NULL OR (user_id IS NOT NULL AND callback_at IS NOT NULL))
);
CREATE INDEX oidc_flows_expiry_idx ON oidc_flows (expires_at);

-- Verified emails in these domains may create a member account in this tenant at their first
-- Google/GitHub sign-in. Empty (the default): nobody is auto-provisioned.
ALTER TABLE tenants
  ADD COLUMN oidc_auto_provision_domains text[] NOT NULL DEFAULT '{}'
  CHECK (cardinality(oidc_auto_provision_domains) <= 50);
