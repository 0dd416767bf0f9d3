"""Use cases of the catalog service: one function per command, each in one unit of work.

- providers: documents, registration and the agency's decision, the institution's users and locations,
  the registers' extract for other services; who may act for an institution
- programmes: the coefficient table, programmes, publication by calls' cooperation agreements
- groups: study groups, enrolments (accounts' events) and the learners' study progress
- catalogue: the public search and programme page, the ratings read model

Who may act for an institution comes from catalog's own membership table (a user belongs to one
institution): another institution's drafts, groups and learners are simply not found. Agency roles
come from the token and are checked by the API.
"""
