"""The accounts domain: pure Python rules, no HTTP, SQL or Kafka.

- personal_code: validating personas kods and deriving the birth date
- account: the learning account and the learner's profile with DigComp self-assessments
- projects: funding projects, eligibility, allocation's preconditions, the project budget
- applications: applications for studies, their state machine and decisions, ranking and fair allocation
- eligibility: which funding projects a learner may apply to, with every reason why not where not
- ledger: the grant of one application (reserved, spent, released) and a learner's total
- studies: enrolments in study groups, the study record (its dates) and what it pays from the grant, the
  provider's invoice, the learning history
- programmes: what accounts knows of catalog's programmes and study groups
- learning_needs: the calls' approved learning needs per funding project, and the rule an application's follows
- events: what the aggregates (account, application, enrolment) raise and collect until it is recorded
"""
