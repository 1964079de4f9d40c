-- Who a coaching message was for: a JSON list of the agents in the chat
-- when it was written (empty for messages everyone sees, and for coaching
-- written before this column, which only supervisors read).
ALTER TABLE chat_messages ADD COLUMN audience TEXT NOT NULL DEFAULT '[]';

-- The chats an agent wrote in, which it may read after a transfer.
CREATE INDEX chat_messages_by_agent ON chat_messages (from_id, session_id) WHERE from_role = 'agent';
