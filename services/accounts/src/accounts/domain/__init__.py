"""The accounts domain: pure Python rules, no HTTP, SQL or Kafka.

- personal_code: validating personas kods and deriving the birth date
- account: the learning account and the learner's profile with DigComp self-assessments
- projects: funding projects, eligibility, the project budget
- applications: applications for studies, their state machine, ranking for fair allocation
- ledger: the grant of one application (reserved, spent, released)
- studies: enrolments in study groups and the study record
"""
