"""Reports (SPEC §7) and parent letters: computed once from a `Snapshot`, rendered as text, xlsx, PNG, PDF."""
