"""Notifications: what a case event means for the people it concerns.

One notice per (event, recipient): it lands in the recipient's in-app feed, is pushed live to
their WebSocket connections (caseroom.notifier), and is emailed now, in the daily digest or
not at all, as the recipient's preferences say; critical notices are always emailed now.

Modules: kinds (what can be notified and how critical it is), templates (email text + HTML;
the case comes from caseroom.cases.dal, plain records), store (DynamoDB), service
(the event consumer), api + models + routes (the /me/notification* HTTP routes).

Email is not a secure channel: notices name the case id, its type and teeth, never the patient.
"""
