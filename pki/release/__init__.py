"""Offline updates on physical media: image bundles whose manifest a release certificate signs.

- ``signer``: the release (code-signing) certificate under the fleet root, and signatures with it.
- ``trust``: checking a signer's chain and signature against a site's trusted root.
- ``engine``: the few Docker CLI calls (save, load, what images and layers a host has).
- ``bundle``: making a full or delta bundle, verifying one completely, and loading it.
"""
