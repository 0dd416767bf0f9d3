"""The accounts service: learning accounts and everything owned by the learner's account."""
