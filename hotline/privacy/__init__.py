"""Children's and guardians' data under PIPA: the masking rule shown to staff, the access record, and
retention (personal data destroyed some time after care ends). Uses only the foundation and the tables."""
