"""The catalog domain: pure Python rules, no HTTP, SQL or Kafka.

- common: normalised text for search and comparison, the checks every form shares
- providers: education institutions, their registration and its deadline, signed documents, users,
  implementation locations, and what the state registers say about an institution
- programmes: programmes, the versioned cost coefficient table and the cost computation, publication
  under the cooperation agreements
- groups: study groups and their places, learners' study progress and its state machine
- catalogue: the public catalogue's query, its page of a programme, ratings

Validation collects every violation it can find, so that a provider sees all the mistakes of a form
at once (the agency's list of the most common errors), each naming the field and the rule.
"""
