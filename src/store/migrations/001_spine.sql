-- The spine: tenants, people, conversations, inbound events, messages, the outbox and the audit log.
CREATE EXTENSION IF NOT EXISTS pgcrypto;

CREATE TABLE tenants (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  pii_action  text NOT NULL DEFAULT 'redact' CHECK (pii_action IN ('log', 'redact', 'block')),
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id      uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  email          text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 320),
  display_name   text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
  password_hash  text,
  role           text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'agent', 'auditor')),
  created_at     timestamptz NOT NULL DEFAULT now(),
  disabled_at    timestamptz,
  UNIQUE (tenant_id, email)
);
CREATE INDEX users_email_idx ON users (email);

CREATE TABLE conversations (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id         uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  platform          text NOT NULL,
  installation_id   text NOT NULL,
  conversation_key  text NOT NULL,
  channel_id        text NOT NULL,
  thread_id         text,
  kind              text NOT NULL CHECK (kind IN ('dm', 'group', 'channel', 'email-thread')),
  created_at        timestamptz NOT NULL DEFAULT now(),
  last_message_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, conversation_key)
);

CREATE TABLE participants (
  conversation_id   uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  platform_user_id  text NOT NULL,
  user_id           uuid REFERENCES users (id) ON DELETE SET NULL,
  display_name      text NOT NULL,
  is_agent          boolean NOT NULL DEFAULT false,
  joined_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (conversation_id, platform_user_id)
);
CREATE INDEX participants_user_idx ON participants (user_id) WHERE user_id IS NOT NULL;

-- One row per platform delivery we accepted. The UNIQUE key is the inbound dedupe (invariant 1).
CREATE TABLE inbound_events (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  platform           text NOT NULL,
  installation_id    text NOT NULL,
  platform_event_id  text NOT NULL,
  conversation_id    uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  status             text NOT NULL DEFAULT 'queued'
                       CHECK (status IN ('queued', 'processing', 'answered', 'ignored', 'failed')),
  attempts           integer NOT NULL DEFAULT 0,
  last_error_code    text,
  received_at        timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (platform, installation_id, platform_event_id)
);
-- The sweeper's scan: non-terminal events by age.
CREATE INDEX inbound_events_pending_idx ON inbound_events (updated_at) WHERE status IN ('queued', 'processing');

CREATE TABLE messages (
  id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id             uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  conversation_id       uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  direction             text NOT NULL CHECK (direction IN ('in', 'out')),
  inbound_event_id      uuid REFERENCES inbound_events (id) ON DELETE SET NULL,
  -- For replies: the inbound event answered. UNIQUE below makes "one reply per event" a fact.
  reply_to_event_id     uuid REFERENCES inbound_events (id) ON DELETE SET NULL,
  platform_message_id   text,
  client_message_id     text,
  author_platform_id    text NOT NULL,
  author_user_id        uuid REFERENCES users (id) ON DELETE SET NULL,
  author_display_name   text NOT NULL,
  -- Always the redacted form: what every reader and the LLM (by default) sees.
  text_redacted         text NOT NULL,
  -- The original text, only when it held PII: AES-256-GCM sealed by the vault (AAD: messages|original_sealed|id).
  original_sealed       bytea,
  pii_findings          jsonb NOT NULL DEFAULT '[]'::jsonb,
  pii_level             text NOT NULL DEFAULT 'public' CHECK (pii_level IN ('public', 'internal', 'sensitive', 'restricted')),
  pii_action            text NOT NULL DEFAULT 'redact' CHECK (pii_action IN ('log', 'redact', 'block')),
  sanitizer_changes     jsonb NOT NULL DEFAULT '[]'::jsonb,
  verified_by           text NOT NULL,
  created_at            timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX messages_one_reply_per_event ON messages (reply_to_event_id) WHERE reply_to_event_id IS NOT NULL;
CREATE UNIQUE INDEX messages_inbound_event_idx ON messages (inbound_event_id) WHERE inbound_event_id IS NOT NULL;
CREATE INDEX messages_conversation_time_idx ON messages (conversation_id, created_at DESC);

-- A reply is written here before it is sent (invariant 7).
CREATE TABLE outbox (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id            uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  message_id           uuid NOT NULL UNIQUE REFERENCES messages (id) ON DELETE CASCADE,
  conversation_id      uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  platform             text NOT NULL,
  status               text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'dead')),
  attempts             integer NOT NULL DEFAULT 0,
  last_error_code      text,
  platform_message_id  text,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  sent_at              timestamptz
);
CREATE INDEX outbox_unsent_idx ON outbox (updated_at) WHERE status IN ('pending', 'sending', 'failed');

-- Append-only record of security-relevant events: ids, types and counts, never message text or secrets.
CREATE TABLE audit_log (
  id           bigserial PRIMARY KEY,
  tenant_id    uuid REFERENCES tenants (id) ON DELETE SET NULL,
  at           timestamptz NOT NULL DEFAULT now(),
  actor_type   text NOT NULL CHECK (actor_type IN ('user', 'system', 'platform', 'api_key')),
  actor_id     text,
  action       text NOT NULL,
  target_type  text,
  target_id    text,
  ip           text,
  user_agent   text,
  details      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_tenant_time_idx ON audit_log (tenant_id, at DESC);

-- One-time WebSocket tickets: the JWT's jti is consumed here exactly once.
CREATE TABLE ws_tickets (
  jti         uuid PRIMARY KEY,
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);
CREATE INDEX ws_tickets_expiry_idx ON ws_tickets (expires_at);
