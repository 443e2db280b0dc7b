-- Who spoke each journalled turn: the caller, or the agent on the call (whose speech is
-- transcribed too, for the recording's transcript and the call's record). Turns journalled
-- before this migration were all the caller's.
ALTER TABLE call_turns ADD COLUMN speaker TEXT NOT NULL DEFAULT 'caller';
