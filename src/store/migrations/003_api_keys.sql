-- API keys for agents and integrations. The secret is never stored: only HMAC-SHA-256(server key,
-- token). `public_id` is the non-secret part of the token, used to find the row and to label it.
CREATE TABLE api_keys (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id         uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  public_id         text NOT NULL UNIQUE CHECK (public_id ~ '^[0-9a-f]{16}$'),
  secret_hash       bytea NOT NULL CHECK (octet_length(secret_hash) = 32),
  name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  -- The role the key acts with; its effective permissions are the role's ∩ `scopes`.
  role              text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'agent', 'auditor')),
  scopes            text[] NOT NULL CHECK (cardinality(scopes) BETWEEN 1 AND 64),
  -- NULL: no conversation restriction beyond the role's; otherwise only these conversations.
  conversation_ids  uuid[] CHECK (conversation_ids IS NULL OR cardinality(conversation_ids) BETWEEN 1 AND 100),
  -- The user the key acts as (agent keys act as their agent user); disabled users' keys stop working.
  user_id           uuid REFERENCES users (id) ON DELETE CASCADE,
  created_by        uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at        timestamptz NOT NULL,
  expires_at        timestamptz,
  -- When the key stops working: now on revocation, or the end of the overlap after a rotation.
  revoked_at        timestamptz,
  last_used_at      timestamptz,
  rotated_from      uuid REFERENCES api_keys (id) ON DELETE SET NULL,
  replaced_by       uuid REFERENCES api_keys (id) ON DELETE SET NULL,
  CHECK (expires_at IS NULL OR expires_at > created_at)
);
CREATE INDEX api_keys_tenant_created_idx ON api_keys (tenant_id, created_at DESC, id DESC);
CREATE INDEX api_keys_user_idx ON api_keys (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX api_keys_created_by_idx ON api_keys (created_by) WHERE created_by IS NOT NULL;

-- The audit read API (GET /api/v1/audit) pages a tenant's rows newest first by id.
CREATE INDEX IF NOT EXISTS audit_log_tenant_id_idx ON audit_log (tenant_id, id DESC);
