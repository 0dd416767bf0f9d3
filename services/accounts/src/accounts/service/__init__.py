"""Use cases of the accounts service: one function per command, each in one unit of work.

- accounts: opening an account, the profile, DigComp self-assessments
- projects: funding projects and their live budgets
- applications: submitting, deciding, withdrawing, allocating, lapsing; the learner's eligibility; the grant ledger
- studies: enrolment and the study record
- learning_needs: calls' approved learning needs per funding project (a read model)
- outbox: the events the aggregates collected, recorded as the published contracts

A use case loads aggregates through `accounts.db`, lets the domain change them, and writes each changed
aggregate with what it collected (ledger entries, events) in the same transaction.
"""
