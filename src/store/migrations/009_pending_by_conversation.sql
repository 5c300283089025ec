-- The per-conversation queue cap counts a conversation's unanswered inbound events on every
-- message (bounded: it stops at the cap). This partial index keeps that count proportional to
-- the conversation's own backlog instead of every pending event in the database.
CREATE INDEX inbound_events_pending_by_conversation_idx
  ON inbound_events (conversation_id)
  WHERE status IN ('queued', 'processing');
