"""The clips app's services: clips (creating, editing, deleting), uploads (chunked, resumable)
and quota (every move of a user's storage counters)."""
