-- Vault key lifecycle: which keys exist, which one seals, which are retired, and how many values
-- each has sealed. AES-GCM with random 96-bit IVs is bounded to 2^32 seals per key (NIST SP 800-38D
-- §8.3); seal_count is what `switchboard doctor --security` and `keys status` compare to the budget.
-- No key material is stored here: keys live in VAULT_KEYS only.
CREATE TABLE vault_keys (
  key_id        text PRIMARY KEY CHECK (key_id ~ '^[A-Za-z0-9_-]{1,32}$'),
  state         text NOT NULL DEFAULT 'decrypt_only' CHECK (state IN ('active', 'decrypt_only', 'retired')),
  -- Seals counted by every process (flushed every few seconds and at shutdown), re-seals by rotation included.
  seal_count    bigint NOT NULL DEFAULT 0 CHECK (seal_count >= 0),
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  activated_at  timestamptz,
  retired_at    timestamptz,
  updated_at    timestamptz NOT NULL DEFAULT now()
);
