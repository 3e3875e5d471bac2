"""Certificate login: who a request is, from the client certificate nginx verified, and the roles
it holds.

watch.py           files re-read when they change (trusted CAs, CRL, proxy secret)
trust.py           is this certificate acceptable? (CA signature, leaf, clientAuth, validity, CRL)
login.py           request headers -> (user, certificate facts), or a LoginFailure
lookup.py          certificate -> user through the mapping table, cached by fingerprint
origin.py          same-origin check for state-changing requests (ambient credentials)
authentication.py  the DRF authentication class (API)
middleware.py      the same for the admin and HTML pages, with the 403 page
services.py        provisioning: provision-admin, grant, revoke-access, identities
roles.py           the four roles (groups made by migration 0002_roles) and roles_of(user)
"""
