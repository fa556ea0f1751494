"""Webhooks for clinics' own systems, signed per the Standard Webhooks spec.

A clinician registers https endpoints with the event types wanted (the catalogue in
events/schemas). Each endpoint has its own secret (`whsec_` + base64 of 32 random bytes),
shown once. The secret must be recoverable to sign, so it is stored as-is in the table,
which is encrypted at rest with CaseRoom's customer managed KMS key; no API ever returns it
after creation or rotation, and logs never carry it.

Modules: urls (SSRF checks), signing, client (the HTTP POST), store (DynamoDB), sender (the
event consumer: fan-out, attempts, retries, DLQ, disabling), models + api + routes (HTTP).
"""
