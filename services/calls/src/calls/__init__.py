"""The calls service: calls to education institutions (timeline, phase clock, criteria, learning needs) and the
offers institutions make to them (three-step drafts, attachments, every check at once, frozen versions)."""
