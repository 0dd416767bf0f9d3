"""The pages, by audience: the public's, sign-in, the learner's."""
